#!/usr/bin/env bash
# Build times of the workspace's own crates (dependencies already built): a "cold" build of every
# workspace crate, then the incremental rebuild after a one-line change in the records domain.
# Prints seconds; run it on a quiet machine, before and after a restructuring, in one session.
#   bench/build-times.sh [records-file-to-touch]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}"
file="${1:-records/src/clients/service.rs}"
[ -f "$file" ] || file=core/src/clients/service.rs   # before the split
crates=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))')
cargo build --quiet --bin clientele          # dependencies in place
for c in $crates; do cargo clean --quiet -p "$c"; done
start=$(date +%s.%N); cargo build --quiet --bin clientele; end=$(date +%s.%N)
echo "workspace crates, cold: $(echo "$end - $start" | bc) s"
cp "$file" "$file.bak"; trap 'mv "$file.bak" "$file"' EXIT
echo "// build-times probe $(date +%s%N)" >> "$file"
start=$(date +%s.%N); cargo build --quiet --bin clientele; end=$(date +%s.%N)
echo "one-line change in $file: $(echo "$end - $start" | bc) s"
