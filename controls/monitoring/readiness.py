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
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.formats import date_format

from compliance.history import controls_active_at
from compliance.models import Organization
from compliance.readiness import Blocker, register_blocker_source
from compliance.snapshots import register_snapshot_source
from controls.models import (
    BlockerKind,
    Control,
    ControlTest,
    Finding,
    ReadinessRule,
    ResultStatus,
    RunStatus,
    ScheduleKind,
    TestException,
    TestResult,
    TestRun,
)
from controls.monitoring.services import organization_today


def runs_as_of(tests: Sequence[ControlTest], at: dt.datetime) -> None:
    """Give each test, as its ``last_run``, the latest run that had finished at ``at`` (none if
    none had): one query, one probe of ``test_run_finished`` per test however many runs it has."""
    then = (
        TestRun.objects.filter(
            control_test=OuterRef("pk"),
            finished_at__lte=at,
            status__in=[RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR],
        )
        .order_by("-finished_at", "-id")
        .values("pk")[:1]
    )
    latest = {
        run.control_test_id: run
        for run in TestRun.objects.filter(
            pk__in=ControlTest.objects.filter(pk__in=[t.pk for t in tests])
            .annotate(run_then=Subquery(then))
            .values("run_then")
        ).only("pk", "control_test_id", "status", "error", "finished_at", "results_summarised_at")
    }
    for test in tests:
        test.last_run = latest.get(test.pk)


def _in_force(today: dt.date, as_of: dt.datetime | None) -> Q:
    """Exceptions in force on ``today``: granted by ``as_of`` (now) and not revoked then."""
    if as_of is None:
        return Q(revoked_at__isnull=True, expires_on__gte=today)
    return Q(created_at__lte=as_of, expires_on__gte=today) & (
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=as_of)
    )


def _open_findings(as_of: dt.datetime | None) -> Q:
    """Findings open at ``as_of`` (now)."""
    if as_of is None:
        return Q(resolved_at__isnull=True)
    return Q(opened_at__lte=as_of) & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=as_of))


@register_blocker_source
def control_test_blockers(
    organization: Organization, control_ids: Sequence[int], *, as_of: dt.datetime | None = None
) -> Iterator[Blocker]:
    created: dict[str, Any] = {} if as_of is None else {"created_at__lte": as_of}
    tests = list(
        ControlTest.objects.filter(control_id__in=control_ids, enabled=True, **created)
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
    if as_of is not None:
        runs_as_of(tests, as_of)
    today = organization_today(organization, as_of)
    failing = {t.last_run_id: t.pk for t in tests if t.last_run and t.last_run.status == "failed"}
    # What still blocks in the failing runs: failures without an exception in force, with the
    # due date of their open finding.
    blocking: dict[int, list[tuple[str, dt.date | None]]] = defaultdict(list)
    if failing:
        test_ids = list(failing.values())
        excepted = set(
            TestException.objects.filter(
                _in_force(today, as_of), control_test_id__in=test_ids
            ).values_list("control_test_id", "resource_id")
        )
        due = {
            (test_id, resource_id): due_date
            for test_id, resource_id, due_date in Finding.objects.filter(
                _open_findings(as_of), control_test_id__in=test_ids
            ).values_list("control_test_id", "resource_id", "due_date")
        }
        failed: list[tuple[int, str]] = list(
            TestResult.objects.filter(
                run_id__in=list(failing), status=ResultStatus.FAIL
            ).values_list("run_id", "resource_id")
        )
        if as_of is not None:
            # A past run whose per-resource results retention deleted: its failing resources
            # are the findings that were open then (a finding lives from a resource's first
            # failing run until it passes again).
            summarised = {
                t.pk: t.last_run.pk
                for t in tests
                if t.last_run is not None and t.last_run.results_summarised_at is not None
            }
            failed += [(summarised[t], r) for t, r in due if t in summarised]
        for run_id, resource_id in failed:
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


@register_snapshot_source
def control_test_snapshot_counts(
    organization: Organization, *, at: dt.datetime, on: dt.date
) -> dict[str, int]:
    """The enabled tests of the controls active at ``at``, created by then, by the outcome of
    their latest run finished by then; and the findings open then (remediations). Two
    queries."""
    latest = (
        TestRun.objects.filter(
            control_test=OuterRef("pk"),
            finished_at__lte=at,
            status__in=[RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR],
        )
        .order_by("-finished_at", "-id")
        .values("status")[:1]
    )
    tests = (
        ControlTest.objects.filter(
            organization=organization,
            enabled=True,
            created_at__lte=at,
            control__in=Control.objects.filter(controls_active_at(at), organization=organization),
        )
        .annotate(status_then=Subquery(latest))
        .aggregate(
            passing=Count("pk", filter=Q(status_then=RunStatus.PASSED)),
            failing=Count("pk", filter=Q(status_then=RunStatus.FAILED)),
            erroring=Count("pk", filter=Q(status_then=RunStatus.ERROR)),
            not_run=Count("pk", filter=Q(status_then__isnull=True)),
        )
    )
    remediations = Finding.objects.filter(
        _open_findings(at), control_test__organization=organization
    ).count()
    return {
        "tests_passing": tests["passing"],
        "tests_failing": tests["failing"],
        "tests_erroring": tests["erroring"],
        "tests_not_run": tests["not_run"],
        "remediations_open": remediations,
    }
