#!/usr/bin/env bash
# Runs each cargo fuzz target for a bounded time: the untrusted paths (a JSON body to a validated
# patch, a token to a verified user). Needs Rust nightly and cargo-fuzz
# (`cargo install cargo-fuzz --locked`; the script installs it when missing).
#
#   scripts/fuzz.sh [SECONDS]    default 30 per target
#
# The corpus in fuzz/corpus/ is the starting point and is not changed: runs work on a copy. To
# grow the kept corpus, run `cargo +nightly fuzz run TARGET fuzz/corpus/TARGET` and then
# `cargo +nightly fuzz cmin TARGET`, and commit what is new. A crash stops the run and leaves its
# input under fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: Rust nightly is needed (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/iam-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
for target in body_to_patch token; do
  mkdir -p "$work/$target"
  cp fuzz/corpus/$target/* "$work/$target/"
  echo "fuzz: $target for ${seconds}s" >&2
  status=0
  cargo +nightly fuzz run "$target" "$work/$target" -- -max_total_time="$seconds" -max_len=8192 \
    >"$work/$target.log" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    tail -n 40 "$work/$target.log" >&2
    echo "fuzz: $target FAILED (input under fuzz/artifacts/$target/)" >&2
    exit "$status"
  fi
  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$work/$target.log" | tail -n 1
done
echo "fuzz: every target ran ${seconds}s with no crash"
