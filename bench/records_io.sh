#!/usr/bin/env bash
# Customer-record I/O: import rate of a 100k-row CSV, then time and peak memory of exporting
# those 100k clients to .xlsx.
#
#   bench/records_io.sh [--postgres] [--rows N]
#
# One run, release build, one tenant:
#   1. a generated CSV (names, e-mail, mobile, birth date, a custom field) goes to POST /imports;
#      the rate is rows / (job finished − job created), and also over the whole wall-clock
#      (upload and parsing included);
#   2. a fresh server process, run under /usr/bin/time -v, serves GET /exports/clients.xlsx once;
#      reported: download time and the process's peak resident memory (startup included).
# Targets: import >= 20,000 clients/s; export < 10 s and < 200 MiB.
# Default database is the embedded SQLite; --postgres uses a throwaway cluster (scripts/pg-cluster.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
export PATH="$HOME/.cargo/bin:$PATH"

POSTGRES=false
ROWS=100000
while [ $# -gt 0 ]; do
  case $1 in
    --postgres) POSTGRES=true ;;
    --rows) ROWS=$2; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "== $*" >&2; }

WORK=$(mktemp -d /tmp/clientele-records-io.XXXXXX)
SERVER_PID=
TIME_PID=
stop_server() {
  # The server is either our direct child, or the child of /usr/bin/time (then stop that child:
  # time reports when it exits).
  local pid=$SERVER_PID
  if [ -n "$TIME_PID" ]; then pid=$(pgrep -P "$TIME_PID" || true); fi
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$TIME_PID" ]; then wait "$TIME_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ]; then wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
  TIME_PID=
}
cleanup() {
  stop_server
  if $POSTGRES; then pg_cluster_stop; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

log "building clientele (release)"
(cd "$ROOT" && cargo build --release -p clientele)
BIN=$CARGO_TARGET_DIR/release/clientele

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
export CLIENTELE_SERVER__BIND="127.0.0.1:$PORT"
export CLIENTELE_SERVER__PUBLIC_URL="$URL"
export CLIENTELE_DATA_DIR="$WORK/data"
export CLIENTELE_LOG__FILTER=warn
unset RUST_LOG
mkdir -p "$CLIENTELE_DATA_DIR"

if $POSTGRES; then
  # shellcheck source=../scripts/pg-cluster.sh
  . "$ROOT/scripts/pg-cluster.sh"
  pg_cluster_start
  DB=records_io_$$
  "$PG_CLUSTER_BIN/psql" -q -v ON_ERROR_STOP=1 "$CLIENTELE_TEST_PG_ADMIN" -c "CREATE DATABASE $DB"
  export CLIENTELE_DATABASE__MIGRATION_URL="${CLIENTELE_TEST_PG_ADMIN%/*}/$DB"
  export CLIENTELE_DATABASE__URL="$CLIENTELE_TEST_PG_APP/$DB"
  BACKEND=postgresql
else
  BACKEND=sqlite
fi

log "bootstrapping a supplier"
"$BIN" bootstrap --supplier Bench --email bench@bench.test >"$WORK/bootstrap.txt"
SET_PASSWORD=$(sed -n 's/.*set-password?token=\([^[:space:]]*\).*/\1/p' "$WORK/bootstrap.txt" | head -n1)
[ -n "$SET_PASSWORD" ] || { echo "no set-password token in bootstrap output" >&2; exit 1; }

start_server() { # start_server [wrapper…]: runs the server (optionally under a wrapper) and waits for it
  if [ $# -gt 0 ]; then
    "$@" "$BIN" serve >"$WORK/server.log" 2>&1 &
    TIME_PID=$!
  else
    "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
  fi
  for _ in $(seq 1 120); do
    curl -fs "$URL/readyz" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "server not ready after 60 s:" >&2
  cat "$WORK/server.log" >&2
  exit 1
}

gql() { # gql JSON-BODY: POST /graphql with the session, print the response body
  curl -fsS "$URL/graphql" -H 'content-type: application/json' -H "authorization: Bearer $SESSION" -d "$1"
}

log "starting the server on $URL ($BACKEND)"
start_server
REDEEM=$(jq -cn --arg t "$SET_PASSWORD" '{query: "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token } }", variables: {t: $t}}')
SESSION=$(curl -fsS "$URL/graphql" -H 'content-type: application/json' -d "$REDEEM" | jq -r '.data.setPassword.token // empty')
[[ $SESSION == cls_* ]] || { echo "setPassword returned no session token" >&2; exit 1; }
gql '{"query":"mutation { createCustomField(input: {key: \"shoeSize\", label: \"Shoe size\", kind: INTEGER}) { userErrors { message } } }"}' \
  | jq -e '.data.createCustomField.userErrors == []' >/dev/null || { echo "custom field creation failed" >&2; exit 1; }

log "generating a $ROWS-row CSV"
python3 - "$ROWS" >"$WORK/clients.csv" <<'PY'
import sys
rows = int(sys.argv[1])
out = sys.stdout
out.write("Last name,First name,E-mail,Mobile,Birth date,Shoe size\n")
last = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
first = ["Anne", "Luc", "Marie", "Paul", "Julie", "Louis", "Emma", "Hugo", "Léa", "Jules"]
for i in range(rows):
    out.write(f"{last[i % 10]}{i},{first[i % 7]},client{i}@bench.test,06 {i // 1000000 % 100:02} {i // 10000 % 100:02} {i // 100 % 100:02} {i % 100:02},"
              f"19{50 + i % 50}-{1 + i % 12:02}-{1 + i % 28:02},{35 + i % 12}\n")
PY
log "CSV: $(du -h "$WORK/clients.csv" | cut -f1)"

# CPU time of the server process (user + system), in seconds: unlike the wall clock, it does not
# depend on what else the shared machine runs.
cpu_seconds() { awk -v tck="$(getconf CLK_TCK)" '{ print ($14 + $15) / tck }' "/proc/$SERVER_PID/stat"; }

log "importing through POST /imports"
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
CPU0=$(cpu_seconds)
T0=$(date +%s.%N)
curl -fsS "$URL/imports?format=CSV&duplicates=SKIP" -H "authorization: Bearer $SESSION" -H 'content-type: text/csv' \
  --data-binary @"$WORK/clients.csv" >"$WORK/job.json"
JOB=$(jq -r .id "$WORK/job.json")
JOB_QUERY=$(jq -cn --arg id "$JOB" '{query: "query($id: ID!) { importJob(id: $id) { status created processed total createdAt finishedAt errors { row field message } } }", variables: {id: $id}}')
while :; do
  gql "$JOB_QUERY" >"$WORK/status.json"
  STATUS=$(jq -r .data.importJob.status "$WORK/status.json")
  [ "$STATUS" != RUNNING ] && break
  sleep 0.1
done
T1=$(date +%s.%N)
CPU1=$(cpu_seconds)
[ "$STATUS" = SUCCEEDED ] || { echo "import $STATUS:" >&2; jq . "$WORK/status.json" >&2; exit 1; }
CREATED=$(jq -r .data.importJob.created "$WORK/status.json")
JOB_SECONDS=$(python3 -c 'import json, sys, datetime as d
job = json.load(open(sys.argv[1]))["data"]["importJob"]
t = lambda s: d.datetime.fromisoformat(s.replace("Z", "+00:00"))
print((t(job["finishedAt"]) - t(job["createdAt"])).total_seconds())' "$WORK/status.json")
WALL_SECONDS=$(python3 -c "print($T1 - $T0)")
stop_server

log "exporting $CREATED clients to .xlsx from a fresh server process under /usr/bin/time -v"
start_server /usr/bin/time -v -o "$WORK/time.txt"
curl -fsS "$URL/exports/clients.xlsx" -H "authorization: Bearer $SESSION" -o "$WORK/clients.xlsx" \
  -w '%{time_total}\n' >"$WORK/export_time.txt"
EXPORT_SECONDS=$(cat "$WORK/export_time.txt")
EXPORT_ROWS=$(python3 - "$WORK/clients.xlsx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(z.read("xl/worksheets/sheet1.xml").count(b"<row ") - 1)
PY
)
stop_server
PEAK_KIB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
EXPORT_CPU=$(awk -F': ' '/User time|System time/ { t += $2 } END { print t }' "$WORK/time.txt")

echo
echo "Clientele records I/O: $BACKEND, $(nproc) cores, release build, load average $LOAD_BEFORE at the start (the cores are shared)"
awk -v n="$CREATED" -v job="$JOB_SECONDS" -v wall="$WALL_SECONDS" -v cpu="$(python3 -c "print($CPU1 - $CPU0)")" 'BEGIN {
  printf "import  %d clients from CSV: job %.2f s = %.0f clients/s (target >= 20000: %s); wall clock incl. upload %.2f s = %.0f clients/s\n",
    n, job, n / job, (n / job >= 20000 ? "met" : "MISSED"), wall, n / wall
  printf "        server CPU time %.2f s = %.0f clients per CPU-second\n", cpu, n / cpu }'
awk -v rows="$EXPORT_ROWS" -v s="$EXPORT_SECONDS" -v kib="$PEAK_KIB" -v cpu="$EXPORT_CPU" -v size="$(stat -c %s "$WORK/clients.xlsx")" 'BEGIN {
  printf "export  %d clients to .xlsx (%.1f MiB): %.2f s (target < 10 s: %s), server peak RSS %.0f MiB (target < 200 MiB: %s)\n",
    rows, size / 1048576, s, (s < 10 ? "met" : "MISSED"), kib / 1024, (kib / 1024 < 200 ? "met" : "MISSED")
  printf "        server CPU time %.2f s (start-up included)\n", cpu }'
