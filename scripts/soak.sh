#!/usr/bin/env bash
# The soak test at length: five real gossip processes on loopback for
# SOAK_SECS seconds (300 by default; the test suite runs 45), printing a
# sample every SOAK_SECS/15 seconds: incoming exchanges per second, p99 of
# outgoing exchange latency, and each node's resident memory (the table for
# BENCHMARKS.md goes to stdout). Usage: scripts/soak.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECS=${1:-${SOAK_SECS:-300}}
cargo test --release --test suite -- --nocapture --test-threads=1 soak::five_nodes
