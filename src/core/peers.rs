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
#[derive(Clone, Debug)]
pub struct PeerTable<Id> {
    peers: Vec<Id>,
    pinned: usize,
    cap: usize,
    rejected: u64,
}

impl<Id: Clone + PartialEq> PeerTable<Id> {
    /// A table holding at most `cap` peers, starting with `bootstrap` (pinned).
    pub fn new(bootstrap: impl IntoIterator<Item = Id>, cap: usize) -> Self {
        let mut t = PeerTable { peers: Vec::new(), pinned: 0, cap: cap.max(1), rejected: 0 };
        for b in bootstrap {
            if t.learn(b) {
                t.pinned += 1;
            }
        }
        t
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
        true
    }

    /// Forget `id` unless it is a bootstrap peer. Returns whether it was removed.
    pub fn forget(&mut self, id: &Id) -> bool {
        match self.peers.iter().position(|p| p == id) {
            Some(i) if i >= self.pinned => {
                self.peers.remove(i);
                true
            }
            _ => false,
        }
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
