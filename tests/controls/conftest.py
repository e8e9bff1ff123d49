"""Every controls test stores evidence in a folder of its own: finished runs of automated
tests are frozen as evidence files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_evidence_folder(evidence_dir: Path) -> Path:
    return evidence_dir
