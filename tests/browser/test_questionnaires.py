"""A reviewer fills an imported questionnaire from the answer library in a real browser: upload
an XLSX, pick the sheet and columns from the selects, accept one suggestion, edit another,
reject a third, export, and the downloaded workbook has the answers in place. Screenshots land
in test-results/screenshots/questionnaires-*.png."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.models import Organization
from tests.browser.conftest import screenshot
from tests.trust.library_helpers import questionnaire_xlsx
from trust.models import AnswerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_a_reviewer_fills_a_questionnaire_from_the_library_and_exports_it(
    page: Page, demo_company: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    base = demo_company
    northwind = Organization.objects.get(slug=demo.SLUG)
    # The demo seeds the library (trust/demo_library.py): the questions below are answered
    # from it.
    encryption = AnswerEntry.objects.get(
        organization=northwind, question="Do you encrypt customer data at rest?"
    )
    file = tmp_path / "initech.xlsx"
    file.write_bytes(questionnaire_xlsx())

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Program").get_by_role(
        "link", name="Questionnaires"
    ).click()
    page.get_by_role("link", name="Import questionnaire").first.click()
    page.get_by_label("Name").fill("Initech vendor review")
    page.get_by_label("File").set_input_files(str(file))
    page.get_by_role("button", name="Upload").click()

    # Mapping: the sheet select reloads the preview; columns chosen from their selects.
    page.get_by_label("Sheet").select_option("Questions")
    expect(page.get_by_test_id("preview")).to_contain_text("Is customer data encrypted at rest?")
    page.get_by_label("Question column").select_option(label="B — Question")
    page.get_by_label("Answer column").select_option(label="C — Answer")
    screenshot(page, "questionnaires-mapping-1440")
    page.get_by_role("button", name="Suggest answers").click()

    rows = page.get_by_test_id("row-table")
    expect(rows).to_contain_text("No good match")  # the swallow question
    screenshot(page, "questionnaires-review-1440")
    row2 = page.get_by_test_id("row-2")
    row2.get_by_role("button", name="Accept").click()
    expect(page.get_by_test_id("row-2")).to_contain_text("Accepted")
    row3 = page.get_by_test_id("row-3")
    row3.locator("summary").click()
    row3.get_by_role("textbox").fill("Yes: yearly, by an external firm; summary under NDA.")
    row3.get_by_role("button", name="Save edit").click()
    expect(page.get_by_test_id("row-3")).to_contain_text("Edited")
    page.get_by_test_id("row-5").get_by_role("button", name="Reject").click()
    expect(page.get_by_test_id("row-5")).to_contain_text("Rejected")
    # The tiles above the table followed each decision, without a reload.
    for tile, label in ((2, "Accepted"), (3, "Edited"), (4, "Rejected")):
        expect(page.locator("#decision-counts .stat").nth(tile - 1)).to_contain_text(label)
        expect(page.get_by_test_id(f"count-{tile}")).to_have_text("1")
    page.set_viewport_size({"width": 1024, "height": 900})
    screenshot(page, "questionnaires-review-1024")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Export")).click()
    path = download_info.value.path()
    workbook = load_workbook(io.BytesIO(open(path, "rb").read()))  # noqa: SIM115
    sheet = workbook["Questions"]
    assert workbook.sheetnames == ["Cover", "Questions"]
    assert sheet["C2"].value == encryption.answer
    assert sheet["C3"].value == "Yes: yearly, by an external firm; summary under NDA."
    assert sheet["C4"].value is None  # no match
    assert sheet["C5"].value is None  # rejected
    assert sheet["D2"].value == "keep me"
    assert workbook["Cover"]["B2"].value == "Initech"

    # Done: the review is marked complete and the rows can no longer be decided.
    page.get_by_role("button", name="Mark review complete").click()
    expect(page.get_by_test_id("questionnaire-status")).to_have_text("Completed")
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen review")).to_be_visible()
