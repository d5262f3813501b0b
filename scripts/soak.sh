#!/usr/bin/env bash
# The soak: a bounded mixed load (reads; writes of different fields, merge patches and lists;
# creates and deletes) on each store, watching the server's resident memory and, on PostgreSQL,
# its connection count. See docs/reliability.md.
#
#   scripts/soak.sh [SECONDS]     per store; default 120 (CI runs a short one)
#
# Fails when any request errs (5xx, 400, 401, 412, 413, 415, or a socket error), when resident
# memory after the first fifth of the run grows by more than 10 % (plus 2 MiB), or when the
# server holds more PostgreSQL connections than its pool allows.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
users=${SOAK_USERS:-2000}
churn=200
connections=32
pool=8

. scripts/pg-private.sh
. scripts/bench/load.sh
load_setup soak

pg_private_start fast
pg_url="postgres://postgres:$PGPASSWORD@127.0.0.1:$PGPORT/$db"
psql -d postgres -qAtc "CREATE DATABASE $db" >/dev/null
total=$((users + churn))
echo "soak: seeding $total users on PostgreSQL and SQLite" >&2
"$seeder" --database-url "$pg_url" --users "$total" --secret "$secret" --tokens "$work/pg-tokens" >/dev/null
"$seeder" --database-url "sqlite://$work/iam.db" --users "$total" --secret "$secret" \
  --tokens "$work/sqlite-tokens" --concurrency 4 >/dev/null

rss_kib() { awk '/VmRSS/{print $2}' "/proc/$server_pid/status"; }
pg_connections() { psql -d postgres -qAtc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'"; }

failed=0
soak() {
  local store=$1 url=$2 tokens=$3
  head -n "$users" "$tokens" >"$work/read-write"
  tail -n "$churn" "$tokens" >"$work/churn"
  local port
  port=$(free_port)
  IAM_BIND="127.0.0.1:$port" IAM_DATABASE_URL="$url" IAM_JWT_SECRET="$secret" IAM_LOG=warn \
    IAM_MIGRATE_ON_START=false IAM_POOL_SIZE=$pool "$server" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  SOAK_TOKENS="$work/read-write" SOAK_CHURN="$work/churn" wrk -t2 -c"$connections" -d"${seconds}s" \
    --latency -s scripts/bench/soak.lua "http://127.0.0.1:$port" >"$work/wrk.log" 2>&1 &
  local wrk_pid=$! samples=() conns=() started=$SECONDS
  while kill -0 "$wrk_pid" 2>/dev/null; do
    samples+=("$(rss_kib)")
    [ "$store" = PostgreSQL ] && conns+=("$(pg_connections)")
    sleep 2
  done
  wait "$wrk_pid"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  local result
  result=$(awk '/^RESULT/' "$work/wrk.log")
  local errors=${result##*errors=}; errors=${errors%% *}
  local n=${#samples[@]} warm=$(( ${#samples[@]} / 5 ))
  local at_warm=${samples[$warm]} last=${samples[$((n - 1))]} peak=0
  for s in "${samples[@]:$warm}"; do [ "$s" -gt "$peak" ] && peak=$s; done
  local limit=$(( at_warm * 110 / 100 + 2048 ))
  local conn_text=""
  if [ "$store" = PostgreSQL ]; then
    local cmax=0
    for c in "${conns[@]}"; do [ "$c" -gt "$cmax" ] && cmax=$c; done
    conn_text=", PostgreSQL connections at most $cmax (pool $pool)"
    [ "$cmax" -le "$pool" ] || { echo "soak: $store: $cmax connections, over the pool" >&2; failed=1; }
  fi
  printf 'soak: %s, %ss: %s; RSS after warm-up %s KiB, peak %s KiB, end %s KiB (limit %s)%s\n' \
    "$store" "$((SECONDS - started))" "${result#RESULT }" "$at_warm" "$peak" "$last" "$limit" "$conn_text"
  [ "$errors" = 0 ] || { echo "soak: $store: $errors errors:$(awk '/^ERRORS/{sub("ERRORS", ""); print}' "$work/wrk.log")" >&2; failed=1; }
  [ "$peak" -le "$limit" ] || { echo "soak: $store: memory grew past the limit" >&2; failed=1; }
}

soak PostgreSQL "$pg_url" "$work/pg-tokens"
soak SQLite "sqlite://$work/iam.db" "$work/sqlite-tokens"
[ "$failed" = 0 ] && echo "soak: PASSED" || { echo "soak: FAILED" >&2; exit 1; }
