"""People block the readiness of the controls linked to their requirements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.readiness import RequirementState, control_blockers, requirement_readiness
from controls.models import Control
from people.models import EmploymentType, PersonnelRequirement
from people.services import record_create, requirement_update
from tests.conftest import World
from tests.factories import ControlFactory, map_control
from tests.people.factories import PersonFactory


@pytest.fixture
def hr01(world: World, requirements: dict[str, PersonnelRequirement]) -> Control:
    """An implemented background-check control, linked to the background check requirement."""
    control = ControlFactory(organization=world.org, ref_id="HR-01", status="implemented")
    map_control(control, world.req_gap)
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["background_check"],
        changes={"control": control},
    )
    return control


@pytest.fixture
def hr04(world: World, requirements: dict[str, PersonnelRequirement]) -> Control:
    control = ControlFactory(organization=world.org, ref_id="HR-04", status="implemented")
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["offboarding"],
        changes={"control": control},
    )
    return control


def blockers(world: World, control: Control) -> list[tuple[str, str]]:
    found = control_blockers(organization=world.org, control_ids=[control.pk])
    return [(b.reason, b.url) for b in found.get(control.pk, [])]


def overdue_url(kind: str) -> str:
    return reverse("person_list", args=["acme"]) + f"?requirement={kind}&state=overdue"


def test_a_control_with_no_one_overdue_is_ready(world: World, hr01: Control) -> None:
    assert blockers(world, hr01) == []
    [state] = requirement_readiness(organization=world.org, requirements=[world.req_gap])
    assert state.state == RequirementState.READY


def test_an_active_employee_without_a_background_check_blocks_the_control(
    world: World, hr01: Control, today: dt.date
) -> None:
    PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=10))
    assert blockers(world, hr01) == [
        ("1 person is overdue for “Background check”.", overdue_url("background_check"))
    ]
    [state] = requirement_readiness(organization=world.org, requirements=[world.req_gap])
    assert state.state == RequirementState.NOT_READY


def test_the_reason_counts_the_people(world: World, hr01: Control, today: dt.date) -> None:
    PersonFactory.create_batch(3, organization=world.org, start_date=today - dt.timedelta(30))
    assert blockers(world, hr01)[0][0] == "3 people are overdue for “Background check”."


def test_people_who_are_not_overdue_do_not_block(
    world: World, hr01: Control, today: dt.date
) -> None:
    start = today - dt.timedelta(days=100)
    PersonFactory(organization=world.org, start_date=today)  # due today
    PersonFactory(organization=world.org, start_date=today + dt.timedelta(days=20))  # later
    PersonFactory(
        organization=world.org, start_date=start, employment_type=EmploymentType.CONTRACTOR
    )  # not required of contractors
    PersonFactory(organization=world.org, start_date=start, end_date=today - dt.timedelta(1))
    PersonFactory(organization=world.other_org, start_date=start)  # another organization
    assert blockers(world, hr01) == []


def test_a_clear_check_unblocks_the_control(world: World, hr01: Control, today: dt.date) -> None:
    pat = PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=10))
    record_create(
        actor=world.users["admin"],
        person=pat,
        kind="background_check",
        completed_on=today - dt.timedelta(days=12),
        provider="Sterling",
        result="clear",
    )
    assert blockers(world, hr01) == []


def test_a_requirement_required_of_no_one_blocks_nothing(
    world: World, hr01: Control, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=10))
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["background_check"],
        changes={"applies_to_employees": False},
    )
    assert blockers(world, hr01) == []


def test_a_leaver_with_access_past_the_sla_blocks_the_offboarding_control(
    world: World, hr04: Control, today: dt.date
) -> None:
    pat = PersonFactory(
        organization=world.org,
        start_date=dt.date(2022, 1, 1),
        end_date=today - dt.timedelta(days=3),
    )
    PersonFactory(  # within the SLA
        organization=world.org, start_date=dt.date(2022, 1, 1), end_date=today - dt.timedelta(1)
    )
    assert blockers(world, hr04) == [
        (
            "1 person who left still has access past the 1-day revocation SLA.",
            overdue_url("offboarding"),
        )
    ]
    record_create(
        actor=world.users["admin"], person=pat, kind="offboarding", completed_on=today
    )  # late, but done: flagged on the person, no longer a blocker
    assert blockers(world, hr04) == []


def test_the_blocker_source_costs_the_same_queries_for_few_or_many_people(
    world: World, hr01: Control, hr04: Control, today: dt.date
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            control_blockers(organization=world.org, control_ids=[hr01.pk, hr04.pk])
        return len(captured.captured_queries)

    def add(count: int) -> None:
        for i in range(count):
            pat = PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=40))
            if i % 2:
                record_create(actor=None, person=pat, kind="mfa", completed_on=today)
        PersonFactory(organization=world.org, end_date=today - dt.timedelta(days=5))

    add(3)
    few = queries()
    add(40)
    assert queries() == few
