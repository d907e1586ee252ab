#!/usr/bin/env bash
# Runs every test suite. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== format" >&2
cargo fmt --check
echo "== lints" >&2
cargo clippy --all-targets --release -- -D warnings
echo "== the core and simulator build for wasm32-unknown-unknown" >&2
cargo build --lib --release --target wasm32-unknown-unknown
echo "== unit, scenario, theory, property, CLI and doc tests" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --release 2>&1 | tee "$log"
# one closing line for the whole run
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "all suites: %d passed, %d failed, %d ignored\n", p, f, i }' "$log" \
  | sed 's/, [0-9]* ignored$//; s/^all suites: /tests: /'
