from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from compliance.models import Organization
from compliance.snapshots import (
    MAX_BACKFILL_WEEKS,
    last_completed_week,
    parse_week,
    snapshots_create,
    week_label,
    week_monday,
    weeks_to_fill,
)


class Command(BaseCommand):
    help = (
        "Create the missing weekly readiness snapshots of every organization (or one): the last "
        "completed week, or --week, and with --backfill N the N-1 weeks before it too. Each "
        "week is computed as of its end from the recorded history; snapshots already there are "
        "left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", metavar="SLUG", help="Only this organization.")
        parser.add_argument(
            "--week",
            metavar="YYYY-Www",
            help="The ISO week, e.g. 2026-W48 (default: the last completed week).",
        )
        parser.add_argument(
            "--backfill",
            metavar="N",
            type=str,
            help=f"N weeks ending with that week (1-{MAX_BACKFILL_WEEKS}; default 1), not "
            "before the organization adopted its first framework.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("slug")
        slug = options.get("organization")
        if slug:
            organizations = organizations.filter(slug=slug)
            if not organizations.exists():
                raise CommandError(f"No organization with the slug {slug!r}.")
        week = None
        if options.get("week"):
            try:
                week = parse_week(options["week"])
            except ValueError as exc:
                raise CommandError(f"--week: {exc}") from None
        count = 1
        raw = options.get("backfill")
        if raw is not None:
            if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_BACKFILL_WEEKS:
                raise CommandError(
                    f"--backfill: use a whole number of weeks from 1 to {MAX_BACKFILL_WEEKS}, "
                    f"not {raw!r}."
                )
            count = int(raw)
        now = timezone.now()
        # A week that has not begun in UTC is refused at once; one that has not ended in an
        # organization's time zone, below.
        if week is not None and week > week_monday(now.date()):
            raise CommandError(f"--week: {week_label(week)} is in the future.")
        # Every organization's weeks are checked before anything is written.
        plans = []
        for organization in organizations:
            latest = week if week is not None else last_completed_week(organization, now)
            if latest > last_completed_week(organization, now):
                raise CommandError(
                    f"--week: {week_label(latest)} has not ended yet in {organization.slug}'s "
                    f"time zone ({organization.time_zone})."
                )
            plans.append((organization, weeks_to_fill(organization, latest=latest, count=count)))
        created = existing = 0
        for organization, weeks in plans:
            result = snapshots_create(organization=organization, weeks=weeks, now=now)
            created += result.created
            existing += result.existing
            self.stdout.write(
                f"{organization.slug}: {_span(weeks)}: {result.created} created, "
                f"{result.existing} already there"
            )
        self.stdout.write(f"{created} created, {existing} already there")


def _span(weeks: list[dt.date]) -> str:
    if not weeks:
        return "no framework adopted by then"
    if len(weeks) == 1:
        return week_label(weeks[0])
    return f"{week_label(weeks[0])} to {week_label(weeks[-1])}"
