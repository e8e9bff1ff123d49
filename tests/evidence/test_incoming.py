"""Partial uploads left in the incoming folder (a web worker killed mid-upload) are reported by
the integrity sweep and ``verify_evidence``, and deleted by the hourly incoming sweep on beat."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from compliance.services import api_token_create
from compliance.settings import _beat_schedule
from evidence import services, tasks
from evidence.models import EvidenceRevision, IntegrityRun
from tests.conftest import World
from tests.controls.live_worker import database_url, wait_for
from tests.evidence.conftest import add_evidence
from tests.moto_server import free_port

MB = 1024 * 1024


def partial_upload(name: str, size: int, hours_old: float) -> Path:
    """A file as HashingUploadHandler leaves it when its worker dies: in the incoming folder,
    last written ``hours_old`` hours ago."""
    incoming = Path(django_settings.EVIDENCE_INCOMING_DIR)
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / name
    with path.open("wb") as out:
        out.truncate(size)
    when = time.time() - hours_old * 3600
    os.utime(path, (when, when))
    return path


def test_the_incoming_sweep_deletes_dead_uploads_and_keeps_live_ones(world: Any) -> None:
    dead = partial_upload("upload-dead", 31 * MB, hours_old=7)
    live = partial_upload("upload-live", 2 * MB, hours_old=0.1)

    result = tasks.incoming_sweep()

    assert result == {"removed": 1, "freed_bytes": 31 * MB}
    assert not dead.exists()
    assert live.exists()  # it may still be streaming in
    assert tasks.incoming_sweep() == {"removed": 0, "freed_bytes": 0}  # idempotent


def test_the_age_of_a_dead_upload_is_a_setting(world: Any, settings: Any) -> None:
    settings.EVIDENCE_INCOMING_MAX_AGE_HOURS = 1
    dead = partial_upload("upload-dead", MB, hours_old=2)
    assert services.incoming_sweep().removed == 1
    assert not dead.exists()


def test_the_incoming_sweep_leaves_stored_evidence_alone(world: World) -> None:
    add_evidence(world, world.control)
    stored = Path(django_settings.EVIDENCE_ROOT) / EvidenceRevision.objects.get().storage_key
    when = time.time() - 48 * 3600
    os.utime(stored, (when, when))
    assert services.incoming_sweep().removed == 0
    assert stored.exists()


def test_verify_evidence_reports_dead_uploads(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    add_evidence(world, world.control)
    partial_upload("upload-k1ll3d", 31 * MB, hours_old=7)
    partial_upload("upload-streaming", MB, hours_old=0)

    with pytest.raises(CommandError) as raised:
        call_command("verify_evidence")

    assert "1 files checked: 0 missing, 0 altered, 0 orphaned; 1 partial upload(s)" in str(
        raised.value
    )
    err = capsys.readouterr().err
    assert "STALE UPLOAD upload-k1ll3d (31.0 MB, 7 h untouched)" in err
    assert "upload-streaming" not in err
    run = IntegrityRun.objects.get()
    assert (run.stale_uploads, run.status) == (1, IntegrityRun.Status.PROBLEMS)
    assert (Path(django_settings.EVIDENCE_INCOMING_DIR) / "upload-k1ll3d").exists()  # only reported


def test_after_the_sweep_verify_evidence_is_clean_again(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    partial_upload("upload-k1ll3d", MB, hours_old=7)
    tasks.incoming_sweep()
    call_command("verify_evidence")
    assert "0 partial upload(s) left in the incoming folder." in capsys.readouterr().out


def test_the_incoming_sweep_is_on_beat_hourly_and_expires_before_the_next() -> None:
    entry = _beat_schedule()["evidence_incoming_sweep"]
    assert entry["task"] == "evidence.tasks.incoming_sweep"
    assert str(entry["schedule"]) == "<crontab: 29 * * * * (m/h/dM/MY/d)>"
    assert entry["options"] == {"expires": 3000}  # below the hour
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "evidence.tasks.incoming_sweep" in scheduled


# --- the real thing: a gunicorn worker killed in the middle of an upload -----------------------


Server = tuple[int, "subprocess.Popen[bytes]"]


@pytest.fixture
def gunicorn(transactional_db: Any, tmp_path: Path) -> Iterator[Server]:
    """Attest under gunicorn (one sync worker, the production shape) on the live test database,
    with this test's evidence folder; in a process group of its own, killed at the end."""
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("ab")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter running gunicorn
        [sys.executable, "-m", "gunicorn", "compliance.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120"],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "ATTEST_TESTING": "true",
            "DATABASE_URL": database_url(),
            "EVIDENCE_ROOT": str(django_settings.EVIDENCE_ROOT),
            "EVIDENCE_INCOMING_DIR": str(django_settings.EVIDENCE_INCOMING_DIR),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip

    def answers() -> bool:
        if server.poll() is not None:
            raise AssertionError((tmp_path / "gunicorn.log").read_text()[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        wait_for(answers, "gunicorn to listen", timeout=60)
        yield port, server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        log.close()


@pytest.mark.django_db(transaction=True)
def test_a_web_worker_killed_mid_upload_leaves_a_file_that_is_reported_then_swept(
    world: World, gunicorn: Server
) -> None:
    port, server = gunicorn
    _, secret = api_token_create(actor=world.users["owner"], name="Scanner")
    boundary = "attest-boundary"
    fields = {"title": "Scan", "kind": "file", "controls": str(world.control.pk),
              "effective_date": "2026-10-01"}  # fmt: skip
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    tail = f"\r\n--{boundary}--\r\n"
    file_size = 16 * MB
    request = (
        "POST /api/organizations/acme/evidence/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {secret}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + file_size + len(tail)}\r\n\r\n"
    )
    incoming = Path(django_settings.EVIDENCE_INCOMING_DIR)

    def partial_size() -> int:
        files = list(incoming.iterdir()) if incoming.exists() else []
        return files[0].stat().st_size if files else 0

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode() + head.encode() + b"%PDF-1.7\n")
        chunk = b"0" * (64 * 1024)
        for _ in range(4 * MB // len(chunk)):  # a quarter of the file, then the worker dies
            sock.sendall(chunk)
        wait_for(lambda: partial_size() >= 2 * MB, "the upload to reach the disk")
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)

    [left] = list(incoming.iterdir())
    assert left.stat().st_size >= 2 * MB
    assert services.integrity_sweep().stale_uploads == 0  # it could still be streaming in

    # Hours later: reported as a problem, then removed by the hourly sweep.
    when = time.time() - 7 * 3600
    os.utime(left, (when, when))
    run = services.integrity_sweep()
    assert (run.stale_uploads, run.status) == (1, IntegrityRun.Status.PROBLEMS)
    assert f"STALE UPLOAD {left.name} (" in run.log
    size = left.stat().st_size
    swept = services.incoming_sweep()
    assert (swept.removed, swept.freed_bytes) == (1, size)
    assert not left.exists()


@pytest.mark.django_db(transaction=True)
def test_an_upload_the_client_abandons_leaves_no_file(world: World, gunicorn: Server) -> None:
    port, server = gunicorn
    _, secret = api_token_create(actor=world.users["owner"], name="Scanner")
    incoming = Path(django_settings.EVIDENCE_INCOMING_DIR)
    body_head = (
        '--b\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    )
    request = (
        "POST /api/organizations/acme/evidence/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {secret}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {16 * MB}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode() + body_head.encode())
        chunk = b"0" * (64 * 1024)
        for _ in range(4 * MB // len(chunk)):
            sock.sendall(chunk)
        wait_for(
            lambda: incoming.exists() and any(p.stat().st_size >= MB for p in incoming.iterdir()),
            "the upload to reach the disk",
        )
    # The client went away: the worker lives on and keeps nothing of the upload.
    wait_for(lambda: not list(incoming.iterdir()), "the partial file to be removed", timeout=30)
    assert server.poll() is None
