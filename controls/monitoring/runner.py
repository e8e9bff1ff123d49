"""Running a control test on a worker, at most once at a time and with one recorded outcome.

Tasks ack late, so a worker killed in the middle of a run has its message delivered again. The
runner is idempotent: a finished run is left alone, and the outcome is written in one
transaction under the run's row lock (``run_finish``), so a run has one set of results however
often its message arrives. While a run executes, its worker holds a PostgreSQL advisory lock on
it: a second delivery of the same run while the first is alive is skipped, and a lock that is
gone tells the dispatcher that the worker died.

While the check runs, a thread of the worker refreshes the run's ``heartbeat_at`` every
``CONTROL_TEST_HEARTBEAT_SECONDS``, with an update conditional on the run still running *this*
attempt. The dispatcher hands a running run over once its heartbeat is older than
``CONTROL_TEST_HEARTBEAT_TIMEOUT`` and its lock is gone; an attempt that was handed over can
no longer refresh the heartbeat nor record an outcome (``run_finish(attempt=...)``).
"""

from __future__ import annotations

import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from controls.checks import CheckContext, CheckError, Resource, get_check
from controls.integrations import crypto
from controls.models import RunStatus, TestRun
from controls.monitoring.services import run_finish

logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x7E57  # the advisory-lock key space of test runs ("test")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def run_lock(run_id: int) -> Iterator[bool]:
    """Hold the run's advisory lock for the block; yields False if another session holds it."""
    if not _postgres():  # the embedded default runs a single worker
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, run_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, run_id])


def run_is_locked(run_id: int) -> bool:
    """Whether a live session (a worker executing the run) holds its lock."""
    if not _postgres():
        return True  # cannot tell: never treat a running run as abandoned
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = %s AND objid = %s AND granted)",
            [LOCK_NAMESPACE, run_id],
        )
        return bool(cursor.fetchone()[0])


def beat(run_id: int, attempt: int) -> bool:
    """Refresh the heartbeat of one attempt of a run; False when that attempt is no longer the
    running one (finished, or handed over to another worker)."""
    return bool(
        TestRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, attempts=attempt).update(
            heartbeat_at=timezone.now()
        )
    )


@contextmanager
def heartbeat(run_id: int, attempt: int) -> Iterator[None]:
    """Refresh the run's heartbeat from a thread (with its own database connection) while the
    block runs."""
    stopped = threading.Event()

    def keep_beating() -> None:
        try:
            while not stopped.wait(settings.CONTROL_TEST_HEARTBEAT_SECONDS):
                try:
                    connection.close_if_unusable_or_obsolete()
                    if not beat(run_id, attempt):
                        return
                except Exception:  # the database may be back by the next beat
                    logger.warning("Heartbeat of test run %s failed", run_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=keep_beating, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=30)


def worker_name() -> str:
    return socket.gethostname()


def execute_run(run_id: int, *, worker: str = "") -> str:
    """The body of the ``run_control_test`` task; returns what happened, for the worker log."""
    with run_lock(run_id) as acquired:
        if not acquired:
            return "skipped: another worker is running it"
        with transaction.atomic():
            run = (
                # Lock the run's row only: the integration is an outer join, which PostgreSQL
                # refuses to lock ("FOR UPDATE cannot be applied to the nullable side").
                TestRun.objects.select_for_update(no_key=True, of=("self",))
                .select_related(
                    "control_test__organization",
                    "control_test__control",
                    "control_test__integration",
                )
                .filter(pk=run_id)
                .first()
            )
            if run is None:
                return "skipped: the run no longer exists"
            if run.is_finished:
                return f"skipped: already {run.status}"
            if run.attempts >= settings.CONTROL_TEST_MAX_ATTEMPTS:
                given_up = True
            else:
                given_up = False
                run.status = RunStatus.RUNNING
                run.attempts += 1
                run.started_at = run.heartbeat_at = timezone.now()
                run.worker = (worker or worker_name())[:200]
                if run.attempts > 1:
                    run.log += f"Attempt {run.attempts} (the previous worker stopped).\n"
                run.save(
                    update_fields=[
                        "status",
                        "attempts",
                        "started_at",
                        "heartbeat_at",
                        "worker",
                        "log",
                    ]
                )
        if given_up:
            run_finish(
                run_id=run_id,
                resources=[],
                error=f"The run was interrupted {run.attempts} times (its worker stopped each "
                "time); it was given up.",
            )
            return "error: given up"
        with heartbeat(run_id, run.attempts):
            resources, error, log = _run_check(run)
        finished = run_finish(
            run_id=run_id, attempt=run.attempts, resources=resources, error=error, log=log
        )
        return finished.status if finished else "skipped: finished or handed over meanwhile"


def _run_check(run: TestRun) -> tuple[list[Resource], str, str]:
    test = run.control_test
    lines: list[str] = []

    def log(line: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        lines.append(f"{stamp} {line}")

    check = get_check(test.check_key)
    if check is None:
        return [], f"The check {test.check_key!r} is not known to this version of Attest.", ""
    started = timezone.now()
    try:
        credentials = crypto.decrypt(test.integration.secret) if test.integration else {}
        context = CheckContext(
            organization=test.organization,
            control=test.control,
            parameters=dict(test.parameters),
            integration=test.integration,
            credentials=credentials,
            now=started,
            log=log,
            timeout=min(20.0, max(1.0, check.time_limit / 3)),
        )
        log(f"Running “{check.title}” on {run.worker}.")
        resources = list(check().run(context))
        log(f"{len(resources)} resource(s) checked.")
        return resources, "", "\n".join(lines) + "\n"
    except SoftTimeLimitExceeded:
        error = (
            f"Stopped after {check.time_limit} s: the check did not finish within its time limit."
        )
    except (CheckError, crypto.CredentialsUnreadable) as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:
        logger.exception("Control test run %s failed", run.pk)
        error = f"The check failed unexpectedly: {type(exc).__name__}: {exc}"
        lines.append(traceback.format_exc(limit=8))
    log(error)
    return [], error, "\n".join(lines) + "\n"
