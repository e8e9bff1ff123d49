"""From the dashboard's Blockers card to the controls it counts, and the controls list's
"Blocked by" filter used from its select, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_filters import exported, first_cells, sign_in
from tests.compliance.test_dashboard_blockers import blocked
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(live_server: Any) -> tuple[World, str]:
    cache.clear()
    world = build_world()
    blocked(world)
    return world, str(live_server.url)


def test_the_blockers_card_leads_to_the_controls_and_the_filter_narrows_them(
    page: Page, acme: tuple[World, str]
) -> None:
    world, base = acme
    sign_in(page, base, world.users["admin"])
    page.goto(f"{base}/o/acme/")
    card = page.get_by_test_id("blocked-by")
    expect(card).to_contain_text("Evidence missing")
    expect(card).not_to_contain_text("evidence_missing")  # labels, not keys
    screenshot(page, "dashboard-blockers")

    page.get_by_test_id("blocked-by-evidence_missing").click()
    expect(page).to_have_url(re.compile(r"/o/acme/controls/\?blocker=evidence_missing$"))
    rows = page.locator("#control-table tbody tr")
    expect(rows).to_have_count(2)
    assert sorted(first_cells(page, "#control-table")) == ["EV-01", "EV-02"]
    expect(page.locator("#f-blocker")).to_have_value("evidence_missing")

    page.locator("#f-blocker").select_option(label="Policy not approved")
    expect(page).to_have_url(re.compile(r"blocker=policy_unapproved"))
    expect(rows.first).to_contain_text("EV-02")
    expect(rows).to_have_count(2)
    assert sorted(first_cells(page, "#control-table")) == ["EV-02", "POL-01"]
    screenshot(page, "filters-controls-blocker")
    assert sorted(r[0] for r in exported(page, "#control-export")) == ["EV-02", "POL-01"]

    # Combined with another filter, then cleared.
    page.locator("#f-q").fill("POL")
    page.locator("#f-q").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("POL-01")
    page.locator("#f-q").fill("")
    page.locator("#f-q").press("Enter")
    page.locator("#f-blocker").select_option("")
    expect(rows).to_have_count(7)  # IAM-01, CHG-01 and the five active ones blocked() made
