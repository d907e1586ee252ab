#!/usr/bin/env bash
# Installs what the project needs beyond rustup and cargo, idempotently.
# Sourced by the other scripts; safe to run again and again.
set -euo pipefail
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
