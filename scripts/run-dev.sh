#!/usr/bin/env bash
# `make run`: migrate, load catalogs, seed the demo once, then web + Celery worker + beat on the
# embedded default (SQLite and a filesystem broker: no server needed). Ctrl-C stops everything.
# The worker uses a thread pool here: no child processes to orphan or to deadlock on shutdown.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-true}"
PY=.venv/bin/python
PORT="${PORT:-8000}"
# Links in emails point at this server unless SITE_URL says otherwise (a proxy, a public name).
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
DATA_DIR="${ATTEST_DATA_DIR:-var}"
mkdir -p "$DATA_DIR/broker/queue" "$DATA_DIR/broker/processed"

$PY manage.py migrate --noinput
$PY manage.py load_catalogs
case "${ATTEST_SEED_DEMO:-true}" in
    true) $PY manage.py seed_demo ;;
    false) ;;
    *) echo "make run: ATTEST_SEED_DEMO must be true or false, not '$ATTEST_SEED_DEMO'" >&2; exit 2 ;;
esac

.venv/bin/celery -A compliance worker --beat --loglevel=INFO --pool=threads --concurrency=4 \
    --schedule "$DATA_DIR/celerybeat-schedule" &
CELERY_PID=$!
SERVER_PID="" WATCHER_PID=""

stop() {
    trap - EXIT INT TERM
    # The watcher below lives as long as our launcher (make), which waits for us: waiting for
    # every child would wait for ever. Stop it first and wait only for the worker and the server.
    if [ -n "$WATCHER_PID" ]; then
        kill -TERM "$WATCHER_PID" 2>/dev/null || true
    fi
    # Celery's main process stops its own pool; signalling the pool directly can hang it.
    kill -TERM "$CELERY_PID" 2>/dev/null || true
    if [ -n "$SERVER_PID" ]; then
        pkill -TERM -P "$SERVER_PID" 2>/dev/null || true  # the autoreloader's server process
        kill -TERM "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$CELERY_PID" $SERVER_PID 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
# If whatever started us (make, a terminal) goes away without signalling us, stop too.
LAUNCHER=$PPID
( while kill -0 "$LAUNCHER" 2>/dev/null; do sleep 2; done; kill -TERM $$ 2>/dev/null ) &
WATCHER_PID=$!

echo
echo "Attest is starting on http://127.0.0.1:$PORT  (worker and beat are running; Ctrl-C stops all)"
$PY manage.py runserver "127.0.0.1:$PORT" &
SERVER_PID=$!
wait "$SERVER_PID"
