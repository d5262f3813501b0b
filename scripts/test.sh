#!/usr/bin/env bash
# The whole test suite: unit, property, use-case, storage contract (PostgreSQL and SQLite) and
# end-to-end tests. Starts PostgreSQL when none is listening.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-postgres.sh

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

scripts/schemathesis.sh
