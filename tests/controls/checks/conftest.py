from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.controls.checks.fake_github import FakeGitHub


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub().start()
    yield fake
    fake.stop()
