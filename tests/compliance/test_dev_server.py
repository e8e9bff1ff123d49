"""`make run` serves the pages with their stylesheet and scripts: the development server (DEBUG
on, no collectstatic) hands out the static files itself. A real runserver on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.moto_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "ATTEST_TESTING", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DEBUG="true", ATTEST_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="compliance.settings"
    )
    server = subprocess.Popen(  # noqa: S603 - our own interpreter running manage.py
        [
            sys.executable,
            "manage.py",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--skip-checks",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/static/css/attest.css", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"the development server did not start:\n{output}")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_development_server_serves_the_stylesheet_and_scripts(dev_server: str) -> None:
    for name, kind in [("css/attest.css", "text/css"), ("js/attest.js", "javascript")]:
        response = httpx.get(f"{dev_server}/static/{name}", timeout=5)
        assert response.status_code == 200, name
        assert kind in response.headers["content-type"], name
        assert response.content == (ROOT / "static" / name).read_bytes()
    # And those of an installed app (django-htmx), found by the staticfiles finders.
    response = httpx.get(f"{dev_server}/static/django_htmx/django-htmx.js", timeout=5)
    assert response.status_code == 200
    assert b"htmx" in response.content
