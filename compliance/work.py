""" "My work": what is the signed-in person's to do, gathered from every app.

Each app registers a source that lists its items for one user in one organization (a fixed
number of queries); the page sorts them soonest due first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from compliance.models import Organization, User


@dataclass(frozen=True)
class WorkItem:
    kind: str  # e.g. "Evidence request", "Policy to acknowledge"
    title: str
    url: str
    due: dt.date | None = None
    status: str = ""
    tone: str = "muted"  # ok | warn | bad | info | muted (the badge colour)


WorkSource = Callable[[User, Organization], Iterable[WorkItem]]
_SOURCES: list[WorkSource] = []


def register_work_source(source: WorkSource) -> WorkSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def work_items(*, user: User, organization: Organization) -> list[WorkItem]:
    items = [item for source in _SOURCES for item in source(user, organization)]
    return sorted(items, key=lambda i: (i.due is None, i.due or dt.date.max, i.kind, i.title))
