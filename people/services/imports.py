"""The roster CSV import: checked against the roster, then written in a few bulk queries.

The file format and the row checks are in people.importer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from compliance.audit import audit_record
from compliance.models import Organization, User
from people.importer import ImportMode, ParsedFile, ParsedRow, RowError, parse_csv
from people.models import Person
from people.readiness import people_changed
from people.services.roster import accounts_by_email

# --- CSV import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    mode: ImportMode
    update_existing: bool
    read: int = 0
    created: list[str] = field(default_factory=list)  # emails
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def rejected(self) -> bool:
        """Nothing was imported because of errors (all-or-nothing, or every row was bad)."""
        return bool(self.errors) and not self.imported

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": str(self.mode),
            "update_existing": self.update_existing,
            "rows": self.read,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "skipped_lines": self.bad_lines if self.imported else [],
            "errors": [e.as_dict() for e in sorted(self.errors, key=lambda e: e.line)],
            "warnings": self.warnings,
        }


@dataclass
class _Existing:
    pk: int
    manager_id: int | None
    end_date: dt.date | None


def _check_against_roster(
    rows: list[ParsedRow],
    *,
    existing: dict[str, _Existing],
    email_of: dict[int, str],
    rejected_emails: dict[str, int],
    columns: list[str],
    update_existing: bool,
) -> tuple[list[ParsedRow], list[RowError]]:
    """Roster checks: existing emails, known managers, no manager loops. A row whose manager is
    only on a rejected line is rejected too, until nothing changes."""
    errors: list[RowError] = []
    accepted: list[ParsedRow] = []
    bad_lines = dict(rejected_emails)  # email → the line that has errors
    for row in rows:
        bad_lines[row.email] = row.line  # until accepted below
        person = existing.get(row.email)
        if person is not None and not update_existing:
            errors.append(
                RowError(
                    row.line,
                    f"email {row.email} is already in the roster; this import only adds people "
                    "(choose 'update existing people' to change them).",
                    "email",
                )
            )
            continue
        end = row.end_date if "end_date" in columns else (person.end_date if person else None)
        if end is not None and end < row.start_date:
            errors.append(
                RowError(
                    row.line,
                    f"start_date {row.start_date} is after the last day in the roster ({end}).",
                    "start_date",
                )
            )
            continue
        del bad_lines[row.email]
        accepted.append(row)
    roster_managers = {
        email: email_of.get(e.manager_id, "") if e.manager_id else ""
        for email, e in existing.items()
    }
    while True:
        dropped = _unknown_managers(accepted, existing, bad_lines, errors)
        if not dropped:
            dropped = _manager_loops(accepted, roster_managers, columns, errors)
        if not dropped:
            return accepted, errors
        for row in accepted:
            if row.line in dropped:
                bad_lines[row.email] = row.line
        accepted = [row for row in accepted if row.line not in dropped]


def _unknown_managers(
    accepted: list[ParsedRow],
    existing: dict[str, _Existing],
    bad_lines: dict[str, int],
    errors: list[RowError],
) -> set[int]:
    in_import = {row.email for row in accepted}
    dropped: set[int] = set()
    for row in accepted:
        manager = row.manager_email
        if not manager or manager in in_import or manager in existing:
            continue
        if manager in bad_lines:
            reason = f"manager_email {manager} is on line {bad_lines[manager]}, which has errors."
        else:
            reason = f"manager_email {manager} is not in the roster or in this file."
        errors.append(RowError(row.line, reason, "manager_email"))
        dropped.add(row.line)
    return dropped


def _manager_loops(
    accepted: list[ParsedRow],
    roster_managers: dict[str, str],
    columns: list[str],
    errors: list[RowError],
) -> set[int]:
    """Rows that would close a loop of managers, once imported (the file overrides the roster)."""
    manager_of = dict(roster_managers)
    if "manager_email" in columns:
        manager_of.update({row.email: row.manager_email for row in accepted})
    looped: set[int] = set()
    for row in accepted:
        chain, current = [row.email], manager_of.get(row.email, "")
        seen = {row.email}
        while current and current not in seen:
            chain.append(current)
            seen.add(current)
            current = manager_of.get(current, "")
        if current == row.email:
            errors.append(
                RowError(
                    row.line,
                    f"managers form a loop: {' → '.join([*chain, current])}.",
                    "manager_email",
                )
            )
            looped.add(row.line)
    return looped


PERSON_IMPORT_FIELDS = (
    "full_name", "title", "department", "employment_type", "start_date", "end_date",
)  # fmt: skip
ALWAYS_IMPORTED = ("full_name", "start_date")


def people_import(
    *,
    actor: User | None,
    organization: Organization,
    source: IO[Any],
    mode: ImportMode | str = ImportMode.ALL_OR_NOTHING,
    update_existing: bool = False,
    batch_size: int = 1000,
) -> ImportResult:
    """Import a roster CSV (see people.importer for the columns).

    ``all_or_nothing`` (the default) writes nothing when any row is bad; ``valid_only`` writes the
    good rows and reports the bad ones. An email already in the roster is an error unless
    ``update_existing`` is set, in which case that person is updated from the file's columns.
    The file is read once, as a stream; the writes are a few bulk queries whatever the number
    of rows. New people are linked to the Attest account with their email, if any.
    """
    mode = ImportMode(mode)
    parsed = parse_csv(source)
    result = ImportResult(
        mode=mode,
        update_existing=update_existing,
        read=parsed.read,
        errors=list(parsed.errors),
        warnings=list(parsed.warnings),
    )
    if not parsed.header_ok:
        return result
    with transaction.atomic():
        # One import at a time per organization, so the checks stay true until the commit.
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        rows, more = _roster_check(organization, parsed, update_existing)
        result.errors.extend(more)
        if not rows or (mode == ImportMode.ALL_OR_NOTHING and result.errors):
            return result
        try:
            with transaction.atomic():
                _write(organization, rows, parsed.columns, result, batch_size)
        except IntegrityError as exc:
            raise ValidationError(
                "The roster changed while importing; nothing was imported. Run it again."
            ) from exc
        if result.imported:
            # The roster changed: the controls linked to personnel requirements (and only
            # those) read it; a fixed number of queries however many rows were imported.
            people_changed(organization=organization)
            audit_record(
                actor=actor,
                organization=organization,
                action="people.import",
                object_type="people.person",
                object_repr=f"CSV import of {len(result.created) + len(result.updated)} people",
                after={
                    "mode": str(mode),
                    "update_existing": update_existing,
                    "created": result.created,
                    "updated": result.updated,
                    "skipped_lines": result.bad_lines,
                },
            )
    return result


def _roster_check(
    organization: Organization, parsed: ParsedFile, update_existing: bool
) -> tuple[list[ParsedRow], list[RowError]]:
    existing: dict[str, _Existing] = {}
    email_of: dict[int, str] = {}
    roster = Person.objects.filter(organization=organization).annotate(email_l=Lower("email"))
    for pk, email, manager_id, end_date in roster.values_list(
        "pk", "email_l", "manager_id", "end_date"
    ):
        existing[email] = _Existing(pk, manager_id, end_date)
        email_of[pk] = email
    rows, errors = _check_against_roster(
        parsed.rows,
        existing=existing,
        email_of=email_of,
        rejected_emails=parsed.rejected_emails,
        columns=parsed.columns,
        update_existing=update_existing,
    )
    for line, manager in parsed.unchecked_managers:
        if manager not in parsed.emails and manager not in existing:
            reason = f"manager_email {manager} is not in the roster or in this file."
            errors.append(RowError(line, reason, "manager_email"))
    return rows, errors


def _write(
    organization: Organization,
    rows: list[ParsedRow],
    columns: list[str],
    result: ImportResult,
    batch_size: int,
) -> None:
    emails = [row.email for row in rows]
    roster = {
        person.email_l: person
        for person in Person.objects.annotate(email_l=Lower("email")).filter(
            organization=organization, email_l__in=emails
        )
    }
    accounts = accounts_by_email(organization, [e for e in emails if e not in roster])
    new_people: dict[str, Person] = {}
    updated: dict[str, Person] = {}
    for row in rows:
        person = roster.get(row.email)
        if person is None:
            new_people[row.email] = Person(
                organization=organization,
                full_name=row.full_name,
                email=row.email,
                title=row.title,
                department=row.department,
                employment_type=row.employment_type,
                start_date=row.start_date,
                end_date=row.end_date,
                user_id=accounts.get(row.email),
            )
            continue
        before = [getattr(person, name) for name in PERSON_IMPORT_FIELDS]
        for name in PERSON_IMPORT_FIELDS:
            if name in columns or name in ALWAYS_IMPORTED:
                setattr(person, name, getattr(row, name))
        if [getattr(person, name) for name in PERSON_IMPORT_FIELDS] != before:
            updated[row.email] = person
    managers = {r.email: r.manager_email for r in rows} if "manager_email" in columns else {}
    ids = {email: p.pk for email, p in roster.items()}
    outside = {m for m in managers.values() if m and m not in ids and m not in new_people}
    if outside:
        ids.update(
            Person.objects.annotate(email_l=Lower("email"))
            .filter(organization=organization, email_l__in=outside)
            .values_list("email_l", "pk")
        )
    # New people are inserted by level of the hierarchy, each with its manager already known:
    # a bulk insert per level (and per batch), never an update per row.
    waiting = list(new_people.values())
    while waiting:
        ready: list[Person] = []
        later: list[Person] = []
        for newcomer in waiting:
            manager = managers.get(newcomer.email, "")
            if manager and manager not in ids:
                later.append(newcomer)
                continue
            newcomer.manager_id = ids[manager] if manager else None
            ready.append(newcomer)
        if not ready:  # the roster checks rule loops out; this would be a bug
            raise RuntimeError("Managers of the imported rows form a loop.")
        Person.objects.bulk_create(ready, batch_size=batch_size)
        ids.update({p.email: p.pk for p in ready})
        waiting = later
    for email, person in roster.items():
        if email in managers:
            manager_id = ids[managers[email]] if managers[email] else None
            if person.manager_id != manager_id:
                person.manager_id = manager_id
                updated[email] = person
    Person.objects.bulk_update(
        updated.values(), [*PERSON_IMPORT_FIELDS, "manager"], batch_size=batch_size
    )
    result.created = list(new_people)
    result.updated = list(updated)
    result.unchanged = len(roster) - len(updated)
