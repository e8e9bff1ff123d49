"""The gap analysis XLSX at 20,000 and 200,000 rows: time, queries and peak memory, next to
references measured in the same run.

Each organization's framework has N controls that are unowned and not started, so each is a row
of two sections ("Controls without owners", "Controls not implemented"): 2N rows in all. For
each size it prints:

- ``report``: ``write_workbook`` over the sections' generators (``.iterator()`` querysets into
  openpyxl's write-only sheets, to a temporary file), as the download does;
- ``download``: the same through the URL (Django's test client, the FileResponse read whole);
- ``raw SQL``: the two SELECTs that read the same rows, fetched by a plain cursor;
- ``openpyxl``: write-only openpyxl writing the same rows from a list already in memory.

Peak memory is tracemalloc's peak over the call (a separate, untimed run: tracing slows
Python down). Asserts that the report's queries and peak memory do not grow with the rows
(200,000 rows within 1.5x the 20,000's peak), and that the rows are all in the workbook.
``BENCH_GAP_ROWS`` (default 200000) sets the large size.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from benchmarks.timing import peak_kb, print_two_sizes, timed
from compliance.models import Organization, Role
from compliance.reports.gap import framework_reports
from compliance.reports.xlsx import SECTION_COLUMNS, write_workbook
from controls.models import Control, ControlRequirement
from tests.factories import (
    CategoryFactory,
    MembershipFactory,
    OrganizationFactory,
    RequirementFactory,
    UserFactory,
    adopt,
)

pytestmark = pytest.mark.django_db

LARGE = int(os.environ.get("BENCH_GAP_ROWS", "200000"))
SMALL = LARGE // 10
BATCH = 5000


def build(rows: int) -> tuple[Organization, Any]:
    """An organization whose adopted framework has ``rows // 2`` unowned, not-started controls
    (bulk inserts: this is data, not the services under test)."""
    organization = OrganizationFactory(slug=f"gap-{rows}")
    admin = UserFactory()
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    category = CategoryFactory()
    requirement = RequirementFactory(category=category)
    adopt(organization, category.framework, category)
    for start in range(0, rows // 2, BATCH):
        controls = Control.objects.bulk_create(
            Control(
                organization=organization,
                ref_id=f"C-{i:06d}",
                name=f"Control number {i} is carried out as described in its narrative",
                category="access",
                frequency="monthly",
            )
            for i in range(start, min(start + BATCH, rows // 2))
        )
        ControlRequirement.objects.bulk_create(
            ControlRequirement(control=c, requirement=requirement) for c in controls
        )
    return organization, admin


RAW_SQL = """
SELECT c.id, c.ref_id, c.name, c.status, u.full_name, u.email, c.target_date
FROM controls_control c LEFT JOIN compliance_user u ON u.id = c.owner_id
WHERE c.organization_id = %s AND c.archived_at IS NULL AND {where}
  AND c.id IN (SELECT control_id FROM controls_controlrequirement)
ORDER BY c.ref_id, c.id
"""


def raw_rows(organization: Organization) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for where in ("c.owner_id IS NULL", "c.status NOT IN ('implemented', 'not_applicable')"):
            cursor.execute(RAW_SQL.format(where=where), [organization.pk])
            rows.extend(cursor.fetchall())
    return rows


def report(organization: Organization, admin: Any) -> int:
    reports = framework_reports(user=admin, organization=organization)
    with tempfile.TemporaryFile() as out:
        return write_workbook(reports, out, generated=timezone.now())


def plain_openpyxl(rows: list[tuple[Any, ...]]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Rows")
    sheet.append([name for name, _ in SECTION_COLUMNS])
    for pk, ref_id, name, status, full_name, email, due in rows:
        sheet.append([f"{ref_id} {name}", status, full_name or email or "", due, f"/c/{pk}/"])
    with tempfile.TemporaryFile() as out:
        book.save(out)


def download(organization: Organization, admin: Any) -> int:
    client = Client()
    client.force_login(admin)
    response = client.get(f"/o/{organization.slug}/reports/gap-analysis.xlsx")
    assert response.status_code == 200
    return len(b"".join(response.streaming_content))


def test_gap_report_xlsx_streams_at_200k_rows() -> None:
    figures = {}
    warm, warm_admin = build(20)
    report(warm, warm_admin)  # URL resolvers, templates and imports: once per process
    for size in (SMALL, LARGE):
        organization, admin = build(size)
        with CaptureQueriesContext(connection) as captured:
            report_ms, written = timed(lambda o=organization, a=admin: report(o, a))
        assert written == size
        queries = len(captured.captured_queries)
        download_ms, length = timed(lambda o=organization, a=admin: download(o, a))
        sql_ms, rows = timed(lambda o=organization: raw_rows(o))
        assert len(rows) == size
        openpyxl_ms, _ = timed(lambda r=rows: plain_openpyxl(r))
        figures[size] = {
            "report_ms": report_ms,
            "download_ms": download_ms,
            "xlsx_kb": length / 1024,
            "sql_ms": sql_ms,
            "openpyxl_ms": openpyxl_ms,
            "queries": queries,
            "report_peak_kb": peak_kb(lambda o=organization, a=admin: report(o, a)),
            "sql_rows_peak_kb": peak_kb(lambda o=organization: raw_rows(o)),
            "openpyxl_from_list_peak_kb": peak_kb(lambda r=rows: plain_openpyxl(r)),
        }
        del rows
        if size == SMALL:
            # The small workbook read back: every row is there.
            client = Client()
            client.force_login(admin)
            with tempfile.NamedTemporaryFile(suffix=".xlsx") as saved:
                response = client.get(f"/o/{organization.slug}/reports/gap-analysis.xlsx")
                saved.write(b"".join(response.streaming_content))
                saved.flush()
                book = load_workbook(saved.name, read_only=True)
                rows_read = sum(sum(1 for _ in s.iter_rows()) - 1 for s in book.worksheets[1:])
                assert rows_read == size

    print_two_sizes(f"gap analysis XLSX: {SMALL:,} and {LARGE:,} rows", figures)
    for size in (SMALL, LARGE):
        f = figures[size]
        print(
            f"{size:,} rows: report / (raw SQL + plain openpyxl) = "
            f"{f['report_ms'] / (f['sql_ms'] + f['openpyxl_ms']):.2f}"
        )

    assert figures[LARGE]["queries"] == figures[SMALL]["queries"]
    assert figures[LARGE]["report_peak_kb"] < 1.5 * figures[SMALL]["report_peak_kb"]
