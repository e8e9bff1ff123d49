#!/usr/bin/env bash
# `make test`: lint, type-check, then the whole suite against PostgreSQL and Redis.
#
# Uses DATABASE_URL / REDIS_URL when set, else the servers on 127.0.0.1 (5432, 6379), else starts
# throwaway ones from the installed binaries and stops them afterwards. Browser tests need
# Debian's Chromium; as root it is installed when missing. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ATTEST_TASK="make test"
# shellcheck source=scripts/services.sh
. scripts/services.sh

echo "make test: database $DATABASE_URL, redis $REDIS_URL, browser $CHROMIUM"
export ATTEST_TESTING=true

$VENV/bin/ruff check .
$VENV/bin/ruff format --check .
$VENV/bin/mypy compliance controls evidence policies people vendors audits trust
$PY manage.py makemigrations --check --dry-run >/dev/null \
    || fail "models changed without a migration: run manage.py makemigrations."
# Two workers (pytest-xdist), each with its own test database, Redis database and data folder
# (tests/settings.py); whole files go to one worker, so a module's fixtures start once.
# TEST_WORKERS=0 runs everything in this process.
$VENV/bin/pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
