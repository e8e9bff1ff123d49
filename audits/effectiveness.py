"""Operating effectiveness over an engagement's window, read-only (issue 12, item 4).

- **Recurring evidence requests** of the scope's controls: the occurrences the schedule expects
  to fall due in the window (evidence.schedule, from each request's first due date) against the
  ones delivered (submitted or accepted, or fulfilled by evidence), and the missing periods named
  in words ("Q2 2026", "March 2026").
- **Recurring controls that no request follows** (weekly to annual): each calendar period of
  their frequency in the window, delivered when evidence of the control is effective in it.
- **Automated tests** of the scope's controls: the schedule's slots in the window against the
  scheduled runs that finished, the share of finished runs that passed, and the failing
  intervals (from a failing run to the next passing one) with the findings opened and the
  exceptions accepted meanwhile (the remediation).

Windows: the Type II period; for a Type I date, the year up to it for requests (what a reviewer
of the design reads) and its 7 days for tests (audits.scope). The current schedule of a test is
used for the whole window (schedule changes are not recorded). Everything is read through the
permission choke point, in a fixed number of queries whatever the number of requests, tests and
runs.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from cronsim import CronSim, CronSimError
from django.db.models import Count, F, Q, Window
from django.db.models.functions import Lag
from django.utils import timezone

from audits import scope
from audits.models import Audit
from compliance.permissions import UserLike, restrict

MAX_CRON_SLOTS = 20_000  # beyond: extrapolated from the slots counted so far
MAX_ROWS = 200  # requests or tests shown (the rest are counted)
DELIVERED = ("submitted", "accepted")
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip


# --- names of periods ------------------------------------------------------------------------


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def period_name(start: dt.date, end: dt.date) -> str:
    """A period in words: a calendar month, quarter, half or year by its name, a week by its
    first day, anything else by its dates."""
    if start.day == 1 and end == _month_end(end):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 1:
            return f"{MONTHS[start.month - 1]} {start.year}"
        if months == 3 and start.month % 3 == 1:
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        if months == 6 and start.month in (1, 7):
            return f"H{1 if start.month == 1 else 2} {start.year}"
        if months == 12 and start.month == 1:
            return str(start.year)
    if (end - start).days == 6:
        return f"the week of {start:%-d %b %Y}"
    if start == end:
        return f"{start:%-d %b %Y}"
    if start.year != end.year:
        return f"{start:%-d %b %Y} to {end:%-d %b %Y}"
    return f"{start:%-d %b} to {end:%-d %b %Y}"


# --- recurring evidence requests ---------------------------------------------------------------


@dataclass
class Due:
    sequence: int
    start: dt.date
    end: dt.date  # the due date
    status: str = "missing"  # missing | open | overdue | rejected | submitted | accepted
    evidence_count: int = 0

    @property
    def name(self) -> str:
        return period_name(self.start, self.end)

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED or self.evidence_count > 0


@dataclass
class RequestRow:
    request: Any
    controls: list[Any]
    dues: list[Due]  # fallen due by today
    upcoming: int = 0  # due later in the window, after today

    @property
    def expected(self) -> int:
        return len(self.dues)

    @property
    def delivered(self) -> int:
        return sum(1 for d in self.dues if d.delivered)

    @property
    def missing(self) -> list[Due]:
        return [d for d in self.dues if not d.delivered]


def expected_dues(request: Any, first: dt.date, last: dt.date) -> list[Due]:
    """The occurrences the schedule has fall due from ``first`` to ``last`` (dates included)."""
    from evidence import schedule
    from evidence.models import Cadence

    if request.cadence in (Cadence.EVENT_DRIVEN, Cadence.ONE_OFF):
        if request.cadence == Cadence.ONE_OFF and first <= request.first_due_date <= last:
            day = request.first_due_date
            return [Due(1, day, day)]
        return []
    dues: list[Due] = []
    sequence = 1
    while True:
        start, end = schedule.period(request.first_due_date, request.cadence, sequence)
        if end > last:
            return dues
        if end >= first:
            dues.append(Due(sequence, start, end))
        sequence += 1


def request_rows(
    *, user: UserLike, audit: Audit, w: scope.Window, today: dt.date
) -> tuple[list[RequestRow], int]:
    """Three queries: the requests, their controls, their occurrences due in the window (up
    to ``today``: later ones are counted as not due yet)."""
    from evidence.models import EvidenceRequest, RequestOccurrence

    first, last = w.days(scope.TYPE_1_REVIEW_DAYS)
    requests = (
        restrict(
            EvidenceRequest.objects.filter(organization=audit.organization),
            user,
            organization=audit.organization,
        )
        .filter(
            pk__in=EvidenceRequest.objects.filter(scope.evidence_requests_q(w)).values("pk"),
            first_due_date__lte=last,
        )
        .exclude(cadence="event_driven")
        .prefetch_related("controls")
        .order_by("title", "pk")
    )
    total = requests.count()
    shown = list(requests[:MAX_ROWS])
    occurrences = (
        RequestOccurrence.objects.filter(
            request__in=[r.pk for r in shown], due_date__gte=first, due_date__lte=last
        )
        .annotate(evidence_count=Count("evidence_items"))
        .values("request_id", "sequence", "status", "evidence_count")
    )
    found = {(o["request_id"], o["sequence"]): o for o in occurrences}
    rows = []
    for request in shown:
        every = expected_dues(request, first, last)
        dues = [d for d in every if d.end <= today]
        for due in dues:
            occurrence = found.get((request.pk, due.sequence))
            if occurrence is not None:
                due.status = occurrence["status"]
                due.evidence_count = occurrence["evidence_count"]
        controls = sorted(
            (c for c in request.controls.all() if c.organization_id == audit.organization_id),
            key=lambda c: c.ref_id,
        )
        rows.append(RequestRow(request, controls, dues, len(every) - len(dues)))
    return rows, total


# --- recurring controls without a request ------------------------------------------------------

CALENDAR_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
PERIODIC = ("weekly", *CALENDAR_MONTHS)


def calendar_periods(
    frequency: str, first: dt.date, last: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The calendar weeks (Monday to Sunday), months, quarters or years overlapping
    [first, last]."""
    from dateutil.relativedelta import relativedelta

    if frequency == "weekly":
        start = first - dt.timedelta(days=first.weekday())
        step: Any = dt.timedelta(days=7)
    else:
        months = CALENDAR_MONTHS[frequency]
        start = first.replace(month=(first.month - 1) // months * months + 1, day=1)
        step = relativedelta(months=months)
    periods = []
    while start <= last:
        following = start + step
        periods.append((start, following - dt.timedelta(days=1)))
        start = following
    return periods


@dataclass
class ControlRow:
    control: Any
    dues: list[Due]
    upcoming: int = 0

    @property
    def expected(self) -> int:
        return len(self.dues)

    @property
    def delivered(self) -> int:
        return sum(1 for d in self.dues if d.delivered)

    @property
    def missing(self) -> list[Due]:
        return [d for d in self.dues if not d.delivered]


def control_rows(
    *, user: UserLike, audit: Audit, w: scope.Window, today: dt.date
) -> tuple[list[ControlRow], int]:
    """Recurring controls of the scope (weekly to annual) that no evidence request follows:
    each calendar period of their frequency in the window, delivered when evidence of the
    control is effective in it (or covers part of it). Two queries."""
    from controls.models import Control
    from evidence.models import EvidenceItem, EvidenceRequest

    first, last = w.days(scope.TYPE_1_REVIEW_DAYS)
    followed = EvidenceRequest.controls.through.objects.filter(
        evidencerequest__organization=audit.organization
    ).values("control_id")
    controls = (
        restrict(
            Control.objects.filter(organization=audit.organization, archived_at__isnull=True),
            user,
            organization=audit.organization,
        )
        .filter(scope.controls_q(w), frequency__in=PERIODIC)
        .exclude(pk__in=followed)
        .order_by("ref_id", "pk")
    )
    shown = list(controls[:MAX_ROWS])
    if not shown:
        return [], 0
    visible = restrict(
        EvidenceItem.objects.filter(organization=audit.organization),
        user,
        organization=audit.organization,
    ).filter(scope.evidence_q(w))
    evidence: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for (
        control_id,
        effective,
        covers_from,
        covers_until,
    ) in EvidenceItem.controls.through.objects.filter(
        control_id__in=[c.pk for c in shown], evidenceitem__in=visible.values("pk")
    ).values_list(
        "control_id",
        "evidenceitem__effective_date",
        "evidenceitem__covers_from",
        "evidenceitem__covers_until",
    ):
        span = (covers_from, covers_until) if covers_from and covers_until else None
        evidence.setdefault(control_id, []).append(span or (effective, effective))
    rows = []
    for control in shown:
        spans = evidence.get(control.pk, [])
        dues, upcoming = [], 0
        for start, end in calendar_periods(control.frequency, first, last):
            start, end = max(start, first), min(end, last)
            if end > today:
                upcoming += 1
                continue
            count = sum(1 for a, b in spans if a <= end and b >= start)
            dues.append(Due(0, start, end, "accepted" if count else "missing", count))
        rows.append(ControlRow(control, dues, upcoming))
    return rows, controls.count() if len(shown) == MAX_ROWS else len(shown)


# --- automated tests ---------------------------------------------------------------------------


def expected_slots(test: Any, since: dt.datetime, until: dt.datetime, zone: str) -> int | None:
    """How many slots the test's schedule has in [since, until) (None: pushed, no schedule)."""
    since = max(since, test.created_at)
    if until <= since or test.schedule_kind == "push":
        return None if test.schedule_kind == "push" else 0
    if test.schedule_kind == "interval":
        step = dt.timedelta(minutes=test.interval_minutes or 60)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return math.ceil((until - epoch) / step) - math.ceil((since - epoch) / step)
    try:
        slots = CronSim(test.cron, since.astimezone(zoneinfo.ZoneInfo(zone)))
    except CronSimError:
        return None
    count = 0
    for slot in slots:
        if slot >= until:
            return count
        count += 1
        if count >= MAX_CRON_SLOTS:
            covered = (slot - since).total_seconds() or 1.0
            return round(count * (until - since).total_seconds() / covered)
    return count


@dataclass
class Interval:
    started: dt.datetime  # the first failing run
    ended: dt.datetime | None  # the next passing run (None: still failing at the window's end)
    findings: list[Any] = field(default_factory=list)
    exceptions: list[Any] = field(default_factory=list)

    @property
    def duration(self) -> dt.timedelta | None:
        return self.ended - self.started if self.ended else None


@dataclass
class TestRow:
    __test__ = False  # not a pytest class

    test: Any
    expected: int | None
    scheduled: int = 0  # scheduled runs that finished
    finished: int = 0  # every finished run (scheduled, run now, pushed)
    passed: int = 0
    failed: int = 0
    errored: int = 0
    intervals: list[Interval] = field(default_factory=list)

    @property
    def ran_share(self) -> float | None:
        if not self.expected:
            return None
        return min(1.0, self.scheduled / self.expected)

    @property
    def pass_share(self) -> float | None:
        return self.passed / self.finished if self.finished else None


def test_rows(
    *, user: UserLike, audit: Audit, w: scope.Window, now: dt.datetime
) -> tuple[list[TestRow], int]:
    """Five queries: the tests, their runs' counts, the runs where the outcome changed, the
    findings opened and the exceptions in force in the window."""
    from controls.models import ControlTest, Finding, TestException, TestRun

    since, until = w.instants(scope.TYPE_1_RUN_DAYS)
    tests = (
        restrict(
            ControlTest.objects.filter(organization=audit.organization),
            user,
            organization=audit.organization,
        )
        .filter(scope.control_tests_q(w), created_at__lt=until)
        .select_related("control")
        .order_by("control__ref_id", "name", "pk")
    )
    total = tests.count()
    shown = list(tests[:MAX_ROWS])
    ids = [t.pk for t in shown]
    rows = {t.pk: TestRow(t, expected_slots(t, since, min(until, now), w.zone)) for t in shown}
    in_window = TestRun.objects.filter(
        control_test__in=ids,
        finished_at__gte=since,
        finished_at__lt=until,
        status__in=["passed", "failed", "error"],
    )
    counts = in_window.values("control_test_id").annotate(
        finished=Count("pk"),
        scheduled=Count("pk", filter=Q(trigger="schedule")),
        passed=Count("pk", filter=Q(status="passed")),
        failed=Count("pk", filter=Q(status="failed")),
        errored=Count("pk", filter=Q(status="error")),
    )
    for c in counts:
        row = rows[c["control_test_id"]]
        row.finished, row.scheduled = c["finished"], c["scheduled"]
        row.passed, row.failed, row.errored = c["passed"], c["failed"], c["errored"]
    # Only the runs whose outcome differs from the test's previous run (errors left out: a
    # check that could not run neither fails nor passes the control).
    changes = (
        in_window.exclude(status="error")
        .annotate(
            previous=Window(
                Lag("status"), partition_by=[F("control_test_id")], order_by=[F("finished_at")]
            )
        )
        .filter(Q(previous__isnull=True) | ~Q(previous=F("status")))
        .order_by("control_test_id", "finished_at")
        .values_list("control_test_id", "status", "finished_at")
    )
    for test_id, status, at in changes:
        intervals = rows[test_id].intervals
        if at is None:
            continue
        if status == "failed":
            intervals.append(Interval(at, None))
        elif intervals and intervals[-1].ended is None:
            intervals[-1].ended = at
    findings = Finding.objects.filter(
        control_test__in=ids, opened_at__gte=since, opened_at__lt=until
    ).order_by("opened_at", "pk")
    exceptions = TestException.objects.filter(
        control_test__in=ids, created_at__lt=until, expires_on__gte=w.start
    ).order_by("created_at", "pk")
    for finding in findings:
        for interval in rows[finding.control_test_id].intervals:
            if interval.started <= finding.opened_at and (
                interval.ended is None or finding.opened_at < interval.ended
            ):
                interval.findings.append(finding)
                break
    for exception in exceptions:
        for interval in rows[exception.control_test_id].intervals:
            if exception.created_at < (interval.ended or until) and (
                exception.revoked_at is None or exception.revoked_at >= interval.started
            ):
                interval.exceptions.append(exception)
    return list(rows.values()), total


@dataclass
class Effectiveness:
    window: scope.Window
    requests: list[RequestRow]
    requests_total: int
    controls: list[ControlRow]
    controls_total: int
    tests: list[TestRow]
    tests_total: int
    request_days: tuple[dt.date, dt.date]
    test_days: tuple[dt.date, dt.date]
    today: dt.date

    @property
    def ongoing(self) -> bool:
        """Whether the window reaches past today (expected figures stop at today)."""
        return self.request_days[1] > self.today


def effectiveness(*, user: UserLike, audit: Audit, now: dt.datetime | None = None) -> Effectiveness:
    """The engagement's figures for ``user`` as of ``now`` (ten queries whatever the sizes):
    what falls due after ``now`` is not expected yet."""
    w = scope.window_of(audit)
    now = now or timezone.now()
    today = now.astimezone(zoneinfo.ZoneInfo(w.zone)).date()
    requests, requests_total = request_rows(user=user, audit=audit, w=w, today=today)
    controls, controls_total = control_rows(user=user, audit=audit, w=w, today=today)
    tests, tests_total = test_rows(user=user, audit=audit, w=w, now=now)
    return Effectiveness(
        w,
        requests,
        requests_total,
        controls,
        controls_total,
        tests,
        tests_total,
        w.days(scope.TYPE_1_REVIEW_DAYS),
        w.days(scope.TYPE_1_RUN_DAYS),
        today,
    )
