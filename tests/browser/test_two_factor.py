"""Two-factor sign-in in a real browser: the CFO turns it on with the key the page shows, signs
out, and signs in with a code from the app. Screenshots: test-results/screenshots/mfa-*.png."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from compliance import demo
from compliance.models import TotpDevice
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("dana@northwind.test")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_cfo_turns_on_two_factor_sign_in_and_signs_in_with_a_code(
    page: Page,
    demo_company: str,
) -> None:
    base = demo_company
    password_step(page, base)
    expect(page).not_to_have_url(re.compile(r"/login/"))

    page.locator("summary", has_text="Dana Whitfield").click()
    page.get_by_role("menuitem", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(page.get_by_label("QR code of the authenticator secret").locator("svg")).to_be_visible()
    key = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(key)
    screenshot(page, "mfa-setup")

    # A mistyped code is refused and nothing changes.
    page.get_by_label("Code from the app").fill("123456" if totp.now() != "123456" else "654321")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("That code does not match")).to_be_visible()
    assert not TotpDevice.objects.filter(user__email="dana@northwind.test").exists()

    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_test_id("recovery-codes")
    expect(codes).to_contain_text("Save your recovery codes")
    recovery = re.findall(r"[0-9a-f]{5}-[0-9a-f]{5}", codes.inner_text())
    assert len(recovery) == 10
    screenshot(page, "mfa-recovery-codes")

    # Signing out and in again now takes a code.
    page.locator("summary", has_text="Dana Whitfield").click()
    page.get_by_role("menuitem", name="Sign out").click()
    password_step(page, base)
    expect(page.get_by_role("heading", name="Authentication code")).to_be_visible()
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    screenshot(page, "mfa-code-refused")
    # A recovery code works once (the app's current code was used when turning it on).
    page.get_by_label("Authentication code").fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))
    expect(page.locator("summary", has_text="Dana Whitfield")).to_be_visible()
    screenshot(page, "mfa-signed-in")
    # Dana's colleagues see it on the members page.
    page.goto(f"{base}/o/{demo.SLUG}/members/")
    row = page.locator("tr", has_text="dana@northwind.test")
    expect(row.get_by_test_id("two-factor")).to_have_text("Two-factor on")
