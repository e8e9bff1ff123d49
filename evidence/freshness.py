"""When evidence goes stale, per the frequency of the control it supports.

Evidence is fresh from its effective date until one period of the control's frequency has
passed, plus a grace to collect and upload the next one. A quarterly control evidenced on
31 March is stale after 14 July (30 June, the next quarter's due date, plus 14 days).
Event-driven controls produce evidence when the event happens; their evidence never goes stale
and none is required before the first event.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from controls.models import Frequency

PERIOD: dict[str, relativedelta | None] = {
    Frequency.CONTINUOUS: relativedelta(months=1),  # a monthly snapshot of a continuous control
    Frequency.DAILY: relativedelta(days=7),  # daily operation, sampled weekly
    Frequency.WEEKLY: relativedelta(weeks=1),
    Frequency.MONTHLY: relativedelta(months=1),
    Frequency.QUARTERLY: relativedelta(months=3),
    Frequency.ANNUAL: relativedelta(years=1),
    Frequency.EVENT_DRIVEN: None,
}
GRACE: dict[str, dt.timedelta] = {
    Frequency.CONTINUOUS: dt.timedelta(days=7),
    Frequency.DAILY: dt.timedelta(days=3),
    Frequency.WEEKLY: dt.timedelta(days=3),
    Frequency.MONTHLY: dt.timedelta(days=7),
    Frequency.QUARTERLY: dt.timedelta(days=14),
    Frequency.ANNUAL: dt.timedelta(days=30),
}


def needs_evidence(frequency: str) -> bool:
    return PERIOD.get(frequency) is not None


def fresh_until(effective_date: dt.date, frequency: str) -> dt.date | None:
    """The last day evidence effective on ``effective_date`` counts; ``None``: never stale."""
    period = PERIOD.get(frequency)
    if period is None:
        return None
    return effective_date + period + GRACE[frequency]


def is_fresh(effective_date: dt.date, frequency: str, today: dt.date) -> bool:
    until = fresh_until(effective_date, frequency)
    return until is None or today <= until


def oldest_fresh(frequency: str, today: dt.date) -> dt.date | None:
    """The earliest effective date whose evidence still counts on ``today`` (``fresh_until`` is
    monotonic, so evidence is fresh exactly when effective on or after this date); ``None``
    when the frequency asks for no evidence."""
    period = PERIOD.get(frequency)
    if period is None:
        return None
    candidate = today - GRACE[frequency] - period
    # Month arithmetic clamps to month ends: step to the exact boundary.
    while fresh_until(candidate, frequency) < today:  # type: ignore[operator]
        candidate += dt.timedelta(days=1)
    while fresh_until(candidate - dt.timedelta(days=1), frequency) >= today:  # type: ignore[operator]
        candidate -= dt.timedelta(days=1)
    return candidate
