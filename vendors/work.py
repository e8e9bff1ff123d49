"""Vendors' part of "My work" (see compliance.work).

A vendor's owner gets each of their vendors whose review is overdue, due within 30 days, never
done or rejected, and each of their vendors' documents to renew (vendors.expiry: expiring within
VENDOR_DOCUMENT_REMINDER_DAYS or expired, not replaced). Vendor managers (admins) also get one
line for the other vendors needing attention, linking to the inventory filtered to them, and one
for the other vendors with documents to renew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Q
from django.urls import reverse

from compliance.models import Organization, User
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, group_of, register_work_source
from people.completion import organization_today
from vendors import expiry
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
    today = organization_today(organization)
    rows = with_status(list(vendors), today)
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
    yield from _document_work(user, organization, today=today, manager=manager, limit=limit)


def _document_work(
    user: User, organization: Organization, *, today: dt.date, manager: bool, limit: int
) -> Iterator[WorkGroup | None]:
    """The user's vendors' documents to renew (at most ``limit`` and their count), and for
    managers one line for the other vendors' (a fixed number of queries)."""
    slug = organization.slug
    documents = expiry.documents_to_renew(organization=organization, today=today)
    theirs = ~Q(vendor__owner=user)  # other owners' and unowned vendors'
    counts = documents.aggregate(
        mine=Count("pk", filter=Q(vendor__owner=user)),
        vendors=Count("vendor", distinct=True, filter=theirs),
        expired=Count("pk", filter=theirs & Q(valid_until__lt=today)),
    )
    items = []
    if counts["mine"]:
        mine = documents.filter(vendor__owner=user).select_related("vendor")
        for document in mine[:limit]:
            assert document.valid_until is not None
            status, tone = expiry.expiry_status(document.valid_until, today)
            items.append(
                WorkItem(
                    kind="Vendor document",
                    title=expiry.renew_title(document),
                    url=expiry.documents_url(slug, document),
                    due=document.valid_until,
                    status=status,
                    tone=tone,
                )
            )
    if items:
        yield WorkGroup(
            title="Vendor documents to renew",
            items=items,
            total=counts["mine"],
            key="vendor_documents",
        )
    if not manager:
        return
    others = counts
    if others["vendors"]:
        count = others["vendors"]
        yield group_of(
            "Other vendors' documents",
            [
                WorkItem(
                    kind="Vendor documents",
                    title=(
                        f"{count} other vendor{'s' if count != 1 else ''} "
                        f"{'have' if count != 1 else 'has'} documents to renew"
                    ),
                    url=reverse("vendor_list", args=[slug]),
                    status="Expired" if others["expired"] else "Expiring soon",
                    tone="bad" if others["expired"] else "warn",
                )
            ],
            limit=limit,
            key="other_vendor_documents",
        )
