"""Results pushed by an outside system with a test's push token (``Bearer attt_…``).

The token acts for its one test and nowhere else; a personal token or a session is not accepted
here. A malformed body is refused as a whole, naming the offending value (``results[3].status``),
and nothing is stored; a retry with the same ``Idempotency-Key`` records the run once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from compliance import services as compliance_services
from compliance.models import OutboundEmail
from controls.models import ControlTest, Finding, RunStatus, TestResult, TestRun
from controls.monitoring import services
from evidence.models import EvidenceItem, EvidenceRevision, IdempotencyRecord
from tests.conftest import World
from tests.controls.monitoring_helpers import ACME, PUSH_URL, make_push_test


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def pushed_test(world: World, **fields: Any) -> tuple[ControlTest, str]:
    """A pushed test on the control without an owner (a new failure emails nobody)."""
    test = make_push_test(world, world.unowned_control, **fields)
    return test, services.push_token_rotate(actor=world.users["admin"], test=test)


def result(rid: str, status: str = "pass", **fields: Any) -> dict[str, Any]:
    return {"id": rid, "name": rid.title(), "status": status, **fields}


def stored() -> Any:
    """Everything a refused push must leave as it was."""
    return (
        TestRun.objects.count(),
        TestResult.objects.count(),
        Finding.objects.count(),
        EvidenceRevision.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def test_pushed_results_become_a_finished_run_frozen_as_evidence(
    world: World, evidence_dir: Path
) -> None:
    test, token = pushed_test(world)

    response = bearer(token).post(
        PUSH_URL,
        {
            "results": [
                result("repo:api", message="Branch protection on", raw={"rules": 3}),
                result("repo:web", "not_applicable"),
            ],
            "log": "scanned 2 repositories",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == RunStatus.PASSED and body["trigger"] == "push"
    assert (body["passed_count"], body["failed_count"]) == (1, 0)
    run = TestRun.objects.get(pk=body["id"])
    assert run.control_test == test and run.log == "scanned 2 repositories"
    assert {r.resource_id: (r.status, r.raw) for r in run.results.all()} == {
        "repo:api": ("pass", {"rules": 3}),
        "repo:web": ("not_applicable", {}),
    }
    assert body["evidence_revision"] == run.evidence_revision_id is not None
    item = EvidenceItem.objects.get(system_key=f"control-test:{test.pk}")
    assert list(item.controls.all()) == [world.unowned_control]
    assert any(evidence_dir.rglob("*")), "the frozen run was not stored"
    test.refresh_from_db()
    assert test.last_run == run


def test_a_failing_resource_fails_the_run_and_opens_a_finding(world: World) -> None:
    test, token = pushed_test(world)

    response = bearer(token).post(
        PUSH_URL,
        {"results": [result("repo:api"), result("repo:web", "fail", remediation="Protect it")]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == RunStatus.FAILED
    [finding] = Finding.objects.filter(control_test=test)
    assert (finding.resource_id, finding.remediation) == ("repo:web", "Protect it")


def test_a_push_with_an_error_is_an_error_run(world: World) -> None:
    _, token = pushed_test(world)
    response = bearer(token).post(
        PUSH_URL, {"results": [], "error": "Scanner crashed"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["error"]) == ("error", "Scanner crashed")


def test_a_failing_push_on_an_owned_control_tells_the_owner(world: World) -> None:
    """Expected to fail with NoReverseMatch('control_test_detail') until the UI adds that page:
    the engine links the email to it."""
    test = make_push_test(world)  # world.control, owned by "owner"
    token = services.push_token_rotate(actor=world.users["admin"], test=test)

    response = bearer(token).post(PUSH_URL, {"results": [result("a", "fail")]}, format="json")

    assert response.status_code == 201, response.content
    email = OutboundEmail.objects.get(template="control_test_failing")
    assert email.to == ["owner@acme.test"]


# --- idempotency --------------------------------------------------------------------------------


def test_the_same_idempotency_key_records_the_run_once(world: World) -> None:
    _, token = pushed_test(world)
    client = bearer(token)
    body = {"results": [result("repo:api", "fail")]}

    first = client.post(PUSH_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="build-77")
    second = client.post(PUSH_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="build-77")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert TestRun.objects.count() == 1
    assert EvidenceRevision.objects.count() == 1


def test_an_idempotency_key_reused_for_another_body_is_refused(world: World) -> None:
    _, token = pushed_test(world)
    client = bearer(token)
    client.post(PUSH_URL, {"results": [result("a")]}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    before = stored()

    response = client.post(
        PUSH_URL, {"results": [result("b")]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 400
    assert "different request" in response.json()["Idempotency-Key"][0]
    assert stored() == before


def test_idempotency_keys_are_per_test(world: World) -> None:
    first, first_token = pushed_test(world)
    second = make_push_test(world, world.unowned_control, name="Other scanner")
    second_token = services.push_token_rotate(actor=world.users["admin"], test=second)
    body = {"results": [result("a")]}

    for token in (first_token, second_token):
        response = bearer(token).post(PUSH_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="same")
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response

    assert TestRun.objects.filter(control_test=first).count() == 1
    assert TestRun.objects.filter(control_test=second).count() == 1


def test_a_personal_idempotency_key_does_not_collide_with_a_tests(world: World) -> None:
    test, token = pushed_test(world)
    bearer(token).post(
        PUSH_URL, {"results": [result("a")]}, format="json", HTTP_IDEMPOTENCY_KEY="ci-1"
    )
    IdempotencyRecord.objects.create(
        user=world.users["admin"], key="ci-1", fingerprint="x", status_code=201, response={}
    )
    assert IdempotencyRecord.objects.filter(key="ci-1").count() == 2
    assert IdempotencyRecord.objects.get(key="ci-1", user=None).scope == f"control-test:{test.pk}"


# --- who may push -------------------------------------------------------------------------------


def assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.content[:500]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_the_token_pushes_to_its_own_test_only(world: World) -> None:
    mine, token = pushed_test(world)
    other = make_push_test(world, world.unowned_control, name="Other scanner")
    services.push_token_rotate(actor=world.users["admin"], test=other)

    bearer(token).post(PUSH_URL, {"results": [result("a")]}, format="json")

    assert list(TestRun.objects.values_list("control_test_id", flat=True)) == [mine.pk]


def test_a_rotated_token_stops_working(world: World) -> None:
    test, old = pushed_test(world)
    new = services.push_token_rotate(actor=world.users["admin"], test=test)
    before = stored()

    assert_refused(bearer(old).post(PUSH_URL, {"results": []}, format="json"))
    assert stored() == before
    assert bearer(new).post(PUSH_URL, {"results": []}, format="json").status_code == 201


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t + "x",
        lambda t: t.replace("attt_", "att_"),
        lambda t: "attt_",
        lambda t: t.upper(),
    ],
    ids=["last character", "appended", "prefix", "prefix only", "case"],
)
def test_a_tampered_token_is_refused(world: World, tamper: Any) -> None:
    _, token = pushed_test(world)
    before = stored()
    assert_refused(bearer(tamper(token)).post(PUSH_URL, {"results": []}, format="json"))
    assert stored() == before


def test_the_token_of_a_disabled_test_is_refused(world: World) -> None:
    test, token = pushed_test(world)
    ControlTest.objects.filter(pk=test.pk).update(enabled=False)
    assert_refused(bearer(token).post(PUSH_URL, {"results": []}, format="json"))
    assert TestRun.objects.count() == 0


def test_no_token_a_malformed_header_or_another_scheme_is_refused(world: World) -> None:
    _, token = pushed_test(world)
    for header in (None, "Bearer", f"Bearer {token} extra", f"Token {token}", f"Basic {token}"):
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        assert_refused(client.post(PUSH_URL, {"results": []}, format="json"))
    assert TestRun.objects.count() == 0


def test_a_personal_api_token_is_not_accepted_for_pushing(world: World) -> None:
    pushed_test(world)
    _, personal = compliance_services.api_token_create(actor=world.users["admin"], name="CI")
    response = bearer(personal).post(PUSH_URL, {"results": []}, format="json")
    assert_refused(response)
    assert "push token" in response.json()["detail"]
    assert TestRun.objects.count() == 0


def test_a_signed_in_session_is_not_accepted_for_pushing(world: World) -> None:
    pushed_test(world)
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(world.users["admin"])
    assert_refused(client.post(PUSH_URL, {"results": []}, format="json"))
    assert TestRun.objects.count() == 0


def test_a_push_token_is_not_accepted_anywhere_else(world: World) -> None:
    test, token = pushed_test(world)
    client = bearer(token)
    for method, url in (
        ("get", f"{ACME}/control-tests/"),
        ("get", f"{ACME}/control-tests/{test.pk}/"),
        ("post", f"{ACME}/control-tests/{test.pk}/push-token/"),
        ("get", "/api/checks/"),
        ("get", "/api/organizations/"),
    ):
        assert_refused(getattr(client, method)(url))
    test.refresh_from_db()
    assert services.test_for_push_token(token) == test  # still the same token


# --- bad bodies ---------------------------------------------------------------------------------


def many(n: int, **changes: Any) -> list[dict[str, Any]]:
    return [result(f"r{i}") for i in range(n - 1)] + [result(f"r{n - 1}", **changes)]


BAD_BODIES = [
    ("not an object", ["a"], "non_field_errors"),
    ("no results", {"log": "x"}, "results"),
    ("results not a list", {"results": {"id": "a"}}, "results"),
    ("a result not an object", {"results": [result("a"), "b"]}, "results[1]"),
    ("unknown field", {"results": [], "colour": "red"}, "colour"),
    ("unknown result field", {"results": [result("a", colour="red")]}, "results[0].colour"),
    ("invalid status", {"results": many(4, status="passed")}, "results[3].status"),
    ("missing status", {"results": [{"id": "a"}]}, "results[0].status"),
    ("missing id", {"results": [{"status": "pass"}]}, "results[0].id"),
    ("empty id", {"results": [result("")]}, "results[0].id"),
    ("id not text", {"results": [{"id": 7, "status": "pass"}]}, "results[0].id"),
    ("name not text", {"results": [result("a", name=["x"])]}, "results[0].name"),
    ("raw not an object", {"results": [result("a", raw="x")]}, "results[0].raw"),
    ("over-long id", {"results": [result("a" * 501)]}, "results[0].id"),
    ("over-long message", {"results": many(3, message="m" * 4001)}, "results[2].message"),
    ("over-long remediation", {"results": [result("a", remediation="r" * 4001)]},
     "results[0].remediation"),
    ("duplicate ids", {"results": [result("a"), result("b"), result("a")]}, "results[2].id"),
    ("log not text", {"results": [], "log": 5}, "log"),
    ("over-long log", {"results": [], "log": "l" * 100_001}, "log"),
    ("over-long error", {"results": [], "error": "e" * 4001}, "error"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for _, b, f in BAD_BODIES], ids=[n for n, _, _ in BAD_BODIES]
)
def test_a_bad_body_is_refused_naming_the_value_and_nothing_is_stored(
    world: World, evidence_dir: Path, body: Any, field: str
) -> None:
    _, token = pushed_test(world)
    before = stored()

    response = bearer(token).post(PUSH_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 400, response.content[:500]
    errors = response.json()
    assert field in errors, errors
    assert all(isinstance(messages, list) for messages in errors.values())
    assert stored() == before
    assert not [p for p in evidence_dir.rglob("*") if p.is_file()]


def test_too_many_results_are_refused(world: World) -> None:
    _, token = pushed_test(world)
    body = {"results": [result(f"r{i}") for i in range(services.MAX_RESOURCES + 1)]}
    response = bearer(token).post(PUSH_URL, body, format="json")
    assert "results" in response.json() and response.status_code == 400
    assert TestRun.objects.count() == 0
