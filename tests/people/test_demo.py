"""Northwind Cloud's demo roster: believable, mostly done, with a few realistic gaps."""

from __future__ import annotations

import pytest

from compliance import demo
from compliance.models import Organization
from controls.models import Control
from people import completion
from people.completion import CellState
from people.models import Person, PersonnelRequirement
from people.readiness import people_blockers


@pytest.fixture
def northwind(db: None) -> Organization:
    return demo.seed_demo()


def test_the_demo_roster_is_believable_and_linked(northwind: Organization) -> None:
    people = Person.objects.filter(organization=northwind)
    assert 20 <= people.count() <= 30
    assert set(people.values_list("department", flat=True)) == {
        "Engineering", "Sales", "Support", "People Ops", "Finance",
    }  # fmt: skip
    assert people.filter(employment_type="contractor").count() >= 2
    assert people.filter(end_date__isnull=False).count() == 2
    assert people.filter(manager__isnull=False).count() == people.count() - 1

    # The demo users are linked to their people, by email.
    linked = set(
        Person.objects.filter(organization=northwind, user__isnull=False).values_list(
            "user__email", flat=True
        )
    )
    assert linked == {
        f"{name}@northwind.test" for name in ("dana", "marcus", "priya", "tom", "alice", "sam")
    }

    # Requirements are linked to the starter controls.
    links = dict(
        PersonnelRequirement.objects.filter(
            organization=northwind, control__isnull=False
        ).values_list("kind", "control__ref_id")
    )
    assert links == {
        "background_check": "HR-01",
        "agreement": "HR-02",
        "security_training": "HR-03",
        "offboarding": "HR-04",
        "mfa": "IAM-02",
        "password_manager": "IAM-01",
    }


def test_most_requirements_are_done_and_a_few_gaps_block_hr01_and_hr04(
    northwind: Organization,
) -> None:
    controls = {
        c.ref_id: c.pk
        for c in Control.objects.filter(organization=northwind, ref_id__in=["HR-01", "HR-04"])
    }
    reasons = {b.control_id: b.reason for b in people_blockers(northwind, list(controls.values()))}
    assert reasons == {
        controls["HR-01"]: "1 person is overdue for “Background check”.",
        controls["HR-04"]: "1 person who left still has access past the 1-day revocation SLA.",
    }

    today = completion.organization_today(northwind)
    requirements = list(PersonnelRequirement.objects.filter(organization=northwind))
    results = completion.evaluate(
        organization=northwind,
        people=list(Person.objects.filter(organization=northwind)),
        requirements=requirements,
        today=today,
    )
    cells = [c for r in results for c in r.cells.values() if c.state != CellState.NOT_REQUIRED]
    done = sum(1 for c in cells if c.state == CellState.DONE)
    overdue = sum(1 for c in cells if c.state == CellState.OVERDUE)
    assert done / len(cells) > 0.85
    assert 2 <= overdue <= 6
