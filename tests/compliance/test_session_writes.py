"""Page views do not write the session on every request: the "last organization" is saved when
it changes, not on each page (it cost an UPDATE of django_session on every page)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import Role
from compliance.views.mixins import LAST_ORGANIZATION_SESSION_KEY
from tests.conftest import World
from tests.factories import MembershipFactory


def session_writes(client, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [
        q["sql"]
        for q in captured.captured_queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


@pytest.mark.parametrize(
    "url", ["/o/acme/", "/o/acme/controls/", "/o/acme/my-work/", "/o/acme/evidence/"]
)
def test_a_second_page_view_does_not_write_the_session(world: World, url: str) -> None:
    client = world.client("admin")
    client.get(url)  # the first view remembers the organization

    assert session_writes(client, url) == []
    assert session_writes(client, "/o/acme/policies/") == []


def test_switching_organization_is_remembered_once(world: World) -> None:
    admin = world.users["admin"]
    MembershipFactory(user=admin, organization=world.other_org, role=Role.ADMIN)
    client = world.client("admin")
    client.get("/o/acme/")

    assert len(session_writes(client, "/o/globex/")) == 1
    assert client.session[LAST_ORGANIZATION_SESSION_KEY] == "globex"
    assert session_writes(client, "/o/globex/controls/") == []
