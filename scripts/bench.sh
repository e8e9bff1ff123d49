#!/usr/bin/env bash
# `make bench`: run benchmarks/ against the same PostgreSQL and Redis as the tests; prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ATTEST_TASK="make bench"
# shellcheck source=scripts/services.sh
. scripts/services.sh
export ATTEST_TESTING=true
# The trust page's benchmark compares gunicorn with nginx serving the same bytes (Debian's nginx,
# run by the benchmark itself on a loopback port with a temporary config).
export NGINX="${NGINX:-/usr/sbin/nginx}"
need_package "$NGINX" nginx-light "the trust page benchmark (or set NGINX)"
# `make bench ARGS=benchmarks/test_bench_scale.py` runs that one; without arguments, all of them.
if [ "$#" -eq 0 ]; then set -- benchmarks; fi
$VENV/bin/pytest -q -s -p no:cacheprovider "$@"
