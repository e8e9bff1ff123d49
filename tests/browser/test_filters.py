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
from evidence.models import Cadence
from evidence.services import evidence_create, request_create
from people import completion
from people.models import Person, PersonnelRequirement
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


def enabled_requirements(world: World) -> list[PersonnelRequirement]:
    everything = PersonnelRequirement.objects.filter(organization=world.org).order_by("kind")
    return [r for r in everything if r.is_enabled]


def people_with(world: World, state: completion.CellState, kind: str | None = None) -> set[str]:
    """Who the completion rules say has a requirement (``kind``, or any) in ``state``."""
    organization = world.org
    results = completion.evaluate(
        organization=organization,
        people=list(Person.objects.filter(organization=organization)),
        requirements=enabled_requirements(world),
        today=completion.organization_today(organization),
    )
    return {
        r.person.full_name
        for r in results
        if any(c.state == state for k, c in r.cells.items() if kind is None or k == kind)
    }


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

    # None of them has been reviewed: all need attention, none is due soon.
    page.locator("#f-review").select_option("attention")
    expect(table).to_have_count(3)
    page.locator("#f-review").select_option("due_soon")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("No vendor")
    page.locator("#f-review").select_option("")
    expect(table).to_have_count(3)
    page.locator("#f-status").select_option("offboarded")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("No vendor")
    page.locator("#f-status").select_option("all")
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
    for name, department, kind, start in [
        ("Ada Lovelace", "Engineering", "employee", -90),
        ("Grace Hopper", "Engineering", "contractor", -90),
        ("Joan Clarke", "Finance", "employee", -90),
        ("Alan Turing", "Research", "employee", 30),  # starts next month
    ]:
        person_create(
            actor=admin, organization=world.org, full_name=name,
            email=f"{name.split()[0].lower()}@acme.test",
            start_date=today + dt.timedelta(days=start), department=department,
            employment_type=kind,
        )  # fmt: skip
    sign_in(page, base, admin)
    page.goto(f"{base}/o/acme/people/")
    table = page.locator("#person-table tbody tr")
    expect(table).to_have_count(4)

    page.locator("#f-status").select_option("upcoming")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Alan Turing")
    page.locator("#f-status").select_option("")
    expect(table).to_have_count(4)

    # Completion, requirement and state: the people the completion rules name, no other.
    overdue = people_with(world, completion.CellState.OVERDUE)
    assert overdue, "the fixture should leave someone overdue"
    page.locator("#f-completion").select_option("overdue")
    expect(table).to_have_count(len(overdue))
    assert {row.split(" ")[0] for row in rows(page, "#person-table")} == {
        name.split(" ")[0] for name in overdue
    }
    page.locator("#f-completion").select_option("")
    expect(table).to_have_count(4)
    requirement = enabled_requirements(world)[0]
    expected = people_with(world, completion.CellState.OVERDUE, requirement.kind)
    page.locator("#f-requirement").select_option(requirement.kind)
    page.locator("#f-state").select_option(completion.CellState.OVERDUE.value)
    assert expected, f"someone should be overdue on {requirement.kind}"
    expect(table).to_have_count(len(expected))
    for name in expected:
        expect(page.locator("#person-table")).to_contain_text(name)
    page.locator("#f-requirement").select_option("")
    page.locator("#f-state").select_option("")
    expect(table).to_have_count(4)

    page.locator("#f-department").select_option("Engineering")
    expect(table).to_have_count(2)
    page.locator("#f-type").select_option("contractor")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Grace Hopper")
    page.locator("#f-department").select_option("")
    page.locator("#f-type").select_option("")
    expect(table).to_have_count(4)

    page.locator("#f-q").fill("clarke")
    page.locator("#f-q").press("Enter")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Joan Clarke")
    screenshot(page, "filters-people-search")

    # The completion page's filters: the people matrix follows them.
    page.goto(f"{base}/o/acme/people/completion/")
    matrix = page.get_by_test_id("completion-matrix").locator("tbody tr")
    expect(matrix).to_have_count(4)
    page.locator("#f-type").select_option("contractor")
    page.get_by_role("button", name="Filter").click()
    expect(matrix).to_have_count(1)
    expect(matrix).to_contain_text("Grace Hopper")
    page.locator("#f-type").select_option("")
    page.locator("#f-status").select_option("upcoming")
    page.get_by_role("button", name="Filter").click()
    expect(matrix).to_have_count(1)
    expect(matrix).to_contain_text("Alan Turing")
    page.locator("#f-status").select_option("all")
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
    for title, category, owner in [
        ("Access control", "access", None),
        ("Acceptable use", "people", admin),
    ]:
        policy_create(
            actor=admin, organization=world.org, title=title, category=category, owner=owner
        )
    for title, owner in [("Quarterly access review", admin), ("Backup restore test", None)]:
        request_create(
            actor=admin, organization=world.org, title=title, cadence=Cadence.QUARTERLY,
            first_due_date=today + dt.timedelta(days=10), owner=owner, controls=[world.control],
        )  # fmt: skip
    sign_in(page, base, admin)

    page.goto(f"{base}/o/acme/evidence/")
    table = page.locator("table tbody tr")
    expect(table).to_have_count(2)
    page.locator("#f-kind").select_option("note")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Access review notes")
    page.locator("#f-kind").select_option("")
    page.locator("#f-review").select_option("accepted")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("No evidence matches")
    page.locator("#f-review").select_option("pending")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(2)
    page.locator("#f-review").select_option("")
    page.locator("#f-q").fill("mfa")
    page.locator("#f-q").press("Enter")
    expect(table).to_have_count(1)
    expect(table).to_contain_text("MFA report")

    # The requests tab has one filter, a button: the requests I own.
    page.get_by_role("link", name="Requests").first.click()
    expect(table).to_have_count(2)
    page.get_by_role("link", name="Mine", exact=True).click()
    expect(page).to_have_url(re.compile(r"mine=1"))
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Quarterly access review")

    page.goto(f"{base}/o/acme/policies/")
    expect(table).to_have_count(2)
    page.locator("#f-category").select_option("people")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Acceptable use")
    page.locator("#f-category").select_option("")
    page.locator("#f-owner").select_option("me")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("Acceptable use")
    page.locator("#f-owner").select_option("")
    page.locator("#f-review").select_option("overdue")
    page.get_by_role("button", name="Filter").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("No policy matches")
    page.locator("#f-review").select_option("")
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
    assert "Policy: create" in actions, actions
    page.locator("#f-action").select_option(label="Policy: create")  # applies itself
    expect(page).to_have_url(re.compile(r"action=policy\.create"))
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
    expect(page).to_have_url(re.compile(r"category=SEC"))
    # first_cells reads without waiting: wait for the filtered table before reading it
    expect(requirements).to_have_count(3)
    assert sorted(first_cells(page)) == ["SEC1.1", "SEC1.2", "SEC1.3"]
    page.locator("#f-state").select_option("gap")  # no control maps to it
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"state=gap"))
    expect(requirements).to_have_count(1)
    assert first_cells(page) == ["SEC1.3"]
