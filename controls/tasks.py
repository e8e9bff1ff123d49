"""Celery tasks of automated control tests (see controls.monitoring)."""

from __future__ import annotations

from celery import shared_task

from controls.monitoring import history, retention, runner, services


@shared_task(name="controls.tasks.run_control_test", acks_late=True, ignore_result=True)
def run_control_test(run_id: int) -> str:
    """Run one control test run; safe to deliver twice (see controls.monitoring.runner)."""
    return runner.execute_run(run_id)


@shared_task(name="controls.tasks.dispatch_control_tests", ignore_result=True)
def dispatch_control_tests() -> dict[str, int]:
    """Every minute on beat: queue what is due, hand waiting and abandoned runs over again."""
    report = services.dispatch_due()
    return report.__dict__


@shared_task(
    name="controls.tasks.run_results_retention",
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def run_results_retention() -> dict[str, int | bool]:
    """Hourly on beat: delete per-resource results past the retention, for at most five
    minutes a pass (runs, their outcome and counts are kept; see controls.monitoring.retention)."""
    report = retention.run_results_summarise(time_budget_seconds=300)
    return report.__dict__


@shared_task(
    name="controls.tasks.roll_up_test_runs",
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def roll_up_test_runs() -> int:
    """Hourly on beat: each organization's closed days not rolled up yet (idempotent; see
    controls.monitoring.history). Returns how many days it stored."""
    return history.roll_up_all()
