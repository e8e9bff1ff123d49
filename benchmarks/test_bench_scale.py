"""Issue 10's pages at a real company's size, next to the SQL that computes the same figures.

The large organization (``manage.py generate_large_organization``: 2,000 controls, 20,000
evidence items, 50 tests x 400 runs x 50 resources = 1M results) and a small one (168 controls,
the issue's "before" column) are generated once into a database of their own,
``<database>_scale``, and reused by later runs (the organization's slug names its size; a new
size generates a new one; drop the database to start over). Each page is requested by URL through
Django's test client in this process (DEBUG off, no network, no gunicorn: server time only),
30 times: the median, the query count and the response size are printed with the targets
(<= 60 ms, <= 300 KB) and the ratio to the median of raw SQL that reads the same figures,
timed in the same run, and how many of the page's queries PostgreSQL would JIT-compile. Then
the evidence list's slowest query with JIT on and off.

Asserts correctness only: every page answers 200 and sends no more queries at the large size
than at the small one.
``BENCH_SCALE`` (default 1) shrinks the large organization for a quick run; ``BENCH_REQUESTS``
(default 30) the number of timed requests.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from benchmarks.timing import median_ms
from compliance.models import Organization, User
from controls.large_organization import ISSUE_SIZE, Size, generate_large_organization
from controls.models import Control, ControlTest

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "30"))
LARGE = ISSUE_SIZE.scaled(SCALE) if SCALE != 1 else ISSUE_SIZE
SMALL = ISSUE_SIZE.scaled(168 / 2000)
TARGET_MS = 60
TARGET_KB = 300


def _slug(size: Size) -> str:
    return (
        f"scale-{size.controls}-{size.evidence_per_control}x{size.revisions_per_item}-"
        f"{size.tests}x{size.runs_per_test}x{size.resources_per_run}-{size.frameworks}f-"
        f"{size.snapshot_weeks}w"
    )


@contextmanager
def _scale_database() -> Iterator[str]:
    """Point Django's connection at ``<database>_scale`` (created and migrated when missing)
    for the block, then back at the test database."""
    params = connection.settings_dict
    test_name = params["NAME"]
    name = f"{test_name.removeprefix('test_')}_scale"
    admin = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    params["NAME"] = name
    try:
        call_command("migrate", verbosity=0)
        yield name
    finally:
        connection.close()
        params["NAME"] = test_name


def _organization(size: Size) -> tuple[Organization, User]:
    slug = _slug(size)
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        started = time.monotonic()
        generated = generate_large_organization(slug=slug, size=size)
        print(f"\n  generated {slug} in {time.monotonic() - started:.0f}s: {size.describe()}")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        return generated.organization, generated.admin
    return organization, User.objects.get(email=f"{slug}-owner1@example.com")


@dataclass
class Page:
    name: str
    url: str
    sql: Sequence[str]  # the raw SQL reading the same figures ({org}, {control}, {soc2} filled)


def _pages(organization: Organization) -> list[Page]:
    slug = organization.slug
    control = Control.objects.filter(organization=organization).order_by("ref_id").first()
    test = ControlTest.objects.filter(organization=organization).order_by("pk").first()
    assert control is not None and test is not None
    item_count = "SELECT count(*) FROM evidence_evidenceitem WHERE organization_id = {org}"
    latest = (
        "SELECT i.id, i.title, i.effective_date, r.number, r.review_status FROM "
        "(SELECT id, title, effective_date, latest_revision_id FROM evidence_evidenceitem "
        "WHERE organization_id = {org} ORDER BY effective_date DESC, id DESC LIMIT {n}) i "
        "LEFT JOIN evidence_evidencerevision r ON r.id = i.latest_revision_id"
    )
    runs = (
        "SELECT r.id, r.status, r.queued_at, r.passed_count, r.failed_count, t.name "
        "FROM controls_testrun r JOIN controls_controltest t ON t.id = r.control_test_id "
        "WHERE r.organization_id = {org} ORDER BY r.queued_at DESC, r.id DESC LIMIT {n}"
    )
    run_count = "SELECT count(*) FROM controls_testrun WHERE organization_id = {org}"
    controls = (
        "SELECT c.id, c.ref_id, c.name, c.status, u.email FROM controls_control c "
        "LEFT JOIN compliance_user u ON u.id = c.owner_id WHERE c.organization_id = {org} "
        "AND c.archived_at IS NULL ORDER BY c.ref_id LIMIT {n}"
    )
    control_count = (
        "SELECT count(*) FROM controls_control WHERE organization_id = {org} "
        "AND archived_at IS NULL"
    )
    # Readiness's figures: per requirement in scope, its mapped controls and how many are
    # implemented (what stored readiness rows are aggregated into).
    readiness = (
        "SELECT m.requirement_id, count(*), count(*) FILTER (WHERE c.status = 'implemented') "
        "FROM controls_controlrequirement m JOIN controls_control c ON c.id = m.control_id "
        "WHERE c.organization_id = {org} AND c.archived_at IS NULL GROUP BY m.requirement_id"
    )
    by_status = (
        "SELECT status, count(*) FROM controls_control WHERE organization_id = {org} "
        "AND archived_at IS NULL GROUP BY status"
    )
    # Items name their latest revision and its review status (evidence 0007).
    pending = (
        "SELECT count(*) FROM evidence_evidenceitem "
        "WHERE organization_id = {org} AND review_status = 'pending'"
    )
    waiting = (
        "SELECT r.id FROM evidence_evidenceitem i JOIN evidence_evidencerevision r "
        "ON r.id = i.latest_revision_id WHERE i.organization_id = {org} "
        "AND i.review_status = 'pending' ORDER BY r.uploaded_at LIMIT 10"
    )
    mine = (
        "SELECT id, ref_id, name, status FROM controls_control WHERE organization_id = {org} "
        "AND owner_id = {admin} AND status <> 'implemented' ORDER BY ref_id LIMIT 10"
    )
    pages = [
        Page("evidence list (HTML, 50 rows)", f"/o/{slug}/evidence/",
             [latest.replace("{n}", "50"), item_count]),
        Page("My work (admin)", f"/o/{slug}/my-work/",
             [mine, waiting]),
        Page("SOC 2 framework page", f"/o/{slug}/frameworks/soc2/", [readiness]),
        Page("dashboard", f"/o/{slug}/", [readiness, by_status, pending]),
        Page("readiness API", f"/api/organizations/{slug}/readiness/", [readiness]),
        Page("evidence API, 10 rows", f"/api/organizations/{slug}/evidence/?page_size=10",
             [latest.replace("{n}", "10"), item_count]),
        Page("evidence API, 100 rows", f"/api/organizations/{slug}/evidence/?page_size=100",
             [latest.replace("{n}", "100"), item_count]),
        Page("test runs API, 10 rows", f"/api/organizations/{slug}/test-runs/?page_size=10",
             [runs.replace("{n}", "10"), run_count]),
        Page("test runs API, 100 rows", f"/api/organizations/{slug}/test-runs/?page_size=100",
             [runs.replace("{n}", "100"), run_count]),
        Page("controls list (HTML)", f"/o/{slug}/controls/",
             [controls.replace("{n}", "50"), control_count]),
        Page("controls API, 10 rows", f"/api/organizations/{slug}/controls/?page_size=10",
             [controls.replace("{n}", "10"), control_count]),
        Page("controls API, 100 rows", f"/api/organizations/{slug}/controls/?page_size=100",
             [controls.replace("{n}", "100"), control_count]),
        Page("one control", f"/o/{slug}/controls/{control.pk}/",
             ["SELECT * FROM controls_control WHERE id = {control}",
              "SELECT requirement_id FROM controls_controlrequirement WHERE control_id = {control}",
              "SELECT evidenceitem_id FROM evidence_evidenceitem_controls "
              "WHERE control_id = {control} LIMIT 10",
              "SELECT r.id, r.status FROM controls_testrun r JOIN controls_controltest t ON "
              "t.id = r.control_test_id WHERE t.control_id = {control} "
              "ORDER BY r.queued_at DESC LIMIT 10"]),
        Page("one automated test", f"/o/{slug}/tests/{test.pk}/",
             ["SELECT id, status, queued_at FROM controls_testrun WHERE control_test_id = "
              "{test} ORDER BY queued_at DESC, id DESC LIMIT 25",
              "SELECT * FROM controls_testresult WHERE run_id = {last_run}"]),
        Page("audit trail", f"/o/{slug}/audit-trail/",
             ["SELECT * FROM compliance_auditevent WHERE organization_id = {org} "
              "ORDER BY seq DESC LIMIT 50",
              "SELECT count(*) FROM compliance_auditevent WHERE organization_id = {org}"]),
    ]  # fmt: skip
    values = {
        "{org}": str(organization.pk),
        "{control}": str(control.pk),
        "{admin}": str(control.owner_id),
        "{test}": str(test.pk),
        "{last_run}": str(test.last_run_id),
    }
    for page in pages:
        filled = []
        for sql in page.sql:
            for key, value in values.items():
                sql = sql.replace(key, value)
            filled.append(sql)
        page.sql = filled
    return pages


@dataclass
class Measure:
    status: int
    queries: int
    size: int
    ms: float
    sql_ms: float
    jit_queries: int
    db_ms: float = 0.0  # the page's own queries: their time summed, median over the requests


@contextmanager
def _queries() -> Iterator[list[tuple[float, str, Any]]]:
    """Every statement this thread's connection sends in the block, with its time in ms
    (an execute wrapper: it survives the reconnections between requests, which empty the
    connection's query log that CaptureQueriesContext reads)."""
    sent: list[tuple[float, str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sent.append(((time.perf_counter() - start) * 1000, sql, params))

    with connection.execute_wrapper(record):
        yield sent


def _get(client: Client, url: str) -> tuple[int, bytes]:
    """A request and its whole body (a streamed one read to its end)."""
    response = client.get(url)
    if response.streaming:
        return response.status_code, b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.status_code, response.content


def _measure(client: Client, page: Page, n: int) -> Measure:
    _get(client, page.url)  # warm up: templates, caches, the plan cache
    with _queries() as queries:
        status, body = _get(client, page.url)
    ms = median_ms(lambda: _get(client, page.url), n)
    db_times = []
    for _ in range(n):
        with _queries() as sent:
            _get(client, page.url)
        db_times.append(sum(t for t, _, _ in sent))

    def run_sql() -> None:
        with connection.cursor() as cursor:
            for sql in page.sql:
                cursor.execute(sql)
                cursor.fetchall()

    run_sql()
    sql_ms = median_ms(run_sql, n)
    return Measure(
        status,
        len(queries),
        len(body),
        ms,
        sql_ms,
        _above_jit_threshold([(sql, params) for _, sql, params in queries]),
        statistics.median(db_times),
    )


def _above_jit_threshold(queries: Sequence[tuple[str, Any]]) -> int:
    """How many of the page's SELECTs PostgreSQL plans above ``jit_above_cost``: those it
    compiles with JIT when ``jit`` is on (tens of milliseconds each)."""
    above = 0
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit_above_cost")
        threshold = float(cursor.fetchone()[0])
        for sql, params in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            raw = cursor.fetchone()[0]
            plan = json.loads(raw) if isinstance(raw, str) else raw
            above += plan[0]["Plan"]["Total Cost"] > threshold
    return above


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchall()


def _slowest_query(client: Client, url: str) -> tuple[str, Any]:
    with _queries() as queries:
        client.get(url)
    _, sql, params = max(queries, key=lambda q: q[0])
    return sql, params


def _jit_ms(query: tuple[str, Any], jit: str, n: int) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"SET jit = {jit}")
        try:
            return median_ms(lambda: (cursor.execute(*query), cursor.fetchall()), n)
        finally:
            cursor.execute("RESET jit")


def test_pages_at_a_real_companys_size(django_db_blocker: Any) -> None:
    assert not settings.DEBUG
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    results: dict[str, dict[str, Measure]] = {}
    with django_db_blocker.unblock(), _scale_database() as database:
        for label, size in [("small", SMALL), ("large", LARGE)]:
            organization, admin = _organization(size)
            client = Client()
            client.force_login(admin)
            results[label] = {
                page.name: _measure(client, page, REQUESTS) for page in _pages(organization)
            }
            if label == "small":
                select_one = median_ms(_select_one, REQUESTS)
            if label == "large":
                evidence = f"/o/{organization.slug}/evidence/"
                worst = _slowest_query(client, evidence)
                jit_on = _jit_ms(worst, "on", REQUESTS)
                jit_off = _jit_ms(worst, "off", REQUESTS)

    print(
        f"\nPages at a real company's size (database {database}; Django test client in "
        f"process, DEBUG off; median of {REQUESTS} requests; targets <= {TARGET_MS} ms, "
        f"<= {TARGET_KB} KB)"
    )
    print(
        f"  load average when the timings started: {load} on {os.cpu_count()} CPUs; "
        f"a SELECT 1 round trip: {select_one:.2f} ms"
    )
    print(f"  small: {SMALL.describe()}")
    print(f"  large: {LARGE.describe()}")
    header = (
        f"  {'page':<31} {'small ms':>8} {'large ms':>8} {'queries':>9} {'KB':>7} "
        f"{'SQL ms':>7} {'x SQL':>6} {'JIT q':>5}  target"
    )
    print(header)
    for name, large in results["large"].items():
        small = results["small"][name]
        queries = (
            f"{large.queries}"
            if small.queries == large.queries
            else f"{small.queries}->{large.queries}"
        )
        within = large.ms <= TARGET_MS and large.size <= TARGET_KB * 1024
        print(
            f"  {name:<31} {small.ms:8.1f} {large.ms:8.1f} {queries:>9} "
            f"{large.size / 1024:7.1f} {large.sql_ms:7.2f} {large.ms / large.sql_ms:6.0f} "
            f"{large.jit_queries:5}  "
            f"{'met' if within else 'MISSED'}"
        )
    same = [n for n, m in results["large"].items() if results["small"][n].queries == m.queries]
    print(f"  query counts identical at both sizes: {len(same)} of {len(results['large'])} pages")
    print(
        "  (a->b: a queries at the small size, b at the large one; JIT q: the large page's "
        "queries planned above jit_above_cost, which JIT compiles when it is on)"
    )
    print(
        f"  evidence list's slowest query: {jit_on:.1f} ms with jit on, {jit_off:.1f} ms with "
        "jit off"
    )

    for label in ("small", "large"):
        failed = {n: m.status for n, m in results[label].items() if m.status != 200}
        assert not failed, f"{label}: pages that did not answer 200: {failed}"
    # Fewer at the large size is no growth: Django skips a prefetch whose page has no row to
    # fetch for (the large evidence API's first rows are test snapshots, with no request).
    grew = {
        name: (results["small"][name].queries, large.queries)
        for name, large in results["large"].items()
        if results["small"][name].queries < large.queries
    }
    assert not grew, f"query counts grow with the data (small, large): {grew}"
