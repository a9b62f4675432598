#!/usr/bin/env bash
# HTTP baseline: how much GraphQL, then authentication, cost on top of a bare axum route.
#
#   bench/http_baseline.sh [--postgres] [--duration SECS] [--connections N] [--warmup SECS]
#
# Scenarios, all measured in one run with the same load generator (oha), duration and concurrency:
#   a. GET /healthz                      bare axum route (router, middleware, tracing, metrics)
#   b. POST /graphql { __typename }      anonymous GraphQL: JSON parsing, schema execution
#   c. POST /graphql { viewer { … } }    authenticated: session resolution plus three resolvers
# Default database is the embedded SQLite; --postgres uses a throwaway cluster (scripts/pg-cluster.sh)
# and also counts the SQL statements one authenticated request sends.
#
# The load generator and the server share this machine's cores, so absolute figures are a floor;
# the ratios between scenarios are the point.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
export PATH="$HOME/.cargo/bin:$PATH"

POSTGRES=false
DURATION=10
CONNECTIONS=32
WARMUP=3
while [ $# -gt 0 ]; do
  case $1 in
    --postgres) POSTGRES=true ;;
    --duration) DURATION=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "== $*" >&2; }

# --- cleanup: whatever was started is stopped, whatever way the script ends -----------------
WORK=$(mktemp -d /tmp/clientele-bench.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if $POSTGRES; then pg_cluster_stop; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on Ctrl-C too

# --- tools ------------------------------------------------------------------------------------
# oha reports percentiles as JSON and builds from crates.io with the project's toolchain.
if ! command -v oha >/dev/null; then
  log "installing oha (cargo install oha --locked)"
  cargo install oha --locked
fi
for tool in curl jq python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

log "building clientele (release)"
(cd "$ROOT" && cargo build --release -p clientele)
BIN=$CARGO_TARGET_DIR/release/clientele

# --- database and server configuration --------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
export CLIENTELE_SERVER__BIND="127.0.0.1:$PORT"
export CLIENTELE_SERVER__PUBLIC_URL="$URL"
export CLIENTELE_DATA_DIR="$WORK/data"
export CLIENTELE_LOG__FILTER=warn
unset RUST_LOG # it would override the filter above
mkdir -p "$CLIENTELE_DATA_DIR"

if $POSTGRES; then
  # shellcheck source=../scripts/pg-cluster.sh
  . "$ROOT/scripts/pg-cluster.sh"
  pg_cluster_start
  PSQL="$PG_CLUSTER_BIN/psql"
  DB=bench_$$
  "$PSQL" -q -v ON_ERROR_STOP=1 "$CLIENTELE_TEST_PG_ADMIN" -c "CREATE DATABASE $DB"
  # Migrations run as the owner (superuser); the server itself runs as the RLS-bound app role.
  export CLIENTELE_DATABASE__MIGRATION_URL="${CLIENTELE_TEST_PG_ADMIN%/*}/$DB"
  export CLIENTELE_DATABASE__URL="$CLIENTELE_TEST_PG_APP/$DB"
  BACKEND=postgresql
else
  BACKEND=sqlite
fi

# --- tenant and session -----------------------------------------------------------------------
# Bootstrap before serving: it migrates, so the server does not race it on a fresh database.
log "bootstrapping a supplier"
"$BIN" bootstrap --supplier Bench --email bench@bench.test >"$WORK/bootstrap.txt"
SET_PASSWORD=$(sed -n 's/.*set-password?token=\([^[:space:]]*\).*/\1/p' "$WORK/bootstrap.txt" | head -n1)
[ -n "$SET_PASSWORD" ] || { echo "no set-password token in bootstrap output:" >&2; cat "$WORK/bootstrap.txt" >&2; exit 1; }

log "starting the server on $URL ($BACKEND)"
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fs "$URL/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -fs "$URL/readyz" >/dev/null || { echo "server not ready after 60 s" >&2; exit 1; }

gql() { # gql JSON-BODY [curl args…]: POST /graphql, print the response body
  local body=$1; shift
  curl -fsS "$URL/graphql" -H 'content-type: application/json' "$@" -d "$body"
}

REDEEM=$(jq -cn --arg t "$SET_PASSWORD" '{query: "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token } }", variables: {t: $t}}')
SESSION=$(gql "$REDEEM" | jq -r '.data.setPassword.token // empty')
[[ $SESSION == cls_* ]] || { echo "setPassword returned no session token" >&2; exit 1; }
AUTH="authorization: Bearer $SESSION"

ANON_BODY='{"query":"{ __typename }"}'
VIEWER_BODY='{"query":"{ viewer { role user { email } organisation { name } } }"}'

# Check each scenario answers correctly once: a benchmark of error responses measures nothing.
gql "$ANON_BODY" | jq -e '.data.__typename == "Query"' >/dev/null ||
  { echo "anonymous query failed" >&2; exit 1; }
gql "$VIEWER_BODY" -H "$AUTH" | jq -e '.data.viewer.user.email == "bench@bench.test"' >/dev/null ||
  { echo "viewer query failed: $(gql "$VIEWER_BODY" -H "$AUTH")" >&2; exit 1; }

# --- load ---------------------------------------------------------------------------------------
# load NAME oha-args…: warm up (connections, caches, SQLite page cache), then measure.
# Leaves "rps p50_ms p99_ms percent_200" in $WORK/NAME.
load() {
  local name=$1; shift
  log "scenario $name: ${WARMUP}s warm-up, ${DURATION}s at $CONNECTIONS connections"
  oha --no-tui -z "${WARMUP}s" -c "$CONNECTIONS" "$@" >/dev/null
  oha --no-tui -z "${DURATION}s" -c "$CONNECTIONS" --output-format json "$@" >"$WORK/$name.json"
  jq -r '[.summary.requestsPerSec,
          .latencyPercentiles.p50 * 1000, .latencyPercentiles.p99 * 1000,
          100 * (.statusCodeDistribution["200"] // 0) / ([.statusCodeDistribution[]] | add // 1)]
         | @tsv' "$WORK/$name.json" >"$WORK/$name"
}

load healthz "$URL/healthz"
load anon -m POST -H 'content-type: application/json' -d "$ANON_BODY" "$URL/graphql"
load viewer -m POST -H 'content-type: application/json' -H "$AUTH" -d "$VIEWER_BODY" "$URL/graphql"

# --- report -------------------------------------------------------------------------------------
echo
echo "Clientele HTTP baseline: $BACKEND, ${DURATION}s per scenario, $CONNECTIONS connections, $(nproc) cores shared with oha"
printf '%-34s %12s %10s %10s %8s\n' scenario requests/s p50_ms p99_ms 200s
for s in healthz:"(a) GET /healthz" anon:"(b) POST /graphql __typename" viewer:"(c) POST /graphql viewer (auth)"; do
  read -r rps p50 p99 ok <"$WORK/${s%%:*}"
  printf '%-34s %12.0f %10.2f %10.2f %7.1f%%\n' "${s#*:}" "$rps" "$p50" "$p99" "$ok"
done
rps() { cut -f1 "$WORK/$1"; }
awk -v a="$(rps healthz)" -v b="$(rps anon)" -v c="$(rps viewer)" 'BEGIN {
  printf "ratios (requests/s): (b)/(a) = %.3f   (c)/(a) = %.3f   (c)/(b) = %.3f\n", b / a, c / a, c / b }'

# --- SQL cost of one authenticated request ----------------------------------------------------
echo
echo "Session resolution is one indexed statement: tenants/src/auth.rs resolve_session runs a single"
echo "query keyed by the unique index sessions(tenant_id, token_hash), on PostgreSQL the function"
echo "clientele_resolve_session (which also sets the tenant for RLS), on SQLite a three-table join."
if $POSTGRES; then
  # Log every statement only now, after the timed runs, and only for one request of each kind.
  count_statements() { # count_statements LABEL curl-args…
    local label=$1 before lines; shift
    before=$(stat -c %s "$PG_CLUSTER_DIR/log")
    gql "$@" >/dev/null
    sleep 0.5 # the server's log lines reach the file asynchronously
    tail -c +"$((before + 1))" "$PG_CLUSTER_DIR/log" | grep -E 'LOG:  (statement|execute [^:]*):' >"$WORK/statements" || true
    lines=$(wc -l <"$WORK/statements")
    echo "$label: $lines SQL statement(s), of which $(grep -c clientele_resolve_session "$WORK/statements" || true) resolve the session"
    sed -E 's/.*LOG:  (statement|execute [^:]*): /    /' "$WORK/statements" | cut -c1-110
  }
  "$PSQL" -qAt "$CLIENTELE_TEST_PG_ADMIN" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5 # backends pick up the reload between statements
  count_statements "measured, one (b) request" "$ANON_BODY"
  count_statements "measured, one (c) request" "$VIEWER_BODY" -H "$AUTH"
  "$PSQL" -qAt "$CLIENTELE_TEST_PG_ADMIN" -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
else
  echo "(run with --postgres to count the statements of one request from the server's log)"
fi
