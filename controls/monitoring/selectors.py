"""Reads of automated control tests, always through the permission choke point."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from compliance.models import Organization, User
from compliance.permissions import Capability, can, has_capability, membership_for, restrict
from controls.models import (
    ControlTest,
    Finding,
    Integration,
    RunStatus,
    TestException,
    TestRun,
)
from controls.monitoring import history
from controls.monitoring.services import organization_today


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None


def control_test_list(*, user: User, organization: Organization) -> QuerySet[ControlTest]:
    return (
        restrict(ControlTest.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("control", "control__owner", "integration", "last_run")
        # A count per row (the finding_list index), not a join grouped over every test: a page of
        # 50 tests counts its own findings only.
        .annotate(
            open_findings=Coalesce(
                Subquery(
                    Finding.objects.filter(control_test=OuterRef("pk"), resolved_at__isnull=True)
                    .order_by()
                    .values("control_test")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            )
        )
    )


def control_test_get(*, user: User, organization: Organization, pk: Any) -> ControlTest:
    test = control_test_list(user=user, organization=organization).filter(pk=_pk(pk)).first()
    if test is None:
        raise Http404("No such test.")
    return test


def control_test_can_change(*, user: User, test: ControlTest) -> bool:
    """Run it now and rotate its push token: admins and those who may change its control."""
    return can(user, "change", test)


INTEGRATION_BINDING_REFUSED = (
    "Only admins choose the integration of a test, or change a test that uses one: it runs with "
    "the credentials they configured."
)


def may_bind_integrations(*, user: User, organization: Organization) -> bool:
    """Binding an integration to a test uses the credentials an admin configured, so it takes
    the capability of managing integrations (docs/permissions.md)."""
    return has_capability(membership_for(user, organization), Capability.MANAGE_INTEGRATIONS)


def control_test_can_edit(
    *, user: User, test: ControlTest, organization: Organization, can_change: bool | None = None
) -> bool:
    """Change its settings: the right to change the test and, when it uses an integration,
    the right to bind integrations (a member still runs such a test on their control).
    ``can_change``: :func:`control_test_can_change`'s answer when the caller has it already."""
    if can_change is None:
        can_change = control_test_can_change(user=user, test=test)
    if not can_change:
        return False
    if test.integration_id is None:
        return True
    return may_bind_integrations(user=user, organization=organization)


def runs_of(test: ControlTest) -> QuerySet[TestRun]:
    return test.runs.select_related("requested_by").order_by("-queued_at", "-id")


def recent_runs_of_control(*, control: Any, limit: int = 10) -> list[TestRun]:
    """The latest runs of all the control's tests, newest first (the control page's timeline).
    The caller has already checked that the user may see the control."""
    return list(
        TestRun.objects.filter(control_test__control=control)
        .select_related("control_test")
        .order_by("-queued_at", "-id")[:limit]
    )


def test_run_get(*, user: User, organization: Organization, pk: Any) -> TestRun:
    run = (
        restrict(TestRun.objects.all(), user, organization=organization)
        .filter(organization=organization, pk=_pk(pk))
        .select_related("control_test__control", "evidence_revision__item", "requested_by")
        .first()
    )
    if run is None:
        raise Http404("No such run.")
    return run


def findings_of(test: ControlTest, *, open_only: bool = True) -> QuerySet[Finding]:
    findings = test.findings.all()
    if open_only:
        findings = findings.filter(resolved_at__isnull=True)
    return findings.order_by("due_date", "resource_name")


def exceptions_of(test: ControlTest) -> QuerySet[TestException]:
    return test.exceptions.select_related("created_by", "revoked_by").order_by(
        "revoked_at", "-expires_on"
    )


def integration_list(*, user: User, organization: Organization) -> QuerySet[Integration]:
    return (
        restrict(Integration.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .annotate(test_count=Count("tests"))
        .select_related("created_by")
    )


def integration_get(*, user: User, organization: Organization, pk: Any) -> Integration:
    integration = integration_list(user=user, organization=organization).filter(pk=_pk(pk)).first()
    if integration is None:
        raise Http404("No such integration.")
    return integration


# --- the dashboard's monitoring panel -----------------------------------------------------------


@dataclass
class TrendPoint:
    day: dt.date
    passed: int
    total: int

    @property
    def rate(self) -> int | None:
        return round(100 * self.passed / self.total) if self.total else None


@dataclass
class MonitoringSummary:
    total: int
    passing: int
    failing: int
    erroring: int
    not_run: int
    overdue_findings: int
    open_findings: int
    trend: list[TrendPoint]

    @property
    def pass_rate(self) -> int | None:
        ran = self.passing + self.failing + self.erroring
        return round(100 * self.passing / ran) if ran else None


def monitoring_summary(
    *, user: User, organization: Organization, days: int = 14
) -> MonitoringSummary:
    """Enabled tests by the status of their latest run, findings past their deadline, and the
    daily pass rate of the runs that finished each day (closed days from their rolled-up rows,
    see controls.monitoring.history). Four queries, whatever the number of tests and runs."""
    tests = restrict(ControlTest.objects.all(), user, organization=organization).filter(
        organization=organization, enabled=True, control__archived_at__isnull=True
    )
    counts = tests.aggregate(
        total=Count("pk"),
        passing=Count("pk", filter=Q(last_run__status=RunStatus.PASSED)),
        failing=Count("pk", filter=Q(last_run__status=RunStatus.FAILED)),
        erroring=Count("pk", filter=Q(last_run__status=RunStatus.ERROR)),
        not_run=Count("pk", filter=Q(last_run__isnull=True)),
    )
    today = organization_today(organization)
    findings = Finding.objects.filter(control_test__in=tests, resolved_at__isnull=True).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today))
    )
    trend = [
        TrendPoint(day, counts.passed, counts.total)
        for day, counts in history.daily_counts(organization, days=days, today=today)
    ]
    return MonitoringSummary(
        total=counts["total"],
        passing=counts["passing"],
        failing=counts["failing"],
        erroring=counts["erroring"],
        not_run=counts["not_run"],
        overdue_findings=findings["overdue"],
        open_findings=findings["open"],
        trend=trend,
    )
