"""Reading a vendor inventory file (CSV or XLSX): every problem reported with its line and column.

This module only parses and checks what a row says on its own (and names repeated within the
file); ``vendors.import_services.vendors_import`` checks the rows against the inventory and the
organization's members, and creates the vendors through ``vendors.services.vendor_create``.
The file is read by ``compliance.tabular.read_table`` (encoding, size and row caps, formulas).

Columns (the header names them, in any order, case-insensitive; spaces count as underscores):

===================  ========  ==================================================================
name                 required  unique in the file and in the inventory (case-insensitive)
category             optional  a category's label or key (default: Software (SaaS))
risk_tier            optional  a tier's label or key (default: Medium)
owner_email          optional  an admin or member of the organization
website              optional  a URL (https:// is assumed)
description          optional
data_access          optional  labels or keys separated by ";"
is_subprocessor      optional  yes/no, true/false, 1/0 (default: no)
location             optional  where it processes data, e.g. US, EU
onboarded_on         optional  YYYY-MM-DD (default: today)
review_every_months  optional  0 to 60; empty uses the tier's cadence
===================  ========  ==================================================================

The headings of the inventory export ("Risk tier", "Owner email", "Subprocessor", "Data
location", ...) are read too, so an export can be imported into another organization. Other
columns are ignored (and named in the result's warnings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import IO

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from compliance.tabular import TableError, read_table
from people.importer import ImportMode, RowError
from vendors.models import Category, DataAccess, RiskTier
from vendors.services import MAX_CADENCE_MONTHS

__all__ = ["ImportMode", "ParsedFile", "ParsedRow", "RowError", "parse_file"]

MAX_ROWS = 1_000  # as many as vendor questionnaire templates; each row is one vendor_create
REQUIRED_COLUMNS = ("name",)
OPTIONAL_COLUMNS = (
    "category", "risk_tier", "owner_email", "website", "description", "data_access",
    "is_subprocessor", "location", "onboarded_on", "review_every_months",
)  # fmt: skip
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
ALIASES = {
    "vendor": "name",
    "vendor_name": "name",
    "tier": "risk_tier",
    "subprocessor": "is_subprocessor",
    "data_location": "location",
    "review_every": "review_every_months",
    "review_every_(months)": "review_every_months",
}
MAX_LENGTHS = {"name": 150, "description": 2000, "location": 100}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}
TEMPLATE_ROWS = [
    list(COLUMNS),
    ["Amazon Web Services", "Cloud infrastructure", "Critical", "ada@example.com",
     "https://aws.amazon.com", "Hosting of the production platform", "Customer data; Personal data",
     "yes", "US, EU", "2023-01-09", ""],
    ["Slack", "communication", "medium", "", "https://slack.com", "Team chat", "Employee data",
     "no", "US", "2023-03-01", "24"],
]  # fmt: skip


@dataclass
class ParsedRow:
    line: int
    name: str
    category: str = Category.SOFTWARE
    risk_tier: str = RiskTier.MEDIUM
    owner_email: str = ""
    website: str = ""
    description: str = ""
    data_access: list[str] = field(default_factory=list)
    is_subprocessor: bool = False
    location: str = ""
    onboarded_on: dt.date | None = None  # None: the organization's today
    review_every_months: int | None = None


@dataclass
class ParsedFile:
    format: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read: int = 0  # data rows read, blank rows excluded
    # False when the file itself is refused (unreadable, bad header, formulas): nothing is
    # imported, whatever the mode.
    header_ok: bool = False


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def _choice(value: str, choices: list[tuple[str, str]]) -> str | None:
    """The key of a choice named by its key or its label, case-insensitive."""
    wanted = value.strip().lower()
    for key, label in choices:
        if wanted in (key.lower(), str(label).lower()):
            return key
    return None


def _labels(choices: list[tuple[str, str]]) -> str:
    return ", ".join(str(label) for _, label in choices)


_URL = forms.URLField(max_length=200, assume_scheme="https", required=False)


def parse_row(values: dict[str, str], line: int) -> tuple[ParsedRow | None, list[RowError]]:
    """Check one row on its own: the name, the choices, formats and lengths."""
    errors: list[RowError] = []

    def bad(column: str, reason: str) -> None:
        errors.append(RowError(line, reason, column))

    name = values.get("name", "")
    if not name:
        bad("name", "name is required.")
    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            bad(column, f"{column} is longer than {limit} characters.")

    category: str = Category.SOFTWARE
    if values.get("category"):
        found = _choice(values["category"], Category.choices)
        if found is None:
            bad("category", f"category {values['category']!r} is not one of: "
                f"{_labels(Category.choices)}.")  # fmt: skip
        else:
            category = found
    tier: str = RiskTier.MEDIUM
    if values.get("risk_tier"):
        found = _choice(values["risk_tier"], RiskTier.choices)
        if found is None:
            bad("risk_tier", f"risk_tier {values['risk_tier']!r} is not one of: "
                f"{_labels(RiskTier.choices)}.")  # fmt: skip
        else:
            tier = found

    owner_email = values.get("owner_email", "").lower()
    if owner_email:
        try:
            validate_email(owner_email)
        except ValidationError:
            bad("owner_email", f"owner_email {values['owner_email']!r} is not an email address.")
            owner_email = ""

    website = ""
    if values.get("website"):
        try:
            website = _URL.clean(values["website"])
        except ValidationError as exc:
            bad("website", f"website {values['website']!r}: {' '.join(exc.messages)}")

    data_access: list[str] = []
    unknown: list[str] = []
    for part in values.get("data_access", "").split(";"):
        if not part.strip():
            continue
        found = _choice(part, DataAccess.choices)
        if found is None:
            unknown.append(part.strip())
        elif found not in data_access:
            data_access.append(found)
    if unknown:
        bad("data_access", f"data_access {', '.join(repr(u) for u in unknown)}: use "
            f"{_labels(DataAccess.choices)}, separated by “;”.")  # fmt: skip

    flag = values.get("is_subprocessor", "").lower()
    if flag not in YES | NO:
        bad("is_subprocessor", f"is_subprocessor {values['is_subprocessor']!r}: use yes or no.")

    onboarded_on = None
    if values.get("onboarded_on"):
        try:
            onboarded_on = dt.date.fromisoformat(values["onboarded_on"])
        except ValueError:
            bad("onboarded_on", f"onboarded_on {values['onboarded_on']!r} is not a date; "
                "use YYYY-MM-DD.")  # fmt: skip

    months = None
    if values.get("review_every_months"):
        text = values["review_every_months"]
        if text.isdigit() and int(text) <= MAX_CADENCE_MONTHS:
            months = int(text)
        else:
            bad("review_every_months", f"review_every_months {text!r}: use a whole number "
                f"from 0 (reviewed once) to {MAX_CADENCE_MONTHS}, or leave it empty for the "
                "tier's cadence.")  # fmt: skip

    if errors:
        return None, errors
    return (
        ParsedRow(
            line=line,
            name=name,
            category=category,
            risk_tier=tier,
            owner_email=owner_email,
            website=website,
            description=values.get("description", ""),
            data_access=data_access,
            is_subprocessor=flag in YES,
            location=values.get("location", ""),
            onboarded_on=onboarded_on,
            review_every_months=months,
        ),
        [],
    )


def parse_file(source: IO[bytes], *, filename: str = "") -> ParsedFile:
    """Parse an uploaded inventory file; never raises on bad content, every problem is a
    ``RowError`` (line 0 when it concerns the whole file)."""
    parsed = ParsedFile()
    try:
        # The header plus MAX_ROWS rows; blank rows inside the file count against the cap.
        table = read_table(source, filename=filename, max_rows=MAX_ROWS + 1)
    except TableError as exc:
        message = str(exc)
        if message.endswith(f"more than {MAX_ROWS + 1:,} rows."):
            message = f"The file has more than {MAX_ROWS:,} vendors; split it."
        parsed.errors.append(RowError(0, message))
        return parsed
    parsed.format = table.format
    sheet = table.sheets[0]
    if not sheet.rows or not any(cell.strip() for cell in sheet.rows[0]):
        parsed.errors.append(RowError(1, "The first line must name the columns."))
        return parsed
    columns = [_column(name) for name in sheet.rows[0]]
    parsed.columns = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    repeated = sorted({c for c in columns if c in COLUMNS and columns.count(c) > 1})
    if missing:
        parsed.errors.append(RowError(1, f"The header lacks the column(s): {', '.join(missing)}."))
    if repeated:
        parsed.errors.append(RowError(1, f"The header repeats: {', '.join(repeated)}."))
    if missing or repeated:
        return parsed
    read = [index for index, name in enumerate(columns) if name in COLUMNS]
    formulas = sheet.formulas_in(read, first_row=1)
    if formulas:
        # formulas_in names the cells in reading order, as these positions are sorted.
        positions = sorted(p for p in sheet.formulas if p[1] in read and p[0] >= 1)
        for cell, (at_row, at_column) in zip(formulas, positions, strict=True):
            parsed.errors.append(
                RowError(
                    at_row + 1,
                    f"{cell} holds a formula ({sheet.formulas[(at_row, at_column)][:40]!r}); "
                    "Attest imports text only. Replace it with its text and upload the file again.",
                    columns[at_column],
                )
            )
        return parsed
    ignored = [name for name in sheet.rows[0] if _column(name) not in COLUMNS and name.strip()]
    if ignored:
        parsed.warnings.append(f"Ignored unknown column(s): {', '.join(ignored)}.")
    parsed.header_ok = True

    first_line: dict[str, int] = {}
    for index in range(1, len(sheet.rows)):
        cells = sheet.rows[index]
        if not any(cell.strip() for cell in cells):
            continue
        parsed.read += 1
        line = index + 1
        if len(cells) > len(columns):
            parsed.errors.append(
                RowError(
                    line,
                    f"The row has {len(cells)} values but the header names {len(columns)} columns.",
                )
            )
            continue
        values = {
            name: sheet.cell(index, position).strip()
            for position, name in enumerate(columns) if name in COLUMNS
        }  # fmt: skip
        row, errors = parse_row(values, line)
        key = values.get("name", "").lower()
        if key and key in first_line:
            errors.append(
                RowError(line, f"name {values['name']} is also on line {first_line[key]}.", "name")
            )
            row = None
        elif key:
            first_line[key] = line
        parsed.errors.extend(errors)
        if row is not None:
            parsed.rows.append(row)
    return parsed
