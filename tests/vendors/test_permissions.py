"""Every vendor page and form post against every persona.

Program readers (admins, members, viewers) see the inventory, its export and every vendor. Admins
(Capability.MANAGE_VENDORS) add, edit, offboard and reinstate any vendor; a member who owns a
vendor edits its facts and records its reviews; everyone else who can see it gets 403. Auditors get
403 on program pages; another organization's vendor is a 404. Denied writes change nothing: no
audit event, the rows unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from compliance.models import AuditEvent
from people.completion import organization_today
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, LOGIN, READ_PROGRAM, Case
from tests.vendors.conftest import Vendors
from tests.vendors.factories import VendorFactory
from vendors.models import RiskTier, Vendor, VendorReview, VendorStatus


def u(name: str, *args: object) -> str:
    return reverse(name, args=args)


def vendor(world: World, name: str) -> Vendor:
    return Vendor.objects.get(name=name)


def owned(w: World) -> Vendor:
    return vendor(w, "Cloudhost")  # critical, owned by the "owner" member


def unowned(w: World) -> Vendor:
    return vendor(w, "Snackbox")


def foreign(w: World) -> Vendor:
    return vendor(w, "Globex Secret Supplier")


def retired(w: World) -> Vendor:
    return vendor(w, "Oldco")  # offboarded


def state(v: Vendor) -> Any:
    v.refresh_from_db()
    return (
        v.name, v.description, v.location, v.risk_tier, v.owner_id, v.status, v.offboarded_on,
        v.reviews.count(),
    )  # fmt: skip


def vendor_data(v: Vendor) -> dict[str, Any]:
    """The edit form as the browser sends it, with new facts (and the manager fields unchanged)."""
    return {
        "name": v.name,
        "website": v.website,
        "description": "Hosts production; SOC 2 Type II report each spring.",
        "category": "infrastructure",
        "risk_tier": v.risk_tier,
        "data_access": v.data_access,
        "is_subprocessor": "on" if v.is_subprocessor else "",
        "location": "EU (Frankfurt)",
        "owner": v.owner_id or "",
        "onboarded_on": v.onboarded_on.isoformat(),
        "review_every_months": "",
    }


def new_vendor_data(w: World) -> dict[str, Any]:
    return {
        "name": "Paystream",
        "website": "https://paystream.test",
        "category": "payments",
        "risk_tier": "high",
        "data_access": ["financial_data"],
        "owner": w.users["owner"].pk,
        "onboarded_on": "2025-01-06",
    }


def review_data(w: World) -> dict[str, Any]:
    return {
        "reviewed_on": organization_today(w.org).isoformat(),
        "outcome": "approved",
        "summary": "Read the SOC 2 Type II report; two exceptions, neither affects us.",
    }


def offboard_data(w: World) -> dict[str, Any]:
    return {"offboarded_on": organization_today(w.org).isoformat(), "reason": "Contract ended."}


def vendor_count(w: World) -> int:
    return Vendor.objects.count()


def review_count(w: World) -> int:
    return VendorReview.objects.count()


def writers(success: int = 302, *, owner: bool) -> dict[str, Any]:
    """Admins, and the vendor's owner when ``owner``; every other reader gets 403."""
    expected = {**ADMIN_ONLY_READ, "admin": success}
    if owner:
        expected["owner"] = success
    return expected


def admin_only(success: int) -> dict[str, Any]:
    return {**ADMIN_ONLY_READ, "admin": success}


READERS_FOREIGN = {**HIDDEN_FROM_ALL, "auditor": 403}  # another org's vendor through acme's URL
ADMIN_FOREIGN = {**ADMIN_ONLY_READ, "admin": 404}  # capability first, then the lookup
# A form's URL opened in the browser leads readers back to the vendor's page.
BACK_TO_PAGE = {
    **READ_PROGRAM,
    **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 302),
}

CASES = [
    Case("inventory", "get", lambda w: u("vendor_list", "acme"), READ_PROGRAM),
    Case(
        "inventory filtered and sorted",
        "get",
        lambda w: u("vendor_list", "acme") + "?review=attention&risk_tier=low&sort=-next_due",
        READ_PROGRAM,
    ),
    Case("inventory export", "get", lambda w: u("vendor_export", "acme"), READ_PROGRAM),
    Case("vendor page", "get", lambda w: u("vendor_detail", "acme", owned(w).pk), READ_PROGRAM),
    Case(
        "offboarded vendor page",
        "get",
        lambda w: u("vendor_detail", "acme", retired(w).pk),
        READ_PROGRAM,
    ),
    Case(
        "another organization's vendor through our URL",
        "get",
        lambda w: u("vendor_detail", "acme", foreign(w).pk),
        READERS_FOREIGN,
    ),
    Case(
        "another organization's vendor through its URL",
        "get",
        lambda w: u("vendor_detail", "globex", foreign(w).pk),
        {**HIDDEN_FROM_ALL, "outsider": 200},
    ),
    Case("add vendor form", "get", lambda w: u("vendor_create", "acme"), admin_only(200)),
    Case(
        "add a vendor",
        "post",
        lambda w: u("vendor_create", "acme"),
        admin_only(302),
        data=new_vendor_data,
        state=vendor_count,
    ),
    Case(
        "edit form of an owned vendor",
        "get",
        lambda w: u("vendor_edit", "acme", owned(w).pk),
        writers(200, owner=True),
    ),
    Case(
        "edit an owned vendor",
        "post",
        lambda w: u("vendor_edit", "acme", owned(w).pk),
        writers(302, owner=True),
        data=lambda w: vendor_data(owned(w)),
        state=lambda w: state(owned(w)),
    ),
    Case(
        "edit form of a vendor nobody owns",
        "get",
        lambda w: u("vendor_edit", "acme", unowned(w).pk),
        writers(200, owner=False),
    ),
    Case(
        "edit a vendor nobody owns",
        "post",
        lambda w: u("vendor_edit", "acme", unowned(w).pk),
        writers(302, owner=False),
        data=lambda w: vendor_data(unowned(w)),
        state=lambda w: state(unowned(w)),
    ),
    Case(
        "edit another organization's vendor",
        "post",
        lambda w: u("vendor_edit", "acme", foreign(w).pk),
        READERS_FOREIGN,
        data=lambda w: vendor_data(foreign(w)),
        state=lambda w: state(foreign(w)),
    ),
    Case(
        "record a review of an owned vendor",
        "post",
        lambda w: u("vendor_review_create", "acme", owned(w).pk),
        writers(302, owner=True),
        data=review_data,
        state=lambda w: state(owned(w)),
    ),
    Case(
        "record a review of a vendor nobody owns",
        "post",
        lambda w: u("vendor_review_create", "acme", unowned(w).pk),
        writers(302, owner=False),
        data=review_data,
        state=lambda w: state(unowned(w)),
    ),
    Case(
        "record a review of another organization's vendor",
        "post",
        lambda w: u("vendor_review_create", "acme", foreign(w).pk),
        READERS_FOREIGN,
        data=review_data,
        state=review_count,
    ),
    Case(
        "review URL opened in the browser",
        "get",
        lambda w: u("vendor_review_create", "acme", owned(w).pk),
        BACK_TO_PAGE,
    ),
    Case(
        "offboard a vendor",
        "post",
        lambda w: u("vendor_offboard", "acme", owned(w).pk),
        admin_only(302),
        data=offboard_data,
        state=lambda w: state(owned(w)),
    ),
    Case(
        "offboard another organization's vendor",
        "post",
        lambda w: u("vendor_offboard", "acme", foreign(w).pk),
        ADMIN_FOREIGN,
        data=offboard_data,
        state=lambda w: state(foreign(w)),
    ),
    Case(
        "reinstate an offboarded vendor",
        "post",
        lambda w: u("vendor_reinstate", "acme", retired(w).pk),
        admin_only(302),
        state=lambda w: state(retired(w)),
    ),
    Case(
        "reinstate another organization's vendor",
        "post",
        lambda w: u("vendor_reinstate", "acme", foreign(w).pk),
        ADMIN_FOREIGN,
        state=lambda w: state(foreign(w)),
    ),
]
PARAMS = [param for case in CASES for param in case.params()]


@pytest.fixture
def inventory(world: World, vendors: Vendors, today: dt.date) -> Vendors:
    VendorFactory(
        organization=world.org,
        name="Oldco",
        risk_tier=RiskTier.HIGH,
        onboarded_on=dt.date(2022, 1, 3),
        status=VendorStatus.OFFBOARDED,
        offboarded_on=today - dt.timedelta(days=30),
    )
    return vendors


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_page_permissions(world: World, inventory: Vendors, case: Case, persona: str) -> None:
    client = world.client(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(case.url(world), data=case.data(world))

    expected = case.expected[persona]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:800]
    if case.method == "get":
        assert AuditEvent.objects.count() == before_events, "a read wrote something"
        return
    if expected in (LOGIN, 403, 404):
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    else:
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


def test_every_persona_has_an_expectation() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name


def test_the_sidebar_shows_vendors_to_program_readers_only(world: World) -> None:
    link = f'href="{u("vendor_list", "acme")}"'
    for persona in ("admin", "member", "viewer"):
        page = world.client(persona).get(u("my_work", "acme")).content.decode()
        assert link in page, persona
    auditor_home = world.client("auditor").get(u("dashboard", "acme")).content.decode()
    assert link not in auditor_home
