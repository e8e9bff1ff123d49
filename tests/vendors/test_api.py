"""The vendors API: the inventory with review status, its writes, reviews, and the schema.

Who may do what is in test_api_permissions.py; here the happy paths, what each write records,
bad input (400 naming the field, nothing written), filters, ordering and query counts.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from people.completion import add_months
from tests.conftest import World
from tests.vendors.conftest import Vendors
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import ReviewOutcome, RiskTier, Vendor, VendorReview, VendorStatus
from vendors.services import vendor_offboard

ACME = "/api/organizations/acme/vendors/"


def detail(vendor: Vendor) -> str:
    return f"{ACME}{vendor.pk}/"


def row_state(vendor: Vendor) -> tuple[Any, ...]:
    vendor.refresh_from_db()
    return (
        vendor.name, vendor.website, vendor.description, vendor.category, vendor.risk_tier,
        vendor.data_access, vendor.is_subprocessor, vendor.location, vendor.owner_id,
        vendor.status, vendor.onboarded_on, vendor.offboarded_on, vendor.review_every_months,
        vendor.reviews.count(),
    )  # fmt: skip


def names(response: Any) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-id").first()  # type: ignore[return-value]


# --- reading ------------------------------------------------------------------------------------


def test_a_vendor_shows_its_facts_owner_and_review_status(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    owned = vendors.owned
    reviewed_on = today - dt.timedelta(days=90)

    response = world.api("viewer").get(detail(owned))

    assert response.status_code == 200
    owner = world.users["owner"]
    assert response.json() == {
        "id": owned.pk,
        "name": "Cloudhost",
        "website": "https://cloudhost.test",
        "description": "",
        "category": "software",
        "risk_tier": "critical",
        "data_access": ["customer_data", "personal_data"],
        "is_subprocessor": True,
        "location": "",
        "owner": {"id": owner.pk, "email": "owner@acme.test", "name": "Owner"},
        "status": "active",
        "onboarded_on": str(owned.onboarded_on),
        "offboarded_on": None,
        "review_every_months": None,
        "cadence_months": 12,
        "review": {
            "state": "current",
            "label": "Current",
            "due": str(add_months(reviewed_on, 12)),
            "last_reviewed_on": str(reviewed_on),
            "last_outcome": "approved",
        },
    }


def test_the_list_shows_the_organizations_vendors_only(world: World, vendors: Vendors) -> None:
    response = world.api("member").get(ACME)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert names(response) == ["Cloudhost", "Snackbox"]
    snackbox = body["results"][1]
    assert snackbox["owner"] is None
    assert snackbox["review"]["state"] == "never"
    assert snackbox["review"]["last_reviewed_on"] is None


@pytest.fixture
def inventory(world: World, vendors: Vendors, today: dt.date) -> None:
    """Besides Cloudhost (critical, current) and Snackbox (low, never reviewed): an overdue
    high-tier payments vendor owned by the member, one rejected at review, one offboarded."""
    overdue = VendorFactory(
        organization=world.org, name="Paystream", risk_tier=RiskTier.HIGH, category="payments",
        owner=world.users["member"], onboarded_on=today - dt.timedelta(days=900),
        description="Card processing",
    )  # fmt: skip
    ReviewFactory(vendor=overdue, reviewed_on=today - dt.timedelta(days=400))
    rejected = VendorFactory(
        organization=world.org, name="alertly", risk_tier=RiskTier.MEDIUM,
        onboarded_on=today - dt.timedelta(days=100),
    )  # fmt: skip
    ReviewFactory(
        vendor=rejected, reviewed_on=today - dt.timedelta(days=10), outcome=ReviewOutcome.REJECTED
    )
    gone = VendorFactory(
        organization=world.org, name="Oldmail", risk_tier=RiskTier.CRITICAL,
        onboarded_on=today - dt.timedelta(days=2000),
    )  # fmt: skip
    vendor_offboard(actor=world.users["admin"], vendor=gone, offboarded_on=today, reason="Gone")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["alertly", "Cloudhost", "Oldmail", "Paystream", "Snackbox"]),
        ({"review_state": "attention"}, ["alertly", "Paystream", "Snackbox"]),
        ({"review_state": "overdue"}, ["Paystream"]),
        ({"review_state": "never"}, ["Snackbox"]),
        ({"review_state": "current"}, ["Cloudhost"]),
        ({"review_state": "attention", "risk_tier": "high"}, ["Paystream"]),
        ({"risk_tier": "critical"}, ["Cloudhost", "Oldmail"]),
        ({"risk_tier": "critical", "status": "active"}, ["Cloudhost"]),
        ({"status": "offboarded"}, ["Oldmail"]),
        ({"status": "all"}, ["alertly", "Cloudhost", "Oldmail", "Paystream", "Snackbox"]),
        ({"category": "payments"}, ["Paystream"]),
        ({"subprocessor": "true"}, ["Cloudhost"]),
        ({"q": "card"}, ["Paystream"]),
        ({"q": "CLOUDHOST.test"}, ["Cloudhost"]),
        ({"owner": "member"}, ["Paystream"]),
        ({"ordering": "-name"}, ["Snackbox", "Paystream", "Oldmail", "Cloudhost", "alertly"]),
        (
            {"ordering": "risk_tier"},
            ["Cloudhost", "Oldmail", "Paystream", "alertly", "Snackbox"],
        ),
        (
            {"ordering": "-risk_tier"},
            ["Snackbox", "alertly", "Paystream", "Cloudhost", "Oldmail"],
        ),
        (
            {"ordering": "onboarded_on"},
            ["Oldmail", "Paystream", "Cloudhost", "alertly", "Snackbox"],
        ),
        (
            {"ordering": "-onboarded_on", "review_state": "attention"},
            ["Snackbox", "alertly", "Paystream"],
        ),
    ],
)  # fmt: skip
def test_the_list_filters_and_sorts(
    world: World, inventory: None, params: dict[str, str], expected: list[str]
) -> None:
    if params.get("owner") == "member":
        params = {**params, "owner": str(world.users["member"].pk)}
    response = world.api("viewer").get(ACME, params)
    assert response.status_code == 200, response.json()
    assert names(response) == expected
    assert response.json()["count"] == len(expected)


def test_the_attention_filter_pages_what_it_found(world: World, inventory: None) -> None:
    response = world.api("viewer").get(
        ACME, {"review_state": "attention", "page_size": 2, "page": 2}
    )
    body = response.json()
    assert (body["count"], names(response)) == (3, ["Snackbox"])
    assert body["previous"] is not None
    assert body["next"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"review_state": "late"},
        {"review_state": "offboarded"},
        {"risk_tier": "extreme"},
        {"status": "paused"},
        {"category": "food"},
        {"owner": "someone"},
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_the_filter(
    world: World, vendors: Vendors, params: dict[str, str]
) -> None:
    response = world.api("viewer").get(ACME, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()), response.json()


def test_the_list_costs_the_same_queries_for_few_or_many_reviewed_vendors(
    world: World, today: dt.date
) -> None:
    client = world.api("admin")

    def queries(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(ACME, params)
            assert response.status_code == 200
        return len(captured.captured_queries)

    def add(count: int) -> None:
        """Vendors with two reviews each; every third one high tier and overdue."""
        for i in range(count):
            overdue = i % 3 == 0
            vendor = VendorFactory(
                organization=world.org,
                owner=world.users["owner" if i % 2 else "member"],
                risk_tier=RiskTier.HIGH if overdue else RiskTier.MEDIUM,
                onboarded_on=today - dt.timedelta(days=1200),
            )
            for days in (400 + i, 800 + i) if overdue else (30 + i, 400 + i):
                ReviewFactory(vendor=vendor, reviewed_on=today - dt.timedelta(days=days))

    add(3)
    queries({})  # the first request loads the user's memberships once
    few = queries({})
    few_attention = queries({"review_state": "attention"})
    add(30)
    many = queries({})
    many_attention = queries({"review_state": "attention"})
    assert len(client.get(ACME).json()["results"]) == 33
    assert client.get(ACME, {"review_state": "attention"}).json()["count"] == 11
    assert (many, many_attention) == (few, few_attention)
    # A count and a page (or the matches), then the latest reviews of the page in two queries.
    assert max(few, few_attention) <= 4


# --- creating -----------------------------------------------------------------------------------


def test_an_admin_adds_a_vendor(world: World, vendors: Vendors, today: dt.date) -> None:
    owner = world.users["member"]
    response = world.api("admin").post(
        ACME,
        {
            "name": "  Mailjet ",
            "website": "https://mailjet.test",
            "category": "communication",
            "risk_tier": "high",
            "data_access": ["personal_data", "customer_data"],
            "is_subprocessor": True,
            "location": "EU",
            "owner": owner.pk,
            "onboarded_on": str(today + dt.timedelta(days=10)),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    vendor = Vendor.objects.get(pk=body["id"])
    assert (vendor.name, vendor.organization, vendor.owner) == ("Mailjet", world.org, owner)
    assert body["data_access"] == ["customer_data", "personal_data"]  # canonical order
    assert body["owner"] == {"id": owner.pk, "email": "member@acme.test", "name": "Member"}
    assert (body["cadence_months"], body["status"]) == (12, "active")
    # Not reviewed yet, and its onboarding review is due on the day it starts.
    assert body["review"]["state"] == "due_soon"
    assert body["review"]["due"] == str(today + dt.timedelta(days=10))
    event = last_event()
    assert (event.action, event.actor, event.object_id) == (
        "vendor.create",
        world.users["admin"],
        str(vendor.pk),
    )
    assert event.after["owner"] == "member@acme.test"


def test_a_new_vendor_takes_the_defaults(world: World, today: dt.date) -> None:
    response = world.api("admin").post(
        ACME, {"name": "Tiny", "onboarded_on": str(today)}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["category"], body["risk_tier"], body["data_access"]) == ("software", "medium", [])
    assert (body["is_subprocessor"], body["owner"], body["review_every_months"]) == (
        False,
        None,
        None,
    )
    assert body["cadence_months"] == 24


GOOD = {"name": "Newco", "onboarded_on": "2025-01-06"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**GOOD, "name": "cloudHOST"}, "name"),
        ({**GOOD, "name": "  "}, "name"),
        ({"onboarded_on": "2025-01-06"}, "name"),
        ({"name": "Newco"}, "onboarded_on"),
        ({**GOOD, "onboarded_on": "06/01/2025"}, "onboarded_on"),
        ({**GOOD, "website": "not a url"}, "website"),
        ({**GOOD, "data_access": ["customer_data", "secrets"]}, "data_access"),
        ({**GOOD, "data_access": "customer_data"}, "data_access"),
        ({**GOOD, "review_every_months": 99}, "review_every_months"),
        ({**GOOD, "review_every_months": -1}, "review_every_months"),
        ({**GOOD, "risk_tier": "extreme"}, "risk_tier"),
        ({**GOOD, "category": "food"}, "category"),
        ({**GOOD, "owner": "outsider"}, "owner"),
        ({**GOOD, "owner": "viewer"}, "owner"),
        ({**GOOD, "owner": 999999}, "owner"),
        ({**GOOD, "status": "offboarded"}, "status"),
        ({**GOOD, "cadence_months": 3}, "cadence_months"),
        ({**GOOD, "organization": 1}, "organization"),
    ],
)  # fmt: skip
def test_bad_input_on_create_is_a_400_naming_the_field_and_writes_nothing(
    world: World, vendors: Vendors, data: dict[str, Any], field: str
) -> None:
    if isinstance(data.get("owner"), str):
        data = {**data, "owner": world.users[data["owner"]].pk}
    before = (Vendor.objects.count(), AuditEvent.objects.count())

    response = world.api("admin").post(ACME, data, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert (Vendor.objects.count(), AuditEvent.objects.count()) == before


# --- changing -----------------------------------------------------------------------------------


def test_the_owner_keeps_their_vendors_facts_current(world: World, vendors: Vendors) -> None:
    owned = vendors.owned
    response = world.api("owner").patch(
        detail(owned),
        {
            "description": "Hosts production",
            "data_access": ["source_code"],
            "location": "US, EU",
            "category": "infrastructure",
            "website": "https://cloudhost.example",
            "risk_tier": "critical",  # unchanged, so not a manager's change
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["description"], body["data_access"], body["category"]) == (
        "Hosts production",
        ["source_code"],
        "infrastructure",
    )
    assert body["review"]["state"] == "current"
    owned.refresh_from_db()
    assert owned.location == "US, EU"
    event = last_event()
    assert (event.action, event.actor) == ("vendor.update", world.users["owner"])
    assert event.before["description"] == ""
    assert event.after["description"] == "Hosts production"
    assert "risk_tier" not in event.after


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"risk_tier": "low"}, ["risk_tier"]),
        ({"owner": None, "description": "Mine no more"}, ["owner"]),
        ({"name": "Cloudhost Inc", "is_subprocessor": False}, ["is_subprocessor", "name"]),
        ({"review_every_months": 24}, ["review_every_months"]),
        ({"onboarded_on": "2020-01-01"}, ["onboarded_on"]),
    ],
)
def test_an_owner_who_is_not_a_manager_cannot_change_what_managers_decide(
    world: World, vendors: Vendors, data: dict[str, Any], fields: list[str]
) -> None:
    owned = vendors.owned
    before = (row_state(owned), AuditEvent.objects.count())

    response = world.api("owner").patch(detail(owned), data, format="json")

    assert response.status_code == 403
    body = response.json()
    assert body["detail"].startswith("Only vendor managers change ")
    for field in fields:
        assert field.replace("_", " ") in body["detail"]
    assert sorted(set(body) - {"detail"}) == fields
    assert (row_state(owned), AuditEvent.objects.count()) == before


def test_an_admin_changes_tier_owner_and_cadence(world: World, vendors: Vendors) -> None:
    unowned = vendors.unowned
    owner = world.users["owner"]
    response = world.api("admin").patch(
        detail(unowned),
        {"risk_tier": "high", "owner": owner.pk, "review_every_months": 6, "name": "SnackBox"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["risk_tier"], body["owner"]["id"]) == ("SnackBox", "high", owner.pk)
    assert (body["review_every_months"], body["cadence_months"]) == (6, 6)
    event = last_event()
    assert event.action == "vendor.update"
    assert event.after == {
        "name": "SnackBox",
        "risk_tier": "high",
        "owner": "owner@acme.test",
        "review_every_months": 6,
    }

    back = world.api("admin").patch(detail(unowned), {"review_every_months": None}, format="json")
    assert back.json()["cadence_months"] == 12


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "SNACKBOX"}, "name"),
        ({"name": ""}, "name"),
        ({"website": "ftp:/nope"}, "website"),
        ({"data_access": ["everything"]}, "data_access"),
        ({"review_every_months": 99}, "review_every_months"),
        ({"owner": "outsider"}, "owner"),
        ({"status": "offboarded"}, "status"),
        ({"offboarded_on": "2025-01-01"}, "offboarded_on"),
        ({"review": {"state": "current"}}, "review"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_input_on_change_is_a_400_naming_the_field_and_changes_nothing(
    world: World, vendors: Vendors, data: dict[str, Any], field: str
) -> None:
    if data.get("owner") == "outsider":
        data = {"owner": world.users["outsider"].pk}
    owned = vendors.owned
    before = (row_state(owned), AuditEvent.objects.count())

    response = world.api("admin").patch(detail(owned), data, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert (row_state(owned), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("method", ["put", "delete"])
def test_vendors_are_neither_replaced_nor_deleted(
    world: World, vendors: Vendors, method: str
) -> None:
    before = (row_state(vendors.owned), AuditEvent.objects.count())
    response = getattr(world.api("admin"), method)(
        detail(vendors.owned), {"name": "X", "onboarded_on": "2025-01-06"}, format="json"
    )
    assert response.status_code == 405
    assert "detail" in response.json()
    assert (row_state(vendors.owned), AuditEvent.objects.count()) == before


# --- offboarding and reinstating ----------------------------------------------------------------


def test_an_admin_offboards_a_vendor_and_reinstates_it(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    owned = vendors.owned
    client = world.api("admin")

    response = client.post(
        f"{detail(owned)}offboard/",
        {"offboarded_on": str(today), "reason": " Contract ended; data deleted "},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["offboarded_on"]) == ("offboarded", str(today))
    assert body["review"]["state"] == "offboarded"
    assert body["review"]["due"] is None
    event = last_event()
    assert event.action == "vendor.offboard"
    assert event.after["reason"] == "Contract ended; data deleted"

    response = client.post(f"{detail(owned)}reinstate/", format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["offboarded_on"]) == ("active", None)
    assert body["review"]["state"] == "current"  # its reviews still count
    assert last_event().action == "vendor.reinstate"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"offboarded_on": "2025-01-06"}, "reason"),
        ({"offboarded_on": "2025-01-06", "reason": "   "}, "reason"),
        ({"reason": "Ended"}, "offboarded_on"),
        ({"offboarded_on": "1999-01-01", "reason": "Ended"}, "offboarded_on"),
        ({"offboarded_on": "2999-01-01", "reason": "Ends then"}, "offboarded_on"),
        ({"offboarded_on": "2025-01-06", "reason": "Ended", "status": "x"}, "status"),
    ],
)
def test_a_bad_offboarding_is_a_400_naming_the_field(
    world: World, vendors: Vendors, data: dict[str, Any], field: str
) -> None:
    owned = vendors.owned
    before = (row_state(owned), AuditEvent.objects.count())
    response = world.api("admin").post(f"{detail(owned)}offboard/", data, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert (row_state(owned), AuditEvent.objects.count()) == before


def test_offboarding_twice_or_reinstating_an_active_vendor_is_a_400(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    client = world.api("admin")
    unowned = vendors.unowned
    reinstate = client.post(f"{detail(unowned)}reinstate/")
    assert reinstate.status_code == 400
    assert "status" in reinstate.json()
    data = {"offboarded_on": str(today), "reason": "Ended"}
    assert client.post(f"{detail(unowned)}offboard/", data, format="json").status_code == 200
    before = (row_state(unowned), AuditEvent.objects.count())
    again = client.post(f"{detail(unowned)}offboard/", data, format="json")
    assert again.status_code == 400
    assert "status" in again.json()
    assert (row_state(unowned), AuditEvent.objects.count()) == before


# --- reviews ------------------------------------------------------------------------------------


def test_reviews_are_listed_latest_first(world: World, vendors: Vendors, today: dt.date) -> None:
    owned = vendors.owned
    ReviewFactory(vendor=owned, reviewed_on=today - dt.timedelta(days=500), summary="Older")
    ReviewFactory(vendor=vendors.foreign, summary="Globex's review")

    response = world.api("viewer").get(f"{detail(owned)}reviews/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["reviewed_on"] for r in rows] == [
        str(today - dt.timedelta(days=90)),
        str(today - dt.timedelta(days=500)),
    ]
    assert rows[1]["summary"] == "Older"
    assert set(rows[0]) == {
        "id", "vendor", "reviewed_on", "outcome", "summary", "evidence", "recorded_by",
        "recorded_at",
    }  # fmt: skip
    oldest_first = world.api("viewer").get(f"{detail(owned)}reviews/", {"ordering": "reviewed_on"})
    assert oldest_first.json()["results"][0]["summary"] == "Older"
    rejected = world.api("viewer").get(f"{detail(owned)}reviews/", {"outcome": "rejected"})
    assert rejected.json()["count"] == 0


def test_one_review_is_read_by_its_id(world: World, vendors: Vendors, today: dt.date) -> None:
    owned = vendors.owned
    review = owned.reviews.get()
    response = world.api("viewer").get(f"{detail(owned)}reviews/{review.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["vendor"], body["reviewed_on"], body["outcome"]) == (
        review.pk, owned.pk, str(today - dt.timedelta(days=90)), review.outcome,
    )  # fmt: skip
    missing = world.api("viewer").get(f"{detail(owned)}reviews/{review.pk + 1000}/")
    assert missing.status_code == 404


def test_the_owner_records_a_review_with_its_evidence(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    owned = vendors.owned
    report = EvidenceItem.objects.create(
        organization=world.org, title="Cloudhost SOC 2", kind="note", effective_date=today
    )

    response = world.api("owner").post(
        f"{detail(owned)}reviews/",
        {
            "reviewed_on": str(today),
            "outcome": "approved_with_conditions",
            "summary": "SOC 2 Type II read; one exception, compensated by our own MFA.",
            "evidence": report.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    review = VendorReview.objects.get(pk=body["id"])
    assert (review.vendor, review.evidence, review.recorded_by) == (
        owned,
        report,
        world.users["owner"],
    )
    assert body["recorded_by"]["email"] == "owner@acme.test"
    assert (body["vendor"], body["evidence"]) == (owned.pk, report.pk)
    event = last_event()
    assert (event.action, event.object_id) == ("vendor.review", str(owned.pk))
    vendor = world.api("owner").get(detail(owned)).json()
    assert vendor["review"]["last_reviewed_on"] == str(today)
    assert vendor["review"]["last_outcome"] == "approved_with_conditions"


def test_an_admin_records_a_review_of_a_vendor_nobody_owns(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    response = world.api("admin").post(
        f"{detail(vendors.unowned)}reviews/",
        {"reviewed_on": str(today), "outcome": "approved", "summary": "Questionnaire OK."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["evidence"] is None
    vendor = world.api("admin").get(detail(vendors.unowned)).json()
    # Low tier: reviewed once, before onboarding; nothing further is due.
    assert (vendor["review"]["state"], vendor["review"]["due"]) == ("current", None)


REVIEW = {"reviewed_on": "2025-01-06", "outcome": "approved", "summary": "Read the report."}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**REVIEW, "reviewed_on": "future"}, "reviewed_on"),
        ({**REVIEW, "reviewed_on": "yesterday"}, "reviewed_on"),
        ({"outcome": "approved", "summary": "Read."}, "reviewed_on"),
        ({**REVIEW, "outcome": "fine"}, "outcome"),
        ({**REVIEW, "summary": ""}, "summary"),
        ({**REVIEW, "summary": "x" * 5001}, "summary"),
        ({**REVIEW, "evidence": "foreign"}, "evidence"),
        ({**REVIEW, "evidence": 999999}, "evidence"),
        ({**REVIEW, "recorded_by": 1}, "recorded_by"),
        ({**REVIEW, "vendor": 1}, "vendor"),
    ],
)  # fmt: skip
def test_a_bad_review_is_a_400_naming_the_field_and_records_nothing(
    world: World, vendors: Vendors, today: dt.date, data: dict[str, Any], field: str
) -> None:
    if data.get("reviewed_on") == "future":
        data = {**data, "reviewed_on": str(today + dt.timedelta(days=1))}
    if data.get("evidence") == "foreign":
        globex = EvidenceItem.objects.create(
            organization=world.other_org, title="Globex", kind="note", effective_date=today
        )
        data = {**data, "evidence": globex.pk}
    owned = vendors.owned
    before = (row_state(owned), VendorReview.objects.count(), AuditEvent.objects.count())

    response = world.api("owner").post(f"{detail(owned)}reviews/", data, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    after = (row_state(owned), VendorReview.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_an_offboarded_vendor_is_not_reviewed(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    owned = vendors.owned
    vendor_offboard(actor=world.users["admin"], vendor=owned, offboarded_on=today, reason="Ended")
    owned.refresh_from_db()
    assert owned.status == VendorStatus.OFFBOARDED
    before = (VendorReview.objects.count(), AuditEvent.objects.count())

    response = world.api("owner").post(
        f"{detail(owned)}reviews/", {**REVIEW, "reviewed_on": str(today)}, format="json"
    )

    assert response.status_code == 400
    assert "offboarded" in response.json()["non_field_errors"][0]
    assert (VendorReview.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("path", "shown"),
    [("", "owner@acme.test"), ("{pk}/", "owner@acme.test"), ("{pk}/reviews/", "SOC 2 Type II")],
)
def test_the_browsable_api_renders_with_its_forms(
    world: World, vendors: Vendors, path: str, shown: str
) -> None:
    url = ACME + path.format(pk=vendors.owned.pk)
    response = world.api("admin").get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert shown in response.content.decode()


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_vendor_endpoints(world: World) -> None:
    schema = world.api("viewer").get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    vendor = paths["/api/organizations/{org}/vendors/{id}/"]
    assert set(vendor) - {"parameters"} == {"get", "patch"}
    listing = paths["/api/organizations/{org}/vendors/"]
    assert {"get", "post"} <= set(listing)
    filters = {p["name"] for p in listing["get"]["parameters"]}
    assert {"risk_tier", "category", "status", "subprocessor", "owner", "q", "review_state",
            "ordering", "page"} <= filters  # fmt: skip
    assert "post" in paths["/api/organizations/{org}/vendors/{id}/offboard/"]
    assert "post" in paths["/api/organizations/{org}/vendors/{id}/reinstate/"]
    assert {"get", "post"} <= set(paths["/api/organizations/{org}/vendors/{vendor}/reviews/"])
    schemas = schema["components"]["schemas"]
    # The owner is written as an id and read as an object.
    assert schemas["VendorRequest"]["properties"]["owner"]["type"] == "integer"
    assert schemas["Vendor"]["properties"]["owner"]["allOf"] == [
        {"$ref": "#/components/schemas/UserRef"}
    ]


def test_the_whole_schema_validates_without_warnings() -> None:
    # Raises on an invalid OpenAPI document or on any generator warning.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
