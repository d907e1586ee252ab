#!/usr/bin/env bash
# The native node's POST /gossip/ against a bare axum parse-and-echo handler
# (tools/echo_server.rs), side by side in one run, as in BENCHMARKS.md.
# Usage: scripts/bench-http.sh [seconds per run] [rounds] [connections]
# Each server is pinned to core 0 (one tokio thread), wrk to core 1.
# Installs wrk from Debian if missing (needs root); loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-3}
conns=${3:-32}
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
cargo build --release --quiet --bin gossip --example echo_server
bin=target/release/gossip
echo_bin=target/release/examples/echo_server
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The realistic request: a 100-entry digest (a 100-node network, identities
# as long as base URLs) and 3 updates the node already has, every update
# sealed (Ed25519) as nodes require; the node knows the same 100 origins, so
# it answers with what the sender lacks: its own favorite. Duplicates are
# never verified. The worst case, "fresh": every request carries 3 sealed
# updates the node has never seen, so each one is verified (a new body per
# request, cycling through $fresh_n pre-signed ones).
fresh_n=${FRESH_BODIES:-60000}
cargo run --release --quiet --example auth_cost -- bodies "$work" "$fresh_n"
cp "$work/dup.json" "$work/request.json"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/request.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA
cat >"$work/fresh.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
for line in io.lines("$work/fresh.txt") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/$2" && return 0; sleep 0.05; done; return 1; }

run_wrk() { # label url [script]
  local out
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "${3:-$work/post.lua}" "$2")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local errs
  errs=$(echo "$out" | grep -E "Non-2xx|Socket errors" || true)
  printf '%-6s %10s req/s   p99 %8s  %s\n' "$1" "$rps" "$p99" "$errs"
  echo "$rps" >>"$work/$1.rps"
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F); request $(wc -c <"$work/request.json") bytes; wrk -c$conns, ${secs}s per run"
for r in $(seq "$rounds"); do
  port=$(free_port)
  taskset -c 0 "$bin" -p "$port" --change-ms 0 --movie "Alien" --threads 1 --client-rps 0 >/dev/null 2>&1 &
  pids+=($!)
  wait_up "$port" state
  curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @"$work/seed.json" "http://127.0.0.1:$port/gossip/"
  if [ "$r" = 1 ]; then
    echo "sample answer: $(curl -s -H 'Content-Type: application/json' --data-binary @"$work/request.json" "http://127.0.0.1:$port/gossip/" | head -c 300)"
    # the HTTP stack's ceiling on this machine right now: a trivial GET
    ceiling=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/peers/" | awk '/Requests\/sec/ {print $2}')
    echo "ceiling: GET /peers/ (a 2-byte answer) $ceiling req/s"
  fi
  run_wrk node "http://127.0.0.1:$port/gossip/"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

  # every update fresh, every seal verified (a new node: nothing seen yet)
  port=$(free_port)
  taskset -c 0 "$bin" -p "$port" --change-ms 0 --movie "Alien" --threads 1 --client-rps 0 >/dev/null 2>&1 &
  pids+=($!)
  wait_up "$port" state
  run_wrk fresh "http://127.0.0.1:$port/gossip/" "$work/fresh.lua"
  curl -s "http://127.0.0.1:$port/metrics" | grep -E 'outcome="(fresh|bad_signature|unsigned|key_mismatch)"' | tr '\n' ' '; echo
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

  port=$(free_port)
  taskset -c 0 "$echo_bin" "127.0.0.1:$port" >/dev/null 2>&1 &
  pids+=($!)
  wait_up "$port" "" || true
  run_wrk echo "http://127.0.0.1:$port/gossip/"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
best() { sort -g "$work/$1.rps" | tail -1; }
awk -v n="$(best node)" -v f="$(best fresh)" -v e="$(best echo)" 'BEGIN { printf "best of rounds: node %.0f req/s (%.0f %% of echo), every update fresh and verified %.0f req/s (%.0f %% of echo), echo %.0f req/s\n", n, 100 * n / e, f, 100 * f / e, e }'
