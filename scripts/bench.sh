#!/usr/bin/env bash
# Reruns every figure in BENCHMARKS.md. Usage: scripts/bench.sh [repeats]
# Wall times on these shared machines are noisy: each figure is the best of
# N runs; instruction counts (callgrind) are the stable ones.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release --quiet
bin=target/release/gossip
reps=${1:-5}

best() { # best wall time and its RSS over $reps runs of: gossip sim "$@"
  local best_t=999999 best_line=""
  for _ in $(seq "$reps"); do
    local line
    line=$("$bin" sim "$@" 2>&1 >/dev/null | grep '^ran in')
    local t
    t=$(echo "$line" | awk '{print $3}')
    if awk -v a="$t" -v b="$best_t" 'BEGIN{exit !(a<b)}'; then best_t=$t; best_line=$line; fi
  done
  echo "gossip sim $* -> $best_line"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m), $(date -u +%F)"
echo "## rounds model, single rumor, push-pull"
best --nodes 1000000 --protocol push-pull
best --nodes 10000000 --protocol push-pull
echo "## events model, single rumor"
best --nodes 100000 --model events --protocol push-pull
best --nodes 1000000 --model events --protocol push-pull
best --nodes 100000 --model events --protocol rumor --coin 3
echo "## course app (full nodes), events model, 60 s"
best --nodes 200 --scenario movies --model events
best --nodes 1000 --scenario movies --model events
best --nodes 2000 --scenario movies --model events

if command -v valgrind >/dev/null && [ "${CALLGRIND:-1}" = 1 ]; then
  echo "## instruction counts (callgrind), 100,000 nodes push-pull rounds"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" sim --nodes 100000 -q 2>&1 | grep -E "Collected"
  echo "## instruction counts (callgrind), course app, 500 nodes, events"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" sim --nodes 500 --scenario movies --model events -q 2>&1 | grep -E "Collected"
fi
