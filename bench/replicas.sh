#!/usr/bin/env bash
# Issue 8, item 8: the client list page of the records benchmark (50 clients with category,
# contacts and a custom field) through nginx, with 1 and with 3 `clientele serve` replicas on
# the same PostgreSQL, in one run; reports the scaling ratio and where the CPU went.
#
#   bench/replicas.sh [--duration SECS] [--connections N] [--warmup SECS]
#
# Data: 100 tenants x 1,000 clients with 2 contacts each (the seed of tests/benches/records_list.rs),
# queried as one supplier. Two nginx instances run side by side: one proxies to replica 0 only,
# the other round-robins over replicas 0, 1 and 2; the same oha load runs against each.
# Everything (oha, nginx, servers, PostgreSQL) shares this machine's cores: the CPU columns say
# how the CPU was spent (per process group, as a share of all cores) and so where it goes per
# request. Measured on a 2-core machine shared with other builds (load ~10): 1 replica
# 231-276 pages/s, 3 replicas 200-314 pages/s, ratio 0.86-1.14, clientele ~30% and PostgreSQL
# ~17% of the machine: no gain from more processes on the same cores; per request about
# 2.2 ms of CPU in clientele and 1.2 ms in PostgreSQL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clientele-target}
export PATH="$HOME/.cargo/bin:$PATH"

DURATION=10
CONNECTIONS=32
WARMUP=3
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "== $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/clientele-bench-replicas.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_cluster_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ------------------------------------------------------------------------------------
command -v oha >/dev/null || { log "installing oha"; cargo install oha --locked; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "nginx is required: apt-get install -y nginx" >&2; exit 1; }
for tool in curl jq python3; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }; done

log "building clientele (release, locked)"
(cd "$ROOT" && cargo build --release --locked --bin clientele)
BIN=$CARGO_TARGET_DIR/release/clientele

# --- database -----------------------------------------------------------------------------------
# shellcheck source=../scripts/pg-cluster.sh
. "$ROOT/scripts/pg-cluster.sh"
pg_cluster_start
PSQL="$PG_CLUSTER_BIN/psql"
DB=bench_replicas
"$PSQL" -q -v ON_ERROR_STOP=1 "$CLIENTELE_TEST_PG_ADMIN" -c "CREATE DATABASE $DB"
OWNER_URL="${CLIENTELE_TEST_PG_ADMIN%/*}/$DB"
export CLIENTELE_DATABASE__URL="$CLIENTELE_TEST_PG_APP/$DB"
export CLIENTELE_DATABASE__MIGRATE_ON_START=false
export CLIENTELE_DATABASE__MAX_CONNECTIONS=32
export CLIENTELE_RETENTION__IN_PROCESS=false
export CLIENTELE_LOG__FILTER=warn
unset RUST_LOG

CLIENTELE_DATA_DIR="$WORK/migrate" CLIENTELE_DATABASE__MIGRATION_URL="$OWNER_URL" "$BIN" migrate
CLIENTELE_DATA_DIR="$WORK/bootstrap" "$BIN" bootstrap --supplier Bench --email bench@bench.test >"$WORK/bootstrap.txt"
SET_PASSWORD=$(sed -n 's/.*set-password?token=\([^[:space:]]*\).*/\1/p' "$WORK/bootstrap.txt" | head -n1)
TENANT=$(sed -n 's/.*(organisation \([0-9a-f-]*\)).*/\1/p' "$WORK/bootstrap.txt" | head -n1)

log "seeding 100 tenants x 1,000 clients"
"$PSQL" -q -v ON_ERROR_STOP=1 "$OWNER_URL" <<SQL
INSERT INTO organisations (id, kind, parent_id, name, status, config_version, created_at, updated_at)
  SELECT gen_random_uuid(), 'customer', '$TENANT', 'Org ' || g, 'active', 0, now(), now() FROM generate_series(1, 99) g;
INSERT INTO categories (tenant_id, id, name, hold_forbidden, created_at, updated_at)
  SELECT id, gen_random_uuid(), 'VIP', false, now(), now() FROM organisations WHERE kind <> 'platform';
INSERT INTO custom_field_definitions (tenant_id, id, entity, key, label, kind, choices, position, required, searchable, active, created_at, updated_at)
  SELECT id, gen_random_uuid(), 'client', 'shoeSize', 'Shoe size', 'integer', '[]', 0, false, false, true, now(), now()
  FROM organisations WHERE kind <> 'platform';
UPDATE organisations SET config_version = config_version + 1;
INSERT INTO clients (tenant_id, id, number, code, kind, last_name, first_name, sort_name, email, language, status,
                     blocked, category_id, account_kind, consent_email, consent_sms, custom_fields, created_at, updated_at)
  SELECT o.id, gen_random_uuid(), g, g::text, 'individual', 'Name' || lpad(g::text, 5, '0'), 'First', 'name' || lpad(g::text, 5, '0') || ' first',
         'c' || g || '@x.test', 'fr', 'active', false, c.id, 'none', 'unknown', 'unknown', json_build_object('shoeSize', 30 + g % 20), now(), now()
  FROM organisations o JOIN categories c ON c.tenant_id = o.id, generate_series(1, 1000) g WHERE o.kind <> 'platform';
INSERT INTO contacts (tenant_id, id, client_id, last_name, email, created_at, updated_at)
  SELECT c.tenant_id, gen_random_uuid(), c.id, 'Contact ' || k, 'k' || k || '.' || c.number || '@x.test', now(), now()
  FROM clients c, generate_series(1, 2) k;
ANALYZE;
SQL

# --- three replicas, two nginx ------------------------------------------------------------------
REPLICA_PORTS=()
REPLICA_PIDS=()
for i in 0 1 2; do
  port=$(free_port)
  CLIENTELE_SERVER__BIND="127.0.0.1:$port" CLIENTELE_DATA_DIR="$WORK/replica$i" \
    "$BIN" serve >"$WORK/replica$i.log" 2>&1 &
  PIDS+=($!)
  REPLICA_PIDS+=($!)
  REPLICA_PORTS+=("$port")
done

nginx_conf() { # nginx_conf NAME PORT UPSTREAM-PORTS…
  local name=$1 port=$2 servers="" p; shift 2
  for p in "$@"; do servers+="    server 127.0.0.1:$p;"$'\n'; done
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/$name/nginx.pid;
error_log $WORK/$name/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/$name/body;
  proxy_temp_path $WORK/$name/proxy;
  fastcgi_temp_path $WORK/$name/fastcgi;
  uwsgi_temp_path $WORK/$name/uwsgi;
  scgi_temp_path $WORK/$name/scgi;
  upstream clientele {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://clientele;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  "$NGINX" -c "$WORK/$name/nginx.conf" -e "$WORK/$name/error.log" &
  PIDS+=($!)
  NGINX_PIDS+=($!)
}
NGINX_PIDS=()
ONE_PORT=$(free_port)
THREE_PORT=$(free_port)
nginx_conf one "$ONE_PORT" "${REPLICA_PORTS[0]}"
nginx_conf three "$THREE_PORT" "${REPLICA_PORTS[@]}"

for url in "http://127.0.0.1:$ONE_PORT" "http://127.0.0.1:$THREE_PORT"; do
  for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$url/readyz" >/dev/null || { echo "$url not ready" >&2; cat "$WORK"/replica*.log >&2; exit 1; }
done
for port in "${REPLICA_PORTS[@]}"; do
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
done

URL="http://127.0.0.1:$ONE_PORT"
REDEEM=$(jq -cn --arg t "$SET_PASSWORD" '{query: "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token } }", variables: {t: $t}}')
SESSION=$(curl -fsS "$URL/graphql" -H 'content-type: application/json' -d "$REDEEM" | jq -r '.data.setPassword.token // empty')
[[ $SESSION == cls_* ]] || { echo "no session token" >&2; exit 1; }
AUTH="authorization: Bearer $SESSION"
LIST='{"query":"{ clients(first: 50) { nodes { id number lastName firstName email category { name } contacts { lastName email } customFields { shoeSize } } } }"}'
for port in "$ONE_PORT" "$THREE_PORT" "${REPLICA_PORTS[@]}"; do
  curl -fsS "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' -H "$AUTH" -d "$LIST" |
    jq -e '(.data.clients.nodes | length) == 50 and (.data.clients.nodes[0].contacts | length) == 2' >/dev/null ||
    { echo "list query failed on port $port" >&2; exit 1; }
done

# --- load and CPU accounting -------------------------------------------------------------------
POSTMASTER=$(head -n1 "$PG_CLUSTER_DIR/data/postmaster.pid")
TICKS=$(getconf CLK_TCK)
cpu_of() { # cpu_of PID…: CPU ticks (user + system, children that exited included) of live processes
  local total=0 pid f
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    f=$(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + $(echo "$f" | awk '{print $12 + $13 + $14 + $15}')))
  done
  echo "$total"
}
# oha runs as this shell's child: once waited for, its CPU shows in the shell's children times.
children_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'; }
groups_cpu() { # prints "postgres clientele nginx" CPU ticks
  local pg nginx
  pg=$(cpu_of "$POSTMASTER" $(pgrep -P "$POSTMASTER" || true))
  local master workers=()
  for master in "${NGINX_PIDS[@]}"; do workers+=($(pgrep -P "$master" || true)); done
  nginx=$(cpu_of "${NGINX_PIDS[@]}" "${workers[@]}")
  echo "$pg $(cpu_of "${REPLICA_PIDS[@]}") $nginx"
}

run() { # run NAME PORT: warm up, then measure; leaves "rps p50 p99 ok pg% app% nginx% oha%" in $WORK/NAME
  local name=$1 port=$2 before after oha_before start end wall
  log "scenario $name: ${WARMUP}s warm-up, ${DURATION}s at $CONNECTIONS connections"
  oha --no-tui -z "${WARMUP}s" -c "$CONNECTIONS" -m POST -H 'content-type: application/json' -H "$AUTH" -d "$LIST" \
    "http://127.0.0.1:$port/graphql" >/dev/null
  before=$(groups_cpu)
  oha_before=$(children_ticks)
  start=$(date +%s%N)
  oha --no-tui -z "${DURATION}s" -c "$CONNECTIONS" --output-format json -m POST -H 'content-type: application/json' \
    -H "$AUTH" -d "$LIST" "http://127.0.0.1:$port/graphql" >"$WORK/result-$name.json"
  end=$(date +%s%N)
  after=$(groups_cpu)
  local oha_ticks=$(( $(children_ticks) - oha_before ))
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { print (b - a) / 1e9 }')
  jq -r '[.summary.requestsPerSec, .latencyPercentiles.p50 * 1000, .latencyPercentiles.p99 * 1000,
          100 * (.statusCodeDistribution["200"] // 0) / ([.statusCodeDistribution[]] | add // 1)] | @tsv' \
    "$WORK/result-$name.json" >"$WORK/result-$name"
  read -r b_pg b_app b_ngx <<<"$before"
  read -r a_pg a_app a_ngx <<<"$after"
  awk -v t="$TICKS" -v w="$wall" -v n="$(nproc)" -v pg=$((a_pg - b_pg)) -v app=$((a_app - b_app)) \
      -v ngx=$((a_ngx - b_ngx)) -v oha="$oha_ticks" \
    'BEGIN { f = 100 / (t * w * n); printf "%.0f\t%.0f\t%.0f\t%.0f\n", pg * f, app * f, ngx * f, oha * f }' >>"$WORK/result-$name"
  paste -s "$WORK/result-$name" >"$WORK/result-$name.row"
}

run one "$ONE_PORT"
run three "$THREE_PORT"

# --- report -------------------------------------------------------------------------------------
echo
echo "Clientele list page (50 clients, category, 2 contacts each, custom field) through nginx:"
echo "1 vs 3 replicas on one PostgreSQL, ${DURATION}s each, $CONNECTIONS connections, $(nproc) cores shared by all"
printf '%-12s %10s %9s %9s %7s   %s\n' replicas requests/s p50_ms p99_ms 200s "CPU % of the machine: postgres / clientele / nginx / oha"
for s in one:1 three:3; do
  read -r rps p50 p99 ok pg app ngx oha <"$WORK/result-${s%%:*}.row"
  printf '%-12s %10.0f %9.2f %9.2f %6.1f%%   %s / %s / %s / %s\n' "${s#*:}" "$rps" "$p50" "$p99" "$ok" "$pg" "$app" "$ngx" "$oha"
done
awk -v a="$(cut -f1 "$WORK/result-one.row")" -v b="$(cut -f1 "$WORK/result-three.row")" \
  'BEGIN { printf "scaling ratio (3 replicas / 1 replica, requests/s): %.2f\n", b / a }'
