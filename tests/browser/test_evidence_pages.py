"""The evidence list and an evidence page with a long history, as a reviewer sees them at 1440
and 1024 px: a page of rows with a few control chips each, the revisions newest first a page
at a time, the controls capped with a way to all of them, nothing cut off."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from evidence.models import ReviewStatus
from tests.browser.conftest import screenshot
from tests.browser.test_filters import sign_in
from tests.conftest import World, build_world
from tests.evidence import generate
from tests.factories import ControlFactory


@pytest.fixture
def long_history(live_server: Any) -> tuple[World, str, int]:
    cache.clear()
    world = build_world()
    controls = ControlFactory.create_batch(60, organization=world.org)
    generate.items(world.org, 70, controls=controls[:8], revisions=2, title="Weekly access review")
    [item] = generate.items(
        world.org,
        1,
        controls=controls,
        revisions=45,
        statuses=[ReviewStatus.ACCEPTED, ReviewStatus.PENDING],
        title="Nightly backup check",
    )
    return world, str(live_server.url), item.pk


DASH = "\N{EN DASH}"  # as the pagination writes "1 to 50 of 71"


def fits(page: Page) -> None:
    """Nothing wider than the window (no horizontal scrolling, nothing cut off)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow


def test_a_reviewer_pages_through_a_long_evidence_history(
    page: Page, long_history: tuple[World, str, int]
) -> None:
    world, base, pk = long_history
    sign_in(page, base, world.users["admin"])
    for width in (1440, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/o/acme/evidence/")
        expect(page.locator("table tbody tr")).to_have_count(50)
        expect(page.get_by_text(f"1{DASH}50 of 71")).to_be_visible()
        fits(page)
        screenshot(page, f"evidence-list-{width}")

        page.goto(f"{base}/o/acme/evidence/{pk}/")
        expect(page.locator("table tbody tr")).to_have_count(20)
        expect(page.locator("table tbody tr").first).to_contain_text("r45")
        expect(page.get_by_text(f"1{DASH}20 of 45")).to_be_visible()
        fits(page)
        screenshot(page, f"evidence-detail-{width}")

    # The row's "+3 more" opens the item, which shows all of its eight controls.
    page.goto(f"{base}/o/acme/evidence/?q=weekly")
    page.get_by_role("link", name="+3 more").first.click()
    expect(page.locator("dl.props a.chip")).to_have_count(8)

    page.goto(f"{base}/o/acme/evidence/{pk}/")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("table tbody tr").first).to_contain_text("r25")
    page.get_by_role("link", name="All 60 controls").click()
    expect(page.get_by_test_id("all-controls").locator("li")).to_have_count(50)
    expect(page.get_by_text(f"1{DASH}50 of 60")).to_be_visible()
    fits(page)
    screenshot(page, "evidence-detail-all-controls-1024")
    page.get_by_test_id("all-controls").locator("..").get_by_role("link", name="Next →").click()
    expect(page.get_by_test_id("all-controls").locator("li")).to_have_count(10)
    # The revisions stayed on their page.
    expect(page.locator("table tbody tr").first).to_contain_text("r25")
