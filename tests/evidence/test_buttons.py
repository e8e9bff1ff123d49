"""The evidence pages offer uploads only to those who may upload (what they are offered, they
may follow: tests/compliance/test_no_forbidden_buttons.py walks every page)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from evidence import services
from evidence.models import Cadence
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "offered"),
    [("viewer", False), ("member", False), ("owner", True), ("granted", True), ("admin", True)],
)
def test_add_evidence_is_offered_to_who_may_add_it(
    world: World, persona: str, offered: bool
) -> None:
    client = world.client(persona)
    page = client.get(reverse("evidence_list", kwargs={"org": world.org.slug}))
    create = reverse("evidence_create", kwargs={"org": world.org.slug})
    assert (f'href="{create}"' in page.content.decode()) is offered
    assert client.get(create).status_code == (200 if offered else 403)


@pytest.mark.parametrize(
    ("persona", "offered"),
    [("viewer", False), ("member", False), ("granted", False), ("owner", True), ("admin", True)],
)
def test_uploading_for_a_request_is_offered_to_who_may_submit_for_it(
    world: World, persona: str, offered: bool
) -> None:
    request = services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Quarterly access review",
        cadence=Cadence.QUARTERLY,
        first_due_date=services.organization_today(world.org) + dt.timedelta(days=5),
        owner=world.users["owner"],
        controls=[world.unowned_control],
    )
    [occurrence] = services.request_schedule(request)
    client = world.client(persona)
    page = client.get(
        reverse("evidence_request_detail", kwargs={"org": world.org.slug, "pk": request.pk})
    )
    upload = reverse("evidence_create", kwargs={"org": world.org.slug})
    upload += f"?occurrence={occurrence.pk}"
    assert (f'href="{upload}"' in page.content.decode()) is offered
    assert client.get(upload).status_code == (200 if offered else 403)
