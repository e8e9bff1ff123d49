"""Overdue items and the admins' daily email about them (people.tasks.people_tick)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from compliance.audit import audit_record
from compliance.emails import email_queue
from compliance.models import Membership, Organization, Role
from people import completion
from people.models import Person, PersonnelNotice, RequirementKind
from people.services.roster import people_requirements_ensure

# --- overdue notices (people_tick) --------------------------------------------------------------


@dataclass(frozen=True)
class OverdueItem:
    person: Person
    kind: str
    label: str
    due: dt.date


def overdue_items(*, organization: Organization, today: dt.date) -> list[OverdueItem]:
    """Onboarding items past due and offboardings past their SLA, for the whole roster."""
    requirements = people_requirements_ensure(organization=organization)
    people = list(
        Person.objects.filter(organization=organization).only(
            "pk", "full_name", "email", "employment_type", "start_date", "end_date",
            "organization_id",
        )
    )  # fmt: skip
    items = []
    labels = {r.kind: r.get_kind_display() for r in requirements}
    for result in completion.evaluate(
        organization=organization, people=people, requirements=requirements, today=today
    ):
        for kind, cell in result.cells.items():
            if cell.state == completion.CellState.OVERDUE and cell.due is not None:
                items.append(OverdueItem(result.person, kind, labels[kind], cell.due))
    return items


def admin_emails(organization: Organization) -> list[str]:
    return sorted(
        Membership.objects.active()
        .filter(organization=organization, role=Role.ADMIN, user__is_active=True)
        .values_list("user__email", flat=True)
    )


@transaction.atomic
def people_notify_overdue(*, organization: Organization, today: dt.date) -> list[PersonnelNotice]:
    """Email the admins once about items that became overdue; each item is noted so that a
    re-run (or the next day's run) does not send it again."""
    Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
    items = overdue_items(organization=organization, today=today)
    if not items:
        return []
    sent = set(
        PersonnelNotice.objects.filter(person__organization=organization).values_list(
            "person_id", "kind", "due_date"
        )
    )
    new = [i for i in items if (i.person.pk, i.kind, i.due) not in sent]
    recipients = admin_emails(organization)
    if not new or not recipients:
        return []
    new.sort(key=lambda i: (i.kind != RequirementKind.OFFBOARDING, i.due, i.person.full_name))
    offboarding = [i for i in new if i.kind == RequirementKind.OFFBOARDING]
    onboarding = [i for i in new if i.kind != RequirementKind.OFFBOARDING]
    email = email_queue(
        template="person_overdue",
        to=recipients,
        context={
            "organization": organization,
            "offboarding": offboarding,
            "onboarding": onboarding,
            "today": today,
        },
    )
    notices = PersonnelNotice.objects.bulk_create(
        [PersonnelNotice(person=i.person, kind=i.kind, due_date=i.due, email=email) for i in new]
    )
    audit_record(
        actor=None,
        organization=organization,
        action="people.overdue_notice",
        obj=email,
        after={
            "to": recipients,
            "items": [[i.person.email, i.kind, i.due.isoformat()] for i in new],
        },
    )
    return notices


def people_for_tick() -> QuerySet[Organization]:
    return Organization.objects.filter(people__isnull=False).distinct().order_by("pk")
