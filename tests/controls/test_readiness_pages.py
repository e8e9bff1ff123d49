"""Readiness as the pages show it: the dashboard's owners count what readiness calls "not ready",
the number opens the same controls, and a requirement page says why each control is not ready."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.models import User
from controls.models import Control
from tests.conftest import World
from tests.factories import ControlFactory, RequirementFactory, map_control, recompute

DASHBOARD = reverse("dashboard", args=["acme"])
LIST = reverse("control_list", args=["acme"])


def refs(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'<td class="id"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def owner_row(response, user: User) -> dict[str, int]:  # type: ignore[no-untyped-def]
    [row] = [o for o in response.context["owners"] if o["owner_id"] == user.pk]
    return {"total": row["total"], "open": row["open"]}


@pytest.fixture
def owned(world: World) -> World:
    """The owner's controls: one of each kind of ready and not ready."""
    owner = world.users["owner"]
    # IAM-01 (the world's control) is implemented but quarterly with no evidence: blocked.
    Control.objects.filter(pk=world.control.pk).update(status="implemented", frequency="quarterly")
    ControlFactory(organization=world.org, ref_id="OPS-01", owner=owner, status="implemented")
    ControlFactory(
        organization=world.org, ref_id="OPS-02", owner=owner, status="not_applicable",
        na_justification="We run no servers.",
    )  # fmt: skip
    ControlFactory(organization=world.org, ref_id="OPS-03", owner=owner, status="in_progress")
    ControlFactory(organization=world.org, ref_id="OPS-04", owner=owner, status="not_started")
    recompute(world.org)
    return world


def test_an_implemented_control_with_a_blocker_counts_as_open_for_its_owner(owned: World) -> None:
    response = owned.client("admin").get(DASHBOARD)

    # Open: IAM-01 (implemented, no evidence), OPS-03 and OPS-04; ready: OPS-01 and OPS-02.
    assert owner_row(response, owned.users["owner"]) == {"total": 5, "open": 3}


def test_an_implemented_control_whose_blocker_is_gone_is_no_longer_open(owned: World) -> None:
    Control.objects.filter(pk=owned.control.pk).update(frequency="event_driven")
    recompute(owned.org)

    response = owned.client("admin").get(DASHBOARD)

    assert owner_row(response, owned.users["owner"]) == {"total": 5, "open": 2}


def test_the_open_number_links_to_the_owners_controls_that_are_not_ready(owned: World) -> None:
    owner = owned.users["owner"]
    dashboard = owned.client("admin").get(DASHBOARD).content.decode()
    link = re.search(rf'href="([^"]+)" data-testid="owner-open-{owner.pk}">(\d+)<', dashboard)
    assert link is not None, "the open count is a link"
    url, shown = link.group(1).replace("&amp;", "&"), int(link.group(2))

    listed = refs(owned.client("admin").get(url))

    assert url == f"{LIST}?owner={owner.pk}&readiness=not_ready"
    assert listed == ["IAM-01", "OPS-03", "OPS-04"]
    assert len(listed) == shown


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?readiness=not_ready", ["CHG-01", "IAM-01", "OPS-03", "OPS-04"]),
        ("?readiness=ready", ["OPS-01", "OPS-02"]),
        ("?readiness=", ["CHG-01", "IAM-01", "OPS-01", "OPS-02", "OPS-03", "OPS-04"]),
    ],
)
def test_the_control_list_filters_by_readiness(owned: World, query: str, expected: list) -> None:
    assert refs(owned.client("viewer").get(LIST + query)) == expected


def test_the_readiness_filter_is_offered_on_the_control_list(owned: World) -> None:
    page = owned.client("member").get(LIST + "?readiness=not_ready").content.decode()

    assert '<select id="f-readiness" name="readiness">' in page
    assert '<option value="not_ready" selected>Not ready</option>' in page


def test_a_requirement_page_says_which_controls_are_ready_and_why_not(owned: World) -> None:
    ready = Control.objects.get(ref_id="OPS-01")
    started = Control.objects.get(ref_id="OPS-03")
    map_control(ready, owned.req_a)
    map_control(started, owned.req_a)
    recompute(owned.org)
    url = reverse("requirement_detail", args=["acme", owned.req_a.pk])

    page = owned.client("viewer").get(url).content.decode()

    rows = {
        ref: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
        for ref, html in re.findall(r'<tr data-testid="mapped-([^"]+)">(.*?)</tr>', page, re.S)
    }
    assert rows["IAM-01"].endswith("Implemented Not ready No accepted evidence yet.")
    assert rows["OPS-01"].endswith("Implemented Ready")
    assert rows["OPS-03"].endswith("In progress Not ready Still being put in place.")
    evidence = reverse("control_detail", args=["acme", owned.control.pk]) + "#evidence"
    assert f'<a href="{evidence}">No accepted evidence yet.</a>' in page


def add_blocked_controls(world: World, count: int) -> None:
    """Implemented quarterly controls without evidence, each blocked, owned and mapped."""
    owner = world.users["owner"]
    for _ in range(count):
        control = ControlFactory(
            organization=world.org, owner=owner, status="implemented", frequency="quarterly"
        )
        map_control(control, world.req_a, RequirementFactory(category=world.security))
    recompute(world.org)


def queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    client.get(url)  # the first page remembers the organization in the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        DASHBOARD,
        LIST + "?readiness=not_ready",
        LIST + "?owner=me&readiness=ready",
        "requirement",
    ],
)
def test_readiness_pages_cost_the_same_queries_with_few_or_many_blocked_controls(
    owned: World, url: str
) -> None:
    if url == "requirement":
        url = reverse("requirement_detail", args=["acme", owned.req_a.pk])
    client = owned.client("owner")
    add_blocked_controls(owned, 2)
    few = queries(client, url)
    add_blocked_controls(owned, 25)
    many = queries(client, url)

    assert many == few, f"{url}: {few} queries with few blocked controls, {many} with many"


def test_a_control_page_reads_its_stored_readiness(owned: World) -> None:
    """One row read with the control instead of every blocker source asked again: the page says
    what the stored state says (kept current by the services; a recomputation repairs it)."""
    from controls.models import ControlReadiness

    url = reverse("control_detail", args=["acme", owned.control.pk])
    client = owned.client("admin")
    page = client.get(url).content.decode()
    assert "No accepted evidence yet." in page

    # A stored reason is what the page shows, word for word.
    ControlReadiness.objects.filter(pk=owned.control.pk).update(
        blockers=[{"reason": "Stored reason, shown as stored.", "url": ""}]
    )
    assert "Stored reason, shown as stored." in client.get(url).content.decode()
    recompute(owned.org)
    assert "Stored reason, shown as stored." not in client.get(url).content.decode()


def test_a_control_without_a_stored_row_is_computed_live(owned: World) -> None:
    from controls.models import ControlReadiness

    ControlReadiness.objects.filter(pk=owned.control.pk).delete()
    page = owned.client("admin").get(reverse("control_detail", args=["acme", owned.control.pk]))
    assert page.status_code == 200
    assert page.context["is_ready"] is False
    assert page.context["blockers"], "the live computation found the missing evidence"
