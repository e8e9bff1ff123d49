"""The gap analysis against every persona: viewers, members and admins read the page and both
downloads (pages and API); auditors get none of it (403, as on every program page), expired
auditors and strangers 404, anonymous browsers go to sign in and anonymous API calls get 401.
Reading writes nothing; the API takes personal tokens as the rest of the API does."""

from __future__ import annotations

from typing import Any

import pytest

from compliance import services as compliance_services
from compliance.models import AuditEvent
from tests.conftest import PERSONAS, World
from tests.matrix import READ_PROGRAM, Case, check_page_case

API = "/api/organizations"
PAGES = [
    Case("report page", "get", lambda w: "/o/acme/reports/gap-analysis/", READ_PROGRAM),
    Case(
        "report page, one framework",
        "get",
        lambda w: "/o/acme/reports/gap-analysis/?framework=tsc",
        READ_PROGRAM,
    ),
    Case("xlsx", "get", lambda w: "/o/acme/reports/gap-analysis.xlsx", READ_PROGRAM),
    Case("pdf", "get", lambda w: "/o/acme/reports/gap-analysis.pdf?framework=tsc", READ_PROGRAM),
    # Globex's report through its own URL: only Globex's admin (the outsider).
    Case(
        "another organization's report",
        "get",
        lambda w: "/o/globex/reports/gap-analysis.xlsx",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": "login", "outsider": 200},
    ),
]
API_READ: dict[str, Any] = {**READ_PROGRAM, "anonymous": 401}
API_CASES = [
    ("api xlsx", f"{API}/acme/reports/gap-analysis.xlsx", API_READ),
    ("api pdf", f"{API}/acme/reports/gap-analysis.pdf?framework=tsc", API_READ),
    (
        "another organization's api report",
        f"{API}/globex/reports/gap-analysis.pdf",
        dict.fromkeys(PERSONAS, 404) | {"anonymous": 401, "outsider": 200},
    ),
]
PAGE_PARAMS = [param for case in PAGES for param in case.params()]
API_PARAMS = [(name, url, expected, p) for name, url, expected in API_CASES for p in PERSONAS]


@pytest.mark.parametrize(
    ("case", "persona"), PAGE_PARAMS, ids=[f"{c.name}-{p}" for c, p in PAGE_PARAMS]
)
def test_gap_report_page_permissions(world: World, case: Case, persona: str) -> None:
    check_page_case(world, case, persona)


@pytest.mark.parametrize(
    ("name", "url", "expected", "persona"),
    API_PARAMS,
    ids=[f"{name}-{p}" for name, _, _, p in API_PARAMS],
)
def test_gap_report_api_permissions(
    world: World, name: str, url: str, expected: dict[str, Any], persona: str
) -> None:
    before = AuditEvent.objects.count()
    response = world.api(persona).get(url)
    assert response.status_code == expected[persona], response
    if response.status_code >= 400:
        assert "detail" in response.json()
    else:
        assert response["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.count() == before  # reading writes nothing


def test_the_api_takes_a_personal_token(world: World, client: Any) -> None:
    _, secret = compliance_services.api_token_create(actor=world.users["viewer"], name="report")
    response = client.get(
        f"{API}/acme/reports/gap-analysis.xlsx", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    refused = client.get(
        f"{API}/acme/reports/gap-analysis.xlsx", HTTP_AUTHORIZATION="Bearer att_wrong"
    )
    assert refused.status_code == 401


@pytest.mark.parametrize("persona", ["viewer", "member", "admin"])
def test_readers_see_the_links_to_the_report(world: World, persona: str) -> None:
    client = world.client(persona)
    for page in ("/o/acme/", "/o/acme/weekly/"):
        html = client.get(page).content.decode()
        assert 'href="/o/acme/reports/gap-analysis/"' in html, page


def test_auditors_see_no_link_to_the_report(world: World) -> None:
    html = world.client("auditor").get("/o/acme/", follow=True).content.decode()
    assert "gap-analysis" not in html
