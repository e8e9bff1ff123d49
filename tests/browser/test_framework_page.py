"""The framework page shows each requirement's counts and lists its controls on demand."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from controls.models import RequirementReadiness
from tests.browser.conftest import screenshot
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def keep(path: Path) -> None:
    """Also copy the screenshot to $ATTEST_SHOTS, when set (to look at it outside the run)."""
    folder = os.environ.get("ATTEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


@pytest.mark.parametrize("width", [1440, 1024])
def test_the_framework_page_lists_a_requirements_controls_on_demand(
    page: Page, demo_company: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, demo_company, "dana@northwind.test")
    page.goto(f"{demo_company}/o/northwind/frameworks/soc2/")
    row = (
        RequirementReadiness.objects.filter(
            organization__slug="northwind", controls_total__gt=1, requirement__ref_id="CC6.1"
        )
        .select_related("requirement")
        .get()
    )
    link = page.get_by_test_id(f"req-controls-{row.requirement.ref_id}")
    expect(link).to_have_text(f"{row.controls_ready} of {row.controls_total} controls ready")
    assert page.locator(".chip").count() == 0  # no control chips until asked
    keep(screenshot(page, f"framework-soc2-{width}"))

    link.click()
    listed = page.get_by_test_id(f"requirement-controls-{row.requirement.pk}").locator(".chip")
    expect(listed).to_have_count(row.controls_total)
    # The page is not wider than the window: nothing is cut off.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    keep(screenshot(page, f"framework-soc2-{width}-cc6.1-controls"))
