#!/usr/bin/env bash
# Instructions a built page's wasm takes for one run, in Node's V8 under
# callgrind (TurboFan only, one thread: repeats within 0.2 %), for pages
# A and B alternated: the stable side-by-side figure for wasm changes on
# this noisy machine (browser timings swing by 2x). Includes Node's own
# start (about 1 G instructions: run it with nodes=1000 to see it).
# Usage: scripts/wasm-instr.sh DIR_A DIR_B [key=value,...] [rounds=1]
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 params=${3:-} rounds=${4:-1}
for ((r = 0; r < rounds; r++)); do
  for dir in "$a" "$b"; do
    out=$(valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
      node --no-liftoff --single-threaded tests/e2e/wasm-instr.mjs "$dir" "$params" 2>&1)
    ir=$(grep -o 'Collected : [0-9]*' <<<"$out" | grep -o '[0-9]*$')
    echo "$dir: $ir instructions ($(grep -v '^==' <<<"$out" | tail -1))"
  done
done
