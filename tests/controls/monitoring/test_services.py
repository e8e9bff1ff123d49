"""Control tests, their validation, runs and outcome: results once, findings, the owner told
once per new failure, exceptions, evidence, and the dispatcher."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from compliance.models import AuditEvent, OutboundEmail
from controls.checks import Resource, all_checks, clean_parameters, get_check
from controls.models import (
    ControlTest,
    Finding,
    ResultStatus,
    RunStatus,
    ScheduleKind,
    TestException,
    TestResult,
    TestRun,
    Trigger,
)
from controls.monitoring import runner, services
from evidence import services as evidence_services
from evidence.models import EvidenceItem, ReviewStatus
from evidence.storage import open_file
from people.models import PersonnelRecord
from tests.conftest import World
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db


def people(world: World) -> tuple[Any, Any]:
    """Two employees: one with a cleared background check, one without."""
    cleared = PersonFactory(organization=world.org, full_name="Cleared", email="c@acme.test")
    PersonnelRecord.objects.create(
        person=cleared, kind="background_check", completed_on=cleared.start_date, result="clear"
    )
    missing = PersonFactory(organization=world.org, full_name="Missing", email="m@acme.test")
    return cleared, missing


# --- the registry -------------------------------------------------------------------------------


def test_every_registered_check_has_a_key_title_and_description() -> None:
    checks = all_checks()
    keys = [c.key for c in checks]
    assert len(keys) == len(set(keys))
    assert {"attest.evidence_fresh", "attest.policy_acknowledged", "attest.personnel_requirement",
            "custom.push"} <= set(keys)  # fmt: skip
    assert all(c.title and c.description for c in checks)


def test_parameters_are_validated_by_the_check_and_unknown_ones_refused() -> None:
    check = get_check("attest.personnel_requirement")
    assert check is not None
    with pytest.raises(ValidationError) as caught:
        clean_parameters(check, {"requirement": "astrology", "colour": "blue"})
    assert set(caught.value.message_dict) == {"requirement", "colour"}
    assert clean_parameters(check, {"requirement": "mfa"}) == {
        "requirement": "mfa",
        "fail_when_due": False,
    }


# --- creating and changing tests ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"check_key": "nope.nothing"}, "check_key"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"parameters": {"requirement": "astrology"}}, "parameters.requirement"),
        ({"parameters": {"requirement": "mfa", "extra": 1}}, "parameters.extra"),
        ({"interval_minutes": 1}, "interval_minutes"),
        ({"schedule_kind": "cron", "cron": "every monday"}, "cron"),
        ({"schedule_kind": "push"}, "schedule_kind"),
        ({"schedule_kind": "sometimes"}, "schedule_kind"),
    ],
)
def test_a_bad_test_is_refused_with_the_field_named_and_nothing_saved(
    world: World, make_test: Callable[..., ControlTest], changes: dict[str, Any], field: str
) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        make_test(**changes)
    assert field in caught.value.message_dict
    assert not ControlTest.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_pushed_check_must_be_pushed_and_a_duplicate_name_is_refused(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_test(name="CI scan", check_key="custom.push", parameters={})
    assert "schedule_kind" in caught.value.message_dict
    make_test(name="CI scan", check_key="custom.push", parameters={}, schedule_kind="push")
    with pytest.raises(ValidationError) as caught:
        make_test(name="ci SCAN", check_key="custom.push", parameters={}, schedule_kind="push")
    assert "name" in caught.value.message_dict


def test_creating_plans_the_next_slot_and_audits(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    before = timezone.now()
    test = make_test(interval_minutes=60)
    assert test.next_run_at is not None
    assert before < test.next_run_at <= before + dt.timedelta(minutes=60)
    event = AuditEvent.objects.filter(action="control_test.create").get()
    assert event.after["check_key"] == "attest.personnel_requirement"
    assert event.after["control"] == "IAM-01"


def test_an_update_revalidates_and_disabling_clears_the_next_slot(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    test = make_test()
    with pytest.raises(ValidationError):
        services.control_test_update(
            actor=world.users["admin"], test=test, changes={"check_key": "attest.evidence_fresh"}
        )
    with pytest.raises(ValidationError) as caught:
        services.control_test_update(
            actor=world.users["admin"], test=test, changes={"cron": "x", "schedule_kind": "cron"}
        )
    assert "cron" in caught.value.message_dict
    test.refresh_from_db()
    assert test.schedule_kind == ScheduleKind.INTERVAL

    services.control_test_update(actor=world.users["admin"], test=test, changes={"enabled": False})
    test.refresh_from_db()
    assert (test.enabled, test.next_run_at) == (False, None)


# --- running ------------------------------------------------------------------------------------


def test_a_run_records_per_resource_results_a_finding_and_evidence(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    people(world)
    test = make_test(severity="high")

    run = run_it(test)

    assert run.status == RunStatus.FAILED
    assert (run.passed_count, run.failed_count, run.attempts) == (1, 1, 1)
    assert run.worker == "pytest" and run.started_at and run.finished_at
    results = {r.resource_name: r.status for r in run.results.all()}
    assert results == {"Cleared": ResultStatus.PASS, "Missing": ResultStatus.FAIL}
    finding = Finding.objects.get()
    assert finding.resource_id == "person:m@acme.test"
    assert finding.due_date == services.organization_today(world.org) + dt.timedelta(days=30)
    test.refresh_from_db()
    assert test.last_run_id == run.pk

    # The outcome is frozen as an accepted evidence revision of the control.
    revision = run.evidence_revision
    assert revision is not None and revision.review_status == ReviewStatus.ACCEPTED
    assert list(revision.item.controls.all()) == [world.control]
    with open_file(revision.storage_key) as handle:
        document = json.loads(handle.read())
    assert document["run"]["status"] == "failed"
    assert {r["id"] for r in document["results"]} == {"person:c@acme.test", "person:m@acme.test"}
    assert len(revision.sha256) == 64


def test_the_owner_is_told_once_per_new_failure_and_a_fix_closes_the_finding(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    _, missing = people(world)
    test = make_test()

    run_it(test)
    run_it(test)

    emails = OutboundEmail.objects.filter(template="control_test_failing")
    assert emails.count() == 1
    assert emails.get().to == [world.users["owner"].email]
    assert "Missing" in emails.get().text_body
    assert Finding.objects.filter(resolved_at__isnull=True).count() == 1

    PersonnelRecord.objects.create(
        person=missing, kind="background_check", completed_on=missing.start_date, result="clear"
    )
    fixed = run_it(test)
    assert fixed.status == RunStatus.PASSED
    assert not Finding.objects.filter(resolved_at__isnull=True).exists()
    assert Finding.objects.get().last_run_id == fixed.pk
    # Three runs, three revisions of one evidence item.
    assert EvidenceItem.objects.get(system_key=f"control-test:{test.pk}").revisions.count() == 3


def test_run_evidence_cannot_be_revised_by_hand(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    people(world)
    run = run_it(make_test())
    with pytest.raises(ValidationError, match="records this evidence itself"):
        evidence_services.evidence_add_revision(
            actor=world.users["admin"],
            item=run.evidence_revision.item,
            note="edited",  # type: ignore[union-attr]
        )


def test_an_outcome_is_recorded_once_however_often_it_arrives(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    people(world)
    run = run_it(make_test())
    results = TestResult.objects.count()

    again = services.run_finish(run_id=run.pk, resources=[Resource.passed("x")])
    assert again is None
    assert runner.execute_run(run.pk) == "skipped: already failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.attempts == 1
    assert TestResult.objects.count() == results


def test_a_run_interrupted_too_often_is_given_up_with_the_reason(
    world: World, make_test: Callable[..., ControlTest], settings: Any
) -> None:
    settings.CONTROL_TEST_MAX_ATTEMPTS = 2
    run = TestRun.objects.create(
        control_test=make_test(), organization=world.org, trigger=Trigger.MANUAL,
        status=RunStatus.RUNNING, attempts=2,
    )  # fmt: skip
    assert runner.execute_run(run.pk) == "error: given up"
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert "interrupted 2 times" in run.error


def test_a_check_that_cannot_decide_or_crashes_is_an_error_never_a_pass(
    world: World,
    make_test: Callable[..., ControlTest],
    run_it: Callable[..., TestRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    test = make_test(
        name="Policy", check_key="attest.policy_acknowledged", parameters={"policy": "nothing"}
    )
    run = run_it(test)
    assert run.status == RunStatus.ERROR
    assert run.error == "No policy 'nothing' in this organization."
    assert not run.results.exists() and not Finding.objects.exists()

    check = get_check("attest.personnel_requirement")

    def explode(self: Any, context: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr(check, "run", explode)
    crashed = run_it(make_test())
    assert crashed.status == RunStatus.ERROR
    assert "KeyError" in crashed.error and "surprise" in crashed.error
    assert "Traceback" in crashed.log


def test_a_check_reporting_nonsense_is_an_error(
    world: World,
    make_test: Callable[..., ControlTest],
    run_it: Callable[..., TestRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check = get_check("attest.personnel_requirement")
    twice = [Resource.passed("same"), Resource.failed("same")]
    monkeypatch.setattr(check, "run", lambda self, context: twice)
    run = run_it(make_test())
    assert run.status == RunStatus.ERROR
    assert "reported twice" in run.error


# --- exceptions ---------------------------------------------------------------------------------


def test_an_exception_accepts_a_failing_resource_until_it_expires(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., TestRun]
) -> None:
    people(world)
    test = make_test()
    run_it(test)
    today = services.organization_today(world.org)
    exception = services.exception_create(
        actor=world.users["admin"], test=test, resource_id="person:m@acme.test",
        reason="Contractor converting to employee; check ordered.",
        expires_on=today + dt.timedelta(days=14),
    )  # fmt: skip

    accepted = run_it(test)
    assert accepted.status == RunStatus.PASSED
    assert accepted.failed_count == 1  # still reported as failing, but accepted

    TestException.objects.filter(pk=exception.pk).update(expires_on=today - dt.timedelta(days=1))
    assert run_it(test).status == RunStatus.FAILED


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"expires_on": None}, "expires_on"),
        ({"expires_on": "today"}, "expires_on"),
        ({"expires_on": "far"}, "expires_on"),
        ({"resource_id": "person:nobody@acme.test"}, "resource_id"),
    ],
)
def test_a_bad_exception_is_refused(
    world: World,
    make_test: Callable[..., ControlTest],
    run_it: Callable[..., TestRun],
    values: dict[str, Any],
    field: str,
) -> None:
    people(world)
    test = make_test()
    run_it(test)
    today = services.organization_today(world.org)
    arguments: dict[str, Any] = {
        "resource_id": "person:m@acme.test", "reason": "Accepted for now.",
        "expires_on": today + dt.timedelta(days=10),
    }  # fmt: skip
    arguments.update(values)
    if arguments["expires_on"] == "today":
        arguments["expires_on"] = today
    elif arguments["expires_on"] == "far":
        arguments["expires_on"] = today + dt.timedelta(days=400)
    with pytest.raises(ValidationError) as caught:
        services.exception_create(actor=world.users["admin"], test=test, **arguments)
    assert field in caught.value.message_dict
    assert not TestException.objects.exists()


# --- the dispatcher -----------------------------------------------------------------------------


def test_the_dispatcher_runs_a_missed_schedule_once_for_its_latest_slot(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    test = make_test(interval_minutes=60)
    now = timezone.now()
    three_hours_ago = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=3)
    ControlTest.objects.filter(pk=test.pk).update(next_run_at=three_hours_ago)

    report = services.dispatch_due(now)
    again = services.dispatch_due(now)

    run = TestRun.objects.get()
    assert run.trigger == Trigger.SCHEDULE
    assert run.slot == three_hours_ago + dt.timedelta(hours=3)
    assert (report.created, report.coalesced_slots, again.created) == (1, 3, 0)
    assert "3 earlier slot(s) were missed" in run.log
    test.refresh_from_db()
    assert test.next_run_at == run.slot + dt.timedelta(hours=1)
    assert run.enqueued_at is not None and report.enqueued == 1  # the real broker took it


def test_the_dispatcher_leaves_disabled_and_pushed_tests_alone(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    disabled = make_test(enabled=False)
    pushed = make_test(name="CI", check_key="custom.push", parameters={}, schedule_kind="push")
    past = timezone.now() - dt.timedelta(hours=2)
    ControlTest.objects.filter(pk__in=[disabled.pk, pushed.pk]).update(next_run_at=past)

    assert services.dispatch_due().created == 0
    assert not TestRun.objects.exists()


def test_a_run_the_broker_never_got_is_handed_over_again(
    world: World, make_test: Callable[..., ControlTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    from controls import tasks

    test = make_test()
    sent: list[int] = []

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(tasks.run_control_test, "apply_async", broker_down)
    queued = services.run_now(actor=world.users["owner"], test=test)
    assert queued.enqueued is False
    queued.run.refresh_from_db()
    assert (queued.run.status, queued.run.enqueued_at) == (RunStatus.QUEUED, None)

    monkeypatch.setattr(
        tasks.run_control_test, "apply_async", lambda args, **kwargs: sent.append(args[0])
    )
    report = services.dispatch_due()
    assert sent == [queued.run.pk] and report.requeued == 1
    queued.run.refresh_from_db()
    assert queued.run.enqueued_at is not None


def test_run_now_refuses_pushed_and_disabled_tests(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    pushed = make_test(name="CI", check_key="custom.push", parameters={}, schedule_kind="push")
    disabled = make_test(name="Off", enabled=False)
    for test in (pushed, disabled):
        with pytest.raises(ValidationError):
            services.run_now(actor=world.users["admin"], test=test)
    assert not TestRun.objects.exists()


# --- pushed results -----------------------------------------------------------------------------


def test_pushed_results_make_a_finished_run_and_only_the_right_token_finds_the_test(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    test = make_test(name="CI", check_key="custom.push", parameters={}, schedule_kind="push")
    token = services.push_token_rotate(actor=world.users["admin"], test=test)
    assert token.startswith("attt_") and len(token) > 40
    assert services.test_for_push_token(token) == test
    assert services.test_for_push_token(token[:-1] + "x") is None
    assert services.test_for_push_token("att_" + token[5:]) is None
    test.refresh_from_db()
    assert token not in test.push_token_hash and test.push_token_hint == token[-4:]

    run = services.push_results(
        test=test, resources=[Resource.passed("api"), Resource.failed("web", message="CVE")]
    )
    assert (run.trigger, run.status, run.failed_count) == (Trigger.PUSH, RunStatus.FAILED, 1)

    newer = services.push_token_rotate(actor=world.users["admin"], test=test)
    assert services.test_for_push_token(token) is None
    assert services.test_for_push_token(newer) == test


def test_bad_pushed_results_are_refused_and_nothing_is_stored(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    test = make_test(name="CI", check_key="custom.push", parameters={}, schedule_kind="push")
    with pytest.raises(ValidationError):
        services.push_results(test=test, resources=[Resource(id="a", name="a", status="maybe")])
    with pytest.raises(ValidationError):
        services.push_results(test=test, resources=[Resource.passed(""), Resource.passed("b")])
    assert not TestRun.objects.exists()
