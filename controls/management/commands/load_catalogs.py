from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controls.library_files import LibraryFileError
from controls.services import catalog_load, control_sets_parse


class Command(BaseCommand):
    help = (
        "Load the framework catalogs from controls/library/frameworks (or the given files). "
        "Idempotent and version-aware; a malformed file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="Catalog files (default: all).")

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        try:
            results = catalog_load(paths=files or None)
            control_sets = control_sets_parse()
        except LibraryFileError as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from exc
        for result in results:
            line = f"{result.outcome:>9}  {result.key}"
            if result.detail:
                line += f"  ({result.detail})"
            self.stdout.write(line)
        for control_set in control_sets:
            self.stdout.write(
                f"{'valid':>9}  {control_set.key}  ({len(control_set.controls)} controls)"
            )
