"""`make run` as a person runs it: scripts/run-dev.sh on the embedded default (SQLite, a
filesystem broker), a real runserver, Celery worker and beat. Emailed links name the port it
serves on, and a SIGTERM stops the script and everything it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.moto_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DevRun:
    process: subprocess.Popen[bytes]
    base: str
    port: int
    env: dict[str, str]
    output: Path

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def _children_of_the_run(data_dir: Path, port: int) -> list[str]:
    """Processes still alive that this run started: its runserver and its Celery worker."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = next(
                line for line in (proc / "status").read_text().splitlines() if line[:6] == "State:"
            )
        except (OSError, StopIteration):
            continue
        if "Z (zombie)" in state:
            continue
        if f"127.0.0.1:{port}" in cmdline or str(data_dir / "celerybeat-schedule") in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.fixture
def dev_run(tmp_path: Path) -> Iterator[DevRun]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "ATTEST_TESTING", "DJANGO_SETTINGS_MODULE")
        and not key.startswith(("SITE_URL", "EMAIL_"))
    }
    env.update(PORT=str(port), ATTEST_DATA_DIR=str(tmp_path / "data"), ATTEST_SEED_DEMO="false")
    output = tmp_path / "run.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - the project's own script
            [str(ROOT / "scripts" / "run-dev.sh")],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so the clean-up below can reach whatever it left behind
        )
    run = DevRun(process, f"http://127.0.0.1:{port}", port, env, output)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{run.base}/login/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run did not start:\n{run.log()[-4000:]}")
            time.sleep(0.5)
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        for line in _children_of_the_run(tmp_path / "data", port):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)


def _request_password_reset(run: DevRun, email: str) -> None:
    with httpx.Client(base_url=run.base, timeout=10) as client:
        form = client.get("/password-reset/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token, form.text[:500]
        response = client.post(
            "/password-reset/",
            data={"csrfmiddlewaretoken": token.group(1), "email": email},
            headers={"Referer": f"{run.base}/password-reset/"},
        )
        assert response.status_code == 302, response.text[:500]


def test_make_run_mails_links_to_its_own_port_and_stops_on_sigterm(dev_run: DevRun) -> None:
    subprocess.run(
        [".venv/bin/python", "manage.py", "createsuperuser", "--noinput"],
        cwd=ROOT,
        env={
            **dev_run.env,
            "DEBUG": "true",
            "DJANGO_SUPERUSER_EMAIL": "dana@example.test",
            "DJANGO_SUPERUSER_PASSWORD": "a-long-enough-passphrase",
        },
        check=True,
        capture_output=True,
    )
    _request_password_reset(dev_run, "dana@example.test")

    # The worker sends the email (console backend: the script's own output).
    link = re.compile(r"(https?://[^/\s]+)/password-reset/[^\s]+/[^\s]+/")
    deadline = time.monotonic() + 60
    while not (found := link.search(dev_run.log())):
        assert time.monotonic() < deadline, f"no reset email:\n{dev_run.log()[-4000:]}"
        time.sleep(0.5)
    assert found.group(1) == f"http://127.0.0.1:{dev_run.port}"

    dev_run.process.send_signal(signal.SIGTERM)
    try:
        code = dev_run.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("make run ignored SIGTERM for 30 s")
    assert code == 128 + signal.SIGTERM
    data_dir = Path(dev_run.env["ATTEST_DATA_DIR"])
    deadline = time.monotonic() + 15
    while left := _children_of_the_run(data_dir, dev_run.port):
        assert time.monotonic() < deadline, f"still running after SIGTERM: {left}"
        time.sleep(0.5)
