"""The people services: validation, account linking, requirements, records and their audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from compliance.models import AuditEvent, Role
from controls.models import Control
from evidence.models import EvidenceItem
from people.models import Person, PersonnelRecord, PersonnelRequirement, RequirementKind
from people.services import (
    DEFAULTS,
    people_requirements_ensure,
    person_create,
    person_update,
    record_create,
    requirement_update,
)
from tests.conftest import World
from tests.factories import ControlFactory, MembershipFactory, UserFactory
from tests.people.factories import PersonFactory

START = dt.date(2025, 3, 3)


def create(world: World, **kwargs: object) -> Person:
    values: dict[str, object] = {
        "full_name": "Pat Jones",
        "email": "pat@acme.test",
        "start_date": START,
    }
    values.update(kwargs)
    return person_create(actor=world.users["admin"], organization=world.org, **values)  # type: ignore[arg-type]


# --- people -------------------------------------------------------------------------------------


def test_creating_a_person_stores_them_and_records_an_audit_event(world: World) -> None:
    pat = create(world, title="Engineer", department="Engineering", email="Pat@ACME.test")
    assert pat.email == "pat@acme.test"
    event = AuditEvent.objects.get(action="person.create")
    assert event.after["email"] == "pat@acme.test"
    assert event.organization == world.org
    assert event.actor == world.users["admin"]


def test_a_new_person_is_linked_to_the_member_account_with_their_email(world: World) -> None:
    pat = create(world, email="MEMBER@acme.test")
    assert pat.user == world.users["member"]


def test_an_account_that_is_not_a_member_of_the_organization_is_not_linked(world: World) -> None:
    UserFactory(email="stranger@acme.test")
    assert create(world, email="stranger@acme.test").user is None
    # The outsider belongs to globex only.
    assert create(world, email="outsider@globex.test").user is None


def test_an_email_already_in_the_roster_is_refused_whatever_its_case(world: World) -> None:
    create(world)
    with pytest.raises(ValidationError) as exc:
        create(world, email="PAT@acme.test", full_name="Another Pat")
    assert "already in the roster" in exc.value.message_dict["email"][0]
    assert Person.objects.count() == 1


def test_the_same_email_may_be_on_two_organizations_rosters(world: World) -> None:
    create(world)
    person_create(
        actor=world.users["outsider"],
        organization=world.other_org,
        full_name="Pat Jones",
        email="pat@acme.test",
        start_date=START,
    )
    assert Person.objects.filter(email="pat@acme.test").count() == 2


def test_a_last_day_before_the_start_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        create(world, end_date=START - dt.timedelta(days=1))
    assert "end_date" in exc.value.message_dict
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("full_name", "   "), ("email", "not-an-email"), ("employment_type", "intern")],
)
def test_bad_values_are_refused_on_their_field(world: World, field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create(world, **{field: value})
    assert field in exc.value.message_dict
    assert not AuditEvent.objects.filter(action="person.create").exists()


def test_a_manager_from_another_organization_is_refused(world: World) -> None:
    boss = PersonFactory(organization=world.other_org)
    with pytest.raises(ValidationError) as exc:
        create(world, manager=boss)
    assert "manager" in exc.value.message_dict


def test_managers_cannot_form_a_loop(world: World) -> None:
    ceo = create(world, email="ceo@acme.test", full_name="Chief")
    vp = create(world, email="vp@acme.test", full_name="Vice", manager=ceo)
    lead = create(world, email="lead@acme.test", full_name="Lead", manager=vp)
    with pytest.raises(ValidationError) as exc:
        person_update(actor=world.users["admin"], person=ceo, changes={"manager": lead})
    assert "reports" in exc.value.message_dict["manager"][0]
    with pytest.raises(ValidationError):
        person_update(actor=world.users["admin"], person=ceo, changes={"manager": ceo})
    ceo.refresh_from_db()
    assert ceo.manager is None


def test_updating_records_only_what_changed(world: World) -> None:
    pat = create(world)
    person_update(
        actor=world.users["admin"],
        person=pat,
        changes={"title": "Staff engineer", "full_name": "Pat Jones", "end_date": START},
    )
    event = AuditEvent.objects.get(action="person.update")
    assert event.before == {"title": "", "end_date": None}
    assert event.after == {"title": "Staff engineer", "end_date": "2025-03-03"}


def test_an_update_without_change_records_nothing(world: World) -> None:
    pat = create(world)
    person_update(actor=world.users["admin"], person=pat, changes={"title": ""})
    assert not AuditEvent.objects.filter(action="person.update").exists()


def test_changing_the_email_relinks_the_account(world: World) -> None:
    pat = create(world)
    assert pat.user is None
    pat = person_update(
        actor=world.users["admin"], person=pat, changes={"email": "viewer@acme.test"}
    )
    assert pat.user == world.users["viewer"]


def test_a_field_that_is_not_editable_is_refused(world: World) -> None:
    pat = create(world)
    with pytest.raises(ValidationError) as exc:
        person_update(actor=world.users["admin"], person=pat, changes={"organization": 3})  # type: ignore[typeddict-unknown-key]
    assert "organization" in exc.value.message_dict


# --- requirements -------------------------------------------------------------------------------


def test_requirements_are_created_once_with_the_defaults(world: World) -> None:
    first = people_requirements_ensure(organization=world.org)
    second = people_requirements_ensure(organization=world.org)
    assert [r.kind for r in first] == [d.kind for d in DEFAULTS]
    assert [r.pk for r in first] == [r.pk for r in second]
    assert AuditEvent.objects.filter(action="people.requirements_init").count() == 1
    by_kind = {r.kind: r for r in first}
    assert by_kind["background_check"].applies_to_contractors is False
    assert by_kind["security_training"].due_days == 30
    assert by_kind["offboarding"].due_days == 1


def test_defaults_link_the_starter_controls_the_organization_imported(world: World) -> None:
    hr01 = ControlFactory(
        organization=world.org,
        ref_id="HR-01",
        source_key="urn:attest:control-set:soc2-starter#HR-01",
    )
    ControlFactory(organization=world.org, ref_id="HR-04")  # not from the starter set
    by_kind = {r.kind: r for r in people_requirements_ensure(organization=world.org)}
    assert by_kind["background_check"].control == hr01
    assert by_kind["offboarding"].control is None


def test_a_requirement_can_be_linked_to_a_control_and_given_new_terms(
    world: World, requirements: dict[str, PersonnelRequirement]
) -> None:
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["mfa"],
        changes={"control": world.control, "due_days": 3, "applies_to_contractors": False},
    )
    stored = PersonnelRequirement.objects.get(pk=requirements["mfa"].pk)
    assert (stored.control, stored.due_days, stored.applies_to_contractors) == (
        world.control,
        3,
        False,
    )
    event = AuditEvent.objects.get(action="people.requirement_update")
    assert event.after == {
        "control": world.control.pk,
        "due_days": 3,
        "applies_to_contractors": False,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_days": 400}, "due_days"),
        ({"control": "foreign"}, "control"),
        ({"control": "archived"}, "control"),
    ],
)
def test_bad_requirement_settings_are_refused(
    world: World,
    requirements: dict[str, PersonnelRequirement],
    changes: dict[str, object],
    field: str,
) -> None:
    if changes.get("control") == "foreign":
        changes = {"control": world.foreign_control}
    elif changes.get("control") == "archived":
        archived = ControlFactory(
            organization=world.org, archived_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        )
        changes = {"control": archived}
    with pytest.raises(ValidationError) as exc:
        requirement_update(
            actor=world.users["admin"],
            requirement=requirements["mfa"],
            changes=changes,  # type: ignore[arg-type]
        )
    assert field in exc.value.message_dict
    assert PersonnelRequirement.objects.get(pk=requirements["mfa"].pk).control is None


# --- records ------------------------------------------------------------------------------------


def test_recording_again_adds_a_row_and_keeps_the_history(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    for days in (400, 30):
        record_create(
            actor=world.users["admin"],
            person=pat,
            kind=RequirementKind.SECURITY_TRAINING,
            completed_on=today - dt.timedelta(days=days),
            provider="KnowBe4",
        )
    assert pat.records.count() == 2
    assert AuditEvent.objects.filter(action="person.record").count() == 2
    latest = pat.records.first()
    assert latest is not None and latest.completed_on == today - dt.timedelta(days=30)


def test_a_background_check_needs_a_provider_and_a_result(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    with pytest.raises(ValidationError) as exc:
        record_create(actor=None, person=pat, kind="background_check", completed_on=today)
    assert set(exc.value.message_dict) == {"provider", "result"}
    assert not PersonnelRecord.objects.exists()


def test_only_background_checks_have_a_result(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    with pytest.raises(ValidationError) as exc:
        record_create(actor=None, person=pat, kind="mfa", completed_on=today, result="clear")
    assert "result" in exc.value.message_dict


def test_a_completion_in_the_future_is_refused(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    with pytest.raises(ValidationError) as exc:
        record_create(actor=None, person=pat, kind="mfa", completed_on=today + dt.timedelta(days=1))
    assert "completed_on" in exc.value.message_dict


def test_policy_acknowledgements_cannot_be_recorded_here(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    with pytest.raises(ValidationError) as exc:
        record_create(actor=None, person=pat, kind="policy_acknowledgements", completed_on=today)
    assert "Policies" in exc.value.message_dict["kind"][0]


def test_access_revocation_needs_a_last_day(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    with pytest.raises(ValidationError) as exc:
        record_create(actor=None, person=pat, kind="offboarding", completed_on=today)
    assert "last day" in exc.value.message_dict["kind"][0]


def test_evidence_of_another_organization_is_refused(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    foreign = EvidenceItem.objects.create(
        organization=world.other_org, title="Globex report", kind="note", effective_date=today
    )
    with pytest.raises(ValidationError) as exc:
        record_create(
            actor=None,
            person=pat,
            kind="background_check",
            completed_on=today,
            provider="Sterling",
            result="clear",
            evidence=foreign,
        )
    assert "evidence" in exc.value.message_dict


def test_a_record_can_point_to_the_organizations_evidence(world: World, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org)
    report = EvidenceItem.objects.create(
        organization=world.org, title="Sterling report", kind="note", effective_date=today
    )
    record = record_create(
        actor=world.users["admin"],
        person=pat,
        kind="background_check",
        completed_on=today,
        provider="Sterling",
        result="clear",
        evidence=report,
        notes="  Cleared.  ",
    )
    assert record.evidence == report
    assert record.notes == "Cleared."
    assert AuditEvent.objects.get(action="person.record").after["evidence"] == report.pk


def test_an_account_of_a_new_admin_is_linked_on_the_next_create(world: World) -> None:
    newcomer = UserFactory(email="newcomer@acme.test")
    MembershipFactory(user=newcomer, organization=world.org, role=Role.ADMIN)
    assert create(world, email="newcomer@acme.test").user == newcomer


def test_controls_of_the_organization_are_untouched_by_people_services(world: World) -> None:
    before = list(Control.objects.values_list("pk", "status"))
    people_requirements_ensure(organization=world.org)
    create(world)
    assert list(Control.objects.values_list("pk", "status")) == before
