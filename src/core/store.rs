//! The store: what a node knows, and the rules every protocol shares to
//! change it.
//!
//! Whatever the protocol, an update is taken the same way: ranges checked,
//! the seen cache consulted for pushed updates (the course's dedup rule),
//! the merge rule (a newer version of its origin supersedes an older one),
//! the view's cap, the seal gate ([`auth::gate`]) and self-claims (an
//! update that claims to be this node's own). Digests are answered by one
//! rule too: what the sender lacks goes back, what it has that we lack is
//! requested. Those rules live here, once, and the protocol files
//! (`super::protocols`) only decide *what to send to whom and when*.
//!
//! The store is also where the performance machinery lives: the view's
//! compact layout (`super::view`), the batch calls that start loading a
//! batch's entries ahead of their use (`Store::warm_ahead`,
//! `Store::warm_next`), and the reuse of message buffers ([`Out`]'s
//! spares). A protocol never sees any of it.

use std::sync::Arc;

use indexmap::IndexMap;

use foldhash::fast::FixedState;

use super::auth::{self, Policy, PublicKey, Refusal, Refusals, Signer};
use super::config::Config;
use super::message::{Digest, NodeId, Payload, Record, Update};
use super::node::{Event, Out, Transmit};
use super::protocols::anti_entropy::{self, Answer};
use super::protocols::RumorState;
use super::seen::SeenCache;
use super::spares::Spares;
use super::vector;
use super::version::Version;
use super::view::{Diff, View};
use crate::hint::prefetch;

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

/// What is left of a forgotten origin (`Store::forget`): enough to keep
/// its old versions from coming back and its key binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tomb {
    /// The newest version held when it was forgotten: it and older ones are
    /// taken for duplicates.
    pub version: Version,
    /// The key it was bound to, if any: it stays bound.
    pub key: Option<PublicKey>,
}

/// How an update was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Pushed (flood, eager push, rumor).
    Push,
    /// Anti-entropy (digest exchange, push or pull of state).
    AntiEntropy,
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
    /// Updates dropped for lack of a seal that the policy requires.
    pub unsigned: u64,
    /// Updates dropped for lack of a seal although their origin is bound to a key.
    pub bound_unsigned: u64,
    /// Updates dropped because their seal's signature does not verify.
    pub bad_signature: u64,
    /// Updates dropped because they are sealed by another key than the one bound to their origin.
    pub key_mismatch: u64,
    /// Updates dropped because their epoch is past the driver's limit (a clock far in the future, or a forgery).
    pub future_epoch: u64,
    /// Messages refused whole because the node's protocol does not accept
    /// their kind ([`Speaks`](crate::core::Speaks); a `Feedback` to a node
    /// not running rumor mongering with feedback, say).
    pub unspoken: u64,
}

impl NodeStats {
    /// Updates dropped by the authenticity and epoch checks, by reason.
    pub fn refusals(&self) -> Refusals {
        Refusals {
            unsigned: self.unsigned,
            bound_unsigned: self.bound_unsigned,
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

/// What [`Store::apply`] made of an update.
#[derive(Debug)]
pub(crate) enum Applied<Id> {
    /// It changed the view.
    Fresh,
    /// It changed nothing (a duplicate, stale, invalid or refused).
    Unchanged,
    /// It claims to be this node's own: the node decides
    /// ([`Store::self_claim`], then a new version of its own if need be).
    SelfClaim(Update<Id>),
}

/// The limits an update is checked against (a copy of the node's [`Config`]'s).
#[derive(Clone, Copy, Debug)]
struct Limits {
    max_payload: usize,
    max_ttl: u32,
    max_view: usize,
    auth: Policy,
}

/// A node's knowledge and the shared rules that change it; see the module
/// documentation.
#[derive(Clone, Debug)]
pub struct Store<Id: NodeId> {
    id: Id,
    own: Version,
    /// What it knows, by origin (see `view` for the layout).
    view: View<Id>,
    seen: SeenCache,
    stats: NodeStats,
    limits: Limits,
    /// The positions a digest being answered lacks (kept to reuse its memory).
    lack: Vec<usize>,
    signer: Option<Arc<Signer>>,
    pins: IndexMap<Id, PublicKey, FixedState>,
    /// Origins the driver made this node forget ([`Store::forget`]): the
    /// version held then, and the key it was bound to. Bounded like the view
    /// (oldest dropped first).
    tombs: IndexMap<Id, Tomb, FixedState>,
    epoch_limit: u32,
    sign_buf: Vec<u8>,
}

impl<Id: NodeId> Store<Id> {
    /// The store of node `id` in incarnation `epoch`, its seen cache and
    /// view hashed with the seeds given (see `node::FirstDraws`).
    pub(crate) fn new(id: Id, cfg: &Config, epoch: u32, seen_seed: u64, view_seed: u64) -> Self {
        let seen = SeenCache::new(cfg.seen_ttl_ms, cfg.seen_cap, seen_seed);
        let view = View::new(view_seed);
        Store {
            id,
            own: Version::new(epoch, 0),
            view,
            seen,
            stats: NodeStats::default(),
            limits: Limits {
                max_payload: cfg.max_payload,
                max_ttl: cfg.max_ttl,
                max_view: cfg.max_view,
                auth: cfg.auth,
            },
            lack: Vec::new(),
            signer: None,
            pins: IndexMap::with_hasher(FixedState::with_seed(0)),
            tombs: IndexMap::with_hasher(FixedState::with_seed(0)),
            epoch_limit: u32::MAX,
            sign_buf: Vec::new(),
        }
    }

    /// The node's identity.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// The version of the node's own current favorite (counter 0: none yet).
    pub fn own(&self) -> Version {
        self.own
    }

    /// The view.
    pub fn view(&self) -> &View<Id> {
        &self.view
    }

    /// The entry for `origin`.
    pub fn get(&self, origin: &Id) -> Option<&Entry> {
        self.view.get(origin)
    }

    /// Input counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// UUIDs currently remembered for dedup.
    pub fn seen_len(&self) -> usize {
        self.seen.len()
    }

    /// Forget seen UUIDs older than the cache's TTL.
    pub(crate) fn expire_seen(&mut self, now: u64) {
        self.seen.expire(now);
    }

    pub(crate) fn set_signer(&mut self, signer: Arc<Signer>) {
        self.signer = Some(signer);
    }

    pub(crate) fn public_key(&self) -> Option<PublicKey> {
        self.signer.as_ref().map(|s| s.public())
    }

    pub(crate) fn set_epoch_limit(&mut self, limit: u32) {
        self.epoch_limit = limit;
    }

    pub(crate) fn reserve_view(&mut self, origins: usize) {
        self.view.reserve(origins.min(self.limits.max_view));
    }

    /// See [`super::Node::bind_key`].
    pub(crate) fn bind_key(&mut self, origin: Id, key: PublicKey) -> bool {
        if origin == self.id || self.pins.get(&origin) == Some(&key) {
            return false;
        }
        let dropped = match self.view.get(&origin) {
            Some(e) if e.seal.as_ref().map(|s| s.key) != Some(key) => self.view.remove(&origin),
            _ => false,
        };
        if self.pins.len() >= self.limits.max_view.max(1) && !self.pins.contains_key(&origin) {
            self.pins.shift_remove_index(0);
        }
        self.pins.insert(origin, key);
        dropped
    }

    /// See [`super::Node::bound_key`].
    pub fn bound_key(&self, origin: &Id) -> Option<PublicKey> {
        self.pins
            .get(origin)
            .copied()
            .or_else(|| self.view.get(origin)?.seal.as_ref().map(|s| s.key))
            .or_else(|| self.tombs.get(origin)?.key)
    }

    /// See [`super::Node::forget`].
    pub(crate) fn forget(&mut self, origin: &Id) -> bool {
        if *origin == self.id {
            return false;
        }
        let Some(e) = self.view.get(origin) else { return false };
        let tomb = Tomb { version: e.version, key: self.bound_key(origin) };
        self.view.remove(origin);
        if self.tombs.len() >= self.limits.max_view.max(1) && !self.tombs.contains_key(origin) {
            self.tombs.shift_remove_index(0);
        }
        self.tombs.insert(origin.clone(), tomb);
        true
    }

    /// The tombstone of `origin`, if it was forgotten and nothing newer came since.
    pub fn tomb(&self, origin: &Id) -> Option<Tomb> {
        self.tombs.get(origin).copied()
    }

    /// How many tombstones are kept.
    pub fn tombs_len(&self) -> usize {
        self.tombs.len()
    }

    /// Whether `version` of `origin` is at or below its tombstone: an old
    /// version of a forgotten origin, which must not come back.
    fn buried(&self, origin: &Id, version: Version) -> bool {
        !self.tombs.is_empty() && self.tombs.get(origin).is_some_and(|t| version <= t.version)
    }

    /// The node's digest after merging origins that wait in the view's
    /// version vector for good (a plain copy from then on, instead of a
    /// merge per call), made in a spare column of `out`.
    pub(crate) fn flushed_digest(&mut self, out: &mut Out<Id>) -> Digest<Id> {
        self.view.flush();
        self.view.digest_into(out.spares.column())
    }

    /// `origin`'s update as held, to travel with `ttl`.
    pub fn update_of(&self, origin: &Id, ttl: u32) -> Option<Update<Id>> {
        self.view.get(origin).map(|e| update_from(origin, e, ttl))
    }

    /// Every update held, with the TTL each arrived with, in the view's order.
    pub fn held_updates(&self) -> Vec<Update<Id>> {
        self.view.iter().map(|(o, e)| update_from(o, e, e.ttl)).collect()
    }

    /// The update held for `origin`, with the TTL it arrived with (anti-entropy).
    pub fn stored_update(&self, origin: &Id) -> Option<Update<Id>> {
        self.view.get(origin).map(|e| update_from(origin, e, e.ttl))
    }

    /// The entry for `origin` if it holds exactly `version`, to change the
    /// node's own bookkeeping about it (a rumor's state).
    pub fn entry_at_mut(&mut self, origin: &Id, version: Version) -> Option<&mut Entry> {
        let f = self.view.find(origin)?;
        (f.version == version).then(|| self.view.at_mut(f.pos))
    }

    /// A new version of the node's own favorite, `payload`, with `uuid`,
    /// sealed if the node signs, stored with `ttl` at `now`; reports it in
    /// `out.events`.
    pub(crate) fn originate(&mut self, now: u64, uuid: super::Uuid, payload: Payload, ttl: u32, out: &mut Out<Id>) {
        self.own = self.own.next();
        self.seen.insert(uuid, now);
        let seal = self.signer.as_ref().map(|s| s.seal(uuid, &self.id, self.own, payload.as_str()));
        let entry = Entry::new(Arc::new(Record::new(uuid, self.own, payload, seal)), ttl, now);
        let previous = self.view.put(None, self.id.clone(), entry);
        out.events.push(Event::Originated { version: self.own });
        out.events.push(Event::Learned { origin: self.id.clone(), previous, version: self.own, via: Via::Push });
    }

    /// Validate and merge one update.
    ///
    /// Cheap checks come first (ranges, the seen cache, the merge rule), so
    /// duplicates — most of gossip's traffic — never cost a signature check;
    /// a seal is verified only for an update that would change the view, and
    /// its UUID is remembered only once it verified, so that a forgery
    /// cannot make the genuine update look like a duplicate.
    pub(crate) fn apply(&mut self, now: u64, mut u: Update<Id>, via: Via, out: &mut Out<Id>) -> Applied<Id> {
        self.stats.updates_in += 1;
        if !u.version.is_valid() || u.payload.as_str().len() > self.limits.max_payload {
            self.stats.invalid += 1;
            return Applied::Unchanged;
        }
        if u.version.epoch > self.epoch_limit {
            self.stats.future_epoch += 1;
            return Applied::Unchanged;
        }
        if u.ttl > self.limits.max_ttl {
            u.ttl = self.limits.max_ttl;
            self.stats.ttl_clamped += 1;
        }
        if u.origin == self.id {
            return Applied::SelfClaim(u);
        }
        let checks = self.limits.auth != Policy::Off;
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
        if !first_sight
            || !super::supersedes(u.version, previous)
            || (at.is_none() && self.buried(&u.origin, u.version))
        {
            self.stats.duplicates += 1;
            return Applied::Unchanged;
        }
        if previous.is_none() && self.view.len() >= self.limits.max_view {
            self.stats.view_full += 1;
            return Applied::Unchanged;
        }
        if checks {
            if let Err(r) = self.check_seal(&u, self.bound_key(&u.origin)) {
                self.count_refusal(r);
                return Applied::Unchanged;
            }
            if pushed {
                self.seen.insert(u.uuid, now);
            }
        }
        self.stats.fresh += 1;
        if at.is_none() && !self.tombs.is_empty() {
            // newer than its tombstone: the origin is back
            self.tombs.swap_remove(&u.origin);
        }
        out.events.push(Event::Learned { origin: u.origin.clone(), previous, version: u.version, via });
        let (origin, ttl) = (u.origin.clone(), u.ttl);
        self.view.put(at, origin, Entry::new(u.into_record(), ttl, now));
        Applied::Fresh
    }

    fn count_refusal(&mut self, r: Refusal) {
        match r {
            Refusal::Unsigned => self.stats.unsigned += 1,
            Refusal::BoundUnsigned => self.stats.bound_unsigned += 1,
            Refusal::BadSignature => self.stats.bad_signature += 1,
            Refusal::KeyMismatch => self.stats.key_mismatch += 1,
        }
    }

    /// Whether `u`'s seal satisfies the policy and `bound`, the key its
    /// origin is bound to (the shared [`auth::gate`]).
    fn check_seal(&mut self, u: &Update<Id>, bound: Option<PublicKey>) -> Result<(), Refusal> {
        let buf = &mut self.sign_buf;
        auth::gate(self.limits.auth, bound, u.seal.as_deref(), |seal| {
            Some(auth::verify(seal, u.uuid, &u.origin, u.version, u.payload.as_str(), buf))
        })
        .map(|_| ())
    }

    /// An update claims to be from this node. Our own version, or an older
    /// one, is a duplicate. A newer version (we restarted and lost our
    /// counter, or a forgery), or our version under another UUID (an earlier
    /// incarnation that started in the same epoch), makes us announce our
    /// favorite again above it, so that ours wins everywhere: the payload
    /// to announce is returned, and the node's version is raised so that
    /// its next one is above the claim. A claim whose seal does not verify,
    /// or that lacks one the policy requires, is not even a claim: it is
    /// dropped.
    pub(crate) fn self_claim(&mut self, u: Update<Id>) -> Option<Payload> {
        // the seal gate, with no key bound: a claim is checked against the
        // key it carries (our own is not pinned, a restart may have made a new one)
        if let Err(r) = self.check_seal(&u, None) {
            self.count_refusal(r);
            return None;
        }
        let conflicting = u.version == self.own && self.view.get(&self.id).is_some_and(|e| e.uuid != u.uuid);
        if u.version <= self.own && !conflicting {
            self.stats.duplicates += 1;
            return None;
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
            return None;
        };
        self.own = self.own.max(below);
        Some(self.view.get(&self.id).map(|e| e.payload.clone()).unwrap_or_else(|| u.payload.clone()))
    }

    /// Answer a digest: a `Delta` with what the sender lacks (our newer
    /// versions, and origins it does not list) and, for push-pull, a request
    /// for what we lack (the rule of [`anti_entropy::answer`], origin by
    /// origin). Both lists sorted by origin are compared in one linear
    /// merge; a digest that is not strictly sorted (a peer's digest may be
    /// in any order, with repeats) is first sorted, keeping the newest
    /// version listed for each origin.
    /// Count a message refused for its kind ([`NodeStats::unspoken`]).
    pub(crate) fn count_unspoken(&mut self) {
        self.stats.unspoken += 1;
    }

    pub(crate) fn answer_digest(&mut self, from: Id, digest: Digest<Id>, push_pull: bool, out: &mut Out<Id>) {
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
                out.sends.push(Transmit { to: from, msg: super::Message::Delta { updates, request } });
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
        let room = view.len() < self.limits.max_view;
        // the positions they lack are collected first, so that the updates are
        // made in a loop of independent loads
        let mut lack = std::mem::take(&mut self.lack);
        lack.clear();
        let mut request = spares.pairs();
        let sorted = view.diff(theirs, |d| match d {
            Diff::TheyLack(pos) => lack.push(pos),
            Diff::WeLack(o, v) => {
                let buried = !self.tombs.is_empty() && self.tombs.get(o).is_some_and(|t| v <= t.version);
                if anti_entropy::answer(false, v.is_valid(), push_pull) == Answer::Request && room && !buried {
                    request.push((o.clone(), Version::default()));
                }
            }
            Diff::WeLag(o, mine) => {
                if anti_entropy::answer(false, true, push_pull) == Answer::Request {
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
            view.touch_at(&lack);
        }
        lack.iter().take(2 * STEP).for_each(|&pos| view.warm_at(pos));
        lack.iter().take(STEP).for_each(|&pos| view.warm_record_at(pos));
        for (i, &pos) in lack.iter().enumerate() {
            if let Some(&next) = lack.get(i + 2 * STEP) {
                view.warm_at(next);
            }
            if let Some(&next) = lack.get(i + STEP) {
                view.warm_record_at(next);
            }
            let (o, e) = view.at(pos);
            updates.push(update_from(o, e, e.ttl));
        }
        self.lack = lack;
        Some((updates, Digest::new(request)))
    }

    /// The updates a request asks for that this node holds newer than the
    /// requester has them, in a list made from `out`'s spares (the request's
    /// own buffer is left there).
    pub(crate) fn answer_request(&self, request: Digest<Id>, out: &mut Out<Id>) -> Vec<Update<Id>> {
        let pairs = request.pairs();
        self.warm_ahead(&pairs, |(o, _)| o, |_| None);
        let mut updates = out.spares.updates();
        for (i, (o, have)) in pairs.iter().enumerate() {
            self.warm_next(&pairs[i + 1..], |(o, _)| o, |_| None);
            updates.extend(self.stored_update(o).filter(|u| u.version > *have));
        }
        drop(pairs);
        out.spares.give_pairs(request.into_vec());
        updates
    }

    /// Start loading what the first items of a batch need (where the target
    /// has no prefetch hint: load what the whole batch needs, now; see
    /// [`View::touch`]).
    pub(crate) fn warm_ahead<T>(&self, items: &[T], origin: impl Fn(&T) -> &Id, own: impl Fn(&T) -> Option<&Record>) {
        let view = &self.view;
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
    pub(crate) fn warm_next<T>(&self, rest: &[T], origin: impl Fn(&T) -> &Id, own: impl Fn(&T) -> Option<&Record>) {
        if let Some(t) = rest.get(2 * STEP - 1) {
            self.view.warm(origin(t));
        }
        if let Some(t) = rest.get(STEP - 1) {
            self.view.warm_record(origin(t));
            if let Some(r) = own(t) {
                prefetch(r);
            }
        }
    }
}

/// How far ahead of the item being handled a batch starts loading what it
/// will need: the cell and the entry at two steps of this many items, the
/// records (the entry's, and the item's own) at one. The second stage reads
/// what the first fetched, so that a batch overlaps its cache misses
/// instead of waiting for each in turn.
const STEP: usize = 4;

/// An update's own record, for [`Store::warm_ahead`] and [`Store::warm_next`].
pub(crate) fn own_record<Id>(u: &Update<Id>) -> Option<&Record> {
    Some(u.record())
}

/// `origin`'s update as `e` holds it, to travel with `ttl`.
pub(crate) fn update_from<Id: Clone>(origin: &Id, e: &Entry, ttl: u32) -> Update<Id> {
    Update::of(origin.clone(), ttl, e.rec.clone())
}
