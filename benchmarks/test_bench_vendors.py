"""The vendor inventory at a size past what a mid-sized company keeps: its pages, the CSV export,
My work of an owner and the vendor-review check. Review states are derived per vendor in Python
after a fixed number of queries; this says how far that goes. ``BENCH_VENDORS`` sets the size."""

from __future__ import annotations

import datetime as dt
import os
import random

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.timing import median_ms
from compliance.models import Role
from controls.checks import CheckContext, get_check
from people.completion import organization_today
from tests.factories import ControlFactory, MembershipFactory, OrganizationFactory, UserFactory
from vendors.models import Vendor, VendorReview

pytestmark = pytest.mark.django_db

VENDORS = int(os.environ.get("BENCH_VENDORS", "5000"))
TIERS = ["critical", "high", "medium", "low"]
CATEGORIES = ["software", "infrastructure", "communication", "payments", "security", "other"]


def test_vendor_inventory_at_scale() -> None:
    organization = OrganizationFactory(slug="bench")
    today = organization_today(organization)
    admin = UserFactory()
    MembershipFactory(user=admin, organization=organization, role=Role.ADMIN)
    owners = [UserFactory() for _ in range(20)]
    for owner in owners:
        MembershipFactory(user=owner, organization=organization, role=Role.MEMBER)
    rng = random.Random(7)
    vendors = Vendor.objects.bulk_create(
        Vendor(
            organization=organization,
            name=f"Vendor {i:05d}",
            website=f"https://vendor-{i}.example",
            category=rng.choice(CATEGORIES),
            risk_tier=rng.choices(TIERS, weights=[5, 15, 40, 40])[0],
            data_access=rng.sample(["customer", "personal", "employee", "production"], 2),
            is_subprocessor=rng.random() < 0.1,
            owner=rng.choice(owners),
            onboarded_on=today - dt.timedelta(days=rng.randint(30, 2000)),
        )
        for i in range(VENDORS)
    )
    reviews = VendorReview.objects.bulk_create(
        VendorReview(
            vendor=vendor,
            reviewed_on=today - dt.timedelta(days=rng.randint(1, 900)),
            outcome=rng.choice(["approved", "approved", "approved", "conditions", "rejected"]),
            summary="Questionnaire and report read.",
            recorded_by=admin,
        )
        for vendor in vendors
        for _ in range(rng.choice([0, 1, 2, 3]))
    )
    client = Client()
    client.force_login(admin)
    owner_client = Client()
    owner_client.force_login(owners[0])
    pages = {
        "inventory, first page": "/o/bench/vendors/",
        "needs attention": "/o/bench/vendors/?review=attention",
        "sorted by next due": "/o/bench/vendors/?sort=next_due",
        "search + tier filter": "/o/bench/vendors/?q=Vendor%2001&risk_tier=critical",
    }
    print(f"\nVendors: {VENDORS} vendors, {len(reviews)} reviews, 20 owners")
    for label, url in pages.items():
        assert client.get(url).status_code == 200  # warm up
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        count = len(queries.captured_queries)  # before other requests reset the query log
        print(
            f"  {label:<24} median {median_ms(lambda url=url: client.get(url)):8.1f} ms"
            f"   {count} queries"
        )

    def export() -> int:
        response = client.get("/o/bench/vendors/export.csv?status=all")
        return sum(len(chunk) for chunk in response.streaming_content)

    size = export()
    assert size > VENDORS * 50
    print(f"  CSV export (all)         median {median_ms(export, 3):8.1f} ms   {size / 1e6:.1f} MB")
    assert owner_client.get("/o/bench/my-work/").status_code == 200
    my_work = median_ms(lambda: owner_client.get("/o/bench/my-work/"))
    print(f"  My work of an owner      median {my_work:8.1f} ms")

    check = get_check("attest.vendor_reviews")
    assert check is not None
    control = ControlFactory(organization=organization, ref_id="VEN-03")
    for tier in ("critical", "low"):
        context = CheckContext(
            organization=organization, control=control, parameters={"min_tier": tier}
        )
        results = list(check().run(context))
        assert len(results) > 0
        ms = median_ms(lambda context=context: list(check().run(context)), 3)
        print(f"  check, tier {tier + ' and up':<12} median {ms:8.1f} ms   {len(results)} results")
