"""The daily pass rate of an organization's test runs, read from one row per closed day.

Counting every run of a two-week window costs what the window holds (a year of hourly tests on
2,000 controls finishes 48,000 runs a day), so each closed local day (before the organization's
today) is rolled up once into a :class:`~controls.models.TestRunDay` by the hourly
``test_runs_roll_up`` beat job, and only today is counted from the runs. A closed day the job
has not reached yet (it runs hourly; the worker may be down) is counted from the runs on the
page, never written there: pages read, the job writes.

A day is the organization's local day of the run's ``finished_at``. Every run counts, whatever
has happened to its test since (disabled, its control archived): the trend is what ran.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from compliance.models import Organization
from controls.models import RunStatus, TestRun, TestRunDay

# How far back the job keeps days rolled up: the dashboard's two weeks, with room to spare.
ROLL_UP_DAYS = 31


@dataclass(frozen=True)
class DayCounts:
    total: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0


def local_today(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    return (now or timezone.now()).astimezone(zone).date()


def _midnight(day: dt.date, organization: Organization) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def runs_by_day(
    organization: Organization, first: dt.date, last: dt.date
) -> dict[dt.date, DayCounts]:
    """The organization's finished runs of the local days ``first`` to ``last`` (both
    included), by day: one grouped query over the runs of that span, read from the
    ``test_run_org_finished`` index alone."""
    rows = (
        TestRun.objects.filter(
            organization=organization,
            finished_at__gte=_midnight(first, organization),
            finished_at__lt=_midnight(last + dt.timedelta(days=1), organization),
            status__in=[RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR],
        )
        .annotate(day=TruncDate("finished_at", tzinfo=zoneinfo.ZoneInfo(organization.time_zone)))
        .values("day")
        .annotate(
            total=Count("pk"),
            passed=Count("pk", filter=Q(status=RunStatus.PASSED)),
            failed=Count("pk", filter=Q(status=RunStatus.FAILED)),
            errored=Count("pk", filter=Q(status=RunStatus.ERROR)),
        )
        .order_by()
    )
    return {
        row["day"]: DayCounts(row["total"], row["passed"], row["failed"], row["errored"])
        for row in rows
    }


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def daily_counts(
    organization: Organization, *, days: int, today: dt.date | None = None
) -> list[tuple[dt.date, DayCounts]]:
    """The last ``days`` local days (today included), oldest first: closed days from their
    rolled-up rows (those not rolled up yet counted from the runs, in one query), today from
    the runs. Two queries when every closed day is rolled up, three otherwise."""
    today = today or local_today(organization)
    first = today - dt.timedelta(days=days - 1)
    stored = {
        row.day: DayCounts(row.total, row.passed, row.failed, row.errored)
        for row in TestRunDay.objects.filter(
            organization=organization, day__gte=first, day__lt=today
        )
    }
    missing = [day for day in _days(first, today - dt.timedelta(days=1)) if day not in stored]
    counted = runs_by_day(organization, missing[0], missing[-1]) if missing else {}
    counted_today = runs_by_day(organization, today, today)
    result = []
    for day in _days(first, today):
        if day == today:
            result.append((day, counted_today.get(day, DayCounts())))
        elif day in stored:
            result.append((day, stored[day]))
        else:
            result.append((day, counted.get(day, DayCounts())))
    return result


def roll_up(organization: Organization, *, now: dt.datetime | None = None) -> int:
    """Store the organization's closed days of the last ``ROLL_UP_DAYS`` that have no row yet
    (idempotent: a day is written once). Returns how many days it stored."""
    today = local_today(organization, now)
    first = today - dt.timedelta(days=ROLL_UP_DAYS)
    last = today - dt.timedelta(days=1)
    have = set(
        TestRunDay.objects.filter(
            organization=organization, day__gte=first, day__lte=last
        ).values_list("day", flat=True)
    )
    missing = [day for day in _days(first, last) if day not in have]
    if not missing:
        return 0
    counted = runs_by_day(organization, missing[0], missing[-1])
    stamp = timezone.now()
    created = TestRunDay.objects.bulk_create(
        [
            TestRunDay(
                organization=organization,
                day=day,
                total=counted.get(day, DayCounts()).total,
                passed=counted.get(day, DayCounts()).passed,
                failed=counted.get(day, DayCounts()).failed,
                errored=counted.get(day, DayCounts()).errored,
                computed_at=stamp,
            )
            for day in missing
        ],
        ignore_conflicts=True,  # a concurrent pass stored it first: same figures
    )
    return len(created)


def roll_up_all(*, now: dt.datetime | None = None) -> int:
    """Every organization's missing closed days (the hourly beat job)."""
    return sum(roll_up(organization, now=now) for organization in Organization.objects.all())
