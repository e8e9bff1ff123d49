"""Evidence goes stale per the control's frequency; stale or missing evidence blocks readiness."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance.readiness import control_blockers, organization_readiness
from controls.models import ControlStatus
from evidence.freshness import fresh_until, is_fresh
from tests.conftest import World
from tests.evidence.conftest import add_evidence

D = dt.date


@pytest.mark.parametrize(
    ("frequency", "effective", "last_fresh_day"),
    [
        ("quarterly", D(2026, 3, 31), D(2026, 7, 14)),  # next quarter's due date + 14 days
        ("monthly", D(2026, 1, 31), D(2026, 3, 7)),  # 28 Feb + 7 days
        ("annual", D(2024, 2, 29), D(2025, 3, 30)),  # 28 Feb 2025 + 30 days
        ("weekly", D(2026, 6, 1), D(2026, 6, 11)),
        ("continuous", D(2026, 6, 1), D(2026, 7, 8)),
    ],
)
def test_evidence_is_fresh_for_one_period_plus_a_grace(
    frequency: str, effective: dt.date, last_fresh_day: dt.date
) -> None:
    assert fresh_until(effective, frequency) == last_fresh_day
    assert is_fresh(effective, frequency, last_fresh_day)
    assert not is_fresh(effective, frequency, last_fresh_day + dt.timedelta(days=1))


def test_event_driven_evidence_never_goes_stale() -> None:
    assert fresh_until(D(2001, 1, 1), "event_driven") is None
    assert is_fresh(D(2001, 1, 1), "event_driven", D(2099, 1, 1))


def implemented(world: World, frequency: str = "quarterly") -> None:
    world.control.status = ControlStatus.IMPLEMENTED
    world.control.frequency = frequency
    world.control.save()


def reasons(world: World) -> list[str]:
    found = control_blockers(organization=world.org, control_ids=[world.control.pk])
    return [b.reason for b in found.get(world.control.pk, [])]


def test_an_implemented_control_without_evidence_is_not_ready(world: World) -> None:
    implemented(world)
    assert reasons(world) == ["No accepted evidence yet."]


def test_pending_or_rejected_evidence_does_not_count(world: World) -> None:
    implemented(world)
    add_evidence(world, world.control)
    assert reasons(world) == ["No accepted evidence yet."]


def test_accepted_fresh_evidence_makes_it_ready(world: World) -> None:
    implemented(world)
    add_evidence(world, world.control, accept=True)
    assert reasons(world) == []
    [framework] = organization_readiness(organization=world.org)
    assert framework.ready == 1  # req_a, whose only control this is


def test_stale_evidence_blocks_with_the_date_it_went_stale(world: World) -> None:
    implemented(world, "quarterly")
    old = dt.date.today() - dt.timedelta(days=200)
    add_evidence(world, world.control, effective=old, accept=True)
    stale_on = fresh_until(old, "quarterly")
    assert stale_on is not None
    assert reasons(world) == [f"Evidence went stale on {stale_on.day} {stale_on:%b %Y}."]


def test_the_newest_accepted_evidence_counts(world: World) -> None:
    implemented(world, "quarterly")
    add_evidence(
        world, world.control, effective=dt.date.today() - dt.timedelta(days=300), accept=True
    )
    add_evidence(
        world, world.control, effective=dt.date.today() - dt.timedelta(days=10), accept=True
    )
    assert reasons(world) == []


def test_an_event_driven_control_needs_no_evidence(world: World) -> None:
    implemented(world, "event_driven")
    assert reasons(world) == []


def test_evidence_of_another_control_does_not_count(world: World) -> None:
    implemented(world)
    add_evidence(world, world.unowned_control, actor=world.users["admin"], accept=True)
    assert reasons(world) == ["No accepted evidence yet."]
