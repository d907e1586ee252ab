#!/usr/bin/env bash
# Re-records the regression suite's baseline (tests/baseline/suite.csv) that
# tests/suite/sweep_baseline.rs compares every build with. Run it when a change is
# meant to change these runs (or adds a metric: a new column), and say why
# in the commit. The flags are those of SUITE in tests/suite/sweep_baseline.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/release/gossip sweep --vary protocol=push,push-pull,rumor --vary nodes=1000,10000 \
  --model events --loss 0.05 --seeds 8 -q -o "$tmp/suite.csv" >/dev/null
cp "$tmp/suite.csv" tests/baseline/suite.csv
echo "recorded tests/baseline/suite.csv ($(($(wc -l <tests/baseline/suite.csv) - 1)) runs)"
