"""Automated tests in readiness, and the checks on Attest's own data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from compliance.readiness import control_blockers
from controls.checks import CheckContext, get_check
from controls.models import ControlStatus, ControlTest, Finding, ResultStatus, TestRun
from controls.monitoring import services
from controls.monitoring.readiness import control_test_blockers
from evidence.models import EvidenceItem, EvidenceRevision, ReviewStatus
from people.models import PersonnelRecord
from tests.conftest import World
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db


def reasons(world: World) -> list[str]:
    blockers = control_blockers(organization=world.org, control_ids=[world.control.pk])
    return [b.reason for b in blockers.get(world.control.pk, []) if "Automated test" in b.reason]


def test_a_test_that_never_ran_failed_or_erred_blocks_and_a_pass_does_not(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    world.control.status = ControlStatus.IMPLEMENTED
    world.control.save()
    missing = PersonFactory(organization=world.org, full_name="Missing", email="m@acme.test")
    test = make_test()
    assert reasons(world) == ["Automated test “Background checks” has not run yet."]

    run_it(test)
    assert reasons(world) == ["Automated test “Background checks” fails on 1 resource."]

    PersonnelRecord.objects.create(
        person=missing, kind="background_check", completed_on=missing.start_date, result="clear"
    )
    run_it(test)
    assert reasons(world) == []

    services.control_test_update(
        actor=world.users["admin"], test=test, changes={"parameters": {"requirement": "mfa"}}
    )
    PersonnelRecord.objects.all().delete()
    policy_test = make_test(
        name="Policy", check_key="attest.policy_acknowledged", parameters={"policy": "none"}
    )
    run_it(policy_test)
    assert "Automated test “Policy” could not run: No policy 'none'" in " ".join(reasons(world))


def test_the_deadline_rule_tolerates_failures_until_their_due_date(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    PersonFactory(organization=world.org, full_name="Missing", email="m@acme.test")
    test = make_test(readiness_rule="deadline", severity="critical")
    run_it(test)
    assert reasons(world) == []

    Finding.objects.update(due_date=dt.date.today() - dt.timedelta(days=2))
    [reason] = reasons(world)
    assert "fails on 1 resource (overdue since" in reason


def test_a_disabled_test_does_not_count(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    make_test(enabled=False)
    assert reasons(world) == []


def test_readiness_of_tests_takes_the_same_queries_however_many(
    world: World,
    make_test: Callable[..., ControlTest],
    run_it: Callable[..., TestRun],
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    PersonFactory(organization=world.org, email="m@acme.test")
    for n in range(6):
        run_it(make_test(name=f"Test {n}"))
    with django_assert_max_num_queries(4):  # tests, exceptions, findings, failing results
        blockers = list(control_test_blockers(world.org, [world.control.pk]))
    assert len(blockers) == 6


# --- Attest's own checks ------------------------------------------------------------------------


def context(world: World, **parameters: object) -> CheckContext:
    return CheckContext(organization=world.org, control=world.control, parameters=parameters)


def test_evidence_fresh_ignores_the_tests_own_runs(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    check = get_check("attest.evidence_fresh")
    assert check is not None
    world.control.frequency = "quarterly"
    world.control.save()
    [result] = check().run(context(world))
    assert (result.status, result.message) == ("fail", "No accepted evidence.")

    # A test run of the control is evidence, but not evidence that people keep the control.
    PersonFactory(organization=world.org, email="m@acme.test")
    run_it(make_test())
    [result] = check().run(context(world))
    assert result.status == "fail"

    item = EvidenceItem.objects.create(
        organization=world.org, title="Q3 access review", kind="note",
        effective_date=dt.date.today() - dt.timedelta(days=200),
    )  # fmt: skip
    item.controls.add(world.control)
    EvidenceRevision.objects.create(
        item=item, number=1, note="done", review_status=ReviewStatus.ACCEPTED
    )
    [result] = check().run(context(world))
    assert result.status == "fail" and "went stale on" in result.message

    EvidenceItem.objects.filter(pk=item.pk).update(effective_date=dt.date.today())
    [result] = check().run(context(world))
    assert result.status == "pass" and result.message.startswith("Fresh until")

    world.control.frequency = "event_driven"
    world.control.save()
    [result] = check().run(context(world))
    assert result.status == ResultStatus.NOT_APPLICABLE


def test_personnel_requirement_fails_overdue_people_and_can_fail_due_ones(world: World) -> None:
    check = get_check("attest.personnel_requirement")
    assert check is not None
    PersonFactory(organization=world.org, full_name="Old", email="old@acme.test")
    PersonFactory(
        organization=world.org, full_name="New", email="new@acme.test",
        start_date=dt.date.today(),
    )  # fmt: skip
    results = {
        r.name: r.status
        for r in check().run(context(world, requirement="security_training", fail_when_due=False))
    }
    assert results == {"Old": "fail", "New": "pass"}
    strict = {
        r.name: r.status
        for r in check().run(context(world, requirement="security_training", fail_when_due=True))
    }
    assert strict == {"Old": "fail", "New": "fail"}
