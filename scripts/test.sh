#!/usr/bin/env bash
# Runs every test suite. Usage: scripts/test.sh
# Installs what it needs when missing (see scripts/setup.sh): the wasm32
# target, clippy, rustfmt, wasm-pack, wasm-bindgen-cli, chromium,
# chromium-driver, binaryen's wasm-opt (npm), playwright-core, a nightly
# toolchain and cargo-fuzz. FUZZ_SECS (default 60) is how long each fuzz
# target runs; FUZZ_SECS=0 skips fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_web
setup_parallel # the sharded-sweep test runs GNU parallel

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== format" >&2
cargo fmt --check
echo "== lints (native and wasm32)" >&2
cargo clippy --all-targets --release -- -D warnings
cargo clippy --lib --release --target wasm32-unknown-unknown -- -D warnings
# the library without the native program (what the fuzz targets and an embedding build)
cargo clippy --lib --release --no-default-features -- -D warnings
echo "== API docs (no broken link, no public doc linking a private item)" >&2
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib --release
echo "== unit, scenario, theory, property, CLI and doc tests" >&2
cargo test --release 2>&1 | tee -a "$log"
fuzz_status=0
FUZZ_SECS=${FUZZ_SECS:-60}
if [ "$FUZZ_SECS" -gt 0 ]; then
  echo "== fuzzing: cargo fuzz, each target for $FUZZ_SECS s (fuzz/)" >&2
  setup_fuzz
  cargo +nightly fuzz build >&2
  for target in decode_apply decode_roundtrip; do
    # new inputs go to a scratch corpus under target/; the committed seeds are only read
    scratch=target/fuzz-corpus/$target
    mkdir -p "$scratch"
    if cargo +nightly fuzz run "$target" "$scratch" fuzz/corpus/decode_apply -- \
        -dict=fuzz/json.dict -max_total_time="$FUZZ_SECS" -rss_limit_mb=2048 -timeout=10 -max_len=8192 -print_final_stats=1 \
        > "$log.fuzz" 2>&1; then
      runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log.fuzz")
      echo "test result: ok. 1 passed; 0 failed; 0 ignored; fuzz $target: ${runs:-?} inputs in $FUZZ_SECS s" | tee -a "$log"
    else
      tail -n 60 "$log.fuzz" >&2
      echo "fuzz $target failed: the input is under fuzz/artifacts/$target/" >&2
      echo "test result: FAILED. 0 passed; 1 failed; 0 ignored; fuzz $target" | tee -a "$log"
      fuzz_status=1
    fi
  done
  rm -f "$log.fuzz"
fi
echo "== browser: the wasm bindings in chromium (wasm-pack test)" >&2
CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome --release -- --test web 2>&1 | tee -a "$log"
echo "== browser: the lab end to end (playwright-core driving chromium)" >&2
bash scripts/build-web.sh
(cd tests/e2e && node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$log.tap" lab.test.mjs mixed.test.mjs tls.test.mjs members.test.mjs pace.test.mjs sweep.test.mjs teach.test.mjs honest.test.mjs layout.test.mjs told.test.mjs time.test.mjs svg.test.mjs million.test.mjs)
# node's TAP summary: "# pass N" / "# fail N"
awk '/^# pass / { print "test result: ok. " $3 " passed; 0 failed; 0 ignored" } /^# fail / { print "test result: x. 0 passed; " $3 " failed; 0 ignored" }' "$log.tap" >> "$log"
rm -f "$log.tap"
# one closing line for the whole run
awk '/test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$fuzz_status"
