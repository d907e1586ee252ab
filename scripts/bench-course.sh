#!/usr/bin/env bash
# The course kit's figure: the course's literal commands, native nodes and
# examples/course_node.py bootstrapping from each other both ways, default
# flags (1 s interval), and the time from the last start until every node's
# GET /state holds every node's current favorite. Usage:
#   scripts/bench-course.sh [repeats] [base port]
# (default 5 repeats on ports 17000-17003; the course uses 7000-7003).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-5}
BASE=${2:-17000}
GOSSIP=target/release/gossip
[ -x "$GOSSIP" ] || cargo build --release --bin gossip
exec python3 - "$REPEATS" "$BASE" "$GOSSIP" <<'PY'
import json, subprocess, sys, time, urllib.request
repeats, base, gossip = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
p = [base + i for i in range(4)]
def cmds(python_first):
    # a chain 0 <- 1 <- 2 <- 3 (each bootstraps from the one before), native
    # and Python alternating: every kind bootstraps from the other kind
    native = lambda i, b: [gossip, "-p", str(p[i]), "-b", str(p[b])]
    python = lambda i, b: ["python3", "examples/course_node.py", "-p", str(p[i]), "-b", str(p[b])]
    kinds = [python, native] if python_first else [native, python]
    return [kinds[i % 2](i, max(i - 1, 0)) for i in range(4)]
def state(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/state", timeout=1) as r:
            return json.loads(r.read())
    except Exception:
        return None
def converged():
    ss = [state(q) for q in p]
    if any(s is None for s in ss):
        return False
    return all(all((o["view"].get(s["id"]) or {}).get("version") == s["version"]
                   and (o["view"].get(s["id"]) or {}).get("epoch") == s["epoch"] for s in ss) for o in ss)
def listening(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False
for python_first in (False, True):
  times, firsts = [], []
  print("first node:", "Python" if python_first else "native", flush=True)
  for r in range(repeats):
    procs = []
    try:
        first = time.time()
        for i, c in enumerate(cmds(python_first)):
            procs.append(subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            t0 = time.time()
            while not listening(p[i]):
                if time.time() - t0 > 10:
                    sys.exit(f"port {p[i]} did not open")
                time.sleep(0.01)
        last = time.time()
        while not converged():
            if time.time() - last > 30:
                sys.exit("no convergence within 30 s")
            time.sleep(0.02)
        times.append(time.time() - last)
        firsts.append(time.time() - first)
        print(f"  run {r + 1}: converged {times[-1]:.2f} s after the last start, {firsts[-1]:.2f} s after the first", flush=True)
    finally:
        for q in procs:
            q.kill()
            q.wait()
    time.sleep(0.5)
  times.sort()
  firsts.sort()
  print(f"  after the last start: median {times[len(times) // 2]:.2f} s, worst {times[-1]:.2f} s; "
        f"after the first: median {firsts[len(firsts) // 2]:.2f} s, worst {firsts[-1]:.2f} s ({repeats} runs)", flush=True)
PY
