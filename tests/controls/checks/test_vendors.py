"""attest.vendor_reviews: every vendor of the chosen tiers was reviewed within its cadence."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from controls.checks import CheckContext, get_check
from controls.models import Finding, ResultStatus, RunStatus, TestRun, Trigger
from controls.monitoring import runner
from controls.monitoring.services import control_test_create
from people.completion import add_months, organization_today
from tests.conftest import World
from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import ReviewOutcome, RiskTier, VendorStatus


@pytest.fixture
def today(world: World) -> dt.date:
    return organization_today(world.org)


def run_check(world: World, **parameters: Any) -> dict[str, Any]:
    check = get_check("attest.vendor_reviews")
    assert check is not None
    context = CheckContext(
        organization=world.org,
        control=world.control,
        parameters={"min_tier": "critical", **parameters},
    )
    return {r.name: r for r in check().run(context)}


def ago(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days)


def test_an_empty_inventory_fails_rather_than_passing(world: World) -> None:
    VendorFactory(organization=world.other_org, risk_tier=RiskTier.CRITICAL)
    results = run_check(world)
    assert list(results) == ["Vendor inventory"]
    assert results["Vendor inventory"].status == ResultStatus.FAIL


def test_no_vendor_of_the_tier_is_not_applicable(world: World) -> None:
    VendorFactory(organization=world.org, risk_tier=RiskTier.LOW)
    [result] = run_check(world).values()
    assert result.status == ResultStatus.NOT_APPLICABLE
    assert result.message == "No active vendor is critical."


def test_each_critical_vendor_passes_or_fails_on_its_latest_review(
    world: World, today: dt.date
) -> None:
    current = VendorFactory(organization=world.org, name="Current", risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=current, reviewed_on=ago(today, 400))
    ReviewFactory(vendor=current, reviewed_on=ago(today, 100), outcome=ReviewOutcome.CONDITIONS)
    overdue = VendorFactory(organization=world.org, name="Overdue", risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=overdue, reviewed_on=ago(today, 400))
    VendorFactory(
        organization=world.org, name="Never", risk_tier=RiskTier.CRITICAL,
        onboarded_on=ago(today, 10),
    )  # fmt: skip
    rejected = VendorFactory(organization=world.org, name="Rejected", risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=rejected, reviewed_on=ago(today, 5), outcome=ReviewOutcome.REJECTED)
    VendorFactory(
        organization=world.org, name="Starting", risk_tier=RiskTier.CRITICAL,
        onboarded_on=today + dt.timedelta(days=20),
    )  # fmt: skip
    gone = VendorFactory(
        organization=world.org, name="Gone", risk_tier=RiskTier.CRITICAL,
        status=VendorStatus.OFFBOARDED, offboarded_on=ago(today, 1),
    )  # fmt: skip
    VendorFactory(organization=world.org, name="Medium", risk_tier=RiskTier.MEDIUM)
    VendorFactory(organization=world.other_org, name="Foreign", risk_tier=RiskTier.CRITICAL)

    results = run_check(world)
    assert set(results) == {"Current", "Overdue", "Never", "Rejected", "Starting"}
    assert gone.name not in results
    statuses = {name: r.status for name, r in results.items()}
    assert statuses == {
        "Current": "pass",
        "Overdue": "fail",
        "Never": "fail",
        "Rejected": "fail",
        "Starting": "not_applicable",
    }
    assert results["Current"].message.startswith("Reviewed on ")
    assert "(approved with conditions); next due" in results["Current"].message
    assert results["Overdue"].message.startswith("Last reviewed on ")
    assert "the next review was due on" in results["Overdue"].message
    assert results["Overdue"].raw["next_due"] == str(add_months(ago(today, 400), 12))
    assert results["Overdue"].raw["cadence_months"] == 12
    assert results["Never"].message.startswith("Never reviewed; onboarded on ")
    assert results["Rejected"].remediation.startswith("Offboard the vendor")
    assert results["Overdue"].id == f"vendor:{overdue.pk}"


def test_a_wider_tier_takes_in_the_tiers_above_it(world: World, today: dt.date) -> None:
    for tier in RiskTier:
        VendorFactory(organization=world.org, name=f"V-{tier}", risk_tier=tier)
    assert set(run_check(world, min_tier="high")) == {"V-critical", "V-high"}
    assert set(run_check(world, min_tier="medium")) == {"V-critical", "V-high", "V-medium"}
    assert len(run_check(world, min_tier="low")) == 4


def test_the_check_reads_latest_reviews_in_a_fixed_number_of_queries(
    world: World, today: dt.date, django_assert_max_num_queries: Any
) -> None:
    for n in range(25):
        vendor = VendorFactory(organization=world.org, risk_tier=RiskTier.CRITICAL)
        ReviewFactory(vendor=vendor, reviewed_on=ago(today, n * 20))
    with django_assert_max_num_queries(5):
        assert len(run_check(world)) == 25


def test_an_unknown_tier_is_refused_when_the_test_is_saved(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        control_test_create(
            actor=world.users["admin"], control=world.control, name="Vendor reviews",
            check_key="attest.vendor_reviews", parameters={"min_tier": "extreme"},
        )  # fmt: skip
    assert "parameters.min_tier" in exc.value.message_dict


def test_a_run_opens_findings_for_overdue_vendors_and_closes_them_once_reviewed(
    world: World, today: dt.date
) -> None:
    vendor = VendorFactory(organization=world.org, name="Cloudhost", risk_tier=RiskTier.CRITICAL)
    ReviewFactory(vendor=vendor, reviewed_on=ago(today, 500))
    test = control_test_create(
        actor=world.users["admin"], control=world.control, name="Critical vendors reviewed",
        check_key="attest.vendor_reviews", parameters={"min_tier": "critical"},
    )  # fmt: skip

    def run() -> TestRun:
        queued = TestRun.objects.create(
            control_test=test, organization=world.org, trigger=Trigger.MANUAL
        )
        runner.execute_run(queued.pk, worker="pytest")
        queued.refresh_from_db()
        return queued

    first = run()
    assert (first.status, first.failed_count) == (RunStatus.FAILED, 1)
    finding = Finding.objects.get(control_test=test)
    assert finding.resource_id == f"vendor:{vendor.pk}" and finding.is_open

    ReviewFactory(vendor=vendor, reviewed_on=today)
    second = run()
    assert (second.status, second.passed_count) == (RunStatus.PASSED, 1)
    finding.refresh_from_db()
    assert not finding.is_open
