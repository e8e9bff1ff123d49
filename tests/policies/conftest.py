"""Fixtures of the policies tests: a world with people on the roster, and the outbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.policies.factories import PolicyWorld, build_policy_world


@pytest.fixture
def pw(world: World) -> PolicyWorld:
    return build_policy_world(world)


@pytest.fixture
def mailbox(db: Any):  # type: ignore[no-untyped-def]
    """Outbox rows written by the test (emails are queued in the outbox before sending)."""
    from compliance.models import OutboundEmail

    return lambda template=None: list(
        OutboundEmail.objects.filter(**({"template": template} if template else {})).order_by("pk")
    )
