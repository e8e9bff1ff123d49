"""Every endpoint of automated control tests against every persona.

Readers (admins, members, viewers) see tests, runs, findings and exceptions; changing a test
(create, edit, run now, push token) needs the right to change its control (its owner, the member
granted it, admins); integrations are seen and changed by admins only (hidden → 404 for other
readers, writes → 403); exceptions are the admins' accept-risk capability. Auditors get 403 and
strangers 404. Denied writes change nothing (no audit event, the target unchanged).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from compliance.models import AuditEvent
from controls.models import ControlTest, Integration, TestException, TestRun
from controls.monitoring import services
from tests import matrix
from tests.conftest import PERSONAS, World
from tests.controls.monitoring_helpers import (
    ACME,
    API,
    make_finding,
    make_integration,
    make_push_test,
    make_run,
    make_test,
)
from tests.matrix import Case

READ: dict[str, Any] = {**matrix.READ_PROGRAM, "anonymous": 401}
CATALOG: dict[str, Any] = dict.fromkeys(PERSONAS, 200) | {"anonymous": 401}
ADMIN_ONLY: dict[str, Any] = {**READ, "viewer": 403, "member": 403, "granted": 403, "owner": 403}
# Integrations are rows only admins see: other readers are told they do not exist.
ADMIN_SEES: dict[str, Any] = {**READ, "viewer": 404, "member": 404, "granted": 404, "owner": 404}
# Another organization's row through our URL: hidden from everyone; auditors are refused the
# whole program before any lookup.
HIDDEN: dict[str, Any] = dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "auditor": 403}


def admin_write(success: int) -> dict[str, Any]:
    return {**ADMIN_ONLY, "admin": success}


def control_writers(success: int) -> dict[str, Any]:
    """Who may change the tests of world.control: its owner, the member granted it, admins."""
    return {**ADMIN_ONLY, "granted": success, "owner": success, "admin": success}


@dataclass
class ApiCase(Case):
    setup: Callable[[World], None] = field(default=lambda w: None)


# --- what the cases act on (built by the ``monitoring`` fixture) --------------------------------


def owned(w: World) -> ControlTest:
    # The first evidence test of world.control (found by its check: an edit renames it).
    tests = ControlTest.objects.filter(control=w.control, check_key="attest.evidence_fresh")
    return tests.earliest("pk")


def unowned(w: World) -> ControlTest:
    return ControlTest.objects.get(control=w.unowned_control)


def pushed(w: World) -> ControlTest:
    return ControlTest.objects.get(control=w.control, name="Scanner")


def foreign(w: World) -> ControlTest:
    return ControlTest.objects.get(control=w.foreign_control)


def integration(w: World) -> Integration:
    return Integration.objects.get(organization=w.org)


def foreign_integration(w: World) -> Integration:
    return Integration.objects.get(organization=w.other_org)


def run_of(test: ControlTest) -> TestRun:
    return TestRun.objects.filter(control_test=test).order_by("pk").first()  # type: ignore[return-value]


def excepted(w: World) -> TestException:
    return TestException.objects.get(control_test=owned(w))


@pytest.fixture
def monitoring(world: World, settings: Any, tmp_path: Path) -> None:
    test = make_test(world)
    make_test(world, world.unowned_control)
    make_push_test(world)
    make_test(world, world.foreign_control, actor=world.users["outsider"])
    make_integration(world)
    make_integration(world, foreign=True)
    run = make_run(test, {"control:IAM-01": "fail", "user:bob": "fail"})
    make_finding(test, run, "control:IAM-01")
    make_run(foreign(world), {"control:IAM-01": "pass"})
    services.exception_create(
        actor=world.users["admin"],
        test=test,
        resource_id="user:bob",
        reason="Leaving next week",
        expires_on=dt.date.today() + dt.timedelta(days=30),
    )


def state_of(pk: int) -> Any:
    return ControlTest.objects.filter(pk=pk).values_list("name", "severity", "enabled").first()


def all_tests(w: World) -> Any:
    return sorted(ControlTest.objects.values_list("control_id", "name"))


def runs_of(test: ControlTest) -> int:
    return TestRun.objects.filter(control_test=test).count()


def integration_state(w: World) -> Any:
    return sorted(Integration.objects.values_list("organization_id", "name", "secret_hint"))


NEW_TEST = {"name": "Evidence is fresh, weekly", "check_key": "attest.evidence_fresh"}
TEST_PATCH = {"name": "Evidence is fresh (edited)", "severity": "high"}
NEW_INTEGRATION = {"kind": "aws", "name": "AWS", "credentials": {
    "access_key_id": "AKIAEXAMPLE", "secret_access_key": "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
}}  # fmt: skip
NEW_EXCEPTION = {
    "resource_id": "control:IAM-01",
    "reason": "Replacement rolls out next month",
    "expires_on": str(dt.date.today() + dt.timedelta(days=60)),
}

CASES: list[ApiCase] = [
    # --- integrations ---------------------------------------------------------------------------
    ApiCase("integration list", "get", lambda w: f"{ACME}/integrations/", READ),
    ApiCase(
        "integration detail",
        "get",
        lambda w: f"{ACME}/integrations/{integration(w).pk}/",
        ADMIN_SEES,
    ),
    ApiCase(
        "integration create",
        "post",
        lambda w: f"{ACME}/integrations/",
        admin_write(201),
        data=lambda w: NEW_INTEGRATION,
        state=integration_state,
    ),
    ApiCase(
        "integration edit",
        "patch",
        lambda w: f"{ACME}/integrations/{integration(w).pk}/",
        admin_write(200),
        data=lambda w: {"name": "GitHub (acme)", "credentials": {"token": "ghp_rotated98765"}},
        state=integration_state,
    ),
    ApiCase(
        "integration delete",
        "delete",
        lambda w: f"{ACME}/integrations/{integration(w).pk}/",
        admin_write(204),
        state=integration_state,
    ),
    ApiCase(
        "another organization's integration through our URL",
        "get",
        lambda w: f"{ACME}/integrations/{foreign_integration(w).pk}/",
        HIDDEN,
    ),
    ApiCase(
        "edit of another organization's integration through our URL",
        "patch",
        lambda w: f"{ACME}/integrations/{foreign_integration(w).pk}/",
        admin_write(404),  # refused by role before any lookup; the admin finds nothing
        data=lambda w: {"name": "Mine now"},
        state=integration_state,
    ),
    # --- control tests --------------------------------------------------------------------------
    ApiCase("control test list", "get", lambda w: f"{ACME}/control-tests/", READ),
    ApiCase("control test detail", "get", lambda w: f"{ACME}/control-tests/{owned(w).pk}/", READ),
    ApiCase(
        "control test create",
        "post",
        lambda w: f"{ACME}/control-tests/",
        control_writers(201),
        data=lambda w: {**NEW_TEST, "control": w.control.pk},
        state=all_tests,
    ),
    ApiCase(
        "control test create on a control the member does not own",
        "post",
        lambda w: f"{ACME}/control-tests/",
        admin_write(201),
        data=lambda w: {**NEW_TEST, "control": w.unowned_control.pk},
        state=all_tests,
    ),
    ApiCase(
        "control test edit",
        "patch",
        lambda w: f"{ACME}/control-tests/{owned(w).pk}/",
        control_writers(200),
        data=lambda w: TEST_PATCH,
        state=lambda w: state_of(owned(w).pk),
    ),
    ApiCase(
        "edit of a test of a control the member does not own",
        "patch",
        lambda w: f"{ACME}/control-tests/{unowned(w).pk}/",
        admin_write(200),
        data=lambda w: TEST_PATCH,
        state=lambda w: state_of(unowned(w).pk),
    ),
    ApiCase(
        "run now",
        "post",
        lambda w: f"{ACME}/control-tests/{owned(w).pk}/run/",
        control_writers(202),
        state=lambda w: runs_of(owned(w)),
    ),
    ApiCase(
        "run now of a test of a control the member does not own",
        "post",
        lambda w: f"{ACME}/control-tests/{unowned(w).pk}/run/",
        admin_write(202),
        state=lambda w: runs_of(unowned(w)),
    ),
    ApiCase(
        "push token rotation",
        "post",
        lambda w: f"{ACME}/control-tests/{pushed(w).pk}/push-token/",
        control_writers(200),
        state=lambda w: ControlTest.objects.get(pk=pushed(w).pk).push_token_hash,
    ),
    ApiCase("runs of a test", "get", lambda w: f"{ACME}/control-tests/{owned(w).pk}/runs/", READ),
    ApiCase(
        "findings of a test",
        "get",
        lambda w: f"{ACME}/control-tests/{owned(w).pk}/findings/?state=open",
        READ,
    ),
    ApiCase(
        "exceptions of a test",
        "get",
        lambda w: f"{ACME}/control-tests/{owned(w).pk}/exceptions/",
        READ,
    ),
    ApiCase(
        "exception create",
        "post",
        lambda w: f"{ACME}/control-tests/{owned(w).pk}/exceptions/",
        admin_write(201),
        data=lambda w: NEW_EXCEPTION,
        state=lambda w: TestException.objects.count(),
    ),
    ApiCase(
        "exception revoke",
        "post",
        lambda w: f"{ACME}/control-tests/{owned(w).pk}/exceptions/{excepted(w).pk}/revoke/",
        admin_write(200),
        state=lambda w: TestException.objects.get(pk=excepted(w).pk).revoked_at,
    ),
    ApiCase(
        "another organization's test through our URL",
        "get",
        lambda w: f"{ACME}/control-tests/{foreign(w).pk}/",
        HIDDEN,
    ),
    ApiCase(
        "edit of another organization's test through our URL",
        "patch",
        lambda w: f"{ACME}/control-tests/{foreign(w).pk}/",
        HIDDEN,
        data=lambda w: TEST_PATCH,
        state=lambda w: state_of(foreign(w).pk),
    ),
    ApiCase(
        "run now of another organization's test through our URL",
        "post",
        lambda w: f"{ACME}/control-tests/{foreign(w).pk}/run/",
        HIDDEN,
        state=lambda w: runs_of(foreign(w)),
    ),
    ApiCase(
        "another organization's test through its URL",
        "get",
        lambda w: f"{API}/organizations/globex/control-tests/{foreign(w).pk}/",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "outsider": 200},
    ),
    # --- runs -----------------------------------------------------------------------------------
    ApiCase("test run list", "get", lambda w: f"{ACME}/test-runs/", READ),
    ApiCase("test run detail", "get", lambda w: f"{ACME}/test-runs/{run_of(owned(w)).pk}/", READ),
    ApiCase(
        "another organization's run through our URL",
        "get",
        lambda w: f"{ACME}/test-runs/{run_of(foreign(w)).pk}/",
        HIDDEN,
    ),
    # --- the check registry ---------------------------------------------------------------------
    ApiCase("check registry", "get", lambda w: f"{API}/checks/", CATALOG),
    # --- pushed results: never with a session or a personal identity ----------------------------
    ApiCase(
        "push with a signed-in user instead of a push token",
        "post",
        lambda w: f"{API}/push/test-results/",
        {**dict.fromkeys(PERSONAS, 403), "anonymous": 401},
        data=lambda w: {"results": []},
        state=lambda w: TestRun.objects.count(),
    ),
]

PARAMS = [param for case in CASES for param in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_monitoring_api_permissions(
    world: World, monitoring: None, case: ApiCase, persona: str
) -> None:
    case.setup(world)
    client = world.api(persona)
    url = case.url(world)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(url, data=case.data(world), format="json")

    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:500]
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer"), "no authentication challenge"
    if response.status_code >= 400:
        assert "detail" in response.json(), "an error without a JSON detail"
    if case.method == "get":
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    else:
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        assert case.state(world) != before_state, "an allowed write changed nothing"


def test_every_persona_has_an_expectation() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name
