#!/usr/bin/env python3
"""A course node: gossip your favorite movie over HTTP, Python stdlib only.

The worked example for students: it speaks the wire format of PROTOCOL.md
("A minimal interoperable node" plus pull answers and epochs), so it joins a
network of native `gossip` nodes and passes `gossip test-node`:

    gossip -p 7000 &                                  # a native node
    python3 examples/course_node.py -p 7001 -b 7000   # this node joins it
    gossip test-node --cmd 'python3 examples/course_node.py -p {port} -b {bootstrap}'

What it does, section by section of PROTOCOL.md:

* Updates: its favorite is an update {uuid, origin, epoch, version, ttl,
  payload}; version 1 for the first favorite, +1 for each new one.
* Version ordering: a view entry is replaced only by a strictly newer
  (epoch, version).
* Deduplication: the UUIDs of pushed updates are remembered for 120 s; a
  pushed update seen before, or not newer than the view, is dropped and
  never forwarded again.
* TTL: a fresh pushed update is forwarded with ttl - 1 to `fanout` random
  peers (never back to its sender or its origin), and not at all at ttl 0.
* Restarts: epochs: each start is a new epoch (wall-clock seconds), so a
  restarted node's new favorite (version 1 again) still wins.
* Seals: this node does not sign, but it keeps the `key` and `sig` of the
  updates it learns and forwards them unchanged.
* POST /gossip/: applies `delta`, then `updates`, then answers a `digest`
  with a `delta` (what the sender lacks) and a `want` (what it lacks), and a
  `want` with a `delta`.
* The default exchange: push-pull: every interval it sends its digest to
  `fanout` random peers, applies the answer's delta and sends what the
  answer wants.
* Joining: bootstrap: asks the bootstrap peer for its peers and its view.
* Peers that stop answering: a peer whose exchange fails is suspect (not
  listed by GET /peers/, not picked), but is tried again now and then.

Every request it cannot understand gets a 400 with a JSON error, never a
crash. A hidden `--break WHAT` flag (dedup, ttl, epoch, version0, seals)
switches one rule off, to show what `gossip test-node` says about each bug.
"""

import argparse
import json
import random
import sys
import threading
import time
import urllib.request
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MOVIES = ["Alien", "Brazil", "Casablanca", "Heat", "Jaws", "Metropolis",
          "Psycho", "Rashomon", "Stalker", "Up", "Vertigo", "Witness"]
MAX_BODY = 1 << 20       # bytes of a request body we read
MAX_TTL = 64             # larger TTLs are clamped
SEEN_FOR = 120.0         # seconds a pushed UUID is remembered
SEEN_MAX = 100_000       # and at most this many of them
MAX_VERSION = 2**53 - 1
BREAKS = ("dedup", "ttl", "epoch", "version0", "seals")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class BadRequest(Exception):
    """A body that is not what PROTOCOL.md says: answered with a 400."""

    def __init__(self, reason, error):
        super().__init__(error)
        self.reason = reason


def is_base_url(u):
    if not isinstance(u, str) or len(u) > 256 or not u.startswith("http://"):
        return False
    rest = u[len("http://"):]
    return rest != "" and all(c not in rest for c in "/?#@ ")


def check_int(d, field, lo, hi, default=None):
    v = d.get(field, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise BadRequest("invalid_field", f"{field} must be an integer from {lo} to {hi}")
    return v


def check_update(u):
    """A valid update from the wire, as a dict with exactly our fields."""
    if not isinstance(u, dict):
        raise BadRequest("invalid_field", "an update must be an object")
    for field, limit in (("uuid", 36), ("origin", 256), ("payload", 512)):
        v = u.get(field)
        if not isinstance(v, str) or len(v.encode()) > limit or (field != "payload" and not v):
            raise BadRequest("invalid_field", f"{field} must be a string of at most {limit} bytes")
    try:
        uuid = str(uuidlib.UUID(u["uuid"]))
    except ValueError:
        raise BadRequest("invalid_field", "uuid is not a UUID") from None
    out = {
        "uuid": uuid,
        "origin": u["origin"],
        "epoch": check_int(u, "epoch", 0, 2**32 - 1, 0),
        "version": check_int(u, "version", 0, MAX_VERSION),
        "ttl": min(check_int(u, "ttl", 0, 2**64), MAX_TTL),
        "payload": u["payload"],
    }
    key, sig = u.get("key"), u.get("sig")
    if (key is None) != (sig is None) or not all(isinstance(x, str) for x in (key, sig) if x is not None):
        raise BadRequest("invalid_field", "key and sig come together, as strings")
    if key is not None:
        out["key"], out["sig"] = key, sig
    return out


def check_digest(d, field):
    v = d.get(field, {})
    if not isinstance(v, dict):
        raise BadRequest("invalid_field", f"{field} must be an object")
    out = {}
    for origin, pair in v.items():
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in pair)):
            raise BadRequest("invalid_field", f"{field}[{origin!r}] must be [epoch, version]")
        out[origin] = tuple(pair)
    return out


def newer(a, b):
    """Whether (epoch, version) pair a is strictly newer than b (None: nothing)."""
    return b is None or a > b


def vkey(u):
    return (u.get("epoch", 0), u["version"])


class CourseNode:
    def __init__(self, args):
        self.port = args.port
        self.id = f"http://127.0.0.1:{args.port}"
        self.fanout, self.ttl = args.fanout, args.ttl
        self.interval = args.interval_ms / 1000.0
        self.change = args.change_ms / 1000.0
        self.broken = args.break_ or ""
        self.epoch = 0 if self.broken == "epoch" else int(time.time())
        self.version = -1 if self.broken == "version0" else 0
        self.lock = threading.Lock()
        self.view = {}        # origin -> the newest update we hold
        self.seen = {}        # uuid -> when we first saw it pushed
        self.peers = {}       # base URL -> True when it answers, False when suspect
        self.bootstrap = None
        if args.bootstrap_port and args.bootstrap_port != args.port:
            self.bootstrap = f"http://127.0.0.1:{args.bootstrap_port}"
            self.peers[self.bootstrap] = True
        self.movie = args.movie or random.choice(MOVIES)

    # ---- our own favorite -------------------------------------------------

    def new_favorite(self, movie):
        with self.lock:
            self.version += 1
            u = {"uuid": str(uuidlib.uuid4()), "origin": self.id, "epoch": self.epoch,
                 "version": self.version, "ttl": self.ttl, "payload": movie}
            if self.broken == "epoch":
                del u["epoch"]
            self.movie = movie
            self.view[self.id] = u
            self.seen[u["uuid"]] = time.time()
            targets = self.sample(self.fanout, exclude=())
        log(f"{self.id}: my favorite is now {movie!r} (epoch {self.epoch}, version {self.version})")
        for p in targets:
            self.send_async(p, {"updates": [u]})

    # ---- applying what arrives --------------------------------------------

    def keep(self, u):
        """Keep `u` if it is strictly newer than our entry; with the lock held."""
        if self.broken == "seals":
            u = {k: v for k, v in u.items() if k not in ("key", "sig")}
        have = self.view.get(u["origin"])
        if have is None or newer(vkey(u), vkey(have)):
            self.view[u["origin"]] = u
            if is_base_url(u["origin"]) and u["origin"] != self.id:
                self.peers.setdefault(u["origin"], True)
            return True
        return False

    def push_in(self, u, sender):
        """A pushed update: keep it if fresh, and say where to forward it."""
        now = time.time()
        fresh_uuid = u["uuid"] not in self.seen
        self.seen.setdefault(u["uuid"], now)
        if len(self.seen) > SEEN_MAX or random.random() < 0.01:
            self.seen = {k: t for k, t in self.seen.items() if now - t < SEEN_FOR}
        kept = self.keep(u)
        if self.broken == "dedup":
            fresh = True  # the bug: forward whatever arrives
        else:
            fresh = fresh_uuid and kept
        if not fresh:
            return []
        if self.broken == "ttl":
            out = dict(u)  # the bug: the same TTL, even 0
        elif u["ttl"] == 0:
            return []
        else:
            out = dict(u, ttl=u["ttl"] - 1)
        if self.broken == "seals":
            out.pop("key", None)
            out.pop("sig", None)
        return [(p, out) for p in self.sample(self.fanout, exclude=(sender, u["origin"]))]

    def delta_for(self, digest):
        """Every entry newer than the digest's, or missing from it."""
        return [u for o, u in self.view.items() if newer(vkey(u), digest.get(o))]

    def want_for(self, digest):
        want = {}
        for o, v in digest.items():
            have = self.view.get(o)
            if have is None or newer(v, vkey(have)):
                want[o] = list(vkey(have)) if have else [0, 0]
        return want

    def exchange(self, body):
        """POST /gossip/: apply the envelope, return (answer, forwards)."""
        if not isinstance(body, dict):
            raise BadRequest("invalid_field", "the body must be a JSON object")
        sender = body.get("from")
        if not isinstance(sender, str) or not sender or len(sender.encode()) > 256:
            raise BadRequest("invalid_field", "from must be a non-empty string")
        url = body.get("url")
        if url is not None and not is_base_url(url):
            raise BadRequest("invalid_field", "url must be an http:// base URL")
        for field in ("updates", "delta"):
            if not isinstance(body.get(field, []), list):
                raise BadRequest("invalid_field", f"{field} must be an array")
        delta = [check_update(u) for u in body.get("delta", [])]
        updates = [check_update(u) for u in body.get("updates", [])]
        digest = check_digest(body, "digest") if "digest" in body else None
        want = check_digest(body, "want")
        answer = {"from": self.id, "url": self.id}
        forwards = []
        with self.lock:
            if url and url != self.id:
                self.peers[url] = True
            for u in delta:
                self.keep(u)
            for u in updates:
                forwards += self.push_in(u, url or sender)
            if digest is not None:
                d = self.delta_for(digest)
                if d:
                    answer["delta"] = d
                w = self.want_for(digest)
                if w and not body.get("pull_only"):
                    answer["want"] = w
            if want:
                answer.setdefault("delta", []).extend(
                    u for o, u in self.view.items() if o in want and newer(vkey(u), tuple(want[o])))
        return answer, forwards

    # ---- talking to peers -------------------------------------------------

    def sample(self, k, exclude):
        """Up to k random answering peers, not in `exclude`; with the lock held."""
        live = [p for p, ok in self.peers.items() if ok and p not in exclude]
        return random.sample(live, min(k, len(live)))

    def post(self, peer, fields):
        """One exchange with `peer`; its answer (a dict) or None if it failed."""
        body = dict({"from": self.id, "url": self.id}, **fields)
        req = urllib.request.Request(peer + "/gossip/", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=2) as r:
                answer = json.loads(r.read(MAX_BODY))
            with self.lock:
                self.peers[peer] = True
            return answer if isinstance(answer, dict) else None
        except Exception as e:  # refused, timed out, 4xx/5xx, not JSON: the peer is suspect
            with self.lock:
                if peer in self.peers:
                    self.peers[peer] = False
            log(f"{self.id}: {peer} did not answer: {e}")
            return None

    def apply_answer(self, peer, answer):
        """Apply an answer's delta; send the follow-up delta it wants."""
        if not answer:
            return
        try:
            delta = [check_update(u) for u in answer.get("delta", [])]
            want = check_digest(answer, "want")
        except BadRequest as e:
            log(f"{self.id}: bad answer from {peer}: {e}")
            return
        with self.lock:
            for u in delta:
                self.keep(u)
            follow = [u for o, u in self.view.items() if o in want and newer(vkey(u), tuple(want[o]))]
        if follow:
            self.post(peer, {"delta": follow})

    def send_async(self, peer, fields):
        threading.Thread(target=self.post, args=(peer, fields), daemon=True).start()

    def join(self):
        """Joining: bootstrap: the bootstrap peer's peers, then its whole view."""
        if not self.bootstrap:
            return
        try:
            with urllib.request.urlopen(self.bootstrap + "/peers/", timeout=2) as r:
                peers = json.loads(r.read(64 * 1024))
            with self.lock:
                for p in peers[:64] if isinstance(peers, list) else []:
                    if is_base_url(p) and p != self.id:
                        self.peers.setdefault(p, True)
        except Exception as e:
            log(f"{self.id}: bootstrap {self.bootstrap}/peers/ failed: {e}")
        self.apply_answer(self.bootstrap, self.post(self.bootstrap, {"digest": {}, "pull_only": True}))

    def gossip_loop(self):
        self.join()
        self.new_favorite(self.movie)
        next_change = time.time() + self.change if self.change > 0 else None
        while True:
            time.sleep(self.interval)
            if next_change and time.time() >= next_change:
                self.new_favorite(random.choice([m for m in MOVIES if m != self.movie]))
                next_change = time.time() + self.change * random.uniform(0.8, 1.2)
            with self.lock:
                targets = self.sample(self.fanout, exclude=())
                # Peers that stop answering: keep trying a suspect peer now and then
                suspects = [p for p, ok in self.peers.items() if not ok]
                if suspects and (not targets or random.random() < 0.25):
                    targets.append(random.choice(suspects))
                digest = {o: list(vkey(u)) for o, u in self.view.items()}
            for p in targets:
                threading.Thread(target=lambda p=p: self.apply_answer(p, self.post(p, {"digest": digest})),
                                 daemon=True).start()

    def state(self):
        with self.lock:
            return {"id": self.id, "url": self.id, "movie": self.movie, "version": self.version,
                    "epoch": self.epoch, "protocol": "push-pull",
                    "peers": sorted(p for p, ok in self.peers.items() if ok),
                    "suspect": sorted(p for p, ok in self.peers.items() if not ok),
                    "view": {o: {"movie": u["payload"], "version": u["version"], "epoch": u.get("epoch", 0),
                                 "uuid": u["uuid"], "ttl": u["ttl"]} for o, u in self.view.items()}}


def make_handler(node):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self):  # CORS preflight, for the browser lab
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, POST")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Allow-Private-Network", "true")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            path = self.path.rstrip("/")
            if path == "/peers":
                with node.lock:
                    self.reply(200, [p for p, ok in node.peers.items() if ok])
            elif path == "/state":
                self.reply(200, node.state())
            else:
                self.reply(404, {"error": "no such path", "reason": "not_found"})

        def do_POST(self):
            if self.path.rstrip("/") != "/gossip":
                self.close_connection = True
                return self.reply(404, {"error": "no such path", "reason": "not_found"})
            try:
                n = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self.close_connection = True
                return self.reply(411, {"error": "Content-Length required", "reason": "body_read"})
            if not 0 <= n <= MAX_BODY:
                self.close_connection = True
                return self.reply(413, {"error": f"at most {MAX_BODY} bytes", "reason": "too_large"})
            try:
                raw = self.rfile.read(n)
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                return self.reply(400, {"error": "not JSON", "reason": "malformed_json"})
            try:
                answer, forwards = node.exchange(body)
            except BadRequest as e:
                return self.reply(400, {"error": str(e), "reason": e.reason})
            self.reply(200, answer)
            for peer, u in forwards:
                node.send_async(peer, {"updates": [u]})

    return Handler


def main():
    ap = argparse.ArgumentParser(description="A course gossip node (favorite movies over HTTP).")
    ap.add_argument("-p", "--port", type=int, default=7000, help="port to listen on")
    ap.add_argument("-b", "--bootstrap-port", type=int, help="port of the node to bootstrap from")
    ap.add_argument("--movie", help="first favorite movie (default: a random one)")
    ap.add_argument("--interval-ms", type=int, default=1000, help="gossip interval, ms")
    ap.add_argument("--change-ms", type=int, default=20_000, help="pick a new favorite about this often (0: never)")
    ap.add_argument("--fanout", type=int, default=2, help="peers per interval and per push")
    ap.add_argument("--ttl", type=int, default=6, help="hops a pushed update may travel")
    ap.add_argument("--break", dest="break_", choices=BREAKS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not 1 <= args.port <= 65535 or args.interval_ms < 1 or args.fanout < 1 or not 0 <= args.ttl <= MAX_TTL:
        ap.error("bad --port, --interval-ms, --fanout or --ttl")
    node = CourseNode(args)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(node))
    except OSError as e:
        sys.exit(f"course_node: cannot listen on port {args.port}: {e}")
    server.daemon_threads = True
    log(f"{node.id}: listening" + (f", bootstrap {node.bootstrap}" if node.bootstrap else ""))
    threading.Thread(target=node.gossip_loop, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
