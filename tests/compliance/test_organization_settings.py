"""The organization's settings page (admins) and its two-factor requirement, enforced on every
organization page and API route."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from compliance import mfa
from compliance.models import AuditEvent, Organization, User
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, LOGIN

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URL = reverse("organization_settings", args=["acme"])
GOOD = {
    "name": "Acme Corp",
    "time_zone": "Europe/Paris",
    "require_two_factor": "",
    "snapshot_weekday": "0",
    "snapshot_hour": "6",
}


def enroll(user: User) -> None:
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=user, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)


def state(world: World) -> tuple[str, str, bool]:
    org = Organization.objects.get(pk=world.org.pk)
    return (org.name, org.time_zone, org.require_two_factor)


def expected(status: int | str, persona: str) -> int | str:
    return {**ADMIN_ONLY_READ, "admin": status}[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_admins_open_and_change_the_settings(world: World, persona: str) -> None:
    client = world.client(persona)
    page = client.get(URL)
    want = expected(200, persona)
    if want == LOGIN:
        assert page.status_code == 302 and page["Location"].startswith(reverse("login"))
    else:
        assert page.status_code == want
    before, events = state(world), AuditEvent.objects.count()
    response = client.post(URL, GOOD)
    if persona == "admin":
        assert response.status_code == 302
        assert state(world) == ("Acme Corp", "Europe/Paris", False)
        event = AuditEvent.objects.get(action="organization.update")
        assert event.before == {"name": "Acme", "time_zone": world.org.time_zone}
        assert event.after == {"name": "Acme Corp", "time_zone": "Europe/Paris"}
    else:
        assert response.status_code in (302, 403, 404)
        assert (state(world), AuditEvent.objects.count()) == (before, events)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**GOOD, "name": "  "}, "name"),
        ({**GOOD, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**GOOD, "name": "x" * 121}, "name"),
        ({**GOOD, "snapshot_hour": "24"}, "snapshot_hour"),
        ({**GOOD, "snapshot_hour": "-1"}, "snapshot_hour"),
        ({**GOOD, "snapshot_hour": "six"}, "snapshot_hour"),
        ({**GOOD, "snapshot_weekday": "7"}, "snapshot_weekday"),
        ({**GOOD, "snapshot_weekday": ""}, "snapshot_weekday"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    world: World, data: dict[str, str], field: str
) -> None:
    before, events = state(world), AuditEvent.objects.count()
    response = world.client("admin").post(URL, data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert (state(world), AuditEvent.objects.count()) == (before, events)


def test_an_admin_without_two_factor_cannot_require_it(world: World) -> None:
    response = world.client("admin").post(URL, {**GOOD, "require_two_factor": "on"})
    assert response.status_code == 400
    assert "for your own account first" in response.content.decode()
    assert state(world)[2] is False


def test_once_required_members_without_it_are_sent_to_turn_it_on(world: World) -> None:
    admin, member = world.users["admin"], world.users["member"]
    enroll(admin)
    enroll(world.users["viewer"])
    response = world.client("admin").post(URL, {**GOOD, "require_two_factor": "on"})
    assert response.status_code == 302 and state(world)[2] is True
    assert AuditEvent.objects.get(action="organization.update").after["require_two_factor"]

    # Without it: every page of the organization leads to the two-factor page, the API is 403.
    for url in (
        reverse("dashboard", args=["acme"]),
        reverse("control_list", args=["acme"]),
        reverse("member_list", args=["acme"]),
    ):
        page = world.client("member").get(url)
        assert page.status_code == 302 and page["Location"] == reverse("two_factor"), url
    api = world.api("member").get("/api/organizations/acme/controls/")
    assert api.status_code == 403
    assert "requires two-factor sign-in" in api.json()["detail"]
    # Another organization without the rule is unaffected.
    assert world.client("outsider").get(reverse("dashboard", args=["globex"])).status_code == 200
    # With it: as before.
    assert world.client("viewer").get(reverse("dashboard", args=["acme"])).status_code == 200
    assert world.api("viewer").get("/api/organizations/acme/controls/").status_code == 200
    enroll(member)
    assert world.client("member").get(reverse("dashboard", args=["acme"])).status_code == 200

    summary = world.client("admin").get(URL).content.decode()
    # Enrolled: admin, viewer, member, and the auditor (auditors turn it on before anything).
    assert "Required" in summary and "4 of" in summary


def test_the_api_shows_whether_an_organization_requires_it(world: World) -> None:
    enroll(world.users["admin"])
    world.client("admin").post(URL, {**GOOD, "require_two_factor": "on"})
    body = world.api("admin").get("/api/organizations/acme/").json()
    assert (body["require_two_factor"], body["time_zone"]) == (True, "Europe/Paris")
    # Read-only there: the settings page is where it changes.
    world.api("admin").patch("/api/organizations/acme/", {"require_two_factor": False})
    assert state(world)[2] is True


def test_an_admin_moves_the_weekly_snapshot_to_friday_at_17(world: World) -> None:
    page = world.client("admin").get(URL).content.decode()
    assert 'name="snapshot_weekday"' in page and 'name="snapshot_hour"' in page
    assert '<option value="0" selected>Monday</option>' in page
    assert '<option value="6" selected>06:00</option>' in page

    response = world.client("admin").post(
        URL, {**GOOD, "snapshot_weekday": "4", "snapshot_hour": "17"}
    )

    assert response.status_code == 302
    org = Organization.objects.get(pk=world.org.pk)
    assert (org.snapshot_weekday, org.snapshot_hour) == (4, 17)
    event = AuditEvent.objects.get(action="organization.update")
    assert event.before["snapshot_weekday"] == 0 and event.after["snapshot_weekday"] == 4
    assert (event.before["snapshot_hour"], event.after["snapshot_hour"]) == (6, 17)
