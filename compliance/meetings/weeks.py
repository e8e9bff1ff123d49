"""Weeks of the weekly meeting: ISO weeks, Monday to Sunday, in the organization's time zone.

A week is named as ISO 8601 writes it (``2026-W48``) and stored as the date of its Monday. It
begins at 00:00 on that Monday in the organization's time zone and ends, exclusive, at 00:00 on
the next Monday there: the same instant can fall in week 48 in Berlin and in week 47 in New York.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from compliance.models import Organization

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{1,2})$")
EXAMPLE = "2026-W48"
# Weeks outside these years are refused rather than computed (a typo, not a meeting).
FIRST_YEAR, LAST_YEAR = 2000, 2999
EN_DASH = "\u2013"


def organization_zone(organization: Organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@dataclass(frozen=True, order=True)
class Week:
    start: dt.date  # a Monday

    def __post_init__(self) -> None:
        if self.start.isoweekday() != 1:
            raise ValueError(f"A week starts on a Monday, not on {self.start:%A %Y-%m-%d}.")

    @classmethod
    def of(cls, day: dt.date) -> Week:
        """The week ``day`` falls in."""
        return cls(day - dt.timedelta(days=day.isoweekday() - 1))

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W48`` → that week; ``ValueError`` with a message for people otherwise."""
        cleaned = (text or "").strip().upper()
        match = WEEK_PATTERN.match(cleaned)
        if match is None:
            raise ValueError(f"Give a week as year and week number, like {EXAMPLE}.")
        year, number = int(match[1]), int(match[2])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"Give a year from {FIRST_YEAR} to {LAST_YEAR}.")
        try:
            return cls(dt.date.fromisocalendar(year, number, 1))
        except ValueError:
            last = dt.date(year, 12, 28).isocalendar().week  # 28 Dec is always in the last week
            raise ValueError(f"{year} has weeks 1 to {last}.") from None

    @property
    def end(self) -> dt.date:
        """The Monday after (exclusive)."""
        return self.start + dt.timedelta(days=7)

    @property
    def last_day(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def year(self) -> int:
        return self.start.isocalendar().year

    @property
    def number(self) -> int:
        return self.start.isocalendar().week

    @property
    def key(self) -> str:
        """How URLs and the API name the week: ``2026-W48``."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def label(self) -> str:
        """For people: ``Week 48, 2026``."""
        return f"Week {self.number}, {self.year}"

    @property
    def span(self) -> str:
        """``23-29 Nov 2026``, or ``28 Dec 2026 - 3 Jan 2027`` across months or years (with
        en dashes)."""
        first, last = self.start, self.last_day
        if first.year != last.year:
            return f"{date_format(first, 'j M Y')} {EN_DASH} {date_format(last, 'j M Y')}"
        if first.month != last.month:
            return f"{date_format(first, 'j M')} {EN_DASH} {date_format(last, 'j M Y')}"
        return f"{first.day}{EN_DASH}{date_format(last, 'j M Y')}"

    def previous(self) -> Week:
        return Week(self.start - dt.timedelta(days=7))

    def next(self) -> Week:
        return Week(self.end)

    def begins_at(self, organization: Organization) -> dt.datetime:
        """00:00 on the Monday, in the organization's time zone."""
        return dt.datetime.combine(self.start, dt.time.min, tzinfo=organization_zone(organization))

    def ends_at(self, organization: Organization) -> dt.datetime:
        """00:00 on the next Monday there: the first instant after the week."""
        return self.next().begins_at(organization)

    def __str__(self) -> str:
        return self.key


def local_date(organization: Organization, moment: dt.datetime) -> dt.date:
    return moment.astimezone(organization_zone(organization)).date()


def week_of(organization: Organization, moment: dt.datetime) -> Week:
    """The week ``moment`` falls in where the organization is."""
    return Week.of(local_date(organization, moment))


def current_week(organization: Organization, now: dt.datetime | None = None) -> Week:
    return week_of(organization, now or timezone.now())
