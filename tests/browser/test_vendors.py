"""The vendor pages in a real browser, on the demo company: the CFO adds a critical vendor, its
owner finds it in My work, a review with its evidence makes it current. Screenshots land in
test-results/screenshots/vendors-*.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils.formats import date_format
from playwright.sync_api import Browser, Page, expect

from compliance import demo
from compliance.models import Organization, User
from controls.models import Control
from evidence.services import evidence_create
from people.completion import add_months, organization_today
from tests.browser.conftest import screenshot
from vendors.models import Vendor, VendorReview
from vendors.selectors import active_rows, summarize
from vendors.services import vendor_create, vendor_review_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def day(value: object) -> str:
    return date_format(value, "j M Y")


def test_an_admin_adds_a_critical_vendor_and_its_owner_gets_it_reviewed(
    page: Page,
    browser: Browser,
    demo_company: str,
) -> None:
    base = demo_company
    northwind = Organization.objects.get(slug=demo.SLUG)
    today = organization_today(northwind)
    dana = User.objects.get(email="dana@northwind.test")
    report = evidence_create(
        actor=dana,
        organization=northwind,
        title="Cloudhost SOC 2 Type II report",
        kind="link",
        url="https://trust.cloudhost.test/soc2-2025.pdf",
        effective_date=today,
        # "Critical vendors are reassessed annually" in the demo's starter controls.
        controls=list(Control.objects.filter(organization=northwind, ref_id="VEN-03")),
    )
    # The demo seeds its own inventory; the tiles count it plus the three vendors added here.
    before = summarize(active_rows(user=dana, organization=northwind, today=today))
    for name, category, tier, owner, reviewed_days_ago in [
        ("Paystream", "payments", "high", "tom", 350),  # due within 30 days
        ("Postbox", "communication", "medium", "marcus", 800),  # 24 months: overdue
        ("Lunchly", "other", "low", "alice", 200),  # reviewed once, before onboarding: done
    ]:
        vendor = vendor_create(
            actor=dana,
            organization=northwind,
            name=name,
            website=f"https://{name.lower()}.test",
            category=category,
            risk_tier=tier,
            owner=User.objects.get(email=f"{owner}@northwind.test"),
            onboarded_on=today - dt.timedelta(days=900),
        )
        vendor_review_record(
            actor=dana,
            vendor=vendor,
            reviewed_on=today - dt.timedelta(days=reviewed_days_ago),
            outcome="approved",
            summary="Questionnaire and SOC 2 report reviewed.",
            today=today,
        )

    # The CFO opens the inventory from the sidebar.
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="Vendors").click()
    expect(page.get_by_role("heading", name="Vendors", exact=True)).to_be_visible()
    expect(page.get_by_test_id("tile-attention").locator(".stat-value")).to_have_text(
        str(before.attention + 1)  # Postbox
    )
    expect(page.get_by_test_id("tile-due_soon").locator(".stat-value")).to_have_text(
        str(before.due_soon + 1)  # Paystream
    )

    # Adding a vendor: a mistyped website is refused with the reason, nothing is saved.
    page.get_by_role("link", name="Add vendor").click()
    expect(page.get_by_role("heading", name="Add a vendor")).to_be_visible()
    page.locator("#id_name").fill("Cloudhost")
    page.locator("#id_website").fill("cloudhost dot test")
    page.locator("#id_description").fill("Hosts our production environment and its backups.")
    page.locator("#id_category").select_option("infrastructure")
    page.locator("#id_location").fill("US (Virginia), EU (Frankfurt)")
    page.get_by_label("Customer data").check()
    page.get_by_label("Personal data").check()
    page.get_by_label("Production access").check()
    page.get_by_label("Subprocessor").check()
    page.locator("#id_risk_tier").select_option("critical")
    page.locator("#id_owner").select_option(label="Priya Raman <priya@northwind.test>")
    page.get_by_role("button", name="Add vendor").click()
    expect(page.get_by_text("Enter a valid URL.")).to_be_visible()
    screenshot(page, "vendors-add-error")
    assert not Vendor.objects.filter(name="Cloudhost").exists()

    page.locator("#id_website").fill("https://www.cloudhost.test")
    page.get_by_role("button", name="Add vendor").click()
    expect(page.get_by_text("Cloudhost added to the inventory.")).to_be_visible()
    expect(page.get_by_role("heading", name="Cloudhost")).to_be_visible()
    expect(page.get_by_test_id("review-state")).to_have_text("Never reviewed")
    expect(page.get_by_test_id("vendor-facts")).to_contain_text("every 12 months (tier default)")
    screenshot(page, "vendors-added")

    # The inventory says the same, and the tile for vendors needing attention leads to it.
    page.get_by_role("link", name="Vendors", exact=True).first.click()
    row = page.locator("[data-testid=vendor-table] tbody tr", has_text="Cloudhost")
    expect(row).to_contain_text("Never reviewed")
    expect(row).to_contain_text("cloudhost.test")
    expect(row).to_contain_text("Critical")
    screenshot(page, "vendors-inventory")
    page.get_by_test_id("tile-attention").click()
    expect(page).to_have_url(re.compile(r"review=attention"))
    expect(
        page.locator("[data-testid=vendor-table] tbody tr", has_text="Cloudhost")
    ).to_be_visible()

    # Priya, its owner, finds the review in My work, and may edit the facts but not the tier.
    owner_context = browser.new_context(viewport={"width": 1440, "height": 900})
    owner_page = owner_context.new_page()
    owner_page.set_default_timeout(15_000)
    try:
        sign_in(owner_page, base, "priya@northwind.test")
        owner_page.goto(f"{base}/o/{demo.SLUG}/my-work/")
        item = owner_page.get_by_role("link", name="Review Cloudhost (critical tier)")
        expect(item).to_be_visible()
        expect(owner_page.locator("tr", has=item)).to_contain_text("Never reviewed")
        screenshot(owner_page, "vendors-my-work-owner")
        item.click()
        owner_page.get_by_role("link", name="Edit").click()
        expect(owner_page.locator("#id_risk_tier")).to_be_disabled()
        expect(owner_page.locator("#id_location")).to_be_enabled()
        screenshot(owner_page, "vendors-edit-owner")
    finally:
        owner_context.close()

    # Recording the review: a date in the future is refused, then the review is recorded.
    page.get_by_role("link", name="Cloudhost").first.click()
    review = page.locator("#record")
    review.locator("#id_reviewed_on").fill(add_months(today, 1).isoformat())
    review.locator("#id_outcome").select_option("approved")
    review.locator("#id_summary").fill(
        "Read the SOC 2 Type II report (1 Oct 2024 to 30 Sep 2025): no exceptions. "
        "We operate the complementary controls listed in section 4 (MFA, access reviews)."
    )
    review.locator("#id_evidence").select_option(
        label=f"Cloudhost SOC 2 Type II report ({today:%d %b %Y})"
    )
    review.get_by_role("button", name="Record review").click()
    expect(page.get_by_text("A review cannot be dated in the future.")).to_be_visible()
    screenshot(page, "vendors-review-error")
    assert not VendorReview.objects.filter(vendor__name="Cloudhost").exists()

    page.locator("#record #id_reviewed_on").fill(today.isoformat())
    page.locator("#record").get_by_role("button", name="Record review").click()
    due = add_months(today, 12)
    expect(page.get_by_text(f"The next one is due on {day(due)}.")).to_be_visible()
    expect(page.get_by_test_id("review-state")).to_have_text("Current")
    expect(page.get_by_test_id("next-due")).to_have_text(day(due))
    history = page.get_by_test_id("review-history")
    expect(history.get_by_role("link", name="Cloudhost SOC 2 Type II report")).to_have_attribute(
        "href", f"/o/{demo.SLUG}/evidence/{report.pk}/"
    )
    expect(history).to_contain_text("Dana Whitfield")
    screenshot(page, "vendors-reviewed")

    page.get_by_role("link", name="Vendors", exact=True).first.click()
    row = page.locator("[data-testid=vendor-table] tbody tr", has_text="Cloudhost")
    expect(row).to_contain_text("Current")
    expect(row).to_contain_text(day(due))
    screenshot(page, "vendors-inventory-reviewed")
