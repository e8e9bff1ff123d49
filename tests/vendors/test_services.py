"""The vendor services: validation, the manager-only fields, offboarding, reviews, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from compliance.models import AuditEvent
from evidence.models import EvidenceItem
from tests.conftest import World
from tests.vendors.conftest import Vendors
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors import selectors
from vendors.models import ReviewOutcome, RiskTier, Vendor, VendorReview, VendorStatus
from vendors.selectors import latest_reviews
from vendors.services import (
    vendor_create,
    vendor_offboard,
    vendor_reinstate,
    vendor_review_record,
    vendor_update,
)

START = dt.date(2025, 3, 3)


def create(world: World, **kwargs: Any) -> Vendor:
    values: dict[str, Any] = {"name": "Cloudhost", "onboarded_on": START}
    values.update(kwargs)
    return vendor_create(actor=world.users["admin"], organization=world.org, **values)


def errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_creating_a_vendor_stores_it_and_records_an_audit_event(world: World) -> None:
    vendor = create(
        world,
        name="  Cloudhost ",
        risk_tier=RiskTier.CRITICAL,
        data_access=["production_access", "customer_data"],
        owner=world.users["owner"],
        is_subprocessor=True,
    )
    assert vendor.name == "Cloudhost"
    # Stored in the canonical order whatever order they were given in.
    assert vendor.data_access == ["customer_data", "production_access"]
    event = AuditEvent.objects.get(action="vendor.create")
    assert event.after["owner"] == "owner@acme.test"
    assert event.after["risk_tier"] == "critical"
    assert event.actor == world.users["admin"]


def test_a_name_already_in_the_inventory_is_refused_whatever_its_case(world: World) -> None:
    create(world)
    with pytest.raises(ValidationError) as exc:
        create(world, name="CLOUDHOST")
    assert "already in the inventory" in errors(exc)["name"][0]
    assert Vendor.objects.count() == 1
    # Another organization may use the name.
    vendor_create(
        actor=world.users["outsider"], organization=world.other_org, name="Cloudhost",
        onboarded_on=START,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "Enter the vendor's name."),
        ("website", "not a url", "Enter a valid URL."),
        ("risk_tier", "extreme", "not a valid choice"),
        ("category", "toys", "not a valid choice"),
        ("data_access", ["customer_data", "secrets"], "Unknown: secrets"),
        ("data_access", "customer_data", "Give a list"),
        ("review_every_months", 99, "Use 0 (reviewed once) to 60 months"),
    ],
)
def test_bad_values_are_refused_with_the_field_named_and_nothing_is_written(
    world: World, audit_count: Any, field: str, value: Any, message: str
) -> None:
    before = audit_count()
    with pytest.raises(ValidationError) as exc:
        create(world, **{field: value})
    assert any(message in m for m in errors(exc)[field]), errors(exc)
    assert not Vendor.objects.exists()
    assert audit_count() == before


def test_the_owner_must_be_an_admin_or_member_of_the_organization(world: World) -> None:
    for persona in ("viewer", "auditor", "outsider"):
        with pytest.raises(ValidationError) as exc:
            create(world, owner=world.users[persona])
        assert errors(exc)["owner"] == ["Choose an admin or member of this organization."]
    assert create(world, owner=world.users["member"]).owner == world.users["member"]


def test_updates_record_only_what_changed(world: World, vendors: Vendors) -> None:
    vendor_update(
        actor=world.users["admin"],
        vendor=vendors.owned,
        changes={"location": "EU", "description": "Hosting", "risk_tier": RiskTier.CRITICAL},
    )
    event = AuditEvent.objects.get(action="vendor.update")
    assert event.before == {"location": "", "description": ""}
    assert event.after == {"location": "EU", "description": "Hosting"}


def test_the_owner_keeps_the_facts_current_but_not_the_tier_owner_or_cadence(
    world: World, vendors: Vendors, audit_count: Any
) -> None:
    owner = world.users["owner"]
    vendor_update(actor=owner, vendor=vendors.owned, changes={"location": "US, EU"})
    vendors.owned.refresh_from_db()
    assert vendors.owned.location == "US, EU"

    before = audit_count()
    for changes in (
        {"risk_tier": RiskTier.LOW},
        {"owner": None},
        {"review_every_months": 36},
        {"is_subprocessor": False},
        {"name": "Renamed"},
        {"location": "APAC", "risk_tier": RiskTier.MEDIUM},
    ):
        with pytest.raises(PermissionDenied) as exc:
            vendor_update(actor=owner, vendor=vendors.owned, changes=changes)  # type: ignore[arg-type]
        assert str(exc.value).startswith("Only vendor managers change")
    vendors.owned.refresh_from_db()
    assert (vendors.owned.risk_tier, vendors.owned.location) == (RiskTier.CRITICAL, "US, EU")
    assert audit_count() == before
    # Sending a manager field unchanged (as a full form does) is fine.
    vendor_update(
        actor=owner,
        vendor=vendors.owned,
        changes={"risk_tier": RiskTier.CRITICAL, "location": "US"},
    )


def test_unknown_fields_cannot_be_changed(world: World, vendors: Vendors) -> None:
    with pytest.raises(ValidationError) as exc:
        vendor_update(
            actor=world.users["admin"],
            vendor=vendors.owned,
            changes={"status": "offboarded"},  # type: ignore[typeddict-unknown-key]
        )
    assert errors(exc) == {"status": ["This field cannot be changed."]}


def test_offboarding_needs_a_reason_and_a_date_between_onboarding_and_today(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    admin, vendor = world.users["admin"], vendors.unowned
    with pytest.raises(ValidationError) as exc:
        vendor_offboard(
            actor=admin, vendor=vendor, offboarded_on=vendor.onboarded_on - dt.timedelta(days=1),
            reason=" ",
        )  # fmt: skip
    assert set(errors(exc)) == {"offboarded_on", "reason"}
    vendor.refresh_from_db()
    assert vendor.status == VendorStatus.ACTIVE
    with pytest.raises(ValidationError) as exc:
        vendor_offboard(
            actor=admin, vendor=vendor, offboarded_on=today + dt.timedelta(days=1), reason="Ends"
        )
    assert errors(exc) == {
        "offboarded_on": [
            "The offboarding date cannot be in the future: offboard the vendor on its last day."
        ]
    }
    vendor.refresh_from_db()
    assert (vendor.status, vendor.offboarded_on) == (VendorStatus.ACTIVE, None)

    vendor_offboard(actor=admin, vendor=vendor, offboarded_on=today, reason="Contract ended")
    vendor.refresh_from_db()
    assert (vendor.status, vendor.offboarded_on) == (VendorStatus.OFFBOARDED, today)
    assert AuditEvent.objects.get(action="vendor.offboard").after["reason"] == "Contract ended"
    with pytest.raises(ValidationError):
        vendor_offboard(actor=admin, vendor=vendor, offboarded_on=today, reason="Again")

    vendor_reinstate(actor=admin, vendor=vendor)
    vendor.refresh_from_db()
    assert (vendor.status, vendor.offboarded_on) == (VendorStatus.ACTIVE, None)
    with pytest.raises(ValidationError):
        vendor_reinstate(actor=admin, vendor=vendor)


def record(world: World, vendor: Vendor, today: dt.date, **kwargs: Any) -> VendorReview:
    values: dict[str, Any] = {
        "reviewed_on": today,
        "outcome": ReviewOutcome.APPROVED,
        "summary": "SOC 2 Type II read; two exceptions, both with CUECs we operate.",
    }
    values.update(kwargs)
    return vendor_review_record(actor=world.users["owner"], vendor=vendor, today=today, **values)


def test_a_review_becomes_the_latest_and_is_audited(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    evidence = EvidenceItem.objects.create(
        organization=world.org, title="Cloudhost SOC 2 report", kind="file",
        effective_date=today,
    )  # fmt: skip
    review = record(world, vendors.owned, today, evidence=evidence)
    assert latest_reviews([vendors.owned])[vendors.owned.pk] == review
    event = AuditEvent.objects.get(action="vendor.review")
    assert event.after["outcome"] == "approved"
    assert event.after["evidence"] == evidence.pk
    assert event.actor == world.users["owner"]


def test_the_latest_review_is_the_latest_by_date_not_by_entry(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    newest = record(world, vendors.unowned, today - dt.timedelta(days=1))
    record(world, vendors.unowned, today - dt.timedelta(days=30))  # entered late
    assert latest_reviews([vendors.unowned])[vendors.unowned.pk] == newest


@pytest.mark.parametrize("ids_limit", [500, 1])  # by a list of ids, or by organization
def test_latest_reviews_answer_for_the_vendors_asked_only(
    world: World, vendors: Vendors, today: dt.date, monkeypatch: pytest.MonkeyPatch, ids_limit: int
) -> None:
    monkeypatch.setattr(selectors, "IDS_LIMIT", ids_limit)
    owned = record(world, vendors.owned, today - dt.timedelta(days=3))
    unowned = record(world, vendors.unowned, today - dt.timedelta(days=2))
    record(world, vendors.unowned, today - dt.timedelta(days=9))
    elsewhere = VendorFactory(organization=world.other_org)
    ReviewFactory(vendor=elsewhere, reviewed_on=today)
    latest = latest_reviews([vendors.owned, vendors.unowned])
    assert latest == {vendors.owned.pk: owned, vendors.unowned.pk: unowned}
    assert latest_reviews([vendors.owned]) == {vendors.owned.pk: owned}
    assert latest_reviews([]) == {}


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"reviewed_on_days": 1}, "reviewed_on", "cannot be dated in the future"),
        ({"outcome": "fine"}, "outcome", "not a valid choice"),
        ({"summary": "  "}, "summary", "Say what was reviewed"),
    ],
)
def test_bad_reviews_are_refused_and_nothing_is_written(
    world: World, vendors: Vendors, today: dt.date, audit_count: Any,
    kwargs: dict[str, Any], field: str, message: str,
) -> None:  # fmt: skip
    before = audit_count()
    days = kwargs.pop("reviewed_on_days", 0)
    with pytest.raises(ValidationError) as exc:
        record(world, vendors.unowned, today, reviewed_on=today + dt.timedelta(days=days), **kwargs)
    assert any(message in m for m in errors(exc)[field]), errors(exc)
    assert not VendorReview.objects.filter(vendor=vendors.unowned).exists()
    assert audit_count() == before


def test_a_review_cannot_point_to_another_organizations_evidence(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    foreign = EvidenceItem.objects.create(
        organization=world.other_org, title="Globex memo", kind="note", effective_date=today
    )
    with pytest.raises(ValidationError) as exc:
        record(world, vendors.owned, today, evidence=foreign)
    assert errors(exc)["evidence"] == ["Choose evidence of this organization."]


def test_an_offboarded_vendor_takes_no_review(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    vendor_offboard(
        actor=world.users["admin"], vendor=vendors.unowned, offboarded_on=today, reason="Ended"
    )
    with pytest.raises(ValidationError) as exc:
        record(world, vendors.unowned, today)
    assert "reinstate it" in errors(exc)["__all__"][0]
