//! The node's shared state: one core [`Node`] and its [`PeerTable`] behind
//! one mutex, the clock, the options and the counters.
//!
//! The mutex is never held across an `.await`: every method here takes it,
//! drives the core synchronously, collects what is to be sent and returns;
//! the caller then does the IO ([`super::client`]). `now` is read *after*
//! taking the lock, so the core sees time that never goes backwards.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::limits::Limiter;
use super::metrics::{Gauges, NodeMetrics};
use super::store::{NodeStore, StoreError};
use super::swim::{MemberView, SwimSends, SwimSide};
use crate::core::membership::swim::{SwimConfig, SwimMsg};
use crate::core::MemberEvent;
use crate::core::{Config, Event, Message, Node, Out, Payload, PeerTable, Policy, PublicKey, Refusals, Signer};
use crate::rng::Rng;
use crate::wire::{self, Id, Limits};

/// How a native node runs: the protocol core's configuration plus the
/// driver's own settings.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// Identity; default: the advertised URL.
    pub id: Option<String>,
    /// Base URL other nodes dial; default `http://` + the bound address.
    pub advertise: Option<String>,
    /// Base URLs to bootstrap from (this node's own URL is skipped).
    pub bootstrap: Vec<String>,
    /// The protocol core's configuration.
    pub core: Config,
    /// First favorite; default: a random title.
    pub movie: Option<String>,
    /// Incarnation; default: wall-clock seconds at start, so that a node that
    /// restarts (and counts its versions from 1 again) still wins. With a
    /// data directory, [`NodeOptions::open_data_dir`] sets it to the stored
    /// epoch plus one (or the clock, if later).
    pub epoch: Option<u32>,
    /// The seed of the node's signing key: from the data directory, else
    /// random at every start.
    pub key_seed: KeySeed,
    /// Where the epoch and the key seed are kept across restarts
    /// (`--data-dir`); read and updated by [`NodeOptions::open_data_dir`].
    pub data_dir: Option<PathBuf>,
    /// Seed of the node's RNG; default: from the OS.
    pub seed: Option<u64>,
    /// Refuse updates whose epoch is more than this many seconds ahead of
    /// this node's wall clock (epochs are wall-clock seconds at start).
    pub max_epoch_ahead_secs: u32,
    /// Remove a peer that has been suspect (not answering) this long, ms.
    pub remove_after_ms: u64,
    /// Forget an origin that has been silent this long, ms (`--forget-after`):
    /// no new version of it learned, and no request from it. A tombstone
    /// keeps its old versions from coming back. `None`: never.
    pub forget_after_ms: Option<u64>,
    /// Outgoing connect timeout, ms.
    pub connect_timeout_ms: u64,
    /// Outgoing request timeout, whole exchange, ms.
    pub request_timeout_ms: u64,
    /// Incoming: time allowed to send the request head, and then the body, ms.
    pub read_timeout_ms: u64,
    /// Largest request (and response) body, bytes.
    pub max_body_bytes: usize,
    /// Most outgoing exchanges in flight; more are dropped (and counted).
    pub max_in_flight: usize,
    /// Most incoming connections at once; more are refused.
    pub max_connections: usize,
    /// Most requests in progress at once (`--max-concurrent`); more get `503`.
    /// One client may hold at most half of them.
    pub max_concurrent: usize,
    /// Requests a second per client IP (`--client-rps`), bursts of twice
    /// that; more get `429`. 0: no rate limit.
    pub client_rps: u32,
    /// Most connections open at once per client IP (`--client-conns`).
    pub client_conns: usize,
    /// Enable `POST /faults` (`--allow-faults`): for tests only.
    pub allow_faults: bool,
    /// Most peers in the table.
    pub peer_cap: usize,
    /// Bounds on identities and payloads in bodies.
    pub limits: Limits,
    /// Serve HTTPS with this configuration (`--tls-cert`/`--tls-key`; see
    /// [`super::tls::server_config`]); `None`: plain HTTP. It also makes the
    /// default advertised URL `https://`.
    pub tls_server: Option<Arc<rustls::ServerConfig>>,
    /// Dial `https://` peers with this configuration (`--tls-ca` roots
    /// beside the system's; see [`super::tls::client_config`]); `None`: the
    /// system's roots alone.
    pub tls_client: Option<Arc<rustls::ClientConfig>>,
    /// SWIM failure detection with this configuration
    /// (`--failure-detector swim`, the default; see [`super::swim`]);
    /// `None`: the simple detector (`--failure-detector simple`: a peer is
    /// suspect from its first failed exchange).
    pub swim: Option<SwimConfig>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            id: None,
            advertise: None,
            bootstrap: Vec::new(),
            core: Config::default(),
            movie: None,
            epoch: None,
            key_seed: KeySeed::random(),
            data_dir: None,
            seed: None,
            max_epoch_ahead_secs: 86_400,
            remove_after_ms: 30_000,
            forget_after_ms: Some(DEFAULT_FORGET_AFTER_MS),
            connect_timeout_ms: 1_000,
            request_timeout_ms: 3_000,
            read_timeout_ms: 5_000,
            max_body_bytes: 1 << 20,
            max_in_flight: 256,
            max_connections: 1_024,
            max_concurrent: 256,
            client_rps: 1_000,
            client_conns: 256,
            allow_faults: false,
            peer_cap: 1_024,
            limits: Limits::default(),
            tls_server: None,
            tls_client: None,
            swim: Some(SwimConfig::lifeguard()),
        }
    }
}

impl NodeOptions {
    /// With a data directory: start a new incarnation there
    /// ([`NodeStore::open`] at wall-clock second `now_secs`) and take its
    /// epoch and key seed. Without one: nothing changes. Call it before the
    /// node serves (the command line does, before binding).
    pub fn open_data_dir(&mut self, now_secs: u64) -> Result<(), StoreError> {
        if let Some(dir) = &self.data_dir {
            let p = NodeStore::open(dir, now_secs)?;
            self.epoch = Some(p.epoch);
            self.key_seed = KeySeed(p.key_seed);
        }
        Ok(())
    }
}

/// 32 secret bytes, the seed of a node's signing key; `Debug` does not show them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeySeed(pub [u8; 32]);

impl KeySeed {
    /// 32 bytes of OS randomness (a lab node without an entropy source falls
    /// back to the clock and the process id, and says so).
    pub fn random() -> Self {
        let mut b = [0u8; 32];
        if getrandom::fill(&mut b).is_err() {
            tracing::warn!("no OS randomness: the key seed is derived from the clock");
            let mut rng = Rng::new(os_seed() ^ ((std::process::id() as u64) << 32));
            for chunk in b.chunks_mut(8) {
                chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
            }
        }
        KeySeed(b)
    }
}

impl std::fmt::Debug for KeySeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySeed(..)")
    }
}

/// How long an origin may stay silent before a node forgets it, by default: 10 minutes.
pub const DEFAULT_FORGET_AFTER_MS: u64 = 10 * 60 * 1000;

/// Most peers taken from one `GET /peers/` answer.
pub const MAX_PEERS_PER_ANSWER: usize = 64;

/// Largest `GET /peers/` answer read, in bytes.
pub const MAX_PEERS_ANSWER_BYTES: usize = 64 * 1024;

/// Most URLs in the fault-injection drop list.
pub const MAX_DROPS: usize = 4_096;

/// `GET /state`: this node's favorite and version, its peers and its whole view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateView {
    /// Identity.
    pub id: String,
    /// Advertised base URL.
    pub url: String,
    /// Its own favorite movie (none before the first pick).
    pub movie: Option<String>,
    /// Its own version counter (the course's version).
    pub version: u64,
    /// Its incarnation: versions compare by `(epoch, version)`.
    pub epoch: u32,
    /// Its Ed25519 public key, base64url (43 characters).
    #[serde(default)]
    pub key: String,
    /// Protocol name.
    pub protocol: String,
    /// Its seal policy: `welcome` (the default: unsigned updates are taken
    /// for origins never seen signed), `required` (`--require-signed`) or `off`.
    #[serde(default)]
    pub seals: String,
    /// Milliseconds since it started.
    pub uptime_ms: u64,
    /// Peers that answer.
    pub peers: Vec<String>,
    /// Peers that stopped answering (removed after the configured time).
    pub suspect: Vec<String>,
    /// `swim` or `simple` (`--failure-detector`).
    #[serde(default)]
    pub failure_detector: String,
    /// With SWIM: this node's own incarnation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incarnation: Option<u32>,
    /// With SWIM: every member it knows, with its status and incarnation.
    #[serde(default)]
    pub members: Vec<MemberView>,
    /// Every origin it knows, itself included.
    pub view: BTreeMap<String, ViewEntry>,
}

/// What a node knows about one origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewEntry {
    /// The origin's favorite.
    pub movie: String,
    /// Its version counter.
    pub version: u64,
    /// Its epoch.
    pub epoch: u32,
    /// The UUID of that update, canonical (`8-4-4-4-12`, lowercase).
    pub uuid: String,
    /// The TTL it arrived with.
    pub ttl: u32,
    /// When this node learned it, ms since this node started.
    pub learned_ms: u64,
    /// The key that sealed it (base64url), if it was sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Whether its seal was verified: `false` for an unsigned update (a
    /// course node that does not sign, welcome by default), whose origin
    /// nothing proves.
    #[serde(default)]
    pub verified: bool,
}

/// What the core refused of one exchange, described for its sender with
/// the fix for each reason: `None` if nothing was refused.
pub fn refusal_error(r: &Refusals) -> Option<String> {
    let fixes: Vec<&str> = r.reasons().iter().filter(|x| x.count > 0).map(|x| x.fix).collect();
    r.describe().map(|d| format!("updates refused: {d}; {}", fixes.join("; ")))
}

/// Most `(peer, reason)` pairs whose refusals were logged; past it,
/// refusals are only counted (so a peer that keeps changing its name
/// cannot grow memory or the log).
pub const REFUSAL_LOG_CAP: usize = 1_024;

/// What the core asked to send, grouped by destination: one exchange each.
pub type Sends = Vec<(Id, Vec<Message<Id>>)>;

pub(crate) struct Inner {
    pub(crate) node: Node<Id>,
    pub(crate) peers: PeerTable<Id>,
    out: Out<Id>,
    removed: Vec<Id>,
    /// When each origin in the view other than this node was last heard of
    /// (a new version learned, or a request from it): what `--forget-after`
    /// measures. Holds only origins in the view.
    heard: HashMap<Id, u64>,
    /// The peers in the table that have answered us or called us: what
    /// `GET /peers/` lists (when not suspect).
    answered: HashSet<Id>,
    /// The SWIM member (`None`: the simple failure detector).
    pub(crate) swim: Option<SwimSide>,
}

/// A running node's state, shared by the HTTP handlers and the gossip loop.
pub struct NodeState {
    /// Its identity.
    pub id: Id,
    /// Its advertised base URL.
    pub url: Id,
    /// Its Ed25519 public key: it seals its updates with the matching secret.
    pub key: PublicKey,
    /// Its options.
    pub opts: NodeOptions,
    /// Its counters.
    pub metrics: NodeMetrics,
    pub(crate) client: reqwest::Client,
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) limiter: Arc<Limiter>,
    /// Wakes the SWIM loop when a message moved its next deadline.
    pub(crate) swim_wake: tokio::sync::Notify,
    /// Fault injection: base URLs this node neither sends to nor accepts from.
    dropped: Mutex<HashSet<Id>>,
    /// The `(peer, reason)` pairs whose refusals were logged (at most
    /// [`REFUSAL_LOG_CAP`]): each is logged once.
    refusals_logged: Mutex<HashSet<(Id, &'static str)>>,
    start: Instant,
    inner: Mutex<Inner>,
}

/// Wall-clock seconds since 1970, the default epoch of a new incarnation.
pub fn wall_clock_epoch() -> u32 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    secs.min(u32::MAX as u64) as u32
}

/// The newest epoch accepted from others: wall-clock seconds plus `ahead`.
fn epoch_limit(ahead: u32) -> u32 {
    wall_clock_epoch().saturating_add(ahead)
}

/// 64 bits of OS entropy (the core itself never reads OS randomness).
pub fn os_seed() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        // no entropy source: fall back to the clock, good enough for a lab node
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    })
}

impl NodeState {
    /// A node reachable at `url` (its advertised base URL), not yet running.
    pub fn new(opts: NodeOptions, url: &str) -> Arc<Self> {
        let url: Id = Arc::from(url.trim_end_matches('/'));
        let id: Id = opts.id.as_deref().map_or_else(|| url.clone(), Arc::from);
        let mut rng = Rng::new(opts.seed.unwrap_or_else(os_seed));
        let node_rng = Rng::new(rng.next_u64());
        let epoch = opts.epoch.unwrap_or_else(wall_clock_epoch);
        let mut node = Node::new(id.clone(), opts.core.clone(), epoch, node_rng, 0);
        let signer = Signer::from_seed(opts.key_seed.0);
        let key = signer.public();
        node.set_signer(Arc::new(signer));
        node.set_epoch_limit(epoch_limit(opts.max_epoch_ahead_secs));
        let bootstrap = opts.bootstrap.iter().map(|b| b.trim_end_matches('/')).filter(|b| *b != &*url).map(Arc::from);
        let peers = PeerTable::new(bootstrap.collect::<Vec<Id>>(), opts.peer_cap);
        let mut out = Out::default();
        // a node that never re-samples still needs a first favorite
        let first = match (&opts.movie, opts.core.resample_ms) {
            (Some(m), _) => Some(Payload::from(m.clone())),
            (None, None) => Some(Payload::Static(crate::movies::pick(&mut rng, None))),
            (None, Some(_)) => None, // picked by the core's first timer, due at once
        };
        if let Some(m) = first {
            node.choose_favorite(0, m, &peers, &mut out);
        }
        // drawn last, so that a seeded node's other draws stay as they were
        let swim = opts.swim.as_ref().map(|cfg| {
            let mut r = Rng::new(rng.next_u64());
            let phase = r.below(cfg.probe_interval_ms.max(1));
            SwimSide::new(Arc::new(cfg.clone()), url.clone(), r, phase, opts.peer_cap)
        });
        let client = super::tls::client_builder(opts.tls_client.as_ref())
            .connect_timeout(Duration::from_millis(opts.connect_timeout_ms))
            .timeout(Duration::from_millis(opts.request_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .expect("an HTTP client with a preconfigured rustls config and no proxies always builds");
        Arc::new(NodeState {
            id,
            url,
            key,
            in_flight: Arc::new(tokio::sync::Semaphore::new(opts.max_in_flight.max(1))),
            limiter: Arc::new(Limiter::new(opts.max_concurrent, opts.client_rps)),
            swim_wake: tokio::sync::Notify::new(),
            dropped: Mutex::new(HashSet::new()),
            refusals_logged: Mutex::new(HashSet::new()),
            opts,
            metrics: NodeMetrics::default(),
            client,
            start: Instant::now(),
            inner: Mutex::new(Inner {
                node,
                peers,
                out,
                removed: Vec::new(),
                heard: HashMap::new(),
                answered: HashSet::new(),
                swim,
            }),
        })
    }

    /// Milliseconds since the node started: the core's clock.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// When the core's time `ms` is, as an instant.
    pub fn instant_at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // a panic while holding the lock would be a bug in the core; keep serving
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run the core's timer if due and expire silent peers. Returns what to
    /// send and when to call again (core time, ms).
    pub fn tick(&self) -> (Sends, u64) {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        inner.node.set_epoch_limit(epoch_limit(self.opts.max_epoch_ahead_secs));
        if now >= inner.node.poll_timeout() {
            inner.node.handle_timer(now, &inner.peers, &mut inner.out);
        }
        inner.peers.expire(now, self.opts.remove_after_ms, &mut inner.removed);
        for p in inner.removed.drain(..) {
            NodeMetrics::add(&self.metrics.peers_removed, 1);
            inner.answered.remove(&p);
            tracing::info!(peer = %p, "removed peer: no answer for {} ms", self.opts.remove_after_ms);
        }
        if let Some(grace) = self.opts.forget_after_ms {
            self.forget_silent(inner, now, grace);
        }
        let sends = self.drain(inner, now);
        let next = inner.node.poll_timeout().min(now + self.opts.core.interval_ms.max(1));
        (sends, next)
    }

    /// One incoming exchange (`POST /gossip/`): learn the sender if it can be
    /// dialed, apply what it sent, return the replies for the response, what
    /// else is to be sent, and what the core refused of it.
    pub fn exchange_in(&self, env: wire::Envelope) -> (Vec<Message<Id>>, Sends, Refusals) {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        if let Some(u) = &env.url {
            if *u != self.url && inner.peers.contact(u).0 {
                tracing::info!(peer = %u, "new peer (it called us)");
            }
            if inner.peers.peers().contains(u) {
                inner.answered.insert(u.clone());
            }
        }
        // a request from an origin is news of it, even when its favorite
        // stays; so is an update pushed again at the version held (a page
        // re-announcing its nodes: nodes forward only fresh updates)
        for who in std::iter::once(&env.from).chain(env.url.as_ref()) {
            if let Some(t) = inner.heard.get_mut(who) {
                *t = now;
            }
        }
        for m in &env.messages {
            if let Message::Push(us) = m {
                for u in us {
                    if let Some(t) = inner.heard.get_mut(&u.origin) {
                        if inner.node.entry(&u.origin).is_some_and(|e| e.version == u.version && e.uuid == u.uuid) {
                            *t = now;
                        }
                    }
                }
            }
        }
        if let (Some(sw), Some(u)) = (inner.swim.as_mut(), &env.url) {
            sw.vouch(now, u);
        }
        // the sender as our peers know it: its URL if it has one
        let from = env.url.unwrap_or(env.from);
        let before = inner.node.stats().refusals();
        let replies = inner.node.handle_exchange(now, from, env.messages, &inner.peers, &mut inner.out);
        let refused = inner.node.stats().refusals().since(before);
        let sends = self.drain(inner, now);
        self.swim_note(inner, now);
        (replies, sends, refused)
    }

    /// The answer to an exchange we started with `peer`: it is alive; apply
    /// what it sent. The answer came from the URL we dialed, so when it
    /// names that URL as its identity (`from`) and gives its `key`, this is
    /// proof that the identity holds the key: the core binds them (and drops
    /// what it held under another key, e.g. from before a restart that made
    /// a new key). Returns what is to be sent next (a follow-up delta).
    pub fn exchange_answered(&self, peer: &Id, from: Id, key: Option<PublicKey>, messages: Vec<Message<Id>>) -> Sends {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        if let Some(sw) = inner.swim.as_mut() {
            // SWIM decides who is suspect; a course node that answers is vouched for
            sw.vouch(now, peer);
        } else if inner.peers.heard_from(peer) {
            tracing::info!(peer = %peer, "peer answers again");
        }
        if inner.peers.peers().contains(peer) {
            inner.answered.insert(peer.clone());
        }
        if let Some(t) = inner.heard.get_mut(&from) {
            *t = now;
        }
        if let (Some(k), true) = (key, from == *peer) {
            if inner.node.bind_key(from, k) {
                tracing::info!(peer = %peer, key = %crate::core::auth::short_key(&k), "peer has a new key: dropped what was known under its old one");
            }
        }
        let before = inner.node.stats().refusals();
        for m in messages {
            inner.node.handle_message(now, peer.clone(), m, &inner.peers, &mut inner.out);
        }
        let refused = inner.node.stats().refusals().since(before);
        let sends = self.drain(inner, now);
        self.swim_note(inner, now);
        drop(g);
        if refused.total() > 0 {
            self.log_refusals(peer, &refused);
        }
        sends
    }

    /// An exchange we started with `peer` failed: it is suspect (with the
    /// simple detector; SWIM decides for itself).
    pub fn exchange_failed(&self, peer: &Id, why: &str) {
        let mut g = self.lock();
        let now = self.now_ms();
        if g.swim.is_some() {
            drop(g);
            // SWIM decides whether it is down; the first failure says why
            // (a certificate refused, a connection refused), once per peer
            if self.first_time(peer, "exchange_failed") {
                tracing::warn!(peer = %peer, "exchange failed: {why} (logged once per peer; SWIM probes decide whether it is down)");
            } else {
                tracing::debug!(peer = %peer, "exchange failed: {why}");
            }
            return;
        }
        if g.peers.failed(peer, now) {
            NodeMetrics::add(&self.metrics.peers_suspected, 1);
            tracing::warn!(peer = %peer, "peer is suspect: {why}");
        } else {
            tracing::debug!(peer = %peer, "exchange failed: {why}");
        }
    }

    /// The seed of this node's signing key (from its data directory, else
    /// random at start).
    pub fn key_seed(&self) -> &[u8; 32] {
        &self.opts.key_seed.0
    }

    /// Learn peers from a list of base URLs (a `GET /peers/` answer): only
    /// base URLs ([`wire::is_base_url`], at most `max_url_len` bytes) other
    /// than this node, at most [`MAX_PEERS_PER_ANSWER`] of them; the peer
    /// table's cap holds as always. Returns how many were new.
    pub fn learn_peers<S: AsRef<str>>(&self, urls: impl IntoIterator<Item = S>) -> usize {
        let mut g = self.lock();
        let mut new = 0;
        let dialable = urls.into_iter().filter_map(|u| {
            let u = u.as_ref();
            let ok = u.len() <= self.opts.limits.max_url_len && wire::is_base_url(u);
            let u = u.strip_suffix('/').unwrap_or(u);
            (ok && u != &*self.url && u != &*self.id).then(|| Id::from(u))
        });
        for u in dialable.take(MAX_PEERS_PER_ANSWER) {
            if g.peers.learn(u.clone()) {
                new += 1;
                tracing::info!(peer = %u, "new peer (bootstrap list)");
            }
        }
        new
    }

    /// Learn peers from the body of a `GET /peers/` answer: a JSON array
    /// whose strings are taken as by [`NodeState::learn_peers`]; other
    /// entries are skipped. Returns how many entries it had and how many
    /// peers were new, or why the body is not such an array.
    pub fn learn_peer_list(&self, body: &[u8]) -> Result<(usize, usize), PeerListError> {
        if body.len() > MAX_PEERS_ANSWER_BYTES {
            return Err(PeerListError::TooLarge(body.len()));
        }
        let list: Vec<serde_json::Value> = serde_json::from_slice(body).map_err(PeerListError::NotAnArray)?;
        let new = self.learn_peers(list.iter().filter_map(serde_json::Value::as_str));
        Ok((list.len(), new))
    }

    /// Log what was refused of `peer`'s updates, once per peer and reason,
    /// with the fix (a warning); later refusals of the same kind are only
    /// counted (`/metrics`). Returns how many lines it logged.
    pub fn log_refusals(&self, peer: &Id, r: &Refusals) -> usize {
        let mut lines = 0;
        for reason in r.reasons().iter().filter(|x| x.count > 0) {
            if !self.first_time(peer, reason.code) {
                continue;
            }
            lines += 1;
            tracing::warn!(
                peer = %peer,
                reason = reason.code,
                "refused {} update(s) {}: {} (logged once per peer and reason; counted in /metrics)",
                reason.count,
                reason.what,
                reason.fix
            );
        }
        lines
    }

    /// Whether `(peer, code)` is logged for the first time now (then it is
    /// remembered, within [`REFUSAL_LOG_CAP`] pairs; past the cap nothing
    /// more is logged, and that is said once).
    fn first_time(&self, peer: &Id, code: &'static str) -> bool {
        let mut logged = self.refusals_logged.lock().unwrap_or_else(|p| p.into_inner());
        let key = (peer.clone(), code);
        if logged.contains(&key) {
            return false;
        }
        if logged.len() >= REFUSAL_LOG_CAP {
            if logged.insert((Id::from(""), "full")) {
                tracing::warn!("too many peers with problems logged: further ones are only counted in /metrics");
            }
            return false;
        }
        logged.insert(key)
    }

    /// How many `(peer, reason)` pairs have had their refusals logged.
    pub fn refusals_logged(&self) -> usize {
        self.refusals_logged.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Fault injection: whether `url` is in the drop list.
    pub fn is_dropped(&self, url: &str) -> bool {
        self.opts.allow_faults && self.dropped.lock().unwrap_or_else(|p| p.into_inner()).contains(url)
    }

    /// Fault injection: replace the drop list by `urls`. Returns it, sorted.
    pub fn set_dropped(&self, urls: impl IntoIterator<Item = Id>) -> Vec<String> {
        let mut d = self.dropped.lock().unwrap_or_else(|p| p.into_inner());
        *d = urls.into_iter().collect();
        let mut list: Vec<String> = d.iter().map(|u| u.to_string()).collect();
        list.sort();
        tracing::info!(drop = ?list, "fault injection: drop list replaced");
        list
    }

    /// Gauges for `/metrics`.
    pub fn gauges(&self) -> Gauges {
        let g = self.lock();
        let suspect = g.peers.len() - g.peers.alive().count();
        Gauges {
            peers_alive: g.peers.len() - suspect,
            peers_suspect: suspect,
            view: g.node.view_len(),
            seen: g.node.seen_len(),
            version: g.node.version().counter,
            epoch: g.node.version().epoch,
            stats: *g.node.stats(),
            swim: g.swim.as_ref().map(SwimSide::gauges),
        }
    }

    /// The node's digest: `origin -> version` of its whole view.
    pub fn digest(&self) -> crate::core::Digest<Id> {
        self.lock().node.digest()
    }

    /// Base URLs of the peers that answer (`GET /peers/`): peers that have
    /// answered this node or called it, and are not suspect since. Peers
    /// only heard of (from a list, or as an update's origin) are left out
    /// until they do.
    pub fn alive_peers(&self) -> Vec<Id> {
        let g = self.lock();
        g.peers.alive().filter(|p| g.answered.contains(*p)).cloned().collect()
    }

    /// The node's state as `GET /state` shows it.
    pub fn state_json(&self) -> StateView {
        let g = self.lock();
        let n = &g.node;
        let view = n
            .view()
            .map(|(o, e)| {
                let v = ViewEntry {
                    movie: e.payload.as_str().to_string(),
                    version: e.version.counter,
                    epoch: e.version.epoch,
                    uuid: e.uuid.to_string(),
                    ttl: e.ttl,
                    learned_ms: e.learned_at,
                    key: e.seal.as_ref().map(|s| wire::key_text(&s.key)),
                    verified: e.seal.is_some() && n.config().auth != Policy::Off,
                };
                (o.to_string(), v)
            })
            .collect();
        let suspect: Vec<&Id> = g.peers.peers().iter().filter(|p| g.peers.is_suspect(p)).collect();
        let alive: Vec<&Id> = g.peers.alive().filter(|p| g.answered.contains(*p)).collect();
        StateView {
            id: self.id.to_string(),
            url: self.url.to_string(),
            movie: n.favorite().map(str::to_string),
            version: n.version().counter,
            epoch: n.version().epoch,
            key: wire::key_text(&self.key),
            protocol: n.config().protocol.name().to_string(),
            seals: n.config().auth.name().to_string(),
            uptime_ms: self.now_ms(),
            peers: alive.iter().map(|p| p.to_string()).collect(),
            suspect: suspect.iter().map(|p| p.to_string()).collect(),
            failure_detector: if g.swim.is_some() { "swim" } else { "simple" }.to_string(),
            incarnation: g.swim.as_ref().map(|s| s.member().incarnation()),
            members: g.swim.as_ref().map(SwimSide::view).unwrap_or_default(),
            view,
        }
    }

    /// Run the SWIM member's timer if due, after making every peer of the
    /// table a member. Returns what to send and when to call again (`None`:
    /// SWIM is off).
    pub fn swim_tick(&self) -> (SwimSends, Option<u64>) {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        let Some(sw) = inner.swim.as_mut() else { return (Vec::new(), None) };
        for p in inner.peers.peers() {
            sw.introduce(now, p);
        }
        sw.tick(now);
        let next = sw.poll_timeout();
        (self.swim_after(inner, now), Some(next))
    }

    /// A `POST /swim/` request from the member at `from`: returns the
    /// answer's messages and what else is to be sent.
    pub fn swim_in(&self, from: &Id, msgs: Vec<SwimMsg<Id>>) -> (Vec<SwimMsg<Id>>, SwimSends) {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        let Some(sw) = inner.swim.as_mut() else { return (Vec::new(), Vec::new()) };
        let replies = sw.receive(now, from, msgs);
        let sends = self.swim_after(inner, now);
        self.swim_wake.notify_one();
        (replies, sends)
    }

    /// The answer of the member `from` to a `POST /swim/` this node sent.
    pub fn swim_answered(&self, from: &Id, msgs: Vec<SwimMsg<Id>>) -> SwimSends {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        let Some(sw) = inner.swim.as_mut() else { return Vec::new() };
        sw.counters.requests_ok += 1;
        sw.answered(now, from, msgs);
        self.swim_wake.notify_one();
        self.swim_after(inner, now)
    }

    /// `to` answered a `POST /swim/` carrying `sent` with another status
    /// than a success (`plain`: 404 or 405, it does not speak SWIM).
    pub fn swim_refused(&self, to: &Id, sent: &[SwimMsg<Id>], plain: bool) -> SwimSends {
        let mut g = self.lock();
        let now = self.now_ms();
        let inner = &mut *g;
        let Some(sw) = inner.swim.as_mut() else { return Vec::new() };
        if plain {
            sw.counters.requests_plain += 1;
        } else {
            sw.counters.requests_failed += 1;
        }
        sw.refused(now, to, sent, plain);
        self.swim_wake.notify_one();
        self.swim_after(inner, now)
    }

    /// A `POST /swim/` this node sent got no answer (counted only: the
    /// member's timers judge the probe).
    pub fn swim_failed(&self) {
        if let Some(sw) = self.lock().swim.as_mut() {
            sw.counters.requests_failed += 1;
        }
    }

    /// [`NodeState::swim_after`] on the `/gossip/` side: vouching for a
    /// course node only queues an update to piggyback, never a message.
    fn swim_note(&self, inner: &mut Inner, now: u64) {
        let sends = self.swim_after(inner, now);
        debug_assert!(sends.is_empty(), "a vouch sends nothing: {sends:?}");
    }

    /// Take what the SWIM member produced at `now`: members it learned join
    /// the peer table, members declared dead are logged, the table's
    /// suspicions follow SWIM. Returns the sends.
    fn swim_after(&self, inner: &mut Inner, now: u64) -> SwimSends {
        let Some(sw) = inner.swim.as_mut() else { return Vec::new() };
        let (sends, events) = sw.take();
        for ev in events {
            match ev {
                MemberEvent::Up(id) => {
                    let dialable = id.len() <= self.opts.limits.max_url_len && wire::is_base_url(&id);
                    if dialable && id != self.url && inner.peers.learn(id.clone()) {
                        tracing::info!(peer = %id, "new peer (a SWIM member)");
                    } else {
                        tracing::info!(member = %id, "SWIM: member alive");
                    }
                }
                MemberEvent::Down(id) => tracing::warn!(member = %id, "SWIM: member declared dead"),
            }
        }
        let suspected = sw.sync_table(&mut inner.peers, now);
        NodeMetrics::add(&self.metrics.peers_suspected, suspected);
        sends
    }

    /// Forget the origins not heard of for `grace` ms at `now` (the core
    /// keeps a tombstone of each), and stop tracking origins that left the
    /// view otherwise.
    fn forget_silent(&self, inner: &mut Inner, now: u64, grace: u64) {
        let node = &mut inner.node;
        inner.heard.retain(|o, t| {
            if now.saturating_sub(*t) < grace {
                return node.entry(o).is_some();
            }
            if node.forget(o) {
                NodeMetrics::add(&self.metrics.origins_forgotten, 1);
                tracing::info!(origin = %o, "forgot origin: silent for {} ms", grace);
            }
            false
        });
    }

    /// Take what the core produced at `now`: note when each origin was last
    /// heard of, learn peers from the origins of fresh updates (when they
    /// are base URLs), log, and group sends by destination.
    fn drain(&self, inner: &mut Inner, now: u64) -> Sends {
        for ev in inner.out.events.drain(..) {
            match ev {
                Event::Originated { version } => {
                    let movie = inner.node.favorite().unwrap_or("");
                    tracing::info!(%version, movie, "new favorite");
                }
                Event::Learned { origin, version, via, .. } => {
                    tracing::debug!(%origin, %version, ?via, "learned");
                    if origin != self.id {
                        inner.heard.insert(origin.clone(), now);
                    }
                    // the peer is the base URL, whether or not the origin wrote a trailing slash
                    let url: Id = match origin.strip_suffix('/') {
                        Some(u) => Id::from(u),
                        None => origin.clone(),
                    };
                    if origin != self.id
                        && url != self.url
                        && wire::is_base_url(&origin)
                        && origin.len() <= self.opts.limits.max_url_len
                        && inner.peers.learn(url.clone())
                    {
                        tracing::info!(peer = %url, "new peer (origin of an update)");
                    }
                }
            }
        }
        let mut sends: Sends = Vec::new();
        for t in inner.out.sends.drain(..) {
            match sends.iter_mut().find(|(to, _)| *to == t.to) {
                Some((_, msgs)) => msgs.push(t.msg),
                None => sends.push((t.to, vec![t.msg])),
            }
        }
        sends
    }
}

/// Why a `GET /peers/` answer could not be read as a peer list
/// ([`NodeState::learn_peer_list`]).
#[derive(Debug)]
pub enum PeerListError {
    /// The body had this many bytes, over [`MAX_PEERS_ANSWER_BYTES`].
    TooLarge(usize),
    /// The body is not a JSON array.
    NotAnArray(serde_json::Error),
}

impl std::fmt::Display for PeerListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerListError::TooLarge(n) => write!(f, "{n} bytes, larger than {MAX_PEERS_ANSWER_BYTES}"),
            PeerListError::NotAnArray(e) => write!(f, "not a JSON array: {e}"),
        }
    }
}

impl std::error::Error for PeerListError {}
