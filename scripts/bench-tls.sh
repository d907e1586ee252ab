#!/usr/bin/env bash
# HTTPS beside plain HTTP on the native node, as in BENCHMARKS.md:
#  1. a 5-node `gossip cluster` (interval 200 ms): time from start until
#     every node's view holds all five (polled every 50 ms);
#  2. 2,000 `GET /peers/` on one keep-alive connection (one curl process);
#  3. 300 `GET /peers/` each on a new connection (one curl process,
#     Connection: close): every HTTPS request pays a full handshake.
# The CA and the loopback certificate are made with openssl in a temporary
# directory. Usage: scripts/bench-tls.sh [rounds]. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --release --quiet --bin gossip
bin=target/release/gossip
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

ssl() { openssl "$@" 2>/dev/null; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$work/ca.key" -out "$work/ca.pem" \
  -subj "/CN=bench CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/node.key" -out "$work/node.csr" -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$work/leaf.ext"
ssl x509 -req -in "$work/node.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -out "$work/node.pem" -extfile "$work/leaf.ext"
tls=(--tls-cert "$work/node.pem" --tls-key "$work/node.key" --tls-ca "$work/ca.pem")

free_base() { python3 -c 'import random; print(random.randrange(20000, 31000, 10))'; }
now_ms() { date +%s%3N; }
full() { # scheme port: whether the node's view holds 5 origins
  curl -s --cacert "$work/ca.pem" --max-time 1 "$1://127.0.0.1:$2/state" \
    | python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)["view"]) == 5 else 1)' 2>/dev/null
}
converge() { # scheme [flags...]: ms until 5 nodes converge
  local scheme=$1; shift
  local base; base=$(free_base)
  local t0; t0=$(now_ms)
  "$bin" cluster --nodes 5 --base-port "$base" --interval-ms 200 --change-ms 0 "$@" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 400); do
    local ok=1
    for i in 0 1 2 3 4; do full "$scheme" $((base + i)) || { ok=0; break; }; done
    if [ $ok = 1 ]; then echo $(($(now_ms) - t0)); kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; return; fi
    sleep 0.05
  done
  echo "never"; kill "${pids[-1]}"
}
requests() { # scheme port n [curl flags...]: ms for n GET /peers/ from one curl process
  local scheme=$1 port=$2 n=$3; shift 3
  local cfg="$work/urls.$scheme"
  : >"$cfg"
  for _ in $(seq "$n"); do printf 'url = "%s://127.0.0.1:%s/peers/"\noutput = "/dev/null"\n' "$scheme" "$port" >>"$cfg"; done
  local t0; t0=$(now_ms)
  curl -s --cacert "$work/ca.pem" "$@" -K "$cfg"
  echo $(($(now_ms) - t0))
}

echo "machine: $(nproc) cores, $(uname -m), $(date -u +%F), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  echo "round $r: 5-node cluster converges: http $(converge http) ms, https $(converge https "${tls[@]}") ms"
  port=$((20000 + RANDOM % 10000))
  "$bin" -p "$port" --change-ms 0 --client-rps 0 >/dev/null 2>&1 &
  pids+=($!)
  tport=$((port + 1))
  "$bin" -p "$tport" --change-ms 0 --client-rps 0 "${tls[@]}" >/dev/null 2>&1 &
  pids+=($!)
  sleep 0.5
  echo "round $r: 2000 GET keep-alive: http $(requests http "$port" 2000) ms, https $(requests https "$tport" 2000) ms"
  echo "round $r: 300 GET new connections: http $(requests http "$port" 300 -H 'Connection: close') ms, https $(requests https "$tport" 300 -H 'Connection: close') ms"
  kill "${pids[-1]}" "${pids[-2]}"; wait "${pids[-1]}" "${pids[-2]}" 2>/dev/null || true
done
