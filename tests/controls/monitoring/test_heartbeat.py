"""Running runs have a heartbeat; the dispatcher hands over those whose heartbeat stopped and
whose worker's lock is gone, and an attempt that was handed over records nothing.

The real thing (a worker killed with SIGKILL) is in tests/controls/test_reliability.py; these
check the rules on rows, with the real broker (Redis) receiving the handed-over messages.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from controls.checks import Resource
from controls.models import ControlTest, RunStatus, TestResult, TestRun, Trigger
from controls.monitoring import runner, services
from tests.conftest import World, settings_refusal
from tests.controls.live_worker import broker_clear


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    broker_clear(django_settings.CELERY_BROKER_URL)
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    yield client
    client.close()
    broker_clear(django_settings.CELERY_BROKER_URL)


def queued_run_ids(client: redis.Redis) -> list[int]:
    """The runs whose ``run_control_test`` message waits in the broker."""
    ids = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "controls.tasks.run_control_test":
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(args[0])
    return ids


def running(test: ControlTest, *, silent_for: float, attempts: int = 1) -> TestRun:
    now = timezone.now()
    return TestRun.objects.create(
        control_test=test,
        organization=test.organization,
        trigger=Trigger.MANUAL,
        status=RunStatus.RUNNING,
        attempts=attempts,
        started_at=now - dt.timedelta(minutes=30),
        heartbeat_at=now - dt.timedelta(seconds=silent_for),
        worker="gone@host",
    )


def test_a_run_whose_heartbeat_stopped_is_handed_over_and_a_beating_one_is_not(
    world: World,
    make_test: Callable[..., ControlTest],
    broker: redis.Redis,
    settings: Any,
) -> None:
    settings.CONTROL_TEST_HEARTBEAT_TIMEOUT = 90
    test = make_test()
    silent = running(test, silent_for=91)
    beating = running(test, silent_for=30)  # started long ago, but its worker is alive

    report = services.dispatch_due()

    assert report.requeued == 1
    assert queued_run_ids(broker) == [silent.pk]
    silent.refresh_from_db()
    assert silent.status == RunStatus.QUEUED and silent.enqueued_at is not None
    assert "Handed over: no heartbeat from gone@host since " in silent.log
    assert TestRun.objects.get(pk=beating.pk).status == RunStatus.RUNNING
    # Handed over once: the next dispatches find it queued, its message in the broker.
    assert services.dispatch_due().requeued == 0
    assert queued_run_ids(broker) == [silent.pk]


def test_a_run_from_before_heartbeats_is_judged_by_its_start(
    world: World, make_test: Callable[..., ControlTest], broker: redis.Redis, settings: Any
) -> None:
    settings.CONTROL_TEST_HEARTBEAT_TIMEOUT = 90
    old = running(make_test(), silent_for=0)
    TestRun.objects.filter(pk=old.pk).update(heartbeat_at=None)
    assert services.dispatch_due().requeued == 1
    assert queued_run_ids(broker) == [old.pk]


def test_a_handed_over_attempt_can_neither_beat_nor_record_an_outcome(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    run = running(make_test(), silent_for=200, attempts=2)  # attempt 2 took over from 1
    before = run.heartbeat_at

    assert runner.beat(run.pk, attempt=1) is False
    run.refresh_from_db()
    assert run.heartbeat_at == before
    assert services.run_finish(run_id=run.pk, attempt=1, resources=[Resource.passed("x")]) is None
    assert not TestResult.objects.filter(run=run).exists()

    assert runner.beat(run.pk, attempt=2) is True
    run.refresh_from_db()
    assert run.heartbeat_at is not None and before is not None and run.heartbeat_at > before
    finished = services.run_finish(run_id=run.pk, attempt=2, resources=[Resource.passed("x")])
    assert finished is not None and finished.status == RunStatus.PASSED
    assert runner.beat(run.pk, attempt=2) is False  # a finished run has no heartbeat


def test_a_run_started_by_a_worker_has_a_heartbeat_from_the_start(
    world: World, run_it: Callable[[ControlTest], TestRun], make_test: Callable[..., ControlTest]
) -> None:
    run = run_it(make_test())
    assert run.heartbeat_at is not None and run.started_at == run.heartbeat_at


def test_a_heartbeat_timeout_shorter_than_three_beats_is_refused() -> None:
    refusal = settings_refusal(
        {
            **os.environ,
            "CONTROL_TEST_HEARTBEAT_SECONDS": "30",
            "CONTROL_TEST_HEARTBEAT_TIMEOUT": "60",
        }
    )
    assert "CONTROL_TEST_HEARTBEAT_TIMEOUT must be at least three" in refusal
