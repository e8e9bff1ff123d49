"""What schemathesis found the API answering against its own document, one test per finding:
a link that is null rather than "", every list paginated, a create answering like a read, and
JSON bodies taken only with the types the document states."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from evidence import services as evidence_services
from evidence.models import EvidenceItem
from tests.conftest import World

ACME = "/api/organizations/acme"


def test_a_revision_that_is_not_a_link_has_a_null_url(world: World) -> None:
    client = world.api("admin")
    note = {"title": "Review", "kind": "note", "note": "Done.", "controls": [world.control.pk],
            "effective_date": "2026-11-20"}  # fmt: skip
    link = {**note, "title": "CI run", "kind": "link", "note": "",
            "url": "https://ci.example.com/run/42"}  # fmt: skip
    made_note = client.post(f"{ACME}/evidence/", note, format="json").json()
    made_link = client.post(f"{ACME}/evidence/", link, format="json").json()
    assert made_note["latest_revision"]["url"] is None
    assert made_link["latest_revision"]["url"] == "https://ci.example.com/run/42"
    revision = EvidenceItem.objects.get(pk=made_note["id"]).revisions.get()
    shown = client.get(f"{ACME}/evidence-revisions/{revision.pk}/").json()
    assert shown["url"] is None


@pytest.fixture
def monthly_request(world: World) -> Any:
    request = evidence_services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Access review",
        cadence="monthly",
        first_due_date=dt.date.today() - dt.timedelta(days=200),
    )
    evidence_services.request_schedule(request)
    return request


def test_occurrences_of_a_request_come_a_page_at_a_time(world: World, monthly_request: Any) -> None:
    client = world.api("admin")
    url = f"{ACME}/evidence-requests/{monthly_request.pk}/occurrences/"
    page = client.get(url, {"page_size": 2}).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == monthly_request.occurrences.count() > 2
    assert len(page["results"]) == 2
    assert page["next"] is not None
    assert client.get(url, {"page_size": "lots"}).status_code == 400


def test_creating_a_request_answers_with_its_figures(world: World) -> None:
    body = {"title": "Backups", "cadence": "quarterly", "first_due_date": "2026-01-31"}
    created = world.api("admin").post(f"{ACME}/evidence-requests/", body, format="json")
    assert created.status_code == 201
    data = created.json()
    assert {"expected", "delivered", "overdue"} <= set(data)
    shown = world.api("admin").get(f"{ACME}/evidence-requests/{data['id']}/").json()
    assert {k: data[k] for k in ("expected", "delivered", "overdue")} == {
        k: shown[k] for k in ("expected", "delivered", "overdue")
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": 5}, "name"),
        ({"long_lead": "true"}, "long_lead"),
        ({"long_lead": 1}, "long_lead"),
        ({"requirements": {}}, "requirements"),
        ({"requirements": "urn:x"}, "requirements"),
        ({"category": 3}, "category"),
    ],
)
def test_a_json_value_of_the_wrong_type_is_refused(
    world: World, change: dict[str, Any], field: str
) -> None:
    response = world.api("admin").patch(
        f"{ACME}/controls/{world.control.pk}/", change, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_writes_take_json_only(world: World) -> None:
    response = world.api("admin").patch(
        f"{ACME}/controls/{world.control.pk}/", {"name": "Renamed"}, format="multipart"
    )
    assert response.status_code == 415
    world.control.refresh_from_db()
    assert world.control.name != "Renamed"
