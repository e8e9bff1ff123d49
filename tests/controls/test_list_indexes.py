"""Every long list reads its page from an index in the list's order (issue 10, item 4).

On generated data (thousands of runs, findings, occurrences and audit events, VACUUM ANALYZEd),
the query each page or API list really sends is captured and EXPLAINed: PostgreSQL must walk the
intended index, never scan the table and sort it. The test runs API's count reads only its index.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from controls.large_organization import Size, generate_large_organization
from controls.models import ControlTest, Finding
from evidence.models import EvidenceRequest, OccurrenceStatus, RequestOccurrence

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = Size(
    controls=100,
    evidence_per_control=1,
    tests=10,
    runs_per_test=1500,
    resources_per_run=1,
    audit_events_per_control=40,
    snapshot_weeks=0,
)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plan(sql: str) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        raw = cursor.fetchone()[0]
    document = json.loads(raw) if isinstance(raw, str) else raw
    return list(_nodes(document[0]["Plan"]))


def _captured(client: Client, url: str, table: str, *, wanted: Callable[[str], bool]) -> str:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    matching = [
        q["sql"]
        for q in queries.captured_queries
        if f'FROM "{table}"' in q["sql"] and wanted(q["sql"])
    ]
    assert matching, f"{url} sent no such query on {table}"
    return matching[0]


def _is_page(sql: str) -> bool:
    return "ORDER BY" in sql and "LIMIT" in sql and not _is_count(sql)


def _is_count(sql: str) -> bool:
    return sql.startswith("SELECT COUNT(*)")


def _assert_walks(sql: str, table: str, index: str) -> list[dict[str, Any]]:
    nodes = _plan(sql)
    described = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]
    assert any(n.get("Index Name") == index for n in nodes), f"{index} unused: {described}"
    assert not any(
        n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table for n in nodes
    ), f"sequential scan of {table}: {described}"
    return nodes


@pytest.fixture
def large() -> tuple[Client, ControlTest, EvidenceRequest, str]:
    generated = generate_large_organization(slug="lists", size=SIZE)
    test = ControlTest.objects.filter(organization=generated.organization).order_by("pk").first()
    assert test is not None
    today = dt.date.today()
    # Years of resolved findings on one test, and a weekly request's occurrences.
    Finding.objects.bulk_create(
        Finding(
            control_test=test,
            resource_id=f"repo-{i}",
            severity="medium",
            opened_at=test.last_run.queued_at,
            due_date=today - dt.timedelta(days=i),
            resolved_at=test.last_run.queued_at,
        )
        for i in range(3000)
    )
    request = EvidenceRequest.objects.filter(organization=generated.organization).first()
    assert request is not None
    RequestOccurrence.objects.bulk_create(
        RequestOccurrence(
            request=request,
            sequence=100 + i,
            due_date=today - dt.timedelta(days=7 * i),
            status=OccurrenceStatus.ACCEPTED,
        )
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        for table in [
            "controls_testrun",
            "controls_finding",
            "evidence_requestoccurrence",
            "compliance_auditevent",
        ]:
            cursor.execute(f"VACUUM ANALYZE {table}")
    client = Client()
    client.force_login(generated.admin)
    return client, test, request, generated.organization.slug


def test_the_test_runs_api_pages_and_counts_from_the_organizations_run_index(
    large: tuple[Client, ControlTest, EvidenceRequest, str],
) -> None:
    client, _, _, slug = large
    url = f"/api/organizations/{slug}/test-runs/?page_size=10"
    page = _captured(client, url, "controls_testrun", wanted=_is_page)
    _assert_walks(page, "controls_testrun", "test_run_org_recent")
    # The count reads at most COUNT_CAP + 1 entries of an index of the organization's runs,
    # never the table.
    count = _plan(_captured(client, url, "controls_testrun", wanted=_is_count))
    scans = [(n["Node Type"], n.get("Relation Name")) for n in count if "Scan" in n["Node Type"]]
    assert scans == [("Index Only Scan", "controls_testrun")], count
    assert any(n["Node Type"] == "Limit" for n in count), count


def test_a_tests_runs_are_paged_from_the_history_index(
    large: tuple[Client, ControlTest, EvidenceRequest, str],
) -> None:
    client, test, _, slug = large
    api = f"/api/organizations/{slug}/test-runs/?control_test={test.pk}&page_size=10"
    _assert_walks(
        _captured(client, api, "controls_testrun", wanted=_is_page),
        "controls_testrun",
        "test_run_history",
    )
    page = f"/o/{slug}/tests/{test.pk}/"
    _assert_walks(
        _captured(client, page, "controls_testrun", wanted=_is_page),
        "controls_testrun",
        "test_run_history",
    )


def test_a_tests_findings_are_paged_from_the_findings_index(
    large: tuple[Client, ControlTest, EvidenceRequest, str],
) -> None:
    client, test, _, slug = large
    url = f"/api/organizations/{slug}/control-tests/{test.pk}/findings/?page_size=10"
    _assert_walks(
        _captured(client, url, "controls_finding", wanted=_is_page),
        "controls_finding",
        "finding_list",
    )


def test_a_requests_occurrences_are_paged_from_their_index(
    large: tuple[Client, ControlTest, EvidenceRequest, str],
) -> None:
    client, _, request, slug = large
    url = f"/api/organizations/{slug}/evidence-requests/{request.pk}/occurrences/?page_size=10"
    _assert_walks(
        _captured(client, url, "evidence_requestoccurrence", wanted=_is_page),
        "evidence_requestoccurrence",
        "occurrence_by_request",
    )


def test_the_audit_trail_is_paged_from_the_organizations_sequence_index(
    large: tuple[Client, ControlTest, EvidenceRequest, str],
) -> None:
    client, _, _, slug = large
    _assert_walks(
        _captured(client, f"/o/{slug}/audit-trail/", "compliance_auditevent", wanted=_is_page),
        "compliance_auditevent",
        "audit_event_org_seq",
    )


def test_the_daily_pass_rate_counts_the_organizations_runs_of_a_span_from_its_index(
    large: tuple[Client, ControlTest, EvidenceRequest, str],
) -> None:
    client, _, _, slug = large
    trend = _captured(
        client, f"/o/{slug}/tests/", "controls_testrun", wanted=lambda sql: "AT TIME ZONE" in sql
    )
    _assert_walks(trend, "controls_testrun", "test_run_org_finished")
