"""Reading a roster CSV: streamed row by row, every problem reported with its line.

This module only parses and checks what a row says on its own (and duplicates within the file);
``people.services.people_import`` checks it against the roster and writes. The file is read
once, as a stream: only the parsed rows are kept.

Columns (the header names them, in any order, case-insensitive):

==================  ========  =====================================================
full_name (name)    required
email               required  unique in the file and, unless updating, the roster
start_date          required  YYYY-MM-DD
end_date            optional  YYYY-MM-DD, not before start_date
title               optional
department          optional
manager_email       optional  someone in the roster or in the file (not themselves)
employment_type     optional  employee (default) or contractor
==================  ========  =====================================================

Other columns are ignored (and named in the result's warnings).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from people.models import EmploymentType

MAX_ROWS = 50_000
REQUIRED_COLUMNS = ("full_name", "email", "start_date")
OPTIONAL_COLUMNS = ("title", "department", "manager_email", "employment_type", "end_date")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
ALIASES = {"name": "full_name", "manager": "manager_email", "type": "employment_type"}
MAX_LENGTHS = {"full_name": 150, "email": 254, "title": 150, "department": 100}
TEMPLATE_ROWS = [
    list(COLUMNS),
    ["Ada Byron", "ada@example.com", "2025-02-03", "Staff engineer", "Engineering",
     "grace@example.com", "employee", ""],
    ["Grace Hopper", "grace@example.com", "2023-06-12", "VP Engineering", "Engineering", "",
     "employee", ""],
]  # fmt: skip


class ImportMode(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    VALID_ONLY = "valid_only"

    @property
    def label(self) -> str:
        return {
            "all_or_nothing": "Import nothing if any row has an error",
            "valid_only": "Import the valid rows, skip the others",
        }[self.value]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    column: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedRow:
    line: int
    full_name: str
    email: str
    start_date: dt.date
    end_date: dt.date | None = None
    title: str = ""
    department: str = ""
    manager_email: str = ""
    employment_type: str = EmploymentType.EMPLOYEE


@dataclass
class ParsedFile:
    columns: list[str] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Emails of rows with errors, by line: a row naming one as its manager is told why.
    rejected_emails: dict[str, int] = field(default_factory=dict)
    # Every email of the file, and the managers named on rows rejected for another reason (the
    # roster check still tells whether they exist, so one round of fixes is enough).
    emails: set[str] = field(default_factory=set)
    unchecked_managers: list[tuple[int, str]] = field(default_factory=list)
    read: int = 0  # data rows read, blank lines excluded
    header_ok: bool = False


def text_stream(source: IO[Any]) -> IO[str]:
    """A text view of an uploaded (binary) file or an open text file, without reading it all."""
    if isinstance(source, io.TextIOBase):
        return source
    reader = codecs.getreader("utf-8-sig")
    return reader(source, "strict")  # type: ignore[return-value]


def _column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _date(value: str, column: str, line: int, errors: list[RowError]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(RowError(line, f"{column} {value!r} is not a date; use YYYY-MM-DD.", column))
        return None


def _email(value: str, column: str, line: int, errors: list[RowError]) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors.append(RowError(line, f"{column} {value!r} is not an email address.", column))
        return ""
    return email


def parse_row(values: dict[str, str], line: int) -> tuple[ParsedRow | None, list[RowError]]:
    """Check one row on its own: required values, formats, lengths, dates in order."""
    errors: list[RowError] = []
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            errors.append(RowError(line, f"{column} is required.", column))
    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            errors.append(RowError(line, f"{column} is longer than {limit} characters.", column))
    email = _email(values["email"], "email", line, errors) if values.get("email") else ""
    manager = values.get("manager_email", "")
    manager_email = _email(manager, "manager_email", line, errors) if manager else ""
    if email and manager_email == email:
        errors.append(RowError(line, "A person cannot be their own manager.", "manager_email"))
    start = (
        _date(values["start_date"], "start_date", line, errors)
        if values.get("start_date")
        else None
    )
    end = _date(values["end_date"], "end_date", line, errors) if values.get("end_date") else None
    if start and end and end < start:
        errors.append(RowError(line, f"end_date {end} is before start_date {start}.", "end_date"))
    kind = values.get("employment_type", "").lower() or EmploymentType.EMPLOYEE
    if kind not in EmploymentType.values:
        errors.append(
            RowError(
                line,
                f"employment_type {values['employment_type']!r} is not valid; use "
                f"{' or '.join(EmploymentType.values)}.",
                "employment_type",
            )
        )
    if errors or start is None:
        return None, errors
    return (
        ParsedRow(
            line=line,
            full_name=values["full_name"],
            email=email,
            start_date=start,
            end_date=end,
            title=values.get("title", ""),
            department=values.get("department", ""),
            manager_email=manager_email,
            employment_type=kind,
        ),
        [],
    )


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, cells); a record can span lines inside quotes."""
    line = reader.line_num
    for cells in reader:
        yield line + 1, cells
        line = reader.line_num


def parse_csv(source: IO[Any]) -> ParsedFile:
    """Parse a roster CSV; never raises on bad content, every problem is a ``RowError``."""
    parsed = ParsedFile()
    reader = csv.reader(text_stream(source))
    records = _records(reader)
    try:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header[1]):
            parsed.errors.append(
                RowError(1, "The file is empty; its first line must name the columns.")
            )
            return parsed
        columns = [_column(name) for name in header[1]]
        parsed.columns = columns
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        repeated = sorted({c for c in columns if c and columns.count(c) > 1})
        if missing:
            parsed.errors.append(
                RowError(1, f"The header lacks the column(s): {', '.join(missing)}.")
            )
        if repeated:
            parsed.errors.append(RowError(1, f"The header repeats: {', '.join(repeated)}."))
        if missing or repeated:
            return parsed
        ignored = [name for name in columns if name not in COLUMNS]
        if ignored:
            parsed.warnings.append(f"Ignored unknown column(s): {', '.join(ignored)}.")
        parsed.header_ok = True

        first_line: dict[str, int] = {}
        for line, cells in records:
            if not any(cell.strip() for cell in cells):
                continue
            parsed.read += 1
            if parsed.read > MAX_ROWS:
                parsed.errors.append(
                    RowError(line, f"The file has more than {MAX_ROWS:,} rows; split it.")
                )
                parsed.rows = []
                return parsed
            if len(cells) != len(columns):
                parsed.errors.append(
                    RowError(
                        line,
                        f"The row has {len(cells)} values but the header names "
                        f"{len(columns)} columns.",
                    )
                )
                continue
            values = {
                name: cell.strip() for name, cell in zip(columns, cells, strict=True)
                if name in COLUMNS
            }  # fmt: skip
            row, errors = parse_row(values, line)
            email = values.get("email", "").lower()
            if email and email in first_line:
                errors.append(
                    RowError(
                        line,
                        f"email {email} is also on line {first_line[email]}.",
                        "email",
                    )
                )
                row = None
            elif email:
                first_line[email] = line
            parsed.errors.extend(errors)
            if email:
                parsed.emails.add(email)
            if row is not None:
                parsed.rows.append(row)
                continue
            if email and first_line.get(email) == line:
                parsed.rejected_emails[email] = line
            manager = values.get("manager_email", "").lower()
            if manager and not any(e.column == "manager_email" for e in errors):
                parsed.unchecked_managers.append((line, manager))
    except UnicodeDecodeError:
        parsed.errors.append(
            RowError(reader.line_num + 1, "The file is not UTF-8 text; save it as CSV UTF-8.")
        )
        parsed.rows = []
        parsed.header_ok = False
    except csv.Error as exc:
        parsed.errors.append(RowError(reader.line_num, f"The file is not valid CSV: {exc}."))
        parsed.rows = []
        parsed.header_ok = False
    return parsed
