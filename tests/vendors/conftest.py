from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from people.completion import organization_today
from tests.conftest import World
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import RiskTier, Vendor


@pytest.fixture
def today(world: World) -> dt.date:
    """The organization's today (acme is on UTC)."""
    return organization_today(world.org)


@dataclass
class Vendors:
    owned: Vendor  # critical, owned by the "owner" persona, reviewed 3 months ago
    unowned: Vendor  # low tier, nobody owns it, never reviewed
    foreign: Vendor  # belongs to other_org


@pytest.fixture
def vendors(world: World, today: dt.date) -> Vendors:
    owned = VendorFactory(
        organization=world.org,
        name="Cloudhost",
        risk_tier=RiskTier.CRITICAL,
        owner=world.users["owner"],
        is_subprocessor=True,
        data_access=["customer_data", "personal_data"],
        onboarded_on=today - dt.timedelta(days=800),
    )
    ReviewFactory(vendor=owned, reviewed_on=today - dt.timedelta(days=90))
    unowned = VendorFactory(
        organization=world.org,
        name="Snackbox",
        risk_tier=RiskTier.LOW,
        onboarded_on=today - dt.timedelta(days=40),
    )
    foreign = VendorFactory(
        organization=world.other_org, name="Globex Secret Supplier", risk_tier=RiskTier.CRITICAL
    )
    return Vendors(owned=owned, unowned=unowned, foreign=foreign)
