#!/usr/bin/env bash
# `make bench`: run benchmarks/ against the same PostgreSQL and Redis as the tests; prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ATTEST_TASK="make bench"
# shellcheck source=scripts/services.sh
. scripts/services.sh
export ATTEST_TESTING=true
$VENV/bin/pytest benchmarks -q -s -p no:cacheprovider "$@"
