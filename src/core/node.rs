//! The gossip node: one sans-IO state machine that hosts a protocol.
//!
//! A [`Node`] is a [`Store`] (what it knows, and the shared rules that
//! change it), the [`Rules`] of its dissemination protocol (one file each
//! under `super::protocols`), its named [`Timers`], its RNG and its choice
//! of partners. A message is handed to the protocol's handler for its kind
//! (`Push`, `Digest`, `Delta`, `Feedback`) if the protocol accepts that
//! kind, and refused (counted in [`NodeStats::unspoken`]) otherwise; the
//! handlers apply the store's shared rules through the [`Cx`] they are
//! given (see the message contract in `super::protocols`).
//!
//! # Calling contract
//!
//! A [`Node`] is driven by exactly three inputs, each given the current time
//! in milliseconds (`now` must never go backwards between calls):
//!
//! * [`Node::handle_timer`] when `now >= node.poll_timeout()`;
//! * [`Node::handle_message`] when a message from a peer arrives (a kind
//!   the node does not speak, [`Node::speaks`], is refused and counted);
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

use super::auth::{PublicKey, Signer};
use super::config::Config;
use super::message::{Digest, Message, NodeId, Payload, Update};
use super::message::{Kinds, MessageKind};
use super::peers::Peers;
use super::protocols::{hop, Dissemination, Fresh, Rules, Speaks};
use super::spares::Spares;
use super::store::{own_record, Applied, Store};
use super::timer::{next_after, Timer, Timers};
use super::version::Version;
use crate::rng::Rng;

pub use super::store::{Entry, NodeStats, Via};

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

/// What a node draws from its RNG when it is created, in the one fixed
/// order every population follows: the hash seeds of its seen cache and its
/// view, then the gossip timer's phase, then, only if the backup
/// anti-entropy is on, its phase. The simulator's compact population makes
/// its nodes through this function too (and keeps only the timers), so that
/// their random streams stay those of full nodes.
#[derive(Clone, Copy, Debug)]
pub struct FirstDraws {
    /// The seen cache's hash seed.
    pub seen_seed: u64,
    /// The view's hash seed.
    pub view_seed: u64,
    /// The timers, armed.
    pub timers: Timers,
}

impl FirstDraws {
    /// The draws of a node with configuration `cfg` created at `now`.
    pub fn new(cfg: &Config, rng: &mut Rng, now: u64) -> Self {
        let (seen_seed, view_seed, gossip, anti_entropy) = Self::draw(cfg, rng, now);
        let mut timers = Timers::default();
        timers.set(Timer::Gossip, Some(gossip));
        timers.set(Timer::Resample, cfg.resample_ms.map(|_| now));
        timers.set(Timer::AntiEntropy, anti_entropy);
        FirstDraws { seen_seed, view_seed, timers }
    }

    /// The first gossip deadline of [`FirstDraws::new`], with the same
    /// draws (so `rng` ends where it would), without the rest: for
    /// populations that keep only that timer (the compact one creates a
    /// million nodes this way, where the timer table was a tenth of the
    /// page's build).
    #[inline(always)]
    pub fn gossip(cfg: &Config, rng: &mut Rng, now: u64) -> u64 {
        Self::draw(cfg, rng, now).2
    }

    /// The draws in their order: the seen cache's and the view's seeds,
    /// the gossip deadline, the anti-entropy deadline.
    #[inline(always)]
    fn draw(cfg: &Config, rng: &mut Rng, now: u64) -> (u64, u64, u64, Option<u64>) {
        let seen_seed = rng.next_u64();
        let view_seed = rng.next_u64();
        let interval = cfg.interval_ms.max(1);
        let gossip = if cfg.random_phase { now + 1 + rng.below(interval) } else { now + interval };
        // drawn only when enabled, so that other configurations keep their random streams
        let anti_entropy = cfg.anti_entropy_ms.map(|every| now + 1 + rng.below(every.max(1)));
        (seen_seed, view_seed, gossip, anti_entropy)
    }
}

/// The node's side of a protocol: everything but the store.
#[derive(Clone, Debug)]
pub(crate) struct Host<Id> {
    cfg: Config,
    /// Where fresh updates go at once (the protocol's [`Dissemination::fresh`]).
    fresh: Fresh,
    /// What the node sends and accepts: its protocol's, and its backup
    /// anti-entropy's (see [`Node::speaks`]).
    speaks: Speaks,
    rng: Rng,
    timers: Timers,
    scratch: Vec<Id>,
    /// `round_robin`: this pass's shuffled peers, and how many were used.
    pass: Vec<Id>,
    pass_pos: usize,
}

/// A node as its protocol sees it: the store, the configuration, the RNG
/// and the choice of partners. Made for each call into a protocol.
pub struct Cx<'a, Id: NodeId> {
    pub(crate) store: &'a mut Store<Id>,
    pub(crate) host: &'a mut Host<Id>,
}

impl<Id: NodeId> Cx<'_, Id> {
    /// What the node knows.
    pub fn store(&self) -> &Store<Id> {
        self.store
    }

    /// The node's configuration.
    pub fn config(&self) -> &Config {
        &self.host.cfg
    }

    /// Peers per round and per eager push.
    pub fn fanout(&self) -> usize {
        self.host.cfg.fanout as usize
    }

    /// The node's RNG.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.host.rng
    }

    /// Up to `k` distinct partners other than the node: drawn uniformly at
    /// random, or the next ones of a shuffled pass over every peer
    /// (`Config::round_robin`). Give the list back with [`Cx::done`].
    pub fn sample(&mut self, peers: &impl Peers<Id>, k: usize) -> Vec<Id> {
        let h = &mut *self.host;
        let mut v = std::mem::take(&mut h.scratch);
        v.clear();
        if h.cfg.round_robin {
            h.next_in_pass(self.store.id(), peers, k, &mut v);
        } else {
            peers.sample(&mut h.rng, self.store.id(), k, &mut v);
        }
        v
    }

    /// Every peer other than the node (flooding). Give the list back with [`Cx::done`].
    pub fn everyone(&mut self, peers: &impl Peers<Id>) -> Vec<Id> {
        let mut v = std::mem::take(&mut self.host.scratch);
        v.clear();
        peers.all(self.store.id(), &mut v);
        v
    }

    /// A list of partners from [`Cx::sample`] or [`Cx::everyone`], done with
    /// (its memory is kept for the next one).
    pub fn done(&mut self, targets: Vec<Id>) {
        self.host.scratch = targets;
    }

    /// The node's digest, to send.
    pub fn digest(&mut self, out: &mut Out<Id>) -> Digest<Id> {
        self.store.flushed_digest(out)
    }

    /// Run `f` on the entry for `origin` if the node holds exactly
    /// `version`, with the node's RNG (a protocol's bookkeeping about an
    /// update, such as a rumor's state).
    pub fn with_entry(&mut self, origin: &Id, version: Version, f: impl FnOnce(&mut super::Entry, &mut Rng)) {
        if let Some(e) = self.store.entry_at_mut(origin, version) {
            f(e, &mut self.host.rng);
        }
    }

    /// Push `updates` (TTL already set for the hop) at once, as the
    /// protocol's [`Fresh`] says, never back to `from` nor to an update's
    /// origin.
    fn forward(&mut self, updates: Vec<Update<Id>>, from: Option<&Id>, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let targets =
            if self.host.fresh == Fresh::All { self.everyone(peers) } else { self.sample(peers, self.fanout()) };
        for t in &targets {
            if Some(t) != from && updates.iter().all(|u| &u.origin != t) {
                let mut copy = out.spares.updates();
                copy.extend_from_slice(&updates);
                out.sends.push(Transmit { to: t.clone(), msg: Message::Push(copy) });
            }
        }
        out.spares.give_updates(updates);
        self.done(targets);
    }

    /// Whether fresh updates are pushed on at once.
    fn forwards_fresh(&self) -> bool {
        self.host.fresh != Fresh::Hold
    }

    /// A new version of the node's own favorite, pushed at once where the
    /// protocol says so.
    fn originate(&mut self, now: u64, payload: Payload, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let uuid = self.host.rng.uuid();
        let ttl = self.host.cfg.ttl;
        self.store.originate(now, uuid, payload, ttl, out);
        if self.forwards_fresh() {
            let id = self.store.id().clone();
            if let Some(u) = self.store.update_of(&id, ttl) {
                self.forward(vec![u], None, peers, out);
            }
        }
    }

    /// Apply one update with the store's rules; a claim to be this node's
    /// own may make it announce a new version. Returns whether the view changed.
    fn apply(&mut self, now: u64, u: Update<Id>, via: Via, peers: &impl Peers<Id>, out: &mut Out<Id>) -> bool {
        match self.store.apply(now, u, via, out) {
            Applied::Fresh => true,
            Applied::Unchanged => false,
            Applied::SelfClaim(u) => {
                if let Some(payload) = self.store.self_claim(u) {
                    self.originate(now, payload, peers, out);
                }
                false
            }
        }
    }

    /// The store's rule for pushed `updates` from `from`: merge each by
    /// version; push what is fresh on at once as the protocol's
    /// [`Dissemination::fresh`] says (with the TTL one lower, while it
    /// lasts); `feedback`: answer `from` with a `Feedback` listing what the
    /// node knew before this instant (rumor mongering's feedback rule).
    pub fn merge_push(
        &mut self,
        now: u64,
        from: Id,
        mut updates: Vec<Update<Id>>,
        feedback: bool,
        peers: &impl Peers<Id>,
        out: &mut Out<Id>,
    ) {
        let mut known = Vec::new();
        let mut fresh = out.spares.updates();
        let forwards = self.forwards_fresh();
        for u in updates.drain(..) {
            // "already knew" means knew before this instant: in the rounds
            // model, before the round started.
            let knew_before =
                feedback && self.store.get(&u.origin).is_some_and(|e| e.version >= u.version && e.learned_at < now);
            let (origin, version, ttl) = (u.origin.clone(), u.version, u.ttl);
            if self.apply(now, u, Via::Push, peers, out) {
                if let Some(next) = hop(ttl).filter(|_| forwards) {
                    if let Some(f) = self.store.update_of(&origin, next) {
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

    /// The store's rule for a delta from `from`: merge its `updates` by
    /// version (never forwarded: state transfer), then answer its
    /// `request` with a `Delta` of what it asks for that the node holds.
    pub fn merge_delta(
        &mut self,
        now: u64,
        from: Id,
        mut updates: Vec<Update<Id>>,
        request: Digest<Id>,
        peers: &impl Peers<Id>,
        out: &mut Out<Id>,
    ) {
        // start loading the cells and entries of the updates a few places
        // ahead of the one applied, so that their cache misses overlap
        // instead of following one another
        let mut rest = updates.drain(..);
        self.store.warm_ahead(rest.as_slice(), |u| &u.origin, own_record);
        while let Some(u) = rest.next() {
            self.store.warm_next(rest.as_slice(), |u| &u.origin, own_record);
            self.apply(now, u, Via::AntiEntropy, peers, out);
        }
        drop(rest);
        out.spares.give_updates(updates);
        if !request.is_empty() {
            let updates = self.store.answer_request(request, out);
            if updates.is_empty() {
                out.spares.give_updates(updates);
            } else {
                out.sends.push(Transmit { to: from, msg: Message::Delta { updates, request: Digest::default() } });
            }
        }
    }

    /// The store's digest reply rule ([`super::protocols::anti_entropy::answer`]):
    /// answer `from`'s `digest` with a `Delta` of what it lacks and, when
    /// `push_pull`, a request for what it has that the node lacks.
    pub fn answer_digest(&mut self, from: Id, digest: Digest<Id>, push_pull: bool, out: &mut Out<Id>) {
        self.store.answer_digest(from, digest, push_pull, out)
    }
}

impl<Id: NodeId> Host<Id> {
    /// `round_robin`: the next `k` distinct peers of the current pass over a
    /// shuffled list of all peers, starting a new pass when it runs out (at
    /// most one new pass per call, so the loop is bounded).
    fn next_in_pass(&mut self, me: &Id, peers: &impl Peers<Id>, k: usize, out: &mut Vec<Id>) {
        let mut refilled = false;
        while out.len() < k {
            if self.pass_pos >= self.pass.len() {
                if refilled {
                    return;
                }
                refilled = true;
                self.pass.clear();
                peers.all(me, &mut self.pass);
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
}

/// What a node speaks: its protocol's `speaks`, and digests and deltas
/// both ways when the backup anti-entropy (`cfg.anti_entropy_ms`) runs.
fn node_speaks(protocol: Speaks, cfg: &Config) -> Speaks {
    let backup = Kinds::NONE.with(MessageKind::Digest).with(MessageKind::Delta);
    match cfg.anti_entropy_ms {
        Some(_) => protocol.union(Speaks { sends: backup, accepts: backup }),
        None => protocol,
    }
}

/// A gossip node running the protocol `R` (by default [`Rules`]: the
/// registry's protocol its [`Config`] names). See the module documentation
/// for the calling contract.
#[derive(Clone, Debug)]
pub struct Node<Id: NodeId, R: Dissemination = Rules> {
    store: Store<Id>,
    rules: R,
    host: Host<Id>,
}

impl<Id: NodeId> Node<Id> {
    /// A node named `id` in incarnation `epoch`, created at `now`, running
    /// the registry's protocol `cfg` names (see [`Config::check`] for the
    /// options it refuses). With `cfg.resample_ms` set it picks its first
    /// favorite at its first timer, which is due at once.
    pub fn new(id: Id, cfg: Config, epoch: u32, rng: Rng, now: u64) -> Self {
        Self::running(id, cfg, epoch, rng, now)
    }
}

impl<Id: NodeId, R: Dissemination> Node<Id, R> {
    /// [`Node::new`] for a node running the protocol `R`: any
    /// [`Dissemination`], one defined outside the registry too (see
    /// `examples/custom_protocol.rs`).
    pub fn running(id: Id, cfg: Config, epoch: u32, mut rng: Rng, now: u64) -> Self {
        let FirstDraws { seen_seed, view_seed, timers } = FirstDraws::new(&cfg, &mut rng, now);
        let store = Store::new(id, &cfg, epoch, seen_seed, view_seed);
        let rules = R::from_config(&cfg);
        let fresh = rules.fresh();
        let speaks = node_speaks(rules.speaks(), &cfg);
        Node {
            store,
            rules,
            host: Host { cfg, fresh, speaks, rng, timers, scratch: Vec::new(), pass: Vec::new(), pass_pos: 0 },
        }
    }

    /// The message kinds this node sends and accepts: its protocol's
    /// ([`Dissemination::speaks`]) and, with the backup anti-entropy on
    /// (`Config::anti_entropy_ms`), digests and deltas both ways.
    pub fn speaks(&self) -> Speaks {
        self.host.speaks
    }

    fn cx(&mut self) -> Cx<'_, Id> {
        Cx { store: &mut self.store, host: &mut self.host }
    }

    /// Give the node its key pair: from now on it seals every version of its
    /// own favorite. Call before the first favorite (a favorite set earlier
    /// stays unsealed until the next one).
    pub fn set_signer(&mut self, signer: Arc<Signer>) {
        self.store.set_signer(signer);
    }

    /// Its public key, if it signs.
    pub fn public_key(&self) -> Option<PublicKey> {
        self.store.public_key()
    }

    /// Refuse updates whose epoch is above `limit` (the driver's sanity
    /// bound, e.g. wall-clock seconds plus a day for clock-based epochs), so
    /// that one forged message cannot freeze an origin's entry for ever.
    pub fn set_epoch_limit(&mut self, limit: u32) {
        self.store.set_epoch_limit(limit);
    }

    /// The driver has direct proof that `origin` holds `key` (it dialed the
    /// origin's own URL and that is the key it answered with): bind `origin`
    /// to `key`. An entry for `origin` sealed by another key (or not sealed)
    /// is dropped, so the origin's own next update is taken; updates sealed
    /// by the old key are refused from now on. Returns whether an entry was
    /// dropped. Bindings are bounded like the view (oldest forgotten first).
    pub fn bind_key(&mut self, origin: Id, key: PublicKey) -> bool {
        self.store.bind_key(origin, key)
    }

    /// The key `origin` is bound to: pinned by [`Node::bind_key`], else the
    /// key that sealed its entry (trust on first use).
    pub fn bound_key(&self, origin: &Id) -> Option<PublicKey> {
        self.store.bound_key(origin)
    }

    /// Forget `origin` (the driver's decision: it has been silent for too
    /// long): its entry leaves the view, and a tombstone keeps its version
    /// and key binding, so that the version forgotten, or an older one,
    /// never comes back (it is taken for a duplicate, and not asked for in
    /// digests), while a newer one is taken as usual and lifts the
    /// tombstone. Tombstones are bounded like the view (oldest dropped
    /// first). The node's own entry is never forgotten. Returns whether
    /// `origin` was in the view.
    pub fn forget(&mut self, origin: &Id) -> bool {
        self.store.forget(origin)
    }

    /// The tombstone of `origin` (see [`Node::forget`]).
    pub fn tomb(&self, origin: &Id) -> Option<super::Tomb> {
        self.store.tomb(origin)
    }

    /// How many tombstones it keeps (see [`Node::forget`]).
    pub fn tombs_len(&self) -> usize {
        self.store.tombs_len()
    }

    /// This node's identity.
    pub fn id(&self) -> &Id {
        self.store.id()
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.host.cfg
    }

    /// Its protocol, as configured.
    pub fn rules(&self) -> R {
        self.rules
    }

    /// What it knows.
    pub fn store(&self) -> &Store<Id> {
        &self.store
    }

    /// The version of its own current favorite (counter 0: none yet).
    pub fn version(&self) -> Version {
        self.store.own()
    }

    /// Its own current favorite, if it has one.
    pub fn favorite(&self) -> Option<&str> {
        self.store.get(self.store.id()).map(|e| e.payload.as_str())
    }

    /// Everything it knows, in the order it learned of each origin (itself included).
    pub fn view(&self) -> impl Iterator<Item = (&Id, &Entry)> {
        self.store.view().iter()
    }

    /// Its entry for `origin`.
    pub fn entry(&self, origin: &Id) -> Option<&Entry> {
        self.store.get(origin)
    }

    /// The version it knows for `origin`.
    pub fn known(&self, origin: &Id) -> Option<Version> {
        self.store.view().find(origin).map(|f| f.version)
    }

    /// Number of origins in its view.
    pub fn view_len(&self) -> usize {
        self.store.view().len()
    }

    /// Its input counters.
    pub fn stats(&self) -> &NodeStats {
        self.store.stats()
    }

    /// UUIDs currently remembered for dedup.
    pub fn seen_len(&self) -> usize {
        self.store.seen_len()
    }

    /// When `handle_timer` must next be called.
    pub fn poll_timeout(&self) -> u64 {
        self.host.timers.next()
    }

    /// Whether it still has something to spread on its own (its protocol's
    /// [`Dissemination::busy`]): a simulated run in which no node is busy and
    /// no message is in flight is quiet.
    pub fn busy(&self) -> bool {
        self.rules.busy(self.store.view())
    }

    /// Stop re-sampling the favorite (the driver's experiment is winding down).
    pub fn stop_resampling(&mut self) {
        self.host.cfg.resample_ms = None;
        self.host.timers.set(Timer::Resample, None);
    }

    /// Expect to learn the origins with dense indices below `origins` (the
    /// simulator's nodes `0..origins`): the view makes room for them now
    /// instead of growing as it learns them. A hint; it changes no behaviour.
    pub fn reserve_view(&mut self, origins: usize) {
        self.store.reserve_view(origins);
    }

    /// Its digest: `origin -> version` for every entry, sorted by origin
    /// (read off the view, which keeps its versions in origin order).
    pub fn digest(&self) -> Digest<Id> {
        self.store.view().digest()
    }

    /// [`Node::digest`], after merging origins that wait in the view's
    /// version vector for good (a plain copy from then on, instead of a
    /// merge per call).
    #[cfg(test)]
    fn flushed_digest(&mut self, out: &mut Out<Id>) -> Digest<Id> {
        self.store.flushed_digest(out)
    }

    /// Adopt `payload` as the new favorite: bump the version, record it, and
    /// push it at once where the protocol says so.
    pub fn set_favorite(&mut self, now: u64, payload: Payload, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        self.cx().originate(now, payload, peers, out);
    }

    /// The application picks `payload` as its favorite (a user's choice, not
    /// a re-sample): like [`Node::set_favorite`], and the next re-sample, if
    /// the node re-samples, is a whole period (plus jitter) away.
    pub fn choose_favorite(&mut self, now: u64, payload: Payload, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        if self.host.timers.get(Timer::Resample).is_some() {
            self.schedule_resample(now);
        }
        self.set_favorite(now, payload, peers, out);
    }

    fn schedule_resample(&mut self, now: u64) {
        if let Some(every) = self.host.cfg.resample_ms {
            let jitter = self.host.rng.below(self.host.cfg.resample_jitter_ms.saturating_add(1));
            // saturating: a `Config` made by hand may hold any interval
            self.host.timers.set(Timer::Resample, Some(now.saturating_add(every.max(1)).saturating_add(jitter)));
        }
    }

    /// The timer input: handle every timer due at `now`, in [`Timer::ALL`]'s
    /// order (re-sample the favorite, run a gossip round, run the backup
    /// anti-entropy exchange).
    pub fn handle_timer(&mut self, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        for timer in Timer::ALL {
            if self.host.timers.expired(timer, now) {
                self.on_timer(timer, now, peers, out);
            }
        }
        self.store.expire_seen(now);
    }

    fn on_timer(&mut self, timer: Timer, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let due = self.host.timers.get(timer).unwrap_or(now);
        match timer {
            Timer::Resample => {
                self.schedule_resample(now);
                let current = self.store.get(self.store.id()).map(|e| e.payload.as_str());
                let movie = crate::movies::pick(&mut self.host.rng, current);
                self.set_favorite(now, Payload::Static(movie), peers, out);
            }
            Timer::Gossip => {
                let interval = self.host.cfg.interval_ms.max(1);
                self.host.timers.set(Timer::Gossip, Some(next_after(due, now, interval)));
                let rules = self.rules;
                rules.on_round(&mut self.cx(), now, peers, out);
            }
            Timer::AntiEntropy => {
                let every = self.host.cfg.anti_entropy_ms.unwrap_or(1).max(1);
                self.host.timers.set(Timer::AntiEntropy, Some(next_after(due, now, every)));
                let mut cx = self.cx();
                let targets = cx.sample(peers, 1);
                if let Some(t) = targets.first() {
                    let msg = Message::Digest { digest: cx.digest(out), push_pull: true };
                    out.sends.push(Transmit { to: t.clone(), msg });
                }
                cx.done(targets);
            }
        }
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
        let max_ttl = self.host.cfg.max_ttl;
        let mut cx = self.cx();
        let (origin, ttl) = (update.origin.clone(), update.ttl.min(max_ttl));
        let fresh = cx.apply(now, update, Via::Push, peers, out);
        if let Some(next) = hop(ttl).filter(|_| fresh && cx.forwards_fresh()) {
            if let Some(u) = cx.store.update_of(&origin, next) {
                cx.forward(vec![u], None, peers, out);
            }
        }
        fresh
    }

    /// The message input: `msg` arrived from `from`. It goes to the
    /// protocol's handler for its kind if the node accepts that kind
    /// ([`Node::speaks`]); otherwise it is refused whole: counted in
    /// [`NodeStats::unspoken`], nothing applied, nothing sent.
    pub fn handle_message(&mut self, now: u64, from: Id, msg: Message<Id>, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        if !self.host.speaks.accepts.has(msg.kind()) {
            self.store.count_unspoken();
            if let Message::Push(updates) | Message::Delta { updates, .. } = msg {
                out.spares.give_updates(updates);
            }
            return;
        }
        let rules = self.rules;
        let cx = &mut self.cx();
        match msg {
            Message::Push(updates) => rules.on_push(cx, now, from, updates, peers, out),
            Message::Feedback(known) => rules.on_feedback(cx, &known),
            Message::Digest { digest, push_pull } => rules.on_digest(cx, from, digest, push_pull, out),
            Message::Delta { updates, request } => rules.on_delta(cx, now, from, updates, request, peers, out),
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
    /// let cfg = Config { resample_ms: None, auth: Policy::Welcome, ..Config::default() };
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::{Protocol, StopKind, StopRule};
    use crate::core::message::Uuid;
    use crate::core::peers::{NoPeers, PeerList};
    use crate::core::Policy;
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

    /// `origin`'s update, its UUID `uuid`'s 128 bits.
    fn upd(origin: u32, counter: u64, uuid: u128) -> Update<u32> {
        Update::new(Uuid::from_u128(uuid), origin, Version::new(0, counter), 3, "Heat".into(), None)
    }

    /// `origin`'s update sealed by `signer`.
    fn sealed(
        signer: &Signer,
        origin: u32,
        epoch: u32,
        counter: u64,
        uuid: u128,
        payload: &'static str,
    ) -> Update<u32> {
        let (uuid, version) = (Uuid::from_u128(uuid), Version::new(epoch, counter));
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
    fn unsigned_updates_are_refused_when_required_and_a_signed_origin_stays_signed() {
        let mut n = strict(0, Policy::Required);
        push(&mut n, 1, upd(5, 1, 10));
        assert_eq!((n.stats().unsigned, n.view_len()), (1, 0));

        let mut lax = strict(0, Policy::Welcome);
        push(&mut lax, 1, upd(5, 1, 10));
        assert_eq!(lax.entry(&5).unwrap().version.counter, 1, "course-style updates are accepted");
        let bob = Signer::from_seed([2; 32]);
        push(&mut lax, 2, sealed(&bob, 6, 0, 1, 11, "Up"));
        push(&mut lax, 3, upd(6, 2, 12));
        assert_eq!(lax.stats().bound_unsigned, 1, "origin 6 signed once, so an unsigned claim about it is refused");
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
    fn a_forgotten_origin_leaves_the_view_and_its_old_versions_never_come_back() {
        let alice = Signer::from_seed([1; 32]);
        let mut n = strict(0, Policy::Welcome);
        n.set_favorite(0, "Up".into(), &NoPeers, &mut Out::default());
        push(&mut n, 1, sealed(&alice, 5, 2, 3, 10, "Alien"));
        push(&mut n, 1, upd(6, 4, 11));
        assert!(!n.forget(&0), "its own entry is never forgotten");
        assert!(n.forget(&5) && n.forget(&6));
        assert!(!n.forget(&5), "already gone");
        assert_eq!((n.view_len(), n.tombs_len()), (1, 2));
        assert_eq!(n.tomb(&5).map(|t| (t.version, t.key)), Some((Version::new(2, 3), Some(alice.public()))));
        // the same version, or an older one, relayed by someone who still holds it: a duplicate
        let dups = n.stats().duplicates;
        push(&mut n, 2, sealed(&alice, 5, 2, 3, 12, "Alien"));
        push(&mut n, 2, sealed(&alice, 5, 2, 2, 13, "Older"));
        push(&mut n, 2, upd(6, 4, 14));
        let mut out = Out::default();
        n.handle_message(
            2,
            99,
            Message::Delta { updates: vec![upd(6, 3, 15)], request: Default::default() },
            &NoPeers,
            &mut out,
        );
        assert_eq!((n.view_len(), n.stats().duplicates - dups), (1, 4));
        // a digest that lists only forgotten versions gets no request for them
        let d = Digest::new(vec![(5, Version::new(2, 3)), (6, Version::new(0, 4))]);
        let mut out = Out::default();
        let replies =
            n.handle_exchange(3, 99, vec![Message::Digest { digest: d, push_pull: true }], &NoPeers, &mut out);
        let asked: Vec<u32> = replies
            .iter()
            .chain(out.sends.iter().map(|t| &t.msg))
            .flat_map(|m| match m {
                Message::Delta { request, .. } => request.pairs().iter().map(|(o, _)| *o).collect::<Vec<_>>(),
                _ => Vec::new(),
            })
            .collect();
        assert!(asked.is_empty(), "asked for buried versions: {asked:?}");
        // the origin stays bound to its key: not unsigned, not another key
        push(&mut n, 4, versioned(upd(5, 4, 16), Version::new(2, 4)));
        push(&mut n, 4, sealed(&Signer::from_seed([9; 32]), 5, 2, 4, 17, "Forged"));
        assert_eq!((n.stats().bound_unsigned, n.stats().key_mismatch, n.view_len()), (1, 1, 1));
        // a newer version brings it back and lifts the tombstone
        push(&mut n, 5, sealed(&alice, 5, 2, 4, 18, "Heat"));
        push(&mut n, 5, upd(6, 5, 19));
        assert_eq!(n.entry(&5).unwrap().payload.as_str(), "Heat");
        assert_eq!((n.view_len(), n.tombs_len()), (3, 0));
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
        let mut n = strict(0, Policy::Welcome);
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
        let mine = n.entry(&0).unwrap().uuid.as_u128();
        let mut echo = upd(0, 1, mine);
        n.handle_message(1, 9, Message::Push(vec![echo.clone()]), &NoPeers, &mut out);
        assert_eq!(n.version(), Version::new(0, 1), "our own update coming back is a duplicate");
        echo.edit(|r| r.uuid = Uuid::from_u128(mine ^ 1));
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
    fn a_resample_interval_past_the_end_of_time_waits_forever_instead_of_overflowing() {
        let mut c = cfg(Protocol::PushPull);
        c.resample_ms = Some(u64::MAX);
        c.resample_jitter_ms = u64::MAX;
        // made late (a restart), so that its clock plus the interval is past u64::MAX
        let mut n = Node::new(0u32, c, 0, Rng::new(1), 5_000);
        let mut out = Out::default();
        n.handle_timer(5_000, &NoPeers, &mut out);
        assert_eq!(n.version(), Version::new(0, 1), "the first favorite, at once");
        assert_eq!(
            n.host.timers.get(Timer::Resample),
            Some(u64::MAX),
            "the next re-sample is never, not a wrapped-around soon"
        );
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

    /// Every configuration of a node protocol worth telling apart: each
    /// node-run protocol of the registry, with and without eager push
    /// (where it applies), the backup anti-entropy and, for rumor, both
    /// stop modes.
    fn configurations() -> Vec<Config> {
        let mut all = Vec::new();
        for &protocol in Protocol::ALL.iter().filter(|p| !p.info().overlay) {
            let eagers: &[bool] = if protocol.info().no_eager.is_none() { &[false, true] } else { &[false] };
            let stops = if protocol == Protocol::Rumor {
                vec![StopRule::default(), StopRule { feedback: false, kind: StopKind::Counter(2) }]
            } else {
                vec![StopRule::default()]
            };
            for &eager_push in eagers {
                for anti_entropy_ms in [None, Some(300)] {
                    for &stop in &stops {
                        all.push(Config { eager_push, anti_entropy_ms, stop, ..cfg(protocol) });
                    }
                }
            }
        }
        all
    }

    #[test]
    fn every_protocol_sends_only_what_it_declares_and_its_peers_accept_all_of_it() {
        let ids: Vec<u32> = (0..8).collect();
        let peers = PeerList(ids.clone());
        for c in configurations() {
            let mut nodes: Vec<Node<u32>> =
                ids.iter().map(|&i| Node::new(i, c.clone(), 0, Rng::new(u64::from(i) + 1), 0)).collect();
            let mut out = Out::default();
            let mut queue: Vec<(u32, Transmit<u32>)> = Vec::new();
            let mut seen = Kinds::NONE;
            let mut drain =
                |from: u32, out: &mut Out<u32>, queue: &mut Vec<(u32, Transmit<u32>)>, nodes: &[Node<u32>]| {
                    for t in out.sends.drain(..) {
                        let kind = t.msg.kind();
                        assert!(nodes[from as usize].speaks().sends.has(kind), "{c:?}: node sent a {kind:?}");
                        assert!(nodes[t.to as usize].speaks().accepts.has(kind), "{c:?}: peer refuses a {kind:?}");
                        seen = seen.with(kind);
                        queue.push((from, t));
                    }
                    out.events.clear();
                };
            for i in 0..4 {
                nodes[i as usize].set_favorite(0, format!("movie {i}").into(), &peers, &mut out);
                drain(i, &mut out, &mut queue, &nodes);
            }
            // ten rounds: every timer due, then every message in flight delivered
            for round in 1..=10u64 {
                let now = round * c.interval_ms;
                for i in 0..nodes.len() {
                    nodes[i].handle_timer(now, &peers, &mut out);
                    drain(i as u32, &mut out, &mut queue, &nodes);
                }
                // replies are delivered too, a bounded number of hops per round
                for _hop in 0..8 {
                    for (from, t) in std::mem::take(&mut queue) {
                        let to = t.to;
                        nodes[to as usize].handle_message(now, from, t.msg, &peers, &mut out);
                        drain(to, &mut out, &mut queue, &nodes);
                    }
                }
            }
            assert!(queue.is_empty(), "{c:?}: the exchange settles");
            assert!(nodes.iter().all(|n| n.stats().unspoken == 0), "{c:?}: nothing refused");
            assert!(seen
                .covers(Kinds::NONE.with_if(MessageKind::Feedback, c.protocol == Protocol::Rumor && c.stop.feedback)));
            assert_ne!(seen, Kinds::NONE, "{c:?}: messages flowed");
            let informed = nodes.iter().filter(|n| n.known(&0).is_some()).count();
            assert!(informed >= 4, "{c:?}: the first favorite spread ({informed} nodes)");
        }
    }

    #[test]
    fn a_message_of_a_kind_the_protocol_does_not_speak_is_refused_counted_and_never_applied() {
        let mut out = Out::default();
        // feedback to push-pull, and to rumor mongering with the blind rule: refused
        let blind = Config { stop: StopRule { feedback: false, kind: StopKind::Coin(1) }, ..cfg(Protocol::Rumor) };
        for c in [cfg(Protocol::PushPull), blind] {
            let mut n = Node::new(0u32, c, 0, Rng::new(1), 0);
            n.set_favorite(0, "Heat".into(), &NoPeers, &mut out);
            let before = n.view().map(|(o, e)| (*o, e.version, e.rumor)).collect::<Vec<_>>();
            n.handle_message(1, 9, Message::Feedback(vec![(0, n.version())]), &PeerList(vec![0, 9]), &mut out);
            assert_eq!(n.stats().unspoken, 1);
            assert!(out.sends.is_empty());
            assert_eq!(n.view().map(|(o, e)| (*o, e.version, e.rumor)).collect::<Vec<_>>(), before);
        }
        // rumor mongering with feedback takes it: the rumor cools (coin 1/1)
        let mut n = node(0, Protocol::Rumor);
        n.set_favorite(0, "Heat".into(), &NoPeers, &mut out);
        assert!(n.entry(&0).unwrap().rumor.hot);
        n.handle_message(1, 9, Message::Feedback(vec![(0, n.version())]), &NoPeers, &mut out);
        assert_eq!(n.stats().unspoken, 0);
        assert!(!n.entry(&0).unwrap().rumor.hot, "feedback counted a contact");
        // a node made to run Plumtree (every driver refuses it) speaks none of the node's messages
        let mut p = node(0, Protocol::Plumtree);
        p.handle_message(1, 9, Message::Push(vec![upd(5, 1, 1)]), &NoPeers, &mut out);
        p.handle_message(1, 9, Message::Digest { digest: Digest::default(), push_pull: true }, &NoPeers, &mut out);
        assert_eq!((p.stats().unspoken, p.known(&5), p.stats().updates_in), (2, None, 0));
        assert!(out.sends.is_empty());
        // the backup anti-entropy makes it take digests and deltas
        let c = Config { anti_entropy_ms: Some(100), ..cfg(Protocol::Plumtree) };
        assert!(Node::new(0u32, c, 0, Rng::new(1), 0).speaks().accepts.has(MessageKind::Delta));
    }
}
