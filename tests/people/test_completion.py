"""When a requirement is done, due, overdue or not required: start dates, the yearly training,
background check results and the offboarding SLA."""

from __future__ import annotations

import datetime as dt

import pytest

from people.completion import (
    CellState,
    LatestRecord,
    Outstanding,
    add_months,
    evaluate,
    evaluate_cell,
)
from people.models import EmploymentType, Person, PersonnelRequirement, RequirementKind
from people.services import record_create, requirement_update
from tests.conftest import World
from tests.people.factories import PersonFactory

TODAY = dt.date(2025, 6, 15)


def requirement(kind: str, due_days: int = 0, employees: bool = True, contractors: bool = True):  # type: ignore[no-untyped-def]
    return PersonnelRequirement(
        kind=kind,
        due_days=due_days,
        applies_to_employees=employees,
        applies_to_contractors=contractors,
    )


def person(start: dt.date, end: dt.date | None = None, contractor: bool = False) -> Person:
    return Person(
        pk=1,
        full_name="Pat",
        start_date=start,
        end_date=end,
        employment_type=EmploymentType.CONTRACTOR if contractor else EmploymentType.EMPLOYEE,
    )


def cell(req: PersonnelRequirement, who: Person, latest: LatestRecord | None = None, **kw):  # type: ignore[no-untyped-def]
    return evaluate_cell(requirement=req, person=who, today=TODAY, latest=latest, **kw)


# --- due dates around the start date ------------------------------------------------------------


def test_a_background_check_due_by_the_start_date_is_due_on_that_day() -> None:
    result = cell(requirement(RequirementKind.BACKGROUND_CHECK), person(TODAY))
    assert result.state == CellState.DUE
    assert result.due == TODAY


def test_a_background_check_is_overdue_the_day_after_the_start_date() -> None:
    result = cell(
        requirement(RequirementKind.BACKGROUND_CHECK), person(TODAY - dt.timedelta(days=1))
    )
    assert result.state == CellState.OVERDUE
    assert result.due == TODAY - dt.timedelta(days=1)


def test_a_hire_starting_later_is_due_not_overdue() -> None:
    result = cell(
        requirement(RequirementKind.BACKGROUND_CHECK), person(TODAY + dt.timedelta(days=10))
    )
    assert result.state == CellState.DUE
    assert result.due == TODAY + dt.timedelta(days=10)


def test_training_due_within_30_days_is_still_due_on_day_30_and_overdue_on_day_31() -> None:
    training = requirement(RequirementKind.SECURITY_TRAINING, due_days=30)
    on_day_30 = cell(training, person(TODAY - dt.timedelta(days=30)))
    on_day_31 = cell(training, person(TODAY - dt.timedelta(days=31)))
    assert (on_day_30.state, on_day_30.due) == (CellState.DUE, TODAY)
    assert on_day_31.state == CellState.OVERDUE


def test_any_record_completes_a_one_off_requirement() -> None:
    result = cell(
        requirement(RequirementKind.AGREEMENT),
        person(dt.date(2020, 1, 1)),
        LatestRecord(dt.date(2019, 12, 20), ""),
    )
    assert result.state == CellState.DONE
    assert result.done_on == dt.date(2019, 12, 20)


def test_a_completion_after_the_due_date_counts_but_says_how_late_it_was() -> None:
    start = dt.date(2025, 1, 6)
    late = cell(
        requirement(RequirementKind.BACKGROUND_CHECK),
        person(start),
        LatestRecord(start + dt.timedelta(days=12), "clear"),
    )
    on_time = cell(requirement(RequirementKind.MFA, 1), person(start), LatestRecord(start, ""))
    assert (late.state, late.note) == (CellState.DONE, "Done 12 days after the due date")
    assert (on_time.state, on_time.note) == (CellState.DONE, "")


# --- background check results -------------------------------------------------------------------


@pytest.mark.parametrize("result", ["consider", "failed"])
def test_a_check_whose_latest_result_is_not_clear_does_not_count(result: str) -> None:
    outcome = cell(
        requirement(RequirementKind.BACKGROUND_CHECK),
        person(dt.date(2025, 1, 1)),
        LatestRecord(dt.date(2024, 12, 20), result),
    )
    assert outcome.state == CellState.OVERDUE
    assert outcome.note == f"Latest result: {result}"


def test_the_latest_check_counts_when_a_clear_follows_a_consider(
    world: World, today: dt.date, requirements: dict[str, PersonnelRequirement]
) -> None:
    pat = PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=60))
    admin = world.users["admin"]
    for day, result in [(70, "consider"), (62, "clear")]:
        record_create(
            actor=admin,
            person=pat,
            kind=RequirementKind.BACKGROUND_CHECK,
            completed_on=today - dt.timedelta(days=day),
            provider="Sterling",
            result=result,
        )
    check = requirements["background_check"]
    [done] = evaluate(organization=world.org, people=[pat], requirements=[check], today=today)
    assert done.cells["background_check"].state == CellState.DONE

    record_create(
        actor=admin,
        person=pat,
        kind=RequirementKind.BACKGROUND_CHECK,
        completed_on=today,
        provider="Sterling",
        result="failed",
    )
    [again] = evaluate(organization=world.org, people=[pat], requirements=[check], today=today)
    assert again.cells["background_check"].state == CellState.OVERDUE


def test_an_older_record_entered_later_does_not_replace_the_newer_one(
    world: World, today: dt.date, requirements: dict[str, PersonnelRequirement]
) -> None:
    pat = PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=400))
    admin = world.users["admin"]
    record_create(
        actor=admin, person=pat, kind="security_training", completed_on=today - dt.timedelta(10)
    )
    record_create(
        actor=admin, person=pat, kind="security_training", completed_on=today - dt.timedelta(390)
    )
    [result] = evaluate(
        organization=world.org,
        people=[pat],
        requirements=[requirements["security_training"]],
        today=today,
    )
    assert result.cells["security_training"].done_on == today - dt.timedelta(days=10)


# --- yearly training ----------------------------------------------------------------------------


def test_add_months_keeps_the_day_or_clamps_it_to_the_month_end() -> None:
    assert add_months(dt.date(2024, 3, 15), 12) == dt.date(2025, 3, 15)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)


def test_training_is_done_for_12_months_after_completion() -> None:
    result = cell(
        requirement(RequirementKind.SECURITY_TRAINING, 30),
        person(dt.date(2020, 1, 1)),
        LatestRecord(dt.date(2025, 1, 10), ""),
    )
    assert result.state == CellState.DONE
    assert result.expires == dt.date(2026, 1, 10)


def test_training_expiring_within_30_days_is_due_again_by_its_expiry() -> None:
    completed = add_months(TODAY, -12) + dt.timedelta(days=20)  # expires in 20 days
    result = cell(
        requirement(RequirementKind.SECURITY_TRAINING, 30),
        person(dt.date(2020, 1, 1)),
        LatestRecord(completed, ""),
    )
    assert result.state == CellState.DUE
    assert result.due == TODAY + dt.timedelta(days=20)
    assert "renew" in result.note


def test_training_is_due_on_its_expiry_day_and_overdue_the_day_after() -> None:
    training = requirement(RequirementKind.SECURITY_TRAINING, 30)
    on_expiry = cell(
        training, person(dt.date(2020, 1, 1)), LatestRecord(add_months(TODAY, -12), "")
    )
    after = cell(
        training,
        person(dt.date(2020, 1, 1)),
        LatestRecord(add_months(TODAY, -12) - dt.timedelta(days=1), ""),
    )
    assert (on_expiry.state, on_expiry.due) == (CellState.DUE, TODAY)
    assert after.state == CellState.OVERDUE
    assert after.note.startswith("Expired")


def test_a_new_hire_with_an_old_training_from_a_previous_job_is_overdue_after_it_expires() -> None:
    result = cell(
        requirement(RequirementKind.SECURITY_TRAINING, 30),
        person(TODAY - dt.timedelta(days=5)),
        LatestRecord(dt.date(2023, 1, 1), ""),
    )
    assert result.state == CellState.OVERDUE
    assert result.due == dt.date(2024, 1, 1)


# --- who a requirement applies to ---------------------------------------------------------------


def test_a_requirement_for_employees_only_is_not_required_of_contractors() -> None:
    check = requirement(RequirementKind.BACKGROUND_CHECK, contractors=False)
    assert cell(check, person(dt.date(2020, 1, 1), contractor=True)).state == (
        CellState.NOT_REQUIRED
    )
    assert cell(check, person(dt.date(2020, 1, 1))).state == CellState.OVERDUE


def test_onboarding_is_not_required_of_someone_who_left() -> None:
    left = person(dt.date(2020, 1, 1), end=TODAY - dt.timedelta(days=1))
    assert cell(requirement(RequirementKind.MFA), left).state == CellState.NOT_REQUIRED


def test_onboarding_still_applies_on_the_last_day() -> None:
    leaving = person(dt.date(2020, 1, 1), end=TODAY)
    assert cell(requirement(RequirementKind.MFA), leaving).state == CellState.OVERDUE


# --- offboarding SLA ----------------------------------------------------------------------------


def test_offboarding_is_not_required_without_a_last_day() -> None:
    assert cell(requirement(RequirementKind.OFFBOARDING, 1), person(dt.date(2020, 1, 1))).state == (
        CellState.NOT_REQUIRED
    )


def test_offboarding_is_due_until_the_sla_passes_then_overdue() -> None:
    sla = requirement(RequirementKind.OFFBOARDING, 1)
    within = cell(sla, person(dt.date(2020, 1, 1), end=TODAY - dt.timedelta(days=1)))
    past = cell(sla, person(dt.date(2020, 1, 1), end=TODAY - dt.timedelta(days=2)))
    assert (within.state, within.due) == (CellState.DUE, TODAY)
    assert (past.state, past.due) == (CellState.OVERDUE, TODAY - dt.timedelta(days=1))


def test_a_leaver_announced_in_advance_is_due_after_their_last_day() -> None:
    result = cell(
        requirement(RequirementKind.OFFBOARDING, 1),
        person(dt.date(2020, 1, 1), end=TODAY + dt.timedelta(days=14)),
    )
    assert (result.state, result.due) == (CellState.DUE, TODAY + dt.timedelta(days=15))


def test_a_revocation_recorded_after_the_sla_counts_but_is_flagged_as_late() -> None:
    left = TODAY - dt.timedelta(days=10)
    result = cell(
        requirement(RequirementKind.OFFBOARDING, 1),
        person(dt.date(2020, 1, 1), end=left),
        LatestRecord(left + dt.timedelta(days=4), ""),
    )
    assert result.state == CellState.DONE
    assert result.note == "Revoked 3 days after the SLA"


def test_a_revocation_on_time_is_done_without_a_flag() -> None:
    left = TODAY - dt.timedelta(days=10)
    result = cell(
        requirement(RequirementKind.OFFBOARDING, 1),
        person(dt.date(2020, 1, 1), end=left),
        LatestRecord(left, ""),
    )
    assert (result.state, result.note) == (CellState.DONE, "")


# --- policy acknowledgements (computed by Policies) ---------------------------------------------


def test_policy_acknowledgements_are_done_when_nothing_is_outstanding() -> None:
    acks = requirement(RequirementKind.POLICY_ACKNOWLEDGEMENTS, 14)
    who = person(TODAY - dt.timedelta(days=30))
    assert cell(acks, who, outstanding=Outstanding(0)).state == CellState.DONE
    owed = cell(acks, who, outstanding=Outstanding(2))
    assert owed.state == CellState.OVERDUE
    assert owed.note == "2 policies to acknowledge"


def test_a_policy_published_recently_is_due_by_its_own_date_not_the_start_date() -> None:
    acks = requirement(RequirementKind.POLICY_ACKNOWLEDGEMENTS, 14)
    owed = cell(
        acks,
        person(dt.date(2020, 1, 1)),
        outstanding=Outstanding(1, due=TODAY + dt.timedelta(days=5)),
    )
    assert (owed.state, owed.due) == (CellState.DUE, TODAY + dt.timedelta(days=5))


def test_policy_acknowledgements_are_unknown_when_policies_cannot_answer() -> None:
    acks = requirement(RequirementKind.POLICY_ACKNOWLEDGEMENTS, 14)
    result = cell(acks, person(dt.date(2020, 1, 1)), acknowledgements_known=False)
    assert result.state == CellState.UNKNOWN


# --- a whole roster at once ---------------------------------------------------------------------


def test_evaluating_a_roster_costs_the_same_queries_for_5_or_50_people(
    world: World,
    today: dt.date,
    requirements: dict[str, PersonnelRequirement],
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    # Policy acknowledgements are the policies app's queries; count ours.
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["policy_acknowledgements"],
        changes={"applies_to_employees": False, "applies_to_contractors": False},
    )
    wanted = [r for r in requirements.values() if r.kind != "policy_acknowledgements"]

    def run(count: int) -> None:
        people = PersonFactory.create_batch(count, organization=world.org)
        for pat in people:
            record_create(actor=None, person=pat, kind="mfa", completed_on=pat.start_date)
        with django_assert_max_num_queries(1):
            results = evaluate(
                organization=world.org, people=people, requirements=wanted, today=today
            )
        assert len(results) == count

    run(5)
    run(50)
