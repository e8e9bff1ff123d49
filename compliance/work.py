""" "My work": what is the signed-in person's to do, gathered from every app.

Each app registers a source that yields its groups of items for one user in one organization
(a fixed number of queries however many items there are). A group holds its first ``limit``
items, soonest due first, its total and a link to the list page filtered to exactly those items,
so the page stays the same size whatever the size of the organization.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from compliance.models import Organization, User

# How many items a group shows; the rest are one "All …" link away.
GROUP_LIMIT = 10


@dataclass(frozen=True)
class WorkItem:
    kind: str  # e.g. "Evidence request", "Policy to acknowledge"
    title: str
    url: str
    due: dt.date | None = None
    status: str = ""
    tone: str = "muted"  # ok | warn | bad | info | muted (the badge colour)


@dataclass(frozen=True)
class WorkGroup:
    title: str  # e.g. "Evidence to review"
    items: Sequence[WorkItem]  # the first ``limit``, soonest due first
    total: int  # how many there are in all
    all_url: str = ""  # the list page filtered to exactly these items ("" when there is none)
    all_label: str = ""  # e.g. "evidence to review", read as "All 120 evidence to review"
    key: str = field(default="", compare=False)  # a stable name for tests and the page

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


WorkSource = Callable[..., Iterable[WorkGroup | None]]
_SOURCES: list[WorkSource] = []


def register_work_source(source: WorkSource) -> WorkSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def by_due(items: Iterable[WorkItem]) -> list[WorkItem]:
    return sorted(items, key=lambda i: (i.due is None, i.due or dt.date.max, i.kind, i.title))


def group_of(
    title: str,
    items: Iterable[WorkItem],
    *,
    limit: int,
    all_url: str = "",
    all_label: str = "",
    key: str = "",
) -> WorkGroup | None:
    """A group from items computed in full (few by nature: a handful of requirement kinds, the
    policies of an organization); ``None`` when there are none."""
    ordered = by_due(items)
    if not ordered:
        return None
    return WorkGroup(
        title=title,
        items=ordered[:limit],
        total=len(ordered),
        all_url=all_url,
        all_label=all_label,
        key=key,
    )


def work_groups(
    *, user: User, organization: Organization, limit: int = GROUP_LIMIT
) -> list[WorkGroup]:
    """Every non-empty group, those with something overdue or due soonest first."""
    groups = [
        group
        for source in _SOURCES
        for group in source(user, organization, limit=limit)
        if group is not None and group.total
    ]

    def soonest(group: WorkGroup) -> tuple[bool, dt.date]:
        dues = [i.due for i in group.items if i.due]
        return (not dues, min(dues, default=dt.date.max))

    return sorted(groups, key=soonest)


def work_items(
    *, user: User, organization: Organization, limit: int = GROUP_LIMIT
) -> list[WorkItem]:
    """The items shown on the page, all groups together, soonest due first."""
    groups = work_groups(user=user, organization=organization, limit=limit)
    return by_due(item for group in groups for item in group.items)
