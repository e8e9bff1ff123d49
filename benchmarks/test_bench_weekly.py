"""Issue 11's figures at a real company's size: the dashboard, the weekly page, one snapshot
computation and the gap analysis XLSX, next to raw SQL computing the same figures, at two sizes.

Uses the organizations of ``test_bench_scale.py`` in the same ``<database>_scale`` database,
generated once by ``controls.large_organization`` in issue 11's shape: three frameworks, 2,000
controls, 20,000 evidence items with 200,000 revisions over two years, 1M test results, and 104
weekly snapshots computed from that history by the weekly job's own code (and the small one,
168 controls). Printed for each:

- **one snapshot computation**: ``snapshot_rows`` for last week (readiness as of its end, then
  the snapshot's breakdowns and per-control states), median of 3, against the raw SQL of the
  readiness aggregate (requirements by mapped and implemented controls) and the status counts;
- **the dashboard** and **the weekly page** (this week: what changed since the last snapshot,
  live; last week: snapshot against snapshot; both with the two-year trend), requested by URL
  through the test client (median of ``BENCH_REQUESTS``), next to the raw SQL reading the same
  figures (the stored readiness aggregate, the trend, the two weeks' per-control states);
- **the gap analysis XLSX** of the three frameworks through its URL (the streamed body read
  whole), next to the raw SQL reading the same rows (gap requirements, controls not
  implemented or unowned, stored blockers, for each framework) and, separately, that SQL plus
  openpyxl write-only writing the rows it read.

A full computation does far more than the aggregate SQL (every blocker source, as of a
moment; templates), so ratios are printed, not asserted. Asserts correctness only: every page
answers 200 and sends no more queries at the large size than at the small one.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook

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
from controls.models import AdoptedFramework


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
    """One snapshot computation (last week's), timed (median of 3), and the raw SQL."""
    monday = _this_monday(organization) - dt.timedelta(weeks=1)
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


def _pages(organization: Organization) -> list[Page]:
    slug = organization.slug
    this = _this_monday(organization)
    last = this - dt.timedelta(weeks=1)
    (
        trend, states, live, readiness, by_status, pending, owners, tests, accepted,
        accepted_rows, approved, long_lead,
    ) = _fill(
        organization,
        [
            "SELECT framework_id, week, percent, requirements_ready, requirements_total FROM "
            "compliance_readinesssnapshot WHERE organization_id = {org} AND week >= '{first}' "
            "ORDER BY framework_id, week",
            "SELECT control_states, gap_requirements FROM compliance_readinesssnapshot "
            "WHERE organization_id = {org} AND week >= '{before}' AND week <= '{last}'",
            # The stored state now with each control's status and owner (what changed so far,
            # blockers by reason and by owner).
            "SELECT cr.control_id, cr.ready, cr.blocker_kinds, c.status, c.owner_id "
            "FROM controls_controlreadiness cr JOIN controls_control c ON c.id = cr.control_id "
            "WHERE cr.organization_id = {org} AND c.archived_at IS NULL",
            "SELECT m.requirement_id, count(*), count(*) FILTER (WHERE c.status = 'implemented') "
            "FROM controls_controlrequirement m JOIN controls_control c ON c.id = m.control_id "
            "WHERE c.organization_id = {org} AND c.archived_at IS NULL GROUP BY m.requirement_id",
            "SELECT status, count(*) FROM controls_control WHERE organization_id = {org} "
            "AND archived_at IS NULL GROUP BY status",
            "SELECT count(*) FROM evidence_evidenceitem "
            "WHERE organization_id = {org} AND review_status = 'pending'",
            "SELECT c.owner_id, u.full_name, count(*), count(*) FILTER (WHERE NOT cr.ready) "
            "FROM controls_control c JOIN controls_controlreadiness cr ON cr.control_id = c.id "
            "JOIN compliance_user u ON u.id = c.owner_id WHERE c.organization_id = {org} "
            "AND c.archived_at IS NULL GROUP BY 1, 2 ORDER BY 4 DESC LIMIT 12",
            "SELECT r.status, count(*) FROM controls_controltest t JOIN controls_testrun r "
            "ON r.id = t.last_run_id WHERE t.organization_id = {org} AND t.enabled "
            "GROUP BY r.status",
            # This week's events: evidence accepted (people's), policy versions approved.
            "SELECT count(*) FROM evidence_evidencerevision r JOIN evidence_evidenceitem i "
            "ON i.id = r.item_id WHERE i.organization_id = {org} AND i.system_key = '' "
            "AND r.review_status = 'accepted' AND r.reviewed_at > '{since}'",
            "SELECT r.id, r.reviewed_at, i.title FROM evidence_evidencerevision r "
            "JOIN evidence_evidenceitem i ON i.id = r.item_id WHERE i.organization_id = {org} "
            "AND i.system_key = '' AND r.review_status = 'accepted' AND r.reviewed_at > "
            "'{since}' ORDER BY r.reviewed_at DESC LIMIT 25",
            "SELECT v.id, v.approved_at FROM policies_policyversion v JOIN policies_policy p "
            "ON p.id = v.policy_id WHERE p.organization_id = {org} AND v.approved_at > '{since}' "
            "ORDER BY v.approved_at DESC LIMIT 25",
            "SELECT id, ref_id, name, target_date FROM controls_control WHERE organization_id = "
            "{org} AND long_lead AND archived_at IS NULL AND status <> 'implemented' "
            "ORDER BY target_date NULLS LAST, ref_id LIMIT 50",
        ],
        first=this - dt.timedelta(weeks=12),
        before=last - dt.timedelta(weeks=1),
        last=last,
        since=dt.datetime.combine(this, dt.time.min, tzinfo=dt.UTC).isoformat(),
    )  # fmt: skip
    weekly = [trend, states, owners, long_lead]
    return [
        Page("dashboard", f"/o/{slug}/", [readiness, by_status, pending, owners, tests]),
        Page("weekly page, this week", f"/o/{slug}/weekly/",
             [*weekly, live, accepted, accepted_rows, approved]),
        Page("weekly page, last week", f"/o/{slug}/weekly/?week={week_label(last)}",
             [*weekly, accepted, accepted_rows, approved]),
        Page("gap analysis XLSX", f"/o/{slug}/reports/gap-analysis.xlsx",
             _gap_sql(organization)),
    ]  # fmt: skip


# The rows of the gap analysis, per framework: in-scope requirements in the stored gap state,
# the framework's controls not implemented or unowned, and its controls' stored blockers.
_MAPPED = (
    "c.id IN (SELECT m.control_id FROM controls_controlrequirement m JOIN controls_requirement r "
    "ON r.id = m.requirement_id WHERE r.framework_id = {fw})"
)
GAP_SQL = [
    "SELECT r.id, r.ref_id, r.title, k.name FROM controls_requirementreadiness s "
    "JOIN controls_requirement r ON r.id = s.requirement_id "
    "JOIN controls_frameworkcategory k ON k.id = r.category_id "
    "WHERE s.organization_id = {org} AND s.state = 'gap' AND r.framework_id = {fw} "
    "ORDER BY r.order, r.ref_id",
    "SELECT c.id, c.ref_id, c.name, c.status, u.full_name, u.email, c.target_date "
    "FROM controls_control c LEFT JOIN compliance_user u ON u.id = c.owner_id "
    "WHERE c.organization_id = {org} AND c.archived_at IS NULL AND (c.owner_id IS NULL "
    "OR c.status NOT IN ('implemented', 'not_applicable')) AND " + _MAPPED + " ORDER BY c.ref_id",
    "SELECT c.id, c.ref_id, c.name, u.full_name, u.email, cr.blockers, cr.evidence_due "
    "FROM controls_control c JOIN controls_controlreadiness cr ON cr.control_id = c.id "
    "LEFT JOIN compliance_user u ON u.id = c.owner_id WHERE c.organization_id = {org} "
    "AND c.archived_at IS NULL AND cr.blockers <> '[]'::jsonb AND "
    + _MAPPED
    + " ORDER BY c.ref_id",
]


def _gap_sql(organization: Organization) -> list[str]:
    frameworks = AdoptedFramework.objects.filter(organization=organization).values_list(
        "framework_id", flat=True
    )
    return [
        statement
        for framework_id in frameworks
        for statement in _fill(organization, GAP_SQL, fw=framework_id)
    ]


def _gap_reference(sql: Sequence[str]) -> tuple[float, int]:
    """The gap SQL's rows written by openpyxl write-only (one sheet per statement, blockers one
    row each), to a temporary file: ms (median of 3) and rows written."""

    def write() -> int:
        book = Workbook(write_only=True)
        written = 0
        with connection.cursor() as cursor:
            for n, statement in enumerate(sql):
                sheet = book.create_sheet(f"Section {n + 1}")
                cursor.execute(statement)
                for row in cursor.fetchall():
                    if len(row) == 7 and isinstance(row[5], list):  # blockers: one row each
                        for blocker in row[5]:
                            sheet.append(
                                [
                                    f"{row[1]} {row[2]}",
                                    blocker.get("reason", ""),
                                    row[3] or row[4] or "",
                                    row[6],
                                    f"/c/{row[0]}/",
                                ]
                            )
                            written += 1
                    else:
                        sheet.append([str(v) if v is not None else "" for v in row])
                        written += 1
        with tempfile.TemporaryFile() as out:
            book.save(out)
        return written

    rows = write()
    return median_ms(write, 3), rows


def test_weekly_figures_at_a_real_companys_size(django_db_blocker: Any) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    results: dict[str, dict[str, Measure]] = {}
    snapshot: dict[str, tuple[float, float, int]] = {}
    weeks: dict[str, int] = {}
    openpyxl: dict[str, tuple[float, int]] = {}
    with django_db_blocker.unblock(), _scale_database() as database:
        for label, size in [("small", SMALL), ("large", LARGE)]:
            organization, admin = _organization(size)
            weeks[label] = ReadinessSnapshot.objects.filter(organization=organization).count()
            ms, sql_ms, rows = _snapshot_figures(organization)
            controls = sum(len(r.control_states) for r in rows)
            snapshot[label] = (ms, sql_ms, controls)
            client = Client()
            client.force_login(admin)
            pages = _pages(organization)
            results[label] = {page.name: _measure(client, page, REQUESTS) for page in pages}
            openpyxl[label] = _gap_reference(pages[-1].sql)

    print(
        f"\nIssue 11's figures at a real company's size (database {database}; median of "
        f"{REQUESTS} requests, 3 snapshot computations; load average at the start: {load})"
    )
    print(f"  small: {SMALL.describe()}; {weeks['small']} snapshot rows")
    print(f"  large: {LARGE.describe()}; {weeks['large']} snapshot rows")
    print(
        f"  {'one snapshot computation':<27} {'ms':>9} {'SQL ms':>8} {'x SQL':>6} {'controls':>9}"
    )
    for label in ("small", "large"):
        ms, sql_ms, controls = snapshot[label]
        print(f"  {label:<27} {ms:9.0f} {sql_ms:8.1f} {ms / sql_ms:6.0f} {controls:9}")
    print(
        f"  {'page':<27} {'small ms':>9} {'large ms':>8} {'queries':>9} {'KB':>7} {'SQL ms':>7}"
        f" {'x SQL':>6} {'DB ms':>7} {'DB x SQL':>8}"
    )
    for name, large in results["large"].items():
        small = results["small"][name]
        queries = (
            f"{large.queries}" if small.queries == large.queries
            else f"{small.queries}->{large.queries}"
        )  # fmt: skip
        print(
            f"  {name:<27} {small.ms:9.1f} {large.ms:8.1f} {queries:>9} "
            f"{large.size / 1024:7.1f} {large.sql_ms:7.2f} {large.ms / large.sql_ms:6.1f} "
            f"{large.db_ms:7.2f} {large.db_ms / large.sql_ms:8.2f}"
        )
    print(
        "  (ms: the whole request in process; DB ms: the time of the page's own queries, summed; "
        "SQL ms: the raw SQL reading the same figures)"
    )
    for label in ("small", "large"):
        ref_ms, written = openpyxl[label]
        xlsx = results[label]["gap analysis XLSX"]
        print(
            f"  {label}: gap XLSX {xlsx.ms:.0f} ms against the same SQL plus openpyxl writing "
            f"its {written:,} rows, {ref_ms:.0f} ms: x {xlsx.ms / ref_ms:.2f}"
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
