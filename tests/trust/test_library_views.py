"""The answer library's and questionnaires' pages: permission matrix, pages, query counts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PERSONAS, World
from tests.matrix import LOGIN
from tests.trust.library_helpers import make_library, questionnaire_xlsx, upload
from trust.library import services
from trust.models import AnswerEntry, Questionnaire, QuestionnaireRow, RowDecision

pytestmark = pytest.mark.django_db

READ = {
    "anonymous": LOGIN,
    "outsider": 404,
    "expired_auditor": 404,
    "auditor": 404,
    "viewer": 200,
    "member": 200,
    "granted": 200,
    "owner": 200,
    "admin": 200,
}
REVIEW_WRITE = {**READ, "viewer": 403}
ADMIN_WRITE = {**READ, "viewer": 403, "member": 403, "granted": 403, "owner": 403}


def _setup(world: World) -> dict[str, Any]:
    admin = world.users["admin"]
    entries = make_library(world.org, admin)
    owned = services.answer_entry_create(
        actor=admin,
        organization=world.org,
        question="Owned?",
        answer="Yes.",
        owner=world.users["owner"],
    )
    mapping = services.questionnaire_upload(
        actor=admin,
        organization=world.org,
        name="Mapping",
        upload=upload("m.xlsx", questionnaire_xlsx()),
    )
    review = services.questionnaire_upload(
        actor=admin,
        organization=world.org,
        name="Review",
        upload=upload("r.xlsx", questionnaire_xlsx()),
    )
    review = services.questionnaire_map(
        actor=admin, questionnaire=review, sheet="Questions", question_column=1, answer_column=2
    )
    row = review.rows.get(row_number=2)
    return {"entry": entries[0], "owned": owned, "mapping": mapping, "review": review, "row": row}


def _request(
    world: World, persona: str, method: str, url: str, data: dict[str, Any] | None = None
) -> int:
    client = world.client(persona)
    response = client.get(url) if method == "get" else client.post(url, data or {})
    if response.status_code == 302 and "/login" in response["Location"] and persona == "anonymous":
        return LOGIN  # type: ignore[return-value]
    return response.status_code


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_permission_matrix(world: World, persona: str) -> None:
    objs = _setup(world)
    o = "/o/acme"
    entry, owned, mapping, review, row = (
        objs["entry"], objs["owned"], objs["mapping"], objs["review"], objs["row"]
    )  # fmt: skip
    cases = [
        ("get", f"{o}/library/", None, READ),
        ("get", f"{o}/library/{entry.pk}/", None, READ),
        ("get", f"{o}/library/new/", None, ADMIN_WRITE),
        ("get", f"{o}/library/{entry.pk}/edit/", None, ADMIN_WRITE),
        ("get", f"{o}/library/{owned.pk}/edit/", None, {**ADMIN_WRITE, "owner": 200}),
        ("get", f"{o}/questionnaires/", None, READ),
        ("get", f"{o}/questionnaires/new/", None, REVIEW_WRITE),
        ("get", f"{o}/questionnaires/{mapping.pk}/", None, READ),
        ("get", f"{o}/questionnaires/{review.pk}/", None, READ),
        ("get", f"{o}/questionnaires/{review.pk}/export/", None, READ),
    ]
    for method, url, data, expected in cases:
        assert _request(world, persona, method, url, data) == expected[persona], url
    # Writes: denied ones change nothing.
    status = _request(
        world,
        persona,
        "post",
        f"{o}/questionnaires/{review.pk}/rows/{row.pk}/",
        {"decision": "rejected"},
    )
    writers = ("member", "granted", "owner", "admin")
    assert status == (302 if persona in writers else REVIEW_WRITE[persona])
    row.refresh_from_db()
    assert (row.decision == RowDecision.REJECTED) == (
        persona in ("member", "granted", "owner", "admin")
    )
    status = _request(world, persona, "post", f"{o}/library/{entry.pk}/delete/")
    exists = AnswerEntry.objects.filter(pk=entry.pk).exists()
    if persona == "admin":
        assert status == 302 and not exists
    else:
        assert status == ADMIN_WRITE[persona] and exists
    before = Questionnaire.objects.count()
    status = _request(
        world,
        persona,
        "post",
        f"{o}/questionnaires/new/",
        {"name": "x", "file": upload("x.xlsx", questionnaire_xlsx())},
    )
    if persona in ("member", "granted", "owner", "admin"):
        assert status == 302 and Questionnaire.objects.count() == before + 1
    else:
        assert status == REVIEW_WRITE[persona] and Questionnaire.objects.count() == before


def test_foreign_questionnaire_is_hidden(world: World) -> None:
    objs = _setup(world)
    assert (
        world.client("admin").get(f"/o/globex/questionnaires/{objs['review'].pk}/").status_code
        == 404
    )


def test_mapping_page_offers_sheet_and_column_selects_and_maps(world: World) -> None:
    objs = _setup(world)
    client = world.client("member")
    url = f"/o/acme/questionnaires/{objs['mapping'].pk}/"
    page = client.get(url + "?sheet=Questions").content.decode()
    assert '<option value="Questions" selected>' in page
    assert '<select name="question_column"' in page and "B — Question" in page
    response = client.post(
        url, {"sheet": "Questions", "header_row": 1, "question_column": 1, "answer_column": 2}
    )
    assert response.status_code == 302
    assert QuestionnaireRow.objects.filter(questionnaire=objs["mapping"]).count() == 4


def test_mapping_errors_are_shown_on_the_form(world: World) -> None:
    objs = _setup(world)
    url = f"/o/acme/questionnaires/{objs['mapping'].pk}/"
    response = world.client("admin").post(
        url, {"sheet": "Questions", "header_row": 1, "question_column": 1, "answer_column": 1}
    )
    assert response.status_code == 400
    assert "Choose a column other than the questions" in response.content.decode()


def test_bad_upload_shows_the_error_and_stores_nothing(world: World) -> None:
    response = world.client("admin").post(
        "/o/acme/questionnaires/new/",
        {"name": "x", "file": upload("x.csv", "Q;A\n".encode("utf-16"))},
    )
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert not Questionnaire.objects.exists()


def test_htmx_decision_returns_the_row(world: World) -> None:
    objs = _setup(world)
    row = objs["row"]
    response = world.client("member").post(
        f"/o/acme/questionnaires/{objs['review'].pk}/rows/{row.pk}/",
        {"decision": "edited", "answer": "Our own words."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="row-{row.pk}"' in response.content.decode()
    assert "Our own words." in response.content.decode()


def test_stale_entries_are_marked_and_filterable(world: World) -> None:
    import datetime as dt

    services.answer_entry_create(
        actor=world.users["admin"],
        organization=world.org,
        question="Old one?",
        answer="A.",
        review_by=dt.date(2001, 1, 1),
    )
    services.answer_entry_create(
        actor=world.users["admin"],
        organization=world.org,
        question="New one?",
        answer="A.",
        review_by=dt.date(2999, 1, 1),
    )
    page = world.client("viewer").get("/o/acme/library/?stale=stale").content.decode()
    assert "Old one?" in page and "New one?" not in page and "Stale" in page


@pytest.mark.parametrize("url", ["/o/acme/library/", "/o/acme/questionnaires/", "review"])
def test_lists_query_counts_do_not_grow(
    world: World, url: str, django_assert_max_num_queries: Any
) -> None:
    admin = world.users["admin"]
    client = world.client("admin")

    def grow(n: int) -> str:
        for i in range(n):
            services.answer_entry_create(
                actor=admin,
                organization=world.org,
                question=f"Question {i} about backups?",
                answer="A.",
                owner=admin,
            )
        q = services.questionnaire_upload(
            actor=admin,
            organization=world.org,
            name="q",
            upload=upload("q.xlsx", questionnaire_xlsx()),
        )
        q = services.questionnaire_map(
            actor=admin, questionnaire=q, sheet="Questions", question_column=1, answer_column=2
        )
        return f"/o/acme/questionnaires/{q.pk}/" if url == "review" else url

    target = grow(2)
    client.get(target)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    target = grow(30)
    with CaptureQueriesContext(connection) as large:
        assert client.get(target).status_code == 200
    assert len(large) == len(small)


def test_htmx_decision_refreshes_the_count_tiles_out_of_band(world: World) -> None:
    objs = _setup(world)
    row = objs["row"]
    response = world.client("member").post(
        f"/o/acme/questionnaires/{objs['review'].pk}/rows/{row.pk}/",
        {"decision": "rejected"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'id="decision-counts" style="margin-bottom:1rem" hx-swap-oob="true"' in body
    counts = services_counts(objs["review"])
    assert counts["Rejected"] == 1
    assert (
        '<div class="stat-label">Rejected</div><div class="stat-value" data-testid="count-' in body
    )
    # The full page has the tiles without the out-of-band marker.
    page = world.client("member").get(f"/o/acme/questionnaires/{objs['review'].pk}/")
    assert 'id="decision-counts"' in page.content.decode()
    assert "hx-swap-oob" not in page.content.decode()


def services_counts(questionnaire: Questionnaire) -> dict[str, int]:
    from trust.library.views import _decision_counts

    return _decision_counts(questionnaire)


@pytest.mark.parametrize("persona", PERSONAS)
def test_completing_and_reopening_a_review_permission_matrix(world: World, persona: str) -> None:
    objs = _setup(world)
    review = objs["review"]
    url = f"/o/acme/questionnaires/{review.pk}/"
    reviewers = ("member", "granted", "owner", "admin")
    page = world.client(persona).get(url)
    offered = page.status_code == 200 and "Mark review complete" in page.content.decode()
    assert offered == (persona in reviewers)
    status = _request(world, persona, "post", url + "complete/")
    assert status == (302 if persona in reviewers else REVIEW_WRITE[persona])
    review.refresh_from_db()
    assert (review.status == "completed") == (persona in reviewers)
    if persona not in reviewers:
        return
    page = world.client(persona).get(url).content.decode()
    assert "Reopen review" in page and "Mark review complete" not in page
    assert f"/rows/{objs['row'].pk}/" not in page  # no decision form on a completed review
    # Deciding a row of a completed review is refused and changes nothing.
    world.client(persona).post(url + f"rows/{objs['row'].pk}/", {"decision": "rejected"})
    objs["row"].refresh_from_db()
    assert objs["row"].decision != RowDecision.REJECTED
    assert _request(world, persona, "post", url + "reopen/") == 302
    review.refresh_from_db()
    assert review.status == "review"


def test_completing_twice_says_so_and_changes_nothing(world: World) -> None:
    objs = _setup(world)
    client = world.client("admin")
    url = f"/o/acme/questionnaires/{objs['review'].pk}/"
    client.post(url + "complete/")
    response = client.post(url + "complete/", follow=True)
    assert "This questionnaire is completed." in response.content.decode()
    response = client.post(f"/o/acme/questionnaires/{objs['mapping'].pk}/reopen/", follow=True)
    assert "This questionnaire is choosing columns." in response.content.decode()
    objs["mapping"].refresh_from_db()
    assert objs["mapping"].status == "mapping"
