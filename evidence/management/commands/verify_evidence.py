from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from evidence.services import integrity_sweep


class Command(BaseCommand):
    help = (
        "Re-hash every stored evidence file and report missing, altered and orphaned files, "
        "and partial uploads left in the incoming folder. Exits 1 when a problem is found; "
        "nothing is repaired."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = integrity_sweep()
        for line in run.log.splitlines():
            self.stderr.write(line)
        summary = (
            f"{run.checked} files checked: {run.missing} missing, {run.altered} altered, "
            f"{run.orphaned} orphaned; {run.stale_uploads} partial upload(s) left in the "
            "incoming folder."
        )
        if run.missing or run.altered or run.orphaned or run.stale_uploads:
            raise CommandError(f"Evidence integrity problems. {summary}")
        self.stdout.write(f"OK  {summary}")
