"""Reads of the roster, records and requirements, always through the permission choke point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from compliance.filters import FilterSet
from compliance.models import Organization, User
from compliance.permissions import restrict
from controls.models import Control
from evidence.models import EvidenceItem
from people import completion
from people.completion import CELL_STATES, PersonCompletion
from people.models import (
    EmploymentType,
    Person,
    PersonnelRecord,
    PersonnelRequirement,
    RequirementKind,
    active_people_q,
)

# Who is listed: public name → label. "open" is the completion matrix's default: everyone still
# employed, and leavers whose access revocation is not recorded yet.
STATUSES = {
    "current": "Current (not left)",
    "active": "Active",
    "upcoming": "Starting later",
    "left": "Left",
    "open": "Current, or access not revoked",
    "all": "Everyone",
}
OVERALL = {
    "overdue": "Something overdue",
    "incomplete": "Something due or overdue",
    "complete": "Nothing due",
}
# What a list may be sorted by: public name → database ordering. Nothing else is accepted.
PERSON_ORDERING = {
    "name": ("full_name", "pk"),
    "email": ("email", "pk"),
    "title": ("title", "full_name", "pk"),
    "department": ("department", "full_name", "pk"),
    "type": ("employment_type", "full_name", "pk"),
    "manager": ("manager__full_name", "full_name", "pk"),
    "start_date": ("start_date", "full_name", "pk"),
    "end_date": ("end_date", "full_name", "pk"),
}


def status_q(status: str, today: dt.date) -> Q:
    revoked = PersonnelRecord.objects.filter(
        person=OuterRef("pk"), kind=RequirementKind.OFFBOARDING
    )
    current = Q(end_date__isnull=True) | Q(end_date__gte=today)
    choices: dict[str, Q] = {
        "current": current,
        "active": active_people_q(today),
        "upcoming": Q(start_date__gt=today),
        "left": Q(end_date__lt=today),
        "open": current | Q(Q(end_date__isnull=False), ~Exists(revoked)),
    }
    return choices.get(status, Q())


def person_list(*, user: User, organization: Organization) -> QuerySet[Person]:
    return (
        restrict(Person.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("manager", "user")
    )


def person_get(*, user: User, organization: Organization, pk: Any) -> Person:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such person.") from None
    person = person_list(user=user, organization=organization).filter(pk=pk).first()
    if person is None:
        raise Http404("No such person.")
    return person


def person_records(*, user: User, person: Person) -> QuerySet[PersonnelRecord]:
    return (
        restrict(PersonnelRecord.objects.all(), user, organization=person.organization)
        .filter(person=person)
        .select_related("recorded_by", "evidence")
        .order_by("-completed_on", "-id")
    )


def record_list(*, user: User, organization: Organization) -> QuerySet[PersonnelRecord]:
    return (
        restrict(PersonnelRecord.objects.all(), user, organization=organization)
        .filter(person__organization=organization)
        .select_related("recorded_by", "evidence", "person")
    )


def departments(*, user: User, organization: Organization) -> list[str]:
    return list(
        person_list(user=user, organization=organization)
        .exclude(department="")
        .order_by("department")
        .values_list("department", flat=True)
        .distinct()
    )


def manager_choices(
    *, user: User, organization: Organization, exclude: Person | None = None
) -> QuerySet[Person]:
    people = restrict(Person.objects.all(), user, organization=organization).filter(
        organization=organization
    )
    if exclude is not None and exclude.pk:
        people = people.exclude(pk=exclude.pk)
    return people.order_by("full_name", "email")


def evidence_choices(*, user: User, organization: Organization) -> QuerySet[EvidenceItem]:
    """Evidence a record may point to: the organization's, as far as the user can see it."""
    return restrict(EvidenceItem.objects.all(), user, organization=organization).filter(
        organization=organization
    )


def control_choices(*, user: User, organization: Organization) -> QuerySet[Control]:
    return restrict(Control.objects.all(), user, organization=organization).filter(
        organization=organization, archived_at__isnull=True
    )


def requirement_get(*, user: User, organization: Organization, kind: str) -> PersonnelRequirement:
    requirement = (
        restrict(PersonnelRequirement.objects.all(), user, organization=organization)
        .filter(organization=organization, kind=kind)
        .select_related("control")
        .first()
    )
    if requirement is None:
        raise Http404("No such requirement.")
    return requirement


class PersonFilterSet(FilterSet):
    """The roster's filters that the database answers; completion is filtered afterwards."""

    q = django_filters.CharFilter(method="filter_search", label="Search", max_length=100)
    department = django_filters.CharFilter(field_name="department", max_length=100)
    employment_type = django_filters.ChoiceFilter(choices=EmploymentType.choices)
    status = django_filters.ChoiceFilter(
        choices=list(STATUSES.items()), method="filter_status", label="Status"
    )
    manager = django_filters.NumberFilter(field_name="manager_id", label="Manager id")

    class Meta:
        model = Person
        fields = ["q", "department", "employment_type", "status", "manager"]

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def filter_search(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(full_name__icontains=value) | Q(email__icontains=value) | Q(title__icontains=value)
        )

    def filter_status(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        return queryset.filter(status_q(value, self.today)) if value else queryset


def order_people(queryset: QuerySet[Person], sort: str | None) -> tuple[QuerySet[Person], str]:
    """Apply a whitelisted ``sort`` (``name`` or ``-name``); unknown values sort by name."""
    sort = (sort or "").strip()
    key = sort.lstrip("-")
    if key not in PERSON_ORDERING:
        return queryset.order_by(*PERSON_ORDERING["name"]), "name"
    first, *ties = PERSON_ORDERING[key]  # ties keep their natural order
    return queryset.order_by(f"-{first}" if sort.startswith("-") else first, *ties), sort


def clean_completion_filters(
    data: Any, requirements: Sequence[PersonnelRequirement]
) -> dict[str, str]:
    """The completion filters of a request, with unknown values dropped."""
    kinds = {r.kind for r in requirements}
    kind = data.get("requirement", "")
    state = data.get("state", "")
    overall = data.get("completion", "")
    return {
        "requirement": kind if kind in kinds else "",
        "state": state if state in {s.value for s in CELL_STATES} else "",
        "completion": overall if overall in OVERALL else "",
    }


def completion_for(
    *,
    organization: Organization,
    people: Sequence[Person],
    requirements: Sequence[PersonnelRequirement],
    today: dt.date,
) -> dict[int, PersonCompletion]:
    return {
        c.person.pk: c
        for c in completion.evaluate(
            organization=organization, people=people, requirements=requirements, today=today
        )
    }


def filter_by_completion(
    queryset: QuerySet[Person],
    *,
    organization: Organization,
    requirements: Sequence[PersonnelRequirement],
    today: dt.date,
    filters: dict[str, str],
) -> tuple[QuerySet[Person], dict[int, PersonCompletion]]:
    """Narrow ``queryset`` by completion (computed for every listed person, fixed queries)."""
    if not any(filters.values()):
        return queryset, {}
    people = list(
        queryset.select_related(None).only(
            "pk", "full_name", "employment_type", "start_date", "end_date", "organization_id"
        )
    )
    completions = completion_for(
        organization=organization, people=people, requirements=requirements, today=today
    )
    ids = [
        pk
        for pk, c in completions.items()
        if completion.matches(
            c, kind=filters["requirement"], state=filters["state"], overall=filters["completion"]
        )
    ]
    return queryset.filter(pk__in=ids), completions
