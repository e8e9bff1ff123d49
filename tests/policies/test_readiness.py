"""The policies blocker source: a control linked to a policy is not ready while the policy has no
approved version or its review is overdue (in the organization's time zone)."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.urls import reverse

from compliance.readiness import control_blockers, requirement_readiness
from controls.models import Control, ControlStatus
from policies import services
from policies.dates import organization_today
from policies.readiness import policy_blockers
from tests.conftest import World
from tests.factories import ControlFactory
from tests.policies.factories import approved_policy, make_policy


def reasons(world: World, *controls: Control) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for blocker in policy_blockers(world.org, [c.pk for c in controls]):
        found.setdefault(blocker.control_id, []).append(blocker.reason)
    return found


def test_a_control_whose_policy_has_no_approved_version_is_blocked(world: World) -> None:
    policy = make_policy(world, title="Draft Policy", controls=(world.control,))

    blockers = list(policy_blockers(world.org, [world.control.pk]))

    assert len(blockers) == 1
    assert blockers[0].reason == "Policy “Draft Policy” has no approved version."
    assert blockers[0].url == reverse("policy_detail", args=["acme", policy.pk])


def test_an_approved_policy_within_its_review_period_does_not_block(world: World) -> None:
    approved_policy(world, controls=(world.control,))

    assert reasons(world, world.control) == {}


def test_an_overdue_review_blocks_from_the_day_after_it_was_due(world: World) -> None:
    world.org.time_zone = "Pacific/Kiritimati"  # UTC+14: its "today" is often the server's tomorrow
    world.org.save()
    today = organization_today(world.org)
    due_today = today - relativedelta(months=12)
    policy, _ = approved_policy(world, controls=(world.control,), effective=due_today)

    assert reasons(world, world.control) == {}  # due today: not overdue yet

    policy.versions.update(effective_date=due_today - dt.timedelta(days=1))
    due = (due_today - dt.timedelta(days=1)) + relativedelta(months=12)
    assert reasons(world, world.control) == {
        world.control.pk: [f"Policy “Access Control Policy” was due for review on {due.day} "
                           f"{due.strftime('%b %Y')}."]
    }  # fmt: skip


def test_a_recorded_review_restarts_the_clock(world: World) -> None:
    policy, _ = approved_policy(
        world,
        controls=(world.control,),
        effective=organization_today(world.org) - dt.timedelta(days=400),
    )
    assert reasons(world, world.control)

    services.policy_mark_reviewed(actor=world.users["admin"], policy=policy)

    assert reasons(world, world.control) == {}


def test_the_review_cadence_of_the_policy_is_used(world: World) -> None:
    approved_policy(
        world,
        controls=(world.control,),
        review_months=3,
        effective=organization_today(world.org) - dt.timedelta(days=100),
    )

    assert reasons(world, world.control)


def test_a_retired_policy_blocks_and_unlinked_controls_do_not(world: World) -> None:
    _, version = approved_policy(world, controls=(world.control,))
    services.policy_version_retire(actor=world.users["admin"], version=version, reason="Gone")

    assert list(reasons(world, world.control, world.unowned_control)) == [world.control.pk]


def test_the_blocker_reaches_requirement_readiness(world: World) -> None:
    Control.objects.filter(pk=world.control.pk).update(status=ControlStatus.IMPLEMENTED)
    make_policy(world, controls=(world.control,))

    state = requirement_readiness(organization=world.org, requirements=[world.req_a])[0]

    assert state.state == "not_ready"
    blocker_reasons = [b.reason for c in state.controls for b in c.blockers]
    assert "Policy “Access Control Policy” has no approved version." in blocker_reasons
    assert control_blockers(organization=world.org, control_ids=[world.control.pk])


def test_the_source_uses_one_query_whatever_the_number_of_controls(
    world: World, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    controls = [ControlFactory(organization=world.org) for _ in range(6)]
    make_policy(world, title="One", controls=tuple(controls[:3]))
    approved_policy(world, title="Two", controls=tuple(controls[2:]))

    with django_assert_num_queries(1):
        blockers = list(policy_blockers(world.org, [c.pk for c in controls]))

    assert len(blockers) == 3
