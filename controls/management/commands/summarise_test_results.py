from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from controls.monitoring.retention import run_results_summarise


class Command(BaseCommand):
    help = (
        "Delete the per-resource results of automated test runs older than "
        "TEST_RESULT_RETENTION_DAYS (the hourly beat task does this a few minutes at a time). "
        "Runs, their outcome and pass/fail counts are kept, and so are the results of each "
        "test's latest run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Retention in days (default TEST_RESULT_RETENTION_DAYS, now "
            f"{settings.TEST_RESULT_RETENTION_DAYS}).",
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        if days is not None and days < 1:
            raise CommandError("--days must be a whole number of days, at least 1.")
        report = run_results_summarise(retention_days=days)
        self.stdout.write(
            f"{report.results:,} results of {report.runs:,} runs deleted; "
            "run outcomes and counts kept."
        )
