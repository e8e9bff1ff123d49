"""The API of automated control tests: integrations, tests, run now, runs, findings, exceptions
and the check registry. Bad input answers 400 naming the field, and changes nothing.
Permissions: test_monitoring_api_permissions.py; pushed results: test_monitoring_api_push.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery

from compliance.api.pagination import CappedCountPagination
from compliance.celery import app
from compliance.models import AuditEvent
from controls.models import (
    ControlTest,
    Integration,
    RunStatus,
    ScheduleKind,
    TestException,
    TestRun,
)
from controls.monitoring import services
from tests.conftest import World
from tests.controls.monitoring_helpers import (
    ACME,
    API,
    make_finding,
    make_integration,
    make_push_test,
    make_run,
    make_test,
)
from tests.factories import ControlFactory

TESTS = f"{ACME}/control-tests/"
INTEGRATIONS = f"{ACME}/integrations/"


def unchanged(world: World) -> Any:
    """Everything a refused write must leave as it was."""
    return (
        AuditEvent.objects.count(),
        sorted(ControlTest.objects.values_list("pk", "name", "severity", "cron", "parameters")),
        sorted(Integration.objects.values_list("pk", "name", "secret", "config")),
        TestRun.objects.count(),
        TestException.objects.count(),
    )


def errors_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:800]
    return dict(response.json())


# --- integrations -------------------------------------------------------------------------------


def test_admin_connects_an_integration_whose_credentials_are_never_returned(world: World) -> None:
    client = world.api("admin")
    response = client.post(
        INTEGRATIONS,
        {
            "kind": "github",
            "name": "GitHub",
            "config": {"organization": "acme"},
            "credentials": {"token": "ghp_verysecret9876"},
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret_hint"] == "…9876"
    assert body["config"] == {"organization": "acme"}
    assert "credentials" not in body and "secret" not in body
    integration = Integration.objects.get(pk=body["id"])
    assert integration.secret and "ghp_verysecret9876" not in integration.secret
    detail = client.get(f"{INTEGRATIONS}{integration.pk}/").content.decode()
    listing = client.get(INTEGRATIONS).content.decode()
    for text in (detail, listing):
        assert "ghp_verysecret9876" not in text and integration.secret not in text
        assert "…9876" in text


def test_credentials_are_replaced_only_when_given(world: World) -> None:
    integration = make_integration(world)
    secret = integration.secret
    client = world.api("admin")

    renamed = client.patch(f"{INTEGRATIONS}{integration.pk}/", {"name": "GH"}, format="json")
    assert renamed.status_code == 200, renamed.content
    integration.refresh_from_db()
    assert (integration.name, integration.secret) == ("GH", secret)

    replaced = client.patch(
        f"{INTEGRATIONS}{integration.pk}/",
        {"credentials": {"token": "ghp_brandnew5555"}},
        format="json",
    )
    assert replaced.json()["secret_hint"] == "…5555"
    integration.refresh_from_db()
    assert integration.secret != secret


def test_members_see_no_integrations(world: World) -> None:
    make_integration(world)
    for persona in ("viewer", "member", "owner"):
        response = world.api(persona).get(INTEGRATIONS)
        assert response.status_code == 200
        assert response.json()["results"] == []
    assert len(world.api("admin").get(INTEGRATIONS).json()["results"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "gitlab", "name": "X", "credentials": {"token": "t"}}, "kind"),
        ({"kind": "github", "name": 5, "credentials": {"token": "t"}}, "name"),
        ({"kind": "github", "name": "X"}, "credentials"),
        ({"kind": "github", "name": "X", "credentials": {"password": "t"}}, "credentials"),
        ({"kind": "github", "name": "X", "credentials": "ghp_x"}, "credentials"),
        ({"kind": "github", "name": "X", "credentials": {"token": "t"}, "secret": "s"}, "secret"),
        (
            {
                "kind": "github",
                "name": "X",
                "config": {"region": "x"},
                "credentials": {"token": "t"},
            },
            "config",
        ),
        ({"kind": "github", "name": "GitHub", "credentials": {"token": "t"}}, "name"),
    ],
    ids=[
        "unknown kind",
        "name not text",
        "no credentials",
        "unknown credential",
        "credentials not an object",
        "unknown field",
        "unknown setting",
        "duplicate name",
    ],
)
def test_a_bad_integration_is_refused_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    make_integration(world)
    before = unchanged(world)

    response = world.api("admin").post(INTEGRATIONS, body, format="json")

    assert field in errors_of(response)
    assert unchanged(world) == before


def test_the_kind_of_an_integration_does_not_change(world: World) -> None:
    integration = make_integration(world)
    before = unchanged(world)
    response = world.api("admin").patch(
        f"{INTEGRATIONS}{integration.pk}/", {"kind": "aws"}, format="json"
    )
    assert errors_of(response) == {"kind": ["This field is read-only."]}
    assert unchanged(world) == before


def test_an_integration_in_use_is_not_deleted(world: World) -> None:
    integration = make_integration(world)
    # No check of the registry needs an integration yet: the row is written directly.
    ControlTest.objects.create(
        organization=world.org,
        control=world.control,
        name="Branch protection",
        check_key="github.branch_protection",
        integration=integration,
        interval_minutes=60,
    )
    before = unchanged(world)

    response = world.api("admin").delete(f"{INTEGRATIONS}{integration.pk}/")

    assert "Branch protection" in errors_of(response)["non_field_errors"][0]
    assert unchanged(world) == before


# --- control tests ------------------------------------------------------------------------------


def test_the_owner_of_a_control_adds_a_test_to_it(world: World) -> None:
    response = world.api("owner").post(
        TESTS,
        {
            "control": world.control.pk,
            "name": "Evidence stays fresh",
            "check_key": "attest.evidence_fresh",
            "schedule_kind": "cron",
            "cron": "0 9 * * 1",
            "severity": "high",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    test = ControlTest.objects.get(pk=body["id"])
    assert test.created_by == world.users["owner"]
    assert body["control_ref_id"] == "IAM-01"
    assert body["check_title"] == "Evidence of the control is fresh"
    assert body["schedule"] == "Cron 0 9 * * 1"
    assert body["next_run_at"] is not None
    assert body["last_run"] is None and body["open_findings"] == 0
    assert AuditEvent.objects.filter(action="control_test.create").count() == 1


def test_a_member_cannot_attach_an_integration_they_cannot_see(world: World) -> None:
    """Binding an integration is an admin's (docs/permissions.md): refused on the field."""
    integration = make_integration(world)
    body = {
        "control": world.control.pk,
        "name": "Branch protection",
        "check_key": "github.branch_protection",
        "parameters": {"repositories": "acme/api"},
        "integration": integration.pk,
    }
    before = unchanged(world)
    response = world.api("owner").post(TESTS, body, format="json")
    assert response.status_code == 403, response.content
    assert "integration" in response.json()
    assert unchanged(world) == before
    assert not ControlTest.objects.exists()

    response = world.api("admin").post(TESTS, body, format="json")
    assert response.status_code == 201, response.content


def test_a_pushed_check_defaults_to_a_pushed_schedule(world: World) -> None:
    response = world.api("admin").post(
        TESTS,
        {"control": world.control.pk, "name": "Scanner", "check_key": "custom.push"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["schedule_kind"] == ScheduleKind.PUSH
    assert response.json()["next_run_at"] is None


def valid_test(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "control": world.control.pk,
        "name": "Evidence stays fresh",
        "check_key": "attest.evidence_fresh",
        **changes,
    }


BAD_TESTS = [
    ("unknown field", {"colour": "red"}, "colour"),
    ("read-only field", {"next_run_at": "2030-01-01T00:00:00Z"}, "next_run_at"),
    ("name not text", {"name": 42}, "name"),
    ("name missing", {"name": None}, "name"),
    ("unknown check", {"check_key": "attest.nope"}, "check_key"),
    ("invalid severity", {"severity": "urgent"}, "severity"),
    ("invalid schedule", {"schedule_kind": "hourly"}, "schedule_kind"),
    ("interval not a number", {"interval_minutes": "often"}, "interval_minutes"),
    ("interval too short", {"interval_minutes": 1}, "interval_minutes"),
    ("bad cron", {"schedule_kind": "cron", "cron": "every monday"}, "cron"),
    ("cron out of range", {"schedule_kind": "cron", "cron": "61 * * * *"}, "cron"),
    ("pushed schedule for a check that runs", {"schedule_kind": "push"}, "schedule_kind"),
    ("integration for a check without one", {"integration": "integration"}, "integration"),
    ("parameters not an object", {"parameters": ["x"]}, "parameters"),
    ("unknown parameter", {"parameters": {"days": 3}}, "parameters.days"),
    (
        "missing required parameter",
        {"check_key": "attest.policy_acknowledged", "parameters": {}},
        "parameters.policy",
    ),
    (
        "invalid parameter choice",
        {"check_key": "attest.personnel_requirement", "parameters": {"requirement": "vibes"}},
        "parameters.requirement",
    ),
    ("another organization's control", {"control": "foreign"}, "control"),
    ("an archived control", {"control": "archived"}, "control"),
    ("another organization's integration", {"integration": "foreign_integration"}, "integration"),
    ("duplicate name", {"name": "Evidence is fresh"}, "name"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [(c, f) for _, c, f in BAD_TESTS], ids=[n for n, _, _ in BAD_TESTS]
)
def test_a_bad_test_is_refused_naming_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    make_test(world)
    archived = ControlFactory(
        organization=world.org, ref_id="OLD-01", archived_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    ids = {
        "foreign": world.foreign_control.pk,
        "archived": archived.pk,
        "integration": make_integration(world).pk,
        "foreign_integration": make_integration(world, foreign=True).pk,
    }
    refs = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    body = valid_test(world, **refs)
    before = unchanged(world)

    response = world.api("admin").post(TESTS, body, format="json")

    assert field in errors_of(response), response.json()
    assert unchanged(world) == before


def test_a_member_may_not_add_a_test_to_a_control_they_cannot_change(world: World) -> None:
    before = unchanged(world)
    response = world.api("member").post(TESTS, valid_test(world, severity="urgent"), format="json")
    assert response.status_code == 403, response.content  # refused before the body is checked
    assert unchanged(world) == before


def test_an_edit_checks_the_parameters_against_the_tests_own_check(world: World) -> None:
    test = make_test(
        world,
        name="Background checks",
        check_key="attest.personnel_requirement",
        parameters={"requirement": "background_check"},
    )
    before = unchanged(world)
    client = world.api("owner")

    bad = client.patch(f"{TESTS}{test.pk}/", {"parameters": {"requirement": "x"}}, format="json")
    assert "parameters.requirement" in errors_of(bad)
    for field, value in (("check_key", "custom.push"), ("control", world.unowned_control.pk)):
        refused = client.patch(f"{TESTS}{test.pk}/", {field: value}, format="json")
        assert errors_of(refused) == {field: ["This field is read-only."]}
    assert unchanged(world) == before

    good = client.patch(
        f"{TESTS}{test.pk}/",
        {"parameters": {"requirement": "mfa", "fail_when_due": True}, "enabled": False},
        format="json",
    )
    assert good.status_code == 200, good.content
    assert good.json()["parameters"] == {"requirement": "mfa", "fail_when_due": True}
    assert good.json()["enabled"] is False and good.json()["next_run_at"] is None


def test_a_test_shows_its_last_run_and_open_findings(world: World) -> None:
    test = make_test(world)
    older = make_run(test, {"control:IAM-01": "fail", "user:bob": "fail"})
    make_finding(test, older, "control:IAM-01")
    make_finding(test, older, "user:bob", resolved=True)
    latest = make_run(test, {"control:IAM-01": "fail"})

    body = world.api("viewer").get(f"{TESTS}{test.pk}/").json()

    assert body["last_run"]["id"] == latest.pk
    assert body["last_run"]["status"] == RunStatus.FAILED
    assert body["last_run"]["failed_count"] == 1
    assert body["open_findings"] == 1
    assert body["next_run_at"] is not None
    assert body["push_token_hint"] == ""


def test_the_test_list_filters(world: World) -> None:
    fresh = make_test(world)
    other = make_test(world, world.unowned_control, enabled=False)
    pushed = make_push_test(world)
    make_run(fresh, {"a": "fail"})
    make_run(other, {"a": "pass"})
    client = world.api("viewer")

    def listed(**query: Any) -> set[int]:
        response = client.get(TESTS, query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert listed() == {fresh.pk, other.pk, pushed.pk}
    assert listed(control=world.unowned_control.pk) == {other.pk}
    assert listed(check="custom.push") == {pushed.pk}
    assert listed(enabled="false") == {other.pk}
    assert listed(last_status="failed") == {fresh.pk}
    assert listed(last_status="passed") == {other.pk}
    assert listed(last_status="never") == {pushed.pk}
    assert client.get(TESTS, {"last_status": "green"}).status_code == 400


def test_the_test_list_costs_the_same_for_many_tests(
    world: World, django_assert_max_num_queries: Any
) -> None:
    integration = make_integration(world)
    for index in range(8):
        control = ControlFactory(organization=world.org, ref_id=f"QRY-{index:02}")
        test = make_test(world, control)
        ControlTest.objects.filter(pk=test.pk).update(integration=integration)
        run = make_run(test, {"a": "fail", "b": "pass"})
        make_finding(test, run, "a")
    client = world.api("member")

    with django_assert_max_num_queries(8):
        response = client.get(TESTS)

    assert len(response.json()["results"]) == 8
    assert all(row["open_findings"] == 1 for row in response.json()["results"])


# --- run now ------------------------------------------------------------------------------------


@pytest.fixture
def broker_down(settings: Any) -> Iterator[None]:
    """A web process whose broker is a port nothing listens on (refused at once): an app
    configured from those settings is the current app while the test runs. The project's app
    and its connection pool are left untouched."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    web = Celery("attest", set_as_current=False)
    web.config_from_object("django.conf:settings", namespace="CELERY")
    web.set_current()
    try:
        yield
    finally:
        app.set_current()
        web.close()


def test_run_now_queues_a_run(world: World) -> None:
    test = make_test(world)

    response = world.api("granted").post(f"{TESTS}{test.pk}/run/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["queued_for_later"] is False
    assert body["status"] == RunStatus.QUEUED and body["trigger"] == "manual"
    run = TestRun.objects.get(pk=body["id"])
    assert run.requested_by == world.users["granted"]
    assert run.enqueued_at is not None
    app.control.purge()  # no worker here takes it


def test_run_now_with_the_queue_down_keeps_the_run_for_later(
    world: World, broker_down: None
) -> None:
    test = make_test(world)

    response = world.api("owner").post(f"{TESTS}{test.pk}/run/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["queued_for_later"] is True
    assert "queue is unavailable" in body["detail"]
    run = TestRun.objects.get(pk=body["id"])
    assert (run.status, run.enqueued_at) == (RunStatus.QUEUED, None)


def test_a_pushed_or_disabled_test_is_not_run_now(world: World) -> None:
    pushed = make_push_test(world)
    disabled = make_test(world, enabled=False)
    before = unchanged(world)
    client = world.api("admin")

    for test, message in ((pushed, "pushed"), (disabled, "disabled")):
        response = client.post(f"{TESTS}{test.pk}/run/")
        assert message in errors_of(response)["non_field_errors"][0]
    assert unchanged(world) == before


# --- push token ---------------------------------------------------------------------------------


def test_a_push_token_is_shown_once_and_only_its_hint_after(world: World) -> None:
    test = make_push_test(world)

    response = world.api("owner").post(f"{TESTS}{test.pk}/push-token/")

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert token.startswith("attt_") and response.json()["hint"] == token[-4:]
    assert services.test_for_push_token(token) == test
    detail = world.api("owner").get(f"{TESTS}{test.pk}/")
    assert token not in detail.content.decode()
    assert detail.json()["push_token_hint"] == token[-4:]


def test_only_a_pushed_test_takes_a_push_token(world: World) -> None:
    test = make_test(world)
    before = unchanged(world)
    response = world.api("admin").post(f"{TESTS}{test.pk}/push-token/")
    assert "pushed" in errors_of(response)["non_field_errors"][0]
    assert unchanged(world) == before


# --- runs and findings of a test ----------------------------------------------------------------


def test_the_runs_of_a_test_are_paginated_newest_first(world: World) -> None:
    test = make_test(world)
    runs = [make_run(test, {"a": "pass"}) for _ in range(3)]
    make_run(make_test(world, world.unowned_control), {"a": "pass"})

    body = world.api("viewer").get(f"{TESTS}{test.pk}/runs/", {"page_size": 2}).json()

    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [runs[2].pk, runs[1].pk]
    assert body["next"]


def test_findings_by_state(world: World) -> None:
    test = make_test(world)
    run = make_run(test, {"a": "fail", "b": "fail"})
    open_finding = make_finding(test, run, "a")
    resolved = make_finding(test, run, "b", resolved=True)
    client = world.api("viewer")
    url = f"{TESTS}{test.pk}/findings/"

    def ids(**query: Any) -> list[int]:
        return [f["id"] for f in client.get(url, query).json()["results"]]

    assert ids(state="open") == [open_finding.pk]
    assert ids(state="resolved") == [resolved.pk]
    assert set(ids()) == {open_finding.pk, resolved.pk}
    assert "state" in errors_of(client.get(url, {"state": "closed"}))


# --- exceptions ---------------------------------------------------------------------------------


def test_an_admin_accepts_and_revokes_the_risk_of_a_failing_resource(world: World) -> None:
    test = make_test(world)
    make_run(test, {"laptop:42": "fail"})
    client = world.api("admin")
    expires = dt.date.today() + dt.timedelta(days=30)

    created = client.post(
        f"{TESTS}{test.pk}/exceptions/",
        {"resource_id": "laptop:42", "reason": "Replaced next week", "expires_on": str(expires)},
        format="json",
    )
    assert created.status_code == 201, created.content
    exception = TestException.objects.get(pk=created.json()["id"])
    assert exception.created_by == world.users["admin"]
    assert created.json()["created_by"] == "admin@acme.test"
    listed = client.get(f"{TESTS}{test.pk}/exceptions/").json()["results"]
    assert [e["id"] for e in listed] == [exception.pk]

    revoke_url = f"{TESTS}{test.pk}/exceptions/{exception.pk}/revoke/"
    revoked = client.post(revoke_url)
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revoked_by"] == "admin@acme.test"
    again = client.post(revoke_url)
    assert "already revoked" in errors_of(again)["non_field_errors"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resource_id": "laptop:99"}, "resource_id"),
        ({"expires_on": "2001-01-01"}, "expires_on"),
        ({"expires_on": "soon"}, "expires_on"),
        ({"reason": ""}, "reason"),
        ({"reason": 7}, "reason"),
        ({"until": "2030-01-01"}, "until"),
    ],
    ids=["never reported", "in the past", "not a date", "no reason", "reason not text", "unknown"],
)
def test_a_bad_exception_is_refused_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    test = make_test(world)
    make_run(test, {"laptop:42": "fail"})
    valid = {
        "resource_id": "laptop:42",
        "reason": "Replaced next week",
        "expires_on": str(dt.date.today() + dt.timedelta(days=30)),
    }
    before = unchanged(world)
    response = world.api("admin").post(
        f"{TESTS}{test.pk}/exceptions/", {**valid, **body}, format="json"
    )
    assert field in errors_of(response)
    assert unchanged(world) == before


def test_an_exception_of_another_test_is_not_revoked_through_this_one(world: World) -> None:
    test = make_test(world)
    other = make_test(world, world.unowned_control)
    make_run(other, {"laptop:42": "fail"})
    exception = services.exception_create(
        actor=world.users["admin"],
        test=other,
        resource_id="laptop:42",
        reason="Accepted",
        expires_on=dt.date.today() + dt.timedelta(days=3),
    )
    response = world.api("admin").post(f"{TESTS}{test.pk}/exceptions/{exception.pk}/revoke/")
    assert response.status_code == 404
    exception.refresh_from_db()
    assert exception.revoked_at is None


# --- runs ---------------------------------------------------------------------------------------


def test_a_run_shows_its_results(world: World) -> None:
    test = make_test(world)
    run = make_run(test, {"user:ann": "pass", "user:bob": "fail"})

    body = world.api("viewer").get(f"{ACME}/test-runs/{run.pk}/").json()

    assert body["control_test"] == test.pk and body["control_ref_id"] == "IAM-01"
    assert body["status"] == RunStatus.FAILED
    assert body["evidence_revision"] is None
    assert {r["resource_id"]: r["status"] for r in body["results"]} == {
        "user:ann": "pass",
        "user:bob": "fail",
    }
    assert set(body["results"][0]) == {
        "resource_id", "resource_name", "status", "message", "remediation", "raw"
    }  # fmt: skip


def test_the_run_list_filters_and_costs_the_same_for_many_runs(
    world: World, django_assert_max_num_queries: Any
) -> None:
    first = make_test(world)
    second = make_test(world, world.unowned_control)
    for _ in range(5):
        make_run(first, {"a": "fail"})
        make_run(second, {"a": "pass"})
    client = world.api("viewer")

    with django_assert_max_num_queries(6):
        response = client.get(f"{ACME}/test-runs/")
    assert response.json()["count"] == 10

    def count(**query: Any) -> int:
        return int(client.get(f"{ACME}/test-runs/", query).json()["count"])

    assert count(control_test=first.pk) == 5
    assert count(control=world.unowned_control.pk) == 5
    assert count(status="failed") == 5
    assert count(trigger="push") == 0


def test_the_run_list_counts_up_to_a_cap_and_pages_on_past_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedCountPagination, "COUNT_CAP", 5)
    test = make_test(world)
    runs = [make_run(test, {"a": "pass"}) for _ in range(8)]
    client = world.api("viewer")

    first = client.get(f"{ACME}/test-runs/", {"page_size": 3}).json()
    assert (first["count"], first["count_capped"]) == (5, True)
    third = client.get(f"{ACME}/test-runs/", {"page_size": 3, "page": 3}).json()
    assert third["next"] is None and third["previous"] is not None
    seen = [
        row["id"]
        for page in (1, 2, 3)
        for row in client.get(f"{ACME}/test-runs/", {"page_size": 3, "page": page}).json()[
            "results"
        ]
    ]
    assert seen == [run.pk for run in reversed(runs)]
    assert client.get(f"{ACME}/test-runs/", {"page_size": 3, "page": 4}).status_code == 404
    # Below the cap the count is exact and says so.
    narrow = client.get(f"{ACME}/test-runs/", {"control_test": test.pk, "status": "failed"})
    assert (narrow.json()["count"], narrow.json()["count_capped"]) == (0, False)
    page_two = client.get(f"{ACME}/test-runs/", {"page_size": 2, "page": 2}).json()
    assert page_two["next"] is not None


# --- the check registry -------------------------------------------------------------------------


def test_the_check_registry_describes_each_checks_parameters(world: World) -> None:
    response = world.api("outsider").get(f"{API}/checks/")

    assert response.status_code == 200
    checks = {c["key"]: c for c in response.json()}
    fresh = checks["attest.evidence_fresh"]
    assert (fresh["parameters"], fresh["integration"], fresh["pushed"]) == ([], None, False)
    assert checks["custom.push"]["pushed"] is True
    policy = checks["attest.policy_acknowledged"]["parameters"]
    assert [(p["name"], p["type"], p["required"]) for p in policy] == [("policy", "string", True)]
    assert "library key" in policy[0]["help"]
    requirement, fail_when_due = checks["attest.personnel_requirement"]["parameters"]
    assert requirement["type"] == "choice" and requirement["required"] is True
    assert {"value": "background_check", "label": "Background check"} in requirement["choices"]
    assert "policy_acknowledgements" not in {c["value"] for c in requirement["choices"]}
    assert (fail_when_due["type"], fail_when_due["required"]) == ("boolean", False)
    assert fail_when_due["choices"] is None
