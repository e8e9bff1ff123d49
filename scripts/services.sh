#!/usr/bin/env bash
# Sourced by test.sh and bench.sh: makes PostgreSQL, Redis and Chromium available.
#
# Uses DATABASE_URL / REDIS_URL when set, else the servers on 127.0.0.1 (5432, 6379), else starts
# throwaway ones from the installed binaries and stops them on exit. Chromium is Debian's package;
# as root it is installed when missing.
VENV=.venv
PY=$VENV/bin/python
TMP="$(mktemp -d "${TMPDIR:-/tmp}/attest-test.XXXXXX")"
PG_STARTED="" REDIS_STARTED=""

cleanup() {
    if [ -n "$PG_STARTED" ]; then
        $PG_AS "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [ -n "$REDIS_STARTED" ] && [ -f "$TMP/redis.pid" ]; then
        kill "$(cat "$TMP/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
fail() { echo "$ATTEST_TASK: $*" >&2; exit 2; }

# --- PostgreSQL -------------------------------------------------------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
    if port_open 127.0.0.1 5432; then
        export DATABASE_URL="postgres://postgres@127.0.0.1:5432/attest"
    else
        PG_BIN="$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1 || true)")"
        [ -x "$PG_BIN/initdb" ] || fail "PostgreSQL is not running on 127.0.0.1:5432 and no initdb was found. Install PostgreSQL (apt-get install postgresql) or set DATABASE_URL."
        PG_AS=""
        mkdir -p "$TMP/pg"
        if [ "$(id -u)" = 0 ]; then
            id postgres >/dev/null 2>&1 || fail "running as root needs a 'postgres' user to own a throwaway PostgreSQL."
            chown postgres "$TMP" "$TMP/pg"
            PG_AS="runuser -u postgres --"
        fi
        PG_PORT=55432
        echo "$ATTEST_TASK: starting a throwaway PostgreSQL on 127.0.0.1:$PG_PORT"
        $PG_AS "$PG_BIN/initdb" -D "$TMP/pg" -U postgres --auth=trust >/dev/null
        $PG_AS "$PG_BIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg.log" -w \
            -o "-p $PG_PORT -k $TMP -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
        PG_STARTED=1
        export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/attest"
    fi
fi

# --- Redis ------------------------------------------------------------------------------------
if [ -z "${REDIS_URL:-}" ]; then
    if port_open 127.0.0.1 6379; then
        export REDIS_URL="redis://127.0.0.1:6379/1"
    else
        command -v redis-server >/dev/null || fail "Redis is not running on 127.0.0.1:6379 and redis-server was not found. Install Redis (apt-get install redis-server) or set REDIS_URL."
        REDIS_PORT=56379
        echo "$ATTEST_TASK: starting a throwaway Redis on 127.0.0.1:$REDIS_PORT"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
            --daemonize yes --pidfile "$TMP/redis.pid" --dir "$TMP" --logfile "$TMP/redis.log"
        for _ in $(seq 50); do port_open 127.0.0.1 "$REDIS_PORT" && break; sleep 0.1; done
        REDIS_STARTED=1
        export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
    fi
fi

# --- Debian packages the tests run: Chromium (browser journeys), pdftotext (the PDF reports) ---
need_package() {  # need_package BINARY PACKAGE WHY
    [ -x "$1" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "$ATTEST_TASK: installing Debian's $2 package for $3"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; } \
            || fail "could not install $2 with apt-get."
    else
        fail "$1 is missing: install Debian's $2 package ($3)."
    fi
}
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
need_package "$CHROMIUM" chromium "the browser tests (or set CHROMIUM)"
need_package /usr/bin/pdftotext poppler-utils "the tests that read the PDF reports"

