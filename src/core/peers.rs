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
