# A private, throwaway PostgreSQL cluster for the test and benchmark commands. Source this file,
# then call `pg_private_start` (with `fast` for tests: no fsync) and `pg_private_stop` at the end
# (the callers do it in an EXIT trap, so it runs however the run ends).
#
# The cluster lives in a new temporary folder, listens on 127.0.0.1 on a free port and on a socket
# in that folder, and takes a random password (SCRAM); it is run as `nobody` when the caller is
# root, since PostgreSQL refuses to run as root. Nothing of the machine's configuration is read or
# changed. `pg_private_start` exports:
#   IAM_TEST_DATABASE_URL   postgres://postgres:…@127.0.0.1:PORT/postgres (the tests' admin URL)
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE   for psql and pgbench
#   PG_PRIVATE_DATA          the data folder, for tests that stop and start their own database
#   PG_PRIVATE_CTL           the pg_ctl command line that runs as the cluster's owner
#   IAM_TEST_PG_CA           the CA certificate of the cluster's TLS certificate (for
#                            `sslmode=verify-full`), when openssl is installed to make one

pg_private_bin() {
  local initdb
  if initdb=$(command -v initdb 2>/dev/null); then
    dirname "$(readlink -f "$initdb")"
    return 0
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
    return 0
  fi
  return 1
}

pg_private_start() {
  local mode=${1:-durable}
  local bin
  if ! bin=$(pg_private_bin); then
    echo "pg-private: no PostgreSQL server binaries (initdb, pg_ctl) found; on Debian or Ubuntu: apt-get install postgresql" >&2
    return 1
  fi
  PG_PRIVATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/iam-pg.XXXXXX")
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$PG_PRIVATE_DIR"
    as=(runuser -u nobody --)
  fi
  local port password
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" >"$PG_PRIVATE_DIR/pwfile"
  [ "$(id -u)" = 0 ] && chown nobody "$PG_PRIVATE_DIR/pwfile"
  if ! "${as[@]}" "$bin/initdb" -D "$PG_PRIVATE_DIR/data" -U postgres -E UTF8 --locale=C \
      --auth=scram-sha-256 --pwfile="$PG_PRIVATE_DIR/pwfile" >"$PG_PRIVATE_DIR/initdb.log" 2>&1; then
    cat "$PG_PRIVATE_DIR/initdb.log" >&2
    return 1
  fi
  rm -f "$PG_PRIVATE_DIR/pwfile"
  local options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_PRIVATE_DIR -c max_connections=300"
  if command -v openssl >/dev/null && pg_private_certificates; then
    options="$options -c ssl=on -c ssl_cert_file=$PG_PRIVATE_DIR/server.crt -c ssl_key_file=$PG_PRIVATE_DIR/server.key"
    export IAM_TEST_PG_CA="$PG_PRIVATE_DIR/ca.crt"
  fi
  if [ "$mode" = fast ]; then
    # Test data is thrown away: durability buys nothing here.
    options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  PG_PRIVATE_CTL="${as[*]} $bin/pg_ctl -D $PG_PRIVATE_DIR/data -l $PG_PRIVATE_DIR/server.log"
  PG_PRIVATE_OPTIONS=$options
  if ! $PG_PRIVATE_CTL -w -t 60 -o "$options" start >/dev/null; then
    cat "$PG_PRIVATE_DIR/server.log" >&2
    return 1
  fi
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password PGDATABASE=postgres
  export IAM_TEST_DATABASE_URL="postgres://postgres:$password@127.0.0.1:$port/postgres"
  export PG_PRIVATE_DATA="$PG_PRIVATE_DIR/data" PG_PRIVATE_CTL PG_PRIVATE_OPTIONS
  echo "pg-private: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $PG_PRIVATE_DIR)" >&2
}

# A test CA and a server certificate for localhost and 127.0.0.1, valid two days.
pg_private_certificates() {
  local d=$PG_PRIVATE_DIR
  (
    set -e
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=iam-user-details test CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
      -days 2 -out "$d/server.crt" -extfile "$d/server.ext"
    chmod 600 "$d/server.key"
    if [ "$(id -u)" = 0 ]; then chown nobody "$d/server.key" "$d/server.crt"; fi
  ) >"$d/openssl.log" 2>&1
}

pg_private_stop() {
  if [ -n "${PG_PRIVATE_DIR:-}" ] && [ -d "$PG_PRIVATE_DIR" ]; then
    $PG_PRIVATE_CTL -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_PRIVATE_DIR"
    PG_PRIVATE_DIR=
  fi
}
