#!/usr/bin/env bash
# The benchmark: the service's GET and PATCH /me/ under wrk, side by side with PostgreSQL's own limit
# under pgbench, in one run. See docs/benchmarks.md.
#
#   scripts/bench.sh              full run: 10,000 users, 20 s per measurement; writes docs/benchmarks.md
#   scripts/bench.sh --users N    the same on N users (written beside the 10,000-user run)
#   scripts/bench.sh --smoke      a few seconds, 200 users, nothing written (CI keeps the command working)
#
# Settings (environment): BENCH_SECONDS, BENCH_CONNECTIONS (64), BENCH_PG_CLIENTS (16).
# BENCH_SERVER=path measures another iam-server binary (an A/B against an older build: the table
# is printed, not written to docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
users=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=true ;;
    --users) users=${2:?--users needs a number}; shift ;;
    --users=*) users=${1#--users=} ;;
    *) echo "bench: unknown argument $1 (--smoke, --users N)" >&2; exit 2 ;;
  esac
  shift
done
if $smoke; then
  users=${users:-200}; seconds=${BENCH_SECONDS:-1}
else
  users=${users:-10000}; seconds=${BENCH_SECONDS:-20}
fi
case "$users" in ''|*[!0-9]*) echo "bench: --users takes a positive number" >&2; exit 2 ;; esac
connections=${BENCH_CONNECTIONS:-64}
pg_clients=${BENCH_PG_CLIENTS:-16}

. scripts/pg-private.sh
. scripts/bench/load.sh
load_setup bench
server=${BENCH_SERVER:-$server}

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
# The seeding's writes reach the disk before anything is measured: otherwise the kernel may write
# them back during the first lines (the SQLite file alone is ~280 MB at 100,000 users), and every
# commit's sync waits behind that.
psql -d "$db" -qc "CHECKPOINT" >/dev/null
sync

# Each store's files are read into the kernel's file cache right before that store is measured:
# some virtual machines drop file pages nobody has read for a few minutes (seen: 65 of the 240 MB
# of a 100,000-user SQLite file gone right after seeding, with 21 GB free), and the first line
# would otherwise measure the disk. The lines measure the service over a warm file cache.
pg_files=$PG_PRIVATE_DIR/data/base/$(psql_admin "SELECT oid FROM pg_database WHERE datname = '$db'")
[ -d "$pg_files" ] || { echo "bench: no database folder at $pg_files" >&2; exit 1; }
# A file PostgreSQL removes while it is being read is no error here: what is left is still read.
warm() { find "$@" -type f -exec cat {} + >/dev/null 2>&1 || true; }

# CPU time in clock ticks: the machine's busy time (user, nice, system, interrupts; not the time
# the hypervisor took), and one process's (user and system).
hz=$(getconf CLK_TCK)
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
process_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Microseconds of CPU per request: ticks, requests.
per_request() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN{ if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "n/a" }'; }

# pgbench: PostgreSQL's own limit on the same table, over TCP, prepared statements. Prints tps
# and the machine's CPU per transaction in µs (pgbench's own included, as wrk's is in the lines).
pgbench_tps() {
  local before out
  before=$(machine_ticks)
  out=$(pgbench -h 127.0.0.1 -n -M prepared -c "$pg_clients" -j 2 -T "$seconds" -D users="$users" \
    "$@" "$db" 2>/dev/null)
  local used=$(($(machine_ticks) - before))
  local tps count
  tps=$(awk '/^tps = /{print $3; exit}' <<<"$out")
  count=$(awk -F': ' '/^number of transactions actually processed/{print $2; exit}' <<<"$out")
  echo "$tps $(per_request "$used" "${count%%/*}")"
}

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

# wrk: prints "rps p50 p99 errors machine-µs server-µs", the last two CPU per request: the
# machine's (wrk's and PostgreSQL's included) and the server's own.
run_wrk() {
  local mode=$1 tokens=$2 machine_before server_before line
  machine_before=$(machine_ticks)
  server_before=$(process_ticks "$server_pid")
  line=$(BENCH_MODE=$mode BENCH_TOKENS=$tokens wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s scripts/bench/wrk.lua "http://127.0.0.1:$port" 2>&1 \
    | awk -v mode="$mode" '/^RESULT/{split($2,a,"=");split($3,b,"=");split($4,c,"=");split($5,d,"=");
        split($6,n,"=");
        print a[2], b[2], c[2], d[2], n[2]
        # The kinds of errors, which the table does not show.
        if (d[2] > 0) print "bench: " mode ": " $5, $7, $8, $9 > "/dev/stderr"}')
  local machine=$(($(machine_ticks) - machine_before))
  local served=$(($(process_ticks "$server_pid") - server_before))
  local rps p50 p99 errors requests
  read -r rps p50 p99 errors requests <<<"$line"
  echo "$rps $p50 $p99 $errors $(per_request "$machine" "$requests") $(per_request "$served" "$requests")"
}

# The lines, in order: wrk mode, the line's name, its pgbench anchor (select, update or mix).
modes=(get public patch-bio patch-mixed patch-skills read-mostly)
declare -A title=([get]="GET /me/" [public]="GET /{id}/ public view" [patch-bio]="PATCH /me/ bio" [patch-mixed]="PATCH /me/ mixed fields"
  [patch-skills]="PATCH /me/ skills" [read-mostly]="90 % GET, 10 % PATCH mixed")
declare -A anchor_of=([get]=select [public]=select [patch-bio]=update [patch-mixed]=update [patch-skills]=update
  [read-mostly]=mix)
declare -A result

echo "bench: pgbench ($pg_clients clients, ${seconds}s each)" >&2
warm "$pg_files"
declare -A anchor
anchor[select]=$(pgbench_tps -f scripts/bench/select.sql)
anchor[update]=$(pgbench_tps -f scripts/bench/update.sql)
anchor[mix]=$(pgbench_tps -f scripts/bench/select.sql@9 -f scripts/bench/update.sql@1)

measure_store() {
  local store=$1 url=$2 tokens=$3
  shift 3
  echo "bench: wrk on $store ($connections connections, ${seconds}s each)" >&2
  warm "$@"
  start_server "$url"
  for mode in "${modes[@]}"; do
    result[$store,$mode]=$(run_wrk "$mode" "$tokens")
  done
  stop_server
  result[$store,peak]=$peak_kib
}
measure_store PostgreSQL "$pg_url" "$work/tokens" "$pg_files"
measure_store SQLite "sqlite://$work/iam.db" "$work/tokens-sqlite" "$work"/iam.db*

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN{ printf "%.1f", k / 1024 }'; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo "+changes" || true)
machine="$(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
stamp=$(date -u +%Y-%m-%dT%H:%MZ)

# An anchor's cells: tps, four empty, its machine CPU per transaction, two empty.
anchor_row() {
  local tps us
  read -r tps us <<<"${anchor[$1]}"
  echo "$tps | | | | | $us | |"
}

rows=""
for store in PostgreSQL SQLite; do
  peak=$(mib "${result[$store,peak]}")
  for mode in "${modes[@]}"; do
    read -r rps p50 p99 errors machine_us server_us <<<"${result[$store,$mode]}"
    if [ "$store" = PostgreSQL ]; then
      read -r anchor_tps _ <<<"${anchor[${anchor_of[$mode]}]}"
      against="$(ratio "$rps" "$anchor_tps") x ${anchor_of[$mode]}"
    else
      read -r pg_rps _ <<<"${result[PostgreSQL,$mode]}"
      against="$(ratio "$rps" "$pg_rps") x PostgreSQL's"
    fi
    rows+="| $store | ${title[$mode]} | $rps | $p50 | $p99 | $errors | $peak | $machine_us | $server_us | $against |"$'\n'
  done
done

table=$(cat <<TABLE
Run of $stamp, commit \`$commit$dirty\`, $machine; $users users, ${seconds}s per line, wrk $connections connections, pgbench $pg_clients clients (prepared, TCP).

| store | measurement | req/s | p50 ms | p99 ms | errors | peak RSS MiB | machine CPU µs/req | server CPU µs/req | ratio |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| PostgreSQL | pgbench select by key (anchor "select") | $(anchor_row select) |
| PostgreSQL | pgbench single-row update (anchor "update") | $(anchor_row update) |
| PostgreSQL | pgbench 90 % select, 10 % update (anchor "mix") | $(anchor_row mix) |
${rows%$'\n'}
TABLE
)
echo
echo "$table"

if ! $smoke && [ -z "${BENCH_SERVER:-}" ]; then
  doc=docs/benchmarks.md
  # The 10,000-user run is the latest run; a run on another number of users has its own block.
  section=latest
  [ "$users" = 10000 ] || section="users-$users"
  python3 - "$doc" "$table" "$section" "$users" <<'PY'
import sys
path, table, section, users = sys.argv[1:5]
text = open(path).read()
start, end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
if start not in text:
    anchor = "<!-- bench:latest:end -->"
    heading = f"\n\n### {int(users):,} users\n\n{start}\n{end}"
    text = text.replace(anchor, anchor + heading, 1)
before, rest = text.split(start, 1)
_, after = rest.split(end, 1)
open(path, "w").write(before + start + "\n" + table + "\n" + end + after)
PY
  echo "bench: wrote the table to $doc ($section)" >&2
fi
