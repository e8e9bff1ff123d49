"""Screenshots of the browser tests.

The ``browser`` and ``page`` fixtures live in tests/conftest.py, so that every test directory
shares the one Chromium of the session."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS = Path(os.environ.get("ATTEST_TEST_OUTPUT", "test-results")) / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
