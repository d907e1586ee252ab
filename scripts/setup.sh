#!/usr/bin/env bash
# Installs what the project needs beyond rustup and cargo, idempotently.
# Sourced by the other scripts; safe to run again and again.
#   setup_rust  the wasm32 target, clippy and rustfmt
#   setup_web   wasm-pack and wasm-bindgen-cli (pinned), binaryen's wasm-opt
#               (npm, pinned, under tools/wasm-opt/), Debian's chromium and
#               chromium-driver, playwright-core (npm)
#   setup_fuzz  a nightly toolchain and cargo-fuzz (pinned), for fuzz/
#   setup_parallel  Debian's GNU parallel, for sharded sweeps (docs/sweep.md)
set -euo pipefail

WASM_PACK_VERSION=0.15.1
CARGO_FUZZ_VERSION=0.13.2
# binaryen's wasm-opt as npm's `binaryen` (a wasm build run by node), pinned in
# tools/wasm-opt/package.json: Debian's binaryen (108) is older than what
# rustc and wasm-bindgen emit. scripts/build-web.sh runs it.
WASM_OPT=tools/wasm-opt/node_modules/.bin/wasm-opt
WASM_OPT_VERSION="wasm-opt version 132 (version_132)"

setup_rust() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "setup: adding the wasm32-unknown-unknown target" >&2
    rustup target add wasm32-unknown-unknown >&2
  fi
  for comp in clippy rustfmt; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$comp"; then
      echo "setup: adding rustup component $comp" >&2
      rustup component add "$comp" >&2
    fi
  done
}

# The wasm-bindgen version in Cargo.lock: wasm-bindgen-cli must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

setup_web() {
  setup_rust
  export PATH="$HOME/.cargo/bin:$PATH"
  if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
    echo "setup: installing wasm-pack $WASM_PACK_VERSION" >&2
    cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked >&2
  fi
  local wbv
  wbv=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbv" ]; then
    echo "setup: installing wasm-bindgen-cli $wbv (the version in Cargo.lock)" >&2
    # --locked first; its own lockfile may name a since-yanked crate, then resolve afresh
    cargo install wasm-bindgen-cli --version "$wbv" --locked >&2 || cargo install wasm-bindgen-cli --version "$wbv" >&2
  fi
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v openssl >/dev/null || missing+=(openssl) # the TLS end-to-end test makes its CA with it
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
  fi
  if [ ! -d tests/e2e/node_modules/playwright-core ]; then
    echo "setup: installing playwright-core from npm (it drives Debian's chromium; no browser download)" >&2
    (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  fi
  if [ "$("$WASM_OPT" --version 2>/dev/null)" != "$WASM_OPT_VERSION" ]; then
    echo "setup: installing binaryen's wasm-opt from npm into tools/wasm-opt/ ($WASM_OPT_VERSION)" >&2
    (cd tools/wasm-opt && npm ci --no-audit --no-fund >&2)
  fi
}

# cargo fuzz builds with -Zsanitizer and libFuzzer's instrumentation: nightly only
setup_fuzz() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "setup: installing the nightly toolchain (for cargo fuzz)" >&2
    rustup toolchain install nightly --profile minimal >&2
  fi
  if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    echo "setup: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked >&2
  fi
}

# GNU parallel runs the shards of a sweep (gossip sweep --shard I/N) on this
# machine or over ssh hosts
setup_parallel() {
  command -v parallel >/dev/null && return 0
  echo "setup: installing Debian's parallel (GNU parallel)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq parallel >&2
}

setup_rust
