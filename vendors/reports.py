"""Vendors' section of the gap analysis (compliance.reports.gap): active vendors whose
due-diligence review is overdue, was never done though due, or rejected them, judged by
``vendors.reviews.review_status`` as the inventory and My work judge them. Organization-wide:
vendors map to no framework."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import OuterRef, Subquery

from compliance.permissions import restrict
from compliance.reports.gap import (
    CHUNK,
    GapRow,
    GapScope,
    GapSection,
    owner_name,
    register_gap_section,
)
from vendors.models import Vendor, VendorReview, VendorStatus
from vendors.reviews import review_status


def overdue_vendors(scope: GapScope) -> Iterator[GapRow]:
    """One query: each active vendor with its latest review's date and outcome annotated."""
    latest = VendorReview.objects.filter(vendor_id=OuterRef("pk")).order_by("-reviewed_on", "-pk")
    vendors = (
        restrict(Vendor.objects.all(), scope.user, organization=scope.organization)
        .filter(organization=scope.organization, status=VendorStatus.ACTIVE)
        .annotate(
            latest_pk=Subquery(latest.values("pk")[:1]),
            latest_on=Subquery(latest.values("reviewed_on")[:1]),
            latest_outcome=Subquery(latest.values("outcome")[:1]),
        )
        .select_related("owner")
        .only(
            "pk", "name", "status", "onboarded_on", "offboarded_on", "review_every_months",
            "risk_tier", "owner__full_name", "owner__email",
        )
        .order_by("name", "pk")
    )  # fmt: skip
    for vendor in vendors.iterator(chunk_size=CHUNK):
        review = None
        if vendor.latest_pk is not None:
            review = VendorReview(
                pk=vendor.latest_pk,
                vendor_id=vendor.pk,
                reviewed_on=vendor.latest_on,
                outcome=vendor.latest_outcome,
            )
        status = review_status(vendor, review, scope.today)
        if not status.is_problem:
            continue
        owner = vendor.owner
        yield GapRow(
            vendor.name,
            f"{status.label} ({vendor.get_risk_tier_display()} risk)",
            owner_name(owner.full_name, owner.email) if owner else "",
            status.due,
            scope.link("vendor_detail", vendor.pk),
        )


VENDOR_SECTION = register_gap_section(
    GapSection(
        "vendors",
        "Vendor reviews overdue",
        "Active vendors (of the whole organization) whose due-diligence review is overdue, was "
        "never done though due, or rejected them at their latest review.",
        "Review",
        overdue_vendors,
        organization_wide=True,
    )
)
