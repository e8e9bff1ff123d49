"""When will a framework be ready? A forecast from the recent weekly snapshots (pure: no queries;
``compliance.selectors.framework_forecast`` reads the data).

The method, in plain words (docs/readiness.md, "The forecast"):

- take the last :data:`WINDOW` weekly percents, oldest first, and the week-over-week changes
  between consecutive ones;
- the weekly rate is the **median** change (one unusual week moves it little);
- the forecast ready date is the last snapshot's week end plus the weeks the remaining
  percentage points take at that rate (rounded up to whole weeks);
- the range comes from the spread of the changes: the optimistic date uses the 75th percentile
  change, the pessimistic one the 25th (a pessimistic rate of zero or less: no pessimistic
  date, "at risk" at best);
- against the target audit date: **on track** when even the pessimistic date is on or before
  it, **at risk** when the forecast is on or before it but the pessimistic one is after (or
  unknown), **late** when the forecast is after it or the target date has passed;
- **not enough data** below :data:`MINIMUM_SNAPSHOTS` snapshots, or when the rate is not
  positive (flat or regressing): no date can be promised.

Already at 100 %: ready (the last snapshot's date), on track if that is by the target date.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import pairwise

WINDOW = 6  # snapshots read: five week-over-week changes
MINIMUM_SNAPSHOTS = 3


class ForecastStatus(StrEnum):
    READY = "ready"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LATE = "late"
    NO_TARGET = "no_target"  # a forecast, but no target audit date to compare it with
    NOT_ENOUGH_DATA = "not_enough_data"

    @property
    def label(self) -> str:
        return {
            "ready": "Ready",
            "on_track": "On track",
            "at_risk": "At risk",
            "late": "Late",
            "no_target": "No target audit date",
            "not_enough_data": "Not enough data",
        }[self.value]


@dataclass(frozen=True)
class WeekPercent:
    """One snapshot as the forecast reads it: the week's end (a local date, the Sunday) and the
    percent of requirements ready then."""

    week_end: dt.date
    percent: int


@dataclass(frozen=True)
class Forecast:
    status: ForecastStatus
    reason: str  # in words, for people
    weekly_rate: float | None = None  # percentage points a week (median change)
    ready_on: dt.date | None = None
    optimistic: dt.date | None = None
    pessimistic: dt.date | None = None  # None: the slow end of the range makes no progress
    target: dt.date | None = None
    weeks_used: int = 0


def _date_at(last: WeekPercent, rate: float) -> dt.date | None:
    if rate <= 0:
        return None
    weeks = math.ceil((100 - last.percent) / rate)
    return last.week_end + dt.timedelta(weeks=weeks)


def _quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) == 1:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def forecast(weeks: Sequence[WeekPercent], *, target: dt.date | None, today: dt.date) -> Forecast:
    """The forecast from weekly percents (any order; the last :data:`WINDOW` by date are used)
    and the target audit date (None: none set). ``today`` tells whether the target has passed."""
    recent = sorted(weeks, key=lambda w: w.week_end)[-WINDOW:]
    if recent and recent[-1].percent >= 100:
        last = recent[-1]
        on_time = target is None or last.week_end <= target
        return Forecast(
            ForecastStatus.READY if on_time else ForecastStatus.LATE,
            "Every requirement was ready at the last snapshot."
            if on_time
            else "Ready, but only after the target audit date.",
            ready_on=last.week_end,
            optimistic=last.week_end,
            pessimistic=last.week_end,
            target=target,
            weeks_used=len(recent),
        )
    if len(recent) < MINIMUM_SNAPSHOTS:
        return Forecast(
            ForecastStatus.NOT_ENOUGH_DATA,
            f"{len(recent)} weekly snapshot{'s' if len(recent) != 1 else ''} so far; "
            f"a forecast needs {MINIMUM_SNAPSHOTS}.",
            target=target,
            weeks_used=len(recent),
        )
    changes = [float(b.percent - a.percent) for a, b in pairwise(recent)]
    rate = statistics.median(changes)
    if rate <= 0:
        return Forecast(
            ForecastStatus.NOT_ENOUGH_DATA,
            "No progress in recent weeks (flat or going down): no ready date can be forecast.",
            weekly_rate=rate,
            target=target,
            weeks_used=len(recent),
        )
    slow, fast = _quartiles(changes)
    last = recent[-1]
    ready_on = _date_at(last, rate)
    optimistic = _date_at(last, max(fast, rate))
    pessimistic = _date_at(last, min(slow, rate))
    assert ready_on is not None
    base = Forecast(
        ForecastStatus.NO_TARGET,
        "Set a target audit date to compare.",
        weekly_rate=rate,
        ready_on=ready_on,
        optimistic=optimistic,
        pessimistic=pessimistic,
        target=target,
        weeks_used=len(recent),
    )
    if target is None:
        return base
    if target < today:
        return replace(
            base,
            status=ForecastStatus.LATE,
            reason="The target audit date has passed before 100 %.",
        )
    if ready_on > target:
        return replace(
            base,
            status=ForecastStatus.LATE,
            reason="At the recent rate readiness reaches 100 % after the target audit date.",
        )
    if pessimistic is None or pessimistic > target:
        return replace(
            base,
            status=ForecastStatus.AT_RISK,
            reason="The forecast is before the target audit date, the slow end of the range "
            "after it.",
        )
    return replace(
        base,
        status=ForecastStatus.ON_TRACK,
        reason="Even at the slow end of the recent range readiness reaches 100 % by the "
        "target date.",
    )
