"""Rows of automated control tests for the API tests: tests, finished runs, findings."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from compliance.models import User
from controls.models import (
    Control,
    ControlTest,
    Finding,
    Integration,
    ResultStatus,
    RunStatus,
    Severity,
    TestResult,
    TestRun,
    Trigger,
)
from controls.monitoring import services
from tests.conftest import World

API = "/api"
ACME = f"{API}/organizations/acme"
GLOBEX = f"{API}/organizations/globex"
PUSH_URL = f"{API}/push/test-results/"


def make_test(
    world: World,
    control: Control | None = None,
    *,
    name: str = "Evidence is fresh",
    check_key: str = "attest.evidence_fresh",
    actor: User | None = None,
    **fields: Any,
) -> ControlTest:
    control = control or world.control
    return services.control_test_create(
        actor=actor or world.users["admin"],
        control=control,
        name=name,
        check_key=check_key,
        **fields,
    )


def make_push_test(
    world: World, control: Control | None = None, *, name: str = "Scanner", **fields: Any
) -> ControlTest:
    return make_test(
        world, control, name=name, check_key="custom.push", schedule_kind="push", **fields
    )


def make_integration(world: World, *, name: str = "GitHub", foreign: bool = False) -> Integration:
    return services.integration_create(
        actor=world.users["outsider" if foreign else "admin"],
        organization=world.other_org if foreign else world.org,
        kind="github",
        name=name,
        config={"organization": "acme"},
        credentials={"token": "ghp_secretvalue1234"},
    )


def make_run(test: ControlTest, results: dict[str, str] | None = None) -> TestRun:
    """A finished run with one result per ``{resource_id: status}``; it becomes the last run."""
    results = results or {}
    now = timezone.now()
    failed = sum(1 for s in results.values() if s == ResultStatus.FAIL)
    run = TestRun.objects.create(
        control_test=test,
        organization_id=test.organization_id,
        trigger=Trigger.MANUAL,
        status=RunStatus.FAILED if failed else RunStatus.PASSED,
        started_at=now,
        finished_at=now,
        passed_count=sum(1 for s in results.values() if s == ResultStatus.PASS),
        failed_count=failed,
    )
    TestResult.objects.bulk_create(
        TestResult(run=run, resource_id=rid, resource_name=rid.title(), status=status)
        for rid, status in results.items()
    )
    ControlTest.objects.filter(pk=test.pk).update(last_run=run)
    return run


def make_finding(
    test: ControlTest, run: TestRun, resource_id: str, *, resolved: bool = False
) -> Finding:
    now = timezone.now()
    return Finding.objects.create(
        control_test=test,
        resource_id=resource_id,
        resource_name=resource_id.title(),
        message="Failing",
        remediation="Fix it",
        severity=Severity.MEDIUM,
        opened_at=now,
        due_date=now.date(),
        first_run=run,
        last_run=run,
        resolved_at=now if resolved else None,
    )
