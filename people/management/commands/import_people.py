from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.models import Organization
from people.importer import ImportMode
from people.services import people_import


class Command(BaseCommand):
    help = (
        "Import an organization's roster from a CSV file (columns: full_name, email, start_date; "
        "optional title, department, manager_email, employment_type, end_date). By default "
        "nothing is imported if any row is bad, and an email already in the roster is an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="The organization's slug.")
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8).")
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="Import the valid rows and report the others (exit 0 if anything was imported).",
        )
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="Update people whose email is already in the roster instead of rejecting them.",
        )

    def handle(
        self,
        *args: Any,
        organization: str,
        file: Path,
        valid_only: bool,
        update_existing: bool,
        **options: Any,
    ) -> None:
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"No organization with the slug {organization!r}.")
        mode = ImportMode.VALID_ONLY if valid_only else ImportMode.ALL_OR_NOTHING
        try:
            with file.open("rb") as source:
                result = people_import(
                    actor=None,
                    organization=org,
                    source=source,
                    mode=mode,
                    update_existing=update_existing,
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}.") from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        errors = [str(e) for e in sorted(result.errors, key=lambda e: e.line)]
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if result.rejected:
            raise CommandError(
                f"Nothing was imported: {len(errors)} problem(s) on {len(result.bad_lines)} "
                f"line(s) of {file}.\n" + "\n".join(errors)
            )
        for error in errors:
            self.stderr.write(f"skipped {error}")
        created = len(result.created)
        summary = f"Imported {created} new {'person' if created == 1 else 'people'} into {org.slug}"
        if update_existing:
            summary += f", updated {len(result.updated)} ({result.unchanged} unchanged)"
        if errors:
            summary += f"; skipped {len(result.bad_lines)} line(s) with errors"
        self.stdout.write(summary + ".")
