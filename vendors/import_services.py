"""The vendor inventory import: rows checked against the inventory and the organization's
members, then each vendor created by ``vendors.services.vendor_create`` (the same validation
and audit event as the "Add vendor" form).

The file format and the row checks are in vendors.importer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from compliance.audit import audit_record
from compliance.models import Organization, User
from controls.services import assignable_owners
from people.completion import organization_today
from vendors.importer import ImportMode, ParsedRow, RowError, parse_file
from vendors.models import Vendor
from vendors.services import vendor_create


@dataclass
class ImportResult:
    mode: ImportMode
    read: int = 0
    created: list[str] = field(default_factory=list)  # vendor names
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return bool(self.created)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def rejected(self) -> bool:
        """Nothing was imported because of errors (all-or-nothing, or every row was bad)."""
        return bool(self.errors) and not self.imported

    def sorted_errors(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.line, e.column))

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": str(self.mode),
            "rows": self.read,
            "created": len(self.created),
            "skipped_lines": self.bad_lines if self.imported else [],
            "errors": [e.as_dict() for e in self.sorted_errors()],
            "warnings": self.warnings,
        }


class _Rollback(Exception):
    """Raised inside the import's transaction to undo every vendor created so far."""


def _check_against_inventory(
    organization: Organization, rows: list[ParsedRow]
) -> tuple[list[tuple[ParsedRow, User | None]], list[RowError]]:
    """Names already in the inventory and owners who are not admins or members: two queries
    whatever the number of rows."""
    names = {row.name.lower() for row in rows}
    taken = set(
        Vendor.objects.filter(organization=organization)
        .annotate(name_l=Lower("name"))
        .filter(name_l__in=names)
        .values_list("name_l", flat=True)
    )
    emails = {row.owner_email for row in rows if row.owner_email}
    owners: dict[str, User] = {}
    if emails:
        owners = {
            user.email_l: user
            for user in assignable_owners(organization)
            .annotate(email_l=Lower("email"))
            .filter(email_l__in=emails)
        }
    accepted: list[tuple[ParsedRow, User | None]] = []
    errors: list[RowError] = []
    for row in rows:
        problems = []
        if row.name.lower() in taken:
            problems.append(RowError(row.line, f"{row.name} is already in the inventory.", "name"))
        if row.owner_email and row.owner_email not in owners:
            problems.append(
                RowError(
                    row.line,
                    f"no admin or member of {organization.name} has the email {row.owner_email}.",
                    "owner_email",
                )
            )
        errors.extend(problems)
        if not problems:
            accepted.append((row, owners.get(row.owner_email) if row.owner_email else None))
    return accepted, errors


def _errors_of(line: int, exc: ValidationError) -> list[RowError]:
    if not hasattr(exc, "error_dict"):
        return [RowError(line, " ".join(exc.messages))]
    return [
        RowError(line, f"{name}: {' '.join(messages)}", "" if name == "__all__" else name)
        for name, messages in exc.message_dict.items()
    ]


def vendors_import(
    *,
    actor: User | None,
    organization: Organization,
    source: IO[bytes],
    filename: str = "",
    mode: ImportMode | str = ImportMode.ALL_OR_NOTHING,
) -> ImportResult:
    """Import vendors from a CSV or XLSX file (see vendors.importer for the columns).

    ``all_or_nothing`` (the default) writes nothing when any row is bad; ``valid_only`` creates
    the good rows and reports the bad ones. A file refused as a whole (unreadable, not UTF-8,
    a missing column, a formula, too many rows) imports nothing in either mode. Each vendor is
    created by ``vendor_create`` (its validation and its ``vendor.create`` audit event); the
    import adds one ``vendor.import`` event naming what it created and skipped.
    """
    mode = ImportMode(mode)
    parsed = parse_file(source, filename=filename)
    result = ImportResult(
        mode=mode, read=parsed.read, errors=list(parsed.errors), warnings=list(parsed.warnings)
    )
    if not parsed.header_ok:
        return result
    today = organization_today(organization)
    try:
        with transaction.atomic():
            # One import at a time per organization, so the checks stay true until the commit.
            Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
            accepted, more = _check_against_inventory(organization, parsed.rows)
            result.errors.extend(more)
            if not accepted or (mode == ImportMode.ALL_OR_NOTHING and result.errors):
                return result
            for row, owner in accepted:
                try:
                    vendor = vendor_create(
                        actor=actor,
                        organization=organization,
                        name=row.name,
                        category=row.category,
                        risk_tier=row.risk_tier,
                        owner=owner,
                        website=row.website,
                        description=row.description,
                        data_access=row.data_access,
                        is_subprocessor=row.is_subprocessor,
                        location=row.location,
                        onboarded_on=row.onboarded_on or today,
                        review_every_months=row.review_every_months,
                    )
                except ValidationError as exc:  # the service's own checks, as in the form
                    result.errors.extend(_errors_of(row.line, exc))
                    continue
                result.created.append(vendor.name)
            if mode == ImportMode.ALL_OR_NOTHING and result.errors:
                raise _Rollback
            if result.created:
                audit_record(
                    actor=actor,
                    organization=organization,
                    action="vendor.import",
                    object_type="vendors.vendor",
                    object_repr=f"Import of {len(result.created)} vendors",
                    after={
                        "mode": str(mode),
                        "file": filename,
                        "created": result.created,
                        "skipped_lines": result.bad_lines,
                    },
                )
    except _Rollback:
        result.created = []
    return result
