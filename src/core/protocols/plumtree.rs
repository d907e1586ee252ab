//! Plumtree: epidemic broadcast trees (Leitão, Pereira, Rodrigues, SRDS
//! 2007), over any membership that reports its neighbours as
//! [`MemberEvent`]s (HyParView, a static overlay).
//!
//! Each node splits its neighbours into *eager* peers (they get the payload
//! at once) and *lazy* peers (they get an `IHAVE` announcing its id). A
//! broadcast first floods the overlay; every duplicate payload prunes the
//! link it came on to lazy, so after the first broadcast the eager links form
//! a spanning tree: `n − 1` payload messages per broadcast (relative message
//! redundancy 0) plus an `IHAVE` on every other link. When a payload does not
//! arrive (a tree link failed), the `IHAVE` timer grafts the announcer's link
//! back into the tree.
//!
//! Rules (the paper's Algorithm 1, with its erratum):
//! * first `GOSSIP(id, round)` from `sender`: deliver, cancel the id's timer,
//!   push `GOSSIP(round + 1)` to the eager peers and `IHAVE(round + 1)` to the
//!   lazy peers **except `sender`**, and make `sender` eager. (The 2007
//!   pseudo-code passes `myself` here: read literally, a node sends the
//!   payload back to its parent, which prunes it, and the tree falls apart.
//!   `the_payload_never_goes_back_to_the_sender` catches it.)
//! * duplicate `GOSSIP`: make `sender` lazy and send it `PRUNE`;
//! * `PRUNE`: make the sender lazy;
//! * `IHAVE` of an unseen id: remember `(sender, round)`; start the id's
//!   *timeout1* timer if none runs. When it fires: make the first announcer
//!   eager, send it `GRAFT(id, round)` and start *timeout2* for the next one;
//! * `GRAFT(id)`: make the sender eager; send it the payload if held;
//! * neighbour up: eager; neighbour down: forgotten, with its announcements.
//! * optimization (optional, `threshold`): a first `GOSSIP` at `round` for an
//!   id that an `IHAVE` announced at `r` with `round − r ≥ threshold` grafts
//!   the announcer (a `GRAFT` without id: the link only) and prunes `sender`:
//!   the tree moves to the shorter path.
//!
//! With `lazy: false` the same state machine is **eager flooding** over the
//! overlay (the paper's baseline): every neighbour stays eager, nothing is
//! pruned or announced; on a 5-regular overlay its RMR is 3.
//!
//! The registry line: Plumtree is not a store-based protocol (it has
//! messages of its own and keeps neighbours), so [`Plumtree`] (its
//! configuration) joins the protocol registry for its name, help,
//! parameters and refusals only. Its [`Info::overlay`] says it runs only in
//! the simulator's overlay population; every other driver (the page's full
//! nodes, `gossip node`) refuses it. Its [`Dissemination`] hooks do nothing,
//! and it speaks none of the node's messages ([`Speaks::NOTHING`]): a node
//! made to run it anyway refuses every message.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::fast::FixedState;
use smallvec::SmallVec;

use super::{Cx, Dissemination, Info, Out, Peers, Registered, Speaks};
use crate::core::config::Config;
use crate::core::membership::MemberEvent;
use crate::core::message::NodeId;
use crate::core::view::View;

/// Plumtree's registry entry and its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plumtree;

impl Dissemination for Plumtree {
    fn from_config(_cfg: &Config) -> Self {
        Plumtree
    }

    /// Never run: drivers without an overlay refuse Plumtree ([`Info::overlay`]).
    fn on_round<Id: NodeId>(self, _cx: &mut Cx<'_, Id>, _now: u64, _peers: &impl Peers<Id>, _out: &mut Out<Id>) {}

    /// Its messages are its own ([`Msg`]), none of the node's.
    fn speaks(self) -> Speaks {
        Speaks::NOTHING
    }

    fn busy<Id: NodeId>(self, _view: &View<Id>) -> bool {
        false
    }
}

impl Registered for Plumtree {
    const INFO: Info = Info {
        name: "plumtree",
        aliases: &["epidemic-broadcast-trees"],
        summary: "epidemic broadcast trees (Leitao et al. 2007): payload on a spanning tree of eager links, \
                  IHAVE on the others, GRAFT to repair; needs an overlay membership",
        params: &["ihave_timeout_ms", "graft_timeout_ms", "optimization"],
        no_eager: Some("it decides itself which links carry the payload"),
        converges: false,
        compact: false,
        overlay: true,
        mean_field: None,
    };
}

/// Plumtree's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlumtreeConfig {
    /// timeout1: how long an `IHAVE` waits for its payload before grafting, ms.
    pub ihave_timeout_ms: u64,
    /// timeout2: how long a `GRAFT` waits before the next announcer is grafted, ms.
    pub graft_timeout_ms: u64,
    /// The optimization's round threshold (`None`: off; the paper uses 3
    /// with one sender, 7 with many).
    pub threshold: Option<u32>,
    /// `false`: eager flooding (no lazy peers, no `IHAVE`, no `PRUNE`).
    pub lazy: bool,
}

impl Default for PlumtreeConfig {
    fn default() -> Self {
        PlumtreeConfig { ihave_timeout_ms: 1_000, graft_timeout_ms: 500, threshold: None, lazy: true }
    }
}

/// Plumtree's messages; `K` is a broadcast's id, `P` its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg<K, P> {
    /// The payload, `round` hops from its source (0: sent by the source).
    Gossip {
        /// The broadcast.
        id: K,
        /// Hops it took before this one.
        round: u32,
        /// The payload.
        payload: P,
    },
    /// "I have broadcast `id`" (a lazy push).
    IHave {
        /// The broadcast.
        id: K,
        /// Its round at the announcer.
        round: u32,
    },
    /// "Make our link eager", and send broadcast `id` if it is `Some`.
    Graft {
        /// The broadcast wanted (`None`: the optimization's graft, link only).
        id: Option<K>,
        /// The round the announcement had.
        round: u32,
    },
    /// "Make our link lazy."
    Prune,
}

impl<K, P> Msg<K, P> {
    /// Whether it carries the payload.
    pub fn is_payload(&self) -> bool {
        matches!(self, Msg::Gossip { .. })
    }
}

/// Plumtree's two timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PlumTimer {
    /// timeout1: an `IHAVE` announced a payload that has not come.
    IHave,
    /// timeout2: a `GRAFT` went out and the payload has not come either.
    Graft,
}

impl PlumTimer {
    /// Its duration under `cfg`, ms.
    pub fn duration(self, cfg: &PlumtreeConfig) -> u64 {
        match self {
            PlumTimer::IHave => cfg.ihave_timeout_ms,
            PlumTimer::Graft => cfg.graft_timeout_ms,
        }
    }
}

/// A broadcast delivered to the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery<Id, K, P> {
    /// The broadcast.
    pub id: K,
    /// Its payload.
    pub payload: P,
    /// Hops from the source (the first hop counts 1).
    pub hop: u32,
    /// The neighbour it came from.
    pub from: Id,
}

/// What a Plumtree call asks of the driver.
#[derive(Clone, Debug)]
pub struct PlumOut<Id, K, P> {
    /// Messages to send, `(to, message)`, in order.
    pub sends: Vec<(Id, Msg<K, P>)>,
    /// Broadcasts delivered, in order.
    pub delivered: Vec<Delivery<Id, K, P>>,
}

impl<Id, K, P> Default for PlumOut<Id, K, P> {
    fn default() -> Self {
        PlumOut { sends: Vec::new(), delivered: Vec::new() }
    }
}

/// An unseen broadcast some lazy peers announced.
#[derive(Clone, Debug)]
struct Missing<Id> {
    /// `(announcer, round)`, in arrival order (inline up to 4: an
    /// announcement does not allocate on an overlay's usual degree).
    announcers: SmallVec<[(Id, u32); 4]>,
    /// Its running timer: when it fires, and which.
    timer: Option<(u64, PlumTimer)>,
}

/// The broadcasts a node received, with their payloads: an open-addressing
/// table with linear probing (never shrinks: Plumtree forgets nothing it
/// received). Why not a `HashMap`: a message looks its id up here, and
/// the lookup is a cache miss on a large overlay; this table tells where
/// an id's cell is without touching it, so the driver can start loading
/// it a few messages ahead ([`PlumtreeState::prefetch`]). Only
/// membership is observable (no iteration), so its layout changes nothing.
#[derive(Clone, Debug)]
struct Received<K, P> {
    /// A power of two of cells (or none), at most three quarters full.
    cells: Vec<Option<(K, P)>>,
    len: usize,
}

impl<K, P> Default for Received<K, P> {
    fn default() -> Self {
        Received { cells: Vec::new(), len: 0 }
    }
}

impl<K: Copy + Eq + std::hash::Hash, P> Received<K, P> {
    /// The cell where the probe for `k` starts (`cells` not empty).
    #[inline]
    fn home(&self, k: &K) -> usize {
        use std::hash::BuildHasher;
        FixedState::default().hash_one(k) as usize & (self.cells.len() - 1)
    }

    fn get(&self, k: &K) -> Option<&P> {
        if self.cells.is_empty() {
            return None;
        }
        let mask = self.cells.len() - 1;
        let mut i = self.home(k);
        loop {
            match &self.cells[i] {
                None => return None,
                Some((x, p)) if x == k => return Some(p),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Add `k` (not present: callers check first).
    fn insert(&mut self, k: K, p: P) {
        if (self.len + 1) * 4 > self.cells.len() * 3 {
            let cap = (self.cells.len() * 2).max(8);
            let old = std::mem::replace(&mut self.cells, (0..cap).map(|_| None).collect());
            self.len = 0;
            for (k, p) in old.into_iter().flatten() {
                self.put(k, p);
            }
        }
        self.put(k, p);
    }

    fn put(&mut self, k: K, p: P) {
        let mask = self.cells.len() - 1;
        let mut i = self.home(&k);
        while self.cells[i].is_some() {
            i = (i + 1) & mask;
        }
        self.cells[i] = Some((k, p));
        self.len += 1;
    }

    #[inline]
    fn prefetch(&self, k: &K) {
        if crate::hint::ENABLED && !self.cells.is_empty() {
            crate::hint::prefetch(&self.cells[self.home(k)]);
        }
    }
}

/// Eager or lazy peers, inline up to 8 (an overlay's usual degree: a
/// node's lists sit in its own memory; more spill to the heap, with the
/// same behaviour).
type PeerList<Id> = SmallVec<[Id; 8]>;

/// One node's Plumtree state; see the module documentation.
#[derive(Clone, Debug)]
pub struct PlumtreeState<Id, K, P> {
    cfg: PlumtreeConfig,
    eager: PeerList<Id>,
    lazy: PeerList<Id>,
    /// Broadcasts received, with their payloads (to answer a `GRAFT`).
    received: Received<K, P>,
    missing: BTreeMap<K, Missing<Id>>,
    /// `(deadline, id)` of every running timer.
    deadlines: BTreeSet<(u64, K)>,
}

impl<Id: Clone + PartialEq, K: Copy + Ord + std::hash::Hash, P: Clone> PlumtreeState<Id, K, P> {
    /// A node whose neighbours are `neighbours` (all eager, as the paper starts).
    pub fn new(cfg: PlumtreeConfig, neighbours: Vec<Id>) -> Self {
        PlumtreeState {
            cfg,
            eager: neighbours.into_iter().collect(),
            lazy: PeerList::new(),
            received: Received::default(),
            missing: BTreeMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Its parameters.
    pub fn config(&self) -> &PlumtreeConfig {
        &self.cfg
    }

    /// Peers that get payloads.
    pub fn eager(&self) -> &[Id] {
        &self.eager
    }

    /// Peers that get announcements.
    pub fn lazy(&self) -> &[Id] {
        &self.lazy
    }

    /// Whether it has received (or made) broadcast `id`.
    pub fn has(&self, id: &K) -> bool {
        self.received.get(id).is_some()
    }

    /// A hint that a message about broadcast `id` is about to arrive: start
    /// loading the cell of the received set it will look up (the driver
    /// calls it a few messages ahead, once this node's state is near). No
    /// behaviour.
    #[inline]
    pub fn prefetch(&self, id: &K) {
        self.received.prefetch(id);
    }

    /// Broadcasts it waits for (announced, not received).
    pub fn missing(&self) -> usize {
        self.missing.len()
    }

    fn known(&self, p: &Id) -> bool {
        self.eager.contains(p) || self.lazy.contains(p)
    }

    fn make_eager(&mut self, p: &Id) {
        if let Some(at) = self.lazy.iter().position(|x| x == p) {
            self.lazy.swap_remove(at);
            self.eager.push(p.clone());
        }
    }

    fn make_lazy(&mut self, p: &Id) {
        if let Some(at) = self.eager.iter().position(|x| x == p) {
            self.eager.swap_remove(at);
            self.lazy.push(p.clone());
        }
    }

    fn push(&self, id: K, round: u32, payload: &P, except: Option<&Id>, out: &mut PlumOut<Id, K, P>) {
        for e in self.eager.iter().filter(|e| Some(*e) != except) {
            out.sends.push((e.clone(), Msg::Gossip { id, round, payload: payload.clone() }));
        }
        for l in self.lazy.iter().filter(|l| Some(*l) != except) {
            out.sends.push((l.clone(), Msg::IHave { id, round }));
        }
    }

    /// This node broadcasts `payload` as `id` (it counts as delivered here).
    pub fn broadcast(&mut self, id: K, payload: P, out: &mut PlumOut<Id, K, P>) {
        if self.received.get(&id).is_some() {
            return;
        }
        self.push(id, 0, &payload, None, out);
        self.received.insert(id, payload);
        self.forget_missing(&id);
    }

    fn forget_missing(&mut self, id: &K) -> Option<Missing<Id>> {
        // (an emptied map keeps its root node: asking the length first
        // spares a load from it; the same answer)
        if self.missing.is_empty() {
            return None;
        }
        let m = self.missing.remove(id)?;
        if let Some((at, _)) = m.timer {
            self.deadlines.remove(&(at, *id));
        }
        Some(m)
    }

    fn set_timer(&mut self, id: K, at: u64, kind: PlumTimer) {
        if let Some(m) = self.missing.get_mut(&id) {
            if let Some((old, _)) = m.timer.replace((at, kind)) {
                self.deadlines.remove(&(old, id));
            }
            self.deadlines.insert((at, id));
        }
    }

    /// A neighbour came or went (the membership's event).
    pub fn on_member(&mut self, ev: &MemberEvent<Id>) {
        match ev {
            MemberEvent::Up(p) => {
                if !self.known(p) {
                    self.eager.push(p.clone());
                }
            }
            MemberEvent::Down(p) => {
                self.eager.retain(|x| x != p);
                self.lazy.retain(|x| x != p);
                if !self.missing.is_empty() {
                    for m in self.missing.values_mut() {
                        m.announcers.retain(|(a, _)| a != p);
                    }
                }
            }
        }
    }

    /// A message from neighbour `from` at `now`.
    pub fn on_message(&mut self, now: u64, from: Id, msg: Msg<K, P>, out: &mut PlumOut<Id, K, P>) {
        match msg {
            Msg::Gossip { id, round, payload } => {
                if self.received.get(&id).is_some() {
                    if self.cfg.lazy && self.eager.contains(&from) {
                        self.make_lazy(&from);
                        out.sends.push((from, Msg::Prune));
                    }
                    return;
                }
                let announced = self.forget_missing(&id);
                self.push(id, round + 1, &payload, Some(&from), out);
                out.delivered.push(Delivery { id, payload: payload.clone(), hop: round + 1, from: from.clone() });
                self.received.insert(id, payload);
                self.make_eager(&from);
                // the optimization: a much shorter path was announced
                if let (Some(th), Some(m)) = (self.cfg.threshold, announced) {
                    let best = m.announcers.iter().filter(|(a, _)| self.known(a)).min_by_key(|(_, r)| *r);
                    if let Some((a, r)) = best.filter(|(_, r)| round.saturating_sub(*r) >= th).cloned() {
                        self.make_eager(&a);
                        out.sends.push((a, Msg::Graft { id: None, round: r }));
                        self.make_lazy(&from);
                        out.sends.push((from, Msg::Prune));
                    }
                }
            }
            Msg::IHave { id, round } => {
                if !self.cfg.lazy || self.received.get(&id).is_some() {
                    return;
                }
                let m = self.missing.entry(id).or_insert(Missing { announcers: SmallVec::new(), timer: None });
                m.announcers.push((from, round));
                if m.timer.is_none() {
                    self.set_timer(id, now + PlumTimer::IHave.duration(&self.cfg), PlumTimer::IHave);
                }
            }
            Msg::Graft { id, round } => {
                self.make_eager(&from);
                if let Some(payload) = id.and_then(|id| self.received.get(&id).map(|p| (id, p))) {
                    out.sends.push((from, Msg::Gossip { id: payload.0, round, payload: payload.1.clone() }));
                }
            }
            Msg::Prune => self.make_lazy(&from),
        }
    }

    /// When [`PlumtreeState::on_timer`] must next be called (`u64::MAX`: never).
    pub fn poll_timeout(&self) -> u64 {
        if self.deadlines.is_empty() {
            return u64::MAX;
        }
        self.deadlines.first().map_or(u64::MAX, |d| d.0)
    }

    /// Run the timers due at `now`: graft the first announcer of each
    /// broadcast still missing, and wait timeout2 for it.
    pub fn on_timer(&mut self, now: u64, out: &mut PlumOut<Id, K, P>) {
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.remove(&(at, id));
            let Some(m) = self.missing.get_mut(&id) else { continue };
            m.timer = None;
            if m.announcers.is_empty() {
                self.missing.remove(&id);
                continue;
            }
            let (a, r) = m.announcers.remove(0);
            self.make_eager(&a);
            out.sends.push((a, Msg::Graft { id: Some(id), round: r }));
            self.set_timer(id, now + PlumTimer::Graft.duration(&self.cfg), PlumTimer::Graft);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_received_set_holds_exactly_what_was_inserted_as_it_grows() {
        let mut set: Received<u32, u32> = Received::default();
        let mut reference = std::collections::HashMap::new();
        let mut rng = crate::rng::Rng::new(9);
        for n in 0..2_000u32 {
            let k = rng.below(5_000) as u32;
            assert_eq!(set.get(&k), reference.get(&k), "before insert {n}");
            if set.get(&k).is_none() {
                set.insert(k, n);
                reference.insert(k, n);
            }
            set.prefetch(&k);
        }
        for k in 0..5_000 {
            assert_eq!(set.get(&k), reference.get(&k), "{k}");
        }
        assert_eq!(set.len, reference.len());
        assert!(set.len * 4 <= set.cells.len() * 3, "at most three quarters full");
    }

    type State = PlumtreeState<u32, u32, &'static str>;
    type O = PlumOut<u32, u32, &'static str>;

    fn gossip(id: u32, round: u32) -> Msg<u32, &'static str> {
        Msg::Gossip { id, round, payload: "m" }
    }

    #[test]
    fn the_payload_never_goes_back_to_the_sender() {
        // the 2007 pseudo-code's `myself` for `sender` would send it to 1 as well
        let mut s = State::new(PlumtreeConfig::default(), vec![1, 2, 3]);
        s.on_member(&MemberEvent::Up(4));
        s.make_lazy(&4);
        let mut out = O::default();
        s.on_message(0, 1, gossip(7, 2), &mut out);
        let to: Vec<(u32, bool)> = out.sends.iter().map(|(t, m)| (*t, m.is_payload())).collect();
        assert_eq!(to, vec![(2, true), (3, true), (4, false)], "payload to 2 and 3, IHAVE to 4, nothing to 1");
        assert_eq!(out.delivered.len(), 1);
        assert_eq!(out.delivered[0].hop, 3, "round 2 arrives as the third hop");
        assert!(s.eager().contains(&1), "the sender is a tree link");
    }

    #[test]
    fn a_duplicate_prunes_its_link_and_prune_makes_the_sender_lazy() {
        let mut s = State::new(PlumtreeConfig::default(), vec![1, 2]);
        let mut out = O::default();
        s.on_message(0, 1, gossip(7, 0), &mut out);
        let mut out = O::default();
        s.on_message(0, 2, gossip(7, 0), &mut out);
        assert_eq!(out.sends, vec![(2, Msg::Prune)]);
        assert!(out.delivered.is_empty());
        assert_eq!((s.eager(), s.lazy()), (&[1][..], &[2][..]));
        s.on_message(0, 1, Msg::Prune, &mut O::default());
        assert_eq!(s.lazy(), &[2, 1]);
    }

    #[test]
    fn eager_flooding_never_prunes_nor_announces() {
        let cfg = PlumtreeConfig { lazy: false, ..PlumtreeConfig::default() };
        let mut s = State::new(cfg, vec![1, 2, 3]);
        let mut out = O::default();
        s.on_message(0, 1, gossip(7, 0), &mut out);
        s.on_message(0, 2, gossip(7, 0), &mut out);
        s.on_message(0, 3, Msg::IHave { id: 8, round: 0 }, &mut out);
        assert_eq!(out.sends.len(), 2, "payload to 2 and 3 only, no PRUNE");
        assert_eq!(s.eager().len(), 3);
        assert_eq!(s.poll_timeout(), u64::MAX);
    }

    #[test]
    fn a_missing_payload_grafts_the_first_announcer_after_timeout1_then_the_next_after_timeout2() {
        let cfg = PlumtreeConfig { ihave_timeout_ms: 100, graft_timeout_ms: 30, ..PlumtreeConfig::default() };
        let mut s = State::new(cfg, vec![]);
        for p in [1, 2, 3] {
            s.on_member(&MemberEvent::Up(p));
            s.make_lazy(&p);
        }
        let mut out = O::default();
        s.on_message(10, 2, Msg::IHave { id: 5, round: 4 }, &mut out);
        s.on_message(20, 3, Msg::IHave { id: 5, round: 1 }, &mut out);
        assert_eq!(s.poll_timeout(), 110, "one timer, from the first announcement");
        s.on_timer(109, &mut out);
        assert!(out.sends.is_empty());
        s.on_timer(110, &mut out);
        assert_eq!(out.sends, vec![(2, Msg::Graft { id: Some(5), round: 4 })]);
        assert!(s.eager().contains(&2));
        assert_eq!(s.poll_timeout(), 140, "timeout2 for the next announcer");
        let mut out = O::default();
        s.on_timer(140, &mut out);
        assert_eq!(out.sends, vec![(3, Msg::Graft { id: Some(5), round: 1 })]);
        // the payload arrives: the timer stops
        let mut out = O::default();
        s.on_message(150, 3, gossip(5, 1), &mut out);
        assert_eq!(out.delivered.len(), 1);
        assert_eq!(s.poll_timeout(), u64::MAX);
        assert_eq!(s.missing(), 0);
        // a graft is answered with the payload
        let mut out = O::default();
        s.on_message(160, 1, Msg::Graft { id: Some(5), round: 2 }, &mut out);
        assert_eq!(out.sends, vec![(1, Msg::Gossip { id: 5, round: 2, payload: "m" })]);
        assert!(s.eager().contains(&1));
    }

    #[test]
    fn a_neighbour_down_takes_its_announcements_with_it() {
        let mut s = State::new(PlumtreeConfig::default(), vec![1, 2]);
        s.make_lazy(&2);
        s.on_message(0, 2, Msg::IHave { id: 5, round: 0 }, &mut O::default());
        s.on_member(&MemberEvent::Down(2));
        assert_eq!((s.eager(), s.lazy()), (&[1][..], &[][..]));
        let mut out = O::default();
        s.on_timer(10_000, &mut out);
        assert!(out.sends.is_empty(), "nobody left to graft");
        assert_eq!(s.missing(), 0);
    }

    #[test]
    fn the_optimization_moves_the_tree_to_a_much_shorter_announced_path() {
        let cfg = PlumtreeConfig { threshold: Some(3), ..PlumtreeConfig::default() };
        let mut s = State::new(cfg, vec![1, 2]);
        s.make_lazy(&2);
        s.on_message(0, 2, Msg::IHave { id: 5, round: 1 }, &mut O::default());
        let mut out = O::default();
        s.on_message(5, 1, gossip(5, 6), &mut out);
        assert!(out.sends.contains(&(2, Msg::Graft { id: None, round: 1 })));
        assert!(out.sends.contains(&(1, Msg::Prune)));
        assert_eq!((s.eager(), s.lazy()), (&[2][..], &[1][..]));
        // below the threshold nothing changes
        let mut t = State::new(cfg, vec![1, 2]);
        t.make_lazy(&2);
        t.on_message(0, 2, Msg::IHave { id: 5, round: 4 }, &mut O::default());
        let mut out = O::default();
        t.on_message(5, 1, gossip(5, 6), &mut out);
        assert!(!out.sends.iter().any(|(_, m)| matches!(m, Msg::Prune | Msg::Graft { .. })));
    }
}
