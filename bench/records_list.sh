#!/usr/bin/env bash
# Issue 4, item 8a: a page of 50 clients with contacts, category and custom fields through
# GraphQL, beside the same data from one hand-written SQL query on the same pool, in one run,
# on a throwaway PostgreSQL holding 100 tenants × 1,000 clients.
#
#   bench/records_list.sh            (BENCH_SECS=20 for longer runs)
# Measured once (release, idle machine, BENCH_SECS=10): GraphQL 686 rps p50 23 ms p99 41 ms; raw SQL
# 3,927 rps p50 3.5 ms p99 13 ms; ratio 0.17 (target >= 0.50, not met).
# 2026-12-04, BENCH_SECS=8, the system allocator and mimalloc back to back on one cluster:
# GraphQL 255 -> 413 rps, p50 60 -> 38 ms, p99 117 -> 68 ms; ratio to raw SQL 0.12 -> 0.18.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
source scripts/pg-cluster.sh
pg_cluster_start
trap pg_cluster_stop EXIT
cargo bench -p clientele-tests --bench records_list
