"""When tests run: intervals aligned on the clock, cron in the organization's time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.monitoring.schedule import cron_error, describe, next_slot

UTC = dt.UTC


def test_interval_slots_are_aligned_so_restarts_do_not_shift_them() -> None:
    after = dt.datetime(2026, 12, 1, 10, 7, 30, tzinfo=UTC)
    hourly = next_slot(kind="interval", interval_minutes=60, cron="", time_zone="UTC", after=after)
    assert hourly == dt.datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    # Strictly after: a slot is never returned twice.
    assert next_slot(
        kind="interval", interval_minutes=60, cron="", time_zone="UTC", after=hourly
    ) == dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_cron_follows_local_time_across_a_daylight_saving_change() -> None:
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer (DST began 8 Mar 2026).
    before = dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    first = next_slot(
        kind="cron", interval_minutes=None, cron="0 9 * * *", time_zone="America/New_York",
        after=before,
    )  # fmt: skip
    second = next_slot(
        kind="cron", interval_minutes=None, cron="0 9 * * *", time_zone="America/New_York",
        after=first,  # type: ignore[arg-type]
    )  # fmt: skip
    assert first == dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert second == dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def test_pushed_tests_have_no_slot() -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=UTC)
    assert (
        next_slot(kind="push", interval_minutes=None, cron="", time_zone="UTC", after=now) is None
    )


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 9 * *", "five fields"),
        ("61 9 * * *", "Not a valid cron expression"),
        ("0 9 * * mon-funday", "Not a valid cron expression"),
    ],
)
def test_bad_cron_expressions_say_what_is_wrong(expression: str, problem: str) -> None:
    assert problem in (cron_error(expression) or "")


def test_a_good_cron_expression_has_no_problem() -> None:
    assert cron_error("*/15 6-18 * * 1-5") is None


def test_schedules_read_like_people_say_them() -> None:
    assert describe(kind="interval", interval_minutes=1440, cron="") == "Daily"
    assert describe(kind="interval", interval_minutes=120, cron="") == "Every 2 hours"
    assert describe(kind="interval", interval_minutes=15, cron="") == "Every 15 minutes"
    assert describe(kind="cron", interval_minutes=None, cron="0 7 * * 1") == "Cron 0 7 * * 1"
