//! The simulator's roster: who is in the network, and the uniform
//! membership over it (a [`Membership`] that every simulated node samples
//! from with its own RNG). One copy for all nodes, O(1) join and leave.

use crate::core::{Membership, NoMsg, Peers};
use crate::rng::{sample_indices, Rng};

const NONE: u32 = u32::MAX;

/// The set of member node indices: the uniform membership over them.
#[derive(Clone, Debug, Default)]
pub struct Roster {
    members: Vec<u32>,
    pos: Vec<u32>,
    /// `members[i] == i` for all i (nobody left or joined out of order):
    /// sampling needs no table lookups.
    identity: bool,
}

impl Roster {
    /// Members `0..n`.
    pub fn new(n: u32) -> Self {
        Roster { members: (0..n).collect(), pos: (0..n).collect(), identity: true }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `node` is a member.
    pub fn contains(&self, node: u32) -> bool {
        self.pos.get(node as usize).is_some_and(|&p| p != NONE)
    }

    /// Add `node` (no-op if present).
    pub fn add(&mut self, node: u32) {
        if self.contains(node) {
            return;
        }
        if self.pos.len() <= node as usize {
            self.pos.resize(node as usize + 1, NONE);
        }
        self.identity &= node as usize == self.members.len();
        self.pos[node as usize] = self.members.len() as u32;
        self.members.push(node);
    }

    /// Remove `node` (no-op if absent).
    pub fn remove(&mut self, node: u32) {
        if !self.contains(node) {
            return;
        }
        let p = self.pos[node as usize] as usize;
        self.identity &= p + 1 == self.members.len();
        self.members.swap_remove(p);
        if let Some(&moved) = self.members.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        self.pos[node as usize] = NONE;
    }

    /// Whether member `k` is node `k` for every `k` (nobody left or joined
    /// out of order): sampling then needs no table lookups.
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// The members, in internal order.
    pub fn members(&self) -> &[u32] {
        &self.members
    }
}

impl Roster {
    /// One member other than `me`, uniformly, with exactly the draws
    /// [`Peers::sample`] makes for `k == 1` (`None`: nobody else to pick).
    /// The hot path of every simulation: no allocation, and no table lookup
    /// while membership is the identity.
    #[inline(always)]
    pub fn sample_one(&self, rng: &mut Rng, me: u32) -> Option<u32> {
        let len = self.members.len();
        if self.identity && (me as usize) < len && len > 1 {
            let r = rng.below(len as u64 - 1) as u32;
            return Some(if r >= me { r + 1 } else { r });
        }
        self.sample_one_lookup(rng, me)
    }

    /// [`Roster::sample_one`] through the tables.
    #[inline(never)]
    fn sample_one_lookup(&self, rng: &mut Rng, me: u32) -> Option<u32> {
        let skip = self.pos.get(me as usize).copied().filter(|&p| p != NONE).map(|p| p as usize);
        let eligible = self.members.len() - usize::from(skip.is_some());
        if eligible == 0 {
            return None;
        }
        let r = rng.below(eligible as u64) as usize;
        let r = match skip {
            Some(s) if r >= s => r + 1,
            _ => r,
        };
        Some(self.members[r])
    }
}

impl Peers<u32> for Roster {
    fn sample(&self, rng: &mut Rng, me: &u32, k: usize, out: &mut Vec<u32>) {
        if k == 1 {
            out.extend(self.sample_one(rng, *me));
            return;
        }
        let skip = self.pos.get(*me as usize).copied().filter(|&p| p != NONE).map(|p| p as usize);
        let mut idx = Vec::with_capacity(k);
        sample_indices(rng, self.members.len(), skip, k, &mut idx);
        out.extend(idx.into_iter().map(|i| self.members[i]));
    }

    fn all(&self, me: &u32, out: &mut Vec<u32>) {
        out.extend(self.members.iter().copied().filter(|m| m != me));
    }
}

/// Uniform over everyone in the network: nothing to learn, no messages.
impl Membership<u32> for Roster {
    type Msg = NoMsg;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_leave_keep_sampling_consistent() {
        let mut m = Roster::new(5);
        m.remove(2);
        m.add(7);
        m.remove(0);
        let mut got: Vec<u32> = m.members().to_vec();
        got.sort();
        assert_eq!(got, vec![1, 3, 4, 7]);
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let mut out = Vec::new();
            m.sample(&mut rng, &3, 1, &mut out);
            assert!(out.len() == 1 && out[0] != 3 && got.contains(&out[0]));
            out.clear();
            m.sample(&mut rng, &3, 2, &mut out);
            assert!(out.len() == 2 && out[0] != out[1] && !out.contains(&3));
        }
    }

    #[test]
    fn sampling_is_uniform_over_others() {
        let m = Roster::new(4);
        let mut rng = Rng::new(2);
        let mut counts = [0; 4];
        for _ in 0..30_000 {
            let mut out = Vec::new();
            m.sample(&mut rng, &1, 1, &mut out);
            counts[out[0] as usize] += 1;
        }
        assert_eq!(counts[1], 0);
        for c in [counts[0], counts[2], counts[3]] {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
