#!/usr/bin/env bash
# (Re)write the golden simulator reports that tests/suite/sim_golden.rs checks:
# for each `NAME: ARGS` line of tests/golden/configs.txt, run
# `BINARY sim ARGS --json -q`, drop wall-clock fields (as scripts/ab.sh
# does) and store the report as tests/golden/NAME.json.
#
#   scripts/golden.sh [BINARY] [NAME...]
#   scripts/golden.sh                                # target/release/gossip, every config
#   scripts/golden.sh /tmp/gossip-base glomers       # one config, from another build
#
# Record a deliberate change of the simulator's output with one command,
# then review `git diff tests/golden/` before committing it. Stored reports
# whose name is no longer in configs.txt are listed, not deleted.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/release/gossip}
shift || true
if [ ! -x "$bin" ]; then
  echo "golden.sh: $bin is not an executable (build it: cargo build --release --bin gossip)" >&2
  exit 2
fi
dir=tests/golden
configs=$dir/configs.txt

wanted() { # is config $1 among the names given (all when none were)?
  [ ${#names[@]} -eq 0 ] && return 0
  local n
  for n in "${names[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}
names=("$@")

declare -A seen=()
written=0
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in '' | '#'*) continue ;; esac
  name=${line%%:*}
  args=${line#*:}
  if [ "$name" = "$line" ] || ! [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "golden.sh: $configs: not a NAME: ARGS line: $line" >&2
    exit 2
  fi
  if [ -n "${seen[$name]:-}" ]; then
    echo "golden.sh: $configs: $name appears twice" >&2
    exit 2
  fi
  seen[$name]=1
  wanted "$name" || continue
  # shellcheck disable=SC2086 # ARGS is split into words, as the test does
  "$bin" sim $args --json -q | sed 's/"wall[^,]*,//g' > "$dir/$name.json.tmp"
  mv "$dir/$name.json.tmp" "$dir/$name.json"
  written=$((written + 1))
done < "$configs"

for n in "${names[@]}"; do
  [ -n "${seen[$n]:-}" ] || { echo "golden.sh: no config named $n in $configs" >&2; exit 2; }
done
echo "golden.sh: wrote $written report(s) from $bin" >&2
for f in "$dir"/*.json; do
  n=$(basename "$f" .json)
  [ -n "${seen[$n]:-}" ] || echo "golden.sh: $f has no line in $configs (delete it if the config is gone)" >&2
done
