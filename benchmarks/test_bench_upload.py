"""A 1 GB evidence upload through the API, next to OpenSSL and dd on the same file and disk.

The web process is a real gunicorn worker; its peak resident memory (VmHWM) is read from /proc
after the upload. The floor it is compared to, in the same run: `openssl dgst -sha256` (hashing)
plus `dd ... conv=fsync` (writing the same bytes and flushing them to disk).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from compliance import services as core
from compliance.models import Role
from evidence.models import EvidenceRevision
from tests.factories import ControlFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = int(os.environ.get("BENCH_UPLOAD_MB", "1024")) * 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match
    return int(match.group(1))


def _timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def test_upload_a_gigabyte(tmp_path: Path) -> None:
    data_dir = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
    data_dir.mkdir(parents=True, exist_ok=True)
    big = data_dir / "big.pdf"
    with big.open("wb") as out:
        out.write(b"%PDF-1.7\n")
        chunk = os.urandom(1024 * 1024)
        written = 9
        while written < SIZE:
            piece = chunk[: min(len(chunk), SIZE - written)]
            out.write(piece)
            written += len(piece)
    size_mb = SIZE / (1024 * 1024)

    user = UserFactory()
    organization = OrganizationFactory(slug="bench-upload")
    MembershipFactory(user=user, organization=organization, role=Role.ADMIN)
    control = ControlFactory(organization=organization)
    _, token = core.api_token_create(actor=user, name="bench")

    evidence_root = data_dir / "evidence"
    port = _free_port()
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "compliance.settings",
        "ATTEST_TESTING": "true",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "EVIDENCE_ROOT": str(evidence_root),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "compliance.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "600"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        time.sleep(1.0)
        worker_pid = int(
            subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True, check=True
            ).stdout.split()[0]
        )
        idle_kb = _peak_rss_kb(worker_pid)
        upload_s, body = _timed(
            ["curl", "-sS", "--fail-with-body", "-H", f"Authorization: Bearer {token}",
             "-F", "title=Benchmark", "-F", "kind=file", "-F", f"controls={control.pk}",
             "-F", "effective_date=2026-11-01", "-F", f"file=@{big};type=application/pdf",
             f"http://127.0.0.1:{port}/api/organizations/bench-upload/evidence/"]
        )  # fmt: skip
        peak_kb = _peak_rss_kb(worker_pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    copy = data_dir / "copy.bin"
    hash_s, openssl_out = _timed(["openssl", "dgst", "-sha256", str(big)])
    dd_s, _ = _timed(["dd", f"if={big}", f"of={copy}", "bs=1M", "conv=fsync", "status=none"])
    expected = openssl_out.strip().split()[-1]
    revision = EvidenceRevision.objects.get(item__organization=organization)
    assert revision.sha256 == expected, body
    assert revision.size == SIZE
    assert (evidence_root / revision.storage_key).stat().st_size == SIZE

    def line(label: str, seconds: float) -> None:
        print(f"  {label:<46} {seconds:6.2f} s   {size_mb / seconds:7.1f} MB/s")

    print(f"\nUpload of {size_mb:.0f} MB through POST /api/…/evidence/ (gunicorn, 1 sync worker)")
    line("Attest upload (hash + write + fsync + rows)", upload_s)
    line("openssl dgst -sha256", hash_s)
    line("dd bs=1M conv=fsync (copy + flush)", dd_s)
    line("openssl + dd, one after the other", hash_s + dd_s)
    print(f"  web worker peak RSS: {idle_kb / 1024:.0f} MB idle, {peak_kb / 1024:.0f} MB after")
    for path in (big, copy):
        path.unlink()
    for path in evidence_root.rglob("*"):
        if path.is_file():
            path.unlink()
