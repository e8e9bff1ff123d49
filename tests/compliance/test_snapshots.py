"""Weekly readiness snapshots (compliance.snapshots): their contents equal readiness as of the
week's end, they are written once, missed weeks are filled, the schedule follows each
organization's clock, the cost does not grow with the organization, and the command refuses
bad input."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compliance.models import ReadinessSnapshot
from compliance.readiness import readiness_as_of
from compliance.snapshots import (
    BACKFILL_WEEKS,
    COUNTS,
    latest_due_week,
    organizations_due_for_snapshot,
    parse_week,
    snapshot_due,
    snapshot_rows,
    snapshots_create,
    week_end,
    week_label,
    week_monday,
)
from controls import services as controls
from controls.models import (
    AdoptedFramework,
    BlockerKind,
    Control,
    ControlRequirement,
    ControlStatus,
    ControlStatusChange,
    Finding,
)
from tests.conftest import World
from tests.controls.test_readiness_as_of import EveryBlocker, _backdate, _grow, stamp
from tests.controls.test_readiness_as_of import every_blocker as every_blocker  # the fixture
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

ZONES = ["Pacific/Auckland", "America/Los_Angeles"]


def rows(organization: Any) -> list[tuple[Any, ...]]:
    return list(
        ReadinessSnapshot.objects.filter(organization=organization)
        .order_by("week", "framework_id")
        .values_list("pk", "framework_id", "week", "computed_at", "percent", "counts")
    )


def backdate_world(world: World, weeks: int) -> dt.datetime:
    """The world's adoption, controls and mappings in place since ``weeks`` weeks ago."""
    at = timezone.now() - dt.timedelta(weeks=weeks)
    org = world.org
    stamp(AdoptedFramework.objects.filter(organization=org), adopted_at=at)
    stamp(Control.objects.filter(organization=org), created_at=at)
    stamp(ControlRequirement.objects.filter(control__organization=org), created_at=at)
    return at


# --- Contents -----------------------------------------------------------------------------------


@pytest.fixture
def blocked(request: pytest.FixtureRequest) -> EveryBlocker:
    """One implemented control per kind of blocker (tests/controls/test_readiness_as_of.py)."""
    scene: EveryBlocker = request.getfixturevalue("every_blocker")
    return scene


def test_a_snapshot_holds_the_readiness_as_of_the_end_of_its_week(blocked: EveryBlocker) -> None:
    world = blocked.world
    org = world.org
    Vendor.objects.create(
        organization=org,
        name="Never reviewed",
        onboarded_on=timezone.now().date() - dt.timedelta(days=10),
    )
    # The current week, as if it had ended: everything made just now is in it.
    monday = week_monday(timezone.localdate(timezone=zoneinfo.ZoneInfo(org.time_zone)))
    later = timezone.now() + dt.timedelta(weeks=2)

    result = snapshots_create(organization=org, weeks=[monday], now=later)

    assert (result.created, result.existing) == (1, 0)
    snapshot = ReadinessSnapshot.objects.get(organization=org)
    at = week_end(org, monday)
    assert snapshot.as_of == at and snapshot.computed_at == later
    expected = readiness_as_of(organization=org, at=at)
    [framework] = expected.frameworks
    assert (
        snapshot.requirements_total,
        snapshot.requirements_ready,
        snapshot.requirements_gaps,
        snapshot.percent,
    ) == (framework.total, framework.ready, framework.gaps, framework.percent)
    assert [(c["code"], c["total"], c["ready"], c["percent"]) for c in snapshot.categories] == [
        (c.category.code, c.total, c.ready, c.percent)
        for c in framework.categories
        if c.category is not None
    ]
    assert snapshot.owners == [
        {
            "owner_id": o.owner_id,
            "name": o.name,
            "total": o.total,
            "open": o.open,
            "overdue": o.overdue,
        }
        for o in expected.framework_owners[world.framework.pk]
    ]
    assert snapshot.owners  # the owner and the admin own controls
    mapped = {c.id for r in framework.requirements for c in r.controls}
    statuses = Counter(expected.controls[pk].status for pk in mapped)
    assert snapshot.controls_by_status == {s.value: statuses.get(s.value, 0) for s in ControlStatus}
    kinds = Counter(
        kind for pk in mapped for kind in {str(b.kind) for b in expected.controls[pk].blockers}
    )
    assert snapshot.controls_by_blocker == {k.value: kinds.get(k.value, 0) for k in BlockerKind}
    # Each control's state then, what "what changed since last week" compares.
    assert snapshot.control_states == {
        str(pk): [
            expected.controls[pk].status,
            int(expected.controls[pk].ready),
            ",".join(sorted({str(b.kind) for b in expected.controls[pk].blockers})),
        ]
        for pk in mapped
    }
    assert snapshot.gap_requirements == sorted(
        r.requirement.pk for r in framework.requirements if not r.controls
    )
    # Every kind of blocker of the fixture shows, each on its control.
    assert all(snapshot.controls_by_blocker[k.value] >= 1 for k in BlockerKind), (
        snapshot.controls_by_blocker
    )
    counts = snapshot.counts
    assert set(counts) == set(COUNTS)
    # Push tests: one erred, three failed (one excepted, one under the deadline rule), one
    # passed; the scheduled scan never ran.
    assert (
        counts["tests_passing"],
        counts["tests_failing"],
        counts["tests_erroring"],
        counts["tests_not_run"],
    ) == (1, 3, 1, 1)
    assert counts["remediations_open"] == Finding.objects.filter(resolved_at__isnull=True).count()
    assert counts["remediations_open"] >= 1
    assert (counts["evidence_overdue"], counts["evidence_due"]) == (1, 0)
    assert counts["people_overdue"] >= 2  # the new starter's checks, the leaver's access
    assert counts["vendors_overdue"] == 1


def test_a_framework_adopted_after_a_week_has_no_snapshot_of_it(world: World) -> None:
    backdate_world(world, 1)  # adopted during last week
    org = world.org
    last = latest_due_week(org, timezone.now() + dt.timedelta(weeks=1))
    created = snapshots_create(
        organization=org,
        weeks=[last - dt.timedelta(weeks=2), last],
        now=timezone.now() + dt.timedelta(weeks=1),
    )
    assert created.created == 1
    assert list(ReadinessSnapshot.objects.values_list("week", flat=True)) == [last]


# --- Written once -------------------------------------------------------------------------------


def test_running_twice_changes_nothing(world: World) -> None:
    backdate_world(world, 5)
    first = snapshot_due(organization=world.org)
    before = rows(world.org)
    assert first.created == len(before) >= 4

    second = snapshot_due(organization=world.org, now=timezone.now() + dt.timedelta(minutes=5))

    assert (second.created, second.existing) == (0, len(before))
    assert rows(world.org) == before  # same rows, same computed_at, same figures


def test_a_change_after_the_snapshot_leaves_it_as_it_was(world: World) -> None:
    backdate_world(world, 3)
    snapshot_due(organization=world.org)
    before = rows(world.org)
    controls.control_update(
        actor=world.users["admin"],
        control=world.unowned_control,
        changes={"status": ControlStatus.NOT_APPLICABLE, "na_justification": "No changes."},
    )
    snapshot_due(organization=world.org)
    assert rows(world.org) == before


# --- Missed weeks -------------------------------------------------------------------------------


def test_missed_weeks_are_filled_and_the_others_left_alone(world: World) -> None:
    backdate_world(world, 6)
    snapshot_due(organization=world.org)
    before = rows(world.org)
    weeks = [row[2] for row in before]
    assert weeks == sorted(weeks) and len(weeks) >= 5
    missed = weeks[1:3]
    ReadinessSnapshot.objects.filter(week__in=missed).delete()  # the worker was down
    ReadinessSnapshot.objects.filter(week=weeks[-1]).delete()

    later = timezone.now() + dt.timedelta(minutes=1)
    result = snapshot_due(organization=world.org, now=later)

    assert result.created == 3
    after = rows(world.org)
    assert [row[2] for row in after] == weeks
    kept = [row for row in before if row[2] not in (*missed, weeks[-1])]
    assert [row for row in after if row[2] not in (*missed, weeks[-1])] == kept
    assert {row[3] for row in after if row[2] in missed} == {later}


def test_filling_goes_back_at_most_twelve_weeks(world: World) -> None:
    backdate_world(world, 30)
    result = snapshot_due(organization=world.org)
    assert result.created == BACKFILL_WEEKS
    weeks = sorted(ReadinessSnapshot.objects.values_list("week", flat=True))
    assert weeks[-1] == latest_due_week(world.org)
    assert weeks[0] == weeks[-1] - dt.timedelta(weeks=BACKFILL_WEEKS - 1)


def test_an_organization_without_a_framework_gets_nothing(world: World) -> None:
    AdoptedFramework.objects.filter(organization=world.org).delete()
    assert snapshot_due(organization=world.org).created == 0
    assert world.org.pk not in organizations_due_for_snapshot()


# --- Weeks and the schedule in two time zones ---------------------------------------------------


@pytest.mark.parametrize("zone_name", ZONES)
def test_the_snapshot_is_due_from_the_organizations_monday_06_00(
    world: World, zone_name: str
) -> None:
    org = world.org
    org.time_zone = zone_name
    org.save(update_fields=["time_zone"])
    zone = zoneinfo.ZoneInfo(zone_name)
    backdate_world(world, 4)
    this_monday = week_monday(timezone.now().astimezone(zone).date())
    before = dt.datetime.combine(this_monday, dt.time(5, 59), zone)
    at = dt.datetime.combine(this_monday, dt.time(6, 0), zone)

    assert latest_due_week(org, before) == this_monday - dt.timedelta(weeks=2)
    assert latest_due_week(org, at) == this_monday - dt.timedelta(weeks=1)
    # The end of a week is Sunday's last instant, local.
    end = week_end(org, this_monday - dt.timedelta(weeks=1))
    assert end.astimezone(zone).replace(tzinfo=None) == dt.datetime.combine(
        this_monday - dt.timedelta(days=1), dt.time.max
    )
    snapshot_due(organization=org, now=before)
    assert org.pk not in organizations_due_for_snapshot(before)
    assert org.pk in organizations_due_for_snapshot(at)
    snapshot_due(organization=org, now=at)
    assert org.pk not in organizations_due_for_snapshot(at)


@pytest.mark.parametrize("zone_name", ZONES)
def test_a_weekday_and_hour_of_its_own(world: World, zone_name: str) -> None:
    org = world.org
    org.time_zone, org.snapshot_weekday, org.snapshot_hour = zone_name, 4, 17
    org.save()
    zone = zoneinfo.ZoneInfo(zone_name)
    this_monday = week_monday(timezone.now().astimezone(zone).date())
    friday = this_monday + dt.timedelta(days=4)
    assert latest_due_week(
        org, dt.datetime.combine(friday, dt.time(16, 59), zone)
    ) == this_monday - dt.timedelta(weeks=2)
    assert latest_due_week(
        org, dt.datetime.combine(friday, dt.time(17), zone)
    ) == this_monday - dt.timedelta(weeks=1)


@pytest.mark.parametrize("zone_name", ZONES)
def test_a_change_at_23_30_on_sunday_is_in_that_week_and_one_at_00_00_monday_in_the_next(
    world: World, zone_name: str
) -> None:
    org = world.org
    org.time_zone = zone_name
    org.save(update_fields=["time_zone"])
    zone = zoneinfo.ZoneInfo(zone_name)
    backdate_world(world, 6)
    this_monday = week_monday(timezone.now().astimezone(zone).date())
    week_a = this_monday - dt.timedelta(weeks=3)
    week_b = week_a + dt.timedelta(weeks=1)
    admin = world.users["admin"]
    for control, when in [
        (world.control, dt.datetime.combine(week_b - dt.timedelta(days=1), dt.time(23, 30), zone)),
        (world.unowned_control, dt.datetime.combine(week_b, dt.time(0, 0, 30), zone)),
    ]:
        controls.control_update(
            actor=admin, control=control, changes={"status": ControlStatus.IMPLEMENTED}
        )
        stamp(ControlStatusChange.objects.filter(control=control), created_at=when)

    snapshots_create(organization=org, weeks=[week_a, week_b])

    a, b = (ReadinessSnapshot.objects.get(week=w) for w in (week_a, week_b))
    assert a.controls_by_status["implemented"] == 1
    assert b.controls_by_status["implemented"] == 2
    assert (a.requirements_ready, b.requirements_ready) == (1, 2)


# --- Cost ---------------------------------------------------------------------------------------


def _snapshot_queries(world: World, monday: dt.date) -> int:
    with CaptureQueriesContext(connection) as captured:
        snapshot_rows(world.org, monday)
    return len(captured)


def test_the_queries_of_one_snapshot_do_not_grow_with_the_organization(
    blocked: EveryBlocker,
) -> None:
    world = blocked.world
    monday = week_monday(timezone.localdate()) - dt.timedelta(weeks=1)
    _grow(world, 2)
    _backdate(world, timezone.now() - dt.timedelta(weeks=5))
    small = _snapshot_queries(world, monday)
    _grow(world, 12, first=2)
    _backdate(world, timezone.now() - dt.timedelta(weeks=5))
    large = _snapshot_queries(world, monday)
    assert small == large
    assert large <= 35


# --- Weeks in words -----------------------------------------------------------------------------


def test_iso_weeks_read_and_print_both_ways() -> None:
    assert parse_week("2026-W48") == dt.date(2026, 11, 23)
    assert week_label(dt.date(2026, 11, 23)) == "2026-W48"
    assert parse_week("2026-W01") == dt.date(2025, 12, 29)  # ISO week 1 starts in December
    for bad in ("2026-48", "2026-W5", "W48", "2026-W54", "2026-W00"):
        with pytest.raises(ValueError, match=r"ISO week|week of that year"):
            parse_week(bad)


# --- The command --------------------------------------------------------------------------------


def command(*args: str) -> str:
    out = StringIO()
    call_command("snapshot_week", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_the_missing_snapshots_and_is_idempotent(world: World) -> None:
    backdate_world(world, 5)
    first = command("--organization", "acme", "--backfill", "3")
    last = week_monday(timezone.localdate()) - dt.timedelta(weeks=1)
    span = f"{week_label(last - dt.timedelta(weeks=2))} to {week_label(last)}"
    assert first.splitlines() == [
        f"acme: {span}: 3 created, 0 already there",
        "3 created, 0 already there",
    ]
    before = rows(world.org)
    second = command("--organization", "acme", "--backfill", "3")
    assert second.splitlines()[-1] == "0 created, 3 already there"
    assert rows(world.org) == before
    assert not ReadinessSnapshot.objects.filter(organization=world.other_org).exists()


def test_the_command_takes_a_past_week(world: World) -> None:
    backdate_world(world, 5)
    week = week_monday(timezone.localdate()) - dt.timedelta(weeks=3)
    output = command("--week", week_label(week))
    assert f"acme: {week_label(week)}: 1 created" in output
    assert "globex" in output  # every organization without --organization
    assert set(ReadinessSnapshot.objects.values_list("week", flat=True)) <= {week}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--organization", "nope"], "No organization with the slug 'nope'."),
        (["--week", "2026-48"], "--week: '2026-48' is not an ISO week: use the form 2026-W48."),
        (["--week", "2026-W54"], "--week: '2026-W54' is not a week of that year."),
        (["--week", "2999-W01"], "--week: 2999-W01 is in the future."),
        (["--backfill", "0"], "--backfill: use a whole number of weeks from 1 to 520, not '0'."),
        (["--backfill", "521"], "--backfill: use a whole number of weeks from 1 to 520"),
        (["--backfill", "two"], "--backfill: use a whole number of weeks from 1 to 520"),
    ],
)
def test_the_command_refuses_bad_input_and_writes_nothing(
    world: World, args: list[str], message: str
) -> None:
    backdate_world(world, 5)
    with pytest.raises(CommandError) as error:
        command(*args)
    assert str(error.value).startswith(message)
    assert not ReadinessSnapshot.objects.exists()


def test_the_command_refuses_the_current_week(world: World) -> None:
    current = week_monday(timezone.localdate())
    with pytest.raises(CommandError, match=r"has not ended yet|is in the future"):
        command("--week", week_label(current))
    assert not ReadinessSnapshot.objects.exists()


def test_the_command_exits_non_zero_with_the_message(world: World) -> None:
    import subprocess
    import sys

    from django.db import connection as db

    settings = db.settings_dict
    env = {
        "PATH": "/usr/bin:/bin",
        "ATTEST_TESTING": "true",
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "snapshot_week", "--backfill", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "--backfill: use a whole number of weeks from 1 to 520" in done.stderr


def test_unrelated_rows_keep_their_history(world: World) -> None:
    """Backdating in these tests moves only what exists: a guard against a silent no-op."""
    at = backdate_world(world, 2)
    assert Control.objects.filter(organization=world.org, created_at=at).count() == 2
    assert ControlRequirement.objects.filter(
        control__organization=world.org, created_at=at
    ).exists()


# --- The hourly tick on a real worker -----------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_tick_fills_missed_weeks_once_on_a_worker_however_often_it_runs() -> None:
    import time

    from celery.contrib.testing.worker import start_worker

    from compliance import tasks
    from compliance.celery import app
    from tests.conftest import build_world

    world = build_world()
    backdate_world(world, 4)  # Acme adopted four weeks ago; Globex this week (nothing due)
    app.control.purge()
    acme = ReadinessSnapshot.objects.filter(organization=world.org)
    expected = len(weeks_due(world))
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        tasks.snapshot_tick.delay()
        deadline = time.monotonic() + 30
        while acme.count() < expected:
            assert time.monotonic() < deadline, "timed out waiting for the worker"
            time.sleep(0.1)
        before = rows(world.org)
        # Everything is there: the tick queues nothing; a second delivery creates nothing.
        tasks.snapshot_tick.delay()
        tasks.readiness_snapshots.delay(world.org.pk)
        time.sleep(3)
        assert rows(world.org) == before
        # A missed week (the worker was down) is filled on the next tick.
        missed = before[1][2]
        ReadinessSnapshot.objects.filter(week=missed).delete()
        tasks.snapshot_tick.delay()
        deadline = time.monotonic() + 30
        while acme.count() < expected:
            assert time.monotonic() < deadline, "timed out waiting for the worker"
            time.sleep(0.1)
    after = rows(world.org)
    assert [row for row in after if row[2] != missed] == [row for row in before if row[2] != missed]
    assert [row[2] for row in after] == [row[2] for row in before]
    assert not ReadinessSnapshot.objects.filter(organization=world.other_org).exists()


def weeks_due(world: World) -> list[dt.date]:
    from compliance.snapshots import weeks_to_fill

    return weeks_to_fill(world.org, latest=latest_due_week(world.org))


def test_the_beat_schedule_runs_the_snapshot_tick_hourly() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["snapshot_tick"]
    assert entry["task"] == "compliance.tasks.snapshot_tick"
    assert entry["options"]["expires"] < 3600
