"""Automated tests' say in readiness (see compliance.readiness).

A control with enabled tests is ready only while each test's latest run passes. A failing
resource with an exception in force counts as passing; with the *deadline* rule, a failing
resource whose remediation deadline has not passed does not block either. A test that never ran,
or whose latest run erred, blocks: nothing proves the control works. Two queries, whatever the
number of controls (four when some fail).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence

from django.urls import reverse
from django.utils.formats import date_format

from compliance.models import Organization
from compliance.readiness import Blocker, register_blocker_source
from controls.models import (
    BlockerKind,
    ControlTest,
    Finding,
    ReadinessRule,
    ResultStatus,
    RunStatus,
    ScheduleKind,
    TestException,
    TestResult,
)
from controls.monitoring.services import organization_today


@register_blocker_source
def control_test_blockers(
    organization: Organization, control_ids: Sequence[int]
) -> Iterator[Blocker]:
    tests = list(
        ControlTest.objects.filter(control_id__in=control_ids, enabled=True)
        .select_related("last_run")
        .only(
            "pk",
            "control_id",
            "name",
            "readiness_rule",
            "schedule_kind",
            "last_run__status",
            "last_run__error",
            "last_run__finished_at",
        )
    )
    if not tests:
        return
    today = organization_today(organization)
    failing = {t.last_run_id: t.pk for t in tests if t.last_run and t.last_run.status == "failed"}
    # What still blocks in the failing runs: failures without an exception in force, with the
    # due date of their open finding.
    blocking: dict[int, list[tuple[str, dt.date | None]]] = defaultdict(list)
    if failing:
        test_ids = list(failing.values())
        excepted = set(
            TestException.objects.filter(
                control_test_id__in=test_ids, revoked_at__isnull=True, expires_on__gte=today
            ).values_list("control_test_id", "resource_id")
        )
        due = {
            (test_id, resource_id): due_date
            for test_id, resource_id, due_date in Finding.objects.filter(
                control_test_id__in=test_ids, resolved_at__isnull=True
            ).values_list("control_test_id", "resource_id", "due_date")
        }
        for run_id, resource_id in TestResult.objects.filter(
            run_id__in=list(failing), status=ResultStatus.FAIL
        ).values_list("run_id", "resource_id"):
            key = (failing[run_id], resource_id)
            if key not in excepted:
                blocking[key[0]].append((resource_id, due.get(key)))
    slug = organization.slug
    for test in tests:
        url = reverse("control_test_detail", args=[slug, test.pk])
        run = test.last_run
        if run is None:
            waiting = (
                "has no pushed results yet"
                if test.schedule_kind == ScheduleKind.PUSH
                else ("has not run yet")
            )
            yield Blocker(
                test.control_id,
                BlockerKind.TEST_NOT_RUN,
                f"Automated test “{test.name}” {waiting}.",
                url,
            )
        elif run.status == RunStatus.ERROR:
            yield Blocker(
                test.control_id,
                BlockerKind.TEST_ERROR,
                f"Automated test “{test.name}” could not run: {run.error}",
                url,
            )
        elif run.status == RunStatus.FAILED:
            failures = blocking.get(test.pk, [])
            if test.readiness_rule == ReadinessRule.DEADLINE:
                failures = [f for f in failures if f[1] is None or f[1] < today]
            if failures:
                earliest = min((d for _, d in failures if d is not None), default=None)
                late = (
                    f" (overdue since {date_format(earliest, 'j M Y')})"
                    if earliest is not None and earliest < today
                    else ""
                )
                count = len(failures)
                yield Blocker(
                    test.control_id,
                    BlockerKind.TEST_FAILING,
                    f"Automated test “{test.name}” fails on {count} "
                    f"resource{'s' if count != 1 else ''}{late}.",
                    url,
                    since=earliest if late else None,
                )
