"""The API's documentation: every operation sits under the area it belongs to, every area is
described and named in the API's description, and the document validates."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import World

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(world: World) -> dict[str, Any]:
    response = world.api("viewer").get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_every_operation_has_one_tag_that_is_described(schema: dict[str, Any]) -> None:
    described = {tag["name"]: tag.get("description", "") for tag in schema["tags"]}
    assert all(text.strip() for text in described.values()), described
    untagged = []
    for path, method, operation in operations(schema):
        tags = operation.get("tags", [])
        if len(tags) != 1 or tags[0] not in described:
            untagged.append(f"{method.upper()} {path}: {tags}")
    assert not untagged, untagged


def test_every_described_area_holds_operations(schema: dict[str, Any]) -> None:
    used = {operation["tags"][0] for _, _, operation in operations(schema)}
    assert used == {tag["name"] for tag in schema["tags"]}
    assert {"organizations", "controls", "evidence", "policies", "people", "vendors",
            "monitoring", "readiness", "frameworks"} <= used  # fmt: skip


def test_no_area_is_a_catch_all(schema: dict[str, Any]) -> None:
    by_tag: dict[str, list[str]] = defaultdict(list)
    for path, _, operation in operations(schema):
        by_tag[operation["tags"][0]].append(path)
    total = sum(len(paths) for paths in by_tag.values())
    # Organization-scoped routes all start with /api/organizations/{org}/: only the
    # organizations themselves, their members and invitations belong to that tag.
    own = re.compile(r"^/api/organizations/(\{slug\}/)?$|/(memberships|invitations)/")
    strays = [path for path in by_tag["organizations"] if not own.search(path)]
    assert not strays, strays
    largest = max(len(paths) for paths in by_tag.values())
    assert largest <= total // 3, {tag: len(paths) for tag, paths in by_tag.items()}


def test_the_description_names_every_area(schema: dict[str, Any]) -> None:
    description = schema["info"]["description"]
    assert description == settings.SPECTACULAR_SETTINGS["DESCRIPTION"]
    missing = [tag["name"] for tag in schema["tags"] if tag["name"] not in description]
    assert not missing, missing


@pytest.mark.parametrize(
    ("path", "area"),
    [
        ("/api/organizations/", "organizations"),
        ("/api/organizations/{org}/memberships/", "organizations"),
        ("/api/requirements/", "frameworks"),
        ("/api/organizations/{org}/adopted-frameworks/", "frameworks"),
        ("/api/organizations/{org}/mappings/", "controls"),
        ("/api/organizations/{org}/readiness/", "readiness"),
        ("/api/push/test-results/", "monitoring"),
        ("/api/checks/", "monitoring"),
        ("/api/organizations/{org}/evidence-requests/{id}/occurrences/", "evidence"),
        ("/api/organizations/{org}/policies/{policy_pk}/versions/", "policies"),
        ("/api/organizations/{org}/people/{person}/records/", "people"),
        ("/api/organizations/{org}/vendors/{vendor}/reviews/", "vendors"),
        ("/api/organizations/{org}/vendors/{vendor}/documents/{document}/cuecs/", "vendors"),
        ("/api/organizations/{org}/weekly/action-items/{id}/close/", "weekly"),
        ("/api/organizations/{org}/weekly/notes/{week}/", "weekly"),
    ],
)
def test_operations_sit_under_their_area(schema: dict[str, Any], path: str, area: str) -> None:
    item = schema["paths"][path]
    assert {item[m]["tags"][0] for m in item if m in HTTP_METHODS} == {area}


def test_every_operation_documents_the_errors_it_can_answer(schema: dict[str, Any]) -> None:
    missing = []
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        expected = {"401", "403"}
        if method != "get" or any(p["in"] == "query" for p in operation.get("parameters", [])):
            expected.add("400")
        if "{" in path:
            expected.add("404")
        if not expected <= codes:
            missing.append(f"{method.upper()} {path}: {sorted(expected - codes)}")
    assert not missing, missing
    errors = schema["components"]["schemas"]
    assert errors["Error"]["required"] == ["detail"]
    assert "ValidationError" in errors
