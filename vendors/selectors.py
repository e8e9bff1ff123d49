"""Reads of the vendor inventory, always through the permission choke point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from compliance.filters import FilterSet
from compliance.models import Organization, User
from compliance.permissions import can, restrict
from controls.services import assignable_owners
from evidence.models import EvidenceItem
from people.completion import organization_today
from vendors.document_selectors import SOC2_FILTERS, filter_by_soc2
from vendors.models import (
    TIER_ORDER,
    Category,
    RiskTier,
    SentQuestionnaire,
    Vendor,
    VendorReview,
    VendorStatus,
)
from vendors.reviews import ReviewState, ReviewStatus, review_status

STATUSES = {"active": "Active", "offboarded": "Offboarded", "all": "All vendors"}
REVIEW_FILTERS = {
    "attention": "Needs attention (overdue, never reviewed, rejected)",
    "action": "Needs attention or due within 30 days",
    **{state.value: state.label for state in ReviewState if state != ReviewState.OFFBOARDED},
}
TIER_RANK = {tier: i for i, tier in enumerate(TIER_ORDER)}
# What the inventory may be sorted by: public name → key of a row. Nothing else is accepted.
SORTS = {
    "name": lambda row: (row.vendor.name.lower(),),
    "tier": lambda row: (TIER_RANK[row.vendor.risk_tier], row.vendor.name.lower()),
    "category": lambda row: (row.vendor.get_category_display(), row.vendor.name.lower()),
    "owner": lambda row: (
        row.vendor.owner is None,
        (row.vendor.owner.display_name if row.vendor.owner else "").lower(),
        row.vendor.name.lower(),
    ),
    "last_review": lambda row: (
        row.status.latest is None,
        row.status.latest.reviewed_on if row.status.latest else dt.date.max,
        row.vendor.name.lower(),
    ),
    "next_due": lambda row: (
        row.status.due is None,
        row.status.due or dt.date.max,
        row.vendor.name.lower(),
    ),
}


@dataclass(frozen=True)
class VendorRow:
    vendor: Vendor
    status: ReviewStatus


def vendor_list(*, user: User, organization: Organization) -> QuerySet[Vendor]:
    return (
        restrict(Vendor.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("owner")
    )


def vendor_get(*, user: User, organization: Organization, pk: Any) -> Vendor:
    vendor = vendor_list(user=user, organization=organization).filter(pk=pk).first()
    if vendor is None:
        raise Http404("No such vendor.")
    return vendor


def vendor_can_change(*, user: User, vendor: Vendor) -> bool:
    return can(user, "change", vendor)


def vendor_reviews(*, user: User, vendor: Vendor) -> QuerySet[VendorReview]:
    return (
        restrict(VendorReview.objects.all(), user, organization=vendor.organization)
        .filter(vendor=vendor)
        .select_related("recorded_by", "evidence")
    )


# Past this many vendors, reviews are narrowed by organization rather than by a list of ids:
# thousands of bound parameters cost more to send and parse than the few extra rows.
IDS_LIMIT = 500


def latest_reviews(vendors: Sequence[Vendor]) -> dict[int, VendorReview]:
    """The latest review of each vendor (by review date), in one query; each holds its date
    and outcome only, as review states and lists need (the summary is loaded on demand)."""
    ids = {vendor.pk for vendor in vendors}
    if not ids:
        return {}
    newest = (
        VendorReview.objects.filter(vendor_id=OuterRef("vendor_id"))
        .order_by("-reviewed_on", "-pk")
        .values("pk")[:1]
    )
    reviews = VendorReview.objects.filter(pk=Subquery(newest))
    if len(ids) > IDS_LIMIT:
        organizations = {vendor.organization_id for vendor in vendors}
        reviews = reviews.filter(vendor__organization_id__in=organizations)
    else:
        reviews = reviews.filter(vendor_id__in=ids)
    reviews = reviews.only("id", "vendor_id", "reviewed_on", "outcome").order_by()
    return {review.vendor_id: review for review in reviews if review.vendor_id in ids}


def with_status(vendors: Sequence[Vendor], today: dt.date) -> list[VendorRow]:
    latest = latest_reviews(vendors)
    return [VendorRow(v, review_status(v, latest.get(v.pk), today)) for v in vendors]


class VendorFilterSet(FilterSet):
    """The inventory's filters that the database answers; review state is filtered afterwards."""

    q = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    risk_tier = django_filters.ChoiceFilter(choices=RiskTier.choices, label="Tier")
    category = django_filters.ChoiceFilter(choices=Category.choices)
    status = django_filters.ChoiceFilter(
        choices=list(STATUSES.items()), method="filter_status", label="Status"
    )
    subprocessor = django_filters.BooleanFilter(field_name="is_subprocessor")
    owner = django_filters.NumberFilter(field_name="owner_id", label="Owner id")
    soc2 = django_filters.ChoiceFilter(
        choices=list(SOC2_FILTERS.items()),
        method="filter_soc2",
        label="SOC 2 report: expired (as the vendor-review check counts it), missing or current",
    )

    class Meta:
        model = Vendor
        fields = ["q", "risk_tier", "category", "status", "subprocessor", "owner", "soc2"]

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def filter_soc2(self, queryset: QuerySet[Vendor], name: str, value: str) -> QuerySet[Vendor]:
        today = self.today
        if today is None:  # the API: the organization of the URL
            organization = getattr(self.request, "organization", None)
            today = organization_today(organization) if organization else timezone.localdate()
        return filter_by_soc2(queryset, value, today)

    def filter_search(self, queryset: QuerySet[Vendor], name: str, value: str) -> QuerySet[Vendor]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(website__icontains=value)
        )

    def filter_status(self, queryset: QuerySet[Vendor], name: str, value: str) -> QuerySet[Vendor]:
        if value in ("", "all"):
            return queryset
        return queryset.filter(status=value)


def filter_rows(rows: list[VendorRow], review: str) -> list[VendorRow]:
    if review == "attention":
        return [row for row in rows if row.status.is_problem]
    if review == "action":  # what "My work" asks a vendor's owner to review
        return [
            row for row in rows if row.status.is_problem or row.status.state == ReviewState.DUE_SOON
        ]
    if review in REVIEW_FILTERS:
        return [row for row in rows if row.status.state == review]
    return rows


def order_rows(rows: list[VendorRow], sort: str | None) -> tuple[list[VendorRow], str]:
    """Sort by a whitelisted ``sort`` (``tier`` or ``-tier``); unknown values sort by name."""
    sort = (sort or "").strip()
    key = sort.lstrip("-")
    if key not in SORTS:
        return sorted(rows, key=SORTS["name"]), "name"
    return sorted(rows, key=SORTS[key], reverse=sort.startswith("-")), sort


@dataclass(frozen=True)
class InventorySummary:
    active: int
    critical: int
    attention: int
    due_soon: int
    subprocessors: int


def summarize(rows: Iterable[VendorRow]) -> InventorySummary:
    active = [row for row in rows if row.vendor.is_active]
    return InventorySummary(
        active=len(active),
        critical=sum(1 for row in active if row.vendor.risk_tier == RiskTier.CRITICAL),
        attention=sum(1 for row in active if row.status.is_problem),
        due_soon=sum(1 for row in active if row.status.state == ReviewState.DUE_SOON),
        subprocessors=sum(1 for row in active if row.vendor.is_subprocessor),
    )


def active_rows(*, user: User, organization: Organization, today: dt.date) -> list[VendorRow]:
    vendors = list(
        vendor_list(user=user, organization=organization).filter(status=VendorStatus.ACTIVE)
    )
    return with_status(vendors, today)


def owner_choices(organization: Organization) -> QuerySet[User]:
    return assignable_owners(organization)


def evidence_choices(*, user: User, organization: Organization) -> QuerySet[EvidenceItem]:
    """Evidence a review may point to: the organization's, as far as the user can see it."""
    return restrict(EvidenceItem.objects.all(), user, organization=organization).filter(
        organization=organization
    )


def vendor_questionnaires(*, user: User, vendor: Vendor) -> QuerySet[SentQuestionnaire]:
    """The questionnaires sent to a vendor the user can see, newest first (without the frozen
    questions' answers: the detail page reads those)."""
    return (
        restrict(SentQuestionnaire.objects.all(), user, organization=vendor.organization)
        .filter(vendor=vendor)
        .select_related("sent_by", "review", "organization")
    )
