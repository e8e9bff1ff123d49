"""Django's deployment checklist passes with the production settings the README documents."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def readme_production_env() -> dict[str, str]:
    """The variables of the README's production ``.env``, placeholders filled with random values,
    plus what docker-compose.yml derives from them (the database and Redis URLs)."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"cat > \.env <<'ENV'\n(.*?)\nENV\n", readme, re.DOTALL)
    assert block, "README.md lost its production .env example"
    env: dict[str, str] = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        env[name] = secrets.token_urlsafe(50) if value.startswith("<") else value
    assert {"SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS", "BEHIND_TLS_PROXY"} <= set(env)
    env["DATABASE_URL"] = f"postgres://attest:{env.pop('POSTGRES_PASSWORD')}@postgres:5432/attest"
    env["REDIS_URL"] = "redis://redis:6379/0"
    return env


def check_deploy(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ATTEST_DATA_DIR": str(tmp_path / "data"),
        **readme_production_env(),
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deployment_checklist_passes_with_the_documented_production_settings(
    tmp_path: Path,
) -> None:
    result = check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checklist_fails_when_hsts_leaves_out_subdomains(tmp_path: Path) -> None:
    result = check_deploy(tmp_path, SECURE_HSTS_INCLUDE_SUBDOMAINS="false")
    assert result.returncode != 0
    assert "security.W005" in result.stdout + result.stderr


def test_with_preload_chosen_the_checklist_passes_with_nothing_silenced(tmp_path: Path) -> None:
    # Without it, the one silenced check is security.W021 ("preload is off"): see settings.py.
    result = check_deploy(tmp_path, SECURE_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(0 silenced)" in result.stdout
