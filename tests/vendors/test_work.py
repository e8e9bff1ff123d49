"""Vendors' part of "My work": owners see their vendors' reviews that are due or overdue; admins
also get one line for the other vendors needing attention."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance import work
from compliance.work import WorkItem, work_items
from tests.conftest import World
from tests.vendors.conftest import Vendors
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import ReviewOutcome, RiskTier, Vendor, VendorStatus

KINDS = {"Vendor review", "Vendor reviews"}


def test_the_vendors_app_registers_its_work_source() -> None:
    # Not imported here on purpose: the app's ready() must register it.
    assert "vendors.work" in {source.__module__ for source in work._SOURCES}


def vendor_items(world: World, persona: str) -> list[WorkItem]:
    user = world.users[persona]
    return [i for i in work_items(user=user, organization=world.org) if i.kind in KINDS]


def owned_by(world: World, persona: str, today: dt.date, **kwargs: object) -> Vendor:
    return VendorFactory(
        organization=world.org,
        owner=world.users[persona],
        onboarded_on=today - dt.timedelta(days=1000),
        **kwargs,
    )


def test_an_owner_sees_their_vendors_whose_review_is_overdue_or_due_soon(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    overdue = owned_by(world, "owner", today, name="Mailer", risk_tier=RiskTier.HIGH)
    ReviewFactory(vendor=overdue, reviewed_on=today - dt.timedelta(days=400))
    soon = owned_by(world, "owner", today, name="Pager", risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=soon, reviewed_on=today - dt.timedelta(days=350))
    never = owned_by(world, "owner", today, name="Backupco", risk_tier=RiskTier.LOW)
    rejected = owned_by(world, "owner", today, name="Shady", risk_tier=RiskTier.MEDIUM)
    ReviewFactory(vendor=rejected, reviewed_on=today, outcome=ReviewOutcome.REJECTED)
    retired = owned_by(world, "owner", today, name="Oldco", status=VendorStatus.OFFBOARDED,
                       offboarded_on=today)  # fmt: skip
    owned_by(world, "member", today, name="Not mine")  # never reviewed, but the member's

    items = {i.title: i for i in vendor_items(world, "owner")}

    # Cloudhost (the fixture's, reviewed 90 days ago) is current: nothing to do.
    assert set(items) == {
        "Review Mailer (high tier)",
        "Review Pager (critical tier)",
        "Review Backupco (low tier)",
        "Review Shady (medium tier)",
    }
    mailer = items["Review Mailer (high tier)"]
    assert (mailer.status, mailer.tone) == ("Review overdue", "bad")
    assert mailer.url == reverse("vendor_detail", args=["acme", overdue.pk])
    pager = items["Review Pager (critical tier)"]
    assert (pager.status, pager.tone) == ("Review due soon", "warn")
    assert pager.due is not None and 0 < (pager.due - today).days <= 30
    assert items["Review Backupco (low tier)"].status == "Never reviewed"
    assert items["Review Backupco (low tier)"].due == never.onboarded_on
    assert items["Review Shady (medium tier)"].status == "Rejected at review"
    assert retired.pk not in {int(i.url.rstrip("/").split("/")[-1]) for i in items.values()}


def test_members_see_no_one_elses_vendors(world: World, vendors: Vendors, today: dt.date) -> None:
    owned_by(world, "owner", today, name="Mailer")  # never reviewed
    assert vendor_items(world, "member") == []
    assert vendor_items(world, "viewer") == []


def test_admins_get_one_line_for_the_other_vendors_needing_attention(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    mine = owned_by(world, "admin", today, name="Admin's own")  # never reviewed: the admin's item
    overdue = owned_by(world, "owner", today, name="Mailer", risk_tier=RiskTier.HIGH)
    ReviewFactory(vendor=overdue, reviewed_on=today - dt.timedelta(days=400))
    soon = owned_by(world, "owner", today, name="Pager", risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=soon, reviewed_on=today - dt.timedelta(days=350))  # due soon: no alarm

    items = vendor_items(world, "admin")

    own = [i for i in items if i.kind == "Vendor review"]
    assert [i.url for i in own] == [reverse("vendor_detail", args=["acme", mine.pk])]
    [others] = [i for i in items if i.kind == "Vendor reviews"]
    # Snackbox (the fixture's, never reviewed) and Mailer (overdue); Pager is only due soon.
    assert others.title == "2 other vendors need attention"
    assert (others.status, others.tone) == ("Overdue", "bad")
    assert others.url == reverse("vendor_list", args=["acme"]) + "?review=attention"
    listed = re.findall(
        r'href="/o/acme/vendors/\d+/">([^<]+)</a>',
        world.client("admin").get(others.url).content.decode(),
    )
    assert listed == ["Admin&#x27;s own", "Mailer", "Snackbox"]  # the admin's own one too


def test_admins_get_no_line_when_nothing_needs_attention(world: World, today: dt.date) -> None:
    reviewed = owned_by(world, "owner", today, name="Mailer")
    ReviewFactory(vendor=reviewed, reviewed_on=today)
    assert vendor_items(world, "admin") == []


def test_my_work_lists_the_owners_vendor_reviews(
    world: World, vendors: Vendors, today: dt.date
) -> None:
    overdue = owned_by(world, "owner", today, name="Mailer", risk_tier=RiskTier.HIGH)
    ReviewFactory(vendor=overdue, reviewed_on=today - dt.timedelta(days=400))
    html = world.client("owner").get(reverse("my_work", args=["acme"])).content.decode()
    link = reverse("vendor_detail", args=["acme", overdue.pk])
    assert f'<a href="{link}">Review Mailer (high tier)</a>' in html
    assert "Review overdue" in html
    assert "Cloudhost" not in html  # current


def test_the_work_source_costs_the_same_queries_for_few_or_many_vendors(
    world: World, today: dt.date
) -> None:
    admin = world.users["admin"]
    [vendor_work] = [s for s in work._SOURCES if s.__module__ == "vendors.work"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            list(vendor_work(admin, world.org))
        return len(captured.captured_queries)

    queries()  # loads the admin's memberships once
    for _ in range(3):
        ReviewFactory(vendor=owned_by(world, "admin", today), reviewed_on=today - dt.timedelta(400))
    few = queries()
    for persona in ("admin", "owner", "member") * 10:
        vendor = owned_by(world, persona, today, risk_tier=RiskTier.CRITICAL)
        ReviewFactory(vendor=vendor, reviewed_on=today - dt.timedelta(days=400))
    assert queries() == few
