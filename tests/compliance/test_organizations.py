"""Organizations: switching, creating, members and their roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from compliance import services
from compliance.models import Membership, Organization, Role
from compliance.permissions import can
from tests.conftest import World
from tests.factories import MembershipFactory


def test_home_sends_a_single_organization_user_to_its_dashboard(world: World) -> None:
    response = world.client("viewer").get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard", args=["acme"])


def test_a_user_switches_between_the_organizations_they_belong_to(world: World) -> None:
    MembershipFactory(user=world.users["admin"], organization=world.other_org, role=Role.VIEWER)
    client = world.client("admin")
    page = client.get(reverse("home"))
    assert page.status_code == 200  # two organizations and none used yet: choose
    assert "Acme" in page.content.decode() and "Globex" in page.content.decode()
    dashboard = client.get(reverse("dashboard", args=["globex"]))
    assert dashboard.status_code == 200
    body = dashboard.content.decode()
    assert reverse("dashboard", args=["acme"]) in body  # the switcher offers the other one
    # Home now remembers the last organization used.
    assert client.get(reverse("home"))["Location"] == reverse("dashboard", args=["globex"])
    # Being a viewer there does not make anyone an admin there.
    assert client.get(reverse("audit_trail", args=["globex"])).status_code == 403
    assert client.get(reverse("audit_trail", args=["acme"])).status_code == 200


def test_the_switcher_lists_only_the_users_own_organizations(world: World) -> None:
    body = world.client("admin").get(reverse("dashboard", args=["acme"])).content.decode()
    assert "Globex" not in body


def test_a_signed_in_user_creates_an_organization_and_becomes_its_admin(world: World) -> None:
    client = world.client("viewer")
    response = client.post(
        reverse("organization_create"),
        {"name": "Initech Labs", "slug": "", "time_zone": "Europe/Paris"},
    )
    assert response.status_code == 302
    organization = Organization.objects.get(slug="initech-labs")
    assert organization.time_zone == "Europe/Paris"
    assert (
        Membership.objects.get(organization=organization, user=world.users["viewer"]).role
        == Role.ADMIN
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "time_zone": "UTC"}, "This field is required"),
        ({"name": "Dup", "slug": "acme", "time_zone": "UTC"}, "already exists"),
        ({"name": "Bad", "slug": "Bad Slug!", "time_zone": "UTC"}, "lowercase letters"),
        ({"name": "TZ", "time_zone": "Mars/Olympus"}, "Select a valid choice"),
    ],
)
def test_bad_organization_input_is_refused(world: World, data: dict, message: str) -> None:
    count = Organization.objects.count()
    response = world.client("viewer").post(reverse("organization_create"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Organization.objects.count() == count


def test_an_admin_changes_a_role(world: World) -> None:
    membership = Membership.objects.get(user=world.users["viewer"], organization=world.org)
    response = world.client("admin").post(
        reverse("member_update", args=["acme", membership.pk]), {"role": "member"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def test_the_last_admin_cannot_be_demoted_or_removed(world: World) -> None:
    admin_membership = Membership.objects.get(user=world.users["admin"], organization=world.org)
    with pytest.raises(ValidationError, match="at least one admin"):
        services.membership_change_role(
            actor=world.users["admin"], membership=admin_membership, role=Role.VIEWER
        )
    with pytest.raises(ValidationError, match="at least one admin"):
        services.membership_remove(actor=world.users["admin"], membership=admin_membership)
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN


def test_removing_a_member_also_removes_their_object_grants(world: World) -> None:
    granted = world.users["granted"]
    assert can(granted, "change", world.control)
    membership = Membership.objects.get(user=granted, organization=world.org)
    services.membership_remove(actor=world.users["admin"], membership=membership)
    # Invited back later as a member, they do not silently regain the old grant.
    Membership.objects.create(user=granted, organization=world.org, role=Role.MEMBER)
    fresh = type(granted).objects.get(pk=granted.pk)
    assert not can(fresh, "change", world.control)


def test_an_admin_cannot_manage_members_of_another_organization(world: World) -> None:
    stranger = Membership.objects.get(user=world.users["outsider"])
    response = world.client("admin").post(
        reverse("member_update", args=["acme", stranger.pk]), {"role": "viewer"}
    )
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.role == Role.ADMIN


def test_an_expired_auditor_loses_access(world: World) -> None:
    assert (
        world.client("expired_auditor").get(reverse("dashboard", args=["acme"])).status_code == 404
    )


def test_an_auditor_lands_on_the_engagements_page_and_sees_no_program(world: World) -> None:
    client = world.client("auditor")
    landing = client.get(reverse("dashboard", args=["acme"]))
    assert landing.status_code == 302
    assert landing["Location"] == reverse("audit_list", args=["acme"])
    page = client.get(landing["Location"])
    assert page.status_code == 200
    assert "No engagement has been shared with you yet" in page.content.decode()
    assert "MFA everywhere" not in page.content.decode()
    assert client.get(reverse("control_list", args=["acme"])).status_code == 403


def test_the_health_endpoint_reports_the_database(db: None, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
