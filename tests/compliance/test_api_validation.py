"""Bad input to the API: a 400 with a JSON body naming the field, and nothing stored.

Plus the happy paths the error paths are measured against: creating and editing controls,
filters, ordering, pagination and the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from compliance.models import AuditEvent, Invitation, Membership, OutboundEmail, Role
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    ControlStatus,
    ControlStatusChange,
)
from tests.conftest import World
from tests.factories import (
    CategoryFactory,
    ControlFactory,
    FrameworkFactory,
    MembershipFactory,
    RequirementFactory,
    UserFactory,
)

ACME = "/api/organizations/acme"


def stored_state() -> dict[str, Any]:
    """Everything an API write could touch; equal before and after = nothing was written."""
    return {
        "events": AuditEvent.objects.count(),
        "emails": OutboundEmail.objects.count(),
        "controls": list(Control.objects.order_by("pk").values()),
        "mappings": list(
            ControlRequirement.objects.order_by("pk").values_list("control_id", "requirement_id")
        ),
        "status_changes": ControlStatusChange.objects.count(),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "invitations": list(Invitation.objects.order_by("pk").values()),
        "adoptions": [
            (a.pk, a.framework_id, sorted(a.scope.values_list("code", flat=True)))
            for a in AdoptedFramework.objects.order_by("pk")
        ],
    }


def assert_rejected(
    client: Any, method: str, url: str, data: Any, field: str, **kwargs: Any
) -> dict[str, Any]:
    """Send a bad request; it must answer 400 naming ``field`` and leave everything unchanged."""
    before = stored_state()
    if method != "get":
        kwargs.setdefault("format", "json")
    response = getattr(client, method)(url, data, **kwargs)
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert field in body, body
    messages = body[field]
    if isinstance(messages, str):  # a request-level error: {"detail": "..."}
        messages = [messages]
    assert messages, body
    assert all(isinstance(m, str) and m for m in messages), body
    assert stored_state() == before, "a rejected request changed stored data"
    return body


@pytest.fixture
def admin(world: World) -> Any:
    return world.api("admin")


@pytest.fixture
def iso(world: World) -> Any:
    """A framework acme did not adopt, with a mandatory and an optional category."""
    framework = FrameworkFactory(slug="iso", short_name="ISO", name="Information Security")
    annex = CategoryFactory(framework=framework, code="A5", name="Organizational", mandatory=True)
    CategoryFactory(framework=framework, code="A7", name="Physical", mandatory=False)
    requirement = RequirementFactory(category=annex, ref_id="A.5.1")
    return framework, requirement


def new_control(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "ref_id": "NEW-01",
        "name": "Laptops are encrypted",
        "category": "crypto",
        "frequency": "annual",
        **overrides,
    }


def membership(world: World, persona: str) -> Membership:
    return Membership.objects.get(user=world.users[persona], organization=world.org)


# --- controls -----------------------------------------------------------------------------------

BAD_CONTROL_FIELDS: list[tuple[str, Any, str]] = [
    # (test id, overrides as a function of the world, field named in the error)
    ("unknown field", lambda w: {"colour": "red"}, "colour"),
    ("read-only id", lambda w: {"id": 12345}, "id"),
    ("read-only archived_at", lambda w: {"archived_at": "2024-01-01T00:00:00Z"}, "archived_at"),
    ("read-only created_at", lambda w: {"created_at": "2024-01-01T00:00:00Z"}, "created_at"),
    ("string for long_lead", lambda w: {"long_lead": "sometimes"}, "long_lead"),
    ("list for name", lambda w: {"name": ["MFA", "SSO"]}, "name"),
    ("blank name", lambda w: {"name": "   "}, "name"),
    ("soon for target_date", lambda w: {"target_date": "soon"}, "target_date"),
    ("over-long ref_id", lambda w: {"ref_id": "X" * 21}, "ref_id"),
    ("ref_id with spaces", lambda w: {"ref_id": "IAM 01"}, "ref_id"),
    ("over-long name", lambda w: {"name": "n" * 201}, "name"),
    ("invalid status", lambda w: {"status": "done"}, "status"),
    ("invalid category", lambda w: {"category": "misc"}, "category"),
    ("invalid frequency", lambda w: {"frequency": "hourly"}, "frequency"),
    (
        "not applicable without justification",
        lambda w: {"status": "not_applicable"},
        "na_justification",
    ),
    ("owner from another organization", lambda w: {"owner": w.users["outsider"].pk}, "owner"),
    ("viewer as owner", lambda w: {"owner": w.users["viewer"].pk}, "owner"),
    ("auditor as owner", lambda w: {"owner": w.users["auditor"].pk}, "owner"),
    (
        "expired auditor as backup owner",
        lambda w: {"backup_owner": w.users["expired_auditor"].pk},
        "backup_owner",
    ),
    ("unknown owner id", lambda w: {"owner": 987654321}, "owner"),
    ("string owner id", lambda w: {"owner": "the boss"}, "owner"),
    (
        "backup owner same as owner",
        lambda w: {"owner": w.users["owner"].pk, "backup_owner": w.users["owner"].pk},
        "backup_owner",
    ),
    ("requirement that does not exist", lambda w: {"requirements": ["urn:nope:x"]}, "requirements"),
    ("requirements not a list", lambda w: {"requirements": w.req_a.key}, "requirements"),
    ("over-long status reason", lambda w: {"status_reason": "r" * 2001}, "status_reason"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [(o, f) for _, o, f in BAD_CONTROL_FIELDS],
    ids=[name for name, _, _ in BAD_CONTROL_FIELDS],
)
def test_control_create_rejects(world: World, admin: Any, overrides: Any, field: str) -> None:
    assert_rejected(
        admin, "post", f"{ACME}/controls/", new_control(world, **overrides(world)), field
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [(o, f) for _, o, f in BAD_CONTROL_FIELDS],
    ids=[name for name, _, _ in BAD_CONTROL_FIELDS],
)
def test_control_edit_rejects(world: World, admin: Any, overrides: Any, field: str) -> None:
    url = f"{ACME}/controls/{world.control.pk}/"
    assert_rejected(admin, "patch", url, overrides(world), field)


def test_control_owner_may_not_submit_bad_input_either(world: World) -> None:
    url = f"{ACME}/controls/{world.control.pk}/"
    assert_rejected(world.api("owner"), "patch", url, {"status": "finished"}, "status")


def test_control_create_rejects_a_required_field_missing(world: World, admin: Any) -> None:
    data = new_control(world)
    del data["frequency"]
    assert_rejected(admin, "post", f"{ACME}/controls/", data, "frequency")


def test_control_create_rejects_a_duplicate_ref_id(world: World, admin: Any) -> None:
    body = assert_rejected(
        admin, "post", f"{ACME}/controls/", new_control(world, ref_id="IAM-01"), "ref_id"
    )
    assert "IAM-01" in body["ref_id"][0]


def test_control_edit_rejects_a_duplicate_ref_id(world: World, admin: Any) -> None:
    url = f"{ACME}/controls/{world.unowned_control.pk}/"
    assert_rejected(admin, "patch", url, {"ref_id": "IAM-01"}, "ref_id")


def test_a_ref_id_used_by_another_organization_is_free_here(world: World, admin: Any) -> None:
    # globex has a control CHG-01 and IAM-01 too; uniqueness is per organization.
    Control.objects.filter(pk=world.unowned_control.pk).update(ref_id="CHG-99")
    response = admin.post(f"{ACME}/controls/", new_control(world, ref_id="CHG-01"), format="json")
    assert response.status_code == 201, response.content


def test_control_rejects_a_requirement_of_a_framework_not_adopted(
    world: World, admin: Any, iso: Any
) -> None:
    _, requirement = iso
    data = new_control(world, requirements=[world.req_a.key, requirement.key])
    assert_rejected(admin, "post", f"{ACME}/controls/", data, "requirements")
    url = f"{ACME}/controls/{world.control.pk}/"
    assert_rejected(admin, "patch", url, {"requirements": [requirement.key]}, "requirements")


def test_archived_control_cannot_be_edited(world: World, admin: Any) -> None:
    Control.objects.filter(pk=world.control.pk).update(archived_at=timezone.now())
    url = f"{ACME}/controls/{world.control.pk}/"
    body = assert_rejected(admin, "patch", url, {"name": "Edited"}, "non_field_errors")
    assert "archived" in body["non_field_errors"][0]


def test_malformed_json_is_a_400_and_changes_nothing(world: World, admin: Any) -> None:
    for method, url in [
        ("post", f"{ACME}/controls/"),
        ("patch", f"{ACME}/controls/{world.control.pk}/"),
        ("post", f"{ACME}/mappings/"),
        ("post", f"{ACME}/invitations/"),
        ("patch", f"{ACME}/memberships/{membership(world, 'viewer').pk}/"),
    ]:
        body = assert_rejected(
            admin,
            method,
            url,
            '{"name": "x",',
            "detail",
            content_type="application/json",
            format=None,
        )
        assert body["detail"].startswith("JSON parse error"), body


def test_a_json_list_instead_of_an_object_is_rejected(world: World, admin: Any) -> None:
    url = f"{ACME}/controls/{world.control.pk}/"
    assert_rejected(admin, "patch", url, [{"name": "x"}], "non_field_errors")


# --- mappings -----------------------------------------------------------------------------------


def test_mapping_of_another_organizations_control_is_rejected(world: World, admin: Any) -> None:
    data = {"control": world.foreign_control.pk, "requirement": world.req_b.key}
    assert_rejected(admin, "post", f"{ACME}/mappings/", data, "control")


def test_mapping_of_an_archived_control_is_rejected(world: World, admin: Any) -> None:
    Control.objects.filter(pk=world.control.pk).update(archived_at=timezone.now())
    data = {"control": world.control.pk, "requirement": world.req_b.key}
    assert_rejected(admin, "post", f"{ACME}/mappings/", data, "control")


def test_mapping_to_a_requirement_not_adopted_is_rejected(
    world: World, admin: Any, iso: Any
) -> None:
    _, requirement = iso
    data = {"control": world.control.pk, "requirement": requirement.key}
    assert_rejected(admin, "post", f"{ACME}/mappings/", data, "requirement")
    data = {"control": world.control.pk, "requirement": "urn:does-not-exist"}
    assert_rejected(admin, "post", f"{ACME}/mappings/", data, "requirement")


def test_duplicate_mapping_is_rejected(world: World, admin: Any) -> None:
    data = {"control": world.control.pk, "requirement": world.req_a.key}
    body = assert_rejected(admin, "post", f"{ACME}/mappings/", data, "requirement")
    assert body["requirement"] == ["IAM-01 already maps to SEC1.1."]


def test_mapping_rejects_unknown_and_read_only_fields(world: World, admin: Any) -> None:
    data = {"control": world.control.pk, "requirement": world.req_b.key}
    assert_rejected(admin, "post", f"{ACME}/mappings/", {**data, "weight": 3}, "weight")
    assert_rejected(admin, "post", f"{ACME}/mappings/", {**data, "id": 1}, "id")
    assert_rejected(admin, "post", f"{ACME}/mappings/", {"control": "one"}, "control")


def test_viewer_posting_a_hidden_control_gets_the_same_400_as_anyone(world: World) -> None:
    """The body is validated before the right to change: a hidden id is just an invalid one."""
    data = {"control": world.foreign_control.pk, "requirement": world.req_b.key}
    assert_rejected(world.api("viewer"), "post", f"{ACME}/mappings/", data, "control")


# --- adopted frameworks -------------------------------------------------------------------------


def test_adopting_a_framework_twice_is_rejected(world: World, admin: Any) -> None:
    data = {"framework": "tsc", "scope": ["SEC"]}
    body = assert_rejected(admin, "post", f"{ACME}/adopted-frameworks/", data, "framework")
    assert "already adopted" in body["framework"][0]


def test_adopting_without_a_mandatory_category_is_rejected(
    world: World, admin: Any, iso: Any
) -> None:
    data = {"framework": "iso", "scope": ["A7"]}
    assert_rejected(admin, "post", f"{ACME}/adopted-frameworks/", data, "scope")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"framework": "iso", "scope": ["A5", "ZZ"]}, "scope"),
        ({"framework": "nist", "scope": ["A5"]}, "framework"),
        ({"framework": "iso", "scope": "A5"}, "scope"),
        ({"framework": "iso"}, "scope"),
        ({"framework": "iso", "scope": ["A5"], "adopted_at": "2024-01-01T00:00:00Z"}, "adopted_at"),
        ({"framework": "iso", "scope": ["A5"], "adopted_by": 1}, "adopted_by"),
    ],
    ids=[
        "unknown category",
        "unknown framework",
        "scope not a list",
        "scope missing",
        "read-only adopted_at",
        "unknown adopted_by",
    ],
)
def test_adoption_rejects(world: World, admin: Any, iso: Any, data: Any, field: str) -> None:
    assert_rejected(admin, "post", f"{ACME}/adopted-frameworks/", data, field)


def test_scope_change_cannot_drop_a_mandatory_category(world: World, admin: Any) -> None:
    url = f"{ACME}/adopted-frameworks/{world.adoption.pk}/"
    assert_rejected(admin, "patch", url, {"scope": ["AV"]}, "scope")


def test_the_framework_of_an_adoption_cannot_change(world: World, admin: Any, iso: Any) -> None:
    url = f"{ACME}/adopted-frameworks/{world.adoption.pk}/"
    assert_rejected(admin, "patch", url, {"framework": "iso", "scope": ["A5"]}, "framework")


def test_scope_change_answers_with_the_new_scope(world: World, admin: Any) -> None:
    url = f"{ACME}/adopted-frameworks/{world.adoption.pk}/"
    response = admin.patch(url, {"scope": ["AV", "SEC"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == ["AV", "SEC"]
    assert sorted(world.adoption.scope.values_list("code", flat=True)) == ["AV", "SEC"]


# --- memberships --------------------------------------------------------------------------------


def test_demoting_the_last_admin_is_rejected(world: World, admin: Any) -> None:
    url = f"{ACME}/memberships/{membership(world, 'admin').pk}/"
    body = assert_rejected(admin, "patch", url, {"role": "member"}, "role")
    assert "at least one admin" in body["role"][0]


def test_removing_the_last_admin_is_rejected(world: World, admin: Any) -> None:
    url = f"{ACME}/memberships/{membership(world, 'admin').pk}/"
    body = assert_rejected(admin, "delete", url, None, "non_field_errors")
    assert "at least one admin" in body["non_field_errors"][0]


def test_expiring_the_last_admin_at_once_is_rejected(world: World, admin: Any) -> None:
    url = f"{ACME}/memberships/{membership(world, 'admin').pk}/"
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert_rejected(admin, "patch", url, {"expires_at": past}, "expires_at")


def test_a_membership_expiry_in_the_past_is_rejected(world: World, admin: Any) -> None:
    url = f"{ACME}/memberships/{membership(world, 'viewer').pk}/"
    past = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    assert_rejected(admin, "patch", url, {"role": "auditor", "expires_at": past}, "expires_at")


def test_a_membership_expiry_in_the_future_is_accepted(world: World, admin: Any) -> None:
    url = f"{ACME}/memberships/{membership(world, 'viewer').pk}/"
    future = timezone.now() + dt.timedelta(days=14)
    response = admin.patch(
        url, {"role": "auditor", "expires_at": future.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content
    row = membership(world, "viewer")
    assert (row.role, row.expires_at) == (Role.AUDITOR, future)
    assert AuditEvent.objects.latest("id").action == "membership.update"


def test_a_second_admin_can_be_demoted(world: World, admin: Any) -> None:
    MembershipFactory(user=UserFactory(), organization=world.org, role=Role.ADMIN)
    before = AuditEvent.objects.count()
    url = f"{ACME}/memberships/{membership(world, 'admin').pk}/"
    response = admin.patch(url, {"role": "member"}, format="json")
    assert response.status_code == 200, response.content
    assert membership(world, "admin").role == Role.MEMBER
    assert AuditEvent.objects.count() == before + 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"role": "owner"}, "role"),
        ({"role": "auditor"}, "expires_at"),
        ({"role": "viewer", "user": 1}, "user"),
        ({"role": "viewer", "id": 1}, "id"),
        ({"role": "viewer", "organization": "globex"}, "organization"),
        ({"expires_at": "next week"}, "expires_at"),
    ],
    ids=[
        "invalid role",
        "auditor without expiry",
        "read-only user",
        "read-only id",
        "unknown organization",
        "bad expiry",
    ],
)
def test_membership_change_rejects(world: World, admin: Any, data: Any, field: str) -> None:
    url = f"{ACME}/memberships/{membership(world, 'viewer').pk}/"
    assert_rejected(admin, "patch", url, data, field)


# --- invitations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "viewer@acme.test", "role": "member"}, "email"),
        ({"email": "  Viewer@ACME.test ", "role": "member"}, "email"),
        ({"email": "expired_auditor@acme.test", "role": "member"}, "email"),
        ({"email": "new@acme.test", "role": "auditor"}, "access_expires_on"),
        (
            {"email": "new@acme.test", "role": "auditor", "access_expires_on": "2000-01-01"},
            "access_expires_on",
        ),
        ({"email": "not an address", "role": "member"}, "email"),
        ({"email": "new@acme.test", "role": "superuser"}, "role"),
        ({"email": "new@acme.test"}, "role"),
        ({"email": "new@acme.test", "role": "member", "expires_at": "2030-01-01"}, "expires_at"),
        ({"email": "new@acme.test", "role": "member", "token": "abc"}, "token"),
    ],
    ids=[
        "existing member",
        "existing member in another case",
        "expired member",
        "auditor without access_expires_on",
        "access expiry in the past",
        "invalid email",
        "invalid role",
        "role missing",
        "read-only expires_at",
        "unknown token",
    ],
)
def test_invitation_rejects(world: World, admin: Any, data: Any, field: str) -> None:
    assert_rejected(admin, "post", f"{ACME}/invitations/", data, field)


def test_inviting_an_auditor_with_an_expiry_works(world: World, admin: Any) -> None:
    on = timezone.localdate() + dt.timedelta(days=30)
    response = admin.post(
        f"{ACME}/invitations/",
        {"email": "Auditor@Firm.test", "role": "auditor", "access_expires_on": on.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get(pk=response.json()["id"])
    assert invitation.email == "auditor@firm.test"
    assert invitation.access_expires_at is not None
    assert invitation.access_expires_at.date() == on
    assert OutboundEmail.objects.filter(to=["auditor@firm.test"]).count() == 1
    assert "access_expires_on" not in response.json()  # write-only


# --- happy paths --------------------------------------------------------------------------------


def test_control_create_with_requirement_keys(world: World, admin: Any) -> None:
    before = AuditEvent.objects.count()
    data = new_control(
        world,
        owner=world.users["member"].pk,
        backup_owner=world.users["admin"].pk,
        requirements=[world.req_gap.key, world.req_a.key],
        long_lead=True,
        target_date="2030-06-30",
        status_reason="Bought the MDM",
    )
    response = admin.post(f"{ACME}/controls/", data, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    control = Control.objects.get(pk=body["id"])
    assert control.organization == world.org
    assert (control.ref_id, control.owner, control.long_lead) == (
        "NEW-01",
        world.users["member"],
        True,
    )
    assert control.target_date == dt.date(2030, 6, 30)
    assert set(control.mappings.values_list("requirement__key", flat=True)) == {
        world.req_gap.key,
        world.req_a.key,
    }
    assert sorted(body["requirements"]) == sorted([world.req_gap.key, world.req_a.key])
    assert "status_reason" not in body
    change = ControlStatusChange.objects.get(control=control)
    assert (change.from_status, change.to_status) == ("", ControlStatus.NOT_STARTED)
    assert change.reason == "Bought the MDM"
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "control.create"
    assert event.actor == world.users["admin"]


def test_status_change_with_reason_is_kept_as_a_row(world: World) -> None:
    before = AuditEvent.objects.count()
    response = world.api("owner").patch(
        f"{ACME}/controls/{world.control.pk}/",
        {"status": "in_progress", "status_reason": "MFA rollout started"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress"
    change = ControlStatusChange.objects.filter(control=world.control).latest("id")
    assert (change.from_status, change.to_status) == ("not_started", "in_progress")
    assert change.reason == "MFA rollout started"
    assert change.actor == world.users["owner"]
    assert Control.objects.get(pk=world.control.pk).status == "in_progress"
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("id").after["reason"] == "MFA rollout started"


def test_not_applicable_with_justification_is_accepted(world: World, admin: Any) -> None:
    response = admin.patch(
        f"{ACME}/controls/{world.control.pk}/",
        {"status": "not_applicable", "na_justification": "No production systems yet."},
        format="json",
    )
    assert response.status_code == 200, response.content
    control = Control.objects.get(pk=world.control.pk)
    assert control.status == "not_applicable"
    assert control.na_justification == "No production systems yet."


def test_leaving_not_applicable_clears_the_justification(world: World, admin: Any) -> None:
    Control.objects.filter(pk=world.control.pk).update(
        status="not_applicable", na_justification="Out of scope this year."
    )
    response = admin.patch(
        f"{ACME}/controls/{world.control.pk}/",
        {"status": "in_progress", "status_reason": "Back in scope"},
        format="json",
    )
    assert response.status_code == 200, response.content
    control = Control.objects.get(pk=world.control.pk)
    assert (control.status, control.na_justification) == ("in_progress", "")
    change = ControlStatusChange.objects.filter(control=control).latest("id")
    assert (change.from_status, change.to_status) == ("not_applicable", "in_progress")


def test_patch_with_requirements_replaces_the_mappings(world: World, admin: Any) -> None:
    response = admin.patch(
        f"{ACME}/controls/{world.control.pk}/",
        {"requirements": [world.req_b.key, world.req_gap.key]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert sorted(response.json()["requirements"]) == sorted([world.req_b.key, world.req_gap.key])
    assert set(world.control.mappings.values_list("requirement_id", flat=True)) == {
        world.req_b.pk,
        world.req_gap.pk,
    }


@pytest.fixture
def more_controls(world: World) -> dict[str, Control]:
    """A few more acme controls with distinct statuses, owners and names."""
    return {
        "done": ControlFactory(
            organization=world.org,
            ref_id="BCK-01",
            name="Backups run",
            status="implemented",
            owner=world.users["member"],
        ),
        "started": ControlFactory(
            organization=world.org,
            ref_id="LOG-01",
            name="Audit logs kept",
            status="in_progress",
            backup_owner=world.users["owner"],
        ),
    }


def ref_ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["ref_id"] for row in response.json()["results"]]


def test_filter_by_status(world: World, more_controls: Any) -> None:
    client = world.api("viewer")
    assert ref_ids(client.get(f"{ACME}/controls/", {"status": "in_progress"})) == ["LOG-01"]
    both = client.get(f"{ACME}/controls/?status=in_progress&status=implemented")
    assert ref_ids(both) == ["BCK-01", "LOG-01"]


def test_filter_by_an_invalid_status_is_a_400_naming_the_filter(world: World) -> None:
    response = world.api("viewer").get(f"{ACME}/controls/", {"status": "done"})
    assert response.status_code == 400
    assert "status" in response.json()


def test_filter_owner_me_lists_owned_and_backed_up_controls(
    world: World, more_controls: Any
) -> None:
    response = world.api("owner").get(f"{ACME}/controls/", {"owner": "me"})
    assert ref_ids(response) == ["IAM-01", "LOG-01"]
    response = world.api("member").get(f"{ACME}/controls/", {"owner": "me"})
    assert ref_ids(response) == ["BCK-01"]
    response = world.api("viewer").get(f"{ACME}/controls/", {"owner": "none"})
    assert ref_ids(response) == ["CHG-01", "LOG-01"]


def test_filter_by_framework(world: World, more_controls: Any, iso: Any) -> None:
    client = world.api("viewer")
    assert ref_ids(client.get(f"{ACME}/controls/", {"framework": "tsc"})) == ["CHG-01", "IAM-01"]
    # A framework the organization did not adopt is not a valid choice.
    response = client.get(f"{ACME}/controls/", {"framework": "iso"})
    assert response.status_code == 400
    assert "framework" in response.json()


def test_ordering_on_a_whitelisted_field(world: World, more_controls: Any) -> None:
    client = world.api("viewer")
    names = client.get(f"{ACME}/controls/", {"ordering": "-name"}).json()["results"]
    assert [c["name"] for c in names] == sorted((c["name"] for c in names), reverse=True)
    by_status = ref_ids(client.get(f"{ACME}/controls/", {"ordering": "status,ref_id"}))
    assert by_status == ["BCK-01", "LOG-01", "CHG-01", "IAM-01"]


@pytest.mark.parametrize(
    "ordering",
    ["nonsense", "owner__email", "organization__name", "-narrative", "source_key", "ref_id,,name"],
)
def test_ordering_on_another_field_is_a_400_naming_the_parameter(
    world: World, more_controls: Any, ordering: str
) -> None:
    """The schema lists the fields ``ordering`` takes; anything else is refused, not ignored."""
    body = assert_rejected(world.api("viewer"), "get", f"{ACME}/controls/", {"ordering": ordering},
                           "ordering")  # fmt: skip
    assert "ref_id" in body["ordering"][0]  # names what is allowed


def test_ordering_mixing_valid_and_unknown_fields_is_refused(
    world: World, more_controls: Any
) -> None:
    assert_rejected(world.api("viewer"), "get", f"{ACME}/controls/",
                    {"ordering": "owner__email,-ref_id"}, "ordering")  # fmt: skip


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": "last"}, "page"),
        ({"page_size": "false"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"long_lead": "null"}, "long_lead"),
        ({"long_lead": "yes"}, "long_lead"),
        ({"status": ""}, "status"),
        ({"status": "done"}, "status"),
    ],
)
def test_bad_paging_and_filter_values_are_a_400_naming_the_parameter(
    world: World, params: dict[str, str], parameter: str
) -> None:
    assert_rejected(world.api("viewer"), "get", f"{ACME}/controls/", params, parameter)  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "/api/frameworks/",
        "/api/requirements/",
        "/api/organizations/",
        f"{ACME}/memberships/",
        f"{ACME}/test-runs/",
        f"{ACME}/evidence/",
        f"{ACME}/evidence-requests/",
        f"{ACME}/policies/",
        f"{ACME}/people/",
        f"{ACME}/vendors/",
    ],
)
def test_every_list_refuses_a_bad_page_size(world: World, url: str) -> None:
    assert_rejected(world.api("admin"), "get", url, {"page_size": "many"}, "page_size")  # fmt: skip


def test_pagination_defaults_to_50_and_takes_up_to_500(world: World) -> None:
    Control.objects.bulk_create(
        [
            Control(
                organization=world.org,
                ref_id=f"BULK-{n:03d}",
                name=f"Bulk {n}",
                category="access",
                frequency="annual",
            )
            for n in range(510)
        ]
    )
    client = world.api("viewer")
    total = Control.objects.filter(organization=world.org).count()

    page = client.get(f"{ACME}/controls/").json()
    assert page["count"] == total
    assert len(page["results"]) == 50
    assert page["next"] is not None

    small = client.get(f"{ACME}/controls/", {"page_size": 7, "page": 2}).json()
    assert len(small["results"]) == 7

    largest = client.get(f"{ACME}/controls/", {"page_size": 500}).json()
    assert len(largest["results"]) == 500
    assert largest["next"] is not None
    assert client.get(f"{ACME}/controls/", {"page_size": 100000}).status_code == 400


def test_a_page_past_the_end_is_a_404(world: World) -> None:
    response = world.api("viewer").get(f"{ACME}/controls/", {"page": 99})
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "kwargs",
    [{"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}, {"data": {"format": "json"}}],
    ids=["accept header", "format parameter"],
)
def test_schema_is_an_openapi_3_document_listing_the_control_paths(
    world: World, kwargs: dict[str, Any]
) -> None:
    response = world.api("viewer").get("/api/schema/", **kwargs)
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Attest API"
    paths = schema["paths"]
    assert "/api/organizations/{org}/controls/" in paths
    control = paths["/api/organizations/{org}/controls/{id}/"]
    assert {"get", "patch"} <= set(control)
    assert "put" not in control
    assert "/api/organizations/{org}/controls/{id}/archive/" in paths
    assert "/api/organizations/{org}/mappings/" in paths
    assert "/api/organizations/{org}/readiness/" in paths
    # Both ways in are documented: the personal token first, the browser session second.
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert {"bearerAuth": []} in control["patch"]["security"]
