#!/usr/bin/env bash
# Issue 17: the neighbours bench (tests/benches/neighbours.rs) — another organisation's reads
# and writes with no plugin load, a well-behaved one, and each hostile load, in one run.
# Issue 6, item 9: a page of 50 clients (with their pets) through GraphQL, without and with
# the pets plugin's computed field `petNames`, in one run, plus compile / cached-load / warm
# call latencies of one plugin call. Embedded SQLite; the guests are built first.
#
#   bench/plugins.sh            (BENCH_SECS=20 for longer runs; BENCH_PROFILE=release for an
#                                optimised host, which costs a full release build)
#
# Measured once here (dev profile, 2 shared cores, SQLite, pets plugin, 50 clients × 2 pets):
#   1 client : page 10.7 ms p50 / 19.1 ms p99 → with petNames 19.4 / 32.2 ms (+69% p99)
#   4 clients: page 32.7 ms p50 / 73.8 ms p99 → with petNames 46.2 / 134.8 ms (+83% p99)
#   the guest call behind one page (store + instance + 1 DB query + call): 4.4 ms p50, 7.8 ms p99
#   compile (cold) 165 ms; cached artifact load 1.2 ms; warm call 0.22 ms p50, 0.31 ms p99
# Release profile, idle machine, one run (BENCH_PROFILE=release BENCH_SECS=10):
#   1 client : page 3.19 ms p50 / 3.66 ms p99 → with petNames 5.45 / 8.03 ms (+119% p99)
#   4 clients: page 6.39 ms p50 / 12.08 ms p99 → with petNames 9.54 / 13.59 ms (+12.6% p99)
#   guest call behind one page 0.85 ms p50, 1.54 ms p99; compile 68.9 ms; cached load 0.20 ms;
#   warm call 0.029 ms p50, 0.056 ms p99
# 2026-12-07, release, BENCH_SECS=8, one run each: the compute loader's 1 ms batching delay taken
# out (a page's ids arrive in one poll; still one guest call per page, tested):
#   1 client : +37.8% p99 / +60.3% p50 -> +25.7% / +35.7%; 4 clients: +42.2% -> +53.6% p99 (noisy:
#   the guest call itself measured 1.43 -> 2.08 ms p50 between the two runs). Target not met.
# 2026-12-08, release, BENCH_SECS=8, one run: 1 client +41.0% p99, 4 clients +90.0% p99 (page
#   4.93 ms p50 alone). The guest call behind a page: 1.95 ms p50, of which the host's read of the
#   page's 100 pets alone is 0.94 ms (printed beside it): SQLite rows cross from sqlx's worker
#   thread one hand-off at a time (perf stat, BENCH_PAGES=0 BENCH_CALLS=3100: 128 context
#   switches per read with sqlx's 50-row buffer, 40 with 1,024). Target not met.
# Neighbours (dev, 8 s): every hostile load <= 1.5x the well-behaved one since the fair turns
#   (32 callers of slow calls: read p99 3.89x -> 1.26x).
# The ≤ 10% p99 target is not met in the dev profile: most of the added time is the host side
# of the call (block_on database read, JSON of 100 records, debug-built sea-orm and serde).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
CLIENTELE_TEST_PLUGIN_DIR="$(scripts/build-guests)"
export CLIENTELE_TEST_PLUGIN_DIR
# The dev profile already optimises the wasm compiler (Cargo.toml); the guests are optimised
# by it whatever the host profile.
cargo bench --profile "${BENCH_PROFILE:-dev}" -p clientele-tests --bench plugins
# Issue 17: another organisation's latency beside each hostile plugin load, and the ratios.
cargo bench --profile "${BENCH_PROFILE:-dev}" -p clientele-tests --bench neighbours
