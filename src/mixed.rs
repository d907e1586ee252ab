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

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::core::message::parse_uuid;
use crate::core::{Message, Payload, Update, Uuid, Version, MAX_COUNTER};
use crate::rng::Rng;
use crate::sim::engine::Flight;
use crate::sim::live::{Live, NodeKind};
use crate::wire::{self, Id, Limits};

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

/// Something the page should show once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// `info`, `warn` or `error`.
    pub level: &'static str,
    /// For a person.
    pub text: String,
}

/// Whether a native node answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// Not heard from yet.
    Connecting,
    /// Its last request was answered.
    Reachable,
    /// Its last request failed; retried after a backoff.
    Unreachable,
}

/// A native node, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NativeView {
    /// Its base URL.
    pub url: String,
    /// Its identity (from its answers; usually the URL).
    pub name: Option<String>,
    /// Its index in the run, once it has one.
    pub slot: Option<u32>,
    /// Whether it answers.
    pub status: Reach,
    /// Last measured round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// Smoothed round-trip time, ms.
    pub rtt_avg_ms: Option<f64>,
    /// Its favorite, as its last `/state` said.
    pub movie: Option<String>,
    /// Its version counter.
    pub version: u64,
    /// Its epoch.
    pub epoch: u32,
    /// Failures in a row.
    pub failures: u32,
    /// Why the last request failed.
    pub last_error: Option<String>,
    /// Requests sent to it.
    pub requests: u64,
}

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Exchange { gateway: u32 },
    FollowUp { gateway: u32 },
    State,
    Peers,
}

#[derive(Clone, Debug)]
struct Pending {
    native: usize,
    purpose: Purpose,
    sent_at: f64,
    /// Virtual time it left, for drawing the answer.
    sent_virtual: u64,
}

#[derive(Clone, Debug)]
struct Native {
    url: String,
    name: Option<Id>,
    slot: Option<u32>,
    status: Reach,
    rtt_ms: Option<f64>,
    rtt_avg_ms: Option<f64>,
    movie: Option<String>,
    version: Version,
    failures: u32,
    last_error: Option<String>,
    retry_at: f64,
    next_state: f64,
    next_peers: f64,
    in_flight: u32,
    /// A `GET` (state or peers) is in flight.
    polling: bool,
    requests: u64,
    bucket: Bucket,
}

impl Native {
    fn view(&self) -> NativeView {
        NativeView {
            url: self.url.clone(),
            name: self.name.as_deref().map(str::to_owned),
            slot: self.slot,
            status: self.status,
            rtt_ms: self.rtt_ms,
            rtt_avg_ms: self.rtt_avg_ms,
            movie: self.movie.clone(),
            version: self.version.counter,
            epoch: self.version.epoch,
            failures: self.failures,
            last_error: self.last_error.clone(),
            requests: self.requests,
        }
    }
}

/// A token bucket: `rate` tokens a second, at most `rate` (one second's worth) stored.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: f64,
}

impl Bucket {
    fn new(rate: f64, now: f64) -> Self {
        Bucket { rate, tokens: rate.max(1.0), at: now }
    }

    fn refill(&mut self, now: f64) {
        if now > self.at {
            self.tokens = (self.tokens + (now - self.at) / 1000.0 * self.rate).min(self.rate.max(1.0));
            self.at = now;
        }
    }

    fn has(&mut self, now: f64) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

/// Most follow-up deltas waiting for the rate limit.
const FOLLOW_UP_CAP: usize = 64;
/// Most requests in flight to one node.
const IN_FLIGHT_PER_NODE: u32 = 2;
/// Most peers read from one `GET /peers/` answer.
const PEERS_READ: usize = 1_024;

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
}

/// `GET /state`, the parts the bridge reads.
#[derive(Deserialize)]
struct StateDoc {
    id: String,
    #[serde(default)]
    movie: Option<String>,
    #[serde(default)]
    version: u64,
    #[serde(default)]
    epoch: u32,
    #[serde(default)]
    view: BTreeMap<String, StateEntry>,
}

#[derive(Deserialize)]
struct StateEntry {
    movie: String,
    version: u64,
    #[serde(default)]
    epoch: u32,
    #[serde(default)]
    ttl: u32,
    #[serde(default)]
    uuid: Option<String>,
}

impl Bridge {
    /// A bridge for a run of `virtual_nodes` nodes (the page's population
    /// when it starts; gateways are spread over it), with identities
    /// `browser-<tag>-<i>`. `entropy` must be random (it makes the UUID key
    /// and the tag's uniqueness); the driver draws it from the OS or the
    /// browser's `crypto.getRandomValues`.
    pub fn new(opts: BridgeOptions, virtual_nodes: u32, entropy: [u64; 3]) -> Result<Bridge, String> {
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

    // ----- sending -----

    fn schedule(&mut self, live: &mut Live, now: f64) {
        // follow-ups first: they finish exchanges in progress
        while let Some((gateway, to, _)) = self.follow_ups.front() {
            let (gateway, to) = (*gateway, *to);
            let Some(ni) = self.native_of_slot(to) else {
                self.follow_ups.pop_front();
                self.stats.dropped += 1;
                continue;
            };
            if !self.can_send(ni, now, true) {
                break;
            }
            let (_, _, msg) = self.follow_ups.pop_front().expect("front was Some");
            self.stats.follow_ups += 1;
            self.post(live, ni, gateway, msg, Purpose::FollowUp { gateway }, now);
        }
        // polls (bounded: one per node per period): /state, which is also the
        // probe of an unreachable node, and /peers/
        for ni in 0..self.natives.len() {
            let n = &self.natives[ni];
            if n.polling {
                continue;
            }
            let probe = n.status == Reach::Unreachable;
            if (probe && n.retry_at <= now) || (!probe && n.next_state <= now) {
                if !self.can_send(ni, now, false) {
                    continue;
                }
                let url = format!("{}/state", self.natives[ni].url);
                self.natives[ni].next_state = now + self.opts.state_poll_ms as f64;
                if probe {
                    self.natives[ni].retry_at = f64::INFINITY; // until this probe's outcome
                }
                self.get(ni, url, Purpose::State, live.now(), now);
            } else if !probe && n.status == Reach::Reachable && n.next_peers <= now {
                if !self.can_send(ni, now, false) {
                    continue;
                }
                let url = format!("{}/peers/", self.natives[ni].url);
                self.natives[ni].next_peers = now + self.opts.peers_poll_ms as f64;
                self.get(ni, url, Purpose::Peers, live.now(), now);
            }
        }
        // each gateway's exchange
        for g in 0..self.gateways.len() {
            if self.next_exchange[g] > now {
                continue;
            }
            let gateway = self.gateways[g];
            let Some(digest) = live.digest(gateway) else {
                self.next_exchange[g] = now + self.opts.exchange_ms as f64;
                continue;
            };
            let candidates: Vec<usize> = (0..self.natives.len())
                .filter(|&i| self.natives[i].status != Reach::Unreachable && self.natives[i].slot.is_some())
                .collect();
            if candidates.is_empty() {
                self.next_exchange[g] = now + self.opts.exchange_ms as f64 / 4.0;
                continue;
            }
            let ni = candidates[self.rng.below(candidates.len() as u64) as usize];
            if !self.can_send(ni, now, true) {
                continue; // stays due
            }
            let jitter = self.rng.below(self.opts.exchange_ms / 10 + 1) as f64;
            self.next_exchange[g] = now + self.opts.exchange_ms as f64 + jitter;
            self.stats.exchanges += 1;
            self.post(
                live,
                ni,
                gateway,
                Message::Digest { digest, push_pull: true },
                Purpose::Exchange { gateway },
                now,
            );
        }
    }

    /// Whether a request to native `ni` may go now (rate limits, in-flight
    /// bound, backoff); counts a rate-limited wait.
    fn can_send(&mut self, ni: usize, now: f64, needs_answering: bool) -> bool {
        let n = &mut self.natives[ni];
        if n.in_flight >= IN_FLIGHT_PER_NODE || (needs_answering && n.status == Reach::Unreachable) {
            return false;
        }
        if !self.bucket.has(now) || !n.bucket.has(now) {
            self.stats.rate_limited += 1;
            return false;
        }
        true
    }

    /// Hand a request to the driver: `what` is `(method, url, body)`.
    fn issue(&mut self, ni: usize, what: (&'static str, String, Option<String>), p: Purpose, vnow: u64, now: f64) {
        self.bucket.take();
        let n = &mut self.natives[ni];
        n.bucket.take();
        n.in_flight += 1;
        n.requests += 1;
        let id = self.next_id;
        self.next_id += 1;
        self.stats.requests += 1;
        let (method, url, body) = what;
        self.stats.bytes_out += body.as_ref().map_or(0, |b| b.len() as u64);
        self.pending.insert(id, Pending { native: ni, purpose: p, sent_at: now, sent_virtual: vnow });
        self.ready.push_back(HttpRequest { id, method, url, body, timeout_ms: self.opts.timeout_ms });
    }

    fn get(&mut self, ni: usize, url: String, p: Purpose, vnow: u64, now: f64) {
        self.natives[ni].polling = true;
        self.issue(ni, ("GET", url, None), p, vnow, now);
    }

    /// `POST /gossip/` from `gateway` carrying `msg`.
    fn post(&mut self, live: &mut Live, ni: usize, gateway: u32, msg: Message<u32>, p: Purpose, now: f64) {
        let updates = msg.update_count();
        self.stats.updates_out += updates as u64;
        let wire_msg = self.onto_wire(msg);
        let body = wire::encode(&self.name_of_virtual(gateway), None, None, &[wire_msg]);
        // JSON from strings and integers only
        let body = String::from_utf8(body).expect("serde_json writes UTF-8");
        let url = format!("{}/gossip/", self.natives[ni].url);
        if let Some(slot) = self.natives[ni].slot {
            let half = self.natives[ni].rtt_avg_ms.unwrap_or(20.0) / 2.0;
            let vnow = live.now();
            live.log_flight(Flight {
                from: gateway,
                to: slot,
                sent: vnow,
                arrives: Some(vnow + half.round() as u64),
                updates: updates > 0,
            });
        }
        self.issue(ni, ("POST", url, Some(body)), p, live.now(), now);
    }

    // ----- receiving -----

    fn answered(&mut self, live: &mut Live, p: Pending, now: f64, outcome: Outcome) {
        let ni = p.native;
        if ni >= self.natives.len() {
            return;
        }
        self.natives[ni].in_flight = self.natives[ni].in_flight.saturating_sub(1);
        if matches!(p.purpose, Purpose::State | Purpose::Peers) {
            self.natives[ni].polling = false;
        }
        let (status, body) = match outcome {
            Ok(answer) => answer,
            Err(why) => return self.failed(live, ni, now, why),
        };
        self.alive(live, ni, now - p.sent_at);
        self.stats.bytes_in += body.len() as u64;
        if !(200..300).contains(&status) {
            self.stats.refused += 1;
            let what = refusal_text(&body);
            let url = self.natives[ni].url.clone();
            self.notice_once(format!("{url}#{status}"), "warn", format!("{url} answered {status}: {what}"));
            return;
        }
        self.stats.ok += 1;
        if body.len() > self.opts.max_body_bytes {
            return self.bad_answer(ni, format!("an answer of {} bytes, over the limit", body.len()));
        }
        let result = match p.purpose {
            Purpose::Exchange { gateway } | Purpose::FollowUp { gateway } => {
                self.exchange_answer(live, ni, gateway, &body, p.sent_virtual)
            }
            Purpose::State => self.state_answer(live, ni, &body),
            Purpose::Peers => self.peers_answer(&body, now),
        };
        if let Err(e) = result {
            self.bad_answer(ni, e);
        }
    }

    fn bad_answer(&mut self, ni: usize, why: String) {
        self.stats.bad_answers += 1;
        let url = self.natives[ni].url.clone();
        self.notice_once(format!("{url}#bad"), "warn", format!("{url} sent an answer the lab cannot use: {why}"));
    }

    fn alive(&mut self, live: &mut Live, ni: usize, rtt: f64) {
        let n = &mut self.natives[ni];
        let rtt = rtt.max(0.0);
        n.rtt_ms = Some(rtt);
        n.rtt_avg_ms = Some(n.rtt_avg_ms.map_or(rtt, |a| 0.8 * a + 0.2 * rtt));
        n.failures = 0;
        n.last_error = None;
        n.retry_at = 0.0;
        if n.status != Reach::Reachable {
            let was = n.status;
            n.status = Reach::Reachable;
            let url = n.url.clone();
            if let Some(s) = n.slot {
                live.set_reachable(s, true);
            }
            let text = if was == Reach::Unreachable {
                format!("{url} answers again")
            } else {
                format!("{url} answered in {rtt:.0} ms")
            };
            self.notice("info", text);
        }
    }

    fn failed(&mut self, live: &mut Live, ni: usize, now: f64, why: String) {
        self.stats.failed += 1;
        let (min, max) = (self.opts.backoff_min_ms as f64, self.opts.backoff_max_ms as f64);
        let jitter = 0.75 + 0.5 * self.rng.unit();
        let n = &mut self.natives[ni];
        n.failures = n.failures.saturating_add(1);
        let delay = (min * 2f64.powi(n.failures.saturating_sub(1).min(30) as i32)).min(max) * jitter;
        n.retry_at = now + delay;
        n.last_error = Some(why.clone());
        if n.status != Reach::Unreachable {
            n.status = Reach::Unreachable;
            let url = n.url.clone();
            if let Some(s) = n.slot {
                live.set_reachable(s, false);
            }
            self.notice(
                "warn",
                format!("{url} is not answering ({why}); retrying with backoff. Network error, node down, or CORS"),
            );
        }
    }

    fn exchange_answer(
        &mut self,
        live: &mut Live,
        ni: usize,
        gateway: u32,
        body: &str,
        sent: u64,
    ) -> Result<(), String> {
        let env = wire::decode(body.as_bytes(), &Limits::default()).map_err(|e| e.to_string())?;
        let slot = self.claim_name(live, ni, env.from.clone())?;
        let mut carried = 0;
        for m in env.messages {
            let Some(m) = self.wire_to_run(live, m) else { continue };
            carried += m.update_count();
            if let Message::Delta { updates, .. } | Message::Push(updates) = &m {
                self.note_versions(live, slot, updates);
            }
            live.deliver_remote(gateway, slot, m);
        }
        self.stats.updates_in += carried as u64;
        let vnow = live.now();
        live.log_flight(Flight {
            from: slot,
            to: gateway,
            sent: sent.min(vnow),
            arrives: Some(vnow),
            updates: carried > 0,
        });
        Ok(())
    }

    fn state_answer(&mut self, live: &mut Live, ni: usize, body: &str) -> Result<(), String> {
        let doc: StateDoc = serde_json::from_str(body).map_err(|e| format!("GET /state: {e}"))?;
        let lim = Limits::default();
        if doc.id.is_empty() || doc.id.len() > lim.max_id_len {
            return Err("GET /state: id missing or too long".into());
        }
        let slot = self.claim_name(live, ni, Id::from(doc.id.as_str()))?;
        let n = &mut self.natives[ni];
        n.movie = doc.movie.filter(|m| m.len() <= lim.max_payload);
        n.version = Version::new(doc.epoch, doc.version.min(MAX_COUNTER));
        let mut updates = Vec::new();
        for (origin, e) in doc.view.into_iter().take(self.opts.max_remote_origins) {
            if origin.is_empty() || origin.len() > lim.max_id_len || e.movie.len() > lim.max_payload {
                continue;
            }
            if e.version == 0 || e.version > MAX_COUNTER {
                continue;
            }
            let Some(o) = self.index_of(live, &origin) else { continue };
            let version = Version::new(e.epoch, e.version);
            let uuid = match e.uuid.as_deref().and_then(parse_uuid) {
                Some(u) => u ^ self.key,
                // an older node without UUIDs in /state: one stable made-up UUID per version
                None => made_up_uuid(&origin, version),
            };
            updates.push(Update { uuid, origin: o, version, ttl: e.ttl, payload: Payload::from(e.movie), seal: None });
        }
        // the updates go into this node's mirror there
        self.note_versions(live, slot, &updates);
        Ok(())
    }

    fn peers_answer(&mut self, body: &str, now: f64) -> Result<(), String> {
        let list: Vec<serde_json::Value> = serde_json::from_str(body).map_err(|e| format!("GET /peers/: {e}"))?;
        for v in list.into_iter().take(PEERS_READ) {
            if let Some(u) = v.as_str().and_then(|s| normalize_url(s).ok()) {
                self.add_native(&u, now);
            }
        }
        Ok(())
    }

    /// Record what remote origins' updates say of them: a newer version is
    /// news for the run, and each origin knows its own update (its mirror
    /// learns it); the native that sent them (`via`) knows them too.
    fn note_versions(&mut self, live: &mut Live, via: u32, updates: &[Update<u32>]) {
        let mut own: BTreeMap<u32, Vec<Update<u32>>> = BTreeMap::new();
        for u in updates {
            if live.is_remote(u.origin) {
                live.remote_originated(u.origin, u.version);
                if u.origin != via {
                    own.entry(u.origin).or_default().push(u.clone());
                }
            }
        }
        for (o, us) in own {
            live.mirror(o, us);
        }
        if !updates.is_empty() {
            live.mirror(via, updates.to_vec());
        }
    }

    /// Native `ni` says its identity is `name`: give it (or find) its slot.
    fn claim_name(&mut self, live: &mut Live, ni: usize, name: Id) -> Result<u32, String> {
        if let Some(s) = self.natives[ni].slot {
            if self.natives[ni].name.as_ref() == Some(&name) {
                return Ok(s);
            }
        }
        if name.starts_with(self.prefix.as_str()) {
            return Err(format!("it claims to be one of this page's nodes ({name})"));
        }
        let slot = match self.names.get(&name) {
            Some(&s) => s,
            None => {
                if self.names.len() >= self.opts.max_remote_origins {
                    self.stats.origins_dropped += 1;
                    return Err("too many identities from outside the page".into());
                }
                self.intern(live, name.clone(), NodeKind::Native)
            }
        };
        let n = &mut self.natives[ni];
        n.name = Some(name);
        n.slot = Some(slot);
        live.set_reachable(slot, n.status == Reach::Reachable);
        Ok(slot)
    }

    fn intern(&mut self, live: &mut Live, name: Id, kind: NodeKind) -> u32 {
        let s = live.add_remote(kind);
        self.names.insert(name.clone(), s);
        self.slot_names.insert(s, name);
        s
    }

    /// The run's index for identity `id`: a virtual node of this page, or
    /// a slot (made on first sight, within the cap). `None`: drop it.
    fn index_of(&mut self, live: &mut Live, id: &str) -> Option<u32> {
        if let Some(rest) = id.strip_prefix(self.prefix.as_str()) {
            let i: u32 = rest.parse().ok()?;
            // only canonical decimal names of existing simulated nodes
            return (i.to_string() == rest && i < live.len() && !live.is_remote(i)).then_some(i);
        }
        if let Some(&s) = self.names.get(id) {
            return Some(s);
        }
        if self.names.len() >= self.opts.max_remote_origins {
            self.stats.origins_dropped += 1;
            return None;
        }
        let native = wire::is_base_url(id);
        let s = self.intern(live, Id::from(id), if native { NodeKind::Native } else { NodeKind::RemoteVirtual });
        if native {
            if let Ok(u) = normalize_url(id) {
                // a real node learned from gossip: dial it too
                if let Some(ni) = self.add_native(&u, 0.0) {
                    if self.natives[ni].slot.is_none() && u == id {
                        self.natives[ni].slot = Some(s);
                        self.natives[ni].name = Some(Id::from(id));
                    }
                }
            }
        }
        Some(s)
    }

    fn add_native(&mut self, url: &str, now: f64) -> Option<usize> {
        if let Some(&i) = self.by_url.get(url) {
            return Some(i);
        }
        if self.natives.len() >= self.opts.max_natives {
            self.notice_once(
                "natives-cap".into(),
                "warn",
                format!("more than {} real nodes: the rest are ignored", self.opts.max_natives),
            );
            return None;
        }
        let i = self.natives.len();
        // a slot that gossip already made for this identity
        let slot = self.names.get(url).copied();
        self.natives.push(Native {
            url: url.to_owned(),
            name: slot.map(|_| Id::from(url)),
            slot,
            status: Reach::Connecting,
            rtt_ms: None,
            rtt_avg_ms: None,
            movie: None,
            version: Version::new(0, 0),
            failures: 0,
            last_error: None,
            retry_at: 0.0,
            next_state: now,
            next_peers: now,
            in_flight: 0,
            polling: false,
            requests: 0,
            bucket: Bucket::new(self.opts.per_node_rps, now),
        });
        self.by_url.insert(url.to_owned(), i);
        Some(i)
    }

    fn native_of_slot(&self, slot: u32) -> Option<usize> {
        self.natives.iter().position(|n| n.slot == Some(slot))
    }

    // ----- identities and UUIDs between the run and the wire -----

    fn onto_wire(&self, m: Message<u32>) -> Message<Id> {
        let update = |u: Update<u32>| Update {
            uuid: u.uuid ^ self.key,
            origin: self.name_of(u.origin),
            version: u.version,
            ttl: u.ttl,
            payload: u.payload,
            seal: u.seal,
        };
        let digest = |d: Vec<(u32, Version)>| d.into_iter().map(|(o, v)| (self.name_of(o), v)).collect();
        match m {
            Message::Push(us) => Message::Push(us.into_iter().map(update).collect()),
            Message::Feedback(k) => Message::Feedback(digest(k)),
            Message::Digest { digest: d, push_pull } => Message::Digest { digest: digest(d), push_pull },
            Message::Delta { updates, request } => {
                Message::Delta { updates: updates.into_iter().map(update).collect(), request: digest(request) }
            }
        }
    }

    /// A message from the wire in the run's indices; identities that cannot
    /// be mapped are left out (and counted).
    fn wire_to_run(&mut self, live: &mut Live, m: Message<Id>) -> Option<Message<u32>> {
        let updates = |this: &mut Self, live: &mut Live, us: Vec<Update<Id>>| -> Vec<Update<u32>> {
            us.into_iter()
                .filter_map(|u| {
                    let origin = this.index_of(live, &u.origin)?;
                    Some(Update {
                        uuid: u.uuid ^ this.key,
                        origin,
                        version: u.version,
                        ttl: u.ttl,
                        payload: u.payload,
                        seal: u.seal,
                    })
                })
                .collect()
        };
        let digest = |this: &mut Self, live: &mut Live, d: Vec<(Id, Version)>| -> Vec<(u32, Version)> {
            d.into_iter().filter_map(|(o, v)| Some((this.index_of(live, &o)?, v))).collect()
        };
        Some(match m {
            Message::Push(us) => Message::Push(updates(self, live, us)),
            Message::Delta { updates: us, request } => {
                let us = updates(self, live, us);
                Message::Delta { updates: us, request: digest(self, live, request) }
            }
            Message::Feedback(k) => Message::Feedback(digest(self, live, k)),
            // a native asking the gateway for its digest: not part of this exchange
            Message::Digest { .. } => return None,
        })
    }

    // ----- notices -----

    fn notice(&mut self, level: &'static str, text: String) {
        if self.notices.len() < 100 {
            self.notices.push(Notice { level, text });
        }
    }

    fn notice_once(&mut self, key: String, level: &'static str, text: String) {
        if self.noticed.len() < 1_000 && self.noticed.insert(key) {
            self.notice(level, text);
        }
    }
}

/// `k` gateways spread evenly over `n` virtual nodes.
fn spread(k: u32, n: u32) -> Vec<u32> {
    let k = k.min(n.max(1));
    (0..k).map(|j| (j as u64 * n as u64 / k as u64) as u32).collect()
}

/// `http://host:port` from what a person typed: trailing slashes dropped,
/// only `http` and `https`, a host required.
pub fn normalize_url(url: &str) -> Result<String, String> {
    let u = url.trim().trim_end_matches('/');
    if u.contains("://") && u.splitn(4, '/').nth(3).is_some() {
        return Err(format!("{url:?} has a path: give the node's base URL (like http://127.0.0.1:7000)"));
    }
    if u.len() > Limits::default().max_url_len || !wire::is_base_url(u) {
        return Err(format!("{url:?} is not the base URL of a node (like http://127.0.0.1:7000)"));
    }
    Ok(u.to_owned())
}

/// What a refusal's JSON body says (`{"error": ...}`), or its start.
fn refusal_text(body: &str) -> String {
    #[derive(Deserialize)]
    struct E {
        error: String,
    }
    match serde_json::from_str::<E>(body) {
        Ok(e) => e.error,
        Err(_) => body.chars().take(200).collect(),
    }
}

/// A stable UUID for `origin` at `version`, for views that do not carry one.
fn made_up_uuid(origin: &str, version: Version) -> Uuid {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in origin.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let a = crate::rng::mix64(h ^ version.counter);
    let b = crate::rng::mix64(a ^ (version.epoch as u64) << 1);
    (a as u128) << 64 | b as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::message::fmt_uuid;

    #[test]
    fn urls_are_normalized_and_checked() {
        assert_eq!(normalize_url(" http://127.0.0.1:7000/ ").unwrap(), "http://127.0.0.1:7000");
        assert!(normalize_url("127.0.0.1:7000").is_err());
        assert!(normalize_url("ftp://x").is_err());
        assert!(normalize_url("http://127.0.0.1:7000/gossip/").is_err());
        assert!(normalize_url("http://").is_err());
    }

    #[test]
    fn the_bucket_allows_a_second_of_burst_then_the_rate() {
        let mut b = Bucket::new(4.0, 0.0);
        let mut sent = 0;
        for _ in 0..10 {
            if b.has(0.0) {
                b.take();
                sent += 1;
            }
        }
        assert_eq!(sent, 4);
        assert!(!b.has(100.0));
        assert!(b.has(250.0));
    }

    use crate::sim::params::SimParams;

    const URL: &str = "http://127.0.0.1:7000";

    fn setup(opts: BridgeOptions) -> (Live, Bridge) {
        let mut p = SimParams::default();
        for (k, v) in [("nodes", "10"), ("scenario", "movies"), ("model", "events"), ("seed", "2")] {
            p.set(k, v).unwrap();
        }
        let live = Live::new(&p.to_config().unwrap()).unwrap();
        (live, Bridge::new(opts, 10, [1, 2, 3]).unwrap())
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

    #[test]
    fn made_up_uuids_are_stable_and_differ_by_version() {
        let a = made_up_uuid("http://x:1", Version::new(1, 2));
        assert_eq!(a, made_up_uuid("http://x:1", Version::new(1, 2)));
        assert_ne!(a, made_up_uuid("http://x:1", Version::new(1, 3)));
        assert_ne!(a, made_up_uuid("http://x:2", Version::new(1, 2)));
        assert!(fmt_uuid(a).len() == 36);
    }
}
