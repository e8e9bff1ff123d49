"""``compliance.throttle.over_rate``: the one counter behind the public forms' rate limits
(trust access requests, vendor questionnaire links)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from django.core.cache import cache

from compliance.throttle import over_rate
from tests.compliance.test_throttle_outage import free_port, redis_cache


def _key() -> str:
    return f"rate-test:{uuid.uuid4().hex}"


def test_counts_each_use_and_refuses_past_the_limit() -> None:
    key = _key()
    answers = [over_rate([key], limit=3, window=60, what="test") for _ in range(5)]
    assert answers == [False, False, False, True, True]
    assert cache.get(key) == 5


def test_any_key_past_its_limit_refuses_and_every_key_is_counted() -> None:
    ip, email = _key(), _key()
    for _ in range(2):
        assert not over_rate([ip, email], limit=2, window=60, what="test")
    other_email = _key()
    # The address is past the limit even with a fresh email; the fresh email is still counted.
    assert over_rate([ip, other_email], limit=2, window=60, what="test")
    assert cache.get(other_email) == 1
    assert cache.get(email) == 2


def test_the_window_ends_and_counting_starts_again() -> None:
    key = _key()
    assert not over_rate([key], limit=1, window=60, what="test")
    assert over_rate([key], limit=1, window=60, what="test")
    cache.delete(key)  # what the window's expiry does
    assert not over_rate([key], limit=1, window=60, what="test")


def test_a_cache_that_is_down_lets_the_use_through_and_says_so(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = redis_cache(free_port())  # nobody listens there
    with caplog.at_level(logging.WARNING, logger="compliance.throttle"):
        answers = [over_rate([_key()], limit=0, window=60, what="the test form") for _ in range(3)]
    assert answers == [False, False, False]
    assert "the test form is not rate-limited" in caplog.text
