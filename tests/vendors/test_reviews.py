"""The review-state rules: when a vendor's next review is due, and what state it is in."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.vendors.factories import ReviewFactory, VendorFactory
from vendors.models import ReviewOutcome, RiskTier, VendorStatus
from vendors.reviews import ReviewState, next_review_due, review_status

TODAY = dt.date(2026, 6, 15)


def vendor(**kwargs: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "risk_tier": RiskTier.CRITICAL,
        "onboarded_on": dt.date(2024, 1, 10),
    }
    values.update(kwargs)
    return VendorFactory.build(**values)


def review(v, on: dt.date, outcome: str = ReviewOutcome.APPROVED):  # type: ignore[no-untyped-def]
    return ReviewFactory.build(vendor=v, reviewed_on=on, outcome=outcome)


def test_a_vendor_never_reviewed_is_due_on_its_onboarding_day() -> None:
    v = vendor()
    status = review_status(v, None, TODAY)
    assert (status.state, status.due) == (ReviewState.NEVER, dt.date(2024, 1, 10))
    assert status.is_problem and status.tone == "bad"


def test_a_vendor_that_starts_later_is_not_a_problem_before_its_start() -> None:
    v = vendor(onboarded_on=TODAY + dt.timedelta(days=60))
    status = review_status(v, None, TODAY)
    assert status.state == ReviewState.DUE_SOON and not status.is_problem
    assert status.due == TODAY + dt.timedelta(days=60)
    # On its first day, without a review, it is a problem.
    assert review_status(v, None, v.onboarded_on).state == ReviewState.NEVER


@pytest.mark.parametrize(
    ("tier", "months", "due"),
    [
        (RiskTier.CRITICAL, 12, dt.date(2026, 2, 28)),
        (RiskTier.HIGH, 12, dt.date(2026, 2, 28)),
        (RiskTier.MEDIUM, 24, dt.date(2027, 2, 28)),
    ],
)
def test_the_tier_sets_the_cadence_and_month_ends_are_clamped(
    tier: str, months: int, due: dt.date
) -> None:
    v = vendor(risk_tier=tier)
    assert v.cadence_months == months
    assert next_review_due(v, review(v, dt.date(2025, 2, 28))) == due


def test_a_low_tier_vendor_is_reviewed_once_before_onboarding() -> None:
    v = vendor(risk_tier=RiskTier.LOW)
    assert v.cadence_months == 0
    status = review_status(v, review(v, dt.date(2020, 1, 1)), TODAY)
    assert (status.state, status.due) == (ReviewState.CURRENT, None)


def test_the_vendors_own_cadence_wins_over_its_tier() -> None:
    v = vendor(risk_tier=RiskTier.CRITICAL, review_every_months=6)
    assert not v.uses_tier_cadence
    assert next_review_due(v, review(v, dt.date(2026, 1, 1))) == dt.date(2026, 7, 1)


def test_current_due_soon_and_overdue_follow_the_due_date() -> None:
    v = vendor()
    assert review_status(v, review(v, dt.date(2025, 8, 1)), TODAY).state == ReviewState.CURRENT
    # Due 15 Jul 2026: within 30 days.
    assert review_status(v, review(v, dt.date(2025, 7, 15)), TODAY).state == ReviewState.DUE_SOON
    # Due on the day itself is not overdue yet.
    assert review_status(v, review(v, dt.date(2025, 6, 15)), TODAY).state == ReviewState.DUE_SOON
    overdue = review_status(v, review(v, dt.date(2025, 6, 14)), TODAY)
    assert (overdue.state, overdue.due) == (ReviewState.OVERDUE, dt.date(2026, 6, 14))


def test_a_rejected_vendor_that_is_still_active_is_a_problem_however_recent() -> None:
    v = vendor()
    status = review_status(v, review(v, TODAY, ReviewOutcome.REJECTED), TODAY)
    assert status.state == ReviewState.REJECTED and status.is_problem


def test_approval_with_conditions_counts_as_reviewed() -> None:
    v = vendor()
    status = review_status(v, review(v, TODAY, ReviewOutcome.CONDITIONS), TODAY)
    assert status.state == ReviewState.CURRENT


def test_an_offboarded_vendor_needs_no_review() -> None:
    v = vendor(status=VendorStatus.OFFBOARDED, offboarded_on=dt.date(2025, 1, 1))
    status = review_status(v, None, TODAY)
    assert (status.state, status.due, status.is_problem) == (ReviewState.OFFBOARDED, None, False)
