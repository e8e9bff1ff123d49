"""Test-session guard rails, loaded before Django is configured.

The suite runs against PostgreSQL and Redis (``make test`` provides them); it refuses to run
against the development SQLite default so that a green run always means the real thing.
"""

import os

os.environ.setdefault("ATTEST_TESTING", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/attest")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
    raise SystemExit(
        "The test suite needs PostgreSQL: set DATABASE_URL=postgres://… or run `make test`."
    )
