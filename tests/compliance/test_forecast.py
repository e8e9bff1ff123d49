"""The forecast of the ready date from weekly percents (compliance.forecast, pure)."""

from __future__ import annotations

import datetime as dt

from compliance.forecast import Forecast, ForecastStatus, WeekPercent, forecast

SUNDAY = dt.date(2026, 11, 1)  # the end of the first week
TODAY = dt.date(2026, 12, 14)


def weeks(*percents: int) -> list[WeekPercent]:
    return [WeekPercent(SUNDAY + dt.timedelta(weeks=n), p) for n, p in enumerate(percents)]


def run(*percents: int, target: dt.date | None = dt.date(2027, 6, 30)) -> Forecast:
    return forecast(weeks(*percents), target=target, today=TODAY)


def test_one_snapshot_is_not_enough() -> None:
    result = run(20)
    assert result.status is ForecastStatus.NOT_ENOUGH_DATA
    assert result.ready_on is None
    assert result.reason == "1 weekly snapshot so far; a forecast needs 3."


def test_two_snapshots_are_not_enough_either() -> None:
    result = run(20, 30)
    assert result.status is ForecastStatus.NOT_ENOUGH_DATA
    assert result.reason.startswith("2 weekly snapshots so far")


def test_flat_progress_gives_no_date() -> None:
    result = run(40, 40, 40, 40)
    assert result.status is ForecastStatus.NOT_ENOUGH_DATA
    assert result.weekly_rate == 0 and result.ready_on is None
    assert "No progress" in result.reason


def test_regressing_progress_gives_no_date() -> None:
    result = run(50, 45, 40, 42)
    assert result.status is ForecastStatus.NOT_ENOUGH_DATA
    assert result.weekly_rate is not None and result.weekly_rate < 0
    assert result.ready_on is None


def test_a_steady_rise_forecasts_a_point_date_and_no_spread() -> None:
    # 10 points a week from 40 %: 60 points left, six weeks after the last snapshot.
    result = run(10, 20, 30, 40)
    last = SUNDAY + dt.timedelta(weeks=3)
    assert result.weekly_rate == 10
    assert result.ready_on == last + dt.timedelta(weeks=6)
    assert result.optimistic == result.pessimistic == result.ready_on
    assert result.status is ForecastStatus.ON_TRACK


def test_a_noisy_rise_uses_the_median_and_the_quartiles_for_its_range() -> None:
    # Changes 2, 12, 4, 10, 6 (median 6, quartiles 4 and 10) from 34 %: 66 points left.
    result = run(0, 2, 14, 18, 28, 34)
    last = SUNDAY + dt.timedelta(weeks=5)
    assert result.weekly_rate == 6
    assert result.ready_on == last + dt.timedelta(weeks=11)  # ceil(66 / 6)
    assert result.optimistic == last + dt.timedelta(weeks=7)  # ceil(66 / 10)
    assert result.pessimistic == last + dt.timedelta(weeks=17)  # ceil(66 / 4)
    assert result.weeks_used == 6


def test_only_the_last_six_snapshots_count() -> None:
    # An early burst (0 → 50 in one week) is outside the window.
    result = run(0, 50, 51, 52, 53, 54, 55)
    assert result.weekly_rate == 1
    assert result.weeks_used == 6


def test_at_risk_when_the_slow_end_of_the_range_passes_the_target() -> None:
    last = SUNDAY + dt.timedelta(weeks=5)
    target = last + dt.timedelta(weeks=12)  # between the forecast (11) and pessimistic (17)
    result = run(0, 2, 14, 18, 28, 34, target=target)
    assert result.status is ForecastStatus.AT_RISK


def test_late_when_the_forecast_is_after_the_target() -> None:
    last = SUNDAY + dt.timedelta(weeks=5)
    target = last + dt.timedelta(weeks=10)
    result = run(0, 2, 14, 18, 28, 34, target=target)
    assert result.status is ForecastStatus.LATE
    assert result.ready_on is not None and result.ready_on > target


def test_late_once_the_target_has_passed_without_reaching_100() -> None:
    result = run(10, 20, 30, 40, target=TODAY - dt.timedelta(days=1))
    assert result.status is ForecastStatus.LATE
    assert result.reason == "The target audit date has passed before 100 %."


def test_already_at_100_is_ready_on_the_last_snapshot() -> None:
    result = run(80, 90, 100)
    assert result.status is ForecastStatus.READY
    assert result.ready_on == SUNDAY + dt.timedelta(weeks=2)


def test_already_at_100_after_the_target_is_late() -> None:
    result = run(80, 90, 100, target=SUNDAY)
    assert result.status is ForecastStatus.LATE


def test_without_a_target_date_there_is_a_forecast_but_no_verdict() -> None:
    result = run(10, 20, 30, target=None)
    assert result.status is ForecastStatus.NO_TARGET
    assert result.ready_on == SUNDAY + dt.timedelta(weeks=2 + 7)
    assert result.status.label == "No target audit date"


def test_the_order_of_the_input_does_not_matter() -> None:
    data = weeks(10, 20, 30, 40)
    assert forecast(list(reversed(data)), target=None, today=TODAY) == forecast(
        data, target=None, today=TODAY
    )
