#!/usr/bin/env bash
# The main job: build, then run two experiments with the simulator.
# Usage: scripts/demo.sh [extra `gossip sim` flags for the second run]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --quiet
bin=target/release/gossip

echo "# 1. Karp et al.: one rumor, push-pull, 1,000,000 nodes, synchronous rounds"
echo "#    (theory: log3 n + log2 ln n = 16.4 rounds)"
"$bin" sim --nodes 1000000 --protocol push-pull
echo
echo "# 2. The course app: 200 nodes re-sampling their favorite movie for 60 s,"
echo "#    push-pull digests + eager push, 50 ms latency, 10% loss, a partition from 20 s to 35 s"
"$bin" sim --scenario movies --model events --nodes 200 --loss 0.1 --fanout 2 \
  --fault 20s:partition:2 --fault 35s:heal "$@"
echo
echo "# More: $bin sim --help"
