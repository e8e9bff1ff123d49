"""Due dates of recurring evidence requests.

Every due date is computed from the request's first due date, never from the previous one, so a
monthly request first due on 31 January is due on 28 February (29 in a leap year), then on
31 March again: short months clamp, they do not drift. Dates are calendar dates in the
organization's time zone; an occurrence is overdue once that day has ended there.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from evidence.models import Cadence

MONTHS: dict[str, int] = {
    Cadence.MONTHLY: 1,
    Cadence.QUARTERLY: 3,
    Cadence.SEMI_ANNUAL: 6,
    Cadence.ANNUAL: 12,
}


def due_date(first_due: dt.date, cadence: str, sequence: int) -> dt.date:
    """The due date of the ``sequence``-th occurrence (1-based)."""
    if sequence < 1:
        raise ValueError("sequence starts at 1")
    steps = sequence - 1
    if cadence == Cadence.WEEKLY:
        return first_due + dt.timedelta(weeks=steps)
    if cadence in MONTHS:
        return first_due + relativedelta(months=MONTHS[cadence] * steps)
    if steps == 0:  # one-off and event-driven occurrences are not a series
        return first_due
    raise ValueError(f"a {cadence} request has no {sequence}th due date")


def period(first_due: dt.date, cadence: str, sequence: int) -> tuple[dt.date, dt.date]:
    """The days an occurrence's evidence covers: from the day after the previous due date."""
    end = due_date(first_due, cadence, sequence)
    if cadence == Cadence.WEEKLY:
        return end - dt.timedelta(days=6), end
    if cadence in MONTHS:
        previous = first_due + relativedelta(months=MONTHS[cadence] * (sequence - 2))
        return previous + dt.timedelta(days=1), end
    return end, end


def sequences_started(first_due: dt.date, cadence: str, today: dt.date) -> list[int]:
    """Occurrences whose period has begun by ``today`` (the ones that should exist)."""
    if cadence == Cadence.EVENT_DRIVEN:
        return []
    if cadence == Cadence.ONE_OFF:
        return [1]
    found: list[int] = []
    sequence = 1
    while True:
        start, _ = period(first_due, cadence, sequence)
        if start > today:
            return found
        found.append(sequence)
        sequence += 1
