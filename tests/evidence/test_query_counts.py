"""Evidence pages cost a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evidence import services
from evidence.models import Cadence, ReviewStatus
from tests.conftest import World
from tests.evidence import generate
from tests.evidence.conftest import add_evidence
from tests.factories import ControlFactory


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


def add_mixed(world: World, count: int) -> None:
    """``count`` items of each kind of history: latest accepted, rejected and pending (with an
    earlier accepted one), each on two controls."""
    controls = [world.control, world.unowned_control]
    for statuses in (
        [ReviewStatus.PENDING, ReviewStatus.ACCEPTED],
        [ReviewStatus.ACCEPTED, ReviewStatus.REJECTED],
        [ReviewStatus.ACCEPTED, ReviewStatus.PENDING],
    ):
        generate.items(world.org, count, controls=controls, revisions=2, statuses=statuses)


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/evidence/",
        "/o/acme/evidence/?review=pending",
        "/o/acme/evidence/?review=accepted",
        "/o/acme/evidence/?review=rejected",
        "/o/acme/evidence/?sort=title",
        "/o/acme/evidence/?sort=effective_date&page=2",
        "/o/acme/evidence/?control={control}",
        "/o/acme/evidence/?kind=note&q=generated",
        "/api/organizations/acme/evidence/",
        "/api/organizations/acme/evidence/?control={control}",
        "/api/organizations/acme/evidence/?ordering=title&page_size=100",
    ],
)
@pytest.mark.parametrize("persona", ["admin", "member"])
def test_the_evidence_list_costs_the_same_for_5_and_40_items(
    world: World, url: str, persona: str
) -> None:
    url = url.format(control=world.control.pk)
    client = world.client(persona)
    add_mixed(world, 5)
    client.get(url)  # the first page remembers the organization in the session
    few = count(client, url)
    add_mixed(world, 35)
    assert count(client, url) == few


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/evidence/{pk}/",
        "/o/acme/evidence/{pk}/?controls=all",
        "/api/organizations/acme/evidence/{pk}/",
        "/api/organizations/acme/evidence/{pk}/revisions/",
        "/api/organizations/acme/evidence/{pk}/revisions/?page_size=100",
    ],
)
def test_an_item_costs_the_same_with_3_and_60_revisions_and_13_and_60_controls(
    world: World, url: str
) -> None:
    controls = ControlFactory.create_batch(13, organization=world.org)
    [item] = generate.items(
        world.org, 1, controls=controls, revisions=3, statuses=[ReviewStatus.PENDING]
    )
    url = url.format(pk=item.pk)
    client = world.client("admin")
    client.get(url)  # the first page remembers the organization in the session
    few = count(client, url)
    generate.add_revisions([item], 57, statuses=[ReviewStatus.PENDING])
    item.controls.add(*ControlFactory.create_batch(47, organization=world.org))
    assert count(client, url) == few


def test_an_api_page_of_100_items_with_400_revisions_each_stays_small(world: World) -> None:
    """A test's evidence gains a revision per run: the list carries the latest and a count,
    so a page weighs the same after 400 runs as after one."""
    made = generate.items(world.org, 100, controls=[world.control], revisions=1)
    client = world.client("admin")
    url = "/api/organizations/acme/evidence/?page_size=100"
    with CaptureQueriesContext(connection) as first:
        small = client.get(url)
    generate.add_revisions(made, 399)
    with CaptureQueriesContext(connection) as later:
        big = client.get(url)
    assert big.status_code == 200
    results = big.json()["results"]
    assert len(results) == 100
    assert {r["revision_count"] for r in results} == {400}
    assert {r["latest_revision"]["number"] for r in results} == {400}
    assert len(big.content) < 100_000
    assert len(big.content) <= len(small.content) + 100 * 10  # a few more digits per item
    assert len(later.captured_queries) == len(first.captured_queries)
