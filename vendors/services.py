"""Writes of the vendor inventory and its reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from compliance.audit import audit_record, changed, snapshot
from compliance.models import Organization, User
from compliance.permissions import Capability, has_capability, membership_for
from controls.services import assignable_owners
from evidence.models import EvidenceItem
from people.completion import organization_today
from vendors.models import (
    Category,
    DataAccess,
    ReviewOutcome,
    RiskTier,
    Vendor,
    VendorReview,
    VendorStatus,
)

VENDOR_FIELDS = (
    "name", "website", "description", "category", "risk_tier", "data_access", "is_subprocessor",
    "location", "owner", "onboarded_on", "review_every_months", "status", "offboarded_on",
)  # fmt: skip
MAX_CADENCE_MONTHS = 60


class VendorChanges(TypedDict, total=False):
    name: str
    website: str
    description: str
    category: str
    risk_tier: str
    data_access: list[str]
    is_subprocessor: bool
    location: str
    owner: User | None
    onboarded_on: dt.date
    review_every_months: int | None


EDITABLE_FIELDS = frozenset(VendorChanges.__annotations__)
# What only vendor managers (admins) change: the tier and cadence decide how often the vendor is
# reviewed, the owner who answers for it, the subprocessor flag what customers are told. A
# member who owns a vendor keeps its other facts current and records its reviews.
MANAGER_FIELDS = frozenset(
    {"name", "risk_tier", "owner", "is_subprocessor", "review_every_months", "onboarded_on"}
)


class ManagerFieldsDenied(PermissionDenied):
    """Someone without Capability.MANAGE_VENDORS tried to change MANAGER_FIELDS; ``fields``
    names them (the API answers with them, the UI shows the message)."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        names = ", ".join(name.replace("_", " ") for name in fields)
        super().__init__(f"Only vendor managers change {names}.")


def may_manage(actor: User, organization: Organization) -> bool:
    return has_capability(membership_for(actor, organization), Capability.MANAGE_VENDORS)


def _clean_text(vendor: Vendor) -> None:
    for name in ("name", "website", "description", "location"):
        setattr(vendor, name, (getattr(vendor, name) or "").strip())


def _validate_vendor(vendor: Vendor) -> None:
    errors: dict[str, list[str]] = {}
    try:
        vendor.full_clean(
            exclude=["organization", "owner"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not vendor.name:
        errors["name"] = ["Enter the vendor's name."]
    if vendor.name and "name" not in errors:
        clash = (
            Vendor.objects.filter(organization_id=vendor.organization_id, name__iexact=vendor.name)
            .exclude(pk=vendor.pk)
            .exists()
        )
        if clash:
            errors["name"] = [f"{vendor.name} is already in the inventory."]
    values = vendor.data_access
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        errors["data_access"] = ["Give a list of kinds of data."]
    else:
        unknown = [v for v in values if v not in DataAccess.values]
        if unknown:
            errors["data_access"] = [
                f"Unknown: {', '.join(unknown)}. Use {', '.join(DataAccess.values)}."
            ]
        else:
            vendor.data_access = [v for v in DataAccess.values if v in values]  # canonical order
    months = vendor.review_every_months
    if months is not None and not 0 <= months <= MAX_CADENCE_MONTHS:
        errors["review_every_months"] = [
            f"Use 0 (reviewed once) to {MAX_CADENCE_MONTHS} months, or leave empty for the tier's."
        ]
    if vendor.owner_id is not None and (
        not assignable_owners(vendor.organization).filter(pk=vendor.owner_id).exists()
    ):
        errors["owner"] = ["Choose an admin or member of this organization."]
    if errors:
        raise ValidationError(errors)


def _vendor_snapshot(vendor: Vendor) -> dict[str, Any]:
    data = snapshot(vendor, VENDOR_FIELDS)
    data["owner"] = vendor.owner.email if vendor.owner_id and vendor.owner else None
    return data


def _save(vendor: Vendor) -> None:
    try:
        with transaction.atomic():
            vendor.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"{vendor.name} is already in the inventory."}) from exc


@transaction.atomic
def vendor_create(
    *,
    actor: User | None,
    organization: Organization,
    name: str,
    onboarded_on: dt.date,
    risk_tier: str = RiskTier.MEDIUM,
    category: str = Category.SOFTWARE,
    website: str = "",
    description: str = "",
    data_access: list[str] | None = None,
    is_subprocessor: bool = False,
    location: str = "",
    owner: User | None = None,
    review_every_months: int | None = None,
) -> Vendor:
    """Add a vendor to the inventory. Its first review is due on the day it is onboarded."""
    vendor = Vendor(
        organization=organization,
        name=name,
        website=website,
        description=description,
        category=category,
        risk_tier=risk_tier,
        data_access=list(data_access) if isinstance(data_access, list) else data_access or [],
        is_subprocessor=is_subprocessor,
        location=location,
        owner=owner,
        onboarded_on=onboarded_on,
        review_every_months=review_every_months,
    )
    _clean_text(vendor)
    _validate_vendor(vendor)
    _save(vendor)
    audit_record(
        actor=actor,
        organization=organization,
        action="vendor.create",
        obj=vendor,
        after=_vendor_snapshot(vendor),
    )
    return vendor


@transaction.atomic
def vendor_update(*, actor: User, vendor: Vendor, changes: VendorChanges) -> Vendor:
    """Change the vendor's facts. Tier, owner, cadence, name, onboarding date and the
    subprocessor flag need Capability.MANAGE_VENDORS (ManagerFieldsDenied otherwise)."""
    changes = VendorChanges(**changes)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    vendor = (
        Vendor.objects.select_for_update(no_key=True, of=("self",))
        .select_related("owner")
        .get(pk=vendor.pk)
    )
    before = _vendor_snapshot(vendor)
    for name, value in changes.items():
        setattr(vendor, name, value)
    _clean_text(vendor)
    restricted = sorted(
        name
        for name in MANAGER_FIELDS & set(changes)
        if _vendor_snapshot(vendor).get(name) != before.get(name)
    )
    if restricted and not may_manage(actor, vendor.organization):
        raise ManagerFieldsDenied(restricted)
    _validate_vendor(vendor)
    _save(vendor)
    old, new = changed(before, _vendor_snapshot(vendor))
    if new or old:
        audit_record(
            actor=actor,
            organization=vendor.organization,
            action="vendor.update",
            obj=vendor,
            before=old,
            after=new,
        )
    return vendor


@transaction.atomic
def vendor_offboard(*, actor: User, vendor: Vendor, offboarded_on: dt.date, reason: str) -> Vendor:
    """The vendor no longer serves us: it leaves reviews, checks and the subprocessor list."""
    vendor = Vendor.objects.select_for_update(no_key=True, of=("self",)).get(pk=vendor.pk)
    if vendor.status == VendorStatus.OFFBOARDED:
        raise ValidationError({"status": f"{vendor.name} is already offboarded."})
    errors: dict[str, list[str]] = {}
    if offboarded_on < vendor.onboarded_on:
        errors["offboarded_on"] = ["The offboarding date cannot be before the onboarding date."]
    elif offboarded_on > organization_today(vendor.organization):
        # An offboarded vendor leaves reviews and checks at once, so a date still to come
        # would make the inventory say something that is not yet true.
        errors["offboarded_on"] = [
            "The offboarding date cannot be in the future: offboard the vendor on its last day."
        ]
    if not reason.strip():
        errors["reason"] = ["Say why (contract ended, replaced by…, data deleted on…)."]
    if errors:
        raise ValidationError(errors)
    vendor.status = VendorStatus.OFFBOARDED
    vendor.offboarded_on = offboarded_on
    vendor.save(update_fields=["status", "offboarded_on", "updated_at"])
    audit_record(
        actor=actor,
        organization=vendor.organization,
        action="vendor.offboard",
        obj=vendor,
        before={"status": VendorStatus.ACTIVE},
        after={"status": vendor.status, "offboarded_on": offboarded_on, "reason": reason.strip()},
    )
    return vendor


@transaction.atomic
def vendor_reinstate(*, actor: User, vendor: Vendor) -> Vendor:
    """An offboarded vendor serves us again (its review dates count from its last review)."""
    vendor = Vendor.objects.select_for_update(no_key=True, of=("self",)).get(pk=vendor.pk)
    if vendor.status == VendorStatus.ACTIVE:
        raise ValidationError({"status": f"{vendor.name} is active."})
    before = {"status": vendor.status, "offboarded_on": vendor.offboarded_on}
    vendor.status = VendorStatus.ACTIVE
    vendor.offboarded_on = None
    vendor.save(update_fields=["status", "offboarded_on", "updated_at"])
    audit_record(
        actor=actor,
        organization=vendor.organization,
        action="vendor.reinstate",
        obj=vendor,
        before=before,
        after={"status": vendor.status},
    )
    return vendor


REVIEW_FIELDS = ("reviewed_on", "outcome", "summary", "evidence")


@transaction.atomic
def vendor_review_record(
    *,
    actor: User | None,
    vendor: Vendor,
    reviewed_on: dt.date,
    outcome: str,
    summary: str,
    today: dt.date,
    evidence: EvidenceItem | None = None,
) -> VendorReview:
    """Record a due-diligence review; the next one is due a cadence after ``reviewed_on``."""
    vendor = Vendor.objects.select_for_update(no_key=True, of=("self",)).get(pk=vendor.pk)
    review = VendorReview(
        vendor=vendor,
        reviewed_on=reviewed_on,
        outcome=outcome,
        summary=(summary or "").strip(),
        evidence=evidence,
        recorded_by=actor,
    )
    errors: dict[str, list[str]] = {}
    try:
        review.full_clean(exclude=["vendor", "evidence", "recorded_by"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not review.summary:
        errors["summary"] = ["Say what was reviewed and what it found."]
    if not vendor.is_active:
        errors.setdefault("__all__", []).append(
            f"{vendor.name} is offboarded; reinstate it before recording a review."
        )
    if isinstance(reviewed_on, dt.date) and reviewed_on > today:
        errors.setdefault("reviewed_on", []).append("A review cannot be dated in the future.")
    if outcome not in ReviewOutcome.values and "outcome" not in errors:
        errors["outcome"] = [f"Use one of: {', '.join(ReviewOutcome.values)}."]
    if evidence is not None and evidence.organization_id != vendor.organization_id:
        errors.setdefault("evidence", []).append("Choose evidence of this organization.")
    if errors:
        raise ValidationError(errors)
    review.save()
    audit_record(
        actor=actor,
        organization=vendor.organization,
        action="vendor.review",
        obj=vendor,
        after=snapshot(review, REVIEW_FIELDS),
    )
    return review
