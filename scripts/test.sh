#!/usr/bin/env bash
# Runs every test suite. Usage: scripts/test.sh
# Installs what it needs when missing (see scripts/setup.sh): the wasm32
# target, clippy, rustfmt, wasm-pack, wasm-bindgen-cli, chromium,
# chromium-driver, binaryen, playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_web

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== format" >&2
cargo fmt --check
echo "== lints (native and wasm32)" >&2
cargo clippy --all-targets --release -- -D warnings
cargo clippy --lib --release --target wasm32-unknown-unknown -- -D warnings
echo "== unit, scenario, theory, property, CLI and doc tests" >&2
cargo test --release 2>&1 | tee -a "$log"
echo "== browser: the wasm bindings in chromium (wasm-pack test)" >&2
CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome --release -- --test web 2>&1 | tee -a "$log"
echo "== browser: the lab end to end (playwright-core driving chromium)" >&2
bash scripts/build-web.sh
(cd tests/e2e && node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$log.tap" lab.test.mjs mixed.test.mjs)
# node's TAP summary: "# pass N" / "# fail N"
awk '/^# pass / { print "test result: ok. " $3 " passed; 0 failed; 0 ignored" } /^# fail / { print "test result: x. 0 passed; " $3 " failed; 0 ignored" }' "$log.tap" >> "$log"
rm -f "$log.tap"
# one closing line for the whole run
awk '/test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
