"""Evidence pages cost a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence import services
from evidence.models import Cadence
from tests.conftest import World
from tests.evidence.conftest import add_evidence


def add_rows(world: World, count: int) -> None:
    for i in range(count):
        add_evidence(world, world.control, title=f"Evidence {i}", accept=i % 2 == 0)
        request = services.request_create(
            actor=world.users["admin"],
            organization=world.org,
            title=f"Request {i}",
            cadence=Cadence.MONTHLY,
            first_due_date=dt.date(2026, 1, 31),
            owner=world.users["owner"],
            controls=[world.control],
        )
        services.request_schedule(request, today=dt.date(2026, 3, 1))


def count(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/evidence/",
        "/o/acme/evidence/?review=pending",
        "/o/acme/evidence-requests/",
        "/o/acme/my-work/",
        "/o/acme/",
        "/api/organizations/acme/evidence/",
        "/api/organizations/acme/evidence-requests/",
    ],
)
def test_evidence_lists_do_not_grow_with_rows(world: World, url: str) -> None:
    world.control.status = "implemented"
    world.control.save()
    client = world.client("admin")
    add_rows(world, 2)
    client.get(url)  # the first page remembers the organization in the session
    few = count(client, url)
    add_rows(world, 12)
    assert count(client, url) == few


def test_the_control_page_with_its_evidence_does_not_grow_with_rows(world: World) -> None:
    client = world.client("admin")
    url = reverse("control_detail", args=["acme", world.control.pk])
    add_rows(world, 2)
    client.get(url)  # the first page remembers the organization in the session
    few = count(client, url)
    add_rows(world, 12)
    assert count(client, url) == few
