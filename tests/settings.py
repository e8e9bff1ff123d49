"""Test settings: the project's one settings module, with the test services as defaults.

pytest-django imports this before any conftest, so the defaults below apply to a bare
``pytest`` too. The suite runs against PostgreSQL and Redis only (``make test`` starts them when
they are not running); it refuses the development SQLite default so a green run means the real
thing.
"""

import atexit
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("ATTEST_TESTING", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/attest")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
# pytest-xdist (`make test` runs two workers, each with its own test database, named by
# pytest-django): each worker also gets its own Redis database (broker, cache, throttle counts) and
# its own data folder. Processes a worker starts (a Celery worker, gunicorn) inherit both through
# the environment, and ATTEST_TEST_WORKER keeps them from being shifted twice.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER and os.environ.get("ATTEST_TEST_WORKER") != _WORKER:
    os.environ["ATTEST_TEST_WORKER"] = _WORKER
    _redis = urlsplit(os.environ["REDIS_URL"])
    _db = (int(_redis.path.strip("/") or 0) + int(_WORKER.removeprefix("gw"))) % 16
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_db}"))
    os.environ.pop("ATTEST_TEST_DATA_DIR", None)
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The suite never writes into the working copy's data (var/: the demo's evidence, cache, broker):
# every default path points into a folder of this test process's own, removed when it exits. Each
# test also gets its own evidence root (tests/conftest.py), and the session fails if var/ changed.
# Processes the tests start with these settings (a worker, gunicorn) share the folder through the
# environment, and keep the evidence folder a test hands them (EVIDENCE_ROOT).
_OWNS_DATA_DIR = "ATTEST_TEST_DATA_DIR" not in os.environ
if _OWNS_DATA_DIR:
    os.environ["ATTEST_TEST_DATA_DIR"] = tempfile.mkdtemp(prefix="attest-test-data-")
os.environ["ATTEST_DATA_DIR"] = os.environ["ATTEST_TEST_DATA_DIR"]

from compliance.env import env_list  # noqa: E402 - after the environment above
from compliance.settings import *  # noqa: E402, F403

if _OWNS_DATA_DIR:
    atexit.register(shutil.rmtree, os.environ["ATTEST_TEST_DATA_DIR"], ignore_errors=True)

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":  # noqa: F405
    raise SystemExit(
        "The test suite needs PostgreSQL: set DATABASE_URL=postgres://… or run `make test`."
    )

# A worker started by the reliability tests and the benchmark also loads their test-only checks
# (testing.sleep, testing.hang, testing.cheap); the suite itself registers them per test.
CONTROL_TEST_EXTRA_CHECK_MODULES = env_list("ATTEST_TEST_EXTRA_CHECK_MODULES", [])
# The web checks' tests run real servers on loopback; one test turns this off to see the refusal.
WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES = True
