"""The dashboard and readiness on a large program, with the shipped catalogs."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.timing import median_ms
from compliance.models import Role
from compliance.readiness import (
    organization_readiness,
    recompute_readiness,
    stored_organization_readiness,
)
from controls.models import Control, ControlRequirement, Framework, Requirement
from controls.services import catalog_load
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, adopt

pytestmark = pytest.mark.django_db

CONTROLS = 600


def test_dashboard_on_a_large_program() -> None:
    catalog_load()
    organization = OrganizationFactory(slug="bench")
    admin = UserFactory()
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    for framework in Framework.objects.all():
        adopt(organization, framework)
    requirements = list(Requirement.objects.filter(assessable=True))
    rng = random.Random(1)
    controls = Control.objects.bulk_create(
        Control(
            organization=organization,
            ref_id=f"B-{i:04d}",
            name=f"Benchmark control {i}",
            category="access",
            frequency="quarterly",
            owner=admin,
            status="implemented"
            if rng.random() < 0.93
            else rng.choice(["not_started", "in_progress"]),
        )
        for i in range(CONTROLS)
    )
    ControlRequirement.objects.bulk_create(
        ControlRequirement(control=control, requirement=requirement)
        for control in controls
        for requirement in rng.sample(requirements, 4)
    )
    # A bulk load ends with a full recomputation of the stored readiness the pages read.
    run = recompute_readiness(organization=organization, trigger="command")
    assert run.controls_checked == CONTROLS
    client = Client()
    client.force_login(admin)

    assert client.get("/o/bench/").status_code == 200  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/o/bench/")
    assert response.status_code == 200
    dashboard_queries = len(queries.captured_queries)
    assert dashboard_queries > 0
    dashboard_ms = median_ms(lambda: client.get("/o/bench/"), 10)
    list_ms = median_ms(lambda: client.get("/o/bench/controls/"), 10)
    reqs_ms = median_ms(lambda: client.get("/o/bench/frameworks/soc2/"), 10)
    compute_ms = median_ms(lambda: organization_readiness(organization=organization), 10)
    stored_ms = median_ms(lambda: stored_organization_readiness(organization=organization), 10)
    results = organization_readiness(organization=organization)

    mappings = CONTROLS * 4
    print(
        f"\nReadiness: {CONTROLS} controls, {len(requirements)} requirements, {mappings} mappings"
    )
    print(f"  dashboard page           median {dashboard_ms:7.1f} ms   {dashboard_queries} queries")
    print(f"  control list page        median {list_ms:7.1f} ms")
    print(f"  SOC 2 requirements page  median {reqs_ms:7.1f} ms")
    print(f"  readiness computation    median {compute_ms:7.1f} ms   (from scratch)")
    print(f"  stored readiness read    median {stored_ms:7.1f} ms   (what the pages do)")
    print(f"  full recomputation       once   {run.seconds * 1000:7.1f} ms   (nightly / command)")
    for result in results:
        tally = f"{result.ready}/{result.total}, {result.gaps} gaps"
        print(f"  {result.framework.short_name:<10} {result.percent:3d}% ready ({tally})")
    assert sum(r.total for r in results) == len(requirements)
