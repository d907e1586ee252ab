//! Mixing the page's virtual nodes with real HTTP nodes: the bridge.
//!
//! A [`Bridge`] joins a [`Live`] run to native `gossip` nodes (or any node
//! that speaks `PROTOCOL.md`). It is sans-IO like the core: the driver (the
//! page's fetch transport in `wasm.rs`, or a test with `reqwest`) takes
//! requests from [`Bridge::poll_request`], performs them, and hands the
//! outcomes back with [`Bridge::handle_response`]; once a frame it calls
//! [`Bridge::pump`], which applies what came back to the run and decides what
//! to send next. Times are wall-clock milliseconds from the driver.
//!
//! How the two worlds meet:
//!
//! * A few **gateway** virtual nodes (3 by default, spread over the
//!   population) each exchange with a random answering native node once per
//!   period: `POST /gossip/` with the gateway's digest, without a `url`
//!   (browser nodes cannot be dialed). The answer's `delta` is delivered to
//!   the gateway as if it came over the simulated network, so it spreads to
//!   every virtual node by the simulated protocol; the answer's `want` makes
//!   the gateway's core send a delta back, which goes out as a follow-up
//!   `POST /gossip/`. What the page knows thus reaches the native nodes and
//!   what they know reaches the page; natives pass browser-origin updates on
//!   among themselves.
//! * Native nodes are found through `GET /peers/` of the node connected to
//!   (and of every answering one, now and then), and from update origins that
//!   are base URLs. Each gets a slot in the run ([`Live::add_remote`]) so its
//!   favorite is an origin like any other; `GET /state` (polled) shows its
//!   favorite and view, which the page draws with its measured round-trip
//!   time.
//! * The bridge never floods a real node: a token bucket bounds the requests
//!   per second overall and per node, each node has at most two requests in
//!   flight, and a node that stops answering is marked unreachable and only
//!   probed again after an exponential backoff (1 s doubling to 30 s, with
//!   jitter). Failures become [`Notice`]s, once per change, not a stream.
//!
//! Identities: virtual node `i` is `browser-<tag>-<i>`, with a random tag
//! per page. UUIDs of updates made in the page are XORed with a random
//! per-page key on the way out (and back in), so two pages started with the
//! same seed never send the same UUID for different updates.
//!
//! Authenticity (as native nodes see it, see `core::auth`): each virtual
//! node has its own Ed25519 key pair, derived from a per-page secret and its
//! index when its first update leaves the page. Updates of virtual nodes are
//! sealed on the way out over their *wire* form (wire UUID, wire name);
//! updates of other origins leave with the seal they came in with (the
//! simulated nodes carry seals along unchanged). On the way in, every seal
//! new to the bridge is verified before the update enters the run, unsigned
//! updates are refused (unless [`BridgeOptions::allow_unsigned`]), and each
//! outside origin is bound to the first key that sealed it (trust on first
//! use); a native node's identity is bound again to the key it answers with
//! when the answer comes from the URL the page dialed (direct proof), as
//! native nodes do among themselves. Refusals are counted in
//! [`BridgeStats`] and noticed once per native node.

mod answers;
mod bounded;
mod identities;
mod notices;
mod registry;
mod schedule;
mod seals;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde::Serialize;

use crate::core::auth::{PublicKey, Seal, Signer};
use crate::core::{Message, Payload, Uuid, Version};
use crate::rng::Rng;
use crate::sim::live::Live;
use crate::wire::Id;

use bounded::Bounded;
use identities::SIGNERS_CAP;
use registry::Native;
use schedule::{spread, Bucket, Pending, FOLLOW_UP_CAP};
use seals::{SEALS_CAP, VERIFIED_CAP, VERIFY_PER_PUMP};

pub use identities::normalize_url;
pub use notices::Notice;
pub use registry::{NativeView, Reach};

/// How the bridge behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct BridgeOptions {
    /// How many virtual nodes talk to real nodes.
    pub gateways: u32,
    /// Each gateway's exchange period, ms.
    pub exchange_ms: u64,
    /// How often each native node's `GET /state` is polled, ms.
    pub state_poll_ms: u64,
    /// How often an answering native node is asked for its peers, ms.
    pub peers_poll_ms: u64,
    /// Most requests per second, all nodes together.
    pub max_rps: f64,
    /// Most requests per second to one node.
    pub per_node_rps: f64,
    /// A request that takes longer fails, ms.
    pub timeout_ms: u64,
    /// First retry delay after a failure, ms (doubles up to `backoff_max_ms`).
    pub backoff_min_ms: u64,
    /// Longest retry delay, ms.
    pub backoff_max_ms: u64,
    /// Most native nodes dialed.
    pub max_natives: usize,
    /// Most identities from outside the page (natives included).
    pub max_remote_origins: usize,
    /// Largest answer body read, bytes.
    pub max_body_bytes: usize,
    /// Accept updates without an Ed25519 seal from real nodes (to join
    /// nodes started with `--allow-unsigned` that relay course-style
    /// updates). Origins once seen signed stay bound to their key either way.
    pub allow_unsigned: bool,
}

impl Default for BridgeOptions {
    fn default() -> Self {
        BridgeOptions {
            gateways: 3,
            exchange_ms: 1_000,
            state_poll_ms: 2_000,
            peers_poll_ms: 10_000,
            max_rps: 10.0,
            per_node_rps: 4.0,
            timeout_ms: 3_000,
            backoff_min_ms: 1_000,
            backoff_max_ms: 30_000,
            max_natives: 64,
            max_remote_origins: 4_096,
            max_body_bytes: 1 << 20,
            allow_unsigned: false,
        }
    }
}

impl BridgeOptions {
    /// Check the options; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1_000).contains(&self.gateways) {
            return Err(format!("gateways must be 1 to 1000, got {}", self.gateways));
        }
        if !(self.max_rps.is_finite() && (0.1..=1_000.0).contains(&self.max_rps)) {
            return Err(format!("max requests per second must be 0.1 to 1000, got {}", self.max_rps));
        }
        if !(self.per_node_rps.is_finite() && self.per_node_rps >= 0.1) {
            return Err(format!("requests per second per node must be at least 0.1, got {}", self.per_node_rps));
        }
        if self.exchange_ms < 50 || self.state_poll_ms < 100 || self.peers_poll_ms < 100 {
            return Err("exchange period at least 50 ms, polls at least 100 ms".into());
        }
        if self.timeout_ms == 0 || self.backoff_min_ms == 0 || self.backoff_max_ms < self.backoff_min_ms {
            return Err("timeouts and backoff must be positive, the longest backoff at least the first".into());
        }
        Ok(())
    }
}

/// An HTTP request for the driver to perform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Hand it back with the outcome.
    pub id: u64,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The whole URL.
    pub url: String,
    /// A JSON body (sent with `Content-Type: application/json`).
    pub body: Option<String>,
    /// Give up after this long, ms.
    pub timeout_ms: u64,
}

/// What came back: a status and body, or why there was no answer (no
/// connection, timeout, CORS: browsers do not tell those apart).
pub type Outcome = Result<(u16, String), String>;

/// Counters of the bridge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BridgeStats {
    /// Requests handed to the driver.
    pub requests: u64,
    /// Answered with 2xx.
    pub ok: u64,
    /// Answered with another status.
    pub refused: u64,
    /// Not answered (network error, timeout, CORS).
    pub failed: u64,
    /// Exchanges (`POST /gossip/`) started by gateways.
    pub exchanges: u64,
    /// Follow-up deltas sent.
    pub follow_ups: u64,
    /// Updates sent to real nodes.
    pub updates_out: u64,
    /// Updates received from real nodes.
    pub updates_in: u64,
    /// Body bytes sent.
    pub bytes_out: u64,
    /// Body bytes received.
    pub bytes_in: u64,
    /// Times a request waited because of the rate limit.
    pub rate_limited: u64,
    /// Messages for real nodes that could not be sent (queue full, node gone).
    pub dropped: u64,
    /// Answers that could not be used (bad JSON, wrong shape, too large).
    pub bad_answers: u64,
    /// Identities ignored because the table of outside identities was full.
    pub origins_dropped: u64,
    /// Updates from real nodes refused for lack of a seal.
    pub unsigned: u64,
    /// Updates from real nodes refused because their seal does not verify.
    pub bad_signature: u64,
    /// Updates from real nodes refused because another key is bound to their origin.
    pub key_mismatch: u64,
    /// Seals made for virtual nodes' updates (each once, then cached).
    pub sealed: u64,
    /// Seals verified (each new one once, then cached).
    pub verified: u64,
    /// Updates not sent because their seal is no longer by their origin's
    /// key (it was bound to a new one), or because they are unsigned.
    pub withheld: u64,
    /// Updates left out unverified because answers held more new seals than
    /// the page verifies in one frame (they come again).
    pub deferred: u64,
}

impl BridgeStats {
    /// Updates refused by the authenticity checks.
    pub fn refused_updates(&self) -> u64 {
        self.unsigned + self.bad_signature + self.key_mismatch
    }
}

/// The join between a live run and real nodes. See the module documentation.
///
/// Calling contract: [`Bridge::connect`] starts it (and puts the run in
/// open-ended mode); then, once a frame, [`Bridge::pump`] with the run and
/// the wall-clock time, followed by [`Bridge::poll_request`] until it
/// returns `None`, performing each request and passing its outcome to
/// [`Bridge::handle_response`] whenever it completes (answers are applied at
/// the next `pump`). [`Bridge::disconnect`] ends it; answers to requests
/// made before are then ignored.
pub struct Bridge {
    opts: BridgeOptions,
    prefix: String,
    key: Uuid,
    rng: Rng,
    gateways: Vec<u32>,
    next_exchange: Vec<f64>,
    natives: Vec<Native>,
    by_url: HashMap<String, usize>,
    names: HashMap<Id, u32>,
    slot_names: BTreeMap<u32, Id>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    bucket: Bucket,
    follow_ups: VecDeque<(u32, u32, Message<u32>)>,
    ready: VecDeque<HttpRequest>,
    inbox: Vec<(u64, f64, Outcome)>,
    notices: Vec<Notice>,
    noticed: HashSet<String>,
    stats: BridgeStats,
    connected: bool,
    /// The page's secret: virtual nodes' key pairs derive from it.
    secret: [u8; 32],
    /// Virtual nodes' key pairs, made when first needed.
    signers: Bounded<u32, Arc<Signer>>,
    /// Seals of virtual nodes' updates: `(origin, version, run UUID)` -> (payload, seal).
    seals: Bounded<(u32, Version, Uuid), (Payload, Arc<Seal>)>,
    /// Seals known good (see [`seal_digest`]).
    verified: Bounded<u128, ()>,
    /// The key each outside origin (by slot) is bound to.
    bound: HashMap<u32, PublicKey>,
    sign_buf: Vec<u8>,
    /// Verifications left in this pump.
    verify_budget: u32,
}

impl Bridge {
    /// A bridge for a run of `virtual_nodes` nodes (the page's population
    /// when it starts; gateways are spread over it), with identities
    /// `browser-<tag>-<i>`. `entropy` must be random (it makes the UUID key
    /// and the tag's uniqueness), and `secret` random and kept secret (the
    /// virtual nodes' signing keys derive from it); the driver draws both
    /// from the OS or the browser's `crypto.getRandomValues`.
    pub fn new(opts: BridgeOptions, virtual_nodes: u32, entropy: [u64; 3], secret: [u8; 32]) -> Result<Bridge, String> {
        opts.validate()?;
        let tag = format!("{:08x}", entropy[0] as u32);
        let gateways = spread(opts.gateways, virtual_nodes);
        Ok(Bridge {
            prefix: format!("browser-{tag}-"),
            key: (entropy[1] as u128) << 64 | entropy[2] as u128,
            rng: Rng::new(entropy[0] ^ entropy[1].rotate_left(17)),
            next_exchange: vec![0.0; gateways.len()],
            gateways,
            natives: Vec::new(),
            by_url: HashMap::new(),
            names: HashMap::new(),
            slot_names: BTreeMap::new(),
            pending: HashMap::new(),
            next_id: 1,
            bucket: Bucket::new(opts.max_rps, 0.0),
            follow_ups: VecDeque::new(),
            ready: VecDeque::new(),
            inbox: Vec::new(),
            notices: Vec::new(),
            noticed: HashSet::new(),
            stats: BridgeStats::default(),
            connected: false,
            secret,
            signers: Bounded::new(SIGNERS_CAP),
            seals: Bounded::new(SEALS_CAP),
            verified: Bounded::new(VERIFIED_CAP),
            bound: HashMap::new(),
            sign_buf: Vec::new(),
            verify_budget: VERIFY_PER_PUMP,
            opts,
        })
    }

    /// Change the options while disconnected (gateways are chosen again,
    /// spread over `virtual_nodes`); the slots of nodes seen before stay.
    pub fn set_options(&mut self, opts: BridgeOptions, virtual_nodes: u32) -> Result<(), String> {
        if self.connected {
            return Err("disconnect before changing how the page talks to real nodes".into());
        }
        opts.validate()?;
        self.gateways = spread(opts.gateways, virtual_nodes);
        self.next_exchange = vec![0.0; self.gateways.len()];
        self.opts = opts;
        Ok(())
    }

    /// The options it runs with.
    pub fn options(&self) -> &BridgeOptions {
        &self.opts
    }

    /// The identity of virtual node `i` on the wire.
    pub fn name_of_virtual(&self, i: u32) -> String {
        format!("{}{i}", self.prefix)
    }

    /// The public key of virtual node `i` (made now if it has none yet).
    pub fn virtual_key(&mut self, i: u32) -> PublicKey {
        self.signer_of(i).public()
    }

    /// The key the outside origin in slot `slot` is bound to, if any.
    pub fn bound_key(&self, slot: u32) -> Option<PublicKey> {
        self.bound.get(&slot).copied()
    }

    /// The virtual nodes that talk to real nodes.
    pub fn gateways(&self) -> &[u32] {
        &self.gateways
    }

    /// Whether it is connected (and the run open-ended).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Connect to the real node at `url` (`http://host:port`): it and the
    /// nodes it lists as peers join the run. The run becomes open-ended.
    /// Connecting again adds another entry point.
    pub fn connect(&mut self, url: &str, live: &mut Live, now: f64) -> Result<(), String> {
        let url = normalize_url(url)?;
        if !self.connected {
            self.connected = true;
            live.set_open(true);
            self.bucket = Bucket::new(self.opts.max_rps, now);
            for t in &mut self.next_exchange {
                *t = now;
            }
        }
        self.add_native(&url, now);
        self.notice("info", format!("connecting to {url}"));
        Ok(())
    }

    /// Stop talking to real nodes. Their slots stay in the run, drawn as
    /// not answering; the run gets its time limit back.
    pub fn disconnect(&mut self, live: &mut Live) {
        if !self.connected {
            return;
        }
        self.connected = false;
        live.set_open(false);
        for n in &self.natives {
            if let Some(s) = n.slot {
                live.set_reachable(s, false);
            }
        }
        self.natives.clear();
        self.by_url.clear();
        self.pending.clear();
        self.follow_ups.clear();
        self.ready.clear();
        self.inbox.clear();
        self.notice("info", "disconnected from the real nodes".into());
    }

    /// The next request to perform, if any.
    pub fn poll_request(&mut self) -> Option<HttpRequest> {
        self.ready.pop_front()
    }

    /// The outcome of request `id`, at wall-clock time `now`. Applied at the
    /// next [`Bridge::pump`].
    pub fn handle_response(&mut self, id: u64, now: f64, outcome: Outcome) {
        if self.pending.contains_key(&id) {
            self.inbox.push((id, now, outcome));
        }
    }

    /// Messages for the page, each once.
    pub fn drain_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// The counters.
    pub fn stats(&self) -> BridgeStats {
        self.stats
    }

    /// Every native node it knows, for the page.
    pub fn natives(&self) -> Vec<NativeView> {
        self.natives.iter().map(Native::view).collect()
    }

    /// The native node in slot `slot`, if any.
    pub fn native_at(&self, slot: u32) -> Option<NativeView> {
        self.natives.iter().find(|n| n.slot == Some(slot)).map(Native::view)
    }

    /// The identity of slot or virtual node `i` on the wire.
    pub fn name_of(&self, i: u32) -> Id {
        match self.slot_names.get(&i) {
            Some(n) => n.clone(),
            None => Id::from(self.name_of_virtual(i)),
        }
    }

    /// Apply what came back, then decide what to send (see the calling
    /// contract on [`Bridge`]).
    pub fn pump(&mut self, live: &mut Live, now: f64) {
        self.verify_budget = VERIFY_PER_PUMP;
        for (id, at, outcome) in std::mem::take(&mut self.inbox) {
            if let Some(p) = self.pending.remove(&id) {
                self.answered(live, p, at, outcome);
            }
        }
        for (from, to, msg) in live.drain_remote() {
            if self.connected && self.gateways.contains(&from) && self.follow_ups.len() < FOLLOW_UP_CAP {
                self.follow_ups.push_back((from, to, msg));
            } else {
                self.stats.dropped += 1;
            }
        }
        if !self.connected {
            return;
        }
        self.schedule(live, now);
    }
}

#[cfg(test)]
mod tests {
    use super::identities::node_seed;
    use super::*;
    use crate::core::auth;
    use crate::core::Update;
    use crate::sim::live::NodeKind;
    use crate::wire::{self, Limits};

    use crate::sim::params::SimParams;

    const URL: &str = "http://127.0.0.1:7000";

    fn setup(opts: BridgeOptions) -> (Live, Bridge) {
        let mut p = SimParams::default();
        for (k, v) in [("nodes", "10"), ("scenario", "movies"), ("model", "events"), ("seed", "2")] {
            p.set(k, v).unwrap();
        }
        let live = Live::new(&p.to_config().unwrap()).unwrap();
        (live, Bridge::new(opts, 10, [1, 2, 3], [7; 32]).unwrap())
    }

    fn requests(b: &mut Bridge) -> Vec<HttpRequest> {
        std::iter::from_fn(|| b.poll_request()).collect()
    }

    fn state_body(id: &str, movie: &str) -> String {
        serde_json::json!({"id": id, "movie": movie, "version": 1, "epoch": 7,
            "view": {id: {"movie": movie, "version": 1, "epoch": 7, "ttl": 6,
                          "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}}})
        .to_string()
    }

    #[test]
    fn a_node_that_stops_answering_is_noticed_once_and_probed_with_growing_backoff() {
        let (mut live, mut b) = setup(BridgeOptions::default());
        b.connect(URL, &mut live, 0.0).unwrap();
        b.pump(&mut live, 0.0);
        let first = requests(&mut b);
        assert_eq!(first.len(), 1, "one /state probe first: {first:?}");
        assert_eq!(first[0].url, format!("{URL}/state"));
        let mut probes = vec![0.0];
        let mut pending = first[0].id;
        let mut t = 0.0;
        while t < 40_000.0 {
            b.handle_response(pending, t, Err("network error".into()));
            loop {
                t += 10.0;
                b.pump(&mut live, t);
                if let Some(r) = b.poll_request() {
                    pending = r.id;
                    probes.push(t);
                    break;
                }
            }
        }
        let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
        // 1 s doubling to 30 s, each within ±25 % jitter
        for (k, g) in gaps.iter().enumerate() {
            let base = (1_000.0 * 2f64.powi(k as i32)).min(30_000.0);
            assert!(*g >= base * 0.75 - 10.0 && *g <= base * 1.25 + 20.0, "gap {k}: {g} ms, {gaps:?}");
        }
        let notices = b.drain_notices();
        assert_eq!(notices.iter().filter(|n| n.level == "warn").count(), 1, "{notices:?}");
        assert_eq!(b.natives()[0].status, Reach::Unreachable);
        assert!(b.stats().failed as usize == probes.len() - 1);
    }

    #[test]
    fn hostile_answers_are_dropped_and_counted_without_harm() {
        let (mut live, mut b) = setup(BridgeOptions { max_natives: 8, ..Default::default() });
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let junk_peers: Vec<String> = (0..5_000)
            .map(|i| match i % 4 {
                0 => format!("http://10.0.0.{}:{}", i % 250, 1000 + i),
                1 => "javascript:alert(1)".into(),
                2 => "browser-abc-1".into(),
                _ => format!("http://x/{i}/path"),
            })
            .collect();
        let bodies = [
            "not json".to_string(),
            "[1, 2, 3]".to_string(),
            "{\"id\": \"\"}".to_string(),
            serde_json::json!({"id": "x".repeat(300)}).to_string(),
            serde_json::json!({"id": URL, "movie": "m".repeat(600), "view": {URL: {"movie": "m".repeat(600), "version": 1}}}).to_string(),
            serde_json::json!({"id": URL, "view": {URL: {"movie": "A", "version": 9007199254740993u64}}}).to_string(),
            serde_json::to_string(&junk_peers).unwrap(),
            state_body(URL, "Alien"),
        ];
        for body in bodies.iter().cycle().take(40) {
            t += 100.0;
            live.advance(t as u64, u64::MAX);
            b.pump(&mut live, t);
            for r in requests(&mut b) {
                let answer = if r.url.ends_with("/peers/") {
                    serde_json::to_string(&junk_peers).unwrap()
                } else if r.url.ends_with("/gossip/") {
                    // a node claiming to be one of the page's own nodes
                    serde_json::json!({"from": b.name_of_virtual(3), "delta": []}).to_string()
                } else {
                    body.clone()
                };
                b.handle_response(r.id, t + 5.0, Ok((200, answer)));
            }
        }
        // then an honest answer is used
        for _ in 0..100 {
            t += 100.0;
            b.pump(&mut live, t);
            for r in requests(&mut b) {
                let answer = if r.url == format!("{URL}/state") { state_body(URL, "Alien") } else { "[]".into() };
                b.handle_response(r.id, t + 5.0, Ok((200, answer)));
            }
        }
        b.pump(&mut live, t + 10.0);
        let natives = b.natives();
        assert!(natives.len() <= 8, "bounded: {}", natives.len());
        assert!(natives.iter().all(|n| n.url.starts_with("http://") && !n.url.contains("/path")), "{natives:?}");
        assert!(b.stats().bad_answers > 0, "{:?}", b.stats());
        let real = natives.iter().find(|n| n.url == URL).unwrap();
        assert_eq!(real.movie.as_deref(), Some("Alien"), "the one good answer was used");
        assert_eq!(live.kind(real.slot.unwrap()), NodeKind::Native);
        let notices = b.drain_notices();
        assert!(notices.len() < 30, "not a flood: {}", notices.len());
    }

    #[test]
    fn the_page_never_exceeds_its_request_rate_even_with_many_nodes_answering_at_once() {
        let (mut live, mut b) =
            setup(BridgeOptions { max_rps: 5.0, exchange_ms: 100, state_poll_ms: 100, ..Default::default() });
        b.connect(URL, &mut live, 0.0).unwrap();
        let peers: Vec<String> = (1..30).map(|i| format!("http://127.0.0.1:{}", 7000 + i)).collect();
        let mut sent = Vec::new();
        let mut t = 0.0;
        while t < 20_000.0 {
            t += 16.0;
            live.advance(t as u64, u64::MAX);
            b.pump(&mut live, t);
            for r in requests(&mut b) {
                sent.push(t);
                let answer = if r.url.ends_with("/peers/") {
                    serde_json::to_string(&peers).unwrap()
                } else if r.url.ends_with("/state") {
                    let base = r.url.trim_end_matches("/state");
                    state_body(base, "Heat")
                } else {
                    let from = r.url.trim_end_matches("/gossip/");
                    serde_json::json!({"from": from, "url": from}).to_string()
                };
                b.handle_response(r.id, t + 1.0, Ok((200, answer)));
            }
        }
        assert!(b.natives().len() >= 20, "{}", b.natives().len());
        // at most one second's burst plus the rate, in any second
        for (i, &t0) in sent.iter().enumerate() {
            let n = sent[i..].iter().take_while(|&&u| u < t0 + 1_000.0).count();
            assert!(n <= 10, "{n} requests in the second from {t0} ms");
        }
        assert!(sent.len() as f64 <= 5.0 * 20.0 + 5.0, "{} requests in 20 s", sent.len());
        assert!(b.stats().rate_limited > 0);
    }

    // ----- authenticity -----

    use crate::core::auth::Signer;

    fn signer(b: u8) -> Signer {
        Signer::from_seed([b; 32])
    }

    fn sealed(by: &Signer, origin: &str, version: Version, payload: &str, uuid: Uuid) -> Update<Id> {
        let origin = Id::from(origin);
        let seal = by.seal(uuid, &origin, version, payload);
        Update::new(uuid, origin, version, 5, Payload::from(payload.to_string()), Some(seal))
    }

    fn unsigned(origin: &str, version: Version, payload: &str, uuid: Uuid) -> Update<Id> {
        let mut u = sealed(&signer(0), origin, version, payload, uuid);
        u.edit(|r| r.seal = None);
        u
    }

    /// An answer to `POST /gossip/` from `from` (reachable there, with `key`).
    fn answer(from: &str, key: Option<&PublicKey>, msgs: &[Message<Id>]) -> String {
        String::from_utf8(wire::encode(from, Some(from), key, msgs)).unwrap()
    }

    fn delta(updates: Vec<Update<Id>>) -> Message<Id> {
        Message::Delta { updates, request: Default::default() }
    }

    /// `GET /state` of a node `id` with key `key` whose favorite is `movie`, sealed.
    fn state_with_key(id: &str, movie: &str, key: &PublicKey) -> String {
        let k = wire::key_text(key);
        serde_json::json!({"id": id, "movie": movie, "version": 1, "epoch": 7, "key": k,
            "view": {id: {"movie": movie, "version": 1, "epoch": 7, "ttl": 6, "key": k,
                          "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}}})
        .to_string()
    }

    /// `frames` frames of 100 ms: the run advances, the bridge pumps, and
    /// every request is answered by `reply` (200).
    fn drive(
        live: &mut Live,
        b: &mut Bridge,
        t: &mut f64,
        frames: usize,
        mut reply: impl FnMut(&mut Bridge, &HttpRequest) -> String,
    ) {
        for _ in 0..frames {
            *t += 100.0;
            live.advance(*t as u64, u64::MAX);
            b.pump(live, *t);
            for r in requests(b) {
                let body = reply(b, &r);
                b.handle_response(r.id, *t + 5.0, Ok((200, body)));
            }
        }
        *t += 10.0;
        b.pump(live, *t);
    }

    /// Which virtual nodes hold an entry for `origin`.
    fn holders(live: &Live, origin: u32) -> Vec<u32> {
        (0..live.len()).filter(|&i| !live.is_remote(i) && live.entry(i, origin).is_some()).collect()
    }

    #[test]
    fn forged_unsigned_and_wrongly_keyed_updates_from_a_native_are_refused_and_counted() {
        let (mut live, mut b) = setup(BridgeOptions::default());
        let (a, other) = (signer(1), signer(2));
        let v = Version::new(7, 1);
        let mut bad_sig = sealed(&a, "http://127.0.0.1:7001", v, "Heat", 2);
        bad_sig.edit(|r| {
            if let Some(s) = &mut r.seal {
                Arc::make_mut(s).sig[5] ^= 1;
            }
        });
        let own = b.name_of_virtual(3);
        let forged = answer(
            URL,
            Some(&a.public()),
            &[delta(vec![
                sealed(&a, URL, v, "Alien", 1),                       // good: taken, binds URL to a
                bad_sig,                                              // bad signature
                sealed(&other, URL, v.next(), "Ran", 3),              // valid, but by another key than URL's
                unsigned("http://127.0.0.1:7002", v, "Up", 4),        // unsigned
                sealed(&other, &own, Version::new(0, 99), "Evil", 5), // a page node's update by another key
                unsigned(&own, Version::new(0, 98), "Evil", 6),       // and unsigned
            ])],
        );
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let mut exchanges = 0;
        drive(&mut live, &mut b, &mut t, 50, |_, r| {
            if r.url.ends_with("/state") {
                state_with_key(URL, "Alien", &a.public())
            } else if r.url.ends_with("/gossip/") {
                exchanges += 1;
                forged.clone()
            } else {
                "[]".into()
            }
        });
        assert!(exchanges >= 3, "{exchanges} exchanges");
        let st = b.stats();
        let n = exchanges as u64;
        assert_eq!((st.unsigned, st.bad_signature, st.key_mismatch), (2 * n, n, 2 * n), "{st:?}");
        assert_eq!(st.verified, 1 + n, "the good seal is verified once, the bad one every time: {st:?}");
        let slot = b.natives()[0].slot.unwrap();
        assert_eq!(b.bound_key(slot), Some(a.public()));
        assert_eq!(b.natives()[0].key.as_deref(), Some(wire::key_text(&a.public()).as_str()));
        // the good update spread; nothing refused entered the run
        live.advance(live.now() + 5_000, u64::MAX);
        let h = holders(&live, slot);
        assert!(h.len() >= 9, "the native's update spread: {h:?}");
        for i in h {
            let e = live.entry(i, slot).unwrap();
            assert_eq!((e.payload.as_str(), e.version), ("Alien", v), "node {i}");
        }
        assert!(
            b.natives().iter().all(|n| !n.url.ends_with(":7001") && !n.url.ends_with(":7002")),
            "no slots for forgeries"
        );
        assert!((0..live.len()).all(|i| live.node(i).unwrap().movie.as_deref() != Some("Evil")));
        assert!(live.node(3).unwrap().version < 98, "no claim about a page node got in");
        // said once, not once per answer
        let notices = b.drain_notices();
        let said: Vec<_> = notices.iter().filter(|n| n.text.contains("refused")).collect();
        assert_eq!(said.len(), 1, "{notices:?}");
        assert!(said[0].text.contains(URL) && said[0].text.contains("unsigned"), "{said:?}");
    }

    #[test]
    fn unsigned_updates_pass_only_when_allowed_and_never_for_a_signed_origin() {
        let (mut live, mut b) = setup(BridgeOptions { allow_unsigned: true, ..Default::default() });
        let a = signer(1);
        let body = answer(
            URL,
            Some(&a.public()),
            &[delta(vec![
                unsigned("browser-0badf00d-2", Version::new(3, 1), "Up", 4), // taken
                unsigned(URL, Version::new(7, 2), "Ran", 5),                 // URL is bound to a: refused
                unsigned(&b.name_of_virtual(2), Version::new(0, 50), "Evil", 6), // the page's nodes always sign
            ])],
        );
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let mut exchanges = 0;
        drive(&mut live, &mut b, &mut t, 30, |_, r| {
            if r.url.ends_with("/state") {
                state_with_key(URL, "Alien", &a.public())
            } else if r.url.ends_with("/gossip/") {
                exchanges += 1;
                body.clone()
            } else {
                "[]".into()
            }
        });
        assert!(exchanges > 0);
        assert_eq!(b.stats().unsigned, 2 * exchanges, "{:?}", b.stats());
        let other = *b.names.get("browser-0badf00d-2").expect("a slot");
        live.advance(live.now() + 5_000, u64::MAX);
        assert!(holders(&live, other).len() >= 9, "{:?} {:?} {:?}", holders(&live, other), b.stats(), b.natives());
        assert!((0..live.len()).all(|i| live.node(i).unwrap().movie.as_deref() != Some("Evil")));
    }

    #[test]
    fn virtual_nodes_updates_leave_sealed_over_their_wire_form_each_signed_once() {
        let (mut live, mut b) = setup(BridgeOptions::default());
        let a = signer(1);
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let mut bodies = Vec::new();
        drive(&mut live, &mut b, &mut t, 60, |b, r| {
            if r.url.ends_with("/state") {
                return state_with_key(URL, "Alien", &a.public());
            }
            if !r.url.ends_with("/gossip/") {
                return "[]".into();
            }
            bodies.push(r.body.clone().unwrap());
            if !r.body.as_ref().is_some_and(|b| b.contains("\"digest\"")) {
                return answer(URL, Some(&a.public()), &[]); // a follow-up delta
            }
            // ask for every page node's favorite, as a native that lacks them would
            let want: crate::core::Digest<Id> =
                (0..10).map(|i| (Id::from(b.name_of_virtual(i)), Version::new(0, 0))).collect();
            answer(URL, Some(&a.public()), &[Message::Delta { updates: vec![], request: want }])
        });
        let mut checked = HashSet::new();
        let mut buf = Vec::new();
        for body in &bodies {
            let env = wire::decode(body.as_bytes(), &Limits::default()).unwrap();
            let g: u32 = env.from.strip_prefix(b.prefix.as_str()).unwrap().parse().unwrap();
            assert!(b.gateways().contains(&g));
            assert_eq!(env.key, Some(b.virtual_key(g)), "a gateway's request carries its own key");
            for m in env.messages {
                let (Message::Delta { updates, .. } | Message::Push(updates)) = m else { continue };
                for u in updates {
                    let i: u32 = u.origin.strip_prefix(b.prefix.as_str()).unwrap().parse().unwrap();
                    let seal = u.seal.as_ref().expect("sealed");
                    assert_eq!(seal.key, b.virtual_key(i), "by node {i}'s own key");
                    assert!(auth::verify(seal, u.uuid, &u.origin, u.version, u.payload.as_str(), &mut buf));
                    // over the wire UUID, not the run's
                    let run_uuid = u.uuid ^ b.key;
                    assert!(!auth::verify(seal, run_uuid, &u.origin, u.version, u.payload.as_str(), &mut buf));
                    checked.insert((i, u.version));
                }
            }
        }
        assert!(checked.len() >= 10, "every node's update went out: {checked:?}");
        let st = b.stats();
        assert_eq!(st.sealed, checked.len() as u64, "each update sealed once, however often sent: {st:?}");
        assert!(st.updates_out > 2 * st.sealed, "{st:?}");
        assert!(b.signers.len() <= 10 && b.seals.len() == checked.len(), "made lazily, kept bounded");
        // keys: one per node, from the page's secret
        assert_ne!(b.virtual_key(1), b.virtual_key(2));
        let mut twin = Bridge::new(BridgeOptions::default(), 10, [1, 2, 3], [7; 32]).unwrap();
        let mut stranger = Bridge::new(BridgeOptions::default(), 10, [1, 2, 3], [8; 32]).unwrap();
        assert_eq!(twin.virtual_key(4), b.virtual_key(4));
        assert_ne!(stranger.virtual_key(4), b.virtual_key(4));
    }

    /// A native's update and another page's virtual node's update enter at
    /// one gateway, spread through the simulated network, and leave through
    /// every gateway with their original seals.
    fn remote_seals_survive(model: &str) {
        let mut p = SimParams::default();
        for (k, v) in [("nodes", "10"), ("scenario", "movies"), ("model", model), ("seed", "2")] {
            p.set(k, v).unwrap();
        }
        let mut live = Live::new(&p.to_config().unwrap()).unwrap();
        let mut b = Bridge::new(BridgeOptions::default(), 10, [1, 2, 3], [7; 32]).unwrap();
        let (a, c) = (signer(1), signer(3));
        let stranger = "browser-0badf00d-5";
        let originals = [
            sealed(&a, URL, Version::new(7, 2), "Alien", 0xabc),
            sealed(&c, stranger, Version::new(0, 4), "Heat", 0xdef),
        ];
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let mut delivered = false;
        drive(&mut live, &mut b, &mut t, 40, |_, r| {
            if r.url.ends_with("/state") {
                state_with_key(URL, "Alien", &a.public())
            } else if r.url.ends_with("/gossip/") && !delivered {
                delivered = true;
                answer(URL, Some(&a.public()), &[delta(originals.to_vec())])
            } else if r.url.ends_with("/gossip/") {
                answer(URL, Some(&a.public()), &[])
            } else {
                "[]".into()
            }
        });
        assert!(delivered);
        live.advance(live.now() + 10_000, u64::MAX);
        let slots: Vec<u32> = originals.iter().map(|u| *b.names.get(&u.origin).unwrap()).collect();
        for (u, &s) in originals.iter().zip(&slots) {
            let h = holders(&live, s);
            assert_eq!(h.len(), 10, "{model}: every virtual node learned {}: {h:?}", u.origin);
            for i in h {
                assert_eq!(live.entry(i, s).unwrap().seal, u.seal, "{model}: node {i} keeps the seal of {}", u.origin);
            }
        }
        // every gateway passes them on, sealed as they came
        let want: crate::core::Digest<Id> = originals.iter().map(|u| (u.origin.clone(), Version::new(0, 0))).collect();
        let mut out = Vec::new();
        drive(&mut live, &mut b, &mut t, 80, |_, r| {
            if let Some(body) = r.body.as_ref() {
                out.push(body.clone());
            }
            let exchange = r.body.as_ref().is_some_and(|b| b.contains("\"digest\""));
            if exchange {
                answer(URL, Some(&a.public()), &[Message::Delta { updates: vec![], request: want.clone() }])
            } else if r.url.ends_with("/gossip/") {
                answer(URL, Some(&a.public()), &[])
            } else if r.url.ends_with("/state") {
                state_with_key(URL, "Alien", &a.public())
            } else {
                "[]".into()
            }
        });
        let mut seen = HashSet::new();
        for body in out {
            let env = wire::decode(body.as_bytes(), &Limits::default()).unwrap();
            for m in env.messages {
                let (Message::Delta { updates, .. } | Message::Push(updates)) = m else { continue };
                for u in updates.into_iter().filter(|u| !u.origin.starts_with(b.prefix.as_str())) {
                    let orig = originals.iter().find(|o| o.origin == u.origin).expect("one of the two");
                    assert_eq!(
                        (u.uuid, u.version, &u.payload, &u.seal),
                        (orig.uuid, orig.version, &orig.payload, &orig.seal)
                    );
                    seen.insert((u.origin.clone(), env.from.clone()));
                }
            }
        }
        assert_eq!(seen.len(), 2 * b.gateways().len(), "{model}: {seen:?}");
        assert_eq!(b.stats().withheld, 0);
    }

    #[test]
    fn seals_of_remote_origins_survive_the_round_trip_through_the_events_model() {
        remote_seals_survive("events");
    }

    #[test]
    fn seals_of_remote_origins_survive_the_round_trip_through_the_rounds_model() {
        remote_seals_survive("rounds");
    }

    #[test]
    fn a_native_that_answers_with_a_new_key_is_bound_to_it_and_its_old_updates_stay_in_the_page() {
        let (mut live, mut b) = setup(BridgeOptions::default());
        let (old, new) = (signer(1), signer(2));
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let mut key = old.public();
        let mut first = true;
        let before = sealed(&old, URL, Version::new(7, 1), "Alien", 1);
        drive(&mut live, &mut b, &mut t, 30, |_, r| {
            if r.url.ends_with("/state") {
                state_with_key(URL, "Alien", &key)
            } else if r.url.ends_with("/gossip/") && first {
                first = false;
                answer(URL, Some(&key), &[delta(vec![before.clone()])])
            } else if r.url.ends_with("/gossip/") {
                answer(URL, Some(&key), &[])
            } else {
                "[]".into()
            }
        });
        let slot = b.natives()[0].slot.unwrap();
        live.advance(live.now() + 5_000, u64::MAX);
        assert_eq!(holders(&live, slot).len(), 10);
        // the node restarts with a new key; an answer from its own URL says so
        key = new.public();
        let stale = sealed(&old, URL, Version::new(8, 1), "Forged", 9);
        let fresh = sealed(&new, URL, Version::new(8, 1), "Ran", 10);
        let mut sent = 0;
        let mut outgoing = Vec::new();
        drive(&mut live, &mut b, &mut t, 30, |_, r| {
            if let Some(body) = &r.body {
                outgoing.push(body.clone());
            }
            if r.url.ends_with("/state") {
                return state_with_key(URL, "Ran", &key);
            }
            if !r.url.ends_with("/gossip/") {
                return "[]".into();
            }
            sent += 1;
            match sent {
                1 => answer(URL, Some(&key), &[delta(vec![stale.clone()])]),
                // it asks for its own entry back: the page holds it under the old key
                2 => answer(
                    URL,
                    Some(&key),
                    &[Message::Delta { updates: vec![], request: vec![(Id::from(URL), Version::new(0, 0))].into() }],
                ),
                3 => answer(URL, Some(&key), &[delta(vec![fresh.clone()])]),
                _ => answer(URL, Some(&key), &[]),
            }
        });
        assert_eq!(b.bound_key(slot), Some(new.public()));
        let st = b.stats();
        assert_eq!(st.key_mismatch, 1, "{st:?}");
        assert!(st.withheld >= 1, "the entry sealed by the old key is not passed on: {st:?}");
        for body in &outgoing {
            let env = wire::decode(body.as_bytes(), &Limits::default()).unwrap();
            for m in env.messages {
                let (Message::Delta { updates, .. } | Message::Push(updates)) = m else { continue };
                assert!(updates.iter().all(|u| &*u.origin != URL || u.seal == fresh.seal), "{updates:?}");
            }
        }
        live.advance(live.now() + 5_000, u64::MAX);
        assert!(holders(&live, slot).iter().all(|&i| live.entry(i, slot).unwrap().payload.as_str() == "Ran"));
        let notices = b.drain_notices();
        assert!(notices.iter().any(|n| n.text.contains("new key")), "{notices:?}");
    }

    #[test]
    fn a_flood_of_new_seals_is_verified_a_frame_s_budget_at_a_time() {
        let (mut live, mut b) = setup(BridgeOptions::default());
        let a = signer(1);
        let many: Vec<Update<Id>> = (0..600u32)
            .map(|i| {
                let by = Signer::from_seed(node_seed(&[3; 32], i));
                sealed(&by, &format!("browser-0badf00d-{i}"), Version::new(0, 1), "Up", 1_000 + i as u128)
            })
            .collect();
        let body = answer(URL, Some(&a.public()), &[delta(many)]);
        b.connect(URL, &mut live, 0.0).unwrap();
        let mut t = 0.0;
        let mut most = 0;
        for _ in 0..30 {
            let before = b.stats().verified;
            drive(&mut live, &mut b, &mut t, 1, |_, r| {
                if r.url.ends_with("/state") {
                    state_with_key(URL, "Alien", &a.public())
                } else if r.url.ends_with("/gossip/") {
                    body.clone()
                } else {
                    "[]".into()
                }
            });
            most = most.max(b.stats().verified - before);
        }
        let st = b.stats();
        assert!(most <= 2 * VERIFY_PER_PUMP as u64, "{most} in one frame (two pumps)");
        assert!(st.deferred > 0, "{st:?}");
        assert_eq!(st.verified, 600, "each seal once: {st:?}");
        assert_eq!(st.refused_updates(), 0);
        assert!((0..600).all(|i| b.names.contains_key(format!("browser-0badf00d-{i}").as_str())));
    }

    /// Sign and verify timings, natively (`--nocapture` shows them); the
    /// browser's are measured in `tests/web.rs`.
    #[test]
    fn seal_timings() {
        let s = signer(1);
        let origin = Id::from("browser-0badf00d-17");
        let v = Version::new(0, 3);
        let n = 200;
        let t0 = std::time::Instant::now();
        let mut seal = s.seal(1, &origin, v, "Alien");
        for k in 0..n {
            seal = s.seal(k, &origin, v, "Alien");
        }
        let sign = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
        let mut buf = Vec::new();
        let t0 = std::time::Instant::now();
        for _ in 0..n {
            assert!(auth::verify(&seal, n - 1, &origin, v, "Alien", &mut buf));
        }
        let verify = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t0 = std::time::Instant::now();
        for k in 0..n {
            std::hint::black_box(Signer::from_seed(node_seed(&[7; 32], k as u32)));
        }
        let keygen = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
        eprintln!("native: sign {sign:.1} µs, verify {verify:.1} µs, key pair {keygen:.1} µs");
    }
}
