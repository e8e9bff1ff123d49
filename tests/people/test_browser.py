"""The people pages in a real browser, on the demo company: roster, completion, a person, and an
import with errors. Screenshots land in test-results/screenshots/people-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.models import Organization
from people import completion
from people.models import Person, PersonnelRecord, PersonnelRequirement
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_CSV = """full_name,email,start_date,end_date,department,manager_email,employment_type
Priya Raman,priya@northwind.test,2022-05-02,,Engineering,,employee
Jamie Fox,jamie@northwind.test,2025-13-01,,Sales,grace@northwind.test,employee
Robin Hale,robin@northwind.test,2025-02-03,2025-01-31,Support,,employee
Kim Lau,kim@northwind.test,2025-02-03,,Support,nobody@northwind.test,freelancer
Robin Hale,ROBIN@northwind.test,2025-02-10,,Support,,employee
"""


@pytest.fixture
def northwind(live_server) -> str:  # type: ignore[no-untyped-def]
    cache.clear()
    demo.seed_demo()
    return str(live_server.url)


def overdue_people() -> set[str]:
    """Names of the Northwind people with at least one overdue requirement."""
    organization = Organization.objects.get(slug=demo.SLUG)
    results = completion.evaluate(
        organization=organization,
        people=list(Person.objects.filter(organization=organization)),
        requirements=list(PersonnelRequirement.objects.filter(organization=organization)),
        today=completion.organization_today(organization),
    )
    return {
        r.person.full_name
        for r in results
        if any(c.state == completion.CellState.OVERDUE for c in r.cells.values())
    }


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("dana@northwind.test")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_an_admin_works_through_the_people_pages(
    page: Page, northwind: str, tmp_path: Path
) -> None:
    base = northwind
    sign_in(page, base)

    # The sidebar leads to the roster.
    page.goto(f"{base}/o/northwind/")
    page.get_by_role("navigation", name="Program").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Noah Williams")).to_be_visible()
    screenshot(page, "people-roster")

    # The completion matrix: overdue people first; a count opens the people behind it.
    page.get_by_role("link", name="Completion", exact=True).click()
    expect(page.get_by_role("heading", name="Onboarding completion")).to_be_visible()
    matrix = page.get_by_test_id("completion-matrix")
    overdue = overdue_people()
    assert {"Noah Williams", "Ryan Walsh", "Ines Costa"} <= overdue
    first_rows = matrix.locator("tbody tr td:first-child a").all_inner_texts()[: len(overdue)]
    assert set(first_rows) == overdue
    screenshot(page, "people-completion")
    page.get_by_test_id("overdue-background_check").click()
    expect(page).to_have_url(re.compile(r"requirement=background_check&state=overdue"))
    rows = page.locator("#person-table tbody tr td:first-child > a")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("Noah Williams")
    screenshot(page, "people-roster-filtered")

    # Noah's page: record the background check that was missing.
    rows.first.click()
    expect(page.get_by_role("heading", name="Noah Williams")).to_be_visible()
    screenshot(page, "people-person")
    page.locator("#id_kind").select_option("background_check")
    page.locator("#id_provider").fill("Sterling")
    page.locator("#id_result").select_option("clear")
    page.locator("#id_notes").fill("Cleared after the reference check came back.")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_text("Background check recorded for Noah Williams.")).to_be_visible()
    screenshot(page, "people-person-recorded")
    noah = Person.objects.get(email="noah@northwind.test")
    assert PersonnelRecord.objects.filter(person=noah, kind="background_check").exists()

    # An import with mistakes: every bad line is listed, nothing is imported.
    page.goto(f"{base}/o/northwind/people/import/")
    expect(page.get_by_role("heading", name="Import people from a CSV")).to_be_visible()
    screenshot(page, "people-import")
    before = Person.objects.count()
    csv_path = tmp_path / "new-hires.csv"
    csv_path.write_text(BAD_CSV, encoding="utf-8")
    page.locator("#id_file").set_input_files(str(csv_path))
    page.get_by_role("button", name="Import").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    expect(
        errors.get_by_text("email priya@northwind.test is already in the roster")
    ).to_be_visible()
    expect(errors.get_by_text("start_date '2025-13-01' is not a date")).to_be_visible()
    screenshot(page, "people-import-errors")
    assert Person.objects.count() == before

    # The requirements and what they feed.
    page.goto(f"{base}/o/northwind/people/requirements/")
    expect(page.get_by_role("heading", name="Onboarding requirements")).to_be_visible()
    screenshot(page, "people-requirements")
