"""Where each vendor stands with its due-diligence reviews (one pure function, used by the
inventory, the vendor page, "My work" and the automated vendor-review check)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from people.completion import add_months
from vendors.models import ReviewOutcome, Vendor, VendorReview

DUE_SOON_DAYS = 30


class ReviewState(StrEnum):
    OVERDUE = "overdue"
    NEVER = "never"  # never reviewed and its onboarding review is due or past due
    REJECTED = "rejected"  # still active although its latest review rejected it
    DUE_SOON = "due_soon"
    CURRENT = "current"
    OFFBOARDED = "offboarded"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def tone(self) -> str:
        return STATE_TONES[self]

    @property
    def is_problem(self) -> bool:
        return self in (ReviewState.OVERDUE, ReviewState.NEVER, ReviewState.REJECTED)


STATE_LABELS = {
    ReviewState.OVERDUE: "Review overdue",
    ReviewState.NEVER: "Never reviewed",
    ReviewState.REJECTED: "Rejected at review",
    ReviewState.DUE_SOON: "Review due soon",
    ReviewState.CURRENT: "Current",
    ReviewState.OFFBOARDED: "Offboarded",
}
STATE_TONES = {
    ReviewState.OVERDUE: "bad",
    ReviewState.NEVER: "bad",
    ReviewState.REJECTED: "bad",
    ReviewState.DUE_SOON: "warn",
    ReviewState.CURRENT: "ok",
    ReviewState.OFFBOARDED: "muted",
}


@dataclass(frozen=True)
class ReviewStatus:
    state: ReviewState
    due: dt.date | None  # the next review's due date (None: no further review is needed)
    latest: VendorReview | None

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def tone(self) -> str:
        return self.state.tone

    @property
    def is_problem(self) -> bool:
        return self.state.is_problem


def next_review_due(vendor: Vendor, latest: VendorReview | None) -> dt.date | None:
    """The date the next review is due: the onboarding date before any review, then the latest
    review plus the cadence; None once reviewed when the cadence is "once"."""
    if latest is None:
        return vendor.onboarded_on
    months = vendor.cadence_months
    if months == 0:
        return None
    return add_months(latest.reviewed_on, months)


def review_status(vendor: Vendor, latest: VendorReview | None, today: dt.date) -> ReviewStatus:
    if not vendor.is_active:
        return ReviewStatus(ReviewState.OFFBOARDED, None, latest)
    due = next_review_due(vendor, latest)
    if latest is not None and latest.outcome == ReviewOutcome.REJECTED:
        return ReviewStatus(ReviewState.REJECTED, due, latest)
    if latest is None:
        if due is not None and due <= today:
            return ReviewStatus(ReviewState.NEVER, due, None)
        return ReviewStatus(ReviewState.DUE_SOON, due, None)
    if due is None:
        return ReviewStatus(ReviewState.CURRENT, None, latest)
    if due < today:
        return ReviewStatus(ReviewState.OVERDUE, due, latest)
    if (due - today).days <= DUE_SOON_DAYS:
        return ReviewStatus(ReviewState.DUE_SOON, due, latest)
    return ReviewStatus(ReviewState.CURRENT, due, latest)
