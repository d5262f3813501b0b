#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with trust authentication for local
# connections, installing Debian's packages and starting the cluster when needed. Used by the test
# and benchmark commands; safe to run again.
set -euo pipefail

ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then
  exit 0
fi

if ! ls /etc/postgresql/*/main/postgresql.conf >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! grep -q 'iam-user-details' "$hba"; then
  # Tests and benchmarks connect as postgres over loopback without a password.
  sed -i '1i # iam-user-details: trust on loopback for tests and benchmarks\nlocal all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi

echo "ensure-postgres: starting PostgreSQL $version" >&2
pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
for _ in $(seq 1 60); do
  if ready; then
    exit 0
  fi
  sleep 0.5
done
echo "ensure-postgres: PostgreSQL did not become ready on 127.0.0.1:5432" >&2
exit 1
