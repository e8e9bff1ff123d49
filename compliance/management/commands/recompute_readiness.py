from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.models import Organization
from compliance.readiness import recompute_readiness
from controls.models import RecomputationTrigger


class Command(BaseCommand):
    help = (
        "Recompute the stored readiness of every organization (or one), repairing and reporting "
        "drift; run it after loading data in bulk."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", metavar="SLUG", help="Only this organization.")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("slug")
        slug = options.get("organization")
        if slug:
            organizations = organizations.filter(slug=slug)
            if not organizations.exists():
                raise CommandError(f"No organization with the slug {slug!r}.")
        drifted = 0
        for organization in organizations:
            run = recompute_readiness(
                organization=organization, trigger=RecomputationTrigger.COMMAND
            )
            drifted += run.drifted
            self.stdout.write(
                f"{organization.slug}: {run.controls_checked} controls, "
                f"{run.requirements_checked} requirements checked; {run.drifted} drifted, "
                f"{run.date_changed} changed with the date; {run.seconds:.2f} s"
            )
        if drifted:
            self.stdout.write(f"Repaired {drifted} drifted row(s); see the log for a sample.")
