"""Who may create organizations: the ORGANIZATION_CREATORS setting, for every persona.

The page, the API and the "New organization" links agree: someone refused gets a 403 (and
nothing is created) and is never shown a link to the form.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from compliance.models import Organization, Role, User
from tests.conftest import World, settings_refusal
from tests.factories import MembershipFactory, UserFactory

FORM = reverse("organization_create")
API = "/api/organizations/"
LINK = f'href="{FORM}"'
# A page every signed-in person can open, carrying the organization menu.
ANY_PAGE = reverse("password_change")

EVERYONE = ["outsider", "expired_auditor", "auditor", "viewer", "member", "granted", "owner"]
EVERYONE += ["admin", "operator", "nobody"]
ALLOWED = {
    "anyone": set(EVERYONE),
    # People holding a role other than auditor somewhere (the outsider is an admin of Globex),
    # and operators. Auditors, whether their access runs or has expired, and someone without any
    # membership, may not.
    "not_auditors": set(EVERYONE) - {"auditor", "expired_auditor", "nobody"},
    "operators": {"operator"},
}


def person(world: World, persona: str) -> User:
    if persona == "operator":
        return UserFactory(email="ops@attest.test", is_staff=True)
    if persona == "nobody":
        return UserFactory(email="nobody@attest.test")
    return world.users[persona]


CASES = [(policy, persona) for policy in ALLOWED for persona in EVERYONE]


@pytest.mark.parametrize(("policy", "persona"), CASES, ids=[f"{p}-{u}" for p, u in CASES])
def test_the_page_the_link_and_the_api_follow_the_setting(
    world: World, settings: Any, audit_count: Any, policy: str, persona: str
) -> None:
    settings.ORGANIZATION_CREATORS = policy
    allowed = persona in ALLOWED[policy]
    user = person(world, persona)
    client = world.client("anonymous")
    client.force_login(user)
    before = (Organization.objects.count(), audit_count())

    page = client.get(ANY_PAGE)
    assert page.status_code == 200
    assert (LINK in page.content.decode()) is allowed

    form = client.get(FORM)
    assert form.status_code == (200 if allowed else 403)
    posted = client.post(FORM, {"name": "Initech", "slug": "initech", "time_zone": "UTC"})
    assert posted.status_code == (302 if allowed else 403)
    assert Organization.objects.filter(slug="initech").exists() is allowed

    api = APIClient()
    api.force_authenticate(user)
    response = api.post(API, {"name": "Initrode", "time_zone": "Europe/Paris"}, format="json")
    if allowed:
        assert response.status_code == 201, response.content
        assert response.json()["slug"] == "initrode"
        assert response.json()["role"] == Role.ADMIN
        assert Organization.objects.get(slug="initrode").time_zone == "Europe/Paris"
    else:
        assert response.status_code == 403
        assert "create organizations" in response.json()["detail"]
        assert (Organization.objects.count(), audit_count()) == before


def test_an_auditor_who_is_also_a_member_elsewhere_may_create_one(
    world: World, settings: Any
) -> None:
    settings.ORGANIZATION_CREATORS = "not_auditors"
    auditor = world.users["auditor"]
    client = world.client("auditor")
    assert client.get(FORM).status_code == 403
    MembershipFactory(user=auditor, organization=world.other_org, role=Role.MEMBER)
    assert client.get(FORM).status_code == 200


def test_an_auditor_crossing_the_boundary_through_the_api_is_refused_by_default(
    world: World,
) -> None:
    response = world.api("auditor").post(API, {"name": "Shadow Corp"}, format="json")
    assert response.status_code == 403
    assert "Auditors cannot create organizations" in response.json()["detail"]
    assert not Organization.objects.filter(name="Shadow Corp").exists()


def test_the_choose_page_offers_no_button_to_an_auditor(world: World) -> None:
    MembershipFactory(
        user=world.users["auditor"],
        organization=world.other_org,
        role=Role.AUDITOR,
        expires_at=world.org.memberships.get(user=world.users["auditor"]).expires_at,
    )
    page = world.client("auditor").get(reverse("home"))
    assert page.status_code == 200  # two organizations: the choice
    assert "Your organizations" in page.content.decode()
    assert LINK not in page.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_refuses_them(db: None) -> None:
    from django.test import Client

    response = Client().get(FORM)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert APIClient().post(API, {"name": "Anon"}, format="json").status_code in (401, 403)
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Dup", "slug": "acme"}, "slug"),
        ({"name": "Bad", "slug": "Bad Slug!"}, "slug"),
        ({"name": "TZ", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "owner": 1}, "owner"),
    ],
)
def test_bad_input_through_the_api_names_the_field_and_creates_nothing(
    world: World, data: dict[str, Any], field: str
) -> None:
    count = Organization.objects.count()
    response = world.api("admin").post(API, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Organization.objects.count() == count


def test_an_unknown_value_of_the_setting_stops_the_process() -> None:
    refusal = settings_refusal({**os.environ, "ORGANIZATION_CREATORS": "everybody"})
    assert "ORGANIZATION_CREATORS='everybody' must be one of" in refusal
