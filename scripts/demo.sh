#!/usr/bin/env bash
# The main job: build everything, start a local cluster of three native nodes
# that also serves the browser lab (pointed at them) on a local port, and print
# the URLs. Ctrl-C stops it all.
# Usage: scripts/demo.sh [PORT]   (lab on 8080 and nodes from 7000, or the next free ports)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
port=${1:-8080}

echo "demo: building the native binary and the browser lab (first time: a few minutes)" >&2
cargo build --release --quiet
bash scripts/build-web.sh

busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# the first free port from $port on, and three free ports in a row from 7000 on
while busy "$port"; do port=$((port + 1)); done
base=7000
while busy "$base" || busy $((base + 1)) || busy $((base + 2)) || ((port >= base && port <= base + 2)); do
    base=$((base + 3))
done

# one process: the three nodes, and the lab's site with /lab-config.json
RUST_LOG=${RUST_LOG:-warn} target/release/gossip cluster --nodes 3 --base-port "$base" \
    --www www --www-port "$port" >/dev/null &
cluster=$!
trap 'kill $cluster 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do busy "$port" && busy "$base" && break; sleep 0.1; done
kill -0 "$cluster" 2>/dev/null || { echo "demo: the cluster did not start (see above)" >&2; exit 1; }

cat <<MSG

  gossip lab:  http://127.0.0.1:$port/

  It runs 50 virtual nodes gossiping their favorite movie (push-pull + eager
  push, 60 ms latency). Click a node, crash it, partition the network, change
  the protocol; "Copy link" shares the exact run.

  The page connects by itself to the three native nodes below: its virtual
  nodes and the native ones gossip in one network (the page draws native
  nodes differently); "Disconnect" in the page detaches it.
  Native nodes (the course's HTTP peers; each page shows its view live):
    http://127.0.0.1:$base/   http://127.0.0.1:$((base + 1))/   http://127.0.0.1:$((base + 2))/
  Join them from another terminal:  target/release/gossip -p $((base + 3)) -b $base

  The same simulations headless:  target/release/gossip sim --help
  Ctrl-C to stop.
MSG
wait "$cluster"
