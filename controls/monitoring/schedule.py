"""When a control test runs next: every N minutes, or a cron expression in the organization's
time zone. Pure functions; the dispatcher (``controls.monitoring.services.dispatch_due``) keeps
``ControlTest.next_run_at`` with them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from cronsim import CronSim, CronSimError

from controls.models import ScheduleKind

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 60 * 24 * 31


def cron_error(expression: str) -> str | None:
    """Why ``expression`` is not a usable five-field cron expression, or None."""
    fields = expression.split()
    if len(fields) != 5:
        return "Give five fields: minute, hour, day of month, month, day of week."
    try:
        CronSim(expression, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except CronSimError as exc:
        return f"Not a valid cron expression: {exc}."
    return None


def next_slot(
    *, kind: str, interval_minutes: int | None, cron: str, time_zone: str, after: dt.datetime
) -> dt.datetime | None:
    """The first slot strictly after ``after`` (aware), or None for tests that are pushed.

    Interval slots are aligned on whole minutes since the epoch, so that a restart does not
    shift them; cron slots are evaluated in the organization's time zone (a daily 09:00 stays at
    09:00 local time across daylight-saving changes).
    """
    if kind == ScheduleKind.PUSH:
        return None
    if kind == ScheduleKind.INTERVAL:
        step = dt.timedelta(minutes=interval_minutes or 60)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        elapsed = (after - epoch) // step
        return epoch + (elapsed + 1) * step
    local = after.astimezone(zoneinfo.ZoneInfo(time_zone))
    # CronSim yields the first match at or after its start; start a second later.
    start = local.replace(microsecond=0) + dt.timedelta(seconds=1)
    return next(CronSim(cron, start)).astimezone(dt.UTC)


def describe(*, kind: str, interval_minutes: int | None, cron: str) -> str:
    if kind == ScheduleKind.PUSH:
        return "Pushed by an outside system"
    if kind == ScheduleKind.INTERVAL:
        minutes = interval_minutes or 60
        if minutes % (60 * 24) == 0:
            days = minutes // (60 * 24)
            return "Daily" if days == 1 else f"Every {days} days"
        if minutes % 60 == 0:
            hours = minutes // 60
            return "Hourly" if hours == 1 else f"Every {hours} hours"
        return f"Every {minutes} minutes"
    return f"Cron {cron}"
