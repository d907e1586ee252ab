#!/usr/bin/env bash
# The main job: build everything, serve the browser lab on a local port and
# print its URL. Ctrl-C stops it.
# Usage: scripts/demo.sh [PORT]   (default 8080, or the next free port)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
port=${1:-8080}

echo "demo: building the native binary and the browser lab (first time: a few minutes)" >&2
cargo build --release --quiet
bash scripts/build-web.sh

# the first free port from $port on
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

python3 -m http.server --bind 127.0.0.1 --directory www "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

cat <<MSG

  gossip lab:  http://127.0.0.1:$port/

  It runs 50 virtual nodes gossiping their favorite movie (push-pull + eager
  push, 60 ms latency). Click a node, crash it, partition the network, change
  the protocol; "Copy link" shares the exact run.

  The same run headless:  target/release/gossip sim --help
  Ctrl-C to stop.
MSG
wait "$server"
