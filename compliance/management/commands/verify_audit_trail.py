from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from compliance.audit import verify_all


class Command(BaseCommand):
    help = "Recompute every audit-trail hash chain; exit 1 naming the first bad event if any."

    def handle(self, *args: Any, **options: Any) -> None:
        reports = verify_all()
        problems = [report.problem for report in reports if report.problem]
        total = sum(report.checked for report in reports)
        for problem in problems:
            self.stderr.write(f"BROKEN  {problem}")
        if problems:
            raise CommandError(
                f"Audit trail verification failed in {len(problems)} of {len(reports)} chain(s)."
            )
        self.stdout.write(f"OK  {total} events in {len(reports)} chain(s) verified.")
