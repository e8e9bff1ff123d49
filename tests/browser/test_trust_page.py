"""The trust page in a real browser, on the demo company: an admin fills the settings, adds a
control category by picking controls, previews, publishes, and an anonymous visitor sees it.
Screenshots land in test-results/screenshots/trust-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from compliance import demo
from compliance.models import Organization, User
from tests.browser.conftest import screenshot
from tests.browser.test_vendors import sign_in
from tests.trust.page_helpers import own_cache
from trust import services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_cache"),
]
__all__ = ["own_cache"]


def test_an_admin_publishes_the_trust_page_and_a_visitor_sees_it(
    page: Page, browser: Browser, demo_company: str
) -> None:
    base = demo_company
    northwind = Organization.objects.get(slug=demo.SLUG)
    dana = User.objects.get(email="dana@northwind.test")
    # Start from a page nobody sees yet (the demo publishes one).
    services.trust_page_unpublish(actor=dana, organization=northwind)
    public = f"{base}/trust/{northwind.slug}/"

    anonymous = browser.new_context(viewport={"width": 1440, "height": 900})
    visitor = anonymous.new_page()
    assert visitor.goto(public).status == 404  # type: ignore[union-attr]

    sign_in(page, base, "dana@northwind.test")
    page.goto(f"{base}/o/{demo.SLUG}/")
    page.get_by_role("navigation", name="Organization").get_by_role(
        "link", name="Trust page"
    ).click()
    expect(page.get_by_role("heading", name="Trust page", exact=True)).to_be_visible()
    page.get_by_label("Headline").fill("Northwind keeps your data safe")
    page.get_by_label("Overview").fill("Our program, live.")
    page.get_by_label("Security contact email").fill("security@northwind.example")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Trust page settings saved.")).to_be_visible()

    page.get_by_role("link", name="Add a category").click()
    page.get_by_label("Title").fill("Endpoint security")
    page.get_by_label("Description").fill("Laptops are encrypted and patched.")
    options = page.get_by_label("Controls").locator("option")
    first, second = options.nth(0).inner_text(), options.nth(1).inner_text()
    page.get_by_label("Controls").select_option(label=[first, second])
    page.get_by_label("Is published").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Control category saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="Endpoint security")).to_be_visible()
    screenshot(page, "trust-settings-1440")
    page.set_viewport_size({"width": 1024, "height": 800})
    screenshot(page, "trust-settings-1024")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_role("heading", name="Northwind keeps your data safe")).to_be_visible()
    expect(page.get_by_text("Endpoint security")).to_be_visible()
    page.go_back()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The trust page is public.")).to_be_visible()

    # The site's 404 page set a CSRF cookie; the trust page (and its icon: no /favicon.ico
    # 404) sets none.
    anonymous.clear_cookies()
    response = visitor.goto(public)
    assert response is not None and response.status == 200
    expect(visitor.get_by_role("heading", name="Northwind keeps your data safe")).to_be_visible()
    expect(visitor.get_by_text("Endpoint security")).to_be_visible()
    expect(visitor.get_by_role("heading", name="Certifications and audits")).to_be_visible()
    expect(visitor.get_by_role("heading", name="Subprocessors")).to_be_visible()
    expect(
        visitor.get_by_text(re.compile("Passing|Needs attention|Not monitored")).first
    ).to_be_visible()
    assert first not in visitor.content()  # the controls themselves are never named
    assert not anonymous.cookies()
    screenshot(visitor, "trust-public-1440")
    visitor.set_viewport_size({"width": 1024, "height": 800})
    screenshot(visitor, "trust-public-1024")
    anonymous.close()
