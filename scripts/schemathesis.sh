#!/usr/bin/env bash
# Property-based run of schemathesis against the live server, on SQLite and on PostgreSQL: driven by
# the served /api/schema/ and by the seed's own OpenAPI document, with a valid token. Checks that no
# input gets a 5xx and that every response matches its schema. Bounded in examples and time.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet -p iam-server
bin=target/debug/iam-server
seed=docs/openapi/iamuserdetails-me.openapi.json
work=$(mktemp -d)
secret="schemathesis-$(date +%s%N)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

run_against() {
  local label=$1 url=$2
  local port; port=$(free_port)
  local base="http://127.0.0.1:$port"
  export IAM_BIND="127.0.0.1:$port" IAM_DATABASE_URL="$url" IAM_JWT_SECRET="$secret" IAM_LOG=warn
  "$bin" >"$work/server-$label.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local token; token=$("$bin" token --user "schemathesis-$label" --ttl 1h)
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"user_type": "developer", "skills": ["Rust"]}' "$base/api/v1/iam/iamuserdetails/" >/dev/null
  local checks=not_a_server_error,response_schema_conformance,content_type_conformance
  echo "== schemathesis ($label): served schema"
  timeout 600 "$venv/bin/schemathesis" run "$base/api/schema/" -H "Authorization: Bearer $token" \
    --checks "$checks" --max-examples 60 --max-time 30 --seed 1 --warnings off
  echo "== schemathesis ($label): the seed's document"
  timeout 600 "$venv/bin/schemathesis" run "$seed" --url "$base" -H "Authorization: Bearer $token" \
    --checks "$checks" --max-examples 100 --max-time 30 --seed 1 --warnings off
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

run_against sqlite "sqlite://$work/iam.db"

# The PostgreSQL server of the test command (scripts/test.sh): IAM_TEST_DATABASE_URL.
admin_url=${IAM_TEST_DATABASE_URL:?"set IAM_TEST_DATABASE_URL (scripts/test.sh does)"}
pg_db="iam_schemathesis_$$"
with_database() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$1" "$2"; }
psql "$admin_url" -qc "CREATE DATABASE $pg_db" >/dev/null
run_against postgres "$(with_database "$admin_url" "$pg_db")"
psql "$admin_url" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
echo "schemathesis: no 5xx and every response matched its schema"
