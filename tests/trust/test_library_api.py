"""The answer library's API: permission matrix, filters, decisions, export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import PERSONAS, World
from tests.trust.library_helpers import LIBRARY, make_library, questionnaire_xlsx, upload
from trust.library import services
from trust.models import AnswerEntry, RowDecision

pytestmark = pytest.mark.django_db

BASE = "/api/organizations/acme"
READ = {
    "anonymous": 401,
    "outsider": 404,
    "expired_auditor": 404,
    "auditor": 404,
    "viewer": 200,
    "member": 200,
    "granted": 200,
    "owner": 200,
    "admin": 200,
}
REVIEWERS = ("member", "granted", "owner", "admin")


def _setup(world: World) -> dict[str, Any]:
    admin = world.users["admin"]
    entries = make_library(world.org, admin)
    q = services.questionnaire_upload(
        actor=admin, organization=world.org, name="Q", upload=upload("q.xlsx", questionnaire_xlsx())
    )
    q = services.questionnaire_map(
        actor=admin, questionnaire=q, sheet="Questions", question_column=1, answer_column=2
    )
    return {"entry": entries[0], "q": q, "row": q.rows.get(row_number=2)}


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_permission_matrix(world: World, persona: str) -> None:
    objs = _setup(world)
    api = world.api(persona)
    entry, q, row = objs["entry"], objs["q"], objs["row"]
    for url in [
        f"{BASE}/answer-library/",
        f"{BASE}/answer-library/{entry.pk}/",
        f"{BASE}/questionnaires/",
        f"{BASE}/questionnaires/{q.pk}/",
        f"{BASE}/questionnaires/{q.pk}/rows/",
        f"{BASE}/questionnaires/{q.pk}/export/",
    ]:
        assert api.get(url).status_code == READ[persona], url
    denied = {**READ, "viewer": 403, "member": 403, "granted": 403, "owner": 403}
    response = api.post(
        f"{BASE}/answer-library/", {"question": "New?", "answer": "Yes."}, format="json"
    )
    assert response.status_code == (201 if persona == "admin" else denied[persona])
    assert AnswerEntry.objects.filter(question="New?").exists() == (persona == "admin")
    response = api.patch(
        f"{BASE}/answer-library/{entry.pk}/", {"answer": "Changed."}, format="json"
    )
    assert response.status_code == (200 if persona == "admin" else denied[persona])
    entry.refresh_from_db()
    assert (entry.answer == "Changed.") == (persona == "admin")
    response = api.post(
        f"{BASE}/questionnaires/{q.pk}/rows/{row.pk}/decision/",
        {"decision": "rejected"},
        format="json",
    )
    assert response.status_code == (
        200 if persona in REVIEWERS else {**READ, "viewer": 403}[persona]
    )
    row.refresh_from_db()
    assert (row.decision == RowDecision.REJECTED) == (persona in REVIEWERS)
    response = api.delete(f"{BASE}/answer-library/{entry.pk}/")
    assert response.status_code == (204 if persona == "admin" else denied[persona])
    assert AnswerEntry.objects.filter(pk=entry.pk).exists() == (persona != "admin")


def test_api_lists_filter_stale_and_search(world: World) -> None:
    import datetime as dt

    make_library(world.org, world.users["admin"])
    services.answer_entry_create(
        actor=world.users["admin"],
        organization=world.org,
        question="Old?",
        answer="A.",
        review_by=dt.date(2001, 1, 1),
    )
    api = world.api("viewer")
    stale = api.get(f"{BASE}/answer-library/?stale=stale").json()["results"]
    assert [e["question"] for e in stale] == ["Old?"] and stale[0]["is_stale"] is True
    found = api.get(f"{BASE}/answer-library/?q=penetration").json()["results"]
    assert [e["question"] for e in found] == [LIBRARY[1][0]]


def test_api_errors_name_the_field(world: World) -> None:
    objs = _setup(world)
    api = world.api("admin")
    response = api.post(f"{BASE}/answer-library/", {"question": "", "answer": "A"}, format="json")
    assert response.status_code == 400 and "question" in response.json()
    response = api.post(
        f"{BASE}/answer-library/",
        {"question": "Q?", "answer": "A", "controls": [world.foreign_control.pk]},
        format="json",
    )
    assert response.status_code == 400 and "controls" in response.json()
    response = api.post(
        f"{BASE}/questionnaires/{objs['q'].pk}/rows/{objs['row'].pk}/decision/",
        {"decision": "edited"},
        format="json",
    )
    assert response.status_code == 400 and "answer" in response.json()


def test_api_decision_then_export(world: World) -> None:
    objs = _setup(world)
    api = world.api("member")
    response = api.post(
        f"{BASE}/questionnaires/{objs['q'].pk}/rows/{objs['row'].pk}/decision/",
        {"decision": "accepted"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["final_answer"] == LIBRARY[0][1]
    response = api.get(f"{BASE}/questionnaires/{objs['q'].pk}/export/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    workbook = load_workbook(io.BytesIO(b"".join([response.content])))
    assert workbook["Questions"]["C2"].value == LIBRARY[0][1]


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_complete_and_reopen_permission_matrix(world: World, persona: str) -> None:
    objs = _setup(world)
    api = world.api(persona)
    q = objs["q"]
    response = api.post(f"{BASE}/questionnaires/{q.pk}/complete/")
    assert response.status_code == (
        200 if persona in REVIEWERS else {**READ, "viewer": 403}[persona]
    )
    q.refresh_from_db()
    assert (q.status == "completed") == (persona in REVIEWERS)
    if persona not in REVIEWERS:
        return
    assert response.json()["status"] == "completed"
    again = api.post(f"{BASE}/questionnaires/{q.pk}/complete/")
    assert again.status_code == 400
    assert again.json()["status"] == ["This questionnaire is completed."]
    decided = api.post(
        f"{BASE}/questionnaires/{q.pk}/rows/{objs['row'].pk}/decision/",
        {"decision": "rejected"},
        format="json",
    )
    assert decided.status_code == 400 and "decision" in decided.json()
    assert api.post(f"{BASE}/questionnaires/{q.pk}/reopen/").json()["status"] == "review"
