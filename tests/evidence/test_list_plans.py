"""What PostgreSQL does for the evidence list on a large organization (generated rows, fresh
statistics, planner settings untouched): the page's order comes from an index, the review
queue and its count from the items' own review status, and nothing reads every item or sorts
them."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.models import ReviewStatus
from tests.conftest import World
from tests.evidence import generate

ITEMS = 6000


@pytest.fixture
def large(world: World) -> World:
    for organization, control in [
        (world.org, world.control),
        (world.other_org, world.foreign_control),
    ]:
        generate.items(organization, ITEMS, controls=[control], revisions=2)
        generate.items(
            organization, 30, controls=[control], statuses=[ReviewStatus.PENDING], title="Waiting"
        )
        generate.items(
            organization,
            10,
            controls=[control],
            statuses=[ReviewStatus.REJECTED],
            title="Sent back",
        )
    generate.analyze()
    return world


def plans(world: World, url: str, persona: str = "admin") -> dict[str, str]:
    """The plan of each query the page ran, by its SQL."""
    with CaptureQueriesContext(connection) as captured:
        assert world.client(persona).get(url).status_code == 200
    found = {}
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if "evidence_evidenceitem" not in sql or not sql.lstrip().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN {sql}")
            found[sql] = "\n".join(row[0] for row in cursor.fetchall())
    return found


def page_plan(found: dict[str, str]) -> str:
    """The plan of the page's query (the items in the list's order, a page of them)."""
    pages = [
        plan
        for sql, plan in found.items()
        if sql.startswith('SELECT "evidence_evidenceitem"."id"')
        and re.search(r" LIMIT \d+( OFFSET \d+)?$", sql)
    ]
    assert len(pages) == 1, [sql[-120:] for sql in found]
    return pages[0]


ORDERS = [
    ("", "evidence_org_effective"),
    ("?sort=effective_date", "evidence_org_effective"),
    ("?sort=title", "evidence_org_title"),
    ("?sort=-title&page=3", "evidence_org_title"),
    ("?review=accepted", "evidence_org_effective"),
    ("?kind=note", "evidence_org_effective"),
]


def test_every_order_of_the_list_reads_its_page_from_an_index_without_sorting(
    large: World,
) -> None:
    for persona in ["admin", "viewer"]:
        for query, index in ORDERS:
            found = plans(large, f"/o/acme/evidence/{query}", persona)
            plan = page_plan(found)
            assert index in plan, (query, plan)
            assert "Sort" not in plan, (query, plan)
            assert "Seq Scan on evidence_evidenceitem" not in plan, (query, plan)
            # The page's facts (latest revisions, controls) read the page's items only.
            for sql, other in found.items():
                assert "Seq Scan on evidence_evidencerevision" not in other, (query, sql, other)


def test_the_review_queue_and_its_filters_start_from_the_items_review_status(
    large: World,
) -> None:
    for review in ["pending", "rejected"]:
        plan = page_plan(plans(large, f"/o/acme/evidence/?review={review}"))
        assert "evidence_org_review" in plan, (review, plan)
        # Neither every item of the organization nor any item's revisions are read.
        assert "Seq Scan on evidence_evidence" not in plan, (review, plan)
        assert "evidence_org_effective" not in plan, (review, plan)
        assert "evidence_evidencerevision" not in plan, (review, plan)


def pending_counts(found: dict[str, str]) -> list[str]:
    return [
        plan
        for sql, plan in found.items()
        if sql.startswith("SELECT COUNT(*)") and "'pending'" in sql
    ]


def test_the_pending_count_reads_the_items_review_status_index_only(large: World) -> None:
    """The evidence list's "Review queue" count, the dashboard's "evidence to review" and My
    work's total: the waiting items of the organization, counted on (organization, review
    status), no revision read."""
    for url in ["/o/acme/evidence/", "/o/acme/", "/o/acme/my-work/"]:
        [count] = pending_counts(plans(large, url))
        assert "using evidence_org_review" in count, (url, count)
        assert "Index Cond: ((organization_id = " in count, (url, count)
        assert "Seq Scan" not in count, (url, count)
        assert "evidence_evidencerevision" not in count, (url, count)


def test_my_works_evidence_to_review_reads_the_oldest_uploads_from_the_index(
    large: World,
) -> None:
    """The reviewer's first ten waiting items, oldest upload first: walked from the review
    index in upload order (a revision's id follows it), never every waiting item sorted."""
    found = plans(large, "/o/acme/my-work/")
    [plan] = [
        plan
        for sql, plan in found.items()
        if sql.startswith('SELECT "evidence_evidenceitem"."id"')
        and "'pending'" in sql
        and sql.endswith("LIMIT 10")
    ]
    assert "evidence_org_review" in plan, plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan
