"""The weekly meeting's part of "My work" (see compliance.work): the user's open action items,
soonest due first, each linking to its row on the weekly page (two queries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse
from django.utils import timezone

from compliance.meetings import selectors
from compliance.meetings.weeks import local_date
from compliance.models import Organization, User
from compliance.permissions import Capability, has_capability, membership_for
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, register_work_source

DUE_SOON_DAYS = 3


def _state(due: dt.date, today: dt.date) -> tuple[str, str]:
    if due < today:
        return "Overdue", "bad"
    if due <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return "Due soon", "warn"
    return "Open", "muted"


@register_work_source
def action_item_work(
    user: User, organization: Organization, *, limit: int = GROUP_LIMIT
) -> Iterator[WorkGroup]:
    if not has_capability(membership_for(user, organization), Capability.VIEW_PROGRAM):
        return
    today = local_date(organization, timezone.now())
    mine = selectors.open_items_of(user=user, organization=organization)
    weekly = reverse("weekly", args=[organization.slug])
    listed = f"{weekly}?owner=me&status=open"
    items = []
    for item in mine[:limit]:
        status, tone = _state(item.due_on, today)
        items.append(
            WorkItem(
                kind="Action item",
                title=item.title,
                # The owner's items, open first: the row stays in view once marked done.
                url=f"{weekly}?owner=me#action-item-{item.pk}",
                due=item.due_on,
                status=status,
                tone=tone,
            )
        )
    yield WorkGroup(
        key="action_items",
        title="Action items",
        items=items,
        total=mine.count(),
        all_url=listed,
        all_label="of your open action items",
    )
