"""Screenshots of the browser tests.

The ``browser`` and ``page`` fixtures live in tests/conftest.py, so that every test directory
shares the one Chromium of the session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Page

from compliance import demo

SCREENSHOTS = Path(os.environ.get("ATTEST_TEST_OUTPUT", "test-results")) / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def demo_company(live_server) -> str:  # type: ignore[no-untyped-def]
    """The demo company, seeded afresh, served by the live server; returns its address."""
    cache.clear()
    demo.seed_demo()
    return live_server.url
