"""A revision whose file has gone from storage (a restore that missed it, a hand-deleted object)
downloads as a 404 that says what happened, never a server error, and the operators see it in
the log. Nothing is repaired here: the integrity sweep reports it (test_integrity.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import World
from tests.evidence.conftest import add_evidence


@pytest.fixture
def lost(world: World, evidence_dir: Path) -> int:
    item = add_evidence(world, world.control)
    revision = item.revisions.get()
    (evidence_dir / revision.storage_key).unlink()
    return revision.pk


def test_downloading_a_file_gone_from_storage_is_a_404_page_that_says_so(
    world: World, lost: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="evidence.views"):
        response = world.client("owner").get(
            f"/o/{world.org.slug}/evidence/revisions/{lost}/download/"
        )
    assert response.status_code == 404
    assert "its file is no longer in storage" in response.content.decode()
    assert any(f"revision {lost}" in record.getMessage() for record in caplog.records)


def test_downloading_a_file_gone_from_storage_through_the_api_is_a_json_404(
    world: World, lost: int
) -> None:
    response = world.api("owner").get(
        f"/api/organizations/{world.org.slug}/evidence-revisions/{lost}/download/"
    )
    assert response.status_code == 404, response.content
    assert "missing from storage" in response.json()["detail"]
