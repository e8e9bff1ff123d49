"""Who may bind an integration to a control test (docs/permissions.md).

An integration holds credentials an admin configured, so choosing the integration of a test, and
changing a test that uses one, takes the capability of managing integrations (admins). A member
who may change the control still adds tests that need no integration and runs the tests of
their control now, an integration-bound one included. The API refuses on the field with a 403
whatever the id (no hint whether it exists); the pages offer neither the form nor the button.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from controls.models import ControlTest
from tests.conftest import World
from tests.controls.monitoring_helpers import ACME, make_integration, make_test
from tests.controls.test_monitoring_api import unchanged

TESTS = f"{ACME}/control-tests/"
CHECK = "github.branch_protection"
WRITERS = ["owner", "granted"]  # members who may change world.control


def bound_test(world: World) -> ControlTest:
    """A GitHub test on the owner's control, bound by the admin."""
    return make_test(
        world,
        name="Branch protection",
        check_key=CHECK,
        parameters={"repositories": "acme/api"},
        integration=make_integration(world),
    )


def new_test_body(world: World, integration: Any) -> dict[str, Any]:
    return {
        "control": world.control.pk,
        "name": "Branch protection",
        "check_key": CHECK,
        "parameters": {"repositories": "acme/api"},
        "integration": integration,
    }


@pytest.mark.parametrize("persona", WRITERS)
def test_a_member_binding_an_integration_through_the_api_gets_a_403_on_the_field(
    world: World, persona: str
) -> None:
    integration = make_integration(world)
    before = unchanged(world)
    for integration_id in (integration.pk, integration.pk + 1000):  # real or not: same answer
        response = world.api(persona).post(
            TESTS, new_test_body(world, integration_id), format="json"
        )
        assert response.status_code == 403, response.content
        assert "admins" in response.json()["integration"][0]
    assert unchanged(world) == before


def test_the_admin_binds_an_integration_through_the_api(world: World) -> None:
    integration = make_integration(world)
    response = world.api("admin").post(TESTS, new_test_body(world, integration.pk), format="json")
    assert response.status_code == 201, response.content
    assert ControlTest.objects.get().integration == integration


@pytest.mark.parametrize("persona", WRITERS)
def test_a_member_cannot_change_a_test_that_uses_an_integration(world: World, persona: str) -> None:
    test = bound_test(world)
    before = unchanged(world)
    for body in ({"name": "Renamed"}, {"parameters": {"repositories": "acme/secret"}}):
        response = world.api(persona).patch(f"{TESTS}{test.pk}/", body, format="json")
        assert response.status_code == 403, response.content
        assert "integration" in response.json()
    assert unchanged(world) == before
    response = world.api("admin").patch(f"{TESTS}{test.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200, response.content


def test_a_member_cannot_bind_an_integration_to_a_test_without_one(world: World) -> None:
    test = make_test(world)
    integration = make_integration(world)
    before = unchanged(world)
    response = world.api("owner").patch(
        f"{TESTS}{test.pk}/", {"integration": integration.pk}, format="json"
    )
    assert response.status_code == 403
    assert "integration" in response.json()
    assert unchanged(world) == before
    # The rest of the test stays theirs to change.
    response = world.api("owner").patch(f"{TESTS}{test.pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 200, response.content


def test_a_member_still_runs_a_test_of_their_control_that_uses_an_integration(
    world: World,
) -> None:
    test = bound_test(world)
    response = world.api("owner").post(f"{TESTS}{test.pk}/run/")
    assert response.status_code == 202, response.content


def test_the_test_page_offers_a_member_run_now_but_not_edit(world: World) -> None:
    test = bound_test(world)
    detail = reverse("control_test_detail", args=["acme", test.pk])
    edit = reverse("control_test_edit", args=["acme", test.pk])
    owner_page = world.client("owner").get(detail).content.decode()
    assert "Run now" in owner_page
    assert edit not in owner_page
    admin_page = world.client("admin").get(detail).content.decode()
    assert edit in admin_page

    client = world.client("owner")
    before = unchanged(world)
    assert client.get(edit).status_code == 403
    response = client.post(edit, {"name": "Renamed", "schedule_kind": "interval"})
    assert response.status_code == 403
    assert unchanged(world) == before


def test_the_choose_page_offers_a_member_no_check_that_needs_an_integration(
    world: World,
) -> None:
    make_integration(world)
    choose = reverse("control_test_choose", args=["acme", world.control.pk])
    create = reverse("control_test_create", args=["acme", world.control.pk])
    owner_page = world.client("owner").get(choose).content.decode()
    assert f"{create}?check={CHECK}" not in owner_page
    assert f"{create}?check=attest.evidence_fresh" in owner_page  # needs no integration
    assert "Added by admins" in owner_page
    assert world.client("owner").get(f"{create}?check={CHECK}").status_code == 403

    admin_page = world.client("admin").get(choose).content.decode()
    assert f"{create}?check={CHECK}" in admin_page
    form = world.client("admin").get(f"{create}?check={CHECK}")
    assert form.status_code == 200
    assert "GitHub" in form.content.decode()  # the dropdown lists the connected integration
