"""Real Celery workers and a throwaway Redis as subprocesses, for the reliability tests and the
throughput benchmark.

A worker runs ``celery -A compliance worker`` (prefork) in a process group of its own, on the
live test database (``DATABASE_URL`` names it) and a Redis broker, with the test-only checks of
``tests.controls.slow_checks`` loaded. It can be stopped politely or killed with SIGKILL, the
way a machine losing power or the OOM killer stops it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; the machine may be loaded, so deadlines are generous."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """The live test database, for a process that is not this one."""
    database = connection.settings_dict
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def broker_clear(url: str) -> None:
    """Forget messages earlier tests left in this broker database: the queue and the messages
    a killed worker never acknowledged (kombu's ``unacked`` hash and its index)."""
    client = redis.Redis.from_url(url)
    try:
        client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


def broker_backlog(url: str) -> int:
    """Messages waiting in the queue plus messages delivered and not yet acknowledged."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.llen("celery")) + int(client.hlen("unacked"))
    finally:
        client.close()


class Worker:
    def __init__(
        self,
        name: str,
        *,
        broker_url: str,
        log_dir: Path,
        evidence_root: Path,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        include: tuple[str, ...] = (),
        loglevel: str = "INFO",
    ) -> None:
        self.name = name
        self.hostname = f"{name}-{os.getpid()}@{socket.gethostname()}"
        self.broker_url = broker_url
        self.log_path = log_dir / f"worker-{name}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "ATTEST_TESTING": "true",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker_url,
            "CELERY_BROKER_URL": broker_url,
            "EVIDENCE_ROOT": str(evidence_root),
            "ATTEST_TEST_EXTRA_CHECK_MODULES": "tests.controls.slow_checks",
            **(env or {}),
        }
        command = [
            sys.executable, "-m", "celery", "-A", "compliance", "worker",
            "--pool", "prefork", "--concurrency", str(concurrency), "-O", "fair",
            "--loglevel", loglevel, "--hostname", self.hostname,
            # Stay out of other workers' way on a shared Redis, and start faster.
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        for module in include:
            command += ["--include", module]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and Celery
            command,
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the parent and its pool children
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90.0) -> Worker:
        """Wait until the worker answers a ping through its broker (whatever its log level).

        The ping goes through an app of its own on the worker's broker: the project's app
        publishes control messages through its producer pool, bound to the default broker."""
        with Celery("attest-ping", broker=self.broker_url, set_as_current=False) as pinger:

            def ready() -> bool:
                if self.process.poll() is not None:
                    raise AssertionError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
                return bool(pinger.control.ping(destination=[self.hostname], timeout=0.5))

            wait_for(ready, f"worker {self.name} to start", timeout)
        return self

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: no warm shutdown, no message acknowledged or rejected."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=30)
        # Pool children outlive a parent that was killed; make sure none is left.
        self._signal_group(signal.SIGKILL)
        self._log.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


class ThrowawayRedis:
    """A Redis of our own on a free port, stopped and started again to play an outage."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",  # noqa: S607
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--logfile", str(self.log_path)],
        )  # fmt: skip

        def answers() -> bool:
            client = redis.Redis(port=self.port, socket_connect_timeout=1)
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False
            finally:
                client.close()

        wait_for(answers, f"redis on port {self.port}", 30)

    def freeze(self) -> None:
        """A hung broker: connections stay open and nothing answers (SIGSTOP)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
