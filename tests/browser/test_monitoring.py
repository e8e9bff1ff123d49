"""Automated tests in a real browser, on the demo company: the dashboard panel, the list, a
failing test and its run, adding a test and running it, connecting GitHub.
Screenshots land in test-results/screenshots/6*-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from controls.models import ControlTest, Integration, RunStatus, TestRun
from controls.monitoring import runner
from tests.browser.conftest import screenshot
from tests.browser.test_journeys import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_follows_a_failing_test_then_adds_and_runs_one(
    page: Page,
    demo_company: str,
) -> None:
    base = demo_company
    sign_in(page, base, "dana@northwind.test")
    monitoring = page.get_by_test_id("monitoring")
    expect(monitoring).to_be_visible()
    monitoring.scroll_into_view_if_needed()
    screenshot(page, "60-dashboard-tests")

    page.get_by_role("navigation", name="Program").get_by_role("link", name="Tests").click()
    expect(page.get_by_role("heading", name="Automated tests")).to_be_visible()
    failing = ControlTest.objects.filter(last_run__status=RunStatus.FAILED).count()
    assert failing >= 1
    assert page.get_by_test_id("tests-failing").inner_text() == str(failing)
    screenshot(page, "61-tests")

    page.get_by_role("link", name="Every employee has a cleared background check").click()
    expect(
        page.get_by_role("heading", name="Every employee has a cleared background check")
    ).to_be_visible()
    findings = page.get_by_test_id("findings")
    expect(findings.get_by_text("Noah Williams")).to_be_visible()
    screenshot(page, "62-test-failing")

    page.get_by_test_id("run-timeline").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"Run #\d+"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"Evidence \(revision \d+\)"))).to_be_visible()
    screenshot(page, "63-run")

    # The pushed CI scan: its history since the program's fourth week, a page of it shown.
    pushed = TestRun.objects.filter(
        organization__slug="northwind", control_test__name="Dependency scan in CI"
    ).count()
    assert pushed > 14
    page.goto(f"{base}/o/northwind/tests/")
    page.get_by_role("link", name="Dependency scan in CI").click()
    expect(page.get_by_test_id("run-timeline").locator("li")).to_have_count(min(pushed, 25))
    screenshot(page, "64-test-pushed")

    # Add a test to a control and run it; the worker's part is played here.
    page.goto(f"{base}/o/northwind/controls/")
    page.get_by_role("link", name=re.compile("A business continuity and disaster")).first.click()
    page.get_by_role("link", name="Add a test").click()
    expect(page.get_by_role("heading", name="Add an automated test")).to_be_visible()
    screenshot(page, "65-choose-check")
    page.get_by_role("row", name=re.compile("Evidence of the control is fresh")).get_by_role(
        "link", name="Choose"
    ).click()
    page.get_by_label("Cron expression").fill("every day")
    page.get_by_label("Schedule").select_option("cron")
    page.get_by_role("button", name="Add test").click()
    expect(page.get_by_text("Give five fields")).to_be_visible()
    screenshot(page, "66-test-form-error")
    page.get_by_label("Cron expression").fill("0 6 * * 1-5")
    page.get_by_role("button", name="Add test").click()
    expect(page.get_by_text("added to BCP-01")).to_be_visible()
    test = ControlTest.objects.get(name="Evidence of the control is fresh")
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_text(re.compile("Run queued|The task queue is unavailable"))).to_be_visible()
    run = TestRun.objects.filter(control_test=test).latest("pk")
    runner.execute_run(run.pk, worker="browser-test")
    run.refresh_from_db()
    assert run.status in (RunStatus.PASSED, RunStatus.FAILED)
    page.reload()
    expect(page.get_by_test_id("results")).to_be_visible()
    screenshot(page, "67-test-after-run")

    # Connect GitHub: the token is accepted, then never shown again.
    page.goto(f"{base}/o/northwind/integrations/")
    screenshot(page, "68-integrations-empty")
    page.get_by_role("link", name="Connect GitHub").click()
    page.get_by_label("GitHub organization").fill("northwind-cloud")
    page.get_by_label("Token").fill("github_pat_0123456789abcdefDEMO")
    screenshot(page, "69-integration-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Its credentials are stored encrypted")).to_be_visible()
    assert "github_pat_0123456789abcdefDEMO" not in page.content()
    assert Integration.objects.get().secret_hint == "…DEMO"
    screenshot(page, "70-integrations")


def test_a_viewer_reads_tests_but_cannot_run_them(
    page: Page,
    demo_company: str,
) -> None:
    sign_in(page, demo_company, "sam@northwind.test")
    page.goto(f"{demo_company}/o/northwind/tests/")
    page.get_by_role("link", name="Dependency scan in CI").click()
    expect(page.get_by_test_id("run-timeline")).to_be_visible()
    expect(page.get_by_role("button", name="Run now")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)


def test_a_run_whose_results_were_summarised_shows_its_outcome_and_why_they_are_gone(
    page: Page, live_server: object
) -> None:
    from controls.large_organization import Size, generate_large_organization
    from controls.monitoring.retention import run_results_summarise
    from tests.factories import PASSWORD

    generated = generate_large_organization(
        slug="kept",
        size=Size(controls=4, evidence_per_control=1, tests=1, runs_per_test=10,
                  resources_per_run=3, run_interval_hours=24, audit_events_per_control=1,
                  snapshot_weeks=0),
    )  # fmt: skip
    generated.admin.set_password(PASSWORD)
    generated.admin.save()
    run_results_summarise(retention_days=5)
    run = TestRun.objects.filter(results_summarised_at__isnull=False).order_by("pk").first()
    assert run is not None
    base = live_server.url  # type: ignore[attr-defined]
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(generated.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/o/kept/tests/runs/{run.pk}/")

    expect(page.get_by_role("heading", name=f"Run #{run.pk}")).to_be_visible()
    expect(
        page.get_by_text(f"{run.passed_count} passed, {run.failed_count} failed")
    ).to_be_visible()
    expect(page.get_by_text("were deleted on")).to_be_visible()
    screenshot(page, "65-run-summarised-1440")
    page.set_viewport_size({"width": 1024, "height": 800})
    expect(page.get_by_text("were deleted on")).to_be_in_viewport()
    screenshot(page, "65-run-summarised-1024")
