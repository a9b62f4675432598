# Throwaway PostgreSQL cluster for tests and benchmarks. Source it, then call
# pg_cluster_start / pg_cluster_stop. Exports:
#   CLIENTELE_TEST_PG_ADMIN  superuser URL (creates databases, runs migrations as owner)
#   CLIENTELE_TEST_PG_APP    URL of a login role that is a member of clientele_app (RLS applies)

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)" && return
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql-15" >&2
  return 1
}

# Runs a command as the cluster owner: initdb refuses to run as root.
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

pg_cluster_start() {
  local bin port
  bin=$(pg_bin)
  PG_CLUSTER_DIR=$(mktemp -d /tmp/clientele-pg.XXXXXX)
  chmod 755 "$PG_CLUSTER_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_CLUSTER_DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pg_as_owner "$bin/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  pg_as_owner "$bin/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/log" -w \
    -o "-p $port -k $PG_CLUSTER_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
    start >/dev/null
  PG_CLUSTER_BIN=$bin
  export CLIENTELE_TEST_PG_ADMIN="postgres://postgres@127.0.0.1:$port/postgres"
  export CLIENTELE_TEST_PG_APP="postgres://clientele_login:clientele@127.0.0.1:$port"
  "$bin/psql" -q -v ON_ERROR_STOP=1 "$CLIENTELE_TEST_PG_ADMIN" <<'SQL'
CREATE ROLE clientele_app NOLOGIN;
CREATE ROLE clientele_login LOGIN PASSWORD 'clientele' IN ROLE clientele_app;
SQL
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') test cluster on port $port" >&2
}

pg_cluster_stop() {
  [ -n "${PG_CLUSTER_DIR:-}" ] || return 0
  pg_as_owner "$PG_CLUSTER_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_CLUSTER_DIR"
}
