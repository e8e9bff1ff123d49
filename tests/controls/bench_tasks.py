"""A task that does nothing, for the throughput benchmark's floor: what Celery, Redis and a
prefork worker cost per message before any work (benchmarks/test_control_tests_throughput.py).
A worker imports it with ``--include tests.controls.bench_tasks``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="tests.noop", ignore_result=True)
def noop() -> None:
    return None
