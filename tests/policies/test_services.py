"""The policy workflow: draft → in review → approved → retired, immutable approved versions,
new versions copied from the latest, one current version, status rows and audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.models import AuditEvent
from policies import services
from policies.models import Policy, PolicyVersion, PolicyVersionStatusChange, VersionStatus
from tests.conftest import World
from tests.factories import RequirementFactory
from tests.policies.factories import approve, approved_policy, first_version, make_policy


def statuses(policy: Policy) -> list[tuple[int, str]]:
    return list(
        PolicyVersion.objects.filter(policy=policy)
        .order_by("number")
        .values_list("number", "status")
    )


def test_creating_a_policy_starts_a_draft_version_one_with_a_status_row_and_an_audit_event(
    world: World,
) -> None:
    before = AuditEvent.objects.count()
    policy = make_policy(world, owner=world.users["owner"], controls=(world.control,))

    version = first_version(policy)
    assert policy.review_months == 12
    assert version.status == VersionStatus.DRAFT
    assert version.body.startswith("# Sample policy")
    assert list(policy.controls.all()) == [world.control]
    change = version.status_changes.get()
    assert (change.from_status, change.to_status, change.actor) == (
        "",
        VersionStatus.DRAFT,
        world.users["admin"],
    )
    event = AuditEvent.objects.order_by("seq").last()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "policy.create"
    assert event.after["owner"] == "owner@acme.test"
    assert event.after["controls"] == ["IAM-01"]


def test_the_full_workflow_records_every_status_change_as_a_row(world: World) -> None:
    admin = world.users["admin"]
    policy = make_policy(world)
    version = first_version(policy)

    services.policy_version_submit(actor=admin, version=version, reason="Ready")
    services.policy_version_return(actor=admin, version=version, reason="Add a scope section")
    services.policy_version_submit(actor=admin, version=version)
    services.policy_version_approve(actor=admin, version=version)
    services.policy_version_retire(actor=admin, version=version, reason="Merged into another")

    rows = list(
        PolicyVersionStatusChange.objects.filter(version=version)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status", "reason")
    )
    assert rows == [
        ("", "draft", "First draft"),
        ("draft", "in_review", "Ready"),
        ("in_review", "draft", "Add a scope section"),
        ("draft", "in_review", "Submitted for review"),
        ("in_review", "approved", "Approved"),
        ("approved", "retired", "Merged into another"),
    ]
    version.refresh_from_db()
    assert version.status == VersionStatus.RETIRED
    assert version.approved_by == admin
    assert version.retired_at is not None
    actions = list(
        AuditEvent.objects.filter(object_type="policies.policyversion")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "policy.version_submit",
        "policy.version_return",
        "policy.version_submit",
        "policy.approve",
        "policy.retire",
    ]


def test_approval_sets_the_approver_the_time_and_the_effective_date(world: World) -> None:
    effective = timezone.localdate() - dt.timedelta(days=3)
    _, version = approved_policy(world, effective=effective)

    assert version.status == VersionStatus.APPROVED
    assert version.effective_date == effective
    assert version.approved_by == world.users["admin"]
    assert version.approved_at is not None


@pytest.mark.parametrize("status", ["in_review", "approved", "retired"])
def test_only_drafts_can_be_edited_and_nothing_changes_when_refused(
    world: World, status: str
) -> None:
    admin = world.users["admin"]
    policy = make_policy(world)
    version = first_version(policy)
    services.policy_version_submit(actor=admin, version=version)
    if status in ("approved", "retired"):
        services.policy_version_approve(actor=admin, version=version)
    if status == "retired":
        services.policy_version_retire(actor=admin, version=version, reason="Withdrawn")
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        services.policy_version_update(
            actor=admin, version=version, body="# Rewritten", change_summary="sneaky"
        )

    assert "cannot be changed" in excinfo.value.message_dict["body"][0]
    version.refresh_from_db()
    assert version.body.startswith("# Sample policy")
    assert version.change_summary == ""
    assert AuditEvent.objects.count() == events


def test_an_approved_version_cannot_be_changed_even_with_a_stale_object(world: World) -> None:
    """The service re-reads the version: a caller holding an old draft copy is refused too."""
    policy = make_policy(world)
    stale = first_version(policy)
    approve(world, first_version(policy))

    with pytest.raises(ValidationError):
        services.policy_version_update(actor=world.users["admin"], version=stale, body="changed")
    assert first_version(policy).body.startswith("# Sample policy")


def test_editing_a_draft_records_the_digest_of_the_text_in_the_audit_trail(world: World) -> None:
    policy = make_policy(world)
    version = services.policy_version_update(
        actor=world.users["admin"],
        version=first_version(policy),
        body="# Sample policy\n\nShorter.",
        change_summary="Trimmed",
    )

    assert version.body == "# Sample policy\n\nShorter."
    event = AuditEvent.objects.order_by("seq").last()
    assert event.action == "policy.version_update"
    assert event.after["words"] == 3
    assert len(event.after["body_sha256"]) == 64
    assert event.after["change_summary"] == "Trimmed"


def test_a_new_version_is_a_draft_copy_of_the_latest_version(world: World) -> None:
    policy, v1 = approved_policy(world)

    v2 = services.policy_version_create(
        actor=world.users["admin"], policy=policy, change_summary="Yearly update"
    )

    assert (v2.number, v2.status, v2.body) == (2, VersionStatus.DRAFT, v1.body)
    assert v2.change_summary == "Yearly update"
    assert v2.status_changes.get().reason == "Copied from version 1"
    assert statuses(policy) == [(1, "approved"), (2, "draft")]


def test_a_new_version_copies_the_latest_even_when_it_is_retired(world: World) -> None:
    admin = world.users["admin"]
    policy, v1 = approved_policy(world)
    services.policy_version_retire(actor=admin, version=v1, reason="Withdrawn for now")

    v2 = services.policy_version_create(actor=admin, policy=policy)

    assert v2.body == v1.body


def test_only_one_version_can_be_open_at_a_time(world: World) -> None:
    policy = make_policy(world)

    with pytest.raises(ValidationError) as excinfo:
        services.policy_version_create(actor=world.users["admin"], policy=policy)

    assert "Version 1 is still draft" in str(excinfo.value)
    assert PolicyVersion.objects.filter(policy=policy).count() == 1


def test_approving_a_new_version_retires_the_previous_one(world: World) -> None:
    admin = world.users["admin"]
    policy, v1 = approved_policy(world, effective=timezone.localdate() - dt.timedelta(days=100))
    v2 = services.policy_version_create(actor=admin, policy=policy)
    services.policy_version_update(actor=admin, version=v2, body=v2.body + "\nOne more rule.\n")

    approve(world, v2)

    assert statuses(policy) == [(1, "retired"), (2, "approved")]
    v1.refresh_from_db()
    assert v1.status_changes.first().reason == "Superseded by version 2"
    event = AuditEvent.objects.filter(action="policy.approve").order_by("seq").last()
    assert event.after["retired_version"] == 1


def test_the_database_allows_only_one_approved_version_per_policy(world: World) -> None:
    policy, _ = approved_policy(world)
    v2 = services.policy_version_create(actor=world.users["admin"], policy=policy)

    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=v2.pk).update(
            status="approved", approved_at=timezone.now(), effective_date=timezone.localdate()
        )
    assert statuses(policy) == [(1, "approved"), (2, "draft")]


@pytest.mark.parametrize(
    ("days", "message"),
    [(1, "cannot be in the future"), (-200, "Must be on or after")],
)
def test_the_effective_date_is_checked(world: World, days: int, message: str) -> None:
    admin = world.users["admin"]
    policy, _ = approved_policy(world, effective=timezone.localdate() - dt.timedelta(days=100))
    v2 = services.policy_version_create(actor=admin, policy=policy)
    services.policy_version_submit(actor=admin, version=v2)

    with pytest.raises(ValidationError) as excinfo:
        services.policy_version_approve(
            actor=admin,
            version=v2,
            effective_date=timezone.localdate() + dt.timedelta(days=days),
        )

    assert message in excinfo.value.message_dict["effective_date"][0]
    assert statuses(policy) == [(1, "approved"), (2, "in_review")]


@pytest.mark.parametrize(
    ("step", "from_status"),
    [
        ("submit", "in_review"),
        ("approve", "draft"),
        ("retire", "draft"),
        ("return", "draft"),
    ],
)
def test_steps_out_of_order_are_refused_and_change_nothing(
    world: World, step: str, from_status: str
) -> None:
    admin = world.users["admin"]
    policy = make_policy(world)
    version = first_version(policy)
    if from_status == "in_review":
        services.policy_version_submit(actor=admin, version=version)
    rows = PolicyVersionStatusChange.objects.count()
    events = AuditEvent.objects.count()
    call = {
        "submit": lambda: services.policy_version_submit(actor=admin, version=version),
        "approve": lambda: services.policy_version_approve(actor=admin, version=version),
        "retire": lambda: services.policy_version_retire(actor=admin, version=version, reason="x"),
        "return": lambda: services.policy_version_return(actor=admin, version=version, reason="x"),
    }[step]

    with pytest.raises(ValidationError):
        call()

    assert first_version(policy).status == from_status
    assert PolicyVersionStatusChange.objects.count() == rows
    assert AuditEvent.objects.count() == events


def test_an_empty_draft_cannot_be_submitted(world: World) -> None:
    policy = make_policy(world, body="   ")

    with pytest.raises(ValidationError) as excinfo:
        services.policy_version_submit(actor=world.users["admin"], version=first_version(policy))

    assert "Write the policy text" in excinfo.value.message_dict["body"][0]


def test_retiring_and_returning_need_a_reason(world: World) -> None:
    admin = world.users["admin"]
    _, version = approved_policy(world)

    with pytest.raises(ValidationError) as excinfo:
        services.policy_version_retire(actor=admin, version=version, reason="  ")

    assert "reason" in excinfo.value.message_dict
    assert first_version(version.policy).status == VersionStatus.APPROVED


def test_policy_titles_are_unique_per_organization_ignoring_case(world: World) -> None:
    make_policy(world, title="Backup Policy")

    with pytest.raises(ValidationError) as excinfo:
        make_policy(world, title="backup  policy")

    assert "already exists" in excinfo.value.message_dict["title"][0]
    assert Policy.objects.filter(organization=world.org).count() == 1


def test_a_policy_maps_only_to_controls_and_requirements_of_its_organization(
    world: World,
) -> None:
    not_adopted = RequirementFactory(ref_id="X.1")  # a framework acme did not adopt
    with pytest.raises(ValidationError) as excinfo:
        services.policy_create(
            actor=world.users["admin"],
            organization=world.org,
            title="Mixed",
            category="access",
            controls=[world.control, world.foreign_control],
            requirements=[world.req_a, not_adopted],
        )

    errors = excinfo.value.message_dict
    assert "IAM-01" in errors["controls"][0]
    assert "X.1" in errors["requirements"][0]
    assert not Policy.objects.filter(title="Mixed").exists()


def test_the_owner_must_be_an_admin_or_member_of_the_organization(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_policy(world, owner=world.users["viewer"])

    assert "admin or member" in excinfo.value.message_dict["owner"][0]


def test_updating_a_policy_audits_only_what_changed(world: World) -> None:
    policy = make_policy(world)

    services.policy_update(
        actor=world.users["admin"],
        policy=policy,
        changes={"review_months": 6, "title": policy.title, "controls": [world.control]},
    )

    event = AuditEvent.objects.order_by("seq").last()
    assert event.action == "policy.update"
    assert event.before == {"review_months": 12, "controls": []}
    assert event.after == {"review_months": 6, "controls": ["IAM-01"]}


def test_updating_a_policy_with_an_unknown_field_is_refused(world: World) -> None:
    policy = make_policy(world)

    with pytest.raises(ValidationError):
        services.policy_update(
            actor=world.users["admin"],
            policy=policy,
            changes={"library_key": "x"},  # type: ignore[typeddict-unknown-key]
        )


def test_marking_a_policy_reviewed_needs_an_approved_version(world: World) -> None:
    admin = world.users["admin"]
    draft_only = make_policy(world, title="Draft only")
    with pytest.raises(ValidationError):
        services.policy_mark_reviewed(actor=admin, policy=draft_only)

    policy, _ = approved_policy(world)
    services.policy_mark_reviewed(actor=admin, policy=policy, note="Still accurate")

    policy.refresh_from_db()
    assert policy.last_reviewed_on == timezone.localdate()
    assert AuditEvent.objects.order_by("seq").last().after["note"] == "Still accurate"
