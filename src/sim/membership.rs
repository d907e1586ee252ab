//! The simulator's roster: who is in the network, and the uniform
//! membership over it (a [`Membership`] that every simulated node samples
//! from with its own RNG). One copy for all nodes, O(1) join and leave.

use crate::core::{Membership, NoMsg, Peers};
use crate::rng::{sample_indices, Rng};

const NONE: u32 = u32::MAX;

/// The set of member node indices: the uniform membership over them.
///
/// A network's roster starts as `0..n` and usually stays so: its tables
/// (each member's index and each index's member, 8 bytes a node) are made
/// only when someone leaves or joins out of order. Until then they take no
/// memory: a million-node run in the page writes 8 MB less, and in this
/// page's wasm the first write to fresh memory costs about a millisecond a
/// megabyte (BENCHMARKS.md, "what the page's first million-node run pays").
#[derive(Clone, Debug, Default)]
pub struct Roster {
    members: Vec<u32>,
    pos: Vec<u32>,
    /// Members `0..implicit`, with both tables empty (0 once they are made).
    implicit: u32,
    /// `members[i] == i` for all i (nobody left or joined out of order):
    /// sampling needs no table lookups.
    identity: bool,
}

impl Roster {
    /// Members `0..n`.
    pub fn new(n: u32) -> Self {
        Roster { members: Vec::new(), pos: Vec::new(), implicit: n, identity: true }
    }

    /// The tables, made for the implicit members `0..implicit`.
    fn make_tables(&mut self) {
        if self.implicit > 0 {
            self.members = (0..self.implicit).collect();
            self.pos = (0..self.implicit).collect();
            self.implicit = 0;
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len() + self.implicit as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where `node` is among the members, if it is one.
    fn position(&self, node: u32) -> Option<usize> {
        if node < self.implicit {
            return Some(node as usize);
        }
        self.pos.get(node as usize).copied().filter(|&p| p != NONE).map(|p| p as usize)
    }

    /// The member at position `k`.
    fn at(&self, k: usize) -> u32 {
        if self.implicit > 0 {
            k as u32
        } else {
            self.members[k]
        }
    }

    /// Whether `node` is a member.
    pub fn contains(&self, node: u32) -> bool {
        self.position(node).is_some()
    }

    /// Add `node` (no-op if present).
    pub fn add(&mut self, node: u32) {
        if self.contains(node) {
            return;
        }
        self.make_tables();
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
        self.make_tables();
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
    pub fn members(&self) -> Vec<u32> {
        (0..self.len()).map(|k| self.at(k)).collect()
    }
}

impl Roster {
    /// One member other than `me`, uniformly, with exactly the draws
    /// [`Peers::sample`] makes for `k == 1` (`None`: nobody else to pick).
    /// The hot path of every simulation: no allocation, and no table lookup
    /// while membership is the identity.
    #[inline(always)]
    pub fn sample_one(&self, rng: &mut Rng, me: u32) -> Option<u32> {
        let len = self.len();
        if self.identity && (me as usize) < len && len > 1 {
            let r = rng.below(len as u64 - 1) as u32;
            return Some(if r >= me { r + 1 } else { r });
        }
        self.sample_one_lookup(rng, me)
    }

    /// [`Roster::sample_one`] through the tables.
    #[inline(never)]
    fn sample_one_lookup(&self, rng: &mut Rng, me: u32) -> Option<u32> {
        let skip = self.position(me);
        let eligible = self.len() - usize::from(skip.is_some());
        if eligible == 0 {
            return None;
        }
        let r = rng.below(eligible as u64) as usize;
        let r = match skip {
            Some(s) if r >= s => r + 1,
            _ => r,
        };
        Some(self.at(r))
    }
}

impl Peers<u32> for Roster {
    fn sample(&self, rng: &mut Rng, me: &u32, k: usize, out: &mut Vec<u32>) {
        if k == 1 {
            out.extend(self.sample_one(rng, *me));
            return;
        }
        let skip = self.position(*me);
        let mut idx = Vec::with_capacity(k);
        sample_indices(rng, self.len(), skip, k, &mut idx);
        out.extend(idx.into_iter().map(|i| self.at(i)));
    }

    fn all(&self, me: &u32, out: &mut Vec<u32>) {
        out.extend((0..self.len()).map(|k| self.at(k)).filter(|m| m != me));
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
        let mut got: Vec<u32> = m.members();
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
    fn a_roster_without_tables_draws_as_one_with_them_and_makes_them_at_the_first_change() {
        // `new` makes no tables; one grown by adds in order has them: the
        // same members, the same draws, for every way of sampling
        let lazy = Roster::new(50);
        let mut made = Roster::new(0);
        (0..50).for_each(|i| made.add(i));
        assert!(lazy.members.is_empty() && made.members.len() == 50 && made.is_identity());
        assert_eq!((lazy.len(), lazy.members()), (made.len(), made.members()));
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        for me in [0, 7, 49, 50, 1_000] {
            assert_eq!(lazy.contains(me), made.contains(me));
            for k in [1, 2, 5] {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                lazy.sample(&mut a, &me, k, &mut x);
                made.sample(&mut b, &me, k, &mut y);
                assert_eq!(x, y, "me {me}, k {k}");
            }
            assert_eq!(lazy.sample_one_lookup(&mut a, me), made.sample_one_lookup(&mut b, me));
            let (mut x, mut y) = (Vec::new(), Vec::new());
            lazy.all(&me, &mut x);
            made.all(&me, &mut y);
            assert_eq!(x, y);
        }
        // a change makes the tables, and both go on alike
        let (mut lazy, mut made) = (lazy, made);
        lazy.remove(3);
        made.remove(3);
        lazy.add(60);
        made.add(60);
        assert!(!lazy.members.is_empty());
        assert_eq!((lazy.members(), lazy.is_identity()), (made.members(), made.is_identity()));
        assert_eq!(lazy.sample_one(&mut a, 5), made.sample_one(&mut b, 5));
        assert_eq!(Roster::new(0).len(), 0);
        assert!(Roster::new(0).is_empty() && !Roster::new(1).is_empty());
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
