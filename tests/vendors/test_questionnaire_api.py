"""The vendor questionnaire API: every endpoint against every persona, what it answers, bad
input, and the number of queries of its lists at two sizes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import AuditEvent
from tests.conftest import PERSONAS, World
from tests.matrix import ADMIN_ONLY_READ, HIDDEN_FROM_ALL, READ_PROGRAM, Case
from tests.vendors.conftest import Vendors
from tests.vendors.questionnaire_helpers import QUESTIONS, make_template
from vendors import questionnaire_services as services
from vendors.models import QuestionnaireTemplate, SentQuestionnaire

ORG = "/api/organizations/acme"
API_READ = {**READ_PROGRAM, "anonymous": 401}
API_HIDDEN = {**HIDDEN_FROM_ALL, "anonymous": 401, "auditor": 403}


def writers(success: int, *, owner: bool = True) -> dict[str, Any]:
    expected = {**ADMIN_ONLY_READ, "anonymous": 401, "admin": success}
    if owner:
        expected["owner"] = success
    return expected


@pytest.fixture
def sent(world: World, vendors: Vendors) -> None:
    template = make_template(world)
    for email in ("open@cloudhost.test", "done@cloudhost.test"):
        services.questionnaire_send(
            actor=world.users["admin"], vendor=vendors.owned, template=template,
            contact_name="C", contact_email=email, expires_in_days=10,
        )  # fmt: skip
    done = SentQuestionnaire.objects.get(contact_email="done@cloudhost.test")
    services.questionnaire_submit(
        questionnaire=done, answers={"q1": ("yes", "TOTP"), "q2": ("n/a", ""), "q3": ("no", "")}
    )


def q(email: str) -> SentQuestionnaire:
    return SentQuestionnaire.objects.get(contact_email=email)


def base(w: World) -> str:
    return f"{ORG}/vendors/{q('open@cloudhost.test').vendor_id}/questionnaires/"


def template_pk(w: World) -> int:
    return QuestionnaireTemplate.objects.get(organization=w.org).pk


def state(w: World) -> Any:
    return (
        sorted(SentQuestionnaire.objects.values_list("pk", "status")),
        QuestionnaireTemplate.objects.count(),
    )


CASES = [
    Case("templates", "get", lambda w: f"{ORG}/vendor-questionnaire-templates/", API_READ),
    Case(
        "template",
        "get",
        lambda w: f"{ORG}/vendor-questionnaire-templates/{template_pk(w)}/",
        API_READ,
    ),
    Case(
        "create a template",
        "post",
        lambda w: f"{ORG}/vendor-questionnaire-templates/",
        writers(201, owner=False),
        data=lambda w: {"name": "Quick", "questions": QUESTIONS[:2]},
        state=state,
    ),
    Case(
        "copy a starter template",
        "post",
        lambda w: f"{ORG}/vendor-questionnaire-templates/",
        writers(201, owner=False),
        data=lambda w: {"library_key": "core-security-short"},
        state=state,
    ),
    Case("sent list", "get", base, API_READ),
    Case("sent detail", "get", lambda w: base(w) + f"{q('done@cloudhost.test').pk}/", API_READ),
    Case(
        "send",
        "post",
        base,
        writers(201),
        data=lambda w: {
            "template": template_pk(w),
            "contact_name": "N",
            "contact_email": "n@cloudhost.test",
            "expires_in_days": 5,
        },
        state=state,
    ),
    Case(
        "revoke",
        "post",
        lambda w: base(w) + f"{q('open@cloudhost.test').pk}/revoke/",
        writers(200),
        state=state,
    ),
    Case(
        "another organization's vendor",
        "get",
        lambda w: f"{ORG}/vendors/{w.other_org.vendors.get().pk}/questionnaires/",
        API_HIDDEN,
    ),
]
PARAMS = [p for case in CASES for p in case.params()]


@pytest.mark.parametrize(("case", "persona"), PARAMS, ids=[f"{c.name}-{p}" for c, p in PARAMS])
def test_api_permissions(world: World, sent: None, case: Case, persona: str) -> None:
    client = world.api(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()
    response = getattr(client, case.method)(case.url(world), data=case.data(world), format="json")
    expected = case.expected[persona]
    assert response.status_code == expected, response.content[:800]
    if response.status_code >= 400:
        assert "detail" in response.json()
    if case.method == "get":
        return
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == before_events
        assert case.state(world) == before_state
    else:
        assert AuditEvent.objects.count() > before_events
        assert case.state(world) != before_state


def test_every_case_has_an_expectation_for_every_persona() -> None:
    for case in CASES:
        assert set(case.expected) == set(PERSONAS), case.name


def test_detail_has_answers_and_score(world: World, sent: None) -> None:
    done = q("done@cloudhost.test")
    data = world.api("viewer").get(base(world) + f"{done.pk}/").json()
    assert data["status"] == "submitted"
    assert data["answers"][0] == {
        "key": "q1", "section": "Access", "text": "MFA for everyone?", "kind": "yes_no",
        "weight": 3, "scoring_answer": "yes", "answer": "yes", "answer_label": "Yes",
        "comment": "TOTP",
    }  # fmt: skip
    # q1 (3) scores, q2 n/a is left out, q3 (2) and q5 (2) do not score: 3 of 7.
    assert data["score"]["overall"] == {"name": "Overall", "earned": 3, "possible": 7,
                                        "percent": 43}  # fmt: skip
    assert "token" not in str(data) and done.token_hash not in str(data)


def test_bad_input_names_the_field(world: World, sent: None) -> None:
    client = world.api("admin")
    before = state(world)
    response = client.post(
        base(world),
        {"template": template_pk(world), "contact_name": "", "contact_email": "x",
         "expires_in_days": 0},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert {"contact_name", "contact_email", "expires_in_days"} <= set(response.json())
    bad = client.post(
        f"{ORG}/vendor-questionnaire-templates/",
        {"name": "Bad", "questions": [{"text": "Pick", "kind": "choice", "choices": ["a"]}]},
        format="json",
    )
    assert bad.status_code == 400 and "questions" in bad.json()
    unknown = client.post(base(world), {"template": template_pk(world), "surprise": 1},
                          format="json")  # fmt: skip
    assert unknown.status_code == 400
    assert state(world) == before
    revoked = client.post(base(world) + f"{q('done@cloudhost.test').pk}/revoke/")
    assert revoked.status_code == 400 and "only an open one" in str(revoked.json())


@pytest.mark.parametrize("path", ["sent", "templates"])
def test_lists_take_a_fixed_number_of_queries(world: World, vendors: Vendors, path: str) -> None:
    template = make_template(world)
    client = world.api("viewer")
    url = (
        f"{ORG}/vendors/{vendors.owned.pk}/questionnaires/"
        if path == "sent"
        else f"{ORG}/vendor-questionnaire-templates/"
    )

    def grow(n: int) -> None:
        for i in range(n):
            if path == "sent":
                services.questionnaire_send(
                    actor=world.users["admin"], vendor=vendors.owned, template=template,
                    contact_name="C", contact_email=f"c{i}@x.test", expires_in_days=3,
                )  # fmt: skip
            else:
                make_template(world, name=f"T{QuestionnaireTemplate.objects.count()}")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    grow(2)
    count()  # warm: the first request caches what every request reuses
    small = count()
    grow(20)
    assert count() == small


def test_lists_are_paginated(world: World, vendors: Vendors) -> None:
    data = world.api("viewer").get(f"{ORG}/vendors/{vendors.owned.pk}/questionnaires/").json()
    assert "results" in data and "count" in data
