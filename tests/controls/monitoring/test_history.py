"""The daily pass rate: closed days rolled up once into a row per day, today counted live, the
same figures either way, by the organization's local day (controls.monitoring.history)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.models import ControlTest, RunStatus, TestRun, TestRunDay, Trigger
from controls.monitoring import history
from controls.tasks import roll_up_test_runs
from tests.conftest import World

pytestmark = pytest.mark.django_db

AUCKLAND = zoneinfo.ZoneInfo("Pacific/Auckland")
# The pages count with the real clock, so the runs are placed around today's local midnight.
NOW = timezone.now()
TODAY = NOW.astimezone(AUCKLAND).date()


def finished(test: ControlTest, at: dt.datetime, status: str) -> TestRun:
    return TestRun.objects.create(
        control_test=test,
        organization=test.organization,
        trigger=Trigger.SCHEDULE,
        status=status,
        started_at=at,
        finished_at=at,
    )


@pytest.fixture
def runs(world: World, make_test: Callable[..., ControlTest]) -> World:
    """Runs around local midnights in Auckland: what UTC calls one day is two there."""
    world.org.time_zone = "Pacific/Auckland"
    world.org.save(update_fields=["time_zone"])
    test = make_test()
    other = make_test(name="Second check")
    local = dt.datetime.combine
    finished(test, local(TODAY - dt.timedelta(days=1), dt.time(23, 30), AUCKLAND), "passed")
    finished(other, local(TODAY - dt.timedelta(days=1), dt.time(0, 10), AUCKLAND), "failed")
    finished(test, local(TODAY, dt.time(0, 30), AUCKLAND), "error")
    finished(other, local(TODAY, dt.time(8, 0), AUCKLAND), "passed")
    finished(test, local(TODAY - dt.timedelta(days=3), dt.time(12, 0), AUCKLAND), "passed")
    finished(test, local(TODAY - dt.timedelta(days=20), dt.time(12, 0), AUCKLAND), "failed")
    # Queued and running runs are not outcomes.
    TestRun.objects.create(control_test=test, organization=world.org, trigger=Trigger.MANUAL)
    return world


def as_dict(counts: list[tuple[dt.date, history.DayCounts]]) -> dict[dt.date, tuple[int, ...]]:
    return {day: (c.total, c.passed, c.failed, c.errored) for day, c in counts if c.total}


EXPECTED = {
    TODAY - dt.timedelta(days=3): (1, 1, 0, 0),
    TODAY - dt.timedelta(days=1): (2, 1, 1, 0),
    TODAY: (2, 1, 0, 1),
}


def test_days_are_the_organizations_local_days(runs: World) -> None:
    counts = history.daily_counts(runs.org, days=14, today=TODAY)

    assert [day for day, _ in counts] == [TODAY - dt.timedelta(days=13 - i) for i in range(14)]
    assert as_dict(counts) == EXPECTED


def test_closed_days_are_rolled_up_once_and_read_back_the_same(runs: World) -> None:
    before = history.daily_counts(runs.org, days=14, today=TODAY)

    stored = history.roll_up(runs.org, now=NOW)

    assert stored == history.ROLL_UP_DAYS  # every closed day of the window, empty ones too
    assert history.roll_up(runs.org, now=NOW) == 0  # idempotent
    rows = {
        r.day: (r.total, r.passed, r.failed, r.errored)
        for r in TestRunDay.objects.filter(organization=runs.org, total__gt=0)
    }
    assert rows == {
        TODAY - dt.timedelta(days=20): (1, 0, 1, 0),
        TODAY - dt.timedelta(days=3): (1, 1, 0, 0),
        TODAY - dt.timedelta(days=1): (2, 1, 1, 0),
    }
    assert not TestRunDay.objects.filter(organization=runs.org, day=TODAY).exists()
    assert history.daily_counts(runs.org, days=14, today=TODAY) == before


def test_a_rolled_up_window_is_read_in_two_queries_whatever_the_runs(runs: World) -> None:
    history.roll_up(runs.org, now=NOW)
    with CaptureQueriesContext(connection) as few:
        history.daily_counts(runs.org, days=14, today=TODAY)
    test = ControlTest.objects.filter(organization=runs.org).first()
    assert test is not None
    for hour in range(48):
        finished(test, NOW - dt.timedelta(hours=hour), "passed")
    TestRunDay.objects.filter(organization=runs.org).delete()
    history.roll_up(runs.org, now=NOW)
    with CaptureQueriesContext(connection) as many:
        history.daily_counts(runs.org, days=14, today=TODAY)

    assert len(few) == len(many) == 2  # the stored days, today's runs


def test_a_closed_day_not_rolled_up_yet_is_counted_from_the_runs_not_written(runs: World) -> None:
    history.roll_up(runs.org, now=NOW)
    TestRunDay.objects.filter(organization=runs.org, day=TODAY - dt.timedelta(days=1)).delete()

    counts = history.daily_counts(runs.org, days=14, today=TODAY)

    assert as_dict(counts) == EXPECTED
    assert not TestRunDay.objects.filter(
        organization=runs.org, day=TODAY - dt.timedelta(days=1)
    ).exists()


def test_the_dashboard_and_the_tests_list_show_the_same_trend_before_and_after(
    runs: World,
) -> None:
    client = runs.client("admin")
    pages = [
        (reverse("dashboard", args=["acme"]), "monitoring"),
        (reverse("control_test_list", args=["acme"]), "summary"),
    ]

    def trends() -> list[list[tuple[dt.date, int, int]]]:
        return [
            [(p.day, p.passed, p.total) for p in client.get(url).context[key].trend]
            for url, key in pages
        ]

    before = trends()
    assert sum(total for _, _, total in before[0]) >= 2  # today's runs at least
    roll_up_test_runs()
    assert trends() == before


def test_the_roll_up_runs_hourly_on_beat() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["test_runs_roll_up"]
    assert entry["task"] == "controls.tasks.roll_up_test_runs"
    assert entry["options"]["expires"] < 3600


def test_a_run_that_is_not_finished_is_not_counted(runs: World) -> None:
    test = ControlTest.objects.filter(organization=runs.org).first()
    assert test is not None
    TestRun.objects.create(
        control_test=test,
        organization=runs.org,
        trigger=Trigger.MANUAL,
        status=RunStatus.RUNNING,
        started_at=NOW,
    )
    assert as_dict(history.daily_counts(runs.org, days=14, today=TODAY)) == EXPECTED


def test_the_demos_past_days_of_test_runs_are_rolled_up_as_beat_would() -> None:
    from compliance import demo

    northwind = demo.seed_demo()
    today = history.local_today(northwind)
    rows = TestRunDay.objects.filter(organization=northwind)
    assert rows.count() == history.ROLL_UP_DAYS
    assert not rows.filter(day=today).exists()
    ran = {r.day: (r.total, r.passed) for r in rows if r.total}
    assert len(ran) >= 5, "the demo's pushed dependency scans ran on several past days"
    counted = history.runs_by_day(northwind, min(ran), today - dt.timedelta(days=1))
    assert ran == {day: (c.total, c.passed) for day, c in counted.items()}
