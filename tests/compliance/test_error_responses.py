"""Every error under /api/ is JSON with the request id; pages keep their HTML error pages.

The 500 is provoked by a real outage: the database connection is pointed at a closed port, so
the request's first query fails inside psycopg exactly as it does when PostgreSQL is down.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from compliance import services
from compliance.views import errors
from tests.conftest import World


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert body["request_id"] == response["X-Request-ID"]
    return body


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def database_down() -> Iterator[None]:
    """From here on, every new database connection is refused (PostgreSQL "down")."""
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original


@pytest.mark.django_db(transaction=True)
def test_an_api_request_during_a_database_outage_answers_json_500_with_the_request_id(
    world: World, request: pytest.FixtureRequest
) -> None:
    _, secret = services.api_token_create(actor=world.users["admin"], name="CI")
    client = APIClient(raise_request_exception=False)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/organizations/", **auth).status_code == 200

    request.getfixturevalue("database_down")
    response = client.get(
        "/api/organizations/acme/controls/", **auth, HTTP_X_REQUEST_ID="outage-probe-0001"
    )

    body = assert_json_error(response, 500)
    assert body["request_id"] == "outage-probe-0001"
    assert "logged" in body["detail"]
    assert "Traceback" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_page_during_a_database_outage_keeps_the_html_error_page(
    world: World, request: pytest.FixtureRequest
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.users["admin"])

    request.getfixturevalue("database_down")
    response = client.get("/o/acme/controls/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Something went wrong" in response.content.decode()


def test_an_unknown_api_address_is_a_json_404(world: World) -> None:
    response = world.api("admin").get("/api/no-such-thing/")
    assert_json_error(response, 404)


def test_an_unknown_page_is_the_html_404(world: World) -> None:
    response = world.client("admin").get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()


def test_a_disallowed_host_under_api_is_a_json_400(world: World) -> None:
    response = APIClient().get("/api/organizations/", HTTP_HOST="attacker.example")
    body = assert_json_error(response, 400)
    assert body["detail"]


def test_too_many_query_parameters_under_api_is_a_json_400(world: World) -> None:
    query = "&".join(f"f{i}=1" for i in range(1200))  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000
    response = world.api("admin").get(f"/api/organizations/?{query}")
    body = assert_json_error(response, 400)
    assert "too many fields" in body["detail"]


def test_too_many_query_parameters_on_a_page_is_the_html_400(world: World) -> None:
    query = "&".join(f"f{i}=1" for i in range(1200))
    response = world.client("admin").get(f"/o/acme/controls/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "too many fields" in response.content.decode()


def test_a_missing_csrf_token_on_a_session_api_write_is_a_json_403(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["admin"])
    response = client.post("/api/organizations/acme/controls/", {}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF" in response.json()["detail"]


def test_a_missing_csrf_token_on_a_page_is_the_html_403(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["admin"])
    response = client.post("/o/acme/controls/new/", {"name": "x"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("handler", "status"),
    [
        (lambda r: errors.csrf_failure(r, reason="CSRF cookie not set."), 403),
        (lambda r: errors.permission_denied(r, Exception("Nope.")), 403),
        (lambda r: errors.bad_request(r, Exception()), 400),
        (lambda r: errors.page_not_found(r, Exception()), 404),
        (errors.server_error, 500),
    ],
    ids=["csrf", "403", "400", "404", "500"],
)
def test_each_error_handler_answers_json_under_api_and_html_elsewhere(
    db: None, handler: Any, status: int
) -> None:
    api = handler(RequestFactory().post("/api/organizations/acme/controls/"))
    assert api.status_code == status
    assert api["Content-Type"] == "application/json"
    page = handler(RequestFactory().post("/o/acme/controls/new/"))
    assert page.status_code == status
    assert page["Content-Type"].startswith("text/html")
