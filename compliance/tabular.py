"""Reading uploaded spreadsheets (CSV or XLSX) for the importers that take either: incoming
security questionnaires, vendor questionnaire templates.

One reader, one set of errors people can act on: an empty file, a file that is not UTF-8, an old
``.xls``, a damaged workbook, too many rows. Cells come back as text with their positions kept
(row ``i`` of a sheet is the file's row ``i + 1``, empty rows included), so an exporter can write
answers back into the same cells. Formulas are reported apart (``Sheet.formulas``): importers
refuse them in the columns they read, and every export passes written cells through
:func:`neutralise`.

CSV: UTF-8 with or without a byte-order mark (kept, so an export opens in Excel the same way);
the delimiter is sniffed among comma, semicolon and tab. XLSX: read with openpyxl in read-only
mode (streamed); values, not cached formula results.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from compliance.exports import FORMULA_PREFIXES

MAX_BYTES = 20 * 1024 * 1024
MAX_COLUMNS = 200
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc) container
CSV_DELIMITERS = ",;\t"


class TableError(ValueError):
    """What is wrong with the file, in words for the person who uploaded it."""


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[str]]
    # (row index, column index) -> the formula's text, for cells that hold one.
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return max((len(row) for row in self.rows), default=0)

    def cell(self, row: int, column: int) -> str:
        if row >= len(self.rows) or column >= len(self.rows[row]):
            return ""
        return self.rows[row][column]

    def formulas_in(self, columns: Iterable[int], *, first_row: int = 0) -> list[str]:
        """Names of the cells holding a formula in these columns, from ``first_row`` on, in
        reading order: what an importer reading those columns must refuse."""
        wanted = set(columns)
        return [
            cell_name(row, column)
            for row, column in sorted(self.formulas)
            if column in wanted and row >= first_row
        ]


@dataclass(frozen=True)
class Table:
    format: Literal["csv", "xlsx"]
    sheets: list[Sheet]
    delimiter: str = ","
    encoding: str = "utf-8"

    @property
    def sheet_names(self) -> list[str]:
        return [sheet.name for sheet in self.sheets]

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise TableError(f"The file has no sheet named {name!r}.")


def column_letter(column: int) -> str:
    """0 -> "A", 26 -> "AA"."""
    return get_column_letter(column + 1)


def cell_name(row: int, column: int) -> str:
    """(0, 1) -> "B1"."""
    return f"{column_letter(column)}{row + 1}"


def looks_like_formula(value: str) -> bool:
    """Text a spreadsheet would run as a formula when opened. A signed number ("-5", "+1.5")
    is not one."""
    if not value or value[0] not in FORMULA_PREFIXES:
        return False
    if value[0] in "+-":
        try:
            float(value)
        except ValueError:
            return True
        return False
    return True


def neutralise(value: str) -> str:
    """Formula-safe text for an exported cell: a leading quote makes Excel, LibreOffice and
    Sheets show the text and never run it."""
    return "'" + value if looks_like_formula(value) else value


def read_table(
    source: IO[bytes], *, filename: str = "", max_rows: int = 10_000, max_bytes: int = MAX_BYTES
) -> Table:
    """Read an uploaded CSV or XLSX file; :class:`TableError` says what is wrong with it."""
    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TableError(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    if not data.strip():
        raise TableError("The file is empty.")
    name = filename.lower()
    if data.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise TableError(
            "This is an old Excel (.xls) file: save it as .xlsx (Excel Workbook) or CSV UTF-8."
        )
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, max_rows=max_rows)
    if name.endswith((".xlsx", ".xlsm")):
        raise TableError("The file is not a valid .xlsx workbook (it may be damaged).")
    return _read_csv(data, max_rows=max_rows)


def _read_csv(data: bytes, *, max_rows: int) -> Table:
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TableError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}). "
            'Save it as "CSV UTF-8" or as an Excel workbook (.xlsx).'
        ) from None
    if "\x00" in text:
        raise TableError("The file is neither CSV text nor an Excel workbook (.xlsx).")
    try:
        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    rows: list[list[str]] = []
    formulas: dict[tuple[int, int], str] = {}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for index, raw in enumerate(reader):
            if index >= max_rows:
                raise TableError(f"The file has more than {max_rows:,} rows.")
            row = _trim(raw)
            if len(row) > MAX_COLUMNS:
                raise TableError(f"Row {index + 1} has more than {MAX_COLUMNS} columns.")
            for column, value in enumerate(row):
                if looks_like_formula(value):
                    formulas[(index, column)] = value
            rows.append(row)
    except csv.Error as exc:
        raise TableError(f"The CSV could not be read at line {reader.line_num}: {exc}.") from None
    rows = _trim_rows(rows)
    if not rows:
        raise TableError("The file is empty.")
    return Table(
        format="csv",
        sheets=[Sheet(name="CSV", rows=rows, formulas=formulas)],
        delimiter=delimiter,
        encoding=encoding,
    )


def _read_xlsx(data: bytes, *, max_rows: int) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TableError(
            f"The file is not a valid .xlsx workbook (it may be damaged): {exc}."
        ) from None
    sheets: list[Sheet] = []
    try:
        for worksheet in workbook.worksheets:
            rows: list[list[str]] = []
            formulas: dict[tuple[int, int], str] = {}
            for index, cells in enumerate(worksheet.iter_rows()):
                if index >= max_rows:
                    raise TableError(f"Sheet {worksheet.title!r} has more than {max_rows:,} rows.")
                row: list[str] = []
                for column, cell in enumerate(cells[:MAX_COLUMNS]):
                    value = getattr(cell, "value", None)
                    text = _text(value)
                    if getattr(cell, "data_type", None) == "f" or looks_like_formula(text):
                        formulas[(index, column)] = text
                    row.append(text)
                rows.append(_trim(row))
            sheets.append(Sheet(name=worksheet.title, rows=_trim_rows(rows), formulas=formulas))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(f"The workbook could not be read (it may be damaged): {exc}.") from None
    finally:
        workbook.close()
    if not any(sheet.rows for sheet in sheets):
        raise TableError("The workbook has no rows.")
    return Table(format="xlsx", sheets=sheets)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _trim(row: list[Any]) -> list[str]:
    cells = [cell if isinstance(cell, str) else _text(cell) for cell in row]
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def _trim_rows(rows: list[list[str]]) -> list[list[str]]:
    while rows and not rows[-1]:
        rows.pop()
    return rows
