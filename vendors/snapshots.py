"""Vendors' part of the weekly readiness snapshot (see compliance.snapshots): how many vendors
needed attention at the week's end (review overdue, never reviewed though due, or rejected at
their latest review), as the inventory and My work judge them today."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Q, Subquery

from compliance.models import Organization
from compliance.snapshots import register_snapshot_source
from vendors.models import Vendor, VendorReview, VendorStatus
from vendors.reviews import review_status


@register_snapshot_source
def vendor_snapshot_counts(
    organization: Organization, *, at: dt.datetime, on: dt.date
) -> dict[str, int]:
    """Vendors created by ``at`` and serving on ``on`` (not offboarded by then), judged with
    their latest review recorded by ``at`` and dated on or before ``on``. Two queries."""
    latest = (
        VendorReview.objects.filter(
            vendor_id=OuterRef("pk"), recorded_at__lte=at, reviewed_on__lte=on
        )
        .order_by("-reviewed_on", "-pk")
        .values("pk")[:1]
    )
    vendors = list(
        Vendor.objects.filter(
            Q(offboarded_on__isnull=True) | Q(offboarded_on__gt=on),
            organization=organization,
            created_at__lte=at,
        )
        .annotate(latest_review=Subquery(latest))
        .only("pk", "status", "onboarded_on", "offboarded_on", "review_every_months", "risk_tier")
    )
    reviews = {
        review.pk: review
        for review in VendorReview.objects.filter(
            pk__in=[v.latest_review for v in vendors if v.latest_review]
        ).only("id", "vendor_id", "reviewed_on", "outcome")
    }
    overdue = 0
    for vendor in vendors:
        vendor.status = VendorStatus.ACTIVE  # it was serving then, whatever it is now
        review = reviews.get(vendor.latest_review)
        overdue += review_status(vendor, review, on).is_problem
    return {"vendors_overdue": overdue}
