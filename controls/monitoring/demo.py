"""Northwind Cloud's automated tests for the demo, built through the services.

Tests on Attest's own data were set up in the program's third week (see
compliance/demo_timeline.py) and ran every other Monday since, each run judged as of its moment
(background checks fail once the account executive without one has started; training and the
acceptable use policy's acknowledgements pass as people complete them; the critical-vendor review
test fails once the identity provider's annual review is late), then run for real once while
seeding, and keep running on the demo's worker. A CI dependency scan pushes its results: once a
week with advisories to fix at first, then passing, and every day for the last two weeks with one
bad day, which gives the dashboard a pass-rate trend. No GitHub or AWS integration is seeded: the
demo has no credentials to give them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import F
from django.utils import timezone

from compliance.demo_timeline import WEEKS, Timeline, stamped
from compliance.models import Organization, User
from controls.checks import CheckContext, Resource, get_check
from controls.models import (
    Control,
    ControlTest,
    Finding,
    RunStatus,
    ScheduleKind,
    Severity,
    TestRun,
    Trigger,
)
from controls.monitoring import runner, services
from evidence.models import EvidenceItem, EvidenceRevision

SERVICES = ("api-gateway", "billing-worker", "web-app")
SET_UP_IN = 2  # the program week Priya set up the tests on Attest's own data (Tuesday)
SCAN_FROM = 3  # the week the CI scan started pushing (the dependency scanning control's week)


class _Dates:
    """Re-dates what a run writes "now" — the run, its findings opened and resolved, the
    evidence revision that freezes its outcome — to the moment it ran (the one place this demo
    step backdates its rows)."""

    def __init__(self, organization: Organization, timeline: Timeline) -> None:
        self.organization = organization
        self.timeline = timeline
        self.tests = ControlTest.objects.filter(organization=organization)

    @contextmanager
    def at(self, moment: dt.datetime) -> Iterator[None]:
        mark = timezone.now()
        organization = self.organization
        yield
        TestRun.objects.filter(organization=organization, queued_at__gte=mark).update(
            queued_at=moment, started_at=moment, heartbeat_at=None,
            finished_at=moment + dt.timedelta(seconds=2),
        )  # fmt: skip
        findings = Finding.objects.filter(control_test__organization=organization)
        shift = self.timeline.today - self.timeline.local(moment).date()
        findings.filter(opened_at__gte=mark).update(
            opened_at=moment, due_date=F("due_date") - shift
        )
        findings.filter(resolved_at__gte=mark).update(resolved_at=moment)
        revisions = EvidenceRevision.objects.filter(
            item__organization=organization, item__system_key__startswith="control-test:"
        )
        revisions.filter(uploaded_at__gte=mark).update(
            uploaded_at=moment,
            reviewed_at=moment,
            effective_date=self.timeline.local(moment).date(),
        )
        EvidenceItem.objects.filter(organization=organization, created_at__gte=mark).update(
            created_at=moment, effective_date=self.timeline.local(moment).date()
        )


def seed(
    *, organization: Organization, users: dict[str, User], timeline: Timeline | None = None
) -> None:
    timeline = timeline or Timeline.of(organization)
    dates = _Dates(organization, timeline)
    dana = users["dana"]
    controls = {c.ref_id: c for c in Control.objects.filter(organization=organization)}

    def add(ref_id: str, **kwargs: object) -> None:
        control = controls.get(ref_id)
        if control is None:
            return
        created = timeline.at(SET_UP_IN, 1, 10)
        with stamped(created, (dates.tests, "created_at")):
            test = services.control_test_create(actor=dana, control=control, **kwargs)  # type: ignore[arg-type]
        # A run right away, then every other Monday evening (the history the demo keeps; the
        # schedule itself is daily or weekly), each judged as of its moment, then one now.
        week = SET_UP_IN
        moments = [created + dt.timedelta(minutes=5)]
        while (moment := timeline.at(week + 2, 0, 18)) < timeline.now:
            moments.append(moment)
            week += 2
        for moment in moments:
            with dates.at(moment):
                _run(test, organization, dana, at=moment)
        _run(test, organization, dana, at=None)

    add(
        "HR-01",
        name="Every employee has a cleared background check",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "background_check"},
        severity=Severity.HIGH,
        interval_minutes=60 * 24,
    )
    add(
        "HR-03",
        name="Security training is current for everyone",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "security_training"},
        severity=Severity.MEDIUM,
        interval_minutes=60 * 24,
    )
    add(
        "HR-02",
        name="Everyone acknowledged the acceptable use policy",
        check_key="attest.policy_acknowledged",
        parameters={"policy": "acceptable-use"},
        severity=Severity.MEDIUM,
        schedule_kind=ScheduleKind.CRON,
        cron="0 7 * * 1",
        interval_minutes=None,
    )
    add(
        "VEN-03",
        name="Critical vendors were reviewed within their cadence",
        check_key="attest.vendor_reviews",
        parameters={"min_tier": "critical"},
        severity=Severity.HIGH,
        interval_minutes=60 * 24,
        # A late review has its remediation window (30 days for high) before it blocks.
        readiness_rule="deadline",
    )
    _seed_pushed_scan(organization, dana, controls.get("CHG-04"), timeline, dates)


def _run(
    test: ControlTest, organization: Organization, dana: User, *, at: dt.datetime | None
) -> None:
    """One run of the check, judged as of ``at`` (now when None), through the runner's steps."""
    run = TestRun.objects.create(
        control_test=test,
        organization=organization,
        trigger=Trigger.MANUAL if at is None else Trigger.SCHEDULE,
        requested_by=dana if at is None else None,
    )
    if at is None:
        runner.execute_run(run.pk, worker="demo seed")
        return
    check = get_check(test.check_key)
    assert check is not None
    context = CheckContext(
        organization=organization,
        control=test.control,
        parameters=dict(test.parameters),
        integration=None,
        credentials={},
        now=at,
        log=lambda line: None,
    )
    resources = list(check().run(context))
    TestRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempts=1, worker="demo seed"
    )
    services.run_finish(run_id=run.pk, attempt=1, resources=resources, log="demo history\n")


def _seed_pushed_scan(
    organization: Organization,
    dana: User,
    control: Control | None,
    timeline: Timeline,
    dates: _Dates,
) -> None:
    if control is None:
        return
    with stamped(timeline.at(SCAN_FROM, 2, 16), (dates.tests, "created_at")):
        test = services.control_test_create(
            actor=dana,
            control=control,
            name="Dependency scan in CI",
            check_key="custom.push",
            schedule_kind=ScheduleKind.PUSH,
            interval_minutes=None,
            severity=Severity.HIGH,
        )
    # Weekly at first (the first two weeks with advisories to fix), then every day for the
    # last two weeks, with one bad day.
    days = [
        timeline.day(week, 3)
        for week in range(SCAN_FROM, WEEKS)
        if timeline.day(week, 3) < timeline.today - dt.timedelta(days=13)
    ]
    days += [timeline.today - dt.timedelta(days=n) for n in range(13, -1, -1)]
    for day in days:
        moment = timeline.on(day, 4)
        early = timeline.week_of(day) < SCAN_FROM + 2
        bad_day = day == timeline.today - dt.timedelta(days=6)
        failing = (
            {"billing-worker", "api-gateway"} if early else {"billing-worker"} if bad_day else set()
        )
        resources = [
            Resource.failed(
                name,
                name,
                message="1 high-severity advisory in a direct dependency.",
                remediation="Upgrade the dependency and redeploy.",
                advisories=1,
            )
            if name in failing
            else Resource.passed(name, name, "No critical or high advisories.", advisories=0)
            for name in SERVICES
        ]
        with dates.at(moment):
            services.push_results(test=test, resources=resources, log="pushed by CI\n")
