"""Only what is allowed is offered, seen in a real browser (docs/permissions.md): an auditor is
not offered a new organization, a control owner is not offered to bind GitHub or to edit a test
bound to it (but runs it), a policy's owner is not offered to send their own text back.
Screenshots: test-results/screenshots/9*-*.png, at 1440 and 1024 px."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from policies import services as policy_services
from tests.browser.conftest import screenshot
from tests.conftest import World, build_world
from tests.controls.monitoring_helpers import make_integration, make_test
from tests.factories import PASSWORD
from tests.policies.factories import first_version, make_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, evidence_dir) -> tuple[str, World]:  # type: ignore[no-untyped-def]
    cache.clear()
    return live_server.url, build_world()


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def both_widths(page: Page, name: str) -> None:
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{width}")


def test_an_auditor_is_not_offered_a_new_organization(page: Page, site: tuple[str, World]) -> None:
    base, _ = site
    # On a first sign-in, before turning on two-factor (without which no engagement shows).
    from compliance.models import TotpDevice

    TotpDevice.objects.filter(user__email="auditor@acme.test").delete()
    sign_in(page, base, "auditor@acme.test")
    page.goto(f"{base}/account/password/")
    page.locator("details.menu").first.locator("summary").click()
    expect(page.get_by_role("menuitem", name="Acme")).to_be_visible()
    expect(page.get_by_role("menuitem", name="New organization…")).to_have_count(0)
    both_widths(page, "90-auditor-menu")


def test_a_viewer_is_offered_a_new_organization_and_creates_one(
    page: Page, site: tuple[str, World]
) -> None:
    base, _ = site
    sign_in(page, base, "viewer@acme.test")
    page.locator("details.menu").first.locator("summary").click()
    page.get_by_role("menuitem", name="New organization…").click()
    page.get_by_label("Name").fill("Initech")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("Initech is ready")).to_be_visible()


def test_a_control_owner_runs_a_github_test_but_neither_binds_nor_edits_one(
    page: Page, site: tuple[str, World]
) -> None:
    base, world = site
    test = make_test(
        world,
        name="Branch protection",
        check_key="github.branch_protection",
        parameters={"repositories": "acme/api"},
        integration=make_integration(world),
    )
    sign_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/controls/{world.control.pk}/")
    page.get_by_role("link", name="Add a test").click()
    github = page.locator("tr", has_text="GitHub default branches require reviewed pull requests")
    expect(github.get_by_text("Added by admins")).to_be_visible()
    expect(github.get_by_role("link", name="Choose")).to_have_count(0)
    fresh = page.locator("tr", has_text="Evidence of the control is fresh")
    expect(fresh.get_by_role("link")).to_be_visible()
    both_widths(page, "91-owner-choose-check")

    page.goto(f"{base}/o/acme/tests/{test.pk}/")
    expect(page.get_by_role("heading", name="Branch protection")).to_be_visible()
    expect(page.get_by_role("button", name="Run now")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    both_widths(page, "92-owner-bound-test")


def test_a_policy_owner_is_not_offered_to_send_their_own_text_back(
    page: Page, site: tuple[str, World]
) -> None:
    base, world = site
    policy = make_policy(world, title="Owned Policy", owner=world.users["owner"])
    policy_services.policy_version_submit(actor=world.users["owner"], version=first_version(policy))
    sign_in(page, base, "owner@acme.test")
    page.goto(f"{base}/o/acme/policies/{policy.pk}/versions/1/")
    expect(page.get_by_role("heading", name="Owned Policy")).to_be_visible()
    expect(page.get_by_role("button", name="Back to draft")).to_have_count(0)
    both_widths(page, "93-owner-version-in-review")

    page.context.clear_cookies()  # signed out
    sign_in(page, base, "admin@acme.test")
    page.goto(f"{base}/o/acme/policies/{policy.pk}/versions/1/")
    page.get_by_label("What needs to change?").fill("Add a scope section")
    page.get_by_role("button", name="Back to draft").click()
    expect(page.get_by_text("Version 1 is a draft again.")).to_be_visible()
    both_widths(page, "94-admin-sent-back")
