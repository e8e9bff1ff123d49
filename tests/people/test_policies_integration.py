"""Policy acknowledgements come from the policies app (policies.selectors)."""

from __future__ import annotations

import datetime as dt

from compliance.readiness import control_blockers
from people.completion import CellState, evaluate
from people.models import PersonnelRequirement
from people.services import requirement_update
from policies.services import policy_acknowledge, policy_send_for_acknowledgement
from tests.conftest import World
from tests.factories import ControlFactory
from tests.people.factories import PersonFactory
from tests.policies.factories import approved_policy, days_ago


def test_outstanding_acknowledgements_make_the_requirement_due_or_overdue(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    started = today - dt.timedelta(days=60)
    late = PersonFactory(organization=world.org, full_name="Late", start_date=started)
    reader = PersonFactory(organization=world.org, full_name="Reader", start_date=started)
    new = PersonFactory(organization=world.org, full_name="New", start_date=today)
    gone = PersonFactory(
        organization=world.org, start_date=started, end_date=today - dt.timedelta(days=1)
    )
    _, version = approved_policy(world, effective=today - dt.timedelta(days=40))
    # Sent 40 days ago: the 30 days to acknowledge have passed for the people there then.
    policy_send_for_acknowledgement(
        actor=world.users["admin"], version=version, notify=False, now=days_ago(40)
    )
    policy_acknowledge(version=version, person=reader, via="link")

    acks = requirements["policy_acknowledgements"]
    results = {
        r.person.pk: r.cells["policy_acknowledgements"]
        for r in evaluate(
            organization=world.org, people=[late, reader, new, gone], requirements=[acks],
            today=today,
        )
    }  # fmt: skip
    assert (results[late.pk].state, results[late.pk].note) == (
        CellState.OVERDUE,
        "1 policy to acknowledge",
    )
    assert results[reader.pk].state == CellState.DONE
    assert results[new.pk].state == CellState.DUE
    assert results[gone.pk].state == CellState.NOT_REQUIRED


def test_a_control_linked_to_acknowledgements_is_blocked_by_the_late_reader(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    control = ControlFactory(organization=world.org, ref_id="HR-02", status="implemented")
    requirement_update(
        actor=world.users["admin"],
        requirement=requirements["policy_acknowledgements"],
        changes={"control": control},
    )
    PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=60))
    assert control_blockers(organization=world.org, control_ids=[control.pk]) == {}
    _, version = approved_policy(world, effective=today - dt.timedelta(days=40))
    policy_send_for_acknowledgement(
        actor=world.users["admin"], version=version, notify=False, now=days_ago(40)
    )
    [blocker] = control_blockers(organization=world.org, control_ids=[control.pk])[control.pk]
    assert blocker.reason == "1 person is overdue for “Policy acknowledgements”."


def test_a_policy_sent_today_is_due_not_overdue_for_long_time_staff(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    """Staff who started years ago get the usual 30 days for a policy that was just sent."""
    veteran = PersonFactory(organization=world.org, start_date=today - dt.timedelta(days=900))
    _, version = approved_policy(world)
    policy_send_for_acknowledgement(actor=world.users["admin"], version=version, notify=False)

    [result] = evaluate(
        organization=world.org, people=[veteran],
        requirements=[requirements["policy_acknowledgements"]], today=today,
    )  # fmt: skip

    cell = result.cells["policy_acknowledgements"]
    assert (cell.state, cell.due) == (CellState.DUE, today + dt.timedelta(days=30))
