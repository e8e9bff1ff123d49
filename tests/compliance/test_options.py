"""``OPTIONS`` on every route answers without a server error, signed in or not.

An OPTIONS request is what a browser's CORS preflight, a crawler or a scanner sends first; the
API docs page once answered it with a 500 (its template renderer had no template for the
metadata DRF returns).
"""

from __future__ import annotations

import pytest

from tests.compliance.routes import all_routes
from tests.conftest import World


def sample(name: str, converter: str) -> str:
    """A plausible value for a URL parameter: the test organization's slug, an id, a word."""
    if name in ("org", "slug"):
        return "acme"
    if converter == "drf_format_suffix":
        return ".json"
    if name == "format":
        return "json"
    if converter in ("int", "regex"):
        return "1"
    return "x"


ROUTES = all_routes(sample)


def test_the_sweep_covers_pages_the_api_and_its_docs() -> None:
    urls = {route.url for route in ROUTES}
    assert {"/api/docs/", "/api/redoc/", "/api/schema/", "/login/", "/o/acme/"} <= urls
    assert any(url.startswith("/api/organizations/acme/controls/") for url in urls)
    assert len(ROUTES) > 100


@pytest.mark.parametrize("persona", ["anonymous", "admin"])
def test_options_never_answers_a_server_error(world: World, persona: str) -> None:
    # One world for the whole sweep (a world per route would take minutes); every failing
    # route is listed, not only the first.
    client = world.client(persona)
    client.raise_request_exception = False
    failures = []
    for route in ROUTES:
        response = client.options(route.url)
        if response.status_code >= 500:
            failures.append(f"{route.url}: {response.status_code}")
    assert not failures, failures


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_options_on_the_api_docs_names_the_allowed_methods(world: World, url: str) -> None:
    response = world.client("admin").options(url)
    assert response.status_code == 200
    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert {"GET", "OPTIONS"} <= allowed
    assert response.content == b""
