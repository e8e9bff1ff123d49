"""Helpers for the trust page's tests."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from compliance.models import User
from tests.conftest import World
from trust import services
from trust.models import TrustPage


@pytest.fixture
def own_cache(settings: Any) -> None:
    """A cache key prefix of this test's own: cached pages of an earlier test (same
    organization id, another database) are never served."""
    caches = {name: dict(value) for name, value in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


def admin(world: World) -> User:
    return world.users["admin"]


def published(world: World, **values: Any) -> TrustPage:
    values.setdefault("headline", "Security at Acme")
    values.setdefault("security_email", "security@acme.test")
    services.trust_page_update(actor=admin(world), organization=world.org, **values)
    return services.trust_page_publish(actor=admin(world), organization=world.org)
