#!/usr/bin/env bash
# Issue 6, item 9: a page of 50 clients (with their pets) through GraphQL, without and with
# the pets plugin's computed field `petNames`, in one run, plus compile / cached-load / warm
# call latencies of one plugin call. Embedded SQLite; the guests are built first.
#
#   bench/plugins.sh            (BENCH_SECS=20 for longer runs; BENCH_PROFILE=release for an
#                                optimised host, which costs a full release build)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
CLIENTELE_TEST_PLUGIN_DIR="$(scripts/build-guests)"
export CLIENTELE_TEST_PLUGIN_DIR
# The dev profile already optimises the wasm compiler (Cargo.toml); the guests are optimised
# by it whatever the host profile.
cargo bench --profile "${BENCH_PROFILE:-dev}" -p clientele-tests --bench plugins
