"""The app under its Content-Security-Policy, in a real browser: the behaviour that used to sit in
inline handlers (filters that apply themselves, confirmations before destructive buttons), htmx,
and the API documentation pages. The ``page`` fixture fails a test on any policy violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from controls.models import Control
from policies.services.workflow import policy_create
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import World
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, world: World, persona: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(world.users[persona].email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_a_destructive_button_asks_first_and_cancelling_changes_nothing(
    page: Page, live_server, world: World
) -> None:
    sign_in(page, live_server.url, world, "admin")
    page.goto(f"{live_server.url}/o/acme/controls/{world.control.pk}/")
    questions: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("button", name="Archive")).to_be_visible()
    assert questions == ["Archive IAM-01? It stops counting towards readiness."]
    assert Control.objects.get(pk=world.control.pk).archived_at is None

    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_text(re.compile(r"^Archived \d"))).to_be_visible()
    assert len(questions) == 2
    assert Control.objects.get(pk=world.control.pk).archived_at is not None


def test_a_filter_applies_as_soon_as_it_is_chosen(page: Page, live_server, world: World) -> None:
    sign_in(page, live_server.url, world, "viewer")
    page.goto(f"{live_server.url}/o/acme/evidence/")
    page.get_by_label("Kind").select_option(label="Note")
    expect(page).to_have_url(re.compile(r"kind=note"))
    expect(page.get_by_label("Kind")).to_have_value("note")


def test_the_policy_preview_updates_through_htmx_while_typing(
    page: Page, live_server, world: World
) -> None:
    policy = policy_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Access control policy",
        category="access",
        body="# Access",
    )
    sign_in(page, live_server.url, world, "admin")
    page.goto(f"{live_server.url}/o/acme/policies/{policy.pk}/versions/1/edit/")
    preview = page.locator("#preview")
    body = page.locator("textarea[name=body]")
    body.fill("# Access\n\nAccounts are **reviewed** every quarter.")
    expect(preview.locator("strong")).to_have_text("reviewed")


def test_the_api_documentation_renders_under_the_policy(
    page: Page, live_server, world: World
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server.url, world, "viewer")
    page.get_by_role("link", name="Controls", exact=True).click()
    page.locator("details.menu.align-right summary").click()
    page.get_by_role("menuitem", name="API documentation").click()
    # Both documentation pages load a large bundle and the whole schema first.
    expect(page.get_by_role("heading", name=re.compile("Attest API"))).to_be_visible(timeout=30_000)
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "csp-swagger.png"))

    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.get_by_role("heading", name=re.compile("Attest API")).first).to_be_visible(
        timeout=30_000
    )
    expect(page.locator(".menu-content")).to_contain_text("organizations")
    page.screenshot(path=str(SCREENSHOTS / "csp-redoc.png"))
