from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audits.models import Audit
from audits.package.build import PackageError
from audits.package.services import package_export_file
from compliance.models import Organization


class Command(BaseCommand):
    help = (
        "Export an audit engagement as a signed package (ZIP): the controls matrix, every "
        "evidence file of its scope and window, and manifest.json signed with the "
        "organization's Ed25519 key. FILE must not exist yet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="the organization's slug (as in its URLs)")
        parser.add_argument("audit", help="the engagement's id (as in its URL)")
        parser.add_argument("file", help="where to write the ZIP (a new file)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization has the slug “{options['organization']}”.")
        try:
            audit_id = int(options["audit"])
        except ValueError:
            raise CommandError(
                f"“{options['audit']}” is not an engagement id (a number)."
            ) from None
        audit = (
            Audit.objects.select_related("organization", "adoption__framework")
            .filter(organization=organization, pk=audit_id)
            .first()
        )
        if audit is None:
            raise CommandError(f"{organization.name} has no engagement with the id {audit_id}.")
        path = os.path.abspath(options["file"])
        folder = os.path.dirname(path)
        if os.path.isdir(path) or os.path.exists(path):
            raise CommandError(f"{path} already exists; name a new file.")
        if not os.path.isdir(folder):
            raise CommandError(f"The folder {folder} does not exist.")
        if not os.access(folder, os.W_OK):
            raise CommandError(f"The folder {folder} is not writable.")
        try:
            built, size, sha256 = package_export_file(audit=audit, path=path)
        except PackageError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Could not write {path}: {exc.strerror or exc}.") from exc
        self.stdout.write(
            f"Wrote {path}: {built.evidence_files} evidence files, {built.matrix_rows} matrix "
            f"rows, {size} bytes, SHA-256 {sha256}."
        )
