"""The public trust page, cached, served by gunicorn, next to nginx serving the same bytes as a
static file: requests per second from a small threaded keep-alive client on the same machine.

    make bench ARGS=benchmarks/test_bench_trust_page.py
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import ControlFactory, OrganizationFactory, UserFactory
from tests.vendors.factories import VendorFactory
from trust import services

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_TRUST_SECONDS", "5"))
THREADS = int(os.environ.get("BENCH_TRUST_THREADS", "4"))
NGINX = os.environ.get("NGINX", shutil.which("nginx") or "/usr/sbin/nginx")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def _warm(port: int, path: str) -> None:
    """Until every worker has answered: a worker's first request loads the URLconf, the
    templates and a database connection, which is start-up, not serving (a first run measured
    under half a request per second because every 5 s window was mostly that)."""
    deadline = time.monotonic() + 60
    fast = 0
    while fast < 20 and time.monotonic() < deadline:
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 200, response.status
        fast = fast + 1 if time.monotonic() - started < 0.1 else 0


def _load(port: int, path: str) -> tuple[float, bytes]:
    """Requests per second over SECONDS from THREADS clients; and one body."""
    stop = time.monotonic() + SECONDS
    counts = [0] * THREADS
    errors: list[str] = []

    def client(i: int) -> None:
        while time.monotonic() < stop:
            # A connection per request: gunicorn's sync workers serve one connection at a time,
            # so a client holding one open would starve the others (nginx is measured the same).
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Connection": "close"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{response.status} {response.read()[:300]!r}")
                return
            counts[i] += 1
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert not errors, errors[:5]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    body = conn.getresponse().read()
    return sum(counts) / elapsed, body


def test_cached_trust_page_against_nginx(tmp_path: Path) -> None:
    if not Path(NGINX).exists():
        pytest.fail(f"nginx not found at {NGINX}: scripts/bench.sh installs Debian's package.")
    admin = UserFactory()
    organization = OrganizationFactory(slug="bench-trust", name="Bench Trust")
    controls = [ControlFactory(organization=organization) for _ in range(30)]
    for i in range(5):
        services.trust_category_create(
            actor=admin,
            organization=organization,
            controls=controls[i * 6 : (i + 1) * 6],
            title=f"Category {i}",
            is_published=True,
        )
        services.trust_faq_create(
            actor=admin,
            organization=organization,
            question=f"Q{i}?",
            answer="A.",
            is_published=True,
        )
    for i in range(10):
        VendorFactory(organization=organization, name=f"Sub {i}", is_subprocessor=True)
    services.trust_page_update(
        actor=admin, organization=organization, headline="Bench", security_email="s@bench.test"
    )
    services.trust_page_publish(actor=admin, organization=organization)

    database = connection.settings_dict
    port, nginx_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "compliance.settings",
        "ATTEST_TESTING": "true",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "compliance.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    nginx = None
    try:
        _wait(port)
        _warm(port, "/trust/bench-trust/")
        django_rps, body = _load(port, "/trust/bench-trust/")
        assert b"Category 4" in body and b"Sub 9" in body

        root = tmp_path / "www"
        (root / "trust" / "bench-trust").mkdir(parents=True)
        (root / "trust" / "bench-trust" / "index.html").write_bytes(body)
        config = tmp_path / "nginx.conf"
        config.write_text(
            # Run as root (as in CI), nginx's workers would drop to "nobody", who cannot read
            # pytest's private temporary directory: keep them as the user running the bench.
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"""
worker_processes 2;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen 127.0.0.1:{nginx_port};
        root {root};
        default_type text/html;
        location / {{ index index.html; }}
    }}
}}
"""
        )
        nginx = subprocess.Popen(
            [NGINX, "-c", str(config), "-p", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(nginx_port)
        _warm(nginx_port, "/trust/bench-trust/")
        nginx_rps, static = _load(nginx_port, "/trust/bench-trust/")
        assert static == body
    finally:
        server.terminate()
        server.wait(10)
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
    print(
        f"\nTrust page, cached ({len(body)} bytes), {THREADS} clients, a connection per request, "
        f"{SECONDS:.0f} s each"
    )
    print(f"  gunicorn (2 sync workers): {django_rps:8.0f} requests/s")
    print(f"  nginx, same bytes, static: {nginx_rps:8.0f} requests/s")
    print(f"  ratio nginx / gunicorn:    {nginx_rps / django_rps:8.1f}")
    assert django_rps > 0 and nginx_rps > 0
