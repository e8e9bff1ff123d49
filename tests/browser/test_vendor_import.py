"""Importing vendors in a real browser, on the demo company: the CFO opens the import from the
inventory, uploads a file with a bad row, sees it by line and column with nothing imported,
then imports the valid rows and finds them in the list. Screenshots land in
test-results/screenshots/vendor-import-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from compliance import demo
from tests.browser.conftest import screenshot
from tests.browser.test_vendors import sign_in
from vendors.models import Vendor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "name,category,risk_tier,owner_email,website,data_access,is_subprocessor,location,"
    "onboarded_on\n"
    "Ledgerly,Payments,High,marcus@northwind.test,ledgerly.test,Financial data,no,US,"
    "2024-02-01\n"
    "Mailrelay,communication,medium,,https://mailrelay.test,Personal data; Customer data,yes,"
    "EU,2024-03-15\n"
    "Shadow IT,software,low,nobody@northwind.test,,,no,,2024-04-01\n"
)


def test_a_manager_imports_the_valid_rows_after_seeing_the_bad_one(
    page: Page, demo_company: str, tmp_path: Path
) -> None:
    base = demo_company
    northwind = {"organization__slug": demo.SLUG}
    before = Vendor.objects.filter(**northwind).count()
    upload = tmp_path / "new-vendors.csv"
    upload.write_text(FILE)

    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="Vendors").click()
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import vendors")).to_be_visible()
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"vendor-import-page-{width}")

    # First try: all or nothing (the default), with one row naming a stranger as its owner.
    page.locator("input[type=file]").set_input_files(str(upload))
    expect(page.get_by_label("Import nothing if any row has an error")).to_be_checked()
    page.get_by_role("button", name="Import", exact=True).click()
    errors = page.get_by_test_id("import-errors")
    expect(errors.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    bad = errors.locator("tbody tr")
    expect(bad).to_have_count(1)
    expect(bad.locator("td").nth(0)).to_have_text("4")
    expect(bad.locator("td").nth(1)).to_have_text("owner_email")
    expect(bad.locator("td").nth(2)).to_have_text(
        re.compile(r"no admin or member of .+ has the email nobody@northwind\.test\.")
    )
    assert Vendor.objects.filter(**northwind).count() == before
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"vendor-import-errors-{width}")

    # Second try: the valid rows only.
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_label("Import the valid rows, skip the others").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported 2 vendors. Skipped 1 row with errors")).to_be_visible()
    expect(
        page.get_by_test_id("import-errors").get_by_role(
            "heading", name="Imported 2 vendors, 1 row skipped"
        )
    ).to_be_visible()
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"vendor-import-result-{width}")
    assert Vendor.objects.filter(**northwind).count() == before + 2

    page.get_by_role("link", name="Open the inventory").click()
    page.get_by_label("Search").fill("Ledgerly")
    page.get_by_label("Search").press("Enter")
    table = page.get_by_test_id("vendor-table")
    expect(table.get_by_role("link", name="Ledgerly")).to_be_visible()
    page.get_by_label("Search").fill("Mailrelay")
    page.get_by_label("Search").press("Enter")
    expect(table.get_by_role("link", name="Mailrelay")).to_be_visible()
    expect(table.get_by_text("Shadow IT")).to_have_count(0)
    screenshot(page, "vendor-import-in-list")
    ledgerly = Vendor.objects.get(**northwind, name="Ledgerly")
    assert (ledgerly.owner and ledgerly.owner.email, ledgerly.risk_tier) == (
        "marcus@northwind.test",
        "high",
    )
