# What the benchmark (scripts/bench.sh) and the soak (scripts/soak.sh) share; sourced after
# scripts/pg-private.sh.

# load_setup NAME: wrk installed, the release server and seeder built (`server`, `seeder`), a work
# folder (`work`), a secret (`secret`) and a database name (`db`) for this run, and on exit the
# server (`server_pid`) stopped, the private cluster stopped and the folder removed.
load_setup() {
  local name=$1
  if ! command -v wrk >/dev/null; then
    echo "$name: installing wrk" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
  cargo build --release --quiet -p iam-server -p iam-bench
  server=target/release/iam-server
  seeder=target/release/iam-bench
  work=$(mktemp -d)
  secret="$name-$(date +%s%N)"
  db="iam_${name}_$$"
  server_pid=""
  trap load_cleanup EXIT
  trap 'exit 130' INT TERM
}

load_cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  pg_private_stop
  rm -rf "$work"
}

# A free loopback port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
