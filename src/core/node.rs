//! The gossip node: one sans-IO state machine for every protocol.
//!
//! # Calling contract
//!
//! A [`Node`] is driven by exactly three inputs, each given the current time
//! in milliseconds (`now` must never go backwards between calls):
//!
//! * [`Node::handle_timer`] when `now >= node.poll_timeout()`;
//! * [`Node::handle_message`] when a message from a peer arrives;
//! * [`Node::set_favorite`] when the application picks a new favorite.
//!
//! Each call takes the [`Peers`] to choose partners from and an [`Out`]
//! buffer. The node appends the messages it wants sent (`out.sends`) and what
//! happened (`out.events`); the driver delivers, counts and clears them. The
//! node never blocks, never fails and never panics on input: invalid updates
//! are dropped and counted in [`NodeStats`].
//!
//! Randomness comes from the node's own [`Rng`], seeded by the driver, so a
//! node's behaviour is a pure function of its seed and its input sequence.
//!
//! ```
//! use std::sync::Arc;
//! use gossip::core::{Config, Node, Out, PeerList, Signer};
//! use gossip::rng::Rng;
//!
//! let cfg = Config { resample_ms: None, ..Config::default() };
//! let peers = PeerList(vec!["a".to_string(), "b".to_string()]);
//! let mut a = Node::new("a".to_string(), cfg.clone(), 0, Rng::new(1), 0);
//! let mut b = Node::new("b".to_string(), cfg, 0, Rng::new(2), 0);
//! let mut out = Out::default();
//!
//! // by default every update must be signed by its origin: a gets a key
//! // pair (its secret seed comes from the driver: OS entropy, a state file)
//! a.set_signer(Arc::new(Signer::from_seed([7; 32])));
//! // a picks a favorite; the default protocol pushes it at once
//! a.set_favorite(0, "Alien".into(), &peers, &mut out);
//! for t in std::mem::take(&mut out.sends) {
//!     assert_eq!(t.to, "b");
//!     b.handle_message(5, "a".to_string(), t.msg, &peers, &mut out);
//! }
//! assert_eq!(b.entry(&"a".to_string()).unwrap().payload.as_str(), "Alien");
//! ```

use std::sync::Arc;

use indexmap::IndexMap;

use foldhash::fast::FixedState;

use super::auth::{self, Policy, PublicKey, Refusal, Refusals, Signer};
use super::config::{Config, Protocol, RumorState};
use super::message::{Digest, Message, NodeId, Payload, Record, Update};
use super::peers::Peers;
use super::seen::SeenCache;
use super::spares::Spares;
use super::vector;
use super::version::Version;
use super::view::{Diff, View};
use crate::hint::prefetch;
use crate::rng::Rng;

/// What a node knows about one origin: the origin's [`Record`] of the
/// newest version seen (read its fields through the entry: `e.version`,
/// `e.uuid`, `e.payload`, `e.seal`), shared with every other holder, and
/// this node's own bookkeeping about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// TTL the update arrived with (how far it may still be pushed).
    pub ttl: u32,
    /// Rumor-mongering state (used by `Protocol::Rumor`).
    pub rumor: RumorState,
    /// When this node learned it.
    pub learned_at: u64,
    /// The newest version seen, as its origin made it.
    rec: Arc<Record>,
}

impl Entry {
    /// An entry holding `rec`, learned at `now` with `ttl`, a hot rumor.
    pub fn new(rec: Arc<Record>, ttl: u32, now: u64) -> Self {
        Entry { ttl, rumor: RumorState::HOT, learned_at: now, rec }
    }

    /// The shared record.
    pub fn record(&self) -> &Arc<Record> {
        &self.rec
    }
}

impl std::ops::Deref for Entry {
    type Target = Record;
    fn deref(&self) -> &Record {
        &self.rec
    }
}

/// How an update was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Pushed (flood, eager push, rumor).
    Push,
    /// Anti-entropy (digest exchange, push or pull of state).
    AntiEntropy,
}

/// Something that happened inside the node, reported to the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<Id> {
    /// This node made a new version of its own favorite.
    Originated { version: Version },
    /// This node's view of `origin` moved from `previous` to `version`.
    Learned { origin: Id, previous: Option<Version>, version: Version, via: Via },
}

/// A message the node wants delivered.
#[derive(Clone, Debug)]
pub struct Transmit<Id> {
    /// Destination.
    pub to: Id,
    /// What to deliver.
    pub msg: Message<Id>,
}

impl<Id: NodeId> PartialEq for Transmit<Id> {
    fn eq(&self, other: &Self) -> bool {
        self.to == other.to && self.msg == other.msg
    }
}

impl<Id: NodeId> Eq for Transmit<Id> {}

/// The output buffer a node appends to. Reuse one across calls and clear it
/// after draining.
///
/// It also keeps a few spare buffers of messages read: a node that reads a
/// digest, a delta or a request leaves the emptied list here, and the next
/// such list a node makes through this `Out` reuses it. A driver that
/// passes one `Out` to many nodes (the simulator) then allocates no message
/// list once the run is under way, whichever thread made the buffer. See
/// [`Out::keep_spares`].
#[derive(Clone)]
pub struct Out<Id> {
    /// Messages to send, in order.
    pub sends: Vec<Transmit<Id>>,
    /// Events, in order.
    pub events: Vec<Event<Id>>,
    /// Buffers of messages read and done with.
    pub(crate) spares: Spares<Id>,
}

impl<Id: std::fmt::Debug> std::fmt::Debug for Out<Id> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the spares' contents are stale: their count is what matters
        f.debug_struct("Out")
            .field("sends", &self.sends)
            .field("events", &self.events)
            .field("spares", &self.spares.len())
            .finish()
    }
}

impl<Id> Default for Out<Id> {
    fn default() -> Self {
        Out { sends: Vec::new(), events: Vec::new(), spares: Spares::default() }
    }
}

impl<Id> Out<Id> {
    /// Empty both lists (the spare buffers stay).
    pub fn clear(&mut self) {
        self.sends.clear();
        self.events.clear();
    }

    /// Keep up to `cap` spare buffers of each kind (4 by default): about as
    /// many digests as the nodes this `Out` serves receive between two of
    /// their own (one per node for push-pull gossip every round), so that
    /// the buffers read are there for the lists made. Spares past the cap
    /// are freed at once.
    pub fn keep_spares(&mut self, cap: usize) {
        self.spares.set_cap(cap);
    }
}

/// Counters a node keeps about its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Updates received, valid or not.
    pub updates_in: u64,
    /// Updates that changed the view.
    pub fresh: u64,
    /// Valid updates that changed nothing (seen UUID, equal or older version).
    pub duplicates: u64,
    /// Updates dropped as invalid (version out of range, payload too long).
    pub invalid: u64,
    /// Updates about unknown origins dropped because the view was full.
    pub view_full: u64,
    /// Updates claiming to be from this node with a newer version than its own.
    pub self_claims: u64,
    /// TTLs that arrived above the maximum and were clamped.
    pub ttl_clamped: u64,
    /// Updates dropped for lack of a seal (the policy requires one, or the origin is bound to a key).
    pub unsigned: u64,
    /// Updates dropped because their seal's signature does not verify.
    pub bad_signature: u64,
    /// Updates dropped because they are sealed by another key than the one bound to their origin.
    pub key_mismatch: u64,
    /// Updates dropped because their epoch is past the driver's limit (a clock far in the future, or a forgery).
    pub future_epoch: u64,
}

impl NodeStats {
    /// Updates dropped by the authenticity and epoch checks, by reason.
    pub fn refusals(&self) -> Refusals {
        Refusals {
            unsigned: self.unsigned,
            bad_signature: self.bad_signature,
            key_mismatch: self.key_mismatch,
            future_epoch: self.future_epoch,
        }
    }

    /// How many updates those checks dropped.
    pub fn refused(&self) -> u64 {
        self.refusals().total()
    }
}

/// A gossip node. See the module documentation for the calling contract.
#[derive(Clone, Debug)]
pub struct Node<Id: NodeId> {
    id: Id,
    cfg: Config,
    rng: Rng,
    own: Version,
    /// What it knows, by origin (see `view` for the layout).
    view: View<Id>,
    seen: SeenCache,
    next_gossip: u64,
    next_resample: Option<u64>,
    next_anti_entropy: Option<u64>,
    stats: NodeStats,
    scratch: Vec<Id>,
    /// The slots a digest being answered lacks (kept to reuse its memory).
    lack: Vec<usize>,
    /// `round_robin`: this pass's shuffled peers, and how many were used.
    pass: Vec<Id>,
    pass_pos: usize,
    signer: Option<Arc<Signer>>,
    pins: IndexMap<Id, PublicKey, FixedState>,
    epoch_limit: u32,
    sign_buf: Vec<u8>,
}

impl<Id: NodeId> Node<Id> {
    /// A node named `id` in incarnation `epoch`, created at `now`. With
    /// `cfg.resample_ms` set it picks its first favorite at its first timer,
    /// which is due at once.
    pub fn new(id: Id, cfg: Config, epoch: u32, mut rng: Rng, now: u64) -> Self {
        let seen = SeenCache::new(cfg.seen_ttl_ms, cfg.seen_cap, rng.next_u64());
        let view = View::new(rng.next_u64());
        let interval = cfg.interval_ms.max(1);
        let next_gossip = if cfg.random_phase { now + 1 + rng.below(interval) } else { now + interval };
        let next_resample = cfg.resample_ms.map(|_| now);
        // drawn only when enabled, so that other configurations keep their random streams
        let next_anti_entropy = cfg.anti_entropy_ms.map(|every| now + 1 + rng.below(every.max(1)));
        Node {
            id,
            cfg,
            rng,
            own: Version::new(epoch, 0),
            view,
            seen,
            next_gossip,
            next_resample,
            next_anti_entropy,
            stats: NodeStats::default(),
            scratch: Vec::new(),
            lack: Vec::new(),
            pass: Vec::new(),
            pass_pos: 0,
            signer: None,
            pins: IndexMap::with_hasher(FixedState::with_seed(0)),
            epoch_limit: u32::MAX,
            sign_buf: Vec::new(),
        }
    }

    /// Give the node its key pair: from now on it seals every version of its
    /// own favorite. Call before the first favorite (a favorite set earlier
    /// stays unsealed until the next one).
    pub fn set_signer(&mut self, signer: Arc<Signer>) {
        self.signer = Some(signer);
    }

    /// Its public key, if it signs.
    pub fn public_key(&self) -> Option<PublicKey> {
        self.signer.as_ref().map(|s| s.public())
    }

    /// Refuse updates whose epoch is above `limit` (the driver's sanity
    /// bound, e.g. wall-clock seconds plus a day for clock-based epochs), so
    /// that one forged message cannot freeze an origin's entry for ever.
    pub fn set_epoch_limit(&mut self, limit: u32) {
        self.epoch_limit = limit;
    }

    /// The driver has direct proof that `origin` holds `key` (it dialed the
    /// origin's own URL and that is the key it answered with): bind `origin`
    /// to `key`. An entry for `origin` sealed by another key (or not sealed)
    /// is dropped, so the origin's own next update is taken; updates sealed
    /// by the old key are refused from now on. Returns whether an entry was
    /// dropped. Bindings are bounded like the view (oldest forgotten first).
    pub fn bind_key(&mut self, origin: Id, key: PublicKey) -> bool {
        if origin == self.id || self.pins.get(&origin) == Some(&key) {
            return false;
        }
        let dropped = match self.view.get(&origin) {
            Some(e) if e.seal.as_ref().map(|s| s.key) != Some(key) => self.view.remove(&origin),
            _ => false,
        };
        if self.pins.len() >= self.cfg.max_view.max(1) && !self.pins.contains_key(&origin) {
            self.pins.shift_remove_index(0);
        }
        self.pins.insert(origin, key);
        dropped
    }

    /// The key `origin` is bound to: pinned by [`Node::bind_key`], else the
    /// key that sealed its entry (trust on first use).
    pub fn bound_key(&self, origin: &Id) -> Option<PublicKey> {
        self.pins.get(origin).copied().or_else(|| self.view.get(origin)?.seal.as_ref().map(|s| s.key))
    }

    /// This node's identity.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The version of its own current favorite (counter 0: none yet).
    pub fn version(&self) -> Version {
        self.own
    }

    /// Its own current favorite, if it has one.
    pub fn favorite(&self) -> Option<&str> {
        self.view.get(&self.id).map(|e| e.payload.as_str())
    }

    /// Everything it knows, in the order it learned of each origin (itself included).
    pub fn view(&self) -> impl Iterator<Item = (&Id, &Entry)> {
        self.view.iter()
    }

    /// Its entry for `origin`.
    pub fn entry(&self, origin: &Id) -> Option<&Entry> {
        self.view.get(origin)
    }

    /// The version it knows for `origin`.
    pub fn known(&self, origin: &Id) -> Option<Version> {
        self.view.find(origin).map(|f| f.version)
    }

    /// Number of origins in its view.
    pub fn view_len(&self) -> usize {
        self.view.len()
    }

    /// Its input counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// UUIDs currently remembered for dedup.
    pub fn seen_len(&self) -> usize {
        self.seen.len()
    }

    /// When `handle_timer` must next be called.
    pub fn poll_timeout(&self) -> u64 {
        [self.next_resample, self.next_anti_entropy].into_iter().flatten().fold(self.next_gossip, u64::min)
    }

    /// Stop re-sampling the favorite (the driver's experiment is winding down).
    pub fn stop_resampling(&mut self) {
        self.cfg.resample_ms = None;
        self.next_resample = None;
    }

    /// Expect to learn the origins with dense indices below `origins` (the
    /// simulator's nodes `0..origins`): the view makes room for them now
    /// instead of growing as it learns them. A hint; it changes no behaviour.
    pub fn reserve_view(&mut self, origins: usize) {
        self.view.reserve(origins.min(self.cfg.max_view));
    }

    /// Its digest: `origin -> version` for every entry, sorted by origin
    /// (read off the view, which keeps its versions in origin order).
    pub fn digest(&self) -> Digest<Id> {
        self.view.digest()
    }

    /// [`Node::digest`], after merging origins that wait in the view's
    /// version vector for good (a plain copy from then on, instead of a
    /// merge per call).
    fn flushed_digest(&mut self, out: &mut Out<Id>) -> Digest<Id> {
        self.view.flush();
        self.view.digest_into(out.spares.column())
    }

    /// Adopt `payload` as the new favorite: bump the version, record it, and
    /// push it at once where the protocol says so.
    pub fn set_favorite(&mut self, now: u64, payload: Payload, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        self.own = self.own.next();
        let uuid = self.rng.uuid();
        self.seen.insert(uuid, now);
        let seal = self.signer.as_ref().map(|s| s.seal(uuid, &self.id, self.own, payload.as_str()));
        let entry = Entry::new(Arc::new(Record::new(uuid, self.own, payload, seal)), self.cfg.ttl, now);
        let previous = self.view.put(None, self.id.clone(), entry);
        out.events.push(Event::Originated { version: self.own });
        out.events.push(Event::Learned { origin: self.id.clone(), previous, version: self.own, via: Via::Push });
        if self.forwards_fresh() {
            let update = self.update_of(&self.id.clone(), self.cfg.ttl);
            if let Some(u) = update {
                self.forward(vec![u], None, peers, out);
            }
        }
    }

    /// The application picks `payload` as its favorite (a user's choice, not
    /// a re-sample): like [`Node::set_favorite`], and the next re-sample, if
    /// the node re-samples, is a whole period (plus jitter) away.
    pub fn choose_favorite(&mut self, now: u64, payload: Payload, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        if self.next_resample.is_some() {
            self.schedule_resample(now);
        }
        self.set_favorite(now, payload, peers, out);
    }

    fn schedule_resample(&mut self, now: u64) {
        if let Some(every) = self.cfg.resample_ms {
            let jitter = self.rng.below(self.cfg.resample_jitter_ms + 1);
            self.next_resample = Some(now + every.max(1) + jitter);
        }
    }

    /// The timer input: re-sample the favorite and run a gossip round when due.
    pub fn handle_timer(&mut self, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        if let Some(due) = self.next_resample {
            if now >= due {
                self.schedule_resample(now);
                let current = self.view.get(&self.id).map(|e| e.payload.as_str());
                let movie = crate::movies::pick(&mut self.rng, current);
                self.set_favorite(now, Payload::Static(movie), peers, out);
            }
        }
        if now >= self.next_gossip {
            let interval = self.cfg.interval_ms.max(1);
            let missed = (now - self.next_gossip) / interval;
            self.next_gossip += (missed + 1) * interval;
            self.gossip_round(now, peers, out);
        }
        if let (Some(due), Some(every)) = (self.next_anti_entropy, self.cfg.anti_entropy_ms) {
            if now >= due {
                let every = every.max(1);
                self.next_anti_entropy = Some(due + ((now - due) / every + 1) * every);
                let targets = self.sample(peers, 1);
                if let Some(t) = targets.first() {
                    let msg = Message::Digest { digest: self.flushed_digest(out), push_pull: true };
                    out.sends.push(Transmit { to: t.clone(), msg });
                }
                self.scratch = targets;
            }
        }
        self.seen.expire(now);
    }

    /// The client input: a client hands this node `update` to spread (the
    /// broadcast workload's `broadcast` request; the update's origin names
    /// the value, not a node). It is checked and merged like an update from
    /// the network, then spread as the protocol spreads fresh updates
    /// (pushed at once under flood or eager push, a hot rumor under rumor
    /// mongering, in the next digests otherwise). Returns whether it was new.
    pub fn handle_broadcast(
        &mut self,
        now: u64,
        update: Update<Id>,
        peers: &impl Peers<Id>,
        out: &mut Out<Id>,
    ) -> bool {
        let (origin, ttl) = (update.origin.clone(), update.ttl.min(self.cfg.max_ttl));
        let fresh = self.apply(now, update, Via::Push, peers, out);
        if fresh && ttl > 0 && self.forwards_fresh() {
            if let Some(u) = self.update_of(&origin, ttl - 1) {
                self.forward(vec![u], None, peers, out);
            }
        }
        fresh
    }

    /// The message input: `msg` arrived from `from`.
    pub fn handle_message(&mut self, now: u64, from: Id, msg: Message<Id>, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        match msg {
            Message::Push(updates) => self.on_push(now, from, updates, peers, out),
            Message::Feedback(known) => self.on_feedback(&known),
            Message::Digest { digest, push_pull } => self.on_digest(from, digest, push_pull, out),
            Message::Delta { mut updates, request } => {
                // start loading the cells and entries of the updates a few
                // places ahead of the one applied, so that their cache
                // misses overlap instead of following one another
                let mut rest = updates.drain(..);
                warm_ahead(&self.view, rest.as_slice(), |u| &u.origin, own_record);
                while let Some(u) = rest.next() {
                    warm_next(&self.view, rest.as_slice(), |u| &u.origin, own_record);
                    self.apply(now, u, Via::AntiEntropy, peers, out);
                }
                drop(rest);
                out.spares.give_updates(updates);
                if !request.is_empty() {
                    let pairs = request.pairs();
                    warm_ahead(&self.view, &pairs, |(o, _)| o, |_| None);
                    let mut updates = out.spares.updates();
                    for (i, (o, have)) in pairs.iter().enumerate() {
                        warm_next(&self.view, &pairs[i + 1..], |(o, _)| o, |_| None);
                        updates.extend(self.stored_update(o).filter(|u| u.version > *have));
                    }
                    drop(pairs);
                    out.spares.give_pairs(request.into_vec());
                    if updates.is_empty() {
                        out.spares.give_updates(updates);
                    } else {
                        out.sends
                            .push(Transmit { to: from, msg: Message::Delta { updates, request: Digest::default() } });
                    }
                }
            }
        }
    }

    /// One request/response exchange (the native node's `POST /gossip/`):
    /// apply every message `from` sent, in order, and return the replies
    /// addressed to it (deltas, feedback), which travel back in the response.
    /// Everything else the node wants sent (forwards to other peers) stays in
    /// `out.sends`. A peer that cannot be dialed (a browser) takes part fully
    /// this way: its pushes and digest go in, what it lacks comes back.
    ///
    /// ```
    /// use gossip::core::{Config, Message, Node, NoPeers, Out, Policy};
    /// use gossip::rng::Rng;
    ///
    /// // unsigned updates, as simple course implementations send them
    /// let cfg = Config { resample_ms: None, auth: Policy::AllowUnsigned, ..Config::default() };
    /// let mut a = Node::new("a".to_string(), cfg.clone(), 0, Rng::new(1), 0);
    /// let mut b = Node::new("b".to_string(), cfg, 0, Rng::new(2), 0);
    /// let mut out = Out::default();
    /// a.set_favorite(0, "Alien".into(), &NoPeers, &mut out);
    /// // b asks a for what it lacks: one round trip
    /// let ask = Message::Digest { digest: b.digest(), push_pull: true };
    /// let replies = a.handle_exchange(1, "b".to_string(), vec![ask], &NoPeers, &mut out);
    /// for m in replies {
    ///     b.handle_message(2, "a".to_string(), m, &NoPeers, &mut out);
    /// }
    /// assert_eq!(b.entry(&"a".to_string()).unwrap().payload.as_str(), "Alien");
    /// ```
    pub fn handle_exchange(
        &mut self,
        now: u64,
        from: Id,
        msgs: impl IntoIterator<Item = Message<Id>>,
        peers: &impl Peers<Id>,
        out: &mut Out<Id>,
    ) -> Vec<Message<Id>> {
        let start = out.sends.len();
        for m in msgs {
            self.handle_message(now, from.clone(), m, peers, out);
        }
        let mut replies = Vec::new();
        let mut kept = start;
        for i in start..out.sends.len() {
            if out.sends[i].to == from && out.sends[i].msg.is_reply() {
                let t = std::mem::replace(&mut out.sends[i].msg, Message::Push(Vec::new()));
                replies.push(t);
            } else {
                out.sends.swap(kept, i);
                kept += 1;
            }
        }
        out.sends.truncate(kept);
        replies
    }

    fn forwards_fresh(&self) -> bool {
        self.cfg.protocol == Protocol::Flood || (self.cfg.eager_push && self.cfg.protocol != Protocol::Rumor)
    }

    fn update_of(&self, origin: &Id, ttl: u32) -> Option<Update<Id>> {
        self.view.get(origin).map(|e| update_from(origin, e, ttl))
    }

    /// The update held for `origin`, with the TTL it arrived with (anti-entropy).
    fn stored_update(&self, origin: &Id) -> Option<Update<Id>> {
        self.view.get(origin).map(|e| update_from(origin, e, e.ttl))
    }

    fn sample(&mut self, peers: &impl Peers<Id>, k: usize) -> Vec<Id> {
        let mut v = std::mem::take(&mut self.scratch);
        v.clear();
        if self.cfg.round_robin {
            self.next_in_pass(peers, k, &mut v);
        } else {
            peers.sample(&mut self.rng, &self.id, k, &mut v);
        }
        v
    }

    /// `round_robin`: the next `k` distinct peers of the current pass over a
    /// shuffled list of all peers, starting a new pass when it runs out (at
    /// most one new pass per call, so the loop is bounded).
    fn next_in_pass(&mut self, peers: &impl Peers<Id>, k: usize, out: &mut Vec<Id>) {
        let mut refilled = false;
        while out.len() < k {
            if self.pass_pos >= self.pass.len() {
                if refilled {
                    return;
                }
                refilled = true;
                self.pass.clear();
                peers.all(&self.id, &mut self.pass);
                for i in (1..self.pass.len()).rev() {
                    let j = self.rng.below(i as u64 + 1) as usize;
                    self.pass.swap(i, j);
                }
                self.pass_pos = 0;
                if self.pass.is_empty() {
                    return;
                }
            }
            let p = &self.pass[self.pass_pos];
            self.pass_pos += 1;
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
    }

    /// Push `updates` (TTL already set for the hop) to all peers (flood) or
    /// to `fanout` random peers (eager push), never back to `from`.
    fn forward(&mut self, updates: Vec<Update<Id>>, from: Option<&Id>, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let targets = if self.cfg.protocol == Protocol::Flood {
            let mut v = std::mem::take(&mut self.scratch);
            v.clear();
            peers.all(&self.id, &mut v);
            v
        } else {
            self.sample(peers, self.cfg.fanout as usize)
        };
        for t in &targets {
            if Some(t) != from && updates.iter().all(|u| &u.origin != t) {
                let mut copy = out.spares.updates();
                copy.extend_from_slice(&updates);
                out.sends.push(Transmit { to: t.clone(), msg: Message::Push(copy) });
            }
        }
        out.spares.give_updates(updates);
        self.scratch = targets;
    }

    fn gossip_round(&mut self, _now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let fanout = self.cfg.fanout as usize;
        match self.cfg.protocol {
            Protocol::Flood => {}
            Protocol::Push => {
                if self.view.is_empty() {
                    return;
                }
                let updates: Vec<_> = self.view.iter().map(|(o, e)| update_from(o, e, e.ttl)).collect();
                let targets = self.sample(peers, fanout);
                for t in &targets {
                    out.sends.push(Transmit {
                        to: t.clone(),
                        msg: Message::Delta { updates: updates.clone(), request: Digest::default() },
                    });
                }
                self.scratch = targets;
            }
            Protocol::Pull | Protocol::PushPull => {
                let push_pull = self.cfg.protocol == Protocol::PushPull;
                let targets = self.sample(peers, fanout);
                if let Some((last, rest)) = targets.split_last() {
                    // n entries each: copied for all targets but the last, which takes it
                    let digest = self.flushed_digest(out);
                    for t in rest {
                        out.sends.push(Transmit {
                            to: t.clone(),
                            msg: Message::Digest { digest: digest.clone(), push_pull },
                        });
                    }
                    out.sends.push(Transmit { to: last.clone(), msg: Message::Digest { digest, push_pull } });
                }
                self.scratch = targets;
            }
            Protocol::Rumor => {
                let hot: Vec<Update<Id>> = self
                    .view
                    .iter()
                    .filter(|(_, e)| e.rumor.hot && e.ttl > 0)
                    .filter_map(|(o, e)| self.update_of(o, e.ttl - 1))
                    .collect();
                if hot.is_empty() {
                    return;
                }
                let targets = self.sample(peers, fanout);
                for t in &targets {
                    out.sends.push(Transmit { to: t.clone(), msg: Message::Push(hot.clone()) });
                    if !self.cfg.stop.feedback {
                        // blind: every contact counts
                        for u in &hot {
                            self.count_contact(&u.origin, u.version);
                        }
                    }
                }
                self.scratch = targets;
            }
        }
    }

    fn count_contact(&mut self, origin: &Id, version: Version) {
        let kind = self.cfg.stop.kind;
        let rng = &mut self.rng;
        if let Some(f) = self.view.find(origin) {
            if f.version == version {
                self.view.at_mut(f.slot).rumor.count_contact(kind, |p| rng.chance(p));
            }
        }
    }

    fn on_feedback(&mut self, known: &[(Id, Version)]) {
        if self.cfg.protocol != Protocol::Rumor || !self.cfg.stop.feedback {
            return;
        }
        for (o, v) in known {
            self.count_contact(o, *v);
        }
    }

    fn on_push(&mut self, now: u64, from: Id, mut updates: Vec<Update<Id>>, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let mut known = Vec::new();
        let mut fresh = out.spares.updates();
        let feedback = self.cfg.protocol == Protocol::Rumor && self.cfg.stop.feedback;
        for u in updates.drain(..) {
            // "already knew" means knew before this instant: in the rounds
            // model, before the round started.
            let knew_before =
                feedback && self.view.get(&u.origin).is_some_and(|e| e.version >= u.version && e.learned_at < now);
            let (origin, version, ttl) = (u.origin.clone(), u.version, u.ttl);
            let applied = self.apply(now, u, Via::Push, peers, out);
            if applied {
                if ttl > 0 && self.forwards_fresh() {
                    if let Some(f) = self.update_of(&origin, ttl - 1) {
                        fresh.push(f);
                    }
                }
            } else if feedback && knew_before {
                known.push((origin, version));
            }
        }
        out.spares.give_updates(updates);
        if !known.is_empty() {
            out.sends.push(Transmit { to: from.clone(), msg: Message::Feedback(known) });
        }
        if fresh.is_empty() {
            out.spares.give_updates(fresh);
        } else {
            self.forward(fresh, Some(&from), peers, out);
        }
    }

    /// Answer a digest: a `Delta` with what the sender lacks (our newer
    /// versions, and origins it does not list) and, for push-pull, a request
    /// for what we lack. Both lists sorted by origin are compared in one
    /// linear merge; a digest that is not strictly sorted (a peer's digest
    /// may be in any order, with repeats) is first sorted, keeping the
    /// newest version listed for each origin.
    fn on_digest(&mut self, from: Id, digest: Digest<Id>, push_pull: bool, out: &mut Out<Id>) {
        self.view.flush();
        // the merge checks the order as it goes and gives up at the first
        // entry out of order: our own digests (and the native nodes') are sorted
        let spares = &mut out.spares;
        let reply = self
            .compare(&digest, push_pull, spares)
            .or_else(|| self.compare(&Digest::new(vector::canonical(&digest.pairs())), push_pull, spares));
        let (column, pairs) = digest.into_parts();
        spares.give_column(column);
        spares.give_pairs(pairs);
        if let Some((updates, request)) = reply {
            if !updates.is_empty() || !request.is_empty() {
                out.sends.push(Transmit { to: from, msg: Message::Delta { updates, request } });
            } else {
                out.spares.give_updates(updates);
                out.spares.give_pairs(request.into_vec());
            }
        }
    }

    /// Merge `theirs` with the (flushed) version vector: the updates they
    /// lack and the request for what we lack. `None` if `theirs` turns out
    /// not to be strictly increasing by origin.
    #[allow(clippy::type_complexity)]
    fn compare(
        &mut self,
        theirs: &Digest<Id>,
        push_pull: bool,
        spares: &mut Spares<Id>,
    ) -> Option<(Vec<Update<Id>>, Digest<Id>)> {
        let view = &self.view;
        let room = view.len() < self.cfg.max_view;
        // the slots they lack are collected first, so that the updates are
        // made in a loop of independent loads
        let mut lack = std::mem::take(&mut self.lack);
        lack.clear();
        let mut request = spares.pairs();
        let sorted = view.diff(theirs, |d| match d {
            Diff::TheyLack(slot) => lack.push(slot),
            Diff::WeLack(o, v) => {
                if push_pull && v.is_valid() && room {
                    request.push((o.clone(), Version::default()));
                }
            }
            Diff::WeLag(o, mine) => {
                if push_pull {
                    request.push((o.clone(), mine));
                }
            }
        });
        if !sorted {
            self.lack = lack;
            spares.give_pairs(request);
            return None;
        }
        let mut updates = spares.updates();
        updates.reserve(lack.len());
        if !crate::hint::ENABLED {
            view.touch_slots(&lack);
        }
        lack.iter().take(2 * STEP).for_each(|&slot| view.warm_slot(slot));
        lack.iter().take(STEP).for_each(|&slot| view.warm_slot_record(slot));
        for (i, &slot) in lack.iter().enumerate() {
            if let Some(&next) = lack.get(i + 2 * STEP) {
                view.warm_slot(next);
            }
            if let Some(&next) = lack.get(i + STEP) {
                view.warm_slot_record(next);
            }
            let (o, e) = view.at(slot);
            updates.push(update_from(o, e, e.ttl));
        }
        self.lack = lack;
        Some((updates, Digest::new(request)))
    }

    /// Validate and merge one update. Returns whether the view changed.
    ///
    /// Cheap checks come first (ranges, the seen cache, the merge rule), so
    /// duplicates — most of gossip's traffic — never cost a signature check;
    /// a seal is verified only for an update that would change the view, and
    /// its UUID is remembered only once it verified, so that a forgery
    /// cannot make the genuine update look like a duplicate.
    fn apply(&mut self, now: u64, mut u: Update<Id>, via: Via, peers: &impl Peers<Id>, out: &mut Out<Id>) -> bool {
        self.stats.updates_in += 1;
        if !u.version.is_valid() || u.payload.as_str().len() > self.cfg.max_payload {
            self.stats.invalid += 1;
            return false;
        }
        if u.version.epoch > self.epoch_limit {
            self.stats.future_epoch += 1;
            return false;
        }
        if u.ttl > self.cfg.max_ttl {
            u.ttl = self.cfg.max_ttl;
            self.stats.ttl_clamped += 1;
        }
        if u.origin == self.id {
            self.on_self_claim(now, u, peers, out);
            return false;
        }
        let checks = self.cfg.auth != Policy::Off;
        // the seen cache is the course's rule for pushed messages; state
        // transfer is reconciled by version alone (see `SeenCache`)
        let pushed = via == Via::Push;
        // without checks the UUID is remembered at once, as it always was
        let first_sight = match (pushed, checks) {
            (false, _) => true,
            (true, true) => !self.seen.contains(&u.uuid),
            (true, false) => self.seen.insert(u.uuid, now),
        };
        let at = self.view.find(&u.origin);
        let previous = at.map(|f| f.version);
        if !first_sight || !super::supersedes(u.version, previous) {
            self.stats.duplicates += 1;
            return false;
        }
        if previous.is_none() && self.view.len() >= self.cfg.max_view {
            self.stats.view_full += 1;
            return false;
        }
        if checks {
            if let Err(r) = self.check_seal(&u) {
                self.count_refusal(r);
                return false;
            }
            if pushed {
                self.seen.insert(u.uuid, now);
            }
        }
        self.stats.fresh += 1;
        out.events.push(Event::Learned { origin: u.origin.clone(), previous, version: u.version, via });
        let (origin, ttl) = (u.origin.clone(), u.ttl);
        self.view.put(at, origin, Entry::new(u.into_record(), ttl, now));
        true
    }

    fn count_refusal(&mut self, r: Refusal) {
        match r {
            Refusal::Unsigned => self.stats.unsigned += 1,
            Refusal::BadSignature => self.stats.bad_signature += 1,
            Refusal::KeyMismatch => self.stats.key_mismatch += 1,
        }
    }

    /// Whether `u`'s seal satisfies the policy and the origin's bound key.
    fn check_seal(&mut self, u: &Update<Id>) -> Result<(), Refusal> {
        let bound = self.bound_key(&u.origin);
        match (&u.seal, self.cfg.auth) {
            (_, Policy::Off) => Ok(()),
            (None, Policy::Required) => Err(Refusal::Unsigned),
            // an origin once seen signed stays signed
            (None, Policy::AllowUnsigned) => bound.map_or(Ok(()), |_| Err(Refusal::Unsigned)),
            (Some(seal), _) => {
                if bound.is_some_and(|k| k != seal.key) {
                    return Err(Refusal::KeyMismatch);
                }
                let payload = u.payload.as_str();
                if !auth::verify(seal, u.uuid, &u.origin, u.version, payload, &mut self.sign_buf) {
                    return Err(Refusal::BadSignature);
                }
                Ok(())
            }
        }
    }

    /// An update claims to be from this node. Our own version, or an older
    /// one, is a duplicate. A newer version (we restarted and lost our
    /// counter, or a forgery), or our version under another UUID (an earlier
    /// incarnation that started in the same epoch), makes us announce our
    /// favorite again above it, so that ours wins everywhere. A claim whose
    /// seal does not verify, or that lacks one the policy requires, is not
    /// even a claim: it is dropped.
    fn on_self_claim(&mut self, now: u64, u: Update<Id>, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        if self.cfg.auth != Policy::Off {
            let refusal = match &u.seal {
                None if self.cfg.auth == Policy::Required => Some(Refusal::Unsigned),
                None => None,
                Some(seal) => {
                    let ok = auth::verify(seal, u.uuid, &u.origin, u.version, u.payload.as_str(), &mut self.sign_buf);
                    (!ok).then_some(Refusal::BadSignature)
                }
            };
            if let Some(r) = refusal {
                self.count_refusal(r);
                return;
            }
        }
        let conflicting = u.version == self.own && self.view.get(&self.id).is_some_and(|e| e.uuid != u.uuid);
        if u.version <= self.own && !conflicting {
            self.stats.duplicates += 1;
            return;
        }
        self.stats.self_claims += 1;
        // the version just below the one to announce: the claim itself,
        // or the next epoch's start when its counter is exhausted
        let below = if u.version.counter < super::MAX_COUNTER {
            u.version
        } else if u.version.epoch < self.epoch_limit {
            Version::new(u.version.epoch + 1, 0)
        } else {
            // nothing valid is above it; the epoch limit keeps such claims out of honest views
            return;
        };
        self.own = self.own.max(below);
        let payload = self.view.get(&self.id).map(|e| e.payload.clone()).unwrap_or_else(|| u.payload.clone());
        self.set_favorite(now, payload, peers, out);
    }
}

/// How far ahead of the item being handled a batch starts loading what it
/// will need: the cell and the entry at two steps of this many items, the
/// records (the entry's, and the item's own) at one. The second stage reads
/// what the first fetched, so that a batch overlaps its cache misses
/// instead of waiting for each in turn.
const STEP: usize = 4;

/// An update's own record, for [`warm_ahead`] and [`warm_next`].
fn own_record<Id>(u: &Update<Id>) -> Option<&Record> {
    Some(u.record())
}

/// Start loading what the first items of a batch need (where the target
/// has no prefetch hint: load what the whole batch needs, now; see
/// [`View::touch`]).
fn warm_ahead<Id: NodeId, T>(
    view: &View<Id>,
    items: &[T],
    origin: impl Fn(&T) -> &Id,
    own: impl Fn(&T) -> Option<&Record>,
) {
    if !crate::hint::ENABLED {
        view.touch(items, origin, own);
        return;
    }
    for t in items.iter().take(2 * STEP) {
        view.warm(origin(t));
    }
    for t in items.iter().take(STEP) {
        view.warm_record(origin(t));
        if let Some(r) = own(t) {
            prefetch(r);
        }
    }
}

/// With `rest` the items after the one about to be handled: start loading
/// what comes into reach at each stage.
#[inline]
fn warm_next<Id: NodeId, T>(
    view: &View<Id>,
    rest: &[T],
    origin: impl Fn(&T) -> &Id,
    own: impl Fn(&T) -> Option<&Record>,
) {
    if let Some(t) = rest.get(2 * STEP - 1) {
        view.warm(origin(t));
    }
    if let Some(t) = rest.get(STEP - 1) {
        view.warm_record(origin(t));
        if let Some(r) = own(t) {
            prefetch(r);
        }
    }
}

/// `origin`'s update as `e` holds it, to travel with `ttl`.
fn update_from<Id: Clone>(origin: &Id, e: &Entry, ttl: u32) -> Update<Id> {
    Update::of(origin.clone(), ttl, e.rec.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{StopKind, StopRule};
    use crate::core::message::Uuid;
    use crate::core::peers::{NoPeers, PeerList};
    use crate::core::MAX_COUNTER;

    fn cfg(protocol: Protocol) -> Config {
        Config {
            protocol,
            resample_ms: None,
            random_phase: false,
            eager_push: false,
            auth: Policy::Off,
            ..Config::default()
        }
    }

    fn versioned(mut u: Update<u32>, version: Version) -> Update<u32> {
        u.edit(|r| r.version = version);
        u
    }

    fn upd(origin: u32, counter: u64, uuid: Uuid) -> Update<u32> {
        Update::new(uuid, origin, Version::new(0, counter), 3, "Heat".into(), None)
    }

    /// `origin`'s update sealed by `signer`.
    fn sealed(
        signer: &Signer,
        origin: u32,
        epoch: u32,
        counter: u64,
        uuid: Uuid,
        payload: &'static str,
    ) -> Update<u32> {
        let version = Version::new(epoch, counter);
        let seal = Some(signer.seal(uuid, &origin, version, payload));
        Update::new(uuid, origin, version, 3, payload.into(), seal)
    }

    fn strict(id: u32, auth: Policy) -> Node<u32> {
        Node::new(id, Config { auth, ..cfg(Protocol::PushPull) }, 0, Rng::new(id as u64), 0)
    }

    fn push(n: &mut Node<u32>, now: u64, u: Update<u32>) {
        n.handle_message(now, 99, Message::Push(vec![u]), &NoPeers, &mut Out::default());
    }

    #[test]
    fn sealed_updates_apply_and_tampered_ones_are_dropped_without_blocking_the_genuine_one() {
        let alice = Signer::from_seed([1; 32]);
        let mut n = strict(0, Policy::Required);
        let mut forged = sealed(&alice, 5, 0, 1, 77, "Alien");
        forged.edit(|r| r.payload = "Forged".into());
        push(&mut n, 1, forged);
        assert_eq!(n.stats().bad_signature, 1);
        assert!(n.entry(&5).is_none());
        // the forgery's UUID was not remembered: the genuine update still gets in
        push(&mut n, 2, sealed(&alice, 5, 0, 1, 77, "Alien"));
        assert_eq!(n.entry(&5).unwrap().payload.as_str(), "Alien");
        assert!(n.entry(&5).unwrap().seal.is_some(), "the seal is kept, to be forwarded");
        // a duplicate is not checked again (nor counted as refused)
        push(&mut n, 3, sealed(&alice, 5, 0, 1, 77, "Alien"));
        assert_eq!((n.stats().duplicates, n.stats().refused()), (1, 1));
    }

    #[test]
    fn unsigned_updates_are_refused_unless_allowed_and_a_signed_origin_stays_signed() {
        let mut n = strict(0, Policy::Required);
        push(&mut n, 1, upd(5, 1, 10));
        assert_eq!((n.stats().unsigned, n.view_len()), (1, 0));

        let mut lax = strict(0, Policy::AllowUnsigned);
        push(&mut lax, 1, upd(5, 1, 10));
        assert_eq!(lax.entry(&5).unwrap().version.counter, 1, "course-style updates are accepted");
        let bob = Signer::from_seed([2; 32]);
        push(&mut lax, 2, sealed(&bob, 6, 0, 1, 11, "Up"));
        push(&mut lax, 3, upd(6, 2, 12));
        assert_eq!(lax.stats().unsigned, 1, "origin 6 signed once, so an unsigned claim about it is refused");
        assert_eq!(lax.entry(&6).unwrap().version.counter, 1);
    }

    #[test]
    fn an_origin_is_bound_to_its_first_key_until_the_driver_proves_another() {
        let (alice, mallory) = (Signer::from_seed([1; 32]), Signer::from_seed([3; 32]));
        let mut n = strict(0, Policy::Required);
        push(&mut n, 1, sealed(&alice, 5, 0, 1, 10, "Alien"));
        push(&mut n, 2, sealed(&mallory, 5, 9, 1, 11, "Forged"));
        assert_eq!(n.stats().key_mismatch, 1, "a higher epoch under another key is still refused");
        assert_eq!(n.entry(&5).unwrap().payload.as_str(), "Alien");
        // origin 5 restarted with a new key, and the driver reached it directly
        let alice2 = Signer::from_seed([4; 32]);
        assert!(n.bind_key(5, alice2.public()), "what was held under the old key is dropped");
        assert!(n.entry(&5).is_none());
        push(&mut n, 3, sealed(&alice, 5, 0, 2, 12, "Old key"));
        assert_eq!(n.stats().key_mismatch, 2);
        push(&mut n, 4, sealed(&alice2, 5, 1, 1, 13, "Heat"));
        assert_eq!(n.entry(&5).unwrap().payload.as_str(), "Heat");
        assert_eq!(n.bound_key(&5), Some(alice2.public()));
        assert!(!n.bind_key(5, alice2.public()), "binding the same key again changes nothing");
    }

    #[test]
    fn epochs_past_the_limit_are_refused() {
        let mut n = strict(0, Policy::Off);
        n.set_epoch_limit(1_000);
        push(&mut n, 1, versioned(upd(5, 1, 10), Version::new(1_001, 1)));
        assert_eq!((n.stats().future_epoch, n.view_len()), (1, 0));
        push(&mut n, 2, versioned(upd(5, 1, 11), Version::new(1_000, 1)));
        assert_eq!(n.view_len(), 1);
    }

    #[test]
    fn a_claim_at_the_last_counter_is_answered_in_the_next_epoch() {
        let me = Signer::from_seed([7; 32]);
        let mut n = strict(0, Policy::AllowUnsigned);
        n.set_signer(Arc::new(me));
        n.set_epoch_limit(50);
        n.set_favorite(0, "Alien".into(), &NoPeers, &mut Out::default());
        push(&mut n, 1, versioned(upd(0, 0, 10), Version::new(3, MAX_COUNTER)));
        assert_eq!(n.version(), Version::new(4, 1));
        assert!(n.entry(&0).unwrap().seal.is_some(), "own updates are sealed");
        // a claim at the limit itself cannot be topped: ignored, nothing invalid is made
        push(&mut n, 2, versioned(upd(0, 0, 11), Version::new(50, MAX_COUNTER)));
        assert_eq!(n.version(), Version::new(4, 1));
        // a forged, badly signed claim is not a claim at all
        let mut bad = sealed(&Signer::from_seed([8; 32]), 0, 9, 9, 12, "Forged");
        bad.edit(|r| r.payload = "Other".into());
        push(&mut n, 3, bad);
        assert_eq!((n.version(), n.stats().bad_signature), (Version::new(4, 1), 1));
    }

    fn node(id: u32, protocol: Protocol) -> Node<u32> {
        Node::new(id, cfg(protocol), 0, Rng::new(id as u64), 0)
    }

    #[test]
    fn only_newer_versions_replace_and_duplicates_are_counted() {
        let mut n = node(0, Protocol::PushPull);
        let mut out = Out::default();
        n.handle_message(1, 9, Message::Push(vec![upd(5, 2, 20)]), &NoPeers, &mut out);
        n.handle_message(2, 9, Message::Push(vec![upd(5, 1, 10)]), &NoPeers, &mut out);
        n.handle_message(3, 9, Message::Push(vec![upd(5, 2, 20)]), &NoPeers, &mut out);
        assert_eq!(n.known(&5), Some(Version::new(0, 2)));
        assert_eq!(n.stats().fresh, 1);
        assert_eq!(n.stats().duplicates, 2);
    }

    #[test]
    fn ttl_is_decremented_and_zero_is_never_forwarded() {
        let mut c = cfg(Protocol::Flood);
        c.ttl = 1;
        let peers = PeerList(vec![0, 1, 2, 3]);
        let mut n = Node::new(0u32, c, 0, Rng::new(1), 0);
        let mut out = Out::default();
        let mut u = upd(7, 1, 1);
        u.ttl = 1;
        n.handle_message(1, 1, Message::Push(vec![u]), &peers, &mut out);
        let fwd: Vec<_> = out.sends.iter().map(|t| t.to).collect();
        assert_eq!(fwd, vec![2, 3], "flood goes to all but self and sender");
        for t in &out.sends {
            let Message::Push(us) = &t.msg else { panic!("flood forwards pushes") };
            assert_eq!(us[0].ttl, 0);
        }
        out.clear();
        let mut u = upd(8, 1, 2);
        u.ttl = 0;
        n.handle_message(2, 1, Message::Push(vec![u]), &peers, &mut out);
        assert!(out.sends.is_empty(), "TTL 0 is applied but not forwarded");
        assert_eq!(n.known(&8), Some(Version::new(0, 1)));
    }

    #[test]
    fn digest_exchange_sends_only_what_the_other_side_lacks() {
        let mut a = node(0, Protocol::PushPull);
        let mut b = node(1, Protocol::PushPull);
        let mut out = Out::default();
        a.handle_message(
            1,
            9,
            Message::Delta { updates: vec![upd(5, 3, 1), upd(6, 1, 2)], request: Default::default() },
            &NoPeers,
            &mut out,
        );
        b.handle_message(
            1,
            9,
            Message::Delta { updates: vec![upd(5, 1, 3), upd(7, 4, 4)], request: Default::default() },
            &NoPeers,
            &mut out,
        );
        out.clear();
        // a -> b: digest
        b.handle_message(2, 0, Message::Digest { digest: a.digest(), push_pull: true }, &NoPeers, &mut out);
        let reply = out.sends.pop().expect("b answers");
        let Message::Delta { updates, request } = &reply.msg else { panic!() };
        assert_eq!(updates.iter().map(|u| u.origin).collect::<Vec<_>>(), vec![7]);
        let mut req: Vec<_> = request.iter().map(|r| r.0).collect();
        req.sort();
        assert_eq!(req, vec![5, 6]);
        a.handle_message(3, 1, reply.msg, &NoPeers, &mut out);
        let back = out.sends.pop().expect("a sends what b asked for");
        b.handle_message(4, 0, back.msg, &NoPeers, &mut out);
        for o in [5, 6, 7] {
            assert_eq!(a.known(&o), b.known(&o), "origin {o}");
        }
        assert_eq!(b.known(&5), Some(Version::new(0, 3)));
    }

    #[test]
    fn nodes_that_learned_a_version_share_one_record_and_an_edit_copies_it() {
        let mut a = node(0, Protocol::PushPull);
        let mut b = node(1, Protocol::PushPull);
        let mut out = Out::default();
        let u = upd(5, 1, 10);
        let delta = || Message::Delta { updates: vec![u.clone()], request: Default::default() };
        a.handle_message(1, 9, delta(), &NoPeers, &mut out);
        b.handle_message(1, 9, delta(), &NoPeers, &mut out);
        let (ra, rb) = (a.entry(&5).unwrap().record(), b.entry(&5).unwrap().record());
        assert!(Arc::ptr_eq(ra, rb) && Arc::ptr_eq(ra, u.record()), "one record, three holders");
        // forging a copy leaves the holders' record alone, and the copy's size follows its fields
        let mut forged = u.clone();
        forged.edit(|r| r.payload = "A much longer title than Heat".into());
        assert_eq!(a.entry(&5).unwrap().payload.as_str(), "Heat");
        assert_eq!(forged.wire_len(), u.wire_len() + "A much longer title than Heat".len() - "Heat".len());
    }

    #[test]
    fn pushed_uuids_are_remembered_and_deltas_are_reconciled_by_version_alone() {
        let mut n = node(0, Protocol::PushPull);
        let mut out = Out::default();
        let delta = Message::Delta { updates: vec![upd(5, 1, 10), upd(6, 1, 11)], request: Default::default() };
        n.handle_message(1, 9, delta, &NoPeers, &mut out);
        assert_eq!((n.view_len(), n.seen_len()), (2, 0), "state transfer fills the view, not the seen cache");
        n.handle_message(2, 9, Message::Push(vec![upd(7, 1, 12)]), &NoPeers, &mut out);
        assert_eq!((n.view_len(), n.seen_len()), (3, 1));
        // a pushed UUID seen before is a duplicate even at a newer version
        let before = n.stats().duplicates;
        n.handle_message(3, 9, Message::Push(vec![upd(7, 2, 12)]), &NoPeers, &mut out);
        assert_eq!((n.known(&7), n.stats().duplicates), (Some(Version::new(0, 1)), before + 1));
        // a delta's duplicate is known by its version
        n.handle_message(
            4,
            9,
            Message::Delta { updates: vec![upd(5, 1, 10)], request: Default::default() },
            &NoPeers,
            &mut out,
        );
        assert_eq!(n.stats().duplicates, before + 2);
    }

    /// A node that learned `origins` (origin o at version o % 5 + 1).
    fn knowing(id: u32, origins: impl Iterator<Item = u32>) -> Node<u32> {
        let mut n = node(id, Protocol::PushPull);
        let updates = origins.map(|o| upd(o, o as u64 % 5 + 1, 1000 + o as u128)).collect();
        n.handle_message(1, 99, Message::Delta { updates, request: Default::default() }, &NoPeers, &mut Out::default());
        n
    }

    #[test]
    fn a_digest_read_leaves_its_buffer_for_the_next_digest_made_through_the_same_out() {
        // b's view spans fewer origins than a's: a's buffer is large enough
        let mut a = knowing(0, 1..300);
        let mut b = knowing(1, 100..200);
        let mut out = Out::default();
        let digest = a.flushed_digest(&mut out);
        let (column, _) = digest.parts();
        assert!(!column.is_empty(), "a view of dense origins makes a column");
        let buffer = column.as_ptr();
        b.handle_message(2, 0, Message::Digest { digest, push_pull: true }, &NoPeers, &mut out);
        assert_eq!(out.spares.len(), 1, "b kept the column it read (its reply took no other spare)");
        let next = b.flushed_digest(&mut out);
        assert_eq!(next.parts().0.as_ptr(), buffer, "b's own digest reuses it");
        assert_eq!(next, b.digest(), "and lists b's versions, none of a's");
        // with no room for spares, a digest read is freed
        out.keep_spares(0);
        b.handle_message(3, 0, Message::Digest { digest: next, push_pull: true }, &NoPeers, &mut out);
        assert_eq!(out.spares.len(), 0);
    }

    /// The delta sent last, taken out of `out`.
    fn last_delta(out: &mut Out<u32>) -> (Vec<Update<u32>>, Digest<u32>) {
        match out.sends.pop().map(|t| t.msg) {
            Some(Message::Delta { updates, request }) => (updates, request),
            other => panic!("a delta, not {other:?}"),
        }
    }

    #[test]
    fn a_delta_read_leaves_its_lists_for_the_next_lists_made_through_the_same_out() {
        let mut a = knowing(0, 2..300);
        let mut b = knowing(1, 100..200);
        let mut out = Out::default();
        // b sends its digest; a answers with the 198 origins b lacks
        let digest = b.flushed_digest(&mut out);
        a.handle_message(2, 1, Message::Digest { digest, push_pull: true }, &NoPeers, &mut out);
        let (updates, request) = last_delta(&mut out);
        assert_eq!((updates.len(), request.len()), (198, 0));
        let list = updates.as_ptr();
        // b applies them, and keeps the list
        b.handle_message(3, 0, Message::Delta { updates, request }, &NoPeers, &mut out);
        assert_eq!(b.view_len(), 298);
        // b answers a request: its updates are listed in that same buffer,
        // and the request's own list is kept
        let request = Digest::new(vec![(150, Version::default()), (250, Version::default())]);
        let asked = request.parts().1.as_ptr();
        b.handle_message(4, 0, Message::Delta { updates: Vec::new(), request }, &NoPeers, &mut out);
        let (updates, _) = last_delta(&mut out);
        assert_eq!(updates.iter().map(|u| u.origin).collect::<Vec<_>>(), [150, 250]);
        assert_eq!(updates.as_ptr(), list, "the delta b read holds b's answer");
        // a's next request reuses the request b read: a lags on origin 150
        let newer = Message::Delta { updates: vec![upd(150, 9, 7)], request: Digest::default() };
        b.handle_message(5, 9, newer, &NoPeers, &mut out);
        let digest = b.flushed_digest(&mut out);
        a.handle_message(6, 1, Message::Digest { digest, push_pull: true }, &NoPeers, &mut out);
        let (_, request) = last_delta(&mut out);
        assert_eq!(request, vec![(150, Version::new(0, 1))]);
        assert_eq!(request.parts().1.as_ptr(), asked, "a's request is made in the list b read");
    }

    /// What `n` answers to `digest`: (origins it sends, the request).
    fn reply_to(n: &mut Node<u32>, digest: Digest<u32>) -> (Vec<u32>, Digest<u32>) {
        let mut out = Out::default();
        n.handle_message(2, 7, Message::Digest { digest, push_pull: true }, &NoPeers, &mut out);
        match out.sends.pop().map(|t| t.msg) {
            Some(Message::Delta { updates, request }) => (updates.iter().map(|u| u.origin).collect(), request),
            None => (vec![], Default::default()),
            Some(m) => panic!("a delta, not {m:?}"),
        }
    }

    #[test]
    fn a_shuffled_or_repeated_digest_gets_the_same_reply_as_the_sorted_one() {
        let mut n = knowing(0, (1..60).filter(|o| o % 3 != 0));
        let peer = knowing(1, (1..80).filter(|o| o % 4 != 0));
        let sorted = peer.digest();
        assert!(sorted.pairs().windows(2).all(|w| w[0].0 < w[1].0), "a node's digest is sorted by origin");
        let expected = reply_to(&mut n, sorted.clone());
        assert_eq!(reply_to(&mut n, sorted.clone().into_vec().into()), expected, "a column or a list: one reply");
        let sorted = sorted.into_vec();
        assert!(!expected.0.is_empty() && !expected.1.is_empty());
        let mut rng = Rng::new(5);
        for _ in 0..20 {
            let mut shuffled = sorted.clone();
            // repeats at older versions change nothing: the newest listed counts
            for k in 0..10 {
                let (o, v) = sorted[rng.below(sorted.len() as u64) as usize];
                shuffled.push((o, Version::new(v.epoch, v.counter.saturating_sub(k % 2))));
            }
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.below(i as u64 + 1) as usize);
            }
            assert_eq!(reply_to(&mut n, shuffled.into()), expected);
        }
    }

    #[test]
    fn the_digest_follows_the_view_through_learning_favorites_and_key_bindings() {
        let mut n = knowing(0, [9, 3, 7].into_iter());
        let sorted_view = |n: &Node<u32>| {
            let mut v: Vec<_> = n.view().map(|(o, e)| (*o, e.version)).collect();
            v.sort();
            v
        };
        assert_eq!(n.digest(), sorted_view(&n));
        n.set_favorite(3, "Up".into(), &NoPeers, &mut Out::default());
        push(&mut n, 4, upd(5, 2, 50));
        push(&mut n, 5, upd(7, 9, 51));
        assert_eq!(n.digest(), sorted_view(&n));
        // a reply flushes the vector; later changes still show
        reply_to(&mut n, Default::default());
        push(&mut n, 6, upd(3, 9, 52));
        push(&mut n, 7, upd(1, 1, 53));
        assert_eq!(n.digest(), sorted_view(&n));
        assert!(n.bind_key(7, Signer::from_seed([1; 32]).public()), "an unsigned entry is dropped");
        assert_eq!(n.digest(), sorted_view(&n));
        assert_eq!(reply_to(&mut n, Default::default()).0, vec![0, 1, 3, 5, 9], "everything held, in origin order");
    }

    #[test]
    fn rumor_feedback_cools_only_on_contacts_that_knew() {
        let mut c = cfg(Protocol::Rumor);
        c.stop = StopRule { feedback: true, kind: StopKind::Counter(2) };
        let peers = PeerList(vec![0, 1]);
        let mut a = Node::new(0u32, c.clone(), 0, Rng::new(1), 0);
        let mut b = Node::new(1u32, c, 0, Rng::new(2), 0);
        let mut out = Out::default();
        a.set_favorite(0, "Alien".into(), &peers, &mut out);
        out.clear();
        let mut round = |t: u64, a: &mut Node<u32>, b: &mut Node<u32>| {
            a.handle_timer(t, &peers, &mut out);
            let push = out.sends.drain(..).next();
            if let Some(p) = push {
                b.handle_message(t, 0, p.msg, &peers, &mut out);
                for f in out.sends.drain(..).collect::<Vec<_>>() {
                    a.handle_message(t, 1, f.msg, &peers, &mut out);
                }
            }
            out.clear();
        };
        round(1000, &mut a, &mut b); // b learns: not counted
        assert!(a.entry(&0).unwrap().rumor.hot);
        round(2000, &mut a, &mut b); // b knew: count 1
        assert!(a.entry(&0).unwrap().rumor.hot);
        round(3000, &mut a, &mut b); // count 2: cold
        assert!(!a.entry(&0).unwrap().rumor.hot);
        a.handle_timer(4000, &peers, &mut out);
        assert!(out.sends.is_empty(), "a cold rumor is not pushed");
    }

    #[test]
    fn a_newer_claim_about_itself_is_answered_with_a_higher_version() {
        let mut n = node(0, Protocol::PushPull);
        let mut out = Out::default();
        n.set_favorite(0, "Up".into(), &NoPeers, &mut out);
        n.handle_message(1, 9, Message::Push(vec![upd(0, 40, 99)]), &NoPeers, &mut out);
        assert_eq!(n.version(), Version::new(0, 41));
        assert_eq!(n.favorite(), Some("Up"));
        assert_eq!(n.stats().self_claims, 1);
    }

    #[test]
    fn an_earlier_incarnation_at_the_same_version_is_answered_with_a_higher_version() {
        let mut n = node(0, Protocol::PushPull);
        let mut out = Out::default();
        n.set_favorite(0, "Up".into(), &NoPeers, &mut out);
        let mine = n.entry(&0).unwrap().uuid;
        let mut echo = upd(0, 1, mine);
        n.handle_message(1, 9, Message::Push(vec![echo.clone()]), &NoPeers, &mut out);
        assert_eq!(n.version(), Version::new(0, 1), "our own update coming back is a duplicate");
        echo.edit(|r| r.uuid = mine ^ 1);
        n.handle_message(2, 9, Message::Push(vec![echo]), &NoPeers, &mut out);
        assert_eq!(n.version(), Version::new(0, 2));
        assert_eq!(n.favorite(), Some("Up"));
    }

    #[test]
    fn invalid_updates_are_dropped_and_counted() {
        let mut n = node(0, Protocol::PushPull);
        let mut out = Out::default();
        let mut big = upd(5, 1, 1);
        big.edit(|r| r.payload = "x".repeat(10_000).into());
        let mut far = upd(6, crate::core::MAX_COUNTER + 1, 2);
        far.edit(|r| r.version.counter = u64::MAX);
        let mut ttl = upd(7, 1, 3);
        ttl.ttl = u32::MAX;
        n.handle_message(1, 9, Message::Push(vec![big, far, ttl]), &NoPeers, &mut out);
        assert_eq!(n.stats().invalid, 2);
        assert_eq!(n.stats().ttl_clamped, 1);
        assert_eq!(n.view_len(), 1);
        assert_eq!(n.entry(&7).unwrap().ttl, n.config().max_ttl);
    }

    #[test]
    fn view_is_capped() {
        let mut c = cfg(Protocol::PushPull);
        c.max_view = 10;
        let mut n = Node::new(0u32, c, 0, Rng::new(1), 0);
        let mut out = Out::default();
        let flood: Vec<_> = (1..100).map(|o| upd(o, 1, o as u128)).collect();
        n.handle_message(1, 9, Message::Delta { updates: flood, request: Default::default() }, &NoPeers, &mut out);
        assert_eq!(n.view_len(), 10);
        assert_eq!(n.stats().view_full, 89);
    }

    /// A node that re-samples every 10 s exactly.
    fn resampling_node() -> Node<u32> {
        let mut c = cfg(Protocol::PushPull);
        c.resample_ms = Some(10_000);
        c.resample_jitter_ms = 0;
        Node::new(0u32, c, 0, Rng::new(1), 0)
    }

    #[test]
    fn resampling_bumps_the_version_on_schedule() {
        let mut n = resampling_node();
        let mut out = Out::default();
        assert_eq!(n.poll_timeout(), 0);
        n.handle_timer(0, &NoPeers, &mut out);
        assert_eq!(n.version(), Version::new(0, 1));
        assert!(n.favorite().is_some());
        let mut t = 0;
        while n.version().counter < 4 {
            t = n.poll_timeout();
            n.handle_timer(t, &NoPeers, &mut out);
        }
        assert_eq!(t, 30_000);
    }

    #[test]
    fn exchange_returns_replies_and_keeps_forwards() {
        let mut c = cfg(Protocol::PushPull);
        c.eager_push = true;
        let peers = PeerList((0..6).collect());
        let mut n = Node::new(0u32, c, 0, Rng::new(1), 0);
        let mut out = Out::default();
        n.handle_message(1, 9, Message::Push(vec![upd(7, 2, 70)]), &NoPeers, &mut out);
        out.clear();
        // 5 pushes a fresh update of its own and asks for what it lacks
        let msgs = vec![
            Message::Push(vec![upd(5, 1, 50)]),
            Message::Digest { digest: vec![(5, Version::new(0, 1)), (8, Version::new(0, 3))].into(), push_pull: true },
        ];
        let replies = n.handle_exchange(2, 5, msgs, &peers, &mut out);
        assert_eq!(n.known(&5), Some(Version::new(0, 1)), "the sender's own update is learned");
        let [Message::Delta { updates, request }] = &replies[..] else { panic!("one delta back: {replies:?}") };
        assert_eq!(updates.iter().map(|u| u.origin).collect::<Vec<_>>(), vec![7], "what the sender lacks");
        assert_eq!(request, &vec![(8, Version::default())], "what the receiver lacks");
        assert!(!out.sends.is_empty(), "the eager forward of the fresh update stays to be sent");
        assert!(out.sends.iter().all(|t| t.to != 5 && matches!(t.msg, Message::Push(_))));
    }

    #[test]
    fn a_new_epoch_wins_although_its_counter_starts_again() {
        let mut n = node(0, Protocol::PushPull);
        let mut out = Out::default();
        let mut old = upd(5, 9, 1);
        old.edit(|r| r.version = Version::new(100, 9));
        let mut new = upd(5, 1, 2);
        new.edit(|r| r.version = Version::new(101, 1));
        new.edit(|r| r.payload = "Ran".into());
        n.handle_message(1, 9, Message::Push(vec![old]), &NoPeers, &mut out);
        n.handle_message(2, 9, Message::Push(vec![new]), &NoPeers, &mut out);
        assert_eq!(n.known(&5), Some(Version::new(101, 1)));
        assert_eq!(n.entry(&5).unwrap().payload.as_str(), "Ran");
    }

    #[test]
    fn a_chosen_favorite_postpones_the_next_resample() {
        let mut n = resampling_node();
        let mut out = Out::default();
        n.choose_favorite(0, "Alien".into(), &NoPeers, &mut out);
        assert_eq!(n.poll_timeout(), 1000, "only the gossip round is due soon");
        n.handle_timer(1000, &NoPeers, &mut out);
        assert_eq!(n.favorite(), Some("Alien"), "not re-sampled at once");
        while n.version().counter < 2 {
            let t = n.poll_timeout();
            n.handle_timer(t, &NoPeers, &mut out);
        }
        assert_ne!(n.favorite(), Some("Alien"));
    }

    #[test]
    fn eager_push_sends_fresh_updates_at_once() {
        let mut c = cfg(Protocol::PushPull);
        c.eager_push = true;
        c.fanout = 2;
        let peers = PeerList((0..10).collect());
        let mut n = Node::new(0u32, c, 0, Rng::new(1), 0);
        let mut out = Out::default();
        n.set_favorite(5, "Up".into(), &peers, &mut out);
        assert_eq!(out.sends.len(), 2);
        assert!(out.sends.iter().all(|t| t.to != 0 && matches!(t.msg, Message::Push(_))));
    }

    #[test]
    fn round_robin_contacts_every_peer_once_per_pass() {
        let mut c = cfg(Protocol::Push);
        c.round_robin = true;
        c.fanout = 3;
        let peers = PeerList((0..13).collect());
        let mut n = Node::new(0u32, c, 0, Rng::new(4), 0);
        let mut out = Out::default();
        n.set_favorite(0, "Up".into(), &peers, &mut out);
        out.clear();
        let mut passes = Vec::new();
        for round in 1..=8 {
            n.handle_timer(round * 1000, &peers, &mut out);
            passes.extend(out.sends.drain(..).map(|t| t.to));
        }
        // 24 contacts: two whole passes over the 12 other peers
        assert_eq!(passes.len(), 24);
        for pass in passes.chunks(12) {
            let mut p = pass.to_vec();
            p.sort_unstable();
            assert_eq!(p, (1..13).collect::<Vec<u32>>(), "each peer once per pass");
        }
        assert_ne!(passes[..12], passes[12..], "each pass is shuffled anew");
    }

    #[test]
    fn backup_anti_entropy_sends_a_push_pull_digest_on_its_own_period() {
        let mut c = cfg(Protocol::Rumor);
        c.anti_entropy_ms = Some(700);
        let peers = PeerList((0..5).collect());
        let mut n = Node::new(0u32, c, 0, Rng::new(2), 0);
        let mut out = Out::default();
        let mut digests = Vec::new();
        for _ in 0..40 {
            let t = n.poll_timeout();
            if t > 7_000 {
                break;
            }
            n.handle_timer(t, &peers, &mut out);
            for s in out.sends.drain(..) {
                assert!(matches!(s.msg, Message::Digest { push_pull: true, .. }), "rumors are cold: only digests");
                digests.push(t);
            }
        }
        assert_eq!(digests.len(), 10, "one a period: {digests:?}");
        assert!(digests.windows(2).all(|w| w[1] - w[0] == 700));
    }

    #[test]
    fn a_broadcast_value_is_kept_and_spread_like_a_fresh_update() {
        let peers = PeerList((0..10).collect());
        let mut c = cfg(Protocol::Rumor);
        c.fanout = 2;
        let mut n = Node::new(0u32, c, 0, Rng::new(3), 0);
        let mut out = Out::default();
        let value = upd(100, 1, 77);
        assert!(n.handle_broadcast(5, value.clone(), &peers, &mut out));
        assert!(out.sends.is_empty(), "rumor mongering pushes at its next round");
        assert!(!n.handle_broadcast(6, value, &peers, &mut out), "the same value twice is a duplicate");
        n.handle_timer(n.poll_timeout(), &peers, &mut out);
        assert_eq!(out.sends.len(), 2);
        assert!(out.sends.iter().all(|t| matches!(&t.msg, Message::Push(u) if u[0].origin == 100)));
        // with eager push it goes out at once
        let mut c = cfg(Protocol::PushPull);
        c.eager_push = true;
        c.fanout = 2;
        let mut m = Node::new(0u32, c, 0, Rng::new(3), 0);
        out.clear();
        assert!(m.handle_broadcast(5, upd(101, 1, 78), &peers, &mut out));
        assert_eq!(out.sends.len(), 2);
    }
}
