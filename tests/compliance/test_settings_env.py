"""Configuration readers are strict: a typo stops the process with a message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from compliance.env import env_bool, env_int, env_list, env_str
from tests.conftest import settings_refusal


@pytest.mark.parametrize("value", ["true", "1", "yes", "ON"])
def test_true_spellings(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("X_FLAG", value)
    assert env_bool("X_FLAG", False) is True


def test_an_unknown_boolean_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='ture' is not a boolean"):
        env_bool("X_FLAG", False)


def test_an_unset_or_empty_value_takes_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_FLAG", raising=False)
    assert env_bool("X_FLAG", True) is True
    monkeypatch.setenv("X_FLAG", "")
    assert env_bool("X_FLAG", False) is False


def test_integers_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_NUM", 5, minimum=1)


def test_a_secret_is_read_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "s3cr3t"


def test_both_a_value_and_a_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a")
    monkeypatch.setenv("X_SECRET", "b")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    with pytest.raises(ImproperlyConfigured, match="either X_SECRET or X_SECRET_FILE"):
        env_str("X_SECRET")


def test_an_unreadable_secret_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        env_str("X_SECRET")


def test_lists_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_LIST", "a.example, b.example ,,")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]


def test_settings_refuse_to_start_without_a_secret_key_in_production(tmp_path: Path) -> None:
    import os

    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ATTEST_TESTING", "DEBUG"}
    }
    refusal = settings_refusal({**env, "DEBUG": "false"})
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in refusal


def test_a_bad_beat_override_is_rejected(tmp_path: Path) -> None:
    import os

    refusal = settings_refusal({**os.environ, "BEAT_AUDIT_TRAIL_VERIFY": "daily"})
    assert "BEAT_AUDIT_TRAIL_VERIFY='daily' must be a five-field cron expression" in refusal


@pytest.mark.django_db
def test_attests_connections_run_with_jit_off() -> None:
    """The server here runs with PostgreSQL's default (jit on): the startup option turns it off
    for Attest's own connections (README, "Production")."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_database_jit_server_leaves_the_servers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', '-'))"
    )

    def options(jit: str) -> str:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_JIT": jit}
        done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert options("off") == "-c jit=off"
    assert options("server") == "-"


def test_an_unknown_database_jit_is_refused() -> None:
    refusal = settings_refusal({**os.environ, "DATABASE_JIT": "no"})
    assert "DATABASE_JIT='no' must be one of: off, server" in refusal
