from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controls.large_organization import (
    HOURLY_YEAR,
    ISSUE_SIZE,
    AlreadyGenerated,
    Size,
    generate_large_organization,
)


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


def _frameworks(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 3:
        raise ValueError(raw)
    return value


def _weeks(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(raw)
    return value


class Command(BaseCommand):
    help = (
        "Build a large synthetic organization for benchmarks (the shape of issues 10 and 11: "
        "three frameworks, 2,000 controls, 20,000 evidence items with 200,000 revisions, 50 "
        "tests x 400 runs x 50 resources, two years of weekly snapshots). Writes in bulk; "
        "refuses a slug that exists. Evidence files are not stored: use a database made for "
        "measuring, never a production one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", default="large", help="The organization's slug (new).")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply every count (0.05 builds 100 controls, 3 tests x 20 runs x 2 ...).",
        )
        parser.add_argument(
            "--hourly-year",
            action="store_true",
            help="One test per control, run every hour for a year, one resource each "
            f"({HOURLY_YEAR.results:,} runs and results at scale 1).",
        )
        for name, default in [
            ("controls", None),
            ("tests", None),
            ("runs-per-test", None),
            ("resources-per-run", None),
            ("evidence-per-control", None),
            ("revisions-per-item", None),
        ]:
            parser.add_argument(
                f"--{name}", type=_positive, default=default, help="Override this count."
            )
        parser.add_argument(
            "--frameworks",
            type=_frameworks,
            default=None,
            help="1 (SOC 2), 2 (and ISO/IEC 27001) or 3 (and a synthetic catalog; the default).",
        )
        parser.add_argument(
            "--snapshot-weeks",
            type=_weeks,
            default=None,
            help="Weeks of weekly readiness snapshots (104 by default; 0 for none).",
        )
        parser.add_argument("--seed", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        size: Size = HOURLY_YEAR if options["hourly_year"] else ISSUE_SIZE
        if options["scale"] <= 0:
            raise CommandError("--scale must be a number above 0.")
        if options["scale"] != 1.0:
            size = size.scaled(options["scale"])
        overrides = {
            field: options[option]
            for option, field in [
                ("controls", "controls"),
                ("tests", "tests"),
                ("runs_per_test", "runs_per_test"),
                ("resources_per_run", "resources_per_run"),
                ("evidence_per_control", "evidence_per_control"),
                ("revisions_per_item", "revisions_per_item"),
                ("frameworks", "frameworks"),
                ("snapshot_weeks", "snapshot_weeks"),
            ]
            if options[option] is not None
        }
        if overrides:
            size = Size(**{**size.__dict__, **overrides})
        if size.tests > size.controls:
            raise CommandError(
                f"--tests ({size.tests}) cannot exceed the controls ({size.controls})."
            )
        self.stdout.write(f"Generating {options['slug']!r}: {size.describe()}")
        started = time.monotonic()
        try:
            result = generate_large_organization(
                slug=options["slug"],
                size=size,
                seed=options["seed"],
                progress=lambda line: self.stdout.write(
                    f"  {time.monotonic() - started:7.1f}s  {line}"
                ),
            )
        except AlreadyGenerated as exc:
            raise CommandError(str(exc)) from exc
        for name, count in result.counts.items():
            self.stdout.write(f"{count:>12,}  {name}")
        self.stdout.write(
            f"Done in {time.monotonic() - started:.0f}s. Admin: {result.admin.email} "
            "(no password: set one with `manage.py changepassword`)."
        )
