"""Retention of per-resource test results (issue 10, item 5).

A year of hourly tests on 2,000 controls is 17.5M runs and, with one result per resource, many
more result rows. The run is what history, the trend and an auditor need (its status, times,
pass/fail counts and the evidence revision that froze every result as JSON with its SHA-256), so
runs are kept for ever. The per-resource ``TestResult`` rows of finished runs older than
``TEST_RESULT_RETENTION_DAYS`` are deleted, a batch of runs per transaction, and the run is
marked ``results_summarised_at``. The latest run of every test keeps its results whatever its
age: readiness and the test page read its failing resources.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controls.models import ControlTest, TestResult, TestRun

logger = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    runs: int = 0
    results: int = 0
    finished: bool = True  # False: stopped at the time budget, more is left for the next pass


def run_results_summarise(
    *,
    now: dt.datetime | None = None,
    retention_days: int | None = None,
    batch_runs: int = 500,
    time_budget_seconds: float | None = None,
) -> RetentionReport:
    """Delete the per-resource results of finished runs older than the retention, oldest first.

    Each batch (``batch_runs`` runs) is one transaction: its results are deleted and its runs
    marked together, so an interrupted sweep leaves no run half summarised. With a time budget
    the sweep stops between batches once it is spent (the beat task; the next pass continues).
    """
    now = now or timezone.now()
    days = retention_days if retention_days is not None else settings.TEST_RESULT_RETENTION_DAYS
    cutoff = now - dt.timedelta(days=days)
    started = time.monotonic()
    report = RetentionReport()
    latest = ControlTest.objects.filter(last_run__isnull=False).values("last_run_id")
    while True:
        if time_budget_seconds is not None and time.monotonic() - started > time_budget_seconds:
            report.finished = False
            break
        with transaction.atomic():
            run_ids = list(
                TestRun.objects.filter(
                    results_summarised_at__isnull=True,
                    finished_at__isnull=False,
                    finished_at__lt=cutoff,
                )
                .exclude(pk__in=latest)
                .order_by("finished_at")
                .values_list("pk", flat=True)[:batch_runs]
            )
            if not run_ids:
                break
            # Skips runs another sweep is summarising right now, rather than waiting for it.
            run_ids = list(
                TestRun.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(pk__in=run_ids, results_summarised_at__isnull=True)
                .values_list("pk", flat=True)
            )
            if not run_ids:
                break
            deleted, _ = TestResult.objects.filter(run_id__in=run_ids).delete()
            TestRun.objects.filter(pk__in=run_ids).update(results_summarised_at=now)
        report.runs += len(run_ids)
        report.results += deleted
    if report.runs:
        logger.info(
            "Test result retention (%s days): %s results of %s runs deleted%s.",
            days,
            report.results,
            report.runs,
            "" if report.finished else ", more left for the next pass",
        )
    return report
