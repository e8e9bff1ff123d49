"""Issue 11's weekly figures at a real company's size: one snapshot computation and the weekly
page, next to the SQL that reads the same figures, at two sizes.

Uses the organizations of ``test_bench_scale.py`` (2,000 controls, 20,000 evidence items, 1M test
results, and the small one), in the same ``<database>_scale`` database. Their history is all
"now" (the generator stamps nothing in the past), so:

- **one snapshot computation** is ``snapshot_rows`` for the current week as if it had ended (a
  ``readiness_as_of`` over everything, then the snapshot's breakdowns and per-control states),
  timed against the raw SQL of the readiness aggregate (requirement by mapped controls
  and implemented) and the status counts: a full computation does far more than that aggregate
  (every blocker source, as of a moment), so the ratio is printed, not asserted;
- **the weekly page** needs a trend: 104 weekly snapshot rows (two years) are written once from
  that computation, the same per-control states each week and rising percents (marked
  ``computed_at`` 2000-01-01 so they are recognisable), then the page of this week (what changed
  since the last snapshot, live) and of last week (snapshot against snapshot) is requested by URL
  through the test client, median of ``BENCH_REQUESTS``, next to the raw SQL that reads the trend
  and the two weeks' per-control states.

Asserts correctness only: every page answers 200 and sends no more queries at the large size.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone

from benchmarks.test_bench_scale import (
    LARGE,
    REQUESTS,
    SMALL,
    Measure,
    Page,
    _measure,
    _organization,
    _scale_database,
)
from benchmarks.timing import median_ms
from compliance.models import Organization, ReadinessSnapshot
from compliance.snapshots import snapshot_rows, week_label, week_monday

TREND_WEEKS = 104
MARK = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # computed_at of the benchmark's own rows


def _this_monday(organization: Organization) -> dt.date:
    return week_monday(timezone.localdate())


def _fill(organization: Organization, sql: list[str], **values: Any) -> list[str]:
    """SQL templates with ``{org}`` (and ``values``) filled in: our own integers and dates."""
    filled = []
    for statement in sql:
        for key, value in {"org": organization.pk, **values}.items():
            statement = statement.replace("{" + key + "}", str(value))
        filled.append(statement)
    return filled


def _snapshot_figures(organization: Organization) -> tuple[float, float, list[Any]]:
    """One snapshot computation, timed (median of 3), and the raw SQL reference."""
    monday = _this_monday(organization)
    rows: list[Any] = []

    def compute() -> None:
        rows[:] = snapshot_rows(organization, monday)

    compute()
    ms = median_ms(compute, 3)
    sql = _fill(
        organization,
        [
            "SELECT m.requirement_id, count(*), count(*) FILTER (WHERE c.status = 'implemented') "
            "FROM controls_controlrequirement m JOIN controls_control c ON c.id = m.control_id "
            "WHERE c.organization_id = {org} AND c.archived_at IS NULL GROUP BY m.requirement_id",
            "SELECT status, count(*) FROM controls_control WHERE organization_id = {org} "
            "AND archived_at IS NULL GROUP BY status",
            "SELECT control_id, ready, blocker_kinds FROM controls_controlreadiness "
            "WHERE organization_id = {org}",
        ],
    )

    def run_sql() -> None:
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
                cursor.fetchall()

    run_sql()
    return ms, median_ms(run_sql, 3), rows


def _trend(organization: Organization, template: list[Any]) -> None:
    """Two years of weekly rows before this week, written once (bulk, ignoring those there)."""
    monday = _this_monday(organization)
    rows = []
    for row in template:
        for n in range(1, TREND_WEEKS + 1):
            week = monday - dt.timedelta(weeks=n)
            percent = max(0, min(100, row.percent - n // 2))
            rows.append(
                ReadinessSnapshot(
                    organization=organization,
                    framework_id=row.framework_id,
                    week=week,
                    as_of=row.as_of - dt.timedelta(weeks=n),
                    computed_at=MARK,
                    requirements_total=row.requirements_total,
                    requirements_ready=row.requirements_total * percent // 100,
                    requirements_gaps=row.requirements_gaps,
                    percent=percent,
                    categories=row.categories,
                    owners=row.owners,
                    controls_by_status=row.controls_by_status,
                    controls_by_blocker=row.controls_by_blocker,
                    counts=row.counts,
                    control_states=row.control_states,
                    gap_requirements=row.gap_requirements,
                )
            )
    ReadinessSnapshot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=50)


def _pages(organization: Organization) -> list[Page]:
    slug = organization.slug
    last = _this_monday(organization) - dt.timedelta(weeks=1)
    trend, states, live = _fill(
        organization,
        [
            "SELECT week, percent, requirements_ready, requirements_total FROM "
            "compliance_readinesssnapshot WHERE organization_id = {org} "
            "ORDER BY week DESC LIMIT 12",
            "SELECT control_states, gap_requirements FROM compliance_readinesssnapshot "
            "WHERE organization_id = {org} AND week >= '{before}' AND week <= '{last}'",
            "SELECT control_id, ready, blocker_kinds FROM controls_controlreadiness "
            "WHERE organization_id = {org}",
        ],
        before=last - dt.timedelta(weeks=1),
        last=last,
    )
    return [
        Page("weekly page, this week", f"/o/{slug}/weekly/", [trend, states, live]),
        Page("weekly page, last week", f"/o/{slug}/weekly/?week={week_label(last)}",
             [trend, states]),
    ]  # fmt: skip


def test_weekly_figures_at_a_real_companys_size(django_db_blocker: Any) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    results: dict[str, dict[str, Measure]] = {}
    snapshot: dict[str, tuple[float, float, int]] = {}
    with django_db_blocker.unblock(), _scale_database() as database:
        for label, size in [("small", SMALL), ("large", LARGE)]:
            organization, admin = _organization(size)
            ms, sql_ms, rows = _snapshot_figures(organization)
            controls = sum(len(r.control_states) for r in rows)
            snapshot[label] = (ms, sql_ms, controls)
            started = time.monotonic()
            _trend(organization, rows)
            written = time.monotonic() - started
            client = Client()
            client.force_login(admin)
            results[label] = {
                page.name: _measure(client, page, REQUESTS) for page in _pages(organization)
            }
            print(f"\n  {label}: {TREND_WEEKS} weekly rows written in {written:.1f}s")

    print(
        f"\nWeekly figures at a real company's size (database {database}; median of "
        f"{REQUESTS} requests, 3 snapshot computations; load average at the start: {load})"
    )
    print(f"  small: {SMALL.describe()}")
    print(f"  large: {LARGE.describe()}")
    print(
        f"  {'one snapshot computation':<27} {'ms':>9} {'SQL ms':>8} {'x SQL':>6} {'controls':>9}"
    )
    for label in ("small", "large"):
        ms, sql_ms, controls = snapshot[label]
        print(f"  {label:<27} {ms:9.0f} {sql_ms:8.1f} {ms / sql_ms:6.0f} {controls:9}")
    print(
        f"  {'page':<27} {'small ms':>9} {'large ms':>8} {'queries':>9} {'KB':>7} {'SQL ms':>7}"
        f" {'x SQL':>6}"
    )
    for name, large in results["large"].items():
        small = results["small"][name]
        queries = (
            f"{large.queries}" if small.queries == large.queries
            else f"{small.queries}->{large.queries}"
        )  # fmt: skip
        print(
            f"  {name:<27} {small.ms:9.1f} {large.ms:8.1f} {queries:>9} "
            f"{large.size / 1024:7.1f} {large.sql_ms:7.2f} {large.ms / large.sql_ms:6.1f}"
        )
    for label in ("small", "large"):
        failed = {n: m.status for n, m in results[label].items() if m.status != 200}
        assert not failed, f"{label}: pages that did not answer 200: {failed}"
    grew = {
        name: (results["small"][name].queries, large.queries)
        for name, large in results["large"].items()
        if results["small"][name].queries < large.queries
    }
    assert not grew, f"query counts grow with the data (small, large): {grew}"
