"""People's say in readiness (see compliance.readiness).

A control linked to a personnel requirement is not ready while an active person it applies to
lacks that requirement past its due date (e.g. HR-01 while an employee has no clear background
check after their start date), or, for the offboarding requirement, while someone who left
still has access past the revocation SLA. The reason says how many people, and links to the
roster filtered to them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from compliance.models import Organization
from compliance.readiness import Blocker, controls_changed, register_blocker_source
from compliance.snapshots import register_snapshot_source
from controls.models import BlockerKind
from people import completion
from people.completion import CellState
from people.models import Person, PersonnelRecord, PersonnelRequirement, RequirementKind

PERSON_FIELDS = ("pk", "full_name", "employment_type", "start_date", "end_date", "organization_id")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def blocker_reason(requirement: PersonnelRequirement, count: int) -> str:
    if requirement.is_offboarding:
        return (
            f"{_plural(count, 'person who left still has', 'people who left still have')} "
            f"access past the {requirement.due_days}-day revocation SLA."
        )
    return (
        f"{_plural(count, 'person is', 'people are')} overdue for "
        f"“{requirement.get_kind_display()}”."
    )


def filtered_list_url(organization: Organization, kind: str, state: str = "overdue") -> str:
    return reverse("person_list", args=[organization.slug]) + f"?requirement={kind}&state={state}"


@register_blocker_source
def people_blockers(
    organization: Organization, control_ids: Sequence[int], *, as_of: dt.datetime | None = None
) -> Iterator[Blocker]:
    linked = [
        r
        for r in PersonnelRequirement.objects.filter(
            organization=organization, control_id__in=control_ids
        )
        if r.is_enabled
    ]
    if not linked:
        return
    today = completion.organization_today(organization, as_of)
    # As of a past moment: records completed by that day (see completion.evaluate).
    done_by = {} if as_of is None else {"completed_on__lte": today}
    # Only people who can be overdue: those still employed and, for offboarding, leavers whose
    # revocation is not recorded (a late revocation is flagged on the person, not a blocker).
    wanted = Q(end_date__isnull=True) | Q(end_date__gte=today)
    if any(r.is_offboarding for r in linked):
        revoked = PersonnelRecord.objects.filter(
            person=OuterRef("pk"), kind=RequirementKind.OFFBOARDING, **done_by
        )
        wanted |= Q(Q(end_date__isnull=False), ~Exists(revoked))
    people = list(Person.objects.filter(wanted, organization=organization).only(*PERSON_FIELDS))
    overdue: Counter[str] = Counter()
    for result in completion.evaluate(
        organization=organization, people=people, requirements=linked, today=today, as_of=as_of
    ):
        for kind, cell in result.cells.items():
            if cell.state == CellState.OVERDUE:
                overdue[kind] += 1
    for requirement in linked:
        count = overdue[requirement.kind]
        if count and requirement.control_id is not None:
            yield Blocker(
                requirement.control_id,
                BlockerKind.ACCESS_NOT_REVOKED
                if requirement.is_offboarding
                else BlockerKind.PEOPLE_OVERDUE,
                blocker_reason(requirement, count),
                filtered_list_url(organization, requirement.kind),
            )


def people_linked_controls(*, organization: Organization) -> Any:
    """The ids of the controls linked to a personnel requirement (a queryset)."""
    return PersonnelRequirement.objects.filter(
        organization=organization, control__isnull=False
    ).values_list("control_id", flat=True)


def people_changed(*, organization: Organization) -> None:
    """The roster, a record or an acknowledgement changed: the stored readiness of the controls
    linked to a personnel requirement is brought up to date (in the caller's transaction)."""
    controls_changed(
        organization=organization, control_ids=people_linked_controls(organization=organization)
    )


@register_snapshot_source
def people_snapshot_counts(
    organization: Organization, *, at: dt.datetime, on: dt.date
) -> dict[str, int]:
    """Personnel items overdue on ``on`` (one per person and requirement), over every enabled
    requirement whether or not a control is linked to it, judged as of ``at`` as the blocker
    source judges them. A fixed number of queries (those of ``completion.evaluate``)."""
    requirements = [
        r for r in PersonnelRequirement.objects.filter(organization=organization) if r.is_enabled
    ]
    if not requirements:
        return {"people_overdue": 0}
    revoked = PersonnelRecord.objects.filter(
        person=OuterRef("pk"), kind=RequirementKind.OFFBOARDING, completed_on__lte=on
    )
    wanted = (
        Q(end_date__isnull=True)
        | Q(end_date__gte=on)
        | Q(Q(end_date__isnull=False), ~Exists(revoked))
    )
    people = list(
        Person.objects.filter(wanted, organization=organization, start_date__lte=on).only(
            *PERSON_FIELDS
        )
    )
    overdue = 0
    for result in completion.evaluate(
        organization=organization, people=people, requirements=requirements, today=on, as_of=at
    ):
        overdue += sum(1 for cell in result.cells.values() if cell.state == CellState.OVERDUE)
    return {"people_overdue": overdue}
