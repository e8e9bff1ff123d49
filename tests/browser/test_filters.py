"""Every list page's filters, used from the page in a real browser: choose from each select,
type in the search box and press Enter, and read the rows that result; on pages with a CSV
export, the export link of the filtered view downloads the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from compliance.models import User
from controls.models import ControlStatus
from evidence.services import evidence_create
from people.services import person_create
from policies.services import policy_create
from tests.browser.conftest import screenshot
from tests.conftest import World, build_world
from tests.factories import PASSWORD, ControlFactory
from vendors.services import vendor_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(live_server: Any) -> tuple[World, str]:
    cache.clear()
    world = build_world()
    return world, str(live_server.url)


def sign_in(page: Page, base: str, user: User) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def rows(page: Page, table: str = "table") -> list[str]:
    return [
        " ".join(text.split())
        for text in page.locator(f"{table} tbody tr").all_inner_texts()
        if text.strip()
    ]


def first_cells(page: Page, table: str = "table") -> list[str]:
    return [t.strip() for t in page.locator(f"{table} tbody tr td:first-child").all_inner_texts()]


def exported(page: Page, link: str) -> list[list[str]]:
    """Click the export link; the rows of the CSV it downloads (header left out)."""
    with page.expect_download() as info:
        page.locator(link).click()
    path = info.value.path()
    with open(path, encoding="utf-8") as handle:
        return list(csv.reader(io.StringIO(handle.read())))[1:]


def until(page: Page, check: Callable[[], Any]) -> None:
    """Wait for htmx to swap the table in (no fixed sleep)."""
    page.wait_for_load_state("networkidle")
    check()


def test_the_controls_filters_from_the_page(page: Page, acme: tuple[World, str]) -> None:
    world, base = acme
    ControlFactory(
        organization=world.org,
        ref_id="OPS-01",
        name="Backups are restored",
        status=ControlStatus.IMPLEMENTED,
        category="operations",
    )
    ControlFactory(
        organization=world.org,
        ref_id="OPS-02",
        name="Capacity is monitored",
        status=ControlStatus.IN_PROGRESS,
        category="operations",
        owner=world.users["owner"],
    )
    sign_in(page, base, world.users["admin"])
    page.goto(f"{base}/o/acme/controls/")
    expect(page.locator("#control-table tbody tr")).to_have_count(4)

    page.locator("#f-status").select_option(ControlStatus.IMPLEMENTED)
    expect(page).to_have_url(re.compile(r"status=implemented"))
    expect(page.locator("#control-table tbody tr")).to_have_count(1)
    expect(page.locator("#control-table tbody tr").first).to_contain_text("OPS-01")
    screenshot(page, "filters-controls-status")
    assert [r[0] for r in exported(page, "#control-export")] == ["OPS-01"]

    page.locator("#f-status").select_option("")
    page.locator("#f-owner").select_option(label=world.users["owner"].display_name)
    expect(page.locator("#control-table tbody tr")).to_have_count(2)
    assert sorted(first_cells(page, "#control-table")) == ["IAM-01", "OPS-02"]
    assert sorted(r[0] for r in exported(page, "#control-export")) == ["IAM-01", "OPS-02"]

    page.locator("#f-owner").select_option("")
    expect(page.locator("#control-table tbody tr")).to_have_count(4)
    page.locator("#f-category").select_option("operations")
    expect(page.locator("#control-table tbody tr")).to_have_count(2)
    page.locator("#f-framework").select_option("tsc")
    expect(page.locator("#control-table tbody tr")).to_have_count(1)
    expect(page.locator("#control-table tbody tr")).to_contain_text("No control matches")
    page.locator("#f-framework").select_option("")
    page.locator("#f-category").select_option("")
    expect(page.locator("#control-table tbody tr")).to_have_count(4)

    page.locator("#f-q").fill("capacity")
    page.locator("#f-q").press("Enter")
    expect(page.locator("#control-table tbody tr")).to_have_count(1)
    expect(page.locator("#control-table tbody tr")).to_contain_text("OPS-02")
    assert [r[0] for r in exported(page, "#control-export")] == ["OPS-02"]


def test_the_vendor_filters_from_the_page(page: Page, acme: tuple[World, str]) -> None:
    world, base = acme
    admin = world.users["admin"]
    today = dt.date.today()
    for name, tier, category, subprocessor in [
        ("Cloudhost", "critical", "infrastructure", True),
        ("Paystream", "high", "payments", False),
        ("Lunchly", "low", "other", False),
    ]:
        vendor_create(
            actor=admin, organization=world.org, name=name, onboarded_on=today,
            risk_tier=tier, category=category, is_subprocessor=subprocessor,
            owner=world.users["owner"] if name == "Paystream" else None,
        )  # fmt: skip
    sign_in(page, base, admin)
    page.goto(f"{base}/o/acme/vendors/")
    table = page.get_by_test_id("vendor-table").locator("tbody tr")
    expect(table).to_have_count(3)

    page.locator("#f-tier").select_option("critical")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Cloudhost")
    assert [r[0] for r in exported(page, "#vendor-export")] == ["Cloudhost"]
    page.locator("#f-tier").select_option("")
    expect(table).to_have_count(3)

    page.locator("#f-category").select_option("payments")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Paystream")
    page.locator("#f-category").select_option("")
    expect(table).to_have_count(3)

    page.locator("#f-owner").select_option(label=world.users["owner"].display_name)
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Paystream")
    page.locator("#f-owner").select_option("none")
    expect(table).to_have_count(2)
    page.locator("#f-owner").select_option("")
    expect(table).to_have_count(3)

    page.locator("#f-subprocessor").select_option("true")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Cloudhost")
    page.locator("#f-subprocessor").select_option("")
    expect(table).to_have_count(3)

    page.locator("#f-q").fill("lunch")
    page.locator("#f-q").press("Enter")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Lunchly")
    screenshot(page, "filters-vendors-search")
    assert [r[0] for r in exported(page, "#vendor-export")] == ["Lunchly"]


def test_the_people_filters_from_the_page(page: Page, acme: tuple[World, str]) -> None:
    world, base = acme
    admin = world.users["admin"]
    today = dt.date.today()
    for name, department, kind in [
        ("Ada Lovelace", "Engineering", "employee"),
        ("Grace Hopper", "Engineering", "contractor"),
        ("Joan Clarke", "Finance", "employee"),
    ]:
        person_create(
            actor=admin, organization=world.org, full_name=name,
            email=f"{name.split()[0].lower()}@acme.test", start_date=today - dt.timedelta(days=90),
            department=department, employment_type=kind,
        )  # fmt: skip
    sign_in(page, base, admin)
    page.goto(f"{base}/o/acme/people/")
    table = page.locator("#person-table tbody tr")
    expect(table).to_have_count(3)

    page.locator("#f-department").select_option("Engineering")
    expect(table).to_have_count(2)
    page.locator("#f-type").select_option("contractor")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Grace Hopper")
    page.locator("#f-department").select_option("")
    page.locator("#f-type").select_option("")
    expect(table).to_have_count(3)

    page.locator("#f-q").fill("clarke")
    page.locator("#f-q").press("Enter")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Joan Clarke")
    screenshot(page, "filters-people-search")

    # The completion page's filters: the people matrix follows them.
    page.goto(f"{base}/o/acme/people/completion/")
    matrix = page.get_by_test_id("completion-matrix").locator("tbody tr")
    expect(matrix).to_have_count(3)
    page.locator("#f-q").fill("hopper")
    page.locator("#f-q").press("Enter")
    expect(matrix).to_have_count(1)
    expect(matrix).to_contain_text("Grace Hopper")
    page.locator("#f-q").fill("")
    page.locator("#f-department").select_option("Finance")
    page.get_by_role("button", name="Filter").click()
    expect(matrix).to_have_count(1)
    expect(matrix).to_contain_text("Joan Clarke")


def test_the_evidence_and_policy_filters_from_the_page(page: Page, acme: tuple[World, str]) -> None:
    world, base = acme
    admin = world.users["admin"]
    today = dt.date.today()
    for title, kind in [("MFA report", "link"), ("Access review notes", "note")]:
        evidence_create(
            actor=admin, organization=world.org, title=title, kind=kind,
            url="https://example.test/mfa" if kind == "link" else "",
            note="Reviewed." if kind == "note" else "",
            effective_date=today, controls=[world.control],
        )  # fmt: skip
    for title, category in [("Access control", "access"), ("Acceptable use", "people")]:
        policy_create(actor=admin, organization=world.org, title=title, category=category)
    sign_in(page, base, admin)

    page.goto(f"{base}/o/acme/evidence/")
    table = page.locator("table tbody tr")
    expect(table).to_have_count(2)
    page.locator("#f-kind").select_option("note")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Access review notes")
    page.locator("#f-kind").select_option("")
    page.locator("#f-q").fill("mfa")
    page.locator("#f-q").press("Enter")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("MFA report")

    page.goto(f"{base}/o/acme/policies/")
    expect(table).to_have_count(2)
    page.locator("#f-category").select_option("people")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Acceptable use")
    page.locator("#f-category").select_option("")
    page.locator("#f-status").select_option("draft")
    page.locator("#f-q").fill("access")
    page.locator("#f-q").press("Enter")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Access control")
    screenshot(page, "filters-policies")


def test_the_audit_trail_tests_and_framework_filters_from_the_page(
    page: Page, acme: tuple[World, str]
) -> None:
    world, base = acme
    admin = world.users["admin"]
    policy_create(actor=admin, organization=world.org, title="Access control", category="access")
    sign_in(page, base, admin)

    page.goto(f"{base}/o/acme/audit-trail/")
    table = page.locator("table tbody tr")
    page.locator("#f-actor").fill(admin.email)
    page.locator("#f-actor").press("Enter")
    expect(table.first).to_contain_text(admin.email)
    actions = page.locator("#f-action option").all_inner_texts()
    assert "policy.create" in actions, actions
    page.locator("#f-action").select_option("policy.create")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Access control")

    page.goto(f"{base}/o/acme/tests/")
    page.locator("#f-status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.get_by_text("No automated tests match this filter")).to_be_visible()

    page.goto(f"{base}/o/acme/frameworks/tsc/")
    requirements = page.locator("table tbody tr")
    page.locator("#f-q").fill("backups")
    page.locator("#f-q").press("Enter")
    expect(requirements).to_have_count(1)
    expect(requirements).to_contain_text("AV1.1")
    page.locator("#f-q").fill("")
    page.locator("#f-category").select_option("SEC")
    page.get_by_role("button", name="Filter").click()
    assert sorted(first_cells(page)) == ["SEC1.1", "SEC1.2", "SEC1.3"]
