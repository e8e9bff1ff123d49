"""The database connection and the broker failing must not lose a user's request or email."""

from __future__ import annotations

import io
from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory


def wsgi_get(path: str) -> int:
    """One request through Django's real WSGI handler (request signals included)."""
    environ = RequestFactory().get(path, HTTP_HOST="127.0.0.1").environ
    environ["wsgi.input"] = io.BytesIO(b"")
    statuses: list[str] = []
    handler = WSGIHandler()
    body = handler(environ, lambda status, headers: statuses.append(status))
    b"".join(body)
    body.close()
    return int(statuses[0].split()[0])


def terminate_backend(pid: int) -> None:
    params = connection.get_connection_params()
    conninfo = {
        k: v for k, v in params.items() if k in {"host", "port", "user", "password", "dbname"}
    }
    with psycopg.connect(**conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def health_checks(request: pytest.FixtureRequest) -> Iterator[bool]:
    enabled: bool = request.param
    original = connection.settings_dict["CONN_HEALTH_CHECKS"]
    connection.settings_dict["CONN_HEALTH_CHECKS"] = enabled
    connection.close()
    yield enabled
    connection.close()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = original


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "health_checks", [True, False], indirect=True, ids=["checks-on", "checks-off"]
)
def test_a_dropped_database_connection_is_replaced_before_the_next_request(
    health_checks: bool,
) -> None:
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0, "connections are reused in production"
    assert wsgi_get("/healthz") == 200
    pid = connection.connection.info.backend_pid  # the persistent connection the request used
    terminate_backend(pid)  # what a PostgreSQL restart or failover does to it

    status = wsgi_get("/healthz")

    if health_checks:  # the setting Attest ships: no user-visible error
        assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
        assert status == 200
        assert connection.connection.info.backend_pid != pid
    else:  # without it the same request fails, which is what the setting prevents
        assert status == 503
