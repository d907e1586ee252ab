#!/usr/bin/env bash
# A node under a flood of unique, validly signed updates: its resident
# memory must stay flat once its bounded tables are full.
# Usage: scripts/bench-flood.sh [messages] [origins] [updates per request]
# (defaults 1,000,000, 1,000, 100). Loopback only; prints a CSV of
# messages sent, seconds, the node's RSS (MB), seen-cache and view sizes,
# and fresh updates applied.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gossip --example flood
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/gossip -p "$port" --change-ms 0 --movie Alien --threads 1 --client-rps 0 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/state" && break; sleep 0.05; done
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F); node pid $pid; RSS at start $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)"
target/release/examples/flood "http://127.0.0.1:$port" "$pid" "${1:-1000000}" "${2:-1000}" "${3:-100}"
curl -s "http://127.0.0.1:$port/state" -o /dev/null -w "node still answers GET /state: %{http_code}\n"
