//! Where a node's partners come from.
//!
//! A node does not own the list it samples from: the driver passes a
//! [`Peers`] to every call. Native nodes pass their peer table; the simulator
//! passes one shared membership of a million nodes instead of a million
//! copies of it. Sampling uses the node's own RNG, so a node's choices depend
//! only on its seed and its inputs.

use crate::rng::{sample_indices, Rng};

/// A source of gossip partners.
pub trait Peers<Id> {
    /// Append up to `k` distinct peers other than `me`, uniformly at random.
    fn sample(&self, rng: &mut Rng, me: &Id, k: usize, out: &mut Vec<Id>);
    /// Append every peer other than `me` (flooding).
    fn all(&self, me: &Id, out: &mut Vec<Id>);
}

/// A plain list of peers: the simplest [`Peers`], used by tests and small drivers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerList<Id>(pub Vec<Id>);

impl<Id: Clone + PartialEq> Peers<Id> for PeerList<Id> {
    fn sample(&self, rng: &mut Rng, me: &Id, k: usize, out: &mut Vec<Id>) {
        let skip = self.0.iter().position(|p| p == me);
        let mut idx = Vec::with_capacity(k);
        sample_indices(rng, self.0.len(), skip, k, &mut idx);
        out.extend(idx.into_iter().map(|i| self.0[i].clone()));
    }

    fn all(&self, me: &Id, out: &mut Vec<Id>) {
        out.extend(self.0.iter().filter(|p| *p != me).cloned());
    }
}

/// No peers at all (a node alone, or a test that only watches state).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPeers;

impl<Id> Peers<Id> for NoPeers {
    fn sample(&self, _: &mut Rng, _: &Id, _: usize, _: &mut Vec<Id>) {}
    fn all(&self, _: &Id, _: &mut Vec<Id>) {}
}

/// A node's own, bounded table of peers, as the course's nodes keep it:
/// seeded with one bootstrap peer, grown from whoever talks to us and from
/// the origins of the updates we learn, never past its cap. Bootstrap peers
/// are pinned (never evicted); others can be forgotten when the driver
/// reports them failing for too long.
///
/// Failure detection: the driver reports each peer that did not answer
/// ([`PeerTable::failed`]) and each that did ([`PeerTable::heard_from`]).
/// A peer that failed is *suspect* from that moment until it answers again;
/// [`PeerTable::expire`] removes peers suspect for longer than a timeout
/// (pinned ones stay, suspect, so a node can always find its way back).
/// Suspect peers are still sampled, so that a peer that comes back is noticed.
#[derive(Clone, Debug)]
pub struct PeerTable<Id> {
    peers: Vec<Id>,
    /// Parallel to `peers`: since when each one is suspect.
    suspect_since: Vec<Option<u64>>,
    pinned: usize,
    cap: usize,
    rejected: u64,
    /// Forget a peer suspect for this long, ms (see [`PeerTable::expire_after`]).
    expiry: Option<u64>,
}

impl<Id: Clone + PartialEq> PeerTable<Id> {
    /// A table holding at most `cap` peers, starting with `bootstrap` (pinned).
    pub fn new(bootstrap: impl IntoIterator<Item = Id>, cap: usize) -> Self {
        let mut t = PeerTable {
            peers: Vec::new(),
            suspect_since: Vec::new(),
            pinned: 0,
            cap: cap.max(1),
            rejected: 0,
            expiry: None,
        };
        for b in bootstrap {
            if t.learn(b) {
                t.pinned += 1;
            }
        }
        t
    }

    /// The same table, forgetting peers suspect for `ms` or more when its
    /// [`Membership`](super::membership::Membership) timer fires.
    pub fn expire_after(mut self, ms: u64) -> Self {
        self.expiry = Some(ms);
        self
    }

    /// When the next peer that is not pinned will have been suspect for the
    /// table's expiry (`u64::MAX`: never, or no expiry set).
    pub fn next_expiry(&self) -> u64 {
        let Some(ms) = self.expiry else { return u64::MAX };
        self.suspect_since[self.pinned..].iter().flatten().map(|t| t.saturating_add(ms)).min().unwrap_or(u64::MAX)
    }

    /// [`PeerTable::expire`] with the table's own expiry (nothing without one).
    pub fn expire_due(&mut self, now: u64, removed: &mut Vec<Id>) {
        if let Some(ms) = self.expiry {
            self.expire(now, ms, removed);
        }
    }

    /// Remember `id`. Returns whether it was new; a full table refuses (and counts) newcomers.
    pub fn learn(&mut self, id: Id) -> bool {
        if self.peers.contains(&id) {
            return false;
        }
        if self.peers.len() >= self.cap {
            self.rejected += 1;
            return false;
        }
        self.peers.push(id);
        self.suspect_since.push(None);
        true
    }

    /// `id` talked to us: remember it if it is new (as [`PeerTable::learn`])
    /// and clear any suspicion of it (as [`PeerTable::heard_from`]), in one
    /// look-up. Returns `(new, revived)`.
    pub fn contact(&mut self, id: &Id) -> (bool, bool) {
        match self.peers.iter().position(|p| p == id) {
            Some(i) => (false, self.suspect_since[i].take().is_some()),
            None => (self.learn(id.clone()), false),
        }
    }

    /// Forget `id` unless it is a bootstrap peer. Returns whether it was removed.
    pub fn forget(&mut self, id: &Id) -> bool {
        match self.peers.iter().position(|p| p == id) {
            Some(i) if i >= self.pinned => {
                self.peers.remove(i);
                self.suspect_since.remove(i);
                true
            }
            _ => false,
        }
    }

    /// `id` did not answer at `now`: it becomes suspect (if it was not
    /// already). Returns whether it just became suspect.
    pub fn failed(&mut self, id: &Id, now: u64) -> bool {
        match self.peers.iter().position(|p| p == id) {
            Some(i) if self.suspect_since[i].is_none() => {
                self.suspect_since[i] = Some(now);
                true
            }
            _ => false,
        }
    }

    /// `id` answered (or called us): it is no longer suspect. Returns whether
    /// it was. Does not add an unknown `id`; [`PeerTable::learn`] does.
    pub fn heard_from(&mut self, id: &Id) -> bool {
        match self.peers.iter().position(|p| p == id) {
            Some(i) => self.suspect_since[i].take().is_some(),
            None => false,
        }
    }

    /// Whether `id` is in the table and suspect.
    pub fn is_suspect(&self, id: &Id) -> bool {
        self.peers.iter().position(|p| p == id).is_some_and(|i| self.suspect_since[i].is_some())
    }

    /// Remove every peer that has been suspect for `timeout_ms` or more at
    /// `now`, except pinned ones; append the removed ones to `removed`.
    pub fn expire(&mut self, now: u64, timeout_ms: u64, removed: &mut Vec<Id>) {
        let mut i = self.pinned;
        while i < self.peers.len() {
            match self.suspect_since[i] {
                Some(t) if now.saturating_sub(t) >= timeout_ms => {
                    removed.push(self.peers.remove(i));
                    self.suspect_since.remove(i);
                }
                _ => i += 1,
            }
        }
    }

    /// The peers that are not suspect, in table order.
    pub fn alive(&self) -> impl Iterator<Item = &Id> {
        self.peers.iter().zip(&self.suspect_since).filter(|(_, s)| s.is_none()).map(|(p, _)| p)
    }

    /// The peers, bootstrap ones first.
    pub fn peers(&self) -> &[Id] {
        &self.peers
    }

    /// Number of peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Newcomers refused because the table was full.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
}

impl<Id: Clone + PartialEq> Peers<Id> for PeerTable<Id> {
    fn sample(&self, rng: &mut Rng, me: &Id, k: usize, out: &mut Vec<Id>) {
        let skip = self.peers.iter().position(|p| p == me);
        let mut idx = Vec::with_capacity(k);
        sample_indices(rng, self.peers.len(), skip, k, &mut idx);
        out.extend(idx.into_iter().map(|i| self.peers[i].clone()));
    }

    fn all(&self, me: &Id, out: &mut Vec<Id>) {
        out.extend(self.peers.iter().filter(|p| *p != me).cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_starts_from_bootstrap_and_learns_up_to_its_cap() {
        let mut t = PeerTable::new([7u32], 3);
        assert_eq!(t.peers(), &[7]);
        assert!(t.learn(1) && t.learn(2));
        assert!(!t.learn(2), "no duplicates");
        assert!(!t.learn(3), "cap reached");
        assert_eq!(t.rejected(), 1);
        assert!(!t.forget(&7), "bootstrap peers are pinned");
        assert!(t.forget(&1));
        assert_eq!(t.peers(), &[7, 2]);
    }

    #[test]
    fn failing_peers_turn_suspect_then_are_removed_unless_pinned() {
        let mut t = PeerTable::new([7u32], 10);
        t.learn(1);
        t.learn(2);
        assert!(t.failed(&1, 100));
        assert!(!t.failed(&1, 150), "already suspect: the first failure's time counts");
        assert!(t.failed(&7, 100));
        assert!(t.is_suspect(&1) && !t.is_suspect(&2));
        assert_eq!(t.alive().copied().collect::<Vec<_>>(), vec![2]);
        let mut removed = Vec::new();
        t.expire(1099, 1000, &mut removed);
        assert!(removed.is_empty(), "not yet");
        t.expire(1100, 1000, &mut removed);
        assert_eq!(removed, vec![1]);
        assert_eq!(t.peers(), &[7, 2], "the pinned bootstrap stays, suspect");
        assert!(t.is_suspect(&7));
    }

    #[test]
    fn a_suspect_peer_that_answers_is_alive_again() {
        let mut t = PeerTable::new([], 10);
        t.learn(3u32);
        t.failed(&3, 10);
        assert!(t.heard_from(&3));
        assert!(!t.heard_from(&3));
        let mut removed = Vec::new();
        t.expire(1_000_000, 1000, &mut removed);
        assert!(removed.is_empty() && t.alive().eq([3].iter()));
        assert!(t.forget(&3) && t.learn(3) && !t.is_suspect(&3), "relearned peers start alive");
    }

    #[test]
    fn sampling_never_returns_self() {
        let t = PeerTable::new([1u32, 2, 3], 10);
        let mut rng = Rng::new(4);
        for _ in 0..200 {
            let mut out = Vec::new();
            t.sample(&mut rng, &2, 2, &mut out);
            assert_eq!(out.len(), 2);
            assert!(!out.contains(&2));
        }
    }
}
