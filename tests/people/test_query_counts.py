"""The people pages cost a fixed number of queries, whatever the number of people and records
(the matrix crosses people with requirements: it must not grow with either)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.models import PersonnelRequirement, RequirementKind
from people.services import record_create
from tests.conftest import World
from tests.people.factories import PersonFactory


def add_people(world: World, count: int, today: dt.date) -> None:
    boss = PersonFactory(organization=world.org, department="Exec")
    for i in range(count):
        pat = PersonFactory(
            organization=world.org,
            manager=boss,
            department=["Sales", "Support", "Engineering"][i % 3],
            start_date=today - dt.timedelta(days=10 * i),
            end_date=today - dt.timedelta(days=2) if i % 5 == 4 else None,
        )
        for kind in (RequirementKind.MFA, RequirementKind.SECURITY_TRAINING):
            record_create(actor=None, person=pat, kind=kind, completed_on=today)
        if i % 2:
            record_create(
                actor=None, person=pat, kind="background_check", completed_on=today,
                provider="Sterling", result="clear",
            )  # fmt: skip


def queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
    return len(captured.captured_queries)


ROSTER = reverse("person_list", args=["acme"])
MATRIX = reverse("person_completion", args=["acme"])
PAGES: list[tuple[str, Callable[[World], str]]] = [
    ("roster", lambda w: reverse("person_list", args=["acme"])),
    ("roster sorted by manager", lambda w: reverse("person_list", args=["acme"]) + "?sort=manager"),
    (
        "roster filtered by completion",
        lambda w: reverse("person_list", args=["acme"])
        + "?requirement=background_check&state=overdue&department=Engineering",
    ),
    ("roster, overall completion", lambda w: ROSTER + "?completion=incomplete"),
    ("completion matrix", lambda w: MATRIX),
    ("completion matrix, everyone", lambda w: MATRIX + "?status=all"),
    ("requirements", lambda w: reverse("people_requirements", args=["acme"])),
    ("people API", lambda w: "/api/organizations/acme/people/"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[name for name, _ in PAGES])
def test_query_count_does_not_grow_with_people(
    world: World,
    requirements: dict[str, PersonnelRequirement],
    today: dt.date,
    name: str,
    url: Callable[[World], str],
) -> None:
    client = world.client("admin")
    add_people(world, 3, today)
    queries(client, url(world))  # the first request of a session loads what it caches
    few = queries(client, url(world))
    add_people(world, 40, today)
    many = queries(client, url(world))
    assert many == few, f"{name}: {few} queries with few people, {many} with many"
    assert few <= 25, f"{name} needs {few} queries"


def test_the_person_page_does_not_grow_with_records(
    world: World, requirements: dict[str, PersonnelRequirement], today: dt.date
) -> None:
    client = world.client("admin")
    pat = PersonFactory(organization=world.org, start_date=dt.date(2015, 1, 1))
    PersonFactory(organization=world.org, manager=pat)
    url = reverse("person_detail", args=["acme", pat.pk])
    # One record first: an empty page of records costs no query at all.
    record_create(
        actor=world.users["admin"], person=pat, kind="security_training",
        completed_on=dt.date(2014, 2, 1),
    )  # fmt: skip
    queries(client, url)
    few = queries(client, url)
    for year in range(10):
        record_create(
            actor=world.users["admin"], person=pat, kind="security_training",
            completed_on=dt.date(2015 + year, 2, 1),
        )  # fmt: skip
    PersonFactory.create_batch(5, organization=world.org, manager=pat)
    assert queries(client, url) == few
