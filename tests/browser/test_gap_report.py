"""The gap analysis in a real browser, on the demo company: the CFO opens it from the weekly
page's link, picks SOC 2 in the framework select, and downloads the XLSX, which opens with
openpyxl and holds the sections the page shows. Screenshots at 1440 and 1024 px land in
test-results/screenshots/gap-analysis-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.reports.gap import SECTIONS
from tests.browser.test_weekly import look, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_cfo_opens_the_gap_report_from_the_weekly_page_and_downloads_it(
    page: Page, demo_company: str, tmp_path: Path
) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/weekly/")
    page.get_by_role("link", name="Gap analysis").click()
    expect(page).to_have_url(re.compile(rf"/o/{demo.SLUG}/reports/gap-analysis/$"))
    expect(page.get_by_role("heading", name="Gap analysis", level=1)).to_be_visible()

    # One framework, picked from the select.
    select = page.get_by_label("Framework")
    options = select.locator("option").all_inner_texts()
    assert options[0] == "All adopted frameworks" and len(options) >= 2
    soc2 = next(text for text in options if "SOC 2" in text)
    select.select_option(label=soc2)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"\?framework=soc2$"))
    expect(select).to_have_value("soc2")
    frameworks = page.get_by_test_id("gap-framework")
    expect(frameworks).to_have_count(1)
    expect(frameworks.get_by_role("heading", level=2)).to_contain_text("SOC 2")
    counts = {
        section.key: int(page.get_by_test_id(f"count-{section.key}").inner_text())
        for section in SECTIONS
    }
    assert sum(counts.values()) > 0  # the demo company is on its way, not there
    look(page, "gap-analysis")

    with page.expect_download() as info:
        page.get_by_test_id("download-xlsx").click()
    download = info.value
    assert download.suggested_filename == f"{demo.SLUG}-gap-analysis-soc2.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["Summary"] + [section.title for section in SECTIONS]
    for section in SECTIONS:
        rows = list(book[section.title].iter_rows(values_only=True))
        assert rows[0] == ("Item", "Detail", "Owner", "Due", "Link")
        assert len(rows) - 1 == counts[section.key], section.key
