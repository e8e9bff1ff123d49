from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.models import Organization
from vendors.import_services import vendors_import
from vendors.importer import ImportMode


class Command(BaseCommand):
    help = (
        "Import vendors into an organization's inventory from a CSV or XLSX file (column name "
        "required; optional category, risk_tier, owner_email, website, description, "
        "data_access, is_subprocessor, location, onboarded_on, review_every_months). By "
        "default nothing is imported if any row is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="The organization's slug.")
        parser.add_argument("file", type=Path, help="The CSV (UTF-8) or .xlsx file.")
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="Import the valid rows and report the others (exit 0 if anything was imported).",
        )

    def handle(
        self, *args: Any, organization: str, file: Path, valid_only: bool, **options: Any
    ) -> None:
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"No organization with the slug {organization!r}.")
        mode = ImportMode.VALID_ONLY if valid_only else ImportMode.ALL_OR_NOTHING
        try:
            with file.open("rb") as source:
                result = vendors_import(
                    actor=None, organization=org, source=source, filename=file.name, mode=mode
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        errors = [
            f"line {e.line}, {e.column}: {e.reason}" if e.column else
            (f"line {e.line}: {e.reason}" if e.line else e.reason)
            for e in result.sorted_errors()
        ]  # fmt: skip
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if not result.imported:
            if not errors:
                raise CommandError(f"Nothing was imported: {file} has no vendors below its header.")
            raise CommandError(
                f"Nothing was imported: {len(errors)} problem(s) in {file}.\n" + "\n".join(errors)
            )
        for error in errors:
            self.stderr.write(f"skipped {error}")
        created = len(result.created)
        summary = f"Imported {created} vendor{'' if created == 1 else 's'} into {org.slug}"
        if errors:
            summary += f"; skipped {len(result.bad_lines)} line(s) with errors"
        self.stdout.write(summary + ".")
