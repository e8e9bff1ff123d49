"""The calendar rules of policies: review due dates and the yearly acknowledgement window.

Dates are days in the organization's time zone. A review is due ``review_months`` after the
later of the current version's effective date and the last recorded review. An acknowledgement
counts for twelve months: one given on 10 March 2025 is outstanding again from 10 March 2026.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from compliance.models import Organization

ACK_VALID_MONTHS = 12
ACKNOWLEDGE_WITHIN_DAYS = 30  # when a person should have acknowledged after being asked
REVIEW_WARNING_DAYS = 30  # "review due soon" starts this many days before the due date


def organization_zone(organization: Organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def organization_today(organization: Organization, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(organization_zone(organization)).date()


def local_date(organization: Organization, moment: dt.datetime) -> dt.date:
    return moment.astimezone(organization_zone(organization)).date()


def review_due(
    *, effective_date: dt.date | None, last_reviewed_on: dt.date | None, review_months: int
) -> dt.date | None:
    """When the next review is due; ``None`` without an approved version."""
    if effective_date is None:
        return None
    basis = max(effective_date, last_reviewed_on) if last_reviewed_on else effective_date
    return basis + relativedelta(months=review_months)


def review_state(due: dt.date | None, today: dt.date) -> str:
    """``none`` (no approved version), ``overdue``, ``due_soon`` or ``ok``."""
    if due is None:
        return "none"
    if due < today:
        return "overdue"
    if due <= today + dt.timedelta(days=REVIEW_WARNING_DAYS):
        return "due_soon"
    return "ok"


def ack_valid_from(organization: Organization, today: dt.date) -> dt.datetime:
    """Acknowledgements at or after this moment still count on ``today``."""
    first_valid_day = today - relativedelta(months=ACK_VALID_MONTHS) + dt.timedelta(days=1)
    return dt.datetime.combine(first_valid_day, dt.time.min, tzinfo=organization_zone(organization))


def ack_renewal_date(organization: Organization, acknowledged_at: dt.datetime) -> dt.date:
    """The day an acknowledgement stops counting."""
    return local_date(organization, acknowledged_at) + relativedelta(months=ACK_VALID_MONTHS)
