"""The demo's calendar: Northwind's SOC 2 program began on the Monday ten weeks before this one
(in the organization's time zone), so the demo holds ten completed weeks of history and the
current week so far.

Week 0 is the kick-off week, week 9 the last completed one, week 10 the current one. Each app's
demo step places its facts on these weeks. Services that take an explicit time get it; rows of
services that stamp "now" themselves are re-dated right after the call with :func:`stamped`, the
one place each demo step does that. Nothing is dated after now.

Kept apart from ``compliance/demo.py`` so that the apps' demo steps can import it without an
import circle (that module imports them).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from compliance.models import Organization

WEEKS = 10  # completed weeks of history


@dataclass(frozen=True)
class Timeline:
    zone: zoneinfo.ZoneInfo
    now: dt.datetime
    start: dt.date  # the kick-off Monday

    @classmethod
    def of(cls, organization: Organization, now: dt.datetime | None = None) -> Timeline:
        now = now or timezone.now()
        zone = zoneinfo.ZoneInfo(organization.time_zone)
        today = now.astimezone(zone).date()
        this_monday = today - dt.timedelta(days=today.weekday())
        return cls(zone=zone, now=now, start=this_monday - dt.timedelta(weeks=WEEKS))

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()

    def day(self, week: int, weekday: int = 0) -> dt.date:
        """The date of ``weekday`` (0 = Monday) in program week ``week`` (may be a future one:
        a due or target date)."""
        return self.start + dt.timedelta(weeks=week, days=weekday)

    def at(self, week: int, weekday: int = 0, hour: int = 9, minute: int = 0) -> dt.datetime:
        """A local moment in program week ``week``; a moment not come yet is now."""
        day = self.start + dt.timedelta(weeks=week, days=weekday)
        return self.on(day, hour, minute)

    def on(self, day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
        """A local moment on ``day``; a moment not come yet is now."""
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)
        return min(moment, self.now)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.zone)

    def week_of(self, day: dt.date) -> int:
        return (day - self.start).days // 7


@contextmanager
def stamped(moment: dt.datetime, *targets: tuple[QuerySet, str]) -> Iterator[None]:
    """Re-date the rows the block creates: for each ``(queryset, field)``, the rows whose
    ``field`` the block set to "now" get ``moment`` instead (a moment in the past)."""
    mark = timezone.now()
    yield
    for queryset, field in targets:
        queryset.filter(**{f"{field}__gte": mark}).update(**{field: moment})
