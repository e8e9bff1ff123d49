"""Every vendors API endpoint against every persona.

Program readers (admins, members, viewers) see the inventory and its reviews. Vendor managers
(admins, Capability.MANAGE_VENDORS) add, change, offboard and reinstate vendors; a member who owns
a vendor changes its facts (not its tier, owner, cadence…) and records its reviews. Auditors have
no part in the program (403, whatever the vendor); an expired auditor and a stranger are not
members (404); another organization's vendor, or a review asked for under another vendor, is a
404. Vendors are never deleted or replaced
(405). Denied writes change nothing: no audit event, the row and its reviews unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from compliance.models import AuditEvent
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, READ_PROGRAM, Case
from tests.vendors.conftest import Vendors
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import Vendor
from vendors.services import vendor_offboard

API = "/api/organizations/acme/vendors"

API_READ = {**READ_PROGRAM, "anonymous": 401}
API_MANAGERS = {**ADMIN_ONLY_READ, "anonymous": 401}
# Another organization's vendor: hidden from everyone who gets past the role check.
API_HIDDEN = {**HIDDEN_FROM_ALL, "anonymous": 401, "auditor": 403}
NOT_OFFERED = {**API_READ, **dict.fromkeys(["viewer", "member", "granted", "owner", "admin"], 405)}


def managers(success: int) -> dict[str, Any]:
    return {**API_MANAGERS, "admin": success}


def owner_and_managers(success: int) -> dict[str, Any]:
    """Who may change the vendor the "owner" persona owns: its owner and admins."""
    return {**API_MANAGERS, "owner": success, "admin": success}


def by_name(world: World, name: str) -> Vendor:
    return Vendor.objects.get(name=name)


def owned(w: World) -> Vendor:
    return by_name(w, "Cloudhost")


def unowned(w: World) -> Vendor:
    return by_name(w, "Snackbox")


def foreign(w: World) -> Vendor:
    return by_name(w, "Globex Secret Supplier")


def gone(w: World) -> Vendor:
    return by_name(w, "Oldmail")


def state(vendor: Vendor) -> tuple[Any, ...]:
    vendor.refresh_from_db()
    return (
        vendor.name, vendor.description, vendor.risk_tier, vendor.owner_id, vendor.status,
        vendor.offboarded_on, vendor.review_every_months, vendor.reviews.count(),
    )  # fmt: skip


def review_url(vendor: Vendor, of: Vendor | None = None) -> str:
    """The address of ``of``'s (default: ``vendor``'s) latest review, under ``vendor``."""
    review = (of or vendor).reviews.order_by("-reviewed_on").first()
    assert review is not None
    return f"{API}/{vendor.pk}/reviews/{review.pk}/"


def review_state(vendor: Vendor) -> list[tuple[Any, ...]]:
    return list(
        vendor.reviews.order_by("pk").values_list("pk", "reviewed_on", "outcome", "summary")
    )


def vendor_count(w: World) -> int:
    return Vendor.objects.count()


def review(w: World) -> dict[str, Any]:
    return {"reviewed_on": "2025-01-06", "outcome": "approved", "summary": "Read the report."}


CASES = [
    Case("list", "get", lambda w: f"{API}/", API_READ),
    Case(
        "list filtered and sorted",
        "get",
        lambda w: f"{API}/?review_state=attention&risk_tier=low&ordering=-risk_tier",
        API_READ,
    ),
    Case("detail", "get", lambda w: f"{API}/{owned(w).pk}/", API_READ),
    Case("another organization's vendor", "get", lambda w: f"{API}/{foreign(w).pk}/", API_HIDDEN),
    Case(
        "add a vendor",
        "post",
        lambda w: f"{API}/",
        managers(201),
        data=lambda w: {"name": "Newco", "onboarded_on": "2025-01-06", "risk_tier": "high"},
        state=vendor_count,
    ),
    Case(
        "change an owned vendor's facts",
        "patch",
        lambda w: f"{API}/{owned(w).pk}/",
        owner_and_managers(200),
        data=lambda w: {"description": "Hosts production"},
        state=lambda w: state(owned(w)),
    ),
    Case(
        "change an owned vendor's tier",
        "patch",
        lambda w: f"{API}/{owned(w).pk}/",
        managers(200),
        data=lambda w: {"risk_tier": "low", "description": "Hosts production"},
        state=lambda w: state(owned(w)),
    ),
    Case(
        "change an owned vendor's owner",
        "patch",
        lambda w: f"{API}/{owned(w).pk}/",
        managers(200),
        data=lambda w: {"owner": w.users["member"].pk},
        state=lambda w: state(owned(w)),
    ),
    Case(
        "change a vendor nobody owns",
        "patch",
        lambda w: f"{API}/{unowned(w).pk}/",
        managers(200),
        data=lambda w: {"description": "Office snacks"},
        state=lambda w: state(unowned(w)),
    ),
    Case(
        "change another organization's vendor",
        "patch",
        lambda w: f"{API}/{foreign(w).pk}/",
        API_HIDDEN,
        data=lambda w: {"description": "Changed"},
        state=lambda w: state(foreign(w)),
    ),
    Case(
        "replace a vendor",
        "put",
        lambda w: f"{API}/{owned(w).pk}/",
        NOT_OFFERED,
        data=lambda w: {"name": "Cloudhost", "onboarded_on": "2025-01-06"},
        state=lambda w: state(owned(w)),
    ),
    Case(
        "delete a vendor",
        "delete",
        lambda w: f"{API}/{owned(w).pk}/",
        NOT_OFFERED,
        state=lambda w: state(owned(w)),
    ),
    Case(
        "offboard a vendor",
        "post",
        lambda w: f"{API}/{owned(w).pk}/offboard/",
        managers(200),
        data=lambda w: {"offboarded_on": "2025-06-30", "reason": "Contract ended"},
        state=lambda w: state(owned(w)),
    ),
    Case(
        "offboard another organization's vendor",
        "post",
        lambda w: f"{API}/{foreign(w).pk}/offboard/",
        managers(404),
        data=lambda w: {"offboarded_on": "2025-06-30", "reason": "Contract ended"},
        state=lambda w: state(foreign(w)),
    ),
    Case(
        "reinstate a vendor",
        "post",
        lambda w: f"{API}/{gone(w).pk}/reinstate/",
        managers(200),
        state=lambda w: state(gone(w)),
    ),
    Case(
        "reinstate another organization's vendor",
        "post",
        lambda w: f"{API}/{foreign(w).pk}/reinstate/",
        managers(404),
        state=lambda w: state(foreign(w)),
    ),
    Case("reviews", "get", lambda w: f"{API}/{owned(w).pk}/reviews/", API_READ),
    Case(
        "reviews of another organization's vendor",
        "get",
        lambda w: f"{API}/{foreign(w).pk}/reviews/",
        API_HIDDEN,
    ),
    Case(
        "record a review of an owned vendor",
        "post",
        lambda w: f"{API}/{owned(w).pk}/reviews/",
        owner_and_managers(201),
        data=review,
        state=lambda w: state(owned(w)),
    ),
    Case(
        "record a review of a vendor nobody owns",
        "post",
        lambda w: f"{API}/{unowned(w).pk}/reviews/",
        managers(201),
        data=review,
        state=lambda w: state(unowned(w)),
    ),
    Case(
        "record a review of another organization's vendor",
        "post",
        lambda w: f"{API}/{foreign(w).pk}/reviews/",
        API_HIDDEN,
        data=review,
        state=lambda w: state(foreign(w)),
    ),
    Case("a review", "get", lambda w: review_url(owned(w)), API_READ),
    Case(
        "a review through another vendor's address",
        "get",
        lambda w: review_url(unowned(w), owned(w)),
        API_HIDDEN,
    ),
    Case(
        "a review of another organization's vendor",
        "get",
        lambda w: review_url(foreign(w)),
        API_HIDDEN,
    ),
    Case(
        "change a review",
        "patch",
        lambda w: review_url(owned(w)),
        NOT_OFFERED,
        data=lambda w: {"summary": "Rewritten after the fact."},
        state=lambda w: review_state(owned(w)),
    ),
    Case(
        "delete a review",
        "delete",
        lambda w: review_url(owned(w)),
        NOT_OFFERED,
        state=lambda w: review_state(owned(w)),
    ),
    Case(
        "delete a vendor's reviews",
        "delete",
        lambda w: f"{API}/{owned(w).pk}/reviews/",
        NOT_OFFERED,
        state=lambda w: state(owned(w)),
    ),
]
PARAMS = [param for case in CASES for param in case.params()]


@pytest.fixture
def inventory(world: World, vendors: Vendors, today: dt.date) -> None:
    """The vendors fixture plus Oldmail, an offboarded vendor of acme."""
    oldmail = VendorFactory(
        organization=world.org, name="Oldmail", onboarded_on=dt.date(2020, 1, 1)
    )
    vendor_offboard(actor=world.users["admin"], vendor=oldmail, offboarded_on=today, reason="Gone")
    ReviewFactory(vendor=vendors.foreign, reviewed_on=today - dt.timedelta(days=10))


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_api_permissions(world: World, inventory: None, case: Case, persona: str) -> None:
    client = world.api(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(case.url(world), data=case.data(world), format="json")

    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:800]
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    if response.status_code >= 400:
        assert "detail" in response.json(), "an error without a JSON detail"
    if case.method == "get":
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    else:
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


def test_a_hidden_vendor_and_a_missing_one_look_the_same(world: World, vendors: Vendors) -> None:
    client = world.api("admin")
    missing = client.get(f"{API}/999999/")
    hidden = client.get(f"{API}/{vendors.foreign.pk}/")
    assert (missing.status_code, missing.json()) == (hidden.status_code, hidden.json())
    assert hidden.status_code == 404


def test_an_auditor_is_refused_the_same_way_whatever_the_vendor(
    world: World, vendors: Vendors
) -> None:
    client = world.api("auditor")
    answers = {
        client.get(f"{API}/{pk}/").content for pk in (vendors.owned.pk, vendors.foreign.pk, 999999)
    }
    assert len(answers) == 1


def test_every_case_has_an_expectation_for_every_persona() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name
