#!/usr/bin/env bash
# The whole test suite: unit, property, use-case, storage contract (PostgreSQL and SQLite),
# end-to-end tests over HTTP, then schemathesis against the live server on both stores.
#
# PostgreSQL: with IAM_TEST_DATABASE_URL set (a URL to an existing server whose user may create
# and drop databases, e.g. postgres://postgres@127.0.0.1:5432/postgres), the tests use that
# server. Without it, they start a private throwaway cluster from the installed server binaries
# (scripts/pg-private.sh) and remove it at the end. No machine configuration is read or changed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg-private.sh

started=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"; pg_private_stop' EXIT
trap 'exit 130' INT TERM
if [ -z "${IAM_TEST_DATABASE_URL:-}" ]; then
  pg_private_start fast
else
  echo "test: PostgreSQL at IAM_TEST_DATABASE_URL" >&2
fi
status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
  summary=$(grep -E '^ +Summary' "$log" | tail -n 1 | sed 's/^ *//')
  # nextest runs no doctests: the domain crate's examples are tests too.
  cargo test --workspace --doc 2>&1 | tee "$log" || status=$?
  summary="$summary; doctests: $(grep -E '^test result' "$log" | awk '{s += $4} END {print s + 0}') passed"
else
  cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || status=$?
  summary="cargo test: $(grep -c '^test result: ok' "$log") binaries passed"
fi

schemathesis=skipped
if [ "$status" = 0 ]; then
  if scripts/schemathesis.sh; then schemathesis=passed; else status=$?; schemathesis=failed; fi
fi
echo "test: $summary; schemathesis $schemathesis; $(( $(date +%s) - started )) s; $([ "$status" = 0 ] && echo PASSED || echo FAILED)"
exit "$status"
