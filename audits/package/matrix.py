"""The controls matrix of an audit package: one row per in-scope requirement and control
(requirement → control → owner → evidence → automated test results), as XLSX (openpyxl
write-only) and CSV, every text cell neutralised against formula injection.

Other parts of the audits app add columns with :func:`register_matrix_columns` (requests,
samples, findings…): a loader runs once per package (a fixed number of queries, e.g. one
aggregate by control) and returns the function that gives a row's values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Count, Max, Q
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from audits import selectors
from audits.models import Audit
from compliance.exports import csv_safe
from compliance.models import User
from compliance.reports.xlsx import DATE_FORMAT, safe_text


@dataclass(frozen=True)
class MatrixRow:
    requirement: Any  # controls.models.Requirement
    control: Any | None  # None: a requirement no visible control maps to (a gap)


@dataclass(frozen=True)
class MatrixContext:
    audit: Audit
    user: User | None  # None: the command line (the whole engagement)


RowValues = Callable[[MatrixRow], Sequence[Any]]


@dataclass(frozen=True)
class MatrixColumns:
    key: str
    headers: tuple[str, ...]
    order: int
    load: Callable[[MatrixContext], RowValues]
    widths: tuple[int, ...] = ()


MATRIX_COLUMNS: list[MatrixColumns] = []


def register_matrix_columns(columns: MatrixColumns) -> MatrixColumns:
    """Add (or replace, by key) a group of columns of the matrix, placed by ``order``."""
    MATRIX_COLUMNS[:] = [c for c in MATRIX_COLUMNS if c.key != columns.key] + [columns]
    MATRIX_COLUMNS.sort(key=lambda c: c.order)
    return columns


BASE_HEADERS = ("Requirement", "Requirement title", "Control", "Control name", "Owner")
BASE_WIDTHS = (12, 48, 12, 40, 24)


# --- the built-in columns ---------------------------------------------------------------------


def _evidence_columns(context: MatrixContext) -> RowValues:
    from audits.package.content import evidence_items

    stats = {
        row["controls"]: row
        for row in evidence_items(context.audit, context.user)
        .order_by()
        .values("controls")
        .annotate(items=Count("pk", distinct=True), latest=Max("effective_date"))
    }

    def values(row: MatrixRow) -> Sequence[Any]:
        found = stats.get(row.control.pk) if row.control else None
        return (found["items"], found["latest"]) if found else (0, None)

    return values


def _test_columns(context: MatrixContext) -> RowValues:
    from audits.package.content import test_runs

    stats = {
        row["control_test__control"]: row
        for row in test_runs(context.audit, context.user)
        .order_by()
        .values("control_test__control")
        .annotate(
            passed=Count("pk", filter=Q(status="passed")),
            failed=Count("pk", filter=Q(status="failed")),
            errors=Count("pk", filter=Q(status="error")),
            last=Max("finished_at"),
        )
    }

    def values(row: MatrixRow) -> Sequence[Any]:
        found = stats.get(row.control.pk) if row.control else None
        if not found:
            return (0, 0, 0, None)
        last = found["last"]
        return (found["passed"], found["failed"], found["errors"], last and last.date())

    return values


register_matrix_columns(
    MatrixColumns(
        "evidence", ("Evidence items", "Latest evidence"), 10, _evidence_columns, (10, 14)
    )
)
register_matrix_columns(
    MatrixColumns(
        "tests",
        ("Test runs passed", "Test runs failed", "Test runs in error", "Last test run"),
        20,
        _test_columns,
        (10, 10, 10, 14),
    )
)


# --- rows ---------------------------------------------------------------------------------------


def matrix_rows(audit: Audit, user: User | None) -> Iterator[MatrixRow]:
    """Each in-scope requirement with each control mapped to it that ``user`` may see (one row
    with no control for a requirement none covers)."""
    from audits.package.content import controls

    visible = set(controls(audit, user).values_list("pk", flat=True))
    for requirement in selectors.in_scope_requirements(audit).iterator(chunk_size=500):
        mapped = sorted(
            (
                m.control
                for m in requirement.mappings.all()
                if m.control.pk in visible and m.control.archived_at is None
            ),
            key=lambda c: c.ref_id,
        )
        if not mapped:
            yield MatrixRow(requirement, None)
        for control in mapped:
            yield MatrixRow(requirement, control)


def headers() -> list[str]:
    return [*BASE_HEADERS, *(h for c in MATRIX_COLUMNS for h in c.headers)]


def table(audit: Audit, user: User | None) -> Iterator[list[Any]]:
    """The matrix's rows as values (dates as dates), headers excluded."""
    context = MatrixContext(audit, user)
    loaded = [columns.load(context) for columns in MATRIX_COLUMNS]
    for row in matrix_rows(audit, user):
        control = row.control
        owner = control.owner if control is not None else None
        values: list[Any] = [
            row.requirement.ref_id,
            row.requirement.title,
            control.ref_id if control else "",
            control.name if control else "(no control)",
            (owner.display_name if owner else "") if control else "",
        ]
        for extra in loaded:
            values.extend(extra(row))
        yield values


def _cells(sheet: Any, values: Sequence[Any], *, bold: bool = False) -> list[Any]:
    """Text neutralised (compliance.reports.xlsx.safe_text), dates formatted."""
    cells: list[Any] = []
    for value in values:
        if isinstance(value, str):
            value = safe_text(value)
        if bold or isinstance(value, dt.date):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
            if bold:
                cell.font = Font(bold=True)
            value = cell
        cells.append(value)
    return cells


def write_xlsx(audit: Audit, user: User | None, out: IO[bytes]) -> int:
    """The matrix as a workbook (write-only: rows go to temporary files as they come)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Controls matrix")
    widths = [*BASE_WIDTHS]
    for columns in MATRIX_COLUMNS:
        widths.extend(columns.widths or (14,) * len(columns.headers))
    for index, width in enumerate(widths[:26]):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append(_cells(sheet, headers(), bold=True))
    count = 0
    for values in table(audit, user):
        sheet.append(_cells(sheet, values))
        count += 1
    book.save(out)
    return count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_lines(audit: Audit, user: User | None) -> Iterator[bytes]:
    """The matrix as CSV (UTF-8), line by line, every cell through compliance.exports.csv_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_safe(headers()))
    yield buffer.getvalue().encode()
    for values in table(audit, user):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_safe([_text(v) for v in values]))
        yield buffer.getvalue().encode()
