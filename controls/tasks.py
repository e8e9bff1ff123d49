"""Celery tasks of automated control tests (see controls.monitoring)."""

from __future__ import annotations

from celery import shared_task

from controls.monitoring import runner, services


@shared_task(name="controls.tasks.run_control_test", acks_late=True, ignore_result=True)
def run_control_test(run_id: int) -> str:
    """Run one control test run; safe to deliver twice (see controls.monitoring.runner)."""
    return runner.execute_run(run_id)


@shared_task(name="controls.tasks.dispatch_control_tests", ignore_result=True)
def dispatch_control_tests() -> dict[str, int]:
    """Every minute on beat: queue what is due, hand waiting and abandoned runs over again."""
    report = services.dispatch_due()
    return report.__dict__
