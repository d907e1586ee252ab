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
//! per tab (the page's driver keeps it, with the key secret, in the tab's
//! `sessionStorage`, so that a reload rejoins as the same nodes instead of
//! adding new ones to every native view). UUIDs of updates made in the page are XORed with a random
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
//! updates are welcome for origins never seen signed (unless
//! [`BridgeOptions::allow_unsigned`] is off), and each
//! outside origin is bound to the first key that sealed it (trust on first
//! use); a native node's identity is bound again to the key it answers with
//! when the answer comes from the URL the page dialed (direct proof), as
//! native nodes do among themselves. Refusals are counted in
//! [`BridgeStats`] and noticed once per native node.
//!
//! The parts, one file each:
//!
//! * `schedule`: what is sent when (follow-ups, polls, exchanges) within the
//!   rate limits: the token buckets, the requests in flight, the periods;
//! * `answers`: what came back, read into the run (bodies parsed into a
//!   `wire::doc::Doc`: by the browser's `JSON.parse` in the page, which keeps
//!   serde_json's deserializer out of its package, by serde_json natively);
//! * `registry`: the real nodes and the slots of identities from outside
//!   the page, with whether each node answers ([`Reach`], [`NativeView`]);
//! * `identities`: the virtual nodes' names and key pairs, and names and
//!   UUIDs between the run and the wire ([`normalize_url`]);
//! * `seals`: sealing what leaves, and the seal gate for what comes in;
//! * `notices`: what the page is told, once ([`Notice`]);
//! * `bounded`: the bounded map behind the caches of keys and seals.
//!
//! This file holds the [`Bridge`], its public API, and the pump that ties
//! the parts together.

mod answers;
mod bounded;
mod error;
mod identities;
mod notices;
mod registry;
mod schedule;
mod seals;
#[cfg(test)]
mod tests;

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

pub use error::{AnswerError, BridgeError, FetchError, UrlError};
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
    /// Accept updates without an Ed25519 seal from real nodes, for origins
    /// never seen signed (course-style nodes, which native nodes welcome by
    /// default), as the native nodes' default policy does; `false` requires
    /// seals (as `--require-signed`). Origins once seen signed stay bound to
    /// their key either way.
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
            allow_unsigned: true,
        }
    }
}

impl BridgeOptions {
    /// Check the options; the message names the bad one.
    pub fn validate(&self) -> Result<(), BridgeError> {
        let bad = |name, expected, got: &dyn std::fmt::Display| {
            Err(BridgeError::Option { name, expected, got: got.to_string() })
        };
        if !(1..=1_000).contains(&self.gateways) {
            return bad("gateways", "1 to 1000", &self.gateways);
        }
        if !(self.max_rps.is_finite() && (0.1..=1_000.0).contains(&self.max_rps)) {
            return bad("max requests per second", "0.1 to 1000", &self.max_rps);
        }
        if !(self.per_node_rps.is_finite() && self.per_node_rps >= 0.1) {
            return bad("requests per second per node", "at least 0.1", &self.per_node_rps);
        }
        for (name, ms, min) in [
            ("exchange period (ms)", self.exchange_ms, 50),
            ("state poll period (ms)", self.state_poll_ms, 100),
            ("peers poll period (ms)", self.peers_poll_ms, 100),
        ] {
            if ms < min {
                return bad(name, if min == 50 { "at least 50" } else { "at least 100" }, &ms);
            }
        }
        if self.timeout_ms == 0 {
            return bad("timeout (ms)", "positive", &self.timeout_ms);
        }
        if self.backoff_min_ms == 0 {
            return bad("first backoff (ms)", "positive", &self.backoff_min_ms);
        }
        if self.backoff_max_ms < self.backoff_min_ms {
            return bad("longest backoff (ms)", "at least the first backoff", &self.backoff_max_ms);
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
pub type Outcome = Result<(u16, String), FetchError>;

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
    /// Updates from real nodes refused for lack of a seal (when seals are required).
    pub unsigned: u64,
    /// Updates from real nodes refused for lack of a seal although their origin is bound to a key.
    pub bound_unsigned: u64,
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
        self.unsigned + self.bound_unsigned + self.bad_signature + self.key_mismatch
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
    connected: bool,
    stats: BridgeStats,
    /// Outcomes handed back by the driver, applied at the next pump.
    inbox: Vec<(u64, f64, Outcome)>,
    rng: Rng,

    // what is sent when (schedule.rs)
    gateways: Vec<u32>,
    next_exchange: Vec<f64>,
    /// The next virtual node whose update a gateway's exchange re-announces
    /// (see `schedule::HEARTBEATS_PER_EXCHANGE`).
    heartbeat_at: u32,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    bucket: Bucket,
    follow_ups: VecDeque<(u32, u32, Message<u32>)>,
    ready: VecDeque<HttpRequest>,

    // the real nodes, and the slots of outside identities (registry.rs)
    natives: Vec<Native>,
    /// Index in `natives` of each base URL.
    by_url: HashMap<String, usize>,
    /// The slot of each outside identity, and back.
    names: HashMap<Id, u32>,
    slot_names: BTreeMap<u32, Id>,

    // the page's identities on the wire (identities.rs)
    /// `browser-<tag>-`: virtual node `i` is `{prefix}{i}` on the wire.
    prefix: String,
    /// XORed into UUIDs' 128 bits between the run and the wire.
    key: u128,
    /// The page's secret: virtual nodes' key pairs derive from it.
    secret: [u8; 32],
    /// Virtual nodes' key pairs, made when first needed.
    signers: Bounded<u32, Arc<Signer>>,

    // seals (seals.rs)
    /// Seals of virtual nodes' updates: `(origin, version, run UUID)` -> (payload, seal).
    seals: Bounded<(u32, Version, Uuid), (Payload, Arc<Seal>)>,
    /// Seals known good (see `seal_digest`).
    verified: Bounded<u128, ()>,
    /// The key each outside origin (by slot) is bound to.
    bound: HashMap<u32, PublicKey>,
    /// The outside origins (by slot) whose latest update came unsigned
    /// (welcome, as native nodes take them): shown as unverified. Bounded
    /// by the slots.
    unverified: HashSet<u32>,
    sign_buf: Vec<u8>,
    /// Verifications left in this pump.
    verify_budget: u32,

    // notices (notices.rs)
    notices: Vec<Notice>,
    noticed: HashSet<String>,
}

impl Bridge {
    /// A bridge for a run of `virtual_nodes` nodes (the page's population
    /// when it starts; gateways are spread over it), with identities
    /// `browser-<tag>-<i>`. `entropy` must be random: its first word makes
    /// the tag (the page keeps it across reloads of a tab, with `secret`),
    /// the other two the UUID key (new at every load, so that a reloaded
    /// page never reuses a UUID for another update). `secret` must be random
    /// and kept secret (the virtual nodes' signing keys derive from it); the
    /// driver draws both from the OS or the browser's `crypto.getRandomValues`.
    pub fn new(
        opts: BridgeOptions,
        virtual_nodes: u32,
        entropy: [u64; 3],
        secret: [u8; 32],
    ) -> Result<Bridge, BridgeError> {
        opts.validate()?;
        let tag = format!("{:08x}", entropy[0] as u32);
        let gateways = spread(opts.gateways, virtual_nodes);
        Ok(Bridge {
            prefix: format!("browser-{tag}-"),
            key: (entropy[1] as u128) << 64 | entropy[2] as u128,
            rng: Rng::new(entropy[0] ^ entropy[1].rotate_left(17)),
            next_exchange: vec![0.0; gateways.len()],
            heartbeat_at: 0,
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
            unverified: HashSet::new(),
            sign_buf: Vec::new(),
            verify_budget: VERIFY_PER_PUMP,
            opts,
        })
    }

    /// Change the options while disconnected (gateways are chosen again,
    /// spread over `virtual_nodes`); the slots of nodes seen before stay.
    pub fn set_options(&mut self, opts: BridgeOptions, virtual_nodes: u32) -> Result<(), BridgeError> {
        if self.connected {
            return Err(BridgeError::Connected);
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

    /// Whether the outside origin in slot `slot` was last heard of unsigned
    /// (nothing proves its updates come from it).
    pub fn is_unverified(&self, slot: u32) -> bool {
        self.unverified.contains(&slot)
    }

    /// Record whether outside origin `slot`'s latest update came sealed.
    pub(crate) fn note_seal(&mut self, slot: u32, sealed: bool) {
        if sealed {
            self.unverified.remove(&slot);
        } else if self.slot_names.contains_key(&slot) {
            self.unverified.insert(slot);
        }
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
    pub fn connect(&mut self, url: &str, live: &mut Live, now: f64) -> Result<(), BridgeError> {
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
