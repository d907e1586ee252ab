//! HyParView (Leitão, Pereira, Rodrigues, DSN 2007): a membership protocol
//! with a small symmetric *active view* (the links a broadcast floods or
//! builds its tree on) and a larger *passive view* (candidates that replace
//! active members that fail).
//!
//! Why here: Plumtree needs neighbours that are stable and symmetric, and
//! that come and go as [`MemberEvent`]s; HyParView gives exactly that, and
//! its passive view is what lets a broadcast stay reliable after most nodes
//! failed (the paper's figure 2). Sans-IO like the rest of the core: the
//! driver hands in time and a seeded RNG, messages and events come out.
//!
//! Rules (the paper's, see `literature.md`):
//! * **Join**: the contact adds the joiner to its active view (dropping a
//!   random member with `Disconnect` if full) and sends `ForwardJoin(joiner,
//!   ARWL)` to its other active members.
//! * **ForwardJoin** at p: if the TTL is 0 or p's active view has *one*
//!   member (the prose; the pseudo-code's "zero" would let the walk die at a
//!   node whose only link is the one it came on), p adds the joiner to its
//!   active view; if the TTL equals PRWL, p adds it to its passive view;
//!   otherwise p forwards the walk, TTL − 1, to a random active member other
//!   than the sender.
//! * Every addition to an active view is answered with `Connect`, so the
//!   other end adds the link too (the paper's TCP connection): views stay
//!   symmetric.
//! * **Disconnect** from q: q moves from the active to the passive view.
//! * **Repair**: when an active member fails (the driver reports an
//!   undeliverable message, [`Membership::on_unreachable`]: the paper's TCP
//!   failure detector), try random passive members with `Neighbor(priority)`:
//!   high if the active view is empty (always accepted), else low (accepted
//!   only with room in the active view). A rejected candidate stays passive and the next
//!   one is tried; an unreachable one is forgotten.
//! * **Shuffle**, every period: send your id, `ka` active and `kp` passive
//!   ids on a random walk of `ARWL` hops; the end point answers with as many
//!   of its passive ids; both merge what they got into their passive views,
//!   skipping themselves and known ids and evicting first the ids they sent.
//!
//! One addition to the paper's rules: at each shuffle, a node whose active
//! view is not full (it was dropped by a peer, or joined while the overlay
//! was forming) asks one passive member with a low-priority `Neighbor`, as
//! the paper's PeerSim runs keep active views full (its figure 5: every
//! in-degree 5). A request without an answer is dropped at the next period.

use smallvec::SmallVec;

use super::{MemberEvent, MemberOut, Membership};
use crate::core::peers::Peers;
use crate::core::timer::next_after;
use crate::rng::{sample_indices, Rng};

/// HyParView's parameters (the paper's experiments: 5, 30, 6, 3, 3, 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HyParViewConfig {
    /// Active view size (log n + c; 5 for 10,000 nodes).
    pub active: usize,
    /// Passive view size (k (log n + c); 30).
    pub passive: usize,
    /// Active random walk length: a ForwardJoin's and a Shuffle's TTL (6).
    pub arwl: u8,
    /// Passive random walk length: the TTL at which a ForwardJoin adds the
    /// joiner to the passive view (3).
    pub prwl: u8,
    /// Active ids in a shuffle (3).
    pub ka: usize,
    /// Passive ids in a shuffle (4).
    pub kp: usize,
    /// Shuffle period, ms (one membership cycle).
    pub shuffle_ms: u64,
}

impl Default for HyParViewConfig {
    fn default() -> Self {
        HyParViewConfig { active: 5, passive: 30, arwl: 6, prwl: 3, ka: 3, kp: 4, shuffle_ms: 1_000 }
    }
}

/// The ids a shuffle or its answer carries, inline up to 8 (the paper's
/// 1 + ka + kp): the message carries them by value, so the node it reaches
/// reads them from the message, not from a block its sender allocated.
pub type ShuffleIds<Id> = SmallVec<[Id; 8]>;

/// HyParView's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg<Id> {
    /// A new node asks its contact to let it in.
    Join,
    /// A join's random walk: `joiner` wants links, `ttl` hops remain.
    ForwardJoin {
        /// The node that joined.
        joiner: Id,
        /// Hops left.
        ttl: u8,
    },
    /// "I added you to my active view": add me to yours.
    Connect,
    /// Take me into your active view (`high`: I have no active member left).
    Neighbor {
        /// High priority: always accepted.
        high: bool,
    },
    /// The answer to `Neighbor` (accepted: the sender added us).
    NeighborReply {
        /// Whether the sender added us to its active view.
        accepted: bool,
    },
    /// "I dropped you from my active view."
    Disconnect,
    /// A shuffle's random walk from `origin`, with its sample of ids.
    Shuffle {
        /// Who started it (the end point answers it directly).
        origin: Id,
        /// Hops left.
        ttl: u8,
        /// The origin's id, `ka` active and `kp` passive ids.
        ids: ShuffleIds<Id>,
    },
    /// The end point's answer: as many of its passive ids.
    ShuffleReply {
        /// Passive ids.
        ids: ShuffleIds<Id>,
    },
}

impl<Id> Msg<Id> {
    /// Ids it carries (for size estimates).
    pub fn ids(&self) -> usize {
        match self {
            Msg::ForwardJoin { .. } => 1,
            Msg::Shuffle { ids, .. } => ids.len() + 1,
            Msg::ShuffleReply { ids } => ids.len(),
            _ => 0,
        }
    }
}

/// Indices sampled from a view (a shuffle's few), inline: no allocation.
type Indices = SmallVec<[usize; 8]>;

/// Whether `xs` (a view: a few dozen ids) holds `x`, comparing every
/// member without branching, which the compiler turns into vector
/// compares for integer ids.
fn holds<Id: PartialEq>(xs: &[Id], x: &Id) -> bool {
    xs.iter().fold(false, |found, y| found | (y == x))
}

/// An active view, held inline up to 8 members (the paper's 5, with
/// room): a node's views sit in its own memory, next to the rest of its
/// state, instead of in separate heap blocks (a larger configured view
/// spills to the heap, with the same behaviour).
type ActiveView<Id> = SmallVec<[Id; 8]>;
/// A passive view, inline up to 32 members (the paper's 30, with room).
type PassiveView<Id> = SmallVec<[Id; 32]>;

/// One node's HyParView state; see the module documentation.
#[derive(Clone, Debug)]
pub struct HyParView<Id> {
    cfg: HyParViewConfig,
    active: ActiveView<Id>,
    passive: PassiveView<Id>,
    /// The contact to join through at the first timer, if not joined yet.
    contact: Option<Id>,
    join_at: u64,
    next_shuffle: u64,
    /// Run the repair at this time (`u64::MAX`: nothing to repair).
    repair_at: u64,
    /// The passive member a `Neighbor` request went to, awaiting its answer.
    pending: Option<Id>,
    /// Candidates that rejected us in the current repair.
    tried: Vec<Id>,
    /// The ids sent in the last shuffle (evicted first when the answer merges).
    last_sent: ShuffleIds<Id>,
    /// Events decided outside a call that can report them
    /// ([`Membership::on_unreachable`]), reported at the next timer.
    queued: Vec<MemberEvent<Id>>,
}

impl<Id: Clone + PartialEq> HyParView<Id> {
    /// A node that joins through `contact` at `start` (none: the first
    /// node, alone until someone joins it), then shuffles every period from
    /// `start + shuffle_ms`.
    pub fn new(cfg: HyParViewConfig, contact: Option<Id>, start: u64) -> Self {
        HyParView {
            cfg,
            active: SmallVec::with_capacity(cfg.active + 1),
            passive: SmallVec::with_capacity(cfg.passive + 1),
            contact,
            join_at: start,
            next_shuffle: start + cfg.shuffle_ms.max(1),
            repair_at: u64::MAX,
            pending: None,
            tried: Vec::new(),
            last_sent: SmallVec::new(),
            queued: Vec::new(),
        }
    }

    /// Its parameters.
    pub fn config(&self) -> &HyParViewConfig {
        &self.cfg
    }

    /// The active view.
    pub fn active(&self) -> &[Id] {
        &self.active
    }

    /// The passive view.
    pub fn passive(&self) -> &[Id] {
        &self.passive
    }

    fn add_active(&mut self, me: &Id, n: Id, rng: &mut Rng, out: &mut MemberOut<Id, Msg<Id>>) -> bool {
        if &n == me || self.active.contains(&n) {
            return false;
        }
        if self.active.len() >= self.cfg.active {
            let d = self.active.swap_remove(rng.below(self.active.len() as u64) as usize);
            out.sends.push((d.clone(), Msg::Disconnect));
            out.events.push(MemberEvent::Down(d.clone()));
            self.add_passive(me, d, rng, &[]);
        }
        self.passive.retain(|p| p != &n);
        self.active.push(n.clone());
        out.events.push(MemberEvent::Up(n));
        true
    }

    /// Add `n` to the passive view, evicting first one of `evict_first`
    /// (then a random member) if it is full.
    fn add_passive(&mut self, me: &Id, n: Id, rng: &mut Rng, evict_first: &[Id]) {
        if &n == me || self.active.contains(&n) || self.passive.contains(&n) || self.cfg.passive == 0 {
            return;
        }
        if self.passive.len() >= self.cfg.passive {
            let at = self
                .passive
                .iter()
                .position(|p| evict_first.contains(p))
                .unwrap_or_else(|| rng.below(self.passive.len() as u64) as usize);
            self.passive.swap_remove(at);
        }
        self.passive.push(n);
    }

    /// A random active member other than those in `not` (uniform over the
    /// eligible ones, without allocating).
    fn random_active(&self, rng: &mut Rng, not: &[&Id]) -> Option<Id> {
        let ok = |a: &&Id| !not.contains(a);
        let eligible = self.active.iter().filter(ok).count();
        if eligible == 0 {
            return None;
        }
        self.active.iter().filter(ok).nth(rng.below(eligible as u64) as usize).cloned()
    }

    /// Ask a random untried passive member to become a neighbour, if the
    /// active view has room and no request is in flight.
    fn repair(&mut self, rng: &mut Rng, out: &mut MemberOut<Id, Msg<Id>>) {
        if self.pending.is_some() || self.active.len() >= self.cfg.active {
            return;
        }
        let untried: Vec<&Id> = self.passive.iter().filter(|p| !self.tried.contains(p)).collect();
        if untried.is_empty() {
            self.tried.clear();
            return;
        }
        let c = untried[rng.below(untried.len() as u64) as usize].clone();
        out.sends.push((c.clone(), Msg::Neighbor { high: self.active.is_empty() }));
        self.pending = Some(c);
    }

    fn shuffle(&mut self, me: &Id, rng: &mut Rng, out: &mut MemberOut<Id, Msg<Id>>) {
        let Some(to) = self.random_active(rng, &[]) else { return };
        let mut ids = ShuffleIds::new();
        ids.push(me.clone());
        let mut idx = Indices::new();
        sample_indices(rng, self.active.len(), None, self.cfg.ka, &mut idx);
        ids.extend(idx.iter().map(|&i| self.active[i].clone()).filter(|a| a != &to));
        idx.clear();
        sample_indices(rng, self.passive.len(), None, self.cfg.kp, &mut idx);
        ids.extend(idx.iter().map(|&i| self.passive[i].clone()));
        self.last_sent = ids.clone();
        out.sends.push((to, Msg::Shuffle { origin: me.clone(), ttl: self.cfg.arwl, ids }));
    }

    /// Merge `ids` into the passive view: new ids only; room is made by
    /// evicting first the members also in `evict_first`, then random ones.
    /// `at`, if known, are the positions in the passive view of every
    /// member in `evict_first` (the end point's answer is drawn from it).
    fn merge(&mut self, me: &Id, ids: ShuffleIds<Id>, evict_first: &[Id], at: Option<&[usize]>, rng: &mut Rng) {
        let mut fresh: ShuffleIds<Id> = SmallVec::with_capacity(ids.len());
        for id in ids {
            if &id != me && !holds(&self.active, &id) && !holds(&self.passive, &id) && !fresh.contains(&id) {
                fresh.push(id);
            }
        }
        let cap = self.cfg.passive;
        fresh.truncate(cap);
        let mut over = (self.passive.len() + fresh.len()).saturating_sub(cap);
        if over > 0 && self.passive.len() <= 64 {
            // the scan below, with the members to evict found first as a
            // bit per position (compared without branching) and the scan
            // jumping from one to the next: the same evictions in the same
            // order, without comparing every member to every id one by one
            let mut marked = 0u64;
            match at {
                Some(at) => at.iter().for_each(|&j| marked |= 1 << j),
                None => {
                    for e in evict_first {
                        for (j, p) in self.passive.iter().enumerate() {
                            marked |= u64::from(p == e) << j;
                        }
                    }
                }
            }
            while over > 0 && marked != 0 {
                let i = marked.trailing_zeros();
                self.passive.swap_remove(i as usize);
                // the last member moved into place i: its bit moves too
                let last = self.passive.len() as u32;
                let moved = (marked >> last) & 1;
                marked &= !(1u64 << i) & !(1u64 << last);
                if last != i {
                    marked |= moved << i;
                }
                over -= 1;
            }
        } else {
            let mut i = 0;
            while over > 0 && i < self.passive.len() {
                if evict_first.contains(&self.passive[i]) {
                    self.passive.swap_remove(i);
                    over -= 1;
                } else {
                    i += 1;
                }
            }
        }
        for _ in 0..over {
            let at = rng.below(self.passive.len() as u64) as usize;
            self.passive.swap_remove(at);
        }
        self.passive.extend(fresh);
    }
}

impl<Id: Clone + PartialEq> Peers<Id> for HyParView<Id> {
    fn sample(&self, rng: &mut Rng, me: &Id, k: usize, out: &mut Vec<Id>) {
        let skip = self.active.iter().position(|p| p == me);
        let mut idx = Indices::new();
        sample_indices(rng, self.active.len(), skip, k, &mut idx);
        out.extend(idx.into_iter().map(|i| self.active[i].clone()));
    }

    fn all(&self, me: &Id, out: &mut Vec<Id>) {
        out.extend(self.active.iter().filter(|p| *p != me).cloned());
    }
}

impl<Id: Clone + PartialEq> Membership<Id> for HyParView<Id> {
    type Msg = Msg<Id>;

    /// An active member failed: drop it (reported at the next timer, due
    /// now) and repair; a failed candidate or passive member is forgotten.
    fn on_unreachable(&mut self, now: u64, peer: &Id) {
        if let Some(at) = self.active.iter().position(|a| a == peer) {
            self.active.swap_remove(at);
            self.queued.push(MemberEvent::Down(peer.clone()));
            self.repair_at = self.repair_at.min(now);
        }
        self.passive.retain(|p| p != peer);
        if self.pending.as_ref() == Some(peer) {
            self.pending = None;
            self.repair_at = self.repair_at.min(now);
        }
    }

    fn poll_timeout(&self) -> u64 {
        let join = if self.contact.is_some() { self.join_at } else { u64::MAX };
        let queued = if self.queued.is_empty() { u64::MAX } else { 0 };
        join.min(self.next_shuffle).min(self.repair_at).min(queued)
    }

    fn on_timer(&mut self, me: &Id, now: u64, rng: &mut Rng, out: &mut MemberOut<Id, Msg<Id>>) {
        out.events.append(&mut self.queued);
        if now >= self.join_at {
            if let Some(c) = self.contact.take() {
                out.sends.push((c, Msg::Join));
            }
        }
        if now >= self.repair_at {
            self.repair_at = u64::MAX;
            self.repair(rng, out);
        }
        if now >= self.next_shuffle {
            self.next_shuffle = next_after(self.next_shuffle, now, self.cfg.shuffle_ms.max(1));
            // a request unanswered for a period is given up
            self.pending = None;
            self.tried.clear();
            self.shuffle(me, rng, out);
            self.repair(rng, out);
        }
    }

    fn on_message(
        &mut self,
        me: &Id,
        _now: u64,
        from: Id,
        msg: Msg<Id>,
        rng: &mut Rng,
        out: &mut MemberOut<Id, Msg<Id>>,
    ) {
        match msg {
            Msg::Join => {
                if self.add_active(me, from.clone(), rng, out) {
                    out.sends.push((from.clone(), Msg::Connect));
                }
                for a in &self.active {
                    if a != &from {
                        out.sends.push((a.clone(), Msg::ForwardJoin { joiner: from.clone(), ttl: self.cfg.arwl }));
                    }
                }
            }
            Msg::ForwardJoin { joiner, ttl } => {
                if &joiner == me {
                    return;
                }
                let next = if ttl == 0 || self.active.len() <= 1 {
                    None
                } else {
                    if ttl == self.cfg.prwl {
                        self.add_passive(me, joiner.clone(), rng, &[]);
                    }
                    self.random_active(rng, &[&from, &joiner])
                };
                match next {
                    Some(to) => out.sends.push((to, Msg::ForwardJoin { joiner, ttl: ttl - 1 })),
                    None => {
                        if self.add_active(me, joiner.clone(), rng, out) {
                            out.sends.push((joiner, Msg::Connect));
                        }
                    }
                }
            }
            Msg::Connect => {
                self.add_active(me, from, rng, out);
            }
            Msg::Neighbor { high } => {
                let accepted = high || self.active.len() < self.cfg.active || self.active.contains(&from);
                if accepted {
                    self.add_active(me, from.clone(), rng, out);
                }
                out.sends.push((from, Msg::NeighborReply { accepted }));
            }
            Msg::NeighborReply { accepted } => {
                if self.pending.as_ref() == Some(&from) {
                    self.pending = None;
                }
                if accepted {
                    // the other end added us: add it too, even if we had
                    // given up waiting, so the link stays symmetric
                    self.add_active(me, from, rng, out);
                    self.tried.clear();
                } else {
                    self.tried.push(from);
                }
                self.repair(rng, out);
            }
            Msg::Disconnect => {
                if let Some(at) = self.active.iter().position(|a| a == &from) {
                    self.active.swap_remove(at);
                    out.events.push(MemberEvent::Down(from.clone()));
                    self.add_passive(me, from, rng, &[]);
                    self.repair(rng, out);
                }
            }
            Msg::Shuffle { origin, ttl, ids } => {
                if &origin == me {
                    return;
                }
                let ttl = ttl.saturating_sub(1);
                let next =
                    if ttl > 0 && self.active.len() > 1 { self.random_active(rng, &[&from, &origin]) } else { None };
                match next {
                    Some(to) => out.sends.push((to, Msg::Shuffle { origin, ttl, ids })),
                    None => {
                        let mut idx = Indices::new();
                        sample_indices(rng, self.passive.len(), None, ids.len(), &mut idx);
                        let reply: ShuffleIds<Id> = idx.iter().map(|&i| self.passive[i].clone()).collect();
                        out.sends.push((origin, Msg::ShuffleReply { ids: reply.clone() }));
                        self.merge(me, ids, &reply, Some(&idx), rng);
                    }
                }
            }
            Msg::ShuffleReply { ids } => {
                let sent = std::mem::take(&mut self.last_sent);
                self.merge(me, ids, &sent, None, rng);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Out = MemberOut<u32, Msg<u32>>;

    fn node(contact: Option<u32>) -> HyParView<u32> {
        HyParView::new(HyParViewConfig::default(), contact, 0)
    }

    fn sends_of(out: &Out, m: impl Fn(&Msg<u32>) -> bool) -> Vec<u32> {
        out.sends.iter().filter(|(_, x)| m(x)).map(|(to, _)| *to).collect()
    }

    #[test]
    fn a_contact_takes_the_joiner_and_walks_it_to_its_other_active_members() {
        let mut c = node(None);
        let mut rng = Rng::new(1);
        c.active = [1, 2, 3].into_iter().collect();
        let mut out = Out::default();
        c.on_message(&0, 0, 9, Msg::Join, &mut rng, &mut out);
        assert_eq!(c.active(), &[1, 2, 3, 9]);
        assert_eq!(sends_of(&out, |m| *m == Msg::Connect), vec![9], "the joiner is told, so it links back");
        let walks = sends_of(&out, |m| matches!(m, Msg::ForwardJoin { joiner: 9, ttl: 6 }));
        assert_eq!(walks, vec![1, 2, 3]);
        assert_eq!(out.events, vec![MemberEvent::Up(9)]);
    }

    #[test]
    fn a_full_active_view_drops_a_random_member_with_disconnect_to_its_passive_view() {
        let mut c = node(None);
        let mut rng = Rng::new(2);
        c.active = [1, 2, 3, 4, 5].into_iter().collect();
        let mut out = Out::default();
        c.on_message(&0, 0, 9, Msg::Connect, &mut rng, &mut out);
        assert_eq!(c.active().len(), 5);
        assert!(c.active().contains(&9));
        let dropped = sends_of(&out, |m| *m == Msg::Disconnect);
        assert_eq!(dropped.len(), 1);
        assert!(c.passive().contains(&dropped[0]) && !c.active().contains(&dropped[0]));
        assert_eq!(out.events, vec![MemberEvent::Down(dropped[0]), MemberEvent::Up(9)]);
    }

    #[test]
    fn forward_join_stops_at_ttl_zero_or_at_a_node_with_one_member_and_goes_passive_at_prwl() {
        let mut rng = Rng::new(3);
        // one member (the sender): the prose's rule takes the joiner here
        let mut p = node(None);
        p.active = [1].into_iter().collect();
        let mut out = Out::default();
        p.on_message(&0, 0, 1, Msg::ForwardJoin { joiner: 9, ttl: 5 }, &mut rng, &mut out);
        assert_eq!(p.active(), &[1, 9]);
        assert_eq!(sends_of(&out, |m| *m == Msg::Connect), vec![9]);
        // ttl 0: taken
        let mut q = node(None);
        q.active = [1, 2, 3].into_iter().collect();
        let mut out = Out::default();
        q.on_message(&0, 0, 1, Msg::ForwardJoin { joiner: 9, ttl: 0 }, &mut rng, &mut out);
        assert!(q.active().contains(&9));
        // ttl = PRWL: passive, and the walk goes on to someone other than the sender
        let mut r = node(None);
        r.active = [1, 2, 3].into_iter().collect();
        for _ in 0..20 {
            let mut out = Out::default();
            r.on_message(&0, 0, 1, Msg::ForwardJoin { joiner: 9, ttl: 3 }, &mut rng, &mut out);
            assert_eq!(out.sends.len(), 1);
            let (to, m) = &out.sends[0];
            assert!(*to != 1 && *m == Msg::ForwardJoin { joiner: 9, ttl: 2 }, "{out:?}");
        }
        assert!(r.passive().contains(&9) && !r.active().contains(&9));
    }

    #[test]
    fn a_failed_active_member_is_replaced_from_the_passive_view_with_the_right_priority() {
        let mut p = node(None);
        let mut rng = Rng::new(4);
        p.active = [1].into_iter().collect();
        p.passive = [7, 8].into_iter().collect();
        p.next_shuffle = 10_000;
        p.on_unreachable(50, &1);
        assert_eq!(p.poll_timeout(), 0, "the Down event and the repair are due at once");
        let mut out = Out::default();
        p.on_timer(&0, 50, &mut rng, &mut out);
        assert_eq!(out.events, vec![MemberEvent::Down(1)]);
        let asked = sends_of(&out, |m| *m == Msg::Neighbor { high: true });
        assert_eq!(asked.len(), 1, "empty active view: high priority");
        // a rejection: the candidate stays passive, the next one is asked
        let mut out = Out::default();
        p.on_message(&0, 60, asked[0], Msg::NeighborReply { accepted: false }, &mut rng, &mut out);
        assert!(p.passive().contains(&asked[0]));
        let next = sends_of(&out, |m| matches!(m, Msg::Neighbor { .. }));
        assert_eq!(next.len(), 1);
        assert_ne!(next[0], asked[0]);
        // acceptance: it becomes active
        let mut out = Out::default();
        p.on_message(&0, 70, next[0], Msg::NeighborReply { accepted: true }, &mut rng, &mut out);
        assert_eq!(p.active(), &[next[0]]);
        assert_eq!(out.events, vec![MemberEvent::Up(next[0])]);
    }

    #[test]
    fn a_low_priority_neighbor_request_is_accepted_only_with_room_in_the_active_view() {
        let mut rng = Rng::new(5);
        let mut full = node(None);
        full.active = [1, 2, 3, 4, 5].into_iter().collect();
        let mut out = Out::default();
        full.on_message(&0, 0, 9, Msg::Neighbor { high: false }, &mut rng, &mut out);
        assert_eq!(out.sends, vec![(9, Msg::NeighborReply { accepted: false })]);
        let mut out = Out::default();
        full.on_message(&0, 0, 9, Msg::Neighbor { high: true }, &mut rng, &mut out);
        assert!(full.active().contains(&9) && full.active().len() == 5);
        assert!(out.sends.contains(&(9, Msg::NeighborReply { accepted: true })));
    }

    #[test]
    fn a_shuffle_walks_then_both_ends_merge_evicting_the_ids_they_sent_first() {
        let mut rng = Rng::new(6);
        let mut a = node(None);
        a.active = [1, 2, 3, 4].into_iter().collect();
        a.passive = (100..130).collect();
        a.next_shuffle = 0;
        let mut out = Out::default();
        a.on_timer(&0, 0, &mut rng, &mut out);
        let (to, msg) = out.sends.iter().find(|(_, m)| matches!(m, Msg::Shuffle { .. })).cloned().unwrap();
        let Msg::Shuffle { origin, ttl, ids } = msg.clone() else { unreachable!() };
        assert_eq!((origin, ttl, ids[0]), (0, 6, 0));
        assert!(a.active().contains(&to));
        assert!(ids.len() <= 1 + 3 + 4 && ids.iter().filter(|i| **i >= 100).count() == 4);
        // the end point: one active member, so the walk stops and it answers
        let mut e = node(None);
        e.active = [to].into_iter().collect();
        e.passive = (200..230).collect();
        let mut out2 = Out::default();
        e.on_message(&to, 0, to, msg, &mut rng, &mut out2);
        let (back, reply) = out2.sends[0].clone();
        let Msg::ShuffleReply { ids: got } = reply.clone() else { panic!("{reply:?}") };
        assert_eq!(back, 0);
        assert_eq!(got.len(), ids.len());
        assert_eq!(e.passive().len(), 30, "full, and still full");
        for i in &ids {
            assert!(e.passive().contains(i) || *i == to, "{i} merged");
        }
        for g in &got {
            assert!(!e.passive().contains(g), "{g}: the ids it sent went first");
        }
        let mut out3 = Out::default();
        a.on_message(&0, 0, 0, Msg::ShuffleReply { ids: got.clone() }, &mut rng, &mut out3);
        for g in &got {
            assert!(a.passive().contains(g));
        }
        assert_eq!(a.passive().len(), 30);
    }

    /// The merge's eviction as the rule states it: scan the passive view,
    /// evicting members also in `evict_first` (the last member moves into
    /// the freed place and is checked next), then random ones.
    fn merge_by_scan(p: &mut HyParView<u32>, me: u32, ids: &[u32], evict_first: &[u32], rng: &mut Rng) {
        let mut fresh: Vec<u32> = Vec::new();
        for &id in ids {
            if id != me && !p.active.contains(&id) && !p.passive.contains(&id) && !fresh.contains(&id) {
                fresh.push(id);
            }
        }
        fresh.truncate(p.cfg.passive);
        let mut over = (p.passive.len() + fresh.len()).saturating_sub(p.cfg.passive);
        let mut i = 0;
        while over > 0 && i < p.passive.len() {
            if evict_first.contains(&p.passive[i]) {
                p.passive.swap_remove(i);
                over -= 1;
            } else {
                i += 1;
            }
        }
        for _ in 0..over {
            let at = rng.below(p.passive.len() as u64) as usize;
            p.passive.swap_remove(at);
        }
        p.passive.extend(fresh);
    }

    #[test]
    fn merge_evicts_the_same_members_in_the_same_order_as_the_rules_scan() {
        let mut draw = Rng::new(8);
        for case in 0..3_000 {
            // ids from a small range, so that they collide with the views
            let passive_len = draw.below(31) as usize;
            let mut p = node(None);
            p.active = (0..draw.below(6)).map(|_| draw.below(60) as u32).collect();
            while p.passive.len() < passive_len {
                let x = draw.below(60) as u32;
                if !p.passive.contains(&x) && !p.active.contains(&x) {
                    p.passive.push(x);
                }
            }
            let ids: ShuffleIds<u32> = (0..draw.below(9)).map(|_| draw.below(60) as u32).collect();
            let evict: Vec<u32> = (0..draw.below(9)).map(|_| draw.below(60) as u32).collect();
            // the end point's case: it evicts members it drew, by position
            let mut at = Vec::new();
            let k = draw.below(9) as usize;
            sample_indices(&mut draw, p.passive.len(), None, k, &mut at);
            let drawn: Vec<u32> = at.iter().map(|&i| p.passive[i]).collect();
            let (mut by_at, mut by_at_scan) = (p.clone(), p.clone());
            let mut q = p.clone();
            let (mut r1, mut r2) = (Rng::new(case), Rng::new(case));
            p.merge(&61, ids.clone(), &evict, None, &mut r1);
            merge_by_scan(&mut q, 61, &ids, &evict, &mut r2);
            assert_eq!(p.passive(), q.passive(), "case {case}: {ids:?} evicting {evict:?}");
            assert_eq!(r1, r2, "case {case}: the same random draws");
            let (mut r1, mut r2) = (Rng::new(case), Rng::new(case));
            by_at.merge(&61, ids.clone(), &drawn, Some(&at), &mut r1);
            merge_by_scan(&mut by_at_scan, 61, &ids, &drawn, &mut r2);
            assert_eq!(by_at.passive(), by_at_scan.passive(), "case {case}: {ids:?} evicting {drawn:?} at {at:?}");
            assert_eq!(r1, r2, "case {case}: the same random draws (by position)");
        }
    }

    #[test]
    fn disconnect_moves_the_peer_to_the_passive_view_and_reports_it_down() {
        let mut p = node(None);
        let mut rng = Rng::new(7);
        p.active = [1, 2].into_iter().collect();
        let mut out = Out::default();
        p.on_message(&0, 0, 2, Msg::Disconnect, &mut rng, &mut out);
        assert_eq!(p.active(), &[1]);
        assert_eq!(p.passive(), &[2]);
        assert_eq!(out.events[0], MemberEvent::Down(2));
    }
}
