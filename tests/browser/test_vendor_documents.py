"""Vendor documents in a real browser, on the demo company: the admin uploads GitHub's SOC 2
Type II report through the form (the type picked from its select, the period filled in), adds
an exception and a CUEC linked to a control picked from the select, sees "Expires in N days",
downloads the file and gets the same bytes; then finds Okta with the inventory's "SOC 2 report:
expired" filter. Screenshots at 1440 and 1024 px land in
test-results/screenshots/vendor-documents-*.png."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.models import Organization
from controls.models import Control
from people.completion import organization_today
from tests.browser.conftest import screenshot
from tests.browser.test_vendors import sign_in
from vendors.models import UserEntityControl, VendorDocument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = b"%PDF-1.4\n% GitHub SOC 2 Type II report (test copy)\n" + bytes(range(256)) * 40


def day(value: dt.date) -> str:
    return date_format(value, "j M Y")


def both_widths(page: Page, name: str) -> None:
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"vendor-documents-{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_admin_uploads_a_report_records_its_exception_and_cuec_and_downloads_it(
    page: Page, demo_company: str, tmp_path: Path
) -> None:
    base = demo_company
    northwind = Organization.objects.get(slug=demo.SLUG)
    today = organization_today(northwind)
    control = Control.objects.get(organization=northwind, ref_id="IAM-04")
    report = tmp_path / "github-soc2-type2.pdf"
    report.write_bytes(REPORT)

    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="Vendors").click()
    page.get_by_role("link", name="GitHub", exact=True).click()
    documents = page.locator("#documents")
    expect(documents.get_by_text("No document yet.")).to_be_visible()
    documents.get_by_role("link", name="Upload a document").click()

    # The type sets which dates the form asks for.
    page.get_by_label("Type").select_option(label="SOC 2 Type II report")
    expect(page.get_by_label("As of")).to_be_hidden()
    expect(page.get_by_label("Period start")).to_be_visible()
    page.get_by_label("Title").fill("GitHub SOC 2 Type II")
    page.locator("input[type=file][name=file]").set_input_files(str(report))
    page.get_by_label("Period start").fill(day(today - dt.timedelta(days=400)))
    page.get_by_label("Period end").fill(day(today - dt.timedelta(days=40)))
    page.get_by_label("Issued on").fill(day(today - dt.timedelta(days=25)))
    until = today + dt.timedelta(days=21)
    page.get_by_label("Valid until").fill(day(until))
    # Forgot the opinion: an error on its field, nothing stored.
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Give the auditor's opinion for a SOC 2 report.")).to_be_visible()
    assert not VendorDocument.objects.filter(vendor__name="GitHub").exists()
    both_widths(page, "upload-error")
    page.locator("input[type=file][name=file]").set_input_files(str(report))
    page.get_by_label("Auditor's opinion").select_option(label="Unqualified")
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", name="GitHub SOC 2 Type II")).to_be_visible()
    expect(page.get_by_test_id("document-validity")).to_have_text("Expires in 21 days")

    # An exception the vendor's auditor noted.
    page.get_by_text("Add an exception").click()
    form = page.get_by_test_id("exception-form")
    form.get_by_label("Description").fill("Two repository admins kept access after leaving.")
    form.get_by_label("Criterion").fill("CC6.2")
    form.get_by_label("Our assessment").select_option(label="Mitigated by our controls")
    form.get_by_role("button", name="Add exception").click()
    exceptions = page.get_by_test_id("report-exceptions")
    expect(exceptions.get_by_text("Two repository admins kept access")).to_be_visible()
    expect(exceptions.get_by_text("Mitigated by our controls")).to_be_visible()

    # A CUEC, done by one of our controls picked from the select.
    page.get_by_text("Add a CUEC").click()
    form = page.get_by_test_id("cuec-form")
    form.get_by_label("Reference").fill("CUEC 2")
    form.get_by_label("Description").fill("Customers review who can administer their org.")
    form.get_by_label("Our controls that do it").select_option(
        label=f"{control.ref_id} — {control.name}"
    )
    form.get_by_role("button", name="Add CUEC").click()
    cuecs = page.get_by_test_id("cuecs")
    expect(cuecs.get_by_role("link", name=control.ref_id)).to_be_visible()
    cuec = UserEntityControl.objects.get(reference="CUEC 2")
    assert list(cuec.controls.all()) == [control]
    both_widths(page, "detail")

    # The file comes back byte for byte.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "github-soc2-type2.pdf"
    assert Path(download.path()).read_bytes() == REPORT

    # Back on the vendor page, the section shows it with its validity.
    page.get_by_role("link", name="GitHub", exact=True).click()
    row = page.get_by_test_id("vendor-documents").get_by_role("row").nth(1)
    expect(row).to_contain_text("SOC 2 Type II report")
    expect(row).to_contain_text("Expires in 21 days")
    both_widths(page, "vendor-page")

    # The inventory: pick "SOC 2 report: expired" and Okta (its report lapsed) is listed.
    page.get_by_role("navigation", name="Program").get_by_role("link", name="Vendors").click()
    page.get_by_label("SOC 2 report").select_option(label="Expired")
    table = page.locator("#vendor-table")
    expect(table.get_by_role("link", name="Okta", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="GitHub", exact=True)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"soc2=expired"))
    both_widths(page, "inventory-expired")
