"""People's part of "My work" (see compliance.work).

Admins (who may record completions) get the overdue onboarding items, one line per requirement
linking to the people concerned, and each offboarding past its SLA. Anyone whose account is
linked to a person of the roster gets their own open items that they can act on themselves
(training, MFA, password manager, agreement); policy acknowledgements are listed by Policies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.formats import date_format

from compliance.models import Organization, User
from compliance.permissions import Capability, has_capability, membership_for
from compliance.work import GROUP_LIMIT, WorkGroup, WorkItem, group_of, register_work_source
from people import completion
from people.completion import Cell, CellState
from people.models import Person, PersonnelRecord, PersonnelRequirement, RequirementKind
from people.readiness import PERSON_FIELDS, filtered_list_url

SELF_SERVICE = (
    RequirementKind.SECURITY_TRAINING,
    RequirementKind.MFA,
    RequirementKind.PASSWORD_MANAGER,
    RequirementKind.AGREEMENT,
)


@register_work_source
def people_work(
    user: User, organization: Organization, *, limit: int = GROUP_LIMIT
) -> Iterator[WorkGroup | None]:
    requirements = list(PersonnelRequirement.objects.filter(organization=organization))
    if not requirements:
        return  # the organization does not track people yet
    today = completion.organization_today(organization)
    slug = organization.slug
    is_admin = has_capability(membership_for(user, organization), Capability.MANAGE_PEOPLE)
    own = Q(user=user)
    wanted = own
    if is_admin:
        revoked = PersonnelRecord.objects.filter(
            person=OuterRef("pk"), kind=RequirementKind.OFFBOARDING
        )
        wanted |= (
            Q(end_date__isnull=True)
            | Q(end_date__gte=today)
            | Q(Q(end_date__isnull=False), ~Exists(revoked))
        )
    people = list(
        Person.objects.filter(wanted, organization=organization).only(*PERSON_FIELDS, "user_id")
    )
    results = completion.evaluate(
        organization=organization, people=people, requirements=requirements, today=today
    )
    labels = {r.kind: r.get_kind_display() for r in requirements}

    own_items: list[WorkItem] = []
    for result in results:
        person = result.person
        if person.user_id != user.pk:
            continue
        for own_kind in SELF_SERVICE:
            cell = result.cells.get(own_kind)
            if cell is None or not cell.is_open:
                continue
            own_items.append(
                WorkItem(
                    kind="Your onboarding",
                    title=labels[own_kind] + (f" ({cell.note})" if cell.note else ""),
                    url=reverse("person_detail", args=[slug, person.pk]),
                    due=cell.due,
                    status=cell.state.label,
                    tone=cell.tone,
                )
            )
    # A handful at most (one per self-service requirement), each linking to their own page.
    yield group_of("Your onboarding", own_items, limit=limit, key="your_onboarding")

    if not is_admin:
        return
    overdue: dict[str, list[Cell]] = defaultdict(list)
    revoke: list[WorkItem] = []
    for result in results:
        for kind, cell in result.cells.items():
            if cell.state != CellState.OVERDUE:
                continue
            if kind == RequirementKind.OFFBOARDING:
                person = result.person
                left = date_format(person.end_date, "j M Y") if person.end_date else ""
                revoke.append(
                    WorkItem(
                        kind="Revoke access",
                        title=f"{person.full_name} left on {left}; access not revoked",
                        url=reverse("person_detail", args=[slug, person.pk]),
                        due=cell.due,
                        status="Past SLA",
                        tone="bad",
                    )
                )
            else:
                overdue[kind].append(cell)
    yield group_of(
        "Access to revoke",
        revoke,
        limit=limit,
        all_url=filtered_list_url(organization, RequirementKind.OFFBOARDING),
        all_label="people whose access is past its revocation deadline",
        key="access_to_revoke",
    )
    # One line per requirement (a handful), each linking to the people list filtered to it.
    yield group_of(
        "Onboarding overdue",
        (
            WorkItem(
                kind="Onboarding overdue",
                title=f"{labels[kind]}: {len(cells)} {'person' if len(cells) == 1 else 'people'}"
                " overdue",
                url=filtered_list_url(organization, kind),
                due=min((c.due for c in cells if c.due), default=None),
                status="Overdue",
                tone="bad",
            )
            for kind, cells in overdue.items()
        ),
        limit=limit,
        key="onboarding_overdue",
    )
