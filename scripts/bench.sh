#!/usr/bin/env bash
# The benchmark: the service's GET and PATCH /me/ under wrk, side by side with PostgreSQL's own limit
# under pgbench, in one run. See docs/benchmarks.md.
#
#   scripts/bench.sh            full run: 10,000 users, 20 s per measurement; writes docs/benchmarks.md
#   scripts/bench.sh --smoke    a few seconds, 200 users, nothing written (CI keeps the command working)
#
# Settings (environment): BENCH_USERS, BENCH_SECONDS, BENCH_CONNECTIONS (64), BENCH_PG_CLIENTS (16).
# BENCH_SERVER=path measures another iam-server binary (an A/B against an older build: the table
# is printed, not written to docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
if $smoke; then
  users=${BENCH_USERS:-200}; seconds=${BENCH_SECONDS:-1}
else
  users=${BENCH_USERS:-10000}; seconds=${BENCH_SECONDS:-20}
fi
connections=${BENCH_CONNECTIONS:-64}
pg_clients=${BENCH_PG_CLIENTS:-16}

. scripts/pg-private.sh
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --quiet -p iam-server -p iam-bench
server=${BENCH_SERVER:-target/release/iam-server}
seeder=target/release/iam-bench

work=$(mktemp -d)
secret="bench-$(date +%s%N)"
db="iam_bench_$$"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  pg_private_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL: a private cluster with its default (durable) settings, so that pgbench and the
# service are measured on the same server in the same run.
pg_private_start
pg_url="postgres://postgres:$PGPASSWORD@127.0.0.1:$PGPORT/$db"
psql_admin() { psql -d postgres -qAtc "$1"; }
psql_admin "CREATE DATABASE $db" >/dev/null

echo "bench: seeding $users users on PostgreSQL and on SQLite through the storage code" >&2
# Seeding commits one fact at a time; durability is not what is measured there.
psql_admin "ALTER DATABASE $db SET synchronous_commit = off" >/dev/null
"$seeder" --database-url "$pg_url" --users "$users" --secret "$secret" --tokens "$work/tokens"
psql_admin "ALTER DATABASE $db RESET synchronous_commit" >/dev/null
psql -d "$db" -qc "VACUUM ANALYZE" >/dev/null
"$seeder" --database-url "sqlite://$work/iam.db" --users "$users" --secret "$secret" --tokens "$work/tokens-sqlite" --concurrency 4

# pgbench: PostgreSQL's own limit on the same table, over TCP, prepared statements.
pgbench_tps() {
  local script=$1
  pgbench -h 127.0.0.1 -n -M prepared -c "$pg_clients" -j 2 -T "$seconds" -D users="$users" \
    -f "scripts/bench/$script" "$db" 2>/dev/null | awk '/^tps = /{print $3; exit}'
}
pgbench_latency() {
  local script=$1
  pgbench -h 127.0.0.1 -n -M prepared -c "$pg_clients" -j 2 -T "$seconds" -D users="$users" \
    -f "scripts/bench/$script" "$db" 2>/dev/null | awk '/^latency average/{print $4; exit}'
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

start_server() {
  local url=$1
  port=$(free_port)
  IAM_BIND="127.0.0.1:$port" IAM_DATABASE_URL="$url" IAM_JWT_SECRET="$secret" IAM_LOG=warn \
    IAM_MIGRATE_ON_START=false "$server" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: the server did not become ready" >&2
  cat "$work/server.log" >&2
  exit 1
}

stop_server() {
  peak_kib=$(awk '/VmHWM/{print $2}' "/proc/$server_pid/status")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# wrk: prints "rps p50 p99 errors"
run_wrk() {
  local mode=$1 tokens=$2
  BENCH_MODE=$mode BENCH_TOKENS=$tokens wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s scripts/bench/wrk.lua "http://127.0.0.1:$port" 2>&1 \
    | awk '/^RESULT/{split($2,a,"=");split($3,b,"=");split($4,c,"=");split($5,d,"="); print a[2], b[2], c[2], d[2]}'
}

echo "bench: pgbench ($pg_clients clients, ${seconds}s each)" >&2
select_tps=$(pgbench_tps select.sql)
update_tps=$(pgbench_tps update.sql)

echo "bench: wrk on PostgreSQL ($connections connections, ${seconds}s each)" >&2
start_server "$pg_url"
read -r pg_get_rps pg_get_p50 pg_get_p99 pg_get_err < <(run_wrk get "$work/tokens")
read -r pg_bio_rps pg_bio_p50 pg_bio_p99 pg_bio_err < <(run_wrk patch-bio "$work/tokens")
read -r pg_sk_rps pg_sk_p50 pg_sk_p99 pg_sk_err < <(run_wrk patch-skills "$work/tokens")
stop_server
pg_peak=$peak_kib

echo "bench: wrk on SQLite" >&2
start_server "sqlite://$work/iam.db"
read -r sl_get_rps sl_get_p50 sl_get_p99 sl_get_err < <(run_wrk get "$work/tokens-sqlite")
read -r sl_bio_rps sl_bio_p50 sl_bio_p99 sl_bio_err < <(run_wrk patch-bio "$work/tokens-sqlite")
read -r sl_sk_rps sl_sk_p50 sl_sk_p99 sl_sk_err < <(run_wrk patch-skills "$work/tokens-sqlite")
stop_server
sl_peak=$peak_kib

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN{ printf "%.1f", k / 1024 }'; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo "+changes" || true)
machine="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
stamp=$(date -u +%Y-%m-%dT%H:%MZ)

table=$(cat <<TABLE
Run of $stamp, commit \`$commit$dirty\`, $machine; $users users, ${seconds}s per line, wrk $connections connections, pgbench $pg_clients clients (prepared, TCP).

| store | measurement | req/s | p50 ms | p99 ms | errors | peak RSS MiB | ratio to anchor |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
| PostgreSQL | pgbench select by key (anchor) | $select_tps | | | | | |
| PostgreSQL | pgbench single-row update (anchor) | $update_tps | | | | | |
| PostgreSQL | GET /me/ | $pg_get_rps | $pg_get_p50 | $pg_get_p99 | $pg_get_err | $(mib "$pg_peak") | $(ratio "$pg_get_rps" "$select_tps") x select |
| PostgreSQL | PATCH /me/ bio | $pg_bio_rps | $pg_bio_p50 | $pg_bio_p99 | $pg_bio_err | $(mib "$pg_peak") | $(ratio "$pg_bio_rps" "$update_tps") x update |
| PostgreSQL | PATCH /me/ skills | $pg_sk_rps | $pg_sk_p50 | $pg_sk_p99 | $pg_sk_err | $(mib "$pg_peak") | $(ratio "$pg_sk_rps" "$update_tps") x update |
| SQLite | GET /me/ | $sl_get_rps | $sl_get_p50 | $sl_get_p99 | $sl_get_err | $(mib "$sl_peak") | |
| SQLite | PATCH /me/ bio | $sl_bio_rps | $sl_bio_p50 | $sl_bio_p99 | $sl_bio_err | $(mib "$sl_peak") | |
| SQLite | PATCH /me/ skills | $sl_sk_rps | $sl_sk_p50 | $sl_sk_p99 | $sl_sk_err | $(mib "$sl_peak") | |
TABLE
)
echo
echo "$table"

if ! $smoke && [ -z "${BENCH_SERVER:-}" ]; then
  doc=docs/benchmarks.md
  python3 - "$doc" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- bench:latest:start -->", "<!-- bench:latest:end -->"
before, rest = text.split(start, 1)
_, after = rest.split(end, 1)
open(path, "w").write(before + start + "\n" + table + "\n" + end + after)
PY
  echo "bench: wrote the table to $doc" >&2
fi
