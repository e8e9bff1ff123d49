"""Weekly readiness snapshots: each adopted framework's figures frozen once per ISO week, as of
the end of that week in the organization's time zone, so the weekly meeting sees a trend.

A snapshot is computed with :func:`compliance.readiness.readiness_as_of` (the one definition,
judged from the recorded history) plus the organization-wide counts the apps give through
:func:`register_snapshot_source` (evidence due and overdue, tests by outcome, open remediations,
people and vendor items overdue). A fixed number of queries per week, whatever the size of the
organization: one ``readiness_as_of`` serves every framework of the week.

Snapshots are written once (an insert that ignores a row already there, under the unique
constraint organization, framework and week) and never updated: the hourly tick and the
``snapshot_week`` command can both run, twice, at the same time. See docs/readiness.md
("Weekly snapshots").
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from compliance.models import Organization, ReadinessSnapshot
from compliance.readiness import ReadinessAsOf, readiness_as_of
from controls.models import AdoptedFramework, BlockerKind, ControlStatus

# How many weeks back the tick fills snapshots that were missed (the worker was down), and the
# most the command's --backfill accepts.
BACKFILL_WEEKS = 12
MAX_BACKFILL_WEEKS = 520

# The organization-wide counts a snapshot holds, with their labels. Each app's snapshot source
# gives some of them; one no source gives is stored as 0.
COUNTS: dict[str, str] = {
    "evidence_due": "Evidence requests due within a week",
    "evidence_overdue": "Evidence requests overdue",
    "tests_passing": "Automated tests passing",
    "tests_failing": "Automated tests failing",
    "tests_erroring": "Automated tests that could not run",
    "tests_not_run": "Automated tests not run yet",
    "remediations_open": "Open remediations (test findings)",
    "people_overdue": "Personnel items overdue",
    "vendors_overdue": "Vendor reviews overdue",
}


# --- Weeks --------------------------------------------------------------------------------------


def week_monday(day: dt.date) -> dt.date:
    """The Monday of the ISO week holding ``day``."""
    return day - dt.timedelta(days=day.weekday())


def week_end(organization: Organization, monday: dt.date) -> dt.datetime:
    """The end of the week starting ``monday``: Sunday 23:59:59.999999 in the organization's
    time zone (the last instant of the week; a date-granular change such as evidence going stale
    happens at the following midnight and belongs to the next week)."""
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    return dt.datetime.combine(monday + dt.timedelta(days=6), dt.time.max, tzinfo=zone)


def week_label(monday: dt.date) -> str:
    """ISO week notation, e.g. ``2026-W48``."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(value: str) -> dt.date:
    """``2026-W48`` → the Monday of that ISO week. ``ValueError`` with a message for people."""
    match = WEEK_PATTERN.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not an ISO week: use the form 2026-W48.")
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"{value!r} is not a week of that year.") from None


def local_now(organization: Organization, now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organization.time_zone))


def last_completed_week(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    """The Monday of the last week that has ended (in the organization's time zone)."""
    return week_monday(local_now(organization, now).date()) - dt.timedelta(weeks=1)


def latest_due_week(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    """The Monday of the newest week whose snapshot is due: the last completed week once the
    organization's snapshot weekday and hour have come this week, the one before until then."""
    local = local_now(organization, now)
    this_monday = week_monday(local.date())
    due_at = dt.datetime.combine(
        this_monday + dt.timedelta(days=organization.snapshot_weekday),
        dt.time(organization.snapshot_hour),
        tzinfo=local.tzinfo,
    )
    weeks_back = 1 if local >= due_at else 2
    return this_monday - dt.timedelta(weeks=weeks_back)


# --- Sources of organization-wide counts --------------------------------------------------------


class SnapshotSource(Protocol):
    """The figures an app knows as of ``at`` (aware), whose organization-local date is ``on``,
    by name (names from :data:`COUNTS`), in a fixed number of queries."""

    def __call__(
        self, organization: Organization, *, at: dt.datetime, on: dt.date
    ) -> Mapping[str, int]: ...


_SOURCES: list[SnapshotSource] = []


def register_snapshot_source(source: SnapshotSource) -> SnapshotSource:
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def snapshot_counts(organization: Organization, *, at: dt.datetime, on: dt.date) -> dict[str, int]:
    """Every count of :data:`COUNTS` as of ``at`` (0 where no source gives it)."""
    counts = dict.fromkeys(COUNTS, 0)
    for source in _SOURCES:
        for name, value in source(organization, at=at, on=on).items():
            if name not in COUNTS:
                raise ValueError(f"Snapshot source {source!r} gave an unknown count {name!r}.")
            counts[name] += int(value)
    return counts


# --- Computing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    """What one week's computation gives: the readiness then and the organization's counts."""

    readiness: ReadinessAsOf
    counts: dict[str, int]


def week_figures(organization: Organization, monday: dt.date) -> WeekFigures:
    at = week_end(organization, monday)
    readiness = readiness_as_of(organization=organization, at=at)
    return WeekFigures(readiness, snapshot_counts(organization, at=at, on=readiness.on))


def snapshot_rows(
    organization: Organization,
    monday: dt.date,
    *,
    figures: WeekFigures | None = None,
    computed_at: dt.datetime | None = None,
) -> list[ReadinessSnapshot]:
    """Unsaved snapshots of the week starting ``monday``, one per framework adopted by its end."""
    figures = figures or week_figures(organization, monday)
    computed_at = computed_at or timezone.now()
    readiness = figures.readiness
    rows = []
    for framework in readiness.frameworks:
        adoption = framework.adoption
        assert adoption is not None
        control_ids = {c.id for r in framework.requirements for c in r.controls}
        controls = [readiness.controls[pk] for pk in sorted(control_ids)]
        statuses = Counter(c.status for c in controls)
        blocked: Counter[str] = Counter()
        for control in controls:
            for kind in {str(b.kind) for b in control.blockers}:
                blocked[kind] += 1
        owners = readiness.framework_owners.get(adoption.framework_id, [])
        rows.append(
            ReadinessSnapshot(
                organization=organization,
                framework_id=adoption.framework_id,
                week=monday,
                as_of=readiness.at,
                computed_at=computed_at,
                requirements_total=framework.total,
                requirements_ready=framework.ready,
                requirements_gaps=framework.gaps,
                percent=framework.percent,
                categories=[
                    {
                        "code": c.category.code if c.category else "",
                        "name": c.category.name if c.category else "",
                        "total": c.total,
                        "ready": c.ready,
                        "gaps": c.gaps,
                        "percent": c.percent,
                    }
                    for c in framework.categories
                ],
                owners=[
                    {
                        "owner_id": o.owner_id,
                        "name": o.name,
                        "total": o.total,
                        "open": o.open,
                        "overdue": o.overdue,
                    }
                    for o in owners
                ],
                controls_by_status={s.value: statuses.get(s.value, 0) for s in ControlStatus},
                controls_by_blocker={k.value: blocked.get(k.value, 0) for k in BlockerKind},
                counts=dict(figures.counts),
                control_states={
                    str(c.id): [
                        c.status,
                        int(c.ready),
                        ",".join(sorted({str(b.kind) for b in c.blockers})),
                    ]
                    for c in controls
                },
                gap_requirements=sorted(
                    r.requirement.pk for r in framework.requirements if not r.controls
                ),
            )
        )
    return rows


# --- Writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotResult:
    created: int
    existing: int


def _first_week(adoptions: Sequence[AdoptedFramework]) -> dt.date | None:
    """The Monday of the first week with data: the week of the earliest adoption."""
    if not adoptions:
        return None
    organization = adoptions[0].organization
    first = min(a.adopted_at for a in adoptions)
    return week_monday(local_now(organization, first).date())


def _missing(organization: Organization, weeks: Iterable[dt.date]) -> dict[dt.date, int]:
    """For each week, how many frameworks adopted by its end have no snapshot of it yet (two
    queries)."""
    weeks = sorted(set(weeks))
    adoptions = list(
        AdoptedFramework.objects.filter(organization=organization).values_list(
            "framework_id", "adopted_at"
        )
    )
    existing = set(
        ReadinessSnapshot.objects.filter(organization=organization, week__in=weeks).values_list(
            "framework_id", "week"
        )
    )
    missing: dict[dt.date, int] = {}
    for monday in weeks:
        end = week_end(organization, monday)
        count = sum(
            1 for pk, adopted_at in adoptions if adopted_at <= end and (pk, monday) not in existing
        )
        if count:
            missing[monday] = count
    return missing


@transaction.atomic
def snapshots_create(
    *, organization: Organization, weeks: Iterable[dt.date], now: dt.datetime | None = None
) -> SnapshotResult:
    """Create the missing snapshots of these weeks (Mondays), oldest first; a week that has not
    ended yet is refused (``ValueError``). Idempotent: a snapshot already there is left as it
    is, and two runs at once insert each once (the organization row is locked for the run, so
    the second finds the first's rows; the unique constraint backs it up)."""
    now = now or timezone.now()
    wanted = sorted(set(weeks))
    current = week_monday(local_now(organization, now).date())
    future = [w for w in wanted if w >= current]
    if future:
        raise ValueError(f"The week {week_label(future[0])} has not ended yet.")
    Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
    created = 0
    for monday, count in sorted(_missing(organization, wanted).items()):
        # Every framework's row of the week; those already there are skipped by the constraint
        # (under the lock, exactly the ones _missing did not count).
        rows = snapshot_rows(organization, monday, computed_at=now)
        ReadinessSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
        created += count
    total = ReadinessSnapshot.objects.filter(organization=organization, week__in=wanted).count()
    return SnapshotResult(created=created, existing=total - created)


def weeks_to_fill(
    organization: Organization,
    *,
    latest: dt.date,
    count: int = BACKFILL_WEEKS,
) -> list[dt.date]:
    """``latest`` and up to ``count - 1`` weeks before it, not before the week the organization
    adopted its first framework (no data before that)."""
    adoptions = list(
        AdoptedFramework.objects.filter(organization=organization).select_related("organization")
    )
    first = _first_week(adoptions)
    if first is None:
        return []
    weeks = [latest - dt.timedelta(weeks=n) for n in range(count)]
    return sorted(w for w in weeks if w >= first)


def snapshot_due(*, organization: Organization, now: dt.datetime | None = None) -> SnapshotResult:
    """What the hourly tick does for one organization: the snapshots of the newest due week,
    and of up to :data:`BACKFILL_WEEKS` weeks before it that were missed."""
    latest = latest_due_week(organization, now)
    weeks = weeks_to_fill(organization, latest=latest)
    if not weeks:
        return SnapshotResult(0, 0)
    return snapshots_create(organization=organization, weeks=weeks, now=now)


def organizations_due_for_snapshot(now: dt.datetime | None = None) -> list[int]:
    """Organizations missing a snapshot of their newest due week or of one of the
    :data:`BACKFILL_WEEKS` - 1 weeks before it (a framework adopted by the week's end without
    one): three queries, whatever the number of organizations."""
    organizations = list(
        Organization.objects.filter(adopted_frameworks__isnull=False)
        .distinct()
        .only("pk", "time_zone", "snapshot_weekday", "snapshot_hour")
    )
    windows = {
        o.pk: [latest_due_week(o, now) - dt.timedelta(weeks=n) for n in range(BACKFILL_WEEKS)]
        for o in organizations
    }
    adoptions: dict[int, list[tuple[int, dt.datetime]]] = {}
    for org_id, framework_id, adopted_at in AdoptedFramework.objects.filter(
        organization_id__in=list(windows)
    ).values_list("organization_id", "framework_id", "adopted_at"):
        adoptions.setdefault(org_id, []).append((framework_id, adopted_at))
    oldest = min((w[-1] for w in windows.values()), default=None)
    existing = set(
        ReadinessSnapshot.objects.filter(
            organization_id__in=list(windows), week__gte=oldest
        ).values_list("organization_id", "framework_id", "week")
        if oldest
        else []
    )
    due = []
    for organization in organizations:
        first = _first_week_of(organization, adoptions.get(organization.pk, []))
        if any(
            adopted_at <= week_end(organization, monday)
            and (organization.pk, framework_id, monday) not in existing
            for monday in windows[organization.pk]
            if first is not None and monday >= first
            for framework_id, adopted_at in adoptions.get(organization.pk, [])
        ):
            due.append(organization.pk)
    return due


def _first_week_of(
    organization: Organization, adoptions: Sequence[tuple[int, dt.datetime]]
) -> dt.date | None:
    if not adoptions:
        return None
    return week_monday(local_now(organization, min(a for _, a in adoptions)).date())
