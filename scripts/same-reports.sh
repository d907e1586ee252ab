#!/usr/bin/env bash
# Check that two gossip binaries print the same `gossip sim --json` report,
# wall-clock fields aside, for every configuration of tests/golden/configs.txt
# and for the wider list below (both models, compact and full populations,
# every protocol, single rumor, movies and broadcast, every fault kind,
# SWIM, HyParView and static overlays with Plumtree or flooding, bootstrap
# membership, 1 and 2 threads). A refactoring that is meant to change no
# result runs it old against new:
#
#   scripts/same-reports.sh OLD_BINARY NEW_BINARY
#   scripts/same-reports.sh /tmp/gossip-base target/release/gossip
#
# Prints one line per configuration that differs and the counts; exits 1 if
# any differs (or fails in one binary and not the other).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
a=$1
b=$2
for bin in "$a" "$b"; do
  if [ ! -x "$bin" ]; then
    echo "same-reports.sh: $bin is not an executable" >&2
    exit 2
  fi
done

extra=(
  # single rumor, every fault kind, both models and populations
  "--nodes 2000 --model events --protocol rumor --fault 1s:crash-random:0.2 --engine compact"
  "--nodes 2000 --model events --protocol rumor --fault 1s:crash-random:0.2 --engine full --threads 2"
  "--nodes 500 --model events --fault 1s:block:0-99>100-499 --fault 5s:unblock:0-99>100-499 --threads 2"
  "--nodes 300 --model events --engine full --fault 1500:drop:0-299>0-299 --threads 1"
  "--nodes 300 --model events --protocol push-pull --fault 1s:slow:0:2000 --fault 4s:fast:0 --engine full"
  "--nodes 300 --protocol push --fault 1s:block:0-9>10-299 --fault 3s:heal --fault 2s:leave:5 --fault 4s:join:3"
  "--nodes 200 --membership bootstrap --protocol pull --fault 2s:crash:3 --fault 5s:restart-fresh:3"
  "--nodes 200 --model events --protocol rumor --anti-entropy-ms 2000 --fault 0:partition:2 --duration-s 30"
  "--nodes 200 --protocol rumor --anti-entropy-ms 2000 --fault 0:partition:2 --duration-s 30"
  "--nodes 400 --protocol flood --ttl 5 --engine full --loss 0.1"
  "--nodes 100000 --model events --threads 2 --seed 4"
  # movies
  "--nodes 60 --scenario movies --model events --duration-s 10 --fault 2500:drop:0-9>10-59 --fault 3s:crash-random:0.1"
  "--nodes 300 --scenario movies --model events --duration-s 10 --threads 2 --fault 3s:partition:2 --fault 6s:heal --fault 4s:restart-fresh:5"
  "--nodes 80 --scenario movies --duration-s 10 --fault 2s:join:5 --fault 5s:leave:3"
  "--nodes 50 --scenario movies --model events --duration-s 1 --interval-ms 3000"
  "--nodes 50 --scenario movies --model events --duration-s 1 --interval-ms 1000"
  "--nodes 50 --scenario movies --duration-s 1 --interval-ms 3000 --fault 1s:crash:2"
  "--nodes 100 --scenario movies --protocol rumor --duration-s 10"
  "--nodes 100 --scenario movies --protocol push --eager on --model events --duration-s 8 --threads 2"
  "--nodes 60 --scenario movies --model events --duration-s 10 --fault 2s:slow:3:1500 --fault 6s:fast:3 --fault 7s:block:0>1-59"
  "--nodes 120 --scenario movies --membership bootstrap --model events --threads 2 --duration-s 12 --fault 4s:crash:7"
  "--nodes 2000 --scenario movies --model events --threads 1"
  # broadcast
  "--nodes 100 --scenario broadcast --duration-s 5 --rate 50"
  "--nodes 100 --scenario broadcast --model events --duration-s 8 --rate 100 --fault 2s:join:5 --fault 4s:leave:3 --protocol push-pull"
  "--nodes 400 --engine full --scenario broadcast --model events --duration-s 5 --rate 300 --threads 2 --protocol rumor --anti-entropy-ms 1000"
  "--nodes 100 --scenario broadcast --protocol flood --ttl 3 --model events --duration-s 3 --fault 1s:crash-random:0.3"
  "--nodes 80 --scenario broadcast --model events --duration-s 4 --rate 80 --fault 1s:slow:2:400 --fault 2s:fast:2 --fault 1500:drop:0-39>40-79 --fault 2500:restart:9 --fault 2s:crash:9"
  "--preset glomers --threads 2 --fault 3s:drop:0-4>5-9 --fault 4s:slow:2:300 --fault 6s:fast:2"
  "--preset glomers --fault 5s:crash:3 --fault 9s:restart-fresh:3 --fault 2s:loss:0.2 --fault 8s:loss:0"
  # overlays: HyParView and static topologies, Plumtree and flooding
  "--membership hyparview --protocol plumtree --scenario broadcast --nodes 500 --duration-s 60 --fault 30s:crash:5"
  "--membership hyparview --protocol plumtree --scenario broadcast --nodes 300 --senders 3 --warmup-cycles 5 --duration-s 40 --threads 2"
  "--membership hyparview --protocol flood --scenario broadcast --nodes 200 --duration-s 30 --fault 20s:partition:2 --fault 25s:heal --fault 22s:loss:0.2"
  "--membership ring --protocol plumtree --scenario broadcast --nodes 200 --duration-s 20"
  "--membership grid --protocol flood --nodes 100"
  "--membership k-out --protocol flood --scenario broadcast --nodes 200 --duration-s 10 --fault 5s:partition:2 --fault 8s:heal"
  "--membership watts-strogatz --protocol plumtree --scenario broadcast --nodes 200 --duration-s 15 --model rounds"
  "--membership barabasi-albert --protocol plumtree --scenario broadcast --nodes 200 --duration-s 15 --fault 5s:crash:7 --fault 9s:loss:0.1"
  # SWIM
  "--preset swim-paper --nodes 200 --duration-s 40 --fault 10s:crash:3 --fault 15s:crash-random:0.05"
  "--preset memberlist-lan --nodes 200 --duration-s 40 --fault 5s:slow:4:800 --fault 20s:fast:4 --fault 8s:block:0-9>10-19 --fault 25s:unblock:0-9>10-19"
  "--preset memberlist-lan --nodes 100 --duration-s 30 --threads 2 --fault 5s:leave:4 --fault 6s:join:3 --fault 8s:restart:4 --fault 9s:drop:0-99>0-99 --fault 10s:partition:2 --fault 20s:heal"
)

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
report() { # binary, args... -> the report without wall-clock fields, or the error
  local bin=$1
  shift
  if "$bin" sim "$@" --json -q > "$dir/out" 2> "$dir/err"; then
    sed 's/"wall[^,]*,//g' "$dir/out"
  else
    echo "failed: $(cat "$dir/err")"
  fi
}

same=0
differ=0
check() { # name, args...
  local name=$1
  shift
  report "$a" "$@" > "$dir/a.json"
  report "$b" "$@" > "$dir/b.json"
  if cmp -s "$dir/a.json" "$dir/b.json"; then
    same=$((same + 1))
    if grep -q '^failed' "$dir/a.json"; then
      echo "note: both fail on $name: $(head -c 200 "$dir/a.json")" >&2
    fi
  else
    differ=$((differ + 1))
    echo "DIFFERS: $name: $*"
  fi
}

while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in '' | '#'*) continue ;; esac
  # shellcheck disable=SC2086 # the arguments are words
  check "golden ${line%%:*}" ${line#*:}
done < tests/golden/configs.txt
for args in "${extra[@]}"; do
  # shellcheck disable=SC2086
  check "extra" $args
done
echo "same: $same, differ: $differ"
[ "$differ" -eq 0 ]
