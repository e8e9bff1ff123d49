"""Writes of the people app: every change goes through here, with its audit event.

* :mod:`people.services.roster` — people, requirements, completion records;
* :mod:`people.services.imports` — the roster CSV import;
* :mod:`people.services.notices` — the admins' overdue emails (``people_tick``).
"""

from people.services.imports import ImportResult, people_import
from people.services.notices import (
    OverdueItem,
    admin_emails,
    overdue_items,
    people_for_tick,
    people_notify_overdue,
)
from people.services.roster import (
    DEFAULTS,
    KIND_ORDER,
    STARTER_SET,
    PersonChanges,
    RequirementChanges,
    account_for,
    accounts_by_email,
    people_requirements_ensure,
    person_create,
    person_update,
    record_create,
    requirement_update,
)

__all__ = [
    "DEFAULTS",
    "KIND_ORDER",
    "STARTER_SET",
    "ImportResult",
    "OverdueItem",
    "PersonChanges",
    "RequirementChanges",
    "account_for",
    "accounts_by_email",
    "admin_emails",
    "overdue_items",
    "people_for_tick",
    "people_import",
    "people_notify_overdue",
    "people_requirements_ensure",
    "person_create",
    "person_update",
    "record_create",
    "requirement_update",
]
