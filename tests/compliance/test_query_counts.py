"""Pages that list things cost a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import World
from tests.factories import (
    ControlFactory,
    MembershipFactory,
    RequirementFactory,
    UserFactory,
    map_control,
)


def add_rows(world: World, count: int) -> None:
    owners = [UserFactory() for _ in range(3)]
    for owner in owners:
        MembershipFactory(user=owner, organization=world.org)
    for i in range(count):
        requirement = RequirementFactory(category=world.security)
        control = ControlFactory(organization=world.org, owner=owners[i % 3], long_lead=i % 2 == 0)
        map_control(control, requirement, world.req_a)


def queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
    return len(captured.captured_queries)


PAGES: list[tuple[str, Callable[[World], str]]] = [
    ("dashboard", lambda w: reverse("dashboard", args=["acme"])),
    ("control list", lambda w: reverse("control_list", args=["acme"])),
    (
        "control list sorted by owner",
        lambda w: reverse("control_list", args=["acme"]) + "?sort=-owner",
    ),
    ("requirement list", lambda w: reverse("framework_detail", args=["acme", "tsc"])),
    ("my work", lambda w: reverse("my_work", args=["acme"])),
    ("members", lambda w: reverse("member_list", args=["acme"])),
    ("audit trail", lambda w: reverse("audit_trail", args=["acme"])),
    ("control detail", lambda w: reverse("control_detail", args=["acme", w.control.pk])),
    ("controls API", lambda w: "/api/organizations/acme/controls/"),
    ("mappings API", lambda w: "/api/organizations/acme/mappings/"),
    ("readiness API", lambda w: "/api/organizations/acme/readiness/"),
    ("readiness snapshots API", lambda w: "/api/organizations/acme/readiness/snapshots/"),
]


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[name for name, _ in PAGES])
def test_query_count_does_not_grow_with_rows(
    world: World, name: str, url: Callable[[World], str]
) -> None:
    client = world.client("admin")
    add_rows(world, 3)
    client.get(url(world))  # the first page remembers the organization in the session
    few = queries(client, url(world))
    add_rows(world, 30)
    many = queries(client, url(world))
    assert many == few, f"{name}: {few} queries with few rows, {many} with many"
    assert few <= 25, f"{name} needs {few} queries"
