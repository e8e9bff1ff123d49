"""The weekly emails' settings in a real browser, on the demo company: the CFO follows the
unsubscribe link of her digest and confirms; she opens Account → Email from the account menu,
finds the digest off, ticks it back on and saves. Screenshots at 1440 and 1024 px land in
test-results/screenshots/email-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.digest import unsubscribe_url
from compliance.models import Membership
from tests.browser.test_weekly import look, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_cfo_unsubscribes_from_the_digest_then_turns_it_back_on(
    page: Page, demo_company: str
) -> None:
    base = demo_company
    membership = Membership.objects.get(
        user__email="dana@northwind.test", organization__slug=demo.SLUG
    )
    # The link as the email carries it, on this server.
    link = unsubscribe_url(membership, "digest").split("/email/", 1)[1]

    page.goto(f"{base}/email/{link}")
    expect(page.get_by_role("heading", name="Stop the weekly digest?")).to_be_visible()
    look(page, "email-unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
    membership.refresh_from_db()
    assert membership.email_weekly_digest is False

    sign_in(page, base, "dana@northwind.test")
    page.locator("summary", has_text="Dana Whitfield").click()
    page.get_by_role("menuitem", name="Email").click()
    expect(page.get_by_role("heading", name="Email")).to_be_visible()
    digest = page.get_by_role("checkbox", name="Weekly digest from Northwind Cloud")
    expect(digest).not_to_be_checked()
    look(page, "email-settings")
    digest.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your email settings were saved.")).to_be_visible()
    expect(digest).to_be_checked()
    membership.refresh_from_db()
    assert membership.email_weekly_digest is True and membership.email_your_week is True
