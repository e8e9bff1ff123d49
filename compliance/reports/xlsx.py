"""The gap analysis as an XLSX workbook, written by openpyxl in write-only mode.

Write-only worksheets stream their rows to temporary files as they are appended, so the
workbook's memory stays flat however many rows the sections hold; the caller saves it to a
temporary file (never memory) and serves that. A "Summary" sheet comes first, then one sheet per
section of each framework. Dates are real dates, links are text URLs, and every text cell that
a spreadsheet would read as a formula is neutralised as the CSV exports do
(``compliance.exports.FORMULA_PREFIXES``: a leading quote).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from compliance.exports import FORMULA_PREFIXES
from compliance.reports.gap import FrameworkReport
from compliance.snapshots import week_label

# Columns of a section sheet, with their widths (in characters).
SECTION_COLUMNS = [("Item", 48), ("Detail", 70), ("Owner", 24), ("Due", 12), ("Link", 60)]
SUMMARY_WIDTHS = [34, 48, 14, 14, 14]
DATE_FORMAT = "yyyy-mm-dd"
# Excel's limit on a sheet name, and the characters it refuses in one.
SHEET_NAME_MAX = 31
BOLD = Font(bold=True)


def safe_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading = + - @ tab or carriage return gets a
    quote in front (OWASP's CSV-injection advice, as ``compliance.exports.csv_safe``)."""
    return "'" + value if value[:1] in FORMULA_PREFIXES else value


def _cell(sheet: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> Any:
    """The value to append: text neutralised; a date (or a bold cell) as a cell with its
    format; anything else as it is (openpyxl makes the cell)."""
    if isinstance(value, str):
        value = safe_text(value)
    if not bold and not isinstance(value, dt.date):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = BOLD
    return cell


def _append(sheet: WriteOnlyWorksheet, values: Iterable[Any], *, bold: bool = False) -> None:
    sheet.append([_cell(sheet, value, bold=bold) for value in values])


def _widths(sheet: WriteOnlyWorksheet, widths: Sequence[int]) -> None:
    # Column widths must be set before the first row is written.
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width


def sheet_name(title: str, used: set[str]) -> str:
    """A unique sheet name of at most 31 characters without the ones Excel refuses."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()[:SHEET_NAME_MAX]
    name, counter = clean, 2
    while name.lower() in used:
        suffix = f" ({counter})"
        name = clean[: SHEET_NAME_MAX - len(suffix)] + suffix
        counter += 1
    used.add(name.lower())
    return name


def write_workbook(
    reports: Sequence[FrameworkReport], out: IO[bytes], *, generated: dt.datetime
) -> int:
    """Write the reports' workbook to ``out`` (a file opened for binary writing) and return the
    number of section rows written. Rows are read from each section's generator and appended as
    they come."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    summary = book.create_sheet(sheet_name("Summary", used))
    _widths(summary, SUMMARY_WIDTHS)
    summary_rows: list[list[Any]] = []
    written = 0
    many = len(reports) > 1
    for report in reports:
        framework = report.adoption.framework
        counts: list[tuple[str, str, int]] = []
        for section in report.sections:
            title = f"{framework.short_name} {section.title}" if many else section.title
            sheet = book.create_sheet(sheet_name(title, used))
            _widths(sheet, [width for _, width in SECTION_COLUMNS])
            _append(sheet, [name for name, _ in SECTION_COLUMNS], bold=True)
            count = 0
            for row in report.rows(section):
                _append(sheet, [row.item, row.detail, row.owner, row.due, row.url])
                count += 1
            counts.append((section.title, sheet.title, count))
            written += count
        summary_rows.extend(_summary_rows(report, counts))
    _append(
        summary, ["Gap analysis", reports[0].scope.organization.name if reports else ""], bold=True
    )
    _append(summary, ["Generated", generated.replace(tzinfo=None)])
    _append(summary, [])
    for values in summary_rows:
        _append(
            summary, values, bold=bool(values) and values[0] in ("Framework", "Section", "Week")
        )
    book.save(out)
    return written


def _summary_rows(report: FrameworkReport, counts: list[tuple[str, str, int]]) -> list[list[Any]]:
    adoption, readiness = report.adoption, report.readiness
    rows: list[list[Any]] = [
        ["Framework", adoption.framework.name],
        ["Scope", ", ".join(c.name for c in sorted(adoption.scope.all(), key=lambda c: c.order))],
        ["Target audit date", adoption.target_audit_date],
    ]
    if readiness is not None:
        rows.append(["Readiness now (%)", readiness.percent])
        rows.append(["Requirements ready", readiness.ready, "of", readiness.total])
    rows.append([])
    rows.append(["Section", "Sheet", "Rows"])
    rows.extend([title, sheet, count] for title, sheet, count in counts)
    rows.append([])
    if report.snapshots:
        rows.append(["Week", "Week of", "Readiness (%)", "Ready", "Of"])
        for snapshot in reversed(report.snapshots):
            rows.append(
                [
                    week_label(snapshot.week),
                    snapshot.week,
                    snapshot.percent,
                    snapshot.requirements_ready,
                    snapshot.requirements_total,
                ]
            )
    else:
        rows.append(["Weekly snapshots", "none yet"])
    rows.append([])
    return rows
