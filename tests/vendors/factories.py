"""Factories of the vendors app."""

from __future__ import annotations

import datetime as dt

import factory

from tests.factories import OrganizationFactory
from vendors.models import ReviewOutcome, RiskTier, Vendor, VendorReview


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Vendor {n}")
    website = factory.LazyAttribute(lambda o: f"https://{o.name.lower().replace(' ', '')}.test")
    risk_tier = RiskTier.MEDIUM
    onboarded_on = factory.LazyFunction(lambda: dt.date(2024, 1, 15))


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorReview

    vendor = factory.SubFactory(VendorFactory)
    reviewed_on = factory.LazyAttribute(lambda o: o.vendor.onboarded_on)
    outcome = ReviewOutcome.APPROVED
    summary = "Read the SOC 2 Type II report; no exceptions."
