from __future__ import annotations

import datetime as dt

import pytest

from people import completion
from people.models import PersonnelRequirement
from people.services import people_requirements_ensure
from tests.conftest import World


@pytest.fixture
def today(world: World) -> dt.date:
    """The organization's today (acme is on UTC)."""
    return completion.organization_today(world.org)


@pytest.fixture
def requirements(world: World) -> dict[str, PersonnelRequirement]:
    """acme's requirements with the defaults, by kind."""
    return {r.kind: r for r in people_requirements_ensure(organization=world.org)}
