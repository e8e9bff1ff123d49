"""Evidence tasks on a real Celery worker and the real Redis broker."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from compliance.celery import app
from evidence import services
from evidence.models import Cadence, EvidenceRevision, IntegrityRun
from evidence.tasks import integrity_sweep, requests_tick
from tests.conftest import build_world
from tests.evidence.conftest import add_evidence

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[None]:
    app.control.purge()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def test_the_tick_opens_occurrences_and_reminds_once(worker: None) -> None:
    world = build_world()
    request = services.request_create(
        actor=world.users["admin"],
        organization=world.org,
        title="Access review",
        cadence=Cadence.ONE_OFF,
        first_due_date=services.organization_today(world.org) + dt.timedelta(days=3),
        owner=world.users["owner"],
        controls=[world.control],
    )
    requests_tick.delay()
    wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].to == ["owner@acme.test"]
    assert request.occurrences.count() == 1
    requests_tick.delay()  # a second run: nothing new
    time.sleep(2)
    assert len(mail.outbox) == 1
    assert request.occurrences.count() == 1


def test_the_integrity_sweep_runs_on_the_worker(worker: None, evidence_dir: Path) -> None:
    world = build_world()
    add_evidence(world, world.control)
    (evidence_dir / EvidenceRevision.objects.get().storage_key).write_bytes(b"changed")
    integrity_sweep.delay()
    wait_for(lambda: IntegrityRun.objects.filter(status=IntegrityRun.Status.PROBLEMS).exists())
    assert IntegrityRun.objects.get().altered == 1
