#!/usr/bin/env bash
# Issue 7, item 8, and issue 19 (fragments): 1,000 tenants × 1,000 clients (1M documents) in the
# embedded tantivy index: indexing rate, searchClients over HTTP (p50/p99, one- to
# three-character prefixes and fragments inside words and phone numbers; target p99 <= 15 ms)
# beside the same query run on the index, and update → searchable. SQLite, release build.
#
#   bench/search.sh                       (BENCH_TENANTS=200 on a slow machine; BENCH_ROUNDS=100)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
cargo bench -p clientele-tests --bench search
