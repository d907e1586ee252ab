#!/usr/bin/env bash
# The native node's POST /gossip/ against a bare axum parse-and-echo handler
# (examples/echo_server.rs), side by side in one run, as in BENCHMARKS.md.
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
# as long as base URLs) and 3 fresh updates; the node knows the same 100
# origins, so it answers with what the sender lacks: its own favorite.
uuid() { printf '%08x-0000-4000-8000-%012x' "$1" "$1"; }
upd() { printf '{"uuid":"%s","origin":"node-127.0.0.1-%05d","epoch":1763700000,"version":%d,"ttl":5,"payload":"%s"}' \
  "$(uuid "$1")" "$1" 3 "The Grand Budapest Hotel"; }
{
  printf '{"from":"bench-seed","delta":['
  for i in $(seq 1 100); do [ "$i" -gt 1 ] && printf ','; upd "$i"; done
  printf ']}'
} >"$work/seed.json"
{
  printf '{"from":"bench-client","updates":['
  for i in 1 2 3; do [ "$i" -gt 1 ] && printf ','; upd "$i"; done
  printf '],"digest":{'
  for i in $(seq 1 100); do [ "$i" -gt 1 ] && printf ','; printf '"node-127.0.0.1-%05d":[1763700000,3]' "$i"; done
  printf '}}'
} >"$work/request.json"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/request.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/$2" && return 0; sleep 0.05; done; return 1; }

run_wrk() { # label url
  local out
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "$2")
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
  taskset -c 0 "$bin" -p "$port" --change-ms 0 --movie "Alien" --threads 1 >/dev/null 2>&1 &
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

  port=$(free_port)
  taskset -c 0 "$echo_bin" "127.0.0.1:$port" >/dev/null 2>&1 &
  pids+=($!)
  wait_up "$port" "" || true
  run_wrk echo "http://127.0.0.1:$port/gossip/"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
best() { sort -g "$work/$1.rps" | tail -1; }
awk -v n="$(best node)" -v e="$(best echo)" 'BEGIN { printf "best of rounds: node %.0f req/s, echo %.0f req/s, node/echo = %.0f %%\n", n, e, 100 * n / e }'
