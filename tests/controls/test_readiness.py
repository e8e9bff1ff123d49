"""Readiness: which in-scope requirements are ready, not ready or gaps, and the percentages."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.readiness import (
    FrameworkReadiness,
    RequirementState,
    organization_readiness,
    requirement_readiness,
)
from controls.models import Control, Requirement
from controls.services import framework_change_scope
from tests.conftest import World
from tests.factories import (
    CategoryFactory,
    ControlFactory,
    FrameworkFactory,
    OrganizationFactory,
    RequirementFactory,
    adopt,
    days_from_now,
    map_control,
)

READY, NOT_READY, GAP = RequirementState.READY, RequirementState.NOT_READY, RequirementState.GAP


def readiness(world: World) -> FrameworkReadiness:
    [framework] = organization_readiness(organization=world.org)
    assert framework.framework == world.framework
    return framework


def states(world: World) -> dict[str, RequirementState]:
    return {s.requirement.ref_id: s.state for s in readiness(world).requirements}


def set_status(control: Control, status: str) -> None:
    justification = "Does not apply to us" if status == "not_applicable" else ""
    Control.objects.filter(pk=control.pk).update(status=status, na_justification=justification)


def control(world: World, *requirements: Requirement, **fields: Any) -> Control:
    if fields.get("status") == "not_applicable":
        fields.setdefault("na_justification", "Does not apply to us")
    created = ControlFactory(organization=fields.pop("organization", world.org), **fields)
    map_control(created, *requirements)
    return created


def tally(result: Any) -> tuple[int, int, int, int]:
    return result.total, result.ready, result.not_ready, result.gaps


# --- requirement states -------------------------------------------------------------------------


def test_the_world_starts_with_two_requirements_not_ready_and_one_gap(world: World) -> None:
    assert states(world) == {"SEC1.1": NOT_READY, "SEC1.2": NOT_READY, "SEC1.3": GAP}
    assert tally(readiness(world)) == (3, 0, 2, 1)


def test_a_requirement_without_an_active_control_is_a_gap(world: World) -> None:
    [state] = requirement_readiness(organization=world.org, requirements=[world.req_gap])

    assert state.state is GAP
    assert state.controls == []


def test_a_requirement_whose_control_is_implemented_is_ready(world: World) -> None:
    set_status(world.control, "implemented")

    assert states(world)["SEC1.1"] is READY


@pytest.mark.parametrize("other_status", ["in_progress", "not_started"])
def test_a_requirement_with_an_implemented_and_an_unfinished_control_is_not_ready(
    world: World, other_status: str
) -> None:
    set_status(world.control, "implemented")
    control(world, world.req_a, ref_id="IAM-02", status=other_status)

    [state] = requirement_readiness(organization=world.org, requirements=[world.req_a])

    assert state.state is NOT_READY
    assert [(c.ref_id, c.status, c.is_ready) for c in state.controls] == [
        ("IAM-01", "implemented", True),
        ("IAM-02", other_status, False),
    ]


def test_a_not_applicable_control_counts_as_ready(world: World) -> None:
    set_status(world.control, "not_applicable")
    set_status(world.unowned_control, "implemented")
    control(world, world.req_b, ref_id="CHG-02", status="not_applicable")

    assert states(world) == {"SEC1.1": READY, "SEC1.2": READY, "SEC1.3": GAP}


def test_archived_controls_are_ignored(world: World) -> None:
    set_status(world.control, "implemented")
    control(
        world, world.req_a, ref_id="IAM-02", status="in_progress", archived_at=days_from_now(-1)
    )
    control(
        world, world.req_gap, ref_id="INC-01", status="implemented", archived_at=days_from_now(-1)
    )

    [req_a, req_gap] = requirement_readiness(
        organization=world.org, requirements=[world.req_a, world.req_gap]
    )

    assert (req_a.state, [c.ref_id for c in req_a.controls]) == (READY, ["IAM-01"])
    assert (req_gap.state, req_gap.controls) == (GAP, [])


def test_controls_of_another_organization_never_count(world: World) -> None:
    set_status(world.foreign_control, "implemented")
    map_control(world.foreign_control, world.req_gap)

    assert states(world) == {"SEC1.1": NOT_READY, "SEC1.2": NOT_READY, "SEC1.3": GAP}
    [req_a] = requirement_readiness(organization=world.org, requirements=[world.req_a])
    assert [c.id for c in req_a.controls] == [world.control.pk]
    # ...and the other organization sees its own control, not ours.
    [theirs] = organization_readiness(organization=world.other_org)
    assert {s.requirement.ref_id: s.state for s in theirs.requirements} == {
        "SEC1.1": READY,
        "SEC1.2": GAP,
        "SEC1.3": READY,
    }


# --- what is counted ----------------------------------------------------------------------------


def test_requirements_out_of_scope_are_not_counted_until_the_scope_grows(world: World) -> None:
    control(world, world.req_optional, ref_id="BCK-01", status="implemented")
    assert "AV1.1" not in states(world)
    assert [c.category for c in readiness(world).categories] == [world.security]

    framework_change_scope(
        actor=world.users["admin"], adoption=world.adoption, scope_codes=["SEC", "AV"]
    )

    assert states(world)["AV1.1"] is READY
    result = readiness(world)
    assert tally(result) == (4, 1, 2, 1)
    assert [(c.category, tally(c)) for c in result.categories] == [
        (world.security, (3, 0, 2, 1)),
        (world.optional, (1, 1, 0, 0)),
    ]


def test_grouping_requirements_are_never_counted(world: World) -> None:
    group = RequirementFactory(
        category=world.security, ref_id="SEC1", title="Security", assessable=False
    )
    optional_group = RequirementFactory(
        category=world.optional, ref_id="AV1", title="Availability", assessable=False
    )
    control(world, group, optional_group, ref_id="GOV-01", status="implemented")

    assert set(states(world)) == {"SEC1.1", "SEC1.2", "SEC1.3"}

    framework_change_scope(
        actor=world.users["admin"], adoption=world.adoption, scope_codes=["SEC", "AV"]
    )

    assert set(states(world)) == {"SEC1.1", "SEC1.2", "SEC1.3", "AV1.1"}


def test_withdrawn_requirements_are_not_counted(world: World) -> None:
    Requirement.objects.filter(pk=world.req_gap.pk).update(withdrawn=True)

    assert set(states(world)) == {"SEC1.1", "SEC1.2"}
    assert readiness(world).total == 2


def test_an_organization_without_adopted_frameworks_has_no_readiness(db: Any) -> None:
    assert organization_readiness(organization=OrganizationFactory()) == []


def test_each_adopted_framework_is_measured_on_its_own(world: World) -> None:
    other = FrameworkFactory(short_name="OTH")
    category = CategoryFactory(framework=other, code="O", mandatory=True)
    requirement = RequirementFactory(category=category, ref_id="O.1")
    adopt(world.org, other, category)
    control(world, requirement, ref_id="OTH-01", status="implemented")

    results = {r.framework.short_name: r for r in organization_readiness(organization=world.org)}

    assert tally(results["OTH"]) == (1, 1, 0, 0)
    assert tally(results["TSC"]) == (3, 0, 2, 1)


# --- tallies and percentages --------------------------------------------------------------------


def test_category_tallies_add_up_to_the_framework_totals(world: World) -> None:
    for ref_id in ("AV1.2", "AV1.3"):
        RequirementFactory(category=world.optional, ref_id=ref_id)
    control(world, world.req_optional, ref_id="BCK-01", status="implemented")
    control(world, world.req_gap, ref_id="INC-01", status="in_progress")
    set_status(world.control, "implemented")
    framework_change_scope(
        actor=world.users["admin"], adoption=world.adoption, scope_codes=["SEC", "AV"]
    )

    result = readiness(world)

    assert tally(result) == (6, 2, 2, 2)
    assert result.ready + result.not_ready + result.gaps == result.total
    for i, field in enumerate(("total", "ready", "not_ready", "gaps")):
        assert sum(tally(c)[i] for c in result.categories) == getattr(result, field), field
    assert len(result.requirements) == result.total


@pytest.mark.parametrize(
    ("implemented", "percent"),
    [((), 0), (("control",), 33), (("control", "unowned_control"), 66)],
)
def test_the_percent_ready_is_rounded_down(
    world: World, implemented: tuple[str, ...], percent: int
) -> None:
    for name in implemented:
        set_status(getattr(world, name), "implemented")

    result = readiness(world)

    assert (result.ready, result.total, result.percent) == (len(implemented), 3, percent)
    assert result.categories[0].percent == percent


def test_the_percent_is_100_only_when_every_requirement_is_ready(world: World) -> None:
    set_status(world.control, "implemented")
    set_status(world.unowned_control, "implemented")
    control(world, world.req_gap, ref_id="INC-01", status="implemented")

    assert readiness(world).percent == 100


def test_an_empty_scope_reads_zero_percent(world: World) -> None:
    Requirement.objects.filter(framework=world.framework).update(withdrawn=True)

    result = readiness(world)

    assert (result.total, result.percent) == (0, 0)
    assert [tally(c) for c in result.categories] == [(0, 0, 0, 0)]


def test_readiness_takes_the_same_few_queries_however_many_controls(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        control(world, world.req_a, world.req_b, ref_id=f"BULK-{n:02d}", status="implemented")

    # 4 for the requirements and mappings, 3 for evidence's blockers (accepted evidence,
    # frequencies, overdue requests), 1 for policies', 1 for people's, 1 for automated tests':
    # a fixed number, whatever the rows.
    with django_assert_max_num_queries(10):
        result = readiness(world)
        found = [s.state for s in result.requirements]

    assert found == [NOT_READY, NOT_READY, GAP]
