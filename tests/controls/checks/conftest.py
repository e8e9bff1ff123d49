from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.controls.checks.fake_github import FakeGitHub


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture
def evidence_dir(settings: Any, tmp_path: Path) -> Path:
    """A run freezes its outcome as an evidence file: each test stores it in its own folder
    (as tests/evidence/conftest.py does)."""
    root = tmp_path / "evidence"
    settings.EVIDENCE_ROOT = root
    settings.EVIDENCE_INCOMING_DIR = root / ".incoming"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "evidence.storage.EvidenceFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root
