"""Vendors' part of "My work" (see compliance.work).

A vendor's owner gets each of their vendors whose review is overdue, due within 30 days, never
done or rejected. Vendor managers (admins) also get one line for the other vendors needing
attention, linking to the inventory filtered to them.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse

from compliance.models import Organization, User
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, group_of, register_work_source
from people.completion import organization_today
from vendors.models import Vendor, VendorStatus
from vendors.reviews import ReviewState
from vendors.selectors import with_status
from vendors.services import may_manage


@register_work_source
def vendor_work(
    user: User, organization: Organization, *, limit: int = GROUP_LIMIT
) -> Iterator[WorkGroup | None]:
    manager = may_manage(user, organization)
    vendors = Vendor.objects.filter(organization=organization, status=VendorStatus.ACTIVE)
    if not manager:
        vendors = vendors.filter(owner=user)
    rows = with_status(list(vendors), organization_today(organization))
    slug = organization.slug
    others = 0
    own: list[WorkItem] = []
    for row in rows:
        state = row.status.state
        if row.vendor.owner_id != user.pk:
            others += row.status.is_problem
            continue
        if state not in (ReviewState.DUE_SOON,) and not row.status.is_problem:
            continue
        tier = row.vendor.get_risk_tier_display().lower()
        own.append(
            WorkItem(
                kind="Vendor review",
                title=f"Review {row.vendor.name} ({tier} tier)",
                url=reverse("vendor_detail", args=[slug, row.vendor.pk]),
                due=row.status.due,
                status=row.status.label,
                tone=row.status.tone,
            )
        )
    vendor_list = reverse("vendor_list", args=[slug])
    yield group_of(
        "Vendor reviews",
        own,
        limit=limit,
        all_url=f"{vendor_list}?owner=me&review=action",
        all_label="of your vendors to review",
        key="vendor_reviews",
    )
    if manager and others:
        yield group_of(
            "Other vendors",
            [
                WorkItem(
                    kind="Vendor reviews",
                    title=f"{others} other vendor{'s' if others != 1 else ''} need attention",
                    url=f"{vendor_list}?review=attention",
                    status="Overdue",
                    tone="bad",
                )
            ],
            limit=limit,
            key="other_vendors",
        )
