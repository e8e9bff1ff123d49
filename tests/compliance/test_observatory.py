"""The MDN HTTP Observatory grades the sign-in page and a signed-in page A+.

The scanner is the Observatory's own npm package (package.json; ``make install`` runs
``npm ci``), run offline: Attest runs as in production (gunicorn with gunicorn.conf.py, DEBUG
off, collected static files, the README's production settings) behind a loopback TLS front
(tests/tls_proxy.py) whose certificate comes from a throwaway CA.

How the package is made to scan a loopback host, from reading its source:
- its CLI takes a host name and builds ``https://<host>`` and ``http://<host>`` from it, so
  ``localhost:<port>/login/`` scans that port and path (the front answers both schemes there);
- ``bin/wrapper.js`` would point ``NODE_EXTRA_CA_CERTS`` at a CA bundle its install script
  downloads, so ``src/scan.js`` is run directly with the throwaway CA instead (an untrusted
  certificate would cost HSTS and redirection their points);
- Chromium's HSTS preload list, also downloaded at install, is an empty list offline (Makefile).
The scanner cannot sign in; for the signed-in page the front adds the session cookie of a real
sign-in (through the same front) to every request, as a browser would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml
from django.conf import settings

from tests.compliance.test_deploy_checks import readme_production_env
from tests.conftest import World
from tests.factories import PASSWORD
from tests.tls_proxy import Certificates, TlsFront, make_certificates

REPO = Path(__file__).resolve().parents[2]
SCANNER = REPO / "node_modules" / "@mdn" / "mdn-http-observatory" / "src" / "scan.js"

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shared_database_url() -> str:
    """The database this test run uses, for gunicorn to share."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def production_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The README's production settings, with static files collected as the image does."""
    folder = tmp_path_factory.mktemp("production")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "ATTEST_DATA_DIR": str(folder / "data"),
        "STATIC_ROOT": str(folder / "static"),
        **readme_production_env(),
        "REDIS_URL": os.environ["REDIS_URL"],
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    return env


@pytest.fixture
def front(
    world: World, certificates: Certificates, production_env: dict[str, str], tmp_path: Path
) -> Iterator[TlsFront]:
    gunicorn_port = free_port()
    with TlsFront(("127.0.0.1", gunicorn_port), certificates) as front:
        host = f"localhost:{front.port}"
        env = {
            **production_env,
            "DATABASE_URL": shared_database_url(),
            "SITE_URL": f"https://{host}",
            "ALLOWED_HOSTS": "localhost",
            "TRUSTED_PROXIES": "1",
            "BEHIND_TLS_PROXY": "true",
        }
        log = (tmp_path / "gunicorn.log").open("w")
        server = subprocess.Popen(  # noqa: S603  (our own gunicorn, fixed arguments)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{gunicorn_port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "compliance.wsgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", gunicorn_port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            yield front
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


def https(front: TlsFront, certificates: Certificates) -> httpx.Client:
    return httpx.Client(
        base_url=f"https://localhost:{front.port}",
        verify=ssl.create_default_context(cafile=str(certificates.ca)),
        timeout=30,
    )


def sign_in(front: TlsFront, certificates: Certificates, email: str) -> str:
    """Sign in through the front as a person would; the session cookie it got."""
    with https(front, certificates) as client:
        form = client.get("/login/")
        token = form.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login/",
            data={"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD},
            headers={"Referer": f"https://localhost:{front.port}/login/"},
        )
        assert answer.status_code == 302, answer.text[:2000]
        return f"sessionid={client.cookies['sessionid']}"


def observatory(front: TlsFront, certificates: Certificates, path: str) -> dict:
    if not SCANNER.exists():
        pytest.fail("The Observatory is not installed: run `make install` (npm ci).")
    env = {"PATH": os.environ["PATH"], "NODE_EXTRA_CA_CERTS": str(certificates.ca)}
    node = shutil.which("node")
    assert node, "node is needed for the Observatory (apt-get install nodejs npm)"
    result = subprocess.run(  # noqa: S603
        [node, str(SCANNER), f"localhost:{front.port}{path}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def explain(report: dict) -> str:
    lines = [f"grade {report['scan']['grade']}, score {report['scan']['score']}"]
    for name, test in report["tests"].items():
        lines.append(f"  {name}: {test['result']} ({test['scoreModifier']:+})")
    return "\n".join(lines)


def assert_a_plus(report: dict) -> None:
    assert report["scan"]["grade"] == "A+", explain(report)
    failed = [name for name, test in report["tests"].items() if not test["pass"]]
    assert not failed, explain(report)
    # Loopback is on no preload list: the HSTS and redirection points are earned, not given.
    assert report["tests"]["strict-transport-security"]["result"] == (
        "hsts-implemented-max-age-at-least-six-months"
    ), explain(report)
    assert report["tests"]["redirection"]["result"] == "redirection-to-https", explain(report)
    assert report["tests"]["content-security-policy"]["result"] == (
        "csp-implemented-with-no-unsafe-default-src-none"
    ), explain(report)


def test_the_sign_in_page_gets_an_a_plus(front: TlsFront, certificates: Certificates) -> None:
    report = observatory(front, certificates, "/login/")
    assert_a_plus(report)
    assert report["scan"]["statusCode"] == 200


def test_a_signed_in_page_gets_an_a_plus(
    world: World, front: TlsFront, certificates: Certificates
) -> None:
    front.cookie = sign_in(front, certificates, world.users["admin"].email)
    report = observatory(front, certificates, "/o/acme/")
    assert_a_plus(report)
    # The scan saw the dashboard itself, not the sign-in page it would be sent to.
    assert report["scan"]["statusCode"] == 200
    assert "no-store" in report["scan"]["responseHeaders"]["cache-control"]


def test_production_responses_name_no_server_and_keep_static_files_cacheable(
    world: World, front: TlsFront, certificates: Certificates
) -> None:
    session = sign_in(front, certificates, world.users["viewer"].email)
    with https(front, certificates) as client:
        page = client.get("/o/acme/", headers={"Cookie": session})
        assert page.status_code == 200
        assert "server" not in page.headers
        assert "no-store" in page.headers["cache-control"]
        assert "includeSubDomains" in page.headers["strict-transport-security"]
        stylesheet = page.text.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
        static = client.get(stylesheet, headers={"Cookie": session})
        assert static.status_code == 200
        assert "server" not in static.headers
        assert "no-store" not in static.headers.get("cache-control", "")
        assert "max-age" in static.headers["cache-control"]


def test_the_compose_health_check_passes_behind_production_allowed_hosts(front: TlsFront) -> None:
    """docker-compose's web health check asks gunicorn directly, in its container, with the host
    of SITE_URL: a production ALLOWED_HOSTS (here only ``localhost``) refuses ``127.0.0.1``."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    check = compose["services"]["web"]["healthcheck"]["test"]
    assert check[:2] == ["CMD", "python"], check
    port = front.upstream[1]
    command = [
        sys.executable,
        *(a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in check[2:]),
    ]
    host = f"localhost:{front.port}"
    # A fresh worker loads the project on its first request; compose gives it a start period.
    warm = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": host}, timeout=60)
    assert warm.status_code == 200, warm.text
    env = {"PATH": os.environ["PATH"], "SITE_URL": f"https://{host}"}
    result = subprocess.run(  # noqa: S603  (the compose file's own command)
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # What the check used to send is refused by the same server: the test above means something.
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 400
