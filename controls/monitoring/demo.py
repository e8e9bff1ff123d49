"""Northwind Cloud's automated tests for the demo, built through the services.

Tests on Attest's own data run for real once while seeding (background checks fail for the one
account executive without one; training and policy acknowledgements pass or fail as the roster
and policies stand; the critical-vendor review test fails for the identity provider, whose
annual review is a month late), and keep running on the demo's worker. A CI dependency scan
pushes its results: two weeks of daily pushes give the dashboard a pass-rate trend, with one
bad day. No GitHub or AWS integration is seeded: the demo has no credentials to give them.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from compliance.models import Organization, User
from controls.checks import Resource
from controls.models import Control, ScheduleKind, Severity, TestRun, Trigger
from controls.monitoring import runner, services

SERVICES = ("api-gateway", "billing-worker", "web-app")


def seed(*, organization: Organization, users: dict[str, User]) -> None:
    dana = users["dana"]
    controls = {c.ref_id: c for c in Control.objects.filter(organization=organization)}

    def add(ref_id: str, **kwargs: object) -> None:
        control = controls.get(ref_id)
        if control is None:
            return
        test = services.control_test_create(actor=dana, control=control, **kwargs)  # type: ignore[arg-type]
        run = TestRun.objects.create(
            control_test=test,
            organization=organization,
            trigger=Trigger.MANUAL,
            requested_by=dana,
        )
        runner.execute_run(run.pk, worker="demo seed")

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
    _seed_pushed_scan(organization, dana, controls.get("CHG-04"))


def _seed_pushed_scan(organization: Organization, dana: User, control: Control | None) -> None:
    if control is None:
        return
    test = services.control_test_create(
        actor=dana,
        control=control,
        name="Dependency scan in CI",
        check_key="custom.push",
        schedule_kind=ScheduleKind.PUSH,
        interval_minutes=None,
        severity=Severity.HIGH,
    )
    now = timezone.now()
    for days_ago in range(13, -1, -1):
        bad_day = days_ago == 6
        resources = [
            Resource.failed(
                name,
                name,
                message="1 high-severity advisory in a direct dependency.",
                remediation="Upgrade the dependency and redeploy.",
                advisories=1,
            )
            if bad_day and name == "billing-worker"
            else Resource.passed(name, name, "No critical or high advisories.", advisories=0)
            for name in SERVICES
        ]
        run = services.push_results(test=test, resources=resources, log="pushed by CI\n")
        moment = now - dt.timedelta(days=days_ago, hours=2)
        TestRun.objects.filter(pk=run.pk).update(
            queued_at=moment, started_at=moment, finished_at=moment + dt.timedelta(seconds=1)
        )
