#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster and a throwaway Redis on free local ports, runs the given command with
# DATABASE_URL and REDIS_URL pointing at them, then stops and deletes both, whatever the command's outcome.
#   scripts/with-services.sh pytest …
# PORTAL_SERVICES_DIR=/some/dir keeps the PostgreSQL cluster there instead: created on the first run, started again
# (data kept) on the next ones and never deleted — for benchmarks that reuse a loaded 10^6 population
# (`PORTAL_SERVICES_DIR=/var/tmp/bench-pg make bench BENCH_ARGS="--only checks"`, see docs/BENCHMARKS.md).
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 server binaries not found in $PG_BIN" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

keep="${PORTAL_SERVICES_DIR:-}"
if [ -n "$keep" ]; then
  workdir="$keep"
  mkdir -p "$workdir"
else
  workdir="$(mktemp -d /tmp/portal-services.XXXXXX)"
fi
chmod 755 "$workdir"
pgdata="$workdir/pg"
pg_port="$(free_port)"
redis_port="$(free_port)"

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb and postgres refuse to run as root: run them as the postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg=(runuser -u postgres --)
  mkdir -p "$pgdata" && chown postgres "$pgdata" && touch "$pgdata.log" && chown postgres "$pgdata.log"
fi

cleanup() {
  set +e
  [ -n "${redis_pid:-}" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  # A kept cluster is shut down cleanly (its data must survive); a throwaway one is simply killed.
  [ -f "$pgdata/postmaster.pid" ] && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -m "$([ -n "$keep" ] && echo fast || echo immediate)" stop >/dev/null 2>&1
  [ -z "$keep" ] && rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

fresh=1
[ -f "$pgdata/PG_VERSION" ] && fresh=0
# C.UTF-8: byte-order collation (fast, deterministic) and a ctype under which pg_trgm indexes Chinese text.
[ "$fresh" -eq 1 ] && { "${as_pg[@]}" "$PG_BIN/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
  >"$workdir/initdb.log" 2>&1 || { cat "$workdir/initdb.log" >&2; exit 1; }; }
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -l "$pgdata.log" -w -t 60 \
  -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB -c max_connections=200" \
  start >/dev/null || { cat "$pgdata.log" >&2; exit 1; }
[ "$fresh" -eq 1 ] && "$PG_BIN/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -q -c "CREATE DATABASE portal" postgres

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$workdir" >"$workdir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
  sleep 0.1
done

export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/portal"
export REDIS_URL="redis://127.0.0.1:$redis_port/0"
echo "services: PostgreSQL on :$pg_port, Redis on :$redis_port"
set +e
"$@"
status=$?
exit $status
