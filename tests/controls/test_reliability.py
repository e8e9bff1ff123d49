"""Automated control tests survive what production does to them: a worker killed in the middle
of a run, a check that hangs, a check that crashes, and the broker going away.

Each test starts real ``celery -A compliance worker`` subprocesses (prefork, one child) on the
live test database and a real Redis, and watches the run rows from here.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.utils import timezone

from compliance.celery import app
from controls import checks
from controls.models import ControlTest, RunStatus, TestResult, TestRun
from controls.monitoring import runner, services
from evidence.models import EvidenceRevision
from tests.conftest import World, build_world
from tests.controls import slow_checks
from tests.controls.live_worker import (
    ThrowawayRedis,
    Worker,
    broker_backlog,
    broker_clear,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A worker that has to recover a message of a killed worker waits this long for it (seconds);
# the check of the run it recovers takes less, so the new worker never redelivers to itself.
VISIBILITY_TIMEOUT = 10
SLEEP_SECONDS = 6
# Workers beat every second; the dispatcher hands over a run silent for this long.
HEARTBEAT = {"CONTROL_TEST_HEARTBEAT_SECONDS": "1"}
SILENCE_SECONDS = 15


@pytest.fixture
def testing_checks() -> Iterator[None]:
    """The test-only checks, registered in this process for one test (workers load them through
    the test settings)."""
    for check in slow_checks.CHECKS:
        checks.register(check)
    yield
    for check in slow_checks.CHECKS:
        checks._REGISTRY.pop(check.key, None)


@pytest.fixture
def world(transactional_db: Any, testing_checks: None) -> World:
    return build_world()


class Workers:
    """Starts workers on a broker; every one is stopped when the test ends, whatever happens."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Worker] = []

    def start(
        self, name: str, *, broker_url: str | None = None, env: dict[str, str] | None = None
    ) -> Worker:
        worker = Worker(
            name,
            broker_url=broker_url or django_settings.CELERY_BROKER_URL,
            log_dir=self.tmp_path,
            evidence_root=self.tmp_path / "evidence",
            env=env,
        )
        self.started.append(worker)
        return worker.wait_ready()

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.log()[-4000:]}" for w in self.started)


@pytest.fixture
def workers(world: World, tmp_path: Path) -> Iterator[Workers]:
    broker_clear(django_settings.CELERY_BROKER_URL)
    started = Workers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        broker_clear(django_settings.CELERY_BROKER_URL)
        sys.stderr.write(started.logs())  # pytest shows it when the test failed


def make_test(world: World, check_key: str, name: str, **parameters: Any) -> ControlTest:
    return services.control_test_create(
        actor=world.users["admin"],
        control=world.control,
        name=name,
        check_key=check_key,
        parameters=parameters,
    )


def run_now(world: World, test: ControlTest) -> TestRun:
    queued = services.run_now(actor=world.users["admin"], test=test)
    assert queued.enqueued
    return queued.run


def heartbeat_of(run: TestRun) -> dt.datetime:
    beat = TestRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)
    assert beat is not None
    return beat


def status_of(run: TestRun) -> str:
    return TestRun.objects.values_list("status", flat=True).get(pk=run.pk)


def wait_until_finished(run: TestRun, timeout: float = 90.0) -> TestRun:
    wait_for(
        lambda: status_of(run) in {RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR},
        f"run {run.pk} to finish",
        timeout,
    )
    run.refresh_from_db()
    return run


def kill_mid_run(world: World, workers: Workers) -> TestRun:
    """A worker takes a run of a six-second check and is killed (SIGKILL, whole process group)
    while the run is *running*; returns the run, left running with its lock gone."""
    test = make_test(world, "testing.sleep", "Sleeps", seconds=SLEEP_SECONDS)
    doomed = workers.start("doomed")
    run = run_now(world, test)
    wait_for(lambda: status_of(run) == RunStatus.RUNNING, "the run to start")
    doomed.kill()
    # PostgreSQL drops the dead worker's session, and its advisory lock with it.
    wait_for(lambda: not runner.run_is_locked(run.pk), "the dead worker's lock to go")
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.attempts == 1
    return run


def assert_finished_once(run: TestRun) -> None:
    run = wait_until_finished(run)
    # Nothing left to deliver: no second copy of the message is waiting to run it again.
    wait_for(lambda: broker_backlog(django_settings.CELERY_BROKER_URL) == 0, "an empty broker")
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED, run.error
    assert run.attempts == 2
    assert "Attempt 2 (the previous worker stopped)." in run.log
    assert TestRun.objects.filter(control_test=run.control_test).count() == 1
    assert list(TestResult.objects.filter(run=run).values_list("resource_id", flat=True)) == [
        "slept"
    ]
    assert run.passed_count == 1
    assert EvidenceRevision.objects.filter(item__system_key__endswith=":" + str(
        run.control_test_id
    )).count() == 1  # fmt: skip


def test_a_run_whose_worker_is_killed_is_finished_once_by_the_next_worker(
    world: World, workers: Workers
) -> None:
    run = kill_mid_run(world, workers)
    # The killed worker never acknowledged the message: once the visibility timeout has passed,
    # the next worker takes it back from the broker's unacked set and runs it again.
    workers.start("heir", env={"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)})
    assert_finished_once(run)


def test_the_dispatcher_hands_over_a_killed_workers_run_once_its_heartbeat_stops(
    world: World, workers: Workers, settings: Any, tmp_path: Path
) -> None:
    """Intervals shrunk for the test: the worker beats every second, the dispatcher (polled here
    every second, as beat does every minute) waits for 15 s of silence. In production: 15 s and
    90 s, so a dead worker's run moves on within about two and a half minutes."""
    settings.CONTROL_TEST_HEARTBEAT_TIMEOUT = SILENCE_SECONDS
    stop_file = tmp_path / "stop"
    test = make_test(world, "testing.sleep", "Sleeps", seconds=60, stop_file=str(stop_file))
    doomed = workers.start("doomed", env=HEARTBEAT)
    run = run_now(world, test)
    wait_for(lambda: status_of(run) == RunStatus.RUNNING, "the run to start")
    run.refresh_from_db()
    first_beat = run.heartbeat_at
    assert first_beat is not None
    wait_for(lambda: heartbeat_of(run) > first_beat, "the worker's heartbeat while it runs")

    doomed.kill()
    killed_at = timezone.now()
    wait_for(lambda: not runner.run_is_locked(run.pk), "the dead worker's lock to go")
    # Its lock is gone at once; its heartbeat has not been silent long enough yet.
    assert services.dispatch_due().requeued == 0

    handed_over_at = None
    deadline = time.monotonic() + 120
    while handed_over_at is None and time.monotonic() < deadline:
        time.sleep(1)
        if services.dispatch_due().requeued:
            handed_over_at = timezone.now()
    assert handed_over_at is not None, "the run was not handed over within two minutes"
    last_beat = heartbeat_of(run)
    assert handed_over_at - last_beat >= dt.timedelta(seconds=SILENCE_SECONDS)
    assert last_beat <= killed_at + dt.timedelta(seconds=1)  # nobody beat for the dead worker
    assert services.dispatch_due().requeued == 0  # handed over once

    # The heir keeps the default visibility timeout (an hour): only the dispatcher's new
    # message can bring the run to an end within this test.
    stop_file.touch()
    workers.start("heir", env=HEARTBEAT)
    run = wait_until_finished(run)
    assert run.status == RunStatus.PASSED, run.error
    assert run.attempts == 2
    assert "Attempt 2 (the previous worker stopped)." in run.log
    assert TestResult.objects.filter(run=run).count() == 1
    assert TestRun.objects.filter(control_test=test).count() == 1
    assert EvidenceRevision.objects.filter(
        item__system_key__endswith=f":{test.pk}"
    ).count() == 1  # fmt: skip


def test_a_run_alive_on_its_worker_is_not_handed_over_again(
    world: World, workers: Workers, settings: Any, tmp_path: Path
) -> None:
    stop_file = tmp_path / "stop"
    test = make_test(world, "testing.sleep", "Sleeps", seconds=60, stop_file=str(stop_file))
    workers.start("busy")
    run = run_now(world, test)
    wait_for(lambda: status_of(run) == RunStatus.RUNNING, "the run to start")
    settings.CONTROL_TEST_HEARTBEAT_TIMEOUT = 0  # every heartbeat counts as silent
    assert runner.run_is_locked(run.pk)
    assert services.dispatch_due().requeued == 0  # its worker's session holds the lock
    stop_file.touch()
    run = wait_until_finished(run)
    assert run.status == RunStatus.PASSED and run.attempts == 1


def test_a_hanging_check_is_stopped_at_its_time_limit_and_the_worker_goes_on(
    world: World, workers: Workers
) -> None:
    worker = workers.start("patient")
    hang = run_now(world, make_test(world, "testing.hang", "Hangs"))
    hang = wait_until_finished(hang, timeout=60)
    assert hang.status == RunStatus.ERROR
    assert hang.error == ("Stopped after 3 s: the check did not finish within its time limit.")
    assert not hang.results.exists() and hang.passed_count == 0
    assert hang.duration is not None and hang.duration < 30  # the soft limit, not the hard one

    cheap = run_now(world, make_test(world, "testing.cheap", "Cheap"))
    assert wait_until_finished(cheap).status == RunStatus.PASSED
    assert worker.alive


def test_a_check_that_crashes_gives_an_error_run_naming_the_exception_never_a_pass(
    world: World, workers: Workers
) -> None:
    workers.start("sturdy")
    run = wait_until_finished(run_now(world, make_test(world, "testing.boom", "Crashes")))
    assert run.status == RunStatus.ERROR
    assert run.error == (
        "The check failed unexpectedly: ZeroDivisionError: the check divided by zero"
    )
    assert "Traceback" in run.log
    assert not run.results.exists() and run.passed_count == 0 and run.failed_count == 0
    assert run.control_test.last_run_id == run.pk


# --- the broker goes away -----------------------------------------------------------------------


@pytest.fixture
def outage_redis(world: World, tmp_path: Path, settings: Any) -> Iterator[ThrowawayRedis]:
    """A Redis of our own as the broker and cache of this process (a web process configured
    with it) and of the workers the test starts; the test stops and restarts it."""
    server = ThrowawayRedis(tmp_path)
    server.start()
    settings.CELERY_BROKER_URL = server.url
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": server.url}
    }  # fmt: skip
    # The Celery app reads its settings once; a web process started with this broker has an
    # app configured from them, which tasks use while it is the current app.
    web = Celery("attest", set_as_current=False)
    web.config_from_object("django.conf:settings", namespace="CELERY")
    web.set_current()
    try:
        yield server
    finally:
        app.set_current()
        web.close()
        server.stop()


def test_a_broker_outage_loses_no_run_and_runs_missed_slots_once(
    world: World, outage_redis: ThrowawayRedis, workers: Workers
) -> None:
    admin = world.users["admin"]
    workers.start("survivor", broker_url=outage_redis.url)
    warm = run_now(world, make_test(world, "testing.cheap", "Before"))
    assert wait_until_finished(warm).status == RunStatus.PASSED

    outage_redis.stop()

    # (a) The web app keeps serving.
    response = world.client("admin").get(f"/o/{world.org.slug}/")
    assert response.status_code == 200

    # (b) "Run now" answers at once: the run is recorded, queued for the dispatcher.
    manual_test = make_test(world, "testing.cheap", "During")
    started = time.monotonic()
    queued = services.run_now(actor=admin, test=manual_test)
    elapsed = time.monotonic() - started
    assert queued.enqueued is False
    assert elapsed < 5, f"run_now took {elapsed:.1f} s with the broker down"
    manual = queued.run
    manual.refresh_from_db()
    assert manual.status == RunStatus.QUEUED and manual.enqueued_at is None

    # (c) A scheduled test missed several slots meanwhile.
    scheduled = services.control_test_create(
        actor=admin,
        control=world.control,
        name="Every five minutes",
        check_key="testing.cheap",
        interval_minutes=5,
    )
    now = timezone.now()
    ControlTest.objects.filter(pk=scheduled.pk).update(next_run_at=now - dt.timedelta(minutes=31))

    outage_redis.start()
    first = services.dispatch_due()
    second = services.dispatch_due()
    assert (first.created, first.enqueued, first.requeued, first.not_enqueued) == (1, 1, 1, 0)
    assert first.coalesced_slots >= 6
    assert (second.created, second.enqueued, second.requeued, second.not_enqueued) == (0, 0, 0, 0)

    [slot_run] = TestRun.objects.filter(control_test=scheduled)
    assert slot_run.slot is not None
    assert now - dt.timedelta(minutes=5) < slot_run.slot <= now + dt.timedelta(seconds=1)
    assert "earlier slot(s) were missed" in slot_run.log
    scheduled.refresh_from_db()
    assert scheduled.next_run_at is not None and scheduled.next_run_at > now

    # The worker reconnects on its own and finishes both, once each.
    for run in (manual, slot_run):
        run = wait_until_finished(run, timeout=120)
        assert run.status == RunStatus.PASSED, run.error
        assert run.attempts == 1
        assert TestResult.objects.filter(run=run).count() == 1
    assert TestRun.objects.filter(control_test=scheduled).count() == 1


def test_run_now_answers_within_seconds_when_the_broker_hangs(
    world: World, outage_redis: ThrowawayRedis
) -> None:
    test = make_test(world, "testing.cheap", "Hung broker")
    assert services.run_now(actor=world.users["admin"], test=test).enqueued  # connected
    outage_redis.freeze()  # the connection stays open; nothing answers
    try:
        started = time.monotonic()
        queued = services.run_now(actor=world.users["admin"], test=test)
        elapsed = time.monotonic() - started
    finally:
        outage_redis.thaw()
    assert queued.enqueued is False
    assert elapsed < 5, f"run_now took {elapsed:.1f} s with the broker hung"
    queued.run.refresh_from_db()
    assert queued.run.status == RunStatus.QUEUED and queued.run.enqueued_at is None
