"""In a real browser: the admin site as operators and others reach it (through Attest's sign-in,
with a code, and nowhere a form of its own), and guessing at the current password stopped."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pyotp
import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from compliance import mfa
from compliance.models import User
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def base(live_server) -> str:  # type: ignore[no-untyped-def]
    cache.clear()
    return str(live_server.url)


def both_widths(page: Page, name: str) -> None:
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"admin-{name}-{width}")
    page.set_viewport_size({"width": 1440, "height": 900})


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_operator_opens_the_admin_with_password_and_code(page: Page, base: str) -> None:
    operator = UserFactory(email="ops@attest.test", is_staff=True, is_superuser=True)
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=operator, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)

    page.goto(f"{base}/admin/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "next=/admin/" in page.url
    sign_in(page, operator.email)
    expect(page.get_by_role("heading", name="Authentication code")).to_be_visible()
    page.goto(f"{base}/admin/")  # not yet: the admin sends them back to sign in
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, operator.email)
    page.get_by_label("Authentication code").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    assert page.url == f"{base}/admin/"


def test_an_operator_without_two_factor_turns_it_on_then_opens_the_admin(
    page: Page, base: str
) -> None:
    UserFactory(email="new-ops@attest.test", is_staff=True, is_superuser=True)
    page.goto(f"{base}/admin/")
    sign_in(page, "new-ops@attest.test")
    expect(page.get_by_text("The admin site needs two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    both_widths(page, "needs-two-factor")

    key = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("recovery-codes")).to_be_visible()
    both_widths(page, "two-factor-on")
    page.get_by_role("link", name="Open the admin site").click()
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    both_widths(page, "index")


def test_a_session_without_a_code_is_asked_for_one(page: Page, base: str) -> None:
    """Signed in before two-factor sign-in was on: the admin asks this session for a code."""
    operator = UserFactory(email="ops@attest.test", is_staff=True, is_superuser=True)
    page.goto(f"{base}/login/")
    sign_in(page, operator.email)
    earlier = timezone.now() - dt.timedelta(minutes=2)
    mfa.mfa_enable(user=operator, secret=SECRET, code=pyotp.TOTP(SECRET).at(earlier), now=earlier)
    page.goto(f"{base}/admin/compliance/user/")
    expect(page.get_by_text("Type a code from your authenticator app")).to_be_visible()
    both_widths(page, "code-step")
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/admin/compliance/user/$"))
    expect(page.get_by_role("link", name=operator.email)).to_be_visible()


def test_someone_who_is_not_an_operator_is_told_so_and_given_no_password_form(
    page: Page, base: str
) -> None:
    auditor: User = UserFactory(email="cpa@example.test")
    MembershipFactory(user=auditor, organization=OrganizationFactory(), role="auditor",
                      expires_at=timezone.now() + dt.timedelta(days=30))  # fmt: skip
    page.goto(f"{base}/login/")
    sign_in(page, auditor.email)
    response = page.goto(f"{base}/admin/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="The admin site is for operators")).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
    both_widths(page, "refused")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_guessing_the_current_password_on_the_change_form_is_stopped(
    page: Page, base: str, settings: Any
) -> None:
    settings.LOGIN_THROTTLE_ATTEMPTS = 2
    UserFactory(email="member@example.test", full_name="Mia Member")
    page.goto(f"{base}/login/")
    sign_in(page, "member@example.test")
    page.locator("summary", has_text="Mia Member").click()
    page.get_by_role("menuitem", name="Change password").click()
    new = "a brand new passphrase 42"
    for guess in ("guess one", "guess two", PASSWORD):
        page.locator("#id_old_password").fill(guess)
        page.locator("#id_new_password1").fill(new)
        page.locator("#id_new_password2").fill(new)
        page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Too many wrong passwords. Wait 15 minutes")).to_be_visible()
    both_widths(page, "password-change-throttled")
    assert User.objects.get(email="member@example.test").check_password(PASSWORD)
