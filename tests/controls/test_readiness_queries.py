"""Readiness is read from the stored rows: the pages that show it cost the same number of
queries with 5 or 50 controls, never recompute a blocker, and two transactions changing two
controls of one requirement leave it right."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from controls import services as controls
from controls.models import ControlReadiness, ControlStatus, RequirementReadiness
from tests.conftest import World, build_world
from tests.factories import ControlFactory, MembershipFactory, UserFactory, map_control, recompute


def add_controls(world: World, count: int) -> None:
    """Controls of every kind on SEC1.1 and SEC1.2: implemented without evidence (blocked),
    implemented event-driven (ready), in progress."""
    owners = [UserFactory() for _ in range(3)]
    for owner in owners:
        MembershipFactory(user=owner, organization=world.org)
    for i in range(count):
        kind = i % 3
        control = ControlFactory(
            organization=world.org,
            owner=owners[i % 3],
            status=ControlStatus.IN_PROGRESS if kind == 2 else ControlStatus.IMPLEMENTED,
            frequency="monthly" if kind == 0 else "event_driven",
        )
        map_control(control, world.req_a, world.req_b)
    recompute(world.org)


def captured(client, url: str, **headers: str) -> list[str]:  # type: ignore[no-untyped-def]
    client.get(url, **headers)  # the first page remembers the organization in the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in queries.captured_queries]


HTMX = {"HTTP_HX_REQUEST": "true"}
# A table of the apps the blocker sources read ("evidence_evidenceitem"), not a column of the
# stored rows ("controls_controlreadiness"."evidence_due").
OTHER_APPS_TABLE = re.compile(r'(?<!\.)"(evidence|policies|people)_\w+"')
PAGES: list[tuple[str, Callable[[World], str], dict[str, str], bool]] = [
    # name, url, headers, whether the page may touch evidence tables (the dashboard counts
    # pending reviews; the others must read readiness from the stored rows only)
    ("dashboard", lambda w: reverse("dashboard", args=["acme"]), {}, True),
    ("framework page", lambda w: reverse("framework_detail", args=["acme", "tsc"]), {}, False),
    ("frameworks", lambda w: reverse("framework_list", args=["acme"]), {}, False),
    (
        "requirement controls",
        lambda w: reverse("requirement_controls", args=["acme", w.req_a.pk]),
        HTMX,
        False,
    ),
    (
        "requirement page",
        lambda w: reverse("requirement_detail", args=["acme", w.req_a.pk]),
        {},
        False,
    ),
    ("readiness API", lambda w: "/api/organizations/acme/readiness/", {}, False),
    (
        "not-ready controls",
        lambda w: reverse("control_list", args=["acme"]) + "?readiness=not_ready",
        {},
        False,
    ),
    (
        "controls needing evidence",
        lambda w: reverse("control_list", args=["acme"]) + "?evidence=needed",
        {},
        False,
    ),
    (
        "controls blocked by a kind",
        lambda w: reverse("control_list", args=["acme"]) + "?blocker=evidence_missing",
        {},
        False,
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url", "headers", "evidence"), PAGES, ids=[p[0] for p in PAGES])
def test_readiness_pages_cost_the_same_with_5_or_50_controls_and_recompute_nothing(
    world: World,
    name: str,
    url: Callable[[World], str],
    headers: dict[str, str],
    evidence: bool,
) -> None:
    client = world.client("admin")
    add_controls(world, 5)
    few = captured(client, url(world), **headers)
    add_controls(world, 45)
    many = captured(client, url(world), **headers)

    assert len(many) == len(few), f"{name}: {len(few)} queries with 5 controls, {len(many)} with 50"
    assert len(few) <= 25
    if not evidence:
        touched = [q for q in many if OTHER_APPS_TABLE.search(q)]
        assert touched == [], f"{name} recomputes blockers: {touched[:1]}"


@pytest.mark.django_db
def test_the_framework_page_shows_counts_and_lists_controls_on_demand(world: World) -> None:
    add_controls(world, 5)  # + IAM-01 on SEC1.1: 6 controls, of which 2 ready (event-driven)…
    client = world.client("admin")
    page = client.get(reverse("framework_detail", args=["acme", "tsc"])).content.decode()
    partial_url = reverse("requirement_controls", args=["acme", world.req_a.pk])
    row = RequirementReadiness.objects.get(organization=world.org, requirement=world.req_a)

    assert f"{row.controls_ready} of {row.controls_total} controls ready" in page
    assert row.controls_total == 6
    assert f'hx-get="{partial_url}"' in page
    # Without JS, the link opens the requirement's page, which lists the controls too.
    assert f'href="{reverse("requirement_detail", args=["acme", world.req_a.pk])}"' in page
    assert "chip" not in page  # no control chips on the page itself

    partial = client.get(partial_url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.count('class="chip') == 6
    assert "No accepted evidence yet." in partial
    assert client.get(partial_url).status_code == 302  # without htmx: the requirement page


@pytest.mark.django_db
def test_the_requirement_controls_are_capped_with_a_link_to_all(
    world: World, settings: pytest.FixtureRequest
) -> None:
    from controls import selectors

    add_controls(world, 5)
    client = world.client("admin")
    partial_url = reverse("requirement_controls", args=["acme", world.req_a.pk])
    original = selectors.REQUIREMENT_CONTROLS_LIMIT
    try:
        selectors.REQUIREMENT_CONTROLS_LIMIT = 4
        partial = client.get(partial_url, HTTP_HX_REQUEST="true").content.decode()
    finally:
        selectors.REQUIREMENT_CONTROLS_LIMIT = original
    assert partial.count('class="chip') == 4
    assert f"?requirement={world.req_a.pk}" in partial
    assert "All 6 controls" in partial


@pytest.mark.django_db
def test_the_readiness_api_keeps_its_shape_and_says_when_it_was_computed(world: World) -> None:
    add_controls(world, 3)
    [framework] = world.api("admin").get("/api/organizations/acme/readiness/").json()

    assert set(framework) == {
        "framework", "total", "ready", "not_ready", "gaps", "percent", "categories", "computed_at",
    }  # fmt: skip
    assert framework["framework"] == "tsc"
    assert framework["computed_at"]
    assert (framework["total"], framework["gaps"]) == (3, 1)


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_two_controls_of_one_requirement_leave_it_right() -> None:
    world = build_world()
    admin = world.users["admin"]
    second = ControlFactory(organization=world.org, ref_id="IAM-02")
    map_control(second, world.req_a)
    recompute(world.org)
    first_changed = threading.Event()
    errors: list[BaseException] = []

    def change(control_pk: int, wait: threading.Event | None) -> None:
        try:
            if wait is not None:
                assert wait.wait(10)
            with transaction.atomic():
                controls.control_update(
                    actor=admin,
                    control=world.control.__class__.objects.get(pk=control_pk),
                    changes={"status": ControlStatus.IMPLEMENTED},
                )
                if wait is None:
                    first_changed.set()
                    # Hold the requirement's lock while the other transaction tries: without
                    # it, the other would count this control as not ready (uncommitted).
                    threading.Event().wait(0.5)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change, args=(world.control.pk, None)),
        threading.Thread(target=change, args=(second.pk, first_changed)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert errors == []
    row = RequirementReadiness.objects.get(organization=world.org, requirement=world.req_a)
    assert (row.state, row.controls_total, row.controls_ready) == ("ready", 2, 2)
    assert (
        ControlReadiness.objects.filter(control__in=[world.control, second], ready=True).count()
        == 2
    )
