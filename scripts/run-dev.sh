#!/usr/bin/env bash
# `make run`: migrate, load catalogs, seed the demo once, then web + Celery worker + beat on the
# embedded default (SQLite and a filesystem broker: no server needed). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-true}"
PY=.venv/bin/python
PORT="${PORT:-8000}"
DATA_DIR="${ATTEST_DATA_DIR:-var}"
mkdir -p "$DATA_DIR/broker/queue" "$DATA_DIR/broker/processed"

$PY manage.py migrate --noinput
$PY manage.py load_catalogs
$PY manage.py seed_demo

trap 'trap - EXIT INT TERM; kill 0 2>/dev/null' EXIT INT TERM
.venv/bin/celery -A compliance worker --beat --loglevel=INFO --concurrency=2 \
    --schedule "$DATA_DIR/celerybeat-schedule" &
echo
echo "Attest is starting on http://127.0.0.1:$PORT  (worker and beat are running; Ctrl-C stops all)"
$PY manage.py runserver "127.0.0.1:$PORT"
