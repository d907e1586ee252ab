#!/usr/bin/env bash
# Compare two gossip binaries on the same `gossip sim` command, side by
# side: the binaries take turns, ROUNDS rounds, and the median and the best
# wall time of each are printed with every run. On a shared, noisy machine
# only such alternated pairs are worth comparing (see BENCHMARKS.md).
#
#   scripts/ab.sh OLD_BINARY NEW_BINARY [sim arguments...]
#   ROUNDS=5 scripts/ab.sh /tmp/gossip-before target/release/gossip \
#       --nodes 2000 --scenario movies --model events --threads 2
#
# Each run's report goes to /dev/null (`-q` is added); the reports of the
# two binaries are compared once, after the timed runs, with their
# wall-clock fields removed, and a difference is reported.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
a=$1
b=$2
shift 2
rounds=${ROUNDS:-5}
for bin in "$a" "$b"; do
  if [ ! -x "$bin" ]; then
    echo "ab.sh: $bin is not an executable" >&2
    exit 2
  fi
done

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for i in $(seq "$rounds"); do
  for k in a b; do
    bin=$a
    [ "$k" = b ] && bin=$b
    /usr/bin/time -f "%e %U %S %M" -o "$dir/t" "$bin" sim "$@" -q > /dev/null
    cat "$dir/t" >> "$dir/$k"
  done
  echo "round $i/$rounds done" >&2
done

# the same report from both, wall times aside
for k in a b; do
  bin=$a
  [ "$k" = b ] && bin=$b
  "$bin" sim "$@" -q --json | sed 's/"wall[^,]*,//g' > "$dir/$k.json"
done
if ! cmp -s "$dir/a.json" "$dir/b.json"; then
  echo "ab.sh: the two binaries' reports differ" >&2
fi

python3 - "$dir" "$a" "$b" <<'PY'
import statistics, sys
d, names = sys.argv[1], sys.argv[2:]
rows = {}
for k, name in zip("ab", names):
    runs = [list(map(float, l.split())) for l in open(f"{d}/{k}") if l.strip()]
    wall = [r[0] for r in runs]
    rows[k] = statistics.median(wall)
    print(f"{name}: wall median {statistics.median(wall):.2f} s, best {min(wall):.2f} s, "
          f"user median {statistics.median(r[1] for r in runs):.2f} s, "
          f"peak RSS {max(r[3] for r in runs) / 1024:.0f} MB; runs: "
          + " ".join(f"{w:.2f}" for w in wall))
print(f"new / old, medians: {rows['b'] / rows['a']:.2f}")
PY
