"""Throughput of automated control test runs on real workers, next to no-op Celery tasks.

10,000 runs of ``testing.cheap`` (a check that passes at once, so what is measured is the
engine: locking, marking running, recording results, the evidence revision of each run) go
through the real Redis broker to one prefork worker with 2 processes; then as many no-op tasks
go through the same broker and worker, the floor set by Celery itself. ``BENCH_CONTROL_RUNS``
changes the number.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from compliance.models import Role
from controls import checks
from controls.models import FINISHED, ControlTest, RunStatus, TestResult, TestRun, Trigger
from controls.monitoring import services
from evidence.models import EvidenceRevision
from tests.controls import slow_checks
from tests.controls.bench_tasks import noop
from tests.controls.live_worker import Worker, broker_backlog, broker_clear, wait_for
from tests.factories import ControlFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = int(os.environ.get("BENCH_CONTROL_RUNS", "10000"))
TESTS = 50  # runs spread over tests, as in an installation (each test's evidence item is locked)
PROCESSES = 2


@pytest.fixture
def worker(transactional_db: Any, tmp_path: Path) -> Iterator[Worker]:
    for check in slow_checks.CHECKS:
        checks.register(check)
    broker_clear(settings.CELERY_BROKER_URL)
    worker = Worker(
        "bench",
        broker_url=settings.CELERY_BROKER_URL,
        log_dir=tmp_path,
        evidence_root=tmp_path / "evidence",
        concurrency=PROCESSES,
        loglevel="WARNING",  # not two log lines per task
        include=("tests.controls.bench_tasks",),
    )
    try:
        yield worker.wait_ready()
    finally:
        worker.stop()
        broker_clear(settings.CELERY_BROKER_URL)
        for check in slow_checks.CHECKS:
            checks._REGISTRY.pop(check.key, None)


def test_control_test_runs_against_no_op_tasks(worker: Worker) -> None:
    organization = OrganizationFactory(slug="bench-runs")
    admin = UserFactory()
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    control = ControlFactory(organization=organization)
    tests = [
        services.control_test_create(
            actor=admin, control=control, name=f"Cheap {i}", check_key="testing.cheap"
        )
        for i in range(TESTS)
    ]
    runs = TestRun.objects.bulk_create(
        TestRun(
            control_test=tests[i % TESTS],
            organization=organization,
            trigger=Trigger.MANUAL,
            requested_by=admin,
        )
        for i in range(RUNS)
    )
    for run in runs:  # what enqueue reads, without a query per run
        run.control_test = tests[(run.pk - runs[0].pk) % TESTS]
    finished = TestRun.objects.filter(organization=organization, status__in=FINISHED)

    start = time.perf_counter()
    assert all(services.enqueue(run) for run in runs)
    enqueued_s = time.perf_counter() - start
    wait_for(lambda: finished.count() == RUNS, f"{RUNS} runs to finish", timeout=RUNS)
    runs_s = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(RUNS):
        noop.apply_async()
    published_s = time.perf_counter() - start
    wait_for(
        lambda: broker_backlog(settings.CELERY_BROKER_URL) == 0,
        f"{RUNS} no-op tasks to be acknowledged",
        timeout=RUNS,
    )
    noop_s = time.perf_counter() - start

    # Every run ran once and passed, with its result and its evidence revision.
    assert TestRun.objects.filter(organization=organization, status=RunStatus.PASSED).count() == (
        RUNS
    )
    assert not TestRun.objects.filter(organization=organization, attempts__gt=1).exists()
    assert TestResult.objects.filter(run__organization=organization).count() == RUNS
    assert EvidenceRevision.objects.filter(item__organization=organization).count() == RUNS
    assert ControlTest.objects.filter(organization=organization).count() == TESTS

    def line(label: str, seconds: float, unit: str) -> None:
        print(f"  {label:<44} {seconds:7.1f} s   {RUNS / seconds:8.1f} {unit}/s")

    print(
        f"\nControl test runs: {RUNS} runs of testing.cheap over {TESTS} tests, "
        f"1 prefork worker x {PROCESSES} processes, Redis broker"
    )
    line("enqueue (publish + mark enqueued)", enqueued_s, "runs")
    line("runs, first enqueue → all finished", runs_s, "runs")
    line("no-op tasks, publish", published_s, "tasks")
    line("no-op tasks, first publish → all acked", noop_s, "tasks")
    print(f"  a run costs {runs_s / noop_s:.1f} x a no-op task end to end")
