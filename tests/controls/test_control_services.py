"""Control services: create, update, archive/restore, mappings and object grants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from compliance.audit import chain_for, verify_chain
from compliance.models import AuditEvent
from compliance.permissions import can
from compliance.readiness import RequirementState, organization_readiness
from controls.models import (
    Control,
    ControlRequirement,
    ControlStatus,
    ControlStatusChange,
    Requirement,
)
from controls.services import (
    control_archive,
    control_create,
    control_grant_change,
    control_map,
    control_restore,
    control_revoke_change,
    control_unmap,
    control_update,
)
from tests.conftest import World
from tests.factories import RequirementFactory


def written_rows() -> tuple[int, int, int, int]:
    """Counts of every table a control service writes to."""
    return (
        Control.objects.count(),
        ControlRequirement.objects.count(),
        ControlStatusChange.objects.count(),
        AuditEvent.objects.count(),
    )


def create(world: World, **overrides: Any) -> Control:
    values: dict[str, Any] = {
        "actor": world.users["admin"],
        "organization": world.org,
        "ref_id": "LOG-01",
        "name": "Production logs are kept for a year",
        "category": "monitoring",
        "frequency": "continuous",
        "owner": world.users["member"],
        "requirements": [world.req_gap],
    }
    values.update(overrides)
    return control_create(**values)


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


def state_of(world: World, requirement: Requirement) -> RequirementState:
    [framework] = organization_readiness(organization=world.org)
    [state] = [s for s in framework.requirements if s.requirement.pk == requirement.pk]
    return state.state


# --- control_create -----------------------------------------------------------------------------


def test_creating_a_control_writes_it_with_its_mappings_a_first_status_row_and_an_event(
    world: World,
) -> None:
    control = create(world, ref_id=" LOG-01 ", name="  Logs are kept  ")

    control.refresh_from_db()
    assert (control.ref_id, control.name, control.organization) == (
        "LOG-01",
        "Logs are kept",
        world.org,
    )
    assert list(control.requirements.all()) == [world.req_gap]
    change = control.status_changes.get()
    assert (change.from_status, change.to_status, change.actor, change.reason) == (
        "",
        ControlStatus.NOT_STARTED,
        world.users["admin"],
        "Created",
    )
    event = last_event("control.create")
    assert (event.organization, event.actor, event.object_id) == (
        world.org,
        world.users["admin"],
        str(control.pk),
    )
    assert event.after["ref_id"] == "LOG-01"
    assert event.after["owner"] == world.users["member"].email  # owners are audited by email
    assert event.after["requirements"] == [world.req_gap.key]
    assert verify_chain(chain_for(world.org)).problem is None


def test_a_not_applicable_control_keeps_its_justification(world: World) -> None:
    control = create(world, status="not_applicable", na_justification="No office; fully remote.")

    assert control.na_justification == "No office; fully remote."
    assert control.status_changes.get().to_status == ControlStatus.NOT_APPLICABLE


def test_a_justification_is_dropped_when_the_control_is_applicable(world: World) -> None:
    control = create(world, status="in_progress", na_justification="Left over from a draft")

    control.refresh_from_db()
    assert control.na_justification == ""


def test_the_same_ref_id_may_be_used_in_another_organization(world: World) -> None:
    control = create(
        world,
        actor=world.users["outsider"],
        organization=world.other_org,
        ref_id=world.unowned_control.ref_id,
        owner=world.users["outsider"],
    )

    assert control.organization == world.other_org
    assert Control.objects.filter(ref_id=world.unowned_control.ref_id).count() == 2


def test_a_requirement_of_an_adopted_framework_out_of_scope_may_be_mapped(world: World) -> None:
    control = create(world, requirements=[world.req_optional])

    assert list(control.requirements.all()) == [world.req_optional]


INVALID_CREATES: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    (
        "not applicable without justification",
        lambda w: {"status": "not_applicable", "na_justification": ""},
        "na_justification",
    ),
    (
        "not applicable with a blank justification",
        lambda w: {"status": "not_applicable", "na_justification": "   "},
        "na_justification",
    ),
    ("ref_id taken in the organization", lambda w: {"ref_id": w.control.ref_id}, "ref_id"),
    ("ref_id with a space", lambda w: {"ref_id": "LOG 01"}, "ref_id"),
    ("ref_id with a slash", lambda w: {"ref_id": "LOG/01"}, "ref_id"),
    ("ref_id starting with a hyphen", lambda w: {"ref_id": "-LOG"}, "ref_id"),
    ("ref_id over 20 characters", lambda w: {"ref_id": "L" * 21}, "ref_id"),
    ("empty name", lambda w: {"name": "   "}, "name"),
    ("name over 200 characters", lambda w: {"name": "n" * 201}, "name"),
    ("unknown category", lambda w: {"category": "security"}, "category"),
    ("unknown frequency", lambda w: {"frequency": "hourly"}, "frequency"),
    ("viewer as owner", lambda w: {"owner": w.users["viewer"]}, "owner"),
    ("auditor as owner", lambda w: {"owner": w.users["auditor"]}, "owner"),
    ("expired auditor as owner", lambda w: {"owner": w.users["expired_auditor"]}, "owner"),
    ("outsider as owner", lambda w: {"owner": w.users["outsider"]}, "owner"),
    ("viewer as backup owner", lambda w: {"backup_owner": w.users["viewer"]}, "backup_owner"),
    (
        "backup owner equal to owner",
        lambda w: {"owner": w.users["member"], "backup_owner": w.users["member"]},
        "backup_owner",
    ),
    (
        "requirement of a framework not adopted",
        lambda w: {"requirements": [w.req_gap, RequirementFactory()]},
        "requirements",
    ),
    (
        "grouping requirement",
        lambda w: {"requirements": [RequirementFactory(category=w.security, assessable=False)]},
        "requirements",
    ),
    (
        "withdrawn requirement",
        lambda w: {"requirements": [RequirementFactory(category=w.security, withdrawn=True)]},
        "requirements",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [case[1:] for case in INVALID_CREATES],
    ids=[case[0] for case in INVALID_CREATES],
)
def test_creating_an_invalid_control_is_rejected_on_the_field_and_writes_nothing(
    world: World, overrides: Callable[[World], dict[str, Any]], field: str
) -> None:
    values = overrides(world)
    before = written_rows()

    with pytest.raises(ValidationError) as excinfo:
        create(world, **values)

    assert field in excinfo.value.message_dict
    assert all(excinfo.value.message_dict[field])
    assert written_rows() == before
    assert not Control.objects.filter(name="Production logs are kept for a year").exists()


def test_a_rejected_control_names_every_bad_field_at_once(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(world, ref_id="LOG 01", owner=world.users["viewer"], name="n" * 201)

    assert {"ref_id", "owner", "name"} <= set(excinfo.value.message_dict)


# --- control_update -----------------------------------------------------------------------------


def test_every_status_change_is_kept_as_a_row_with_from_to_actor_and_reason(world: World) -> None:
    owner = world.users["owner"]

    control_update(
        actor=owner, control=world.control, changes={"status": "in_progress"}, reason="Rolling out"
    )
    control_update(
        actor=owner, control=world.control, changes={"status": "implemented"}, reason=" Done "
    )

    rows = world.control.status_changes.order_by("id")
    assert [(r.from_status, r.to_status, r.actor, r.reason) for r in rows] == [
        ("not_started", "in_progress", owner, "Rolling out"),
        ("in_progress", "implemented", owner, "Done"),
    ]
    world.control.refresh_from_db()
    assert world.control.status == ControlStatus.IMPLEMENTED


def test_an_update_that_keeps_the_status_records_no_status_change(world: World) -> None:
    control_update(
        actor=world.users["owner"],
        control=world.control,
        changes={"name": "MFA on every system", "status": "not_started"},
        reason="Wording",
    )

    assert not world.control.status_changes.exists()
    world.control.refresh_from_db()
    assert world.control.name == "MFA on every system"


def test_the_update_event_holds_only_the_changed_fields(world: World) -> None:
    control_update(
        actor=world.users["owner"],
        control=world.control,
        changes={"name": "MFA on every system", "category": "access", "frequency": "event_driven"},
    )

    event = last_event("control.update")
    assert (event.before, event.after) == (
        {"name": "MFA everywhere"},
        {"name": "MFA on every system"},
    )
    assert event.actor == world.users["owner"]


def test_the_update_event_of_a_status_change_holds_the_status_and_the_reason(
    world: World,
) -> None:
    control_update(
        actor=world.users["owner"],
        control=world.control,
        changes={"status": "not_applicable", "na_justification": "Hardware keys only"},
        reason="Decided in the weekly meeting",
    )

    event = last_event("control.update")
    assert event.before == {"status": "not_started", "na_justification": ""}
    assert event.after == {
        "status": "not_applicable",
        "na_justification": "Hardware keys only",
        "reason": "Decided in the weekly meeting",
    }


def test_the_update_event_lists_mappings_added_and_removed(world: World) -> None:
    control_update(
        actor=world.users["owner"],
        control=world.control,
        changes={"requirements": [world.req_gap]},
    )

    assert list(world.control.requirements.all()) == [world.req_gap]
    event = last_event("control.update")
    assert event.before == {"requirements_removed": [world.req_a.key]}
    assert event.after == {"requirements_added": [world.req_gap.key]}


def test_an_update_that_changes_nothing_records_nothing(world: World) -> None:
    before = written_rows()

    control_update(
        actor=world.users["owner"],
        control=world.control,
        changes={"name": "  MFA everywhere ", "requirements": [world.req_a]},
    )

    assert written_rows() == before


def test_leaving_not_applicable_clears_the_justification(world: World) -> None:
    control = create(world, status="not_applicable", na_justification="No office")

    control_update(
        actor=world.users["admin"],
        control=control,
        changes={"status": "in_progress"},
        reason="We opened an office",
    )

    control.refresh_from_db()
    assert (control.status, control.na_justification) == ("in_progress", "")
    change = control.status_changes.order_by("id").last()
    assert (change.from_status, change.to_status) == ("not_applicable", "in_progress")
    event = last_event("control.update")
    assert event.before == {"status": "not_applicable", "na_justification": "No office"}
    assert event.after == {
        "status": "in_progress",
        "na_justification": "",
        "reason": "We opened an office",
    }


def test_an_invalid_update_is_rejected_and_changes_nothing(world: World) -> None:
    before = written_rows()

    with pytest.raises(ValidationError) as excinfo:
        control_update(
            actor=world.users["owner"],
            control=world.control,
            changes={"status": "not_applicable", "owner": world.users["viewer"]},
        )

    assert {"na_justification", "owner"} <= set(excinfo.value.message_dict)
    assert written_rows() == before
    world.control.refresh_from_db()
    assert (world.control.status, world.control.owner) == ("not_started", world.users["owner"])


def test_fields_outside_the_editable_set_cannot_be_changed(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        control_update(
            actor=world.users["admin"],
            control=world.control,
            changes={"organization": world.other_org, "source_key": "x"},
        )

    assert set(excinfo.value.message_dict) == {"organization", "source_key"}
    world.control.refresh_from_db()
    assert world.control.organization == world.org


def test_an_archived_control_cannot_be_edited(world: World) -> None:
    control_archive(actor=world.users["admin"], control=world.control, reason="Replaced")
    before = written_rows()

    with pytest.raises(ValidationError, match="archived control cannot be edited"):
        control_update(
            actor=world.users["admin"],
            control=world.control,
            changes={"name": "Edited while archived", "status": "implemented"},
        )

    assert written_rows() == before
    world.control.refresh_from_db()
    assert (world.control.name, world.control.status) == ("MFA everywhere", "not_started")


# --- control_archive / control_restore ----------------------------------------------------------


def test_archiving_takes_a_control_out_of_readiness_and_restoring_brings_it_back(
    world: World,
) -> None:
    admin = world.users["admin"]
    control_update(actor=admin, control=world.control, changes={"status": "implemented"})
    assert state_of(world, world.req_a) is RequirementState.READY

    control_archive(actor=admin, control=world.control, reason="Replaced by SSO")

    world.control.refresh_from_db()
    assert world.control.is_archived
    assert state_of(world, world.req_a) is RequirementState.GAP
    assert last_event("control.archive").after["reason"] == "Replaced by SSO"

    control_restore(actor=admin, control=world.control)

    world.control.refresh_from_db()
    assert not world.control.is_archived
    assert state_of(world, world.req_a) is RequirementState.READY
    assert last_event("control.restore").after == {"archived_at": None}
    # Archiving keeps the mappings, so restoring needs no re-mapping.
    assert list(world.control.requirements.all()) == [world.req_a]


def test_archiving_twice_or_restoring_an_active_control_records_nothing(world: World) -> None:
    control_restore(actor=world.users["admin"], control=world.control)
    assert not AuditEvent.objects.filter(action="control.restore").exists()

    control_archive(actor=world.users["admin"], control=world.control)
    archived_at = Control.objects.get(pk=world.control.pk).archived_at
    control_archive(actor=world.users["admin"], control=world.control)

    assert AuditEvent.objects.filter(action="control.archive").count() == 1
    assert Control.objects.get(pk=world.control.pk).archived_at == archived_at


# --- control_map / control_unmap ----------------------------------------------------------------


def test_mapping_a_control_adds_the_requirement_and_records_it(world: World) -> None:
    mapping = control_map(
        actor=world.users["owner"], control=world.control, requirement=world.req_gap
    )

    assert (mapping.control, mapping.requirement, mapping.created_by) == (
        world.control,
        world.req_gap,
        world.users["owner"],
    )
    assert last_event("control.map").after == {"requirement": world.req_gap.key}


def test_mapping_a_control_to_the_same_requirement_twice_is_rejected(world: World) -> None:
    control_map(actor=world.users["owner"], control=world.control, requirement=world.req_gap)
    before = written_rows()

    with pytest.raises(ValidationError) as excinfo:
        control_map(actor=world.users["owner"], control=world.control, requirement=world.req_gap)

    assert excinfo.value.message_dict == {"requirement": ["IAM-01 already maps to SEC1.3."]}
    assert written_rows() == before
    assert world.control.mappings.filter(requirement=world.req_gap).count() == 1


def test_mapping_a_control_to_a_framework_the_organization_did_not_adopt_is_rejected(
    world: World,
) -> None:
    foreign = RequirementFactory()
    before = written_rows()

    with pytest.raises(ValidationError) as excinfo:
        control_map(actor=world.users["admin"], control=world.control, requirement=foreign)

    assert "requirements" in excinfo.value.message_dict
    assert written_rows() == before


def test_unmapping_removes_the_mapping_and_records_it(world: World) -> None:
    mapping = world.control.mappings.get(requirement=world.req_a)

    control_unmap(actor=world.users["admin"], mapping=mapping)

    assert not world.control.mappings.exists()
    assert last_event("control.unmap").before == {"requirement": world.req_a.key}
    assert state_of(world, world.req_a) is RequirementState.GAP


# --- object grants ------------------------------------------------------------------------------


def test_granting_change_lets_a_member_edit_a_control_and_revoking_takes_it_away(
    world: World,
) -> None:
    admin, member = world.users["admin"], world.users["member"]
    assert not can(member, "change", world.unowned_control)

    control_grant_change(actor=admin, control=world.unowned_control, user=member)

    assert can(member, "change", world.unowned_control)
    assert not can(member, "change", world.control)  # the grant is for that control only
    assert last_event("control.grant").after == {
        "user": member.email,
        "permission": "change_control",
    }

    control_revoke_change(actor=admin, control=world.unowned_control, user=member)

    assert not can(member, "change", world.unowned_control)
    assert last_event("control.ungrant").before == {
        "user": member.email,
        "permission": "change_control",
    }


@pytest.mark.parametrize("persona", ["viewer", "auditor", "admin", "outsider", "expired_auditor"])
def test_change_grants_are_only_for_members(world: World, persona: str) -> None:
    user = world.users[persona]
    before = written_rows()

    with pytest.raises(ValidationError) as excinfo:
        control_grant_change(actor=world.users["admin"], control=world.unowned_control, user=user)

    assert "user" in excinfo.value.message_dict
    assert written_rows() == before
    if persona != "admin":
        assert not can(user, "change", world.unowned_control)
