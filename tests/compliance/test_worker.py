"""Email goes out through a real Celery worker on the real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection

from compliance import services
from compliance.celery import app
from compliance.models import OutboundEmail, Role
from compliance.tasks import email_flush_outbox
from tests.conftest import build_world

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


def test_an_invitation_email_is_sent_by_the_worker_after_commit(worker: None) -> None:
    world = build_world()
    invitation = services.invitation_create(
        actor=world.users["admin"],
        organization=world.org,
        email="new@example.test",
        role=Role.MEMBER,
    )
    wait_for(lambda: len(mail.outbox) == 1)
    [message] = mail.outbox
    assert message.to == ["new@example.test"]
    assert "/invite/" in message.body
    email = OutboundEmail.objects.get(template="invitation")
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).sent_at is not None)
    email.refresh_from_db()
    assert email.text_body == "" and email.attempts == 1
    assert invitation.email == "new@example.test"


def enqueue_with_broker_down(email_id: int) -> subprocess.CompletedProcess[str]:
    """A separate process whose broker is unreachable tries to hand the email to the workers."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "compliance.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # nothing listens there
    }
    code = (
        "import django; django.setup(); from compliance.emails import email_enqueue; "
        f"email_enqueue({email_id}); print('queued-later')"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_email_queued_while_the_broker_was_down_is_sent_by_the_sweep(worker: None) -> None:
    email = OutboundEmail.objects.create(
        to=["late@example.test"], subject="Hi", text_body="Body", template="test"
    )
    result = enqueue_with_broker_down(email.pk)
    assert result.returncode == 0, result.stderr  # the web request would not fail
    assert "queued-later" in result.stdout
    assert "stays in the outbox" in result.stderr
    assert OutboundEmail.objects.get(pk=email.pk).sent_at is None
    assert mail.outbox == []

    OutboundEmail.objects.filter(pk=email.pk).update(created_at=email.created_at.replace(year=2001))
    email_flush_outbox.delay()  # what beat runs every few minutes
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).sent_at is not None)
    assert [m.to for m in mail.outbox] == [["late@example.test"]]


def test_sending_the_same_email_twice_delivers_it_once(worker: None) -> None:
    email = OutboundEmail.objects.create(
        to=["once@example.test"], subject="Once", text_body="x", template="test"
    )
    from compliance.tasks import email_send

    email_send.delay(email.pk)
    email_send.delay(email.pk)  # a redelivered message after a worker crash
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).sent_at is not None)
    time.sleep(0.5)
    assert len(mail.outbox) == 1


def test_a_task_for_a_deleted_email_does_nothing(worker: None) -> None:
    from compliance.tasks import email_send

    email_send.delay(987654321)
    sentinel = OutboundEmail.objects.create(
        to=["after@example.test"], subject="S", text_body="x", template="t"
    )
    email_send.delay(sentinel.pk)  # processed after the first one (solo pool, one queue)
    wait_for(lambda: OutboundEmail.objects.get(pk=sentinel.pk).sent_at is not None)
    assert [m.to for m in mail.outbox] == [["after@example.test"]]
