#!/usr/bin/env bash
# Issue 15 (performance): the console's client list (50 rows) and client page beside the same
# data through GraphQL, p50/p99, in one run on the embedded defaults (SQLite); target: a console
# page costs at most 1.5x its GraphQL answer. And the first page view's weight (HTML, CSS, JS,
# gzip): target under 100 KiB.
#
#   bench/console.sh            (BENCH_SECS=20 BENCH_CONCURRENCY=8 for longer, busier runs)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
cargo bench -p clientele-tests --bench console
