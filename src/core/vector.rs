//! A version vector: `origin -> version` for view entries, sorted by origin.
//! The view keeps one for the origins of its hash map (the native node's
//! string identities, or far-off indices); origins with a dense index are
//! sorted by their array already (see `view`).
//!
//! Push-pull anti-entropy compares digests, and a digest lists every origin
//! of a view: with n nodes, each exchange touches n entries. Looking each
//! entry of a received digest up in the view's hash map costs a cache miss
//! per entry once views are big; comparing two lists *sorted by origin* is a
//! linear merge over contiguous memory. [`VersionVector`] keeps that sorted
//! list next to the view, addressed by the view's entry indices:
//!
//! * a known origin's new version is written in place, found through a
//!   small `view index -> position` table (no hashing, no search);
//! * a new origin would cost an O(n) shift to insert in order, and a node
//!   learns n origins, so new origins wait in a side list and are merged in
//!   all at once (sort the few, merge in O(n)) by [`VersionVector::flush`],
//!   which the node calls only when it needs the sorted list: when it sends
//!   or receives a digest;
//! * a removal from the view (rare: a key binding drops an entry) shifts the
//!   view's indices: [`VersionVector::reset`] and the next flush sorts anew.
//!
//! The view stays the source of truth: the side list holds view indices
//! only, and their origins and versions are read from the view at the flush.

use super::version::Version;

/// Position of a view entry that waits for the next flush.
const WAITING: u32 = u32::MAX;

/// The sorted `origin -> version` list of a view, maintained incrementally.
/// See the module documentation.
#[derive(Clone, Debug)]
pub struct VersionVector<Id> {
    /// Strictly increasing by origin.
    sorted: Vec<(Id, Version)>,
    /// `index[p]`: the view index of `sorted[p]`.
    index: Vec<u32>,
    /// `pos[k]`: the position in `sorted` of view index `k`, or `WAITING`.
    pos: Vec<u32>,
    /// View indices added since the last flush.
    fresh: Vec<u32>,
}

impl<Id> Default for VersionVector<Id> {
    fn default() -> Self {
        VersionVector { sorted: Vec::new(), index: Vec::new(), pos: Vec::new(), fresh: Vec::new() }
    }
}

impl<Id: Ord + Clone> VersionVector<Id> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The view appended a new origin at index `k`.
    pub fn add(&mut self, k: usize) {
        if self.pos.len() <= k {
            self.pos.resize(k + 1, WAITING);
        }
        self.pos[k] = WAITING;
        self.fresh.push(k as u32);
    }

    /// The origin at view index `k` has a new `version`. One still waiting
    /// in the side list needs nothing: the flush reads the view.
    pub fn update(&mut self, k: usize, version: Version) {
        if let Some(&p) = self.pos.get(k) {
            if let Some(e) = self.sorted.get_mut(p as usize) {
                e.1 = version;
            }
        }
    }

    /// The view's indices changed (an entry was removed); it now holds
    /// `len` entries. Everything waits for the next flush.
    pub fn reset(&mut self, len: usize) {
        self.sorted.clear();
        self.index.clear();
        self.pos.clear();
        self.pos.resize(len, WAITING);
        self.fresh.clear();
        self.fresh.extend(0..len as u32);
    }

    /// Merge the entries added since the last flush into the sorted list,
    /// reading their origins and versions with `entry_at` (the view's, by
    /// index). O(n + k log k) for k new origins; nothing when there are none.
    pub fn flush(&mut self, entry_at: impl Fn(usize) -> (Id, Version)) {
        if self.fresh.is_empty() {
            return;
        }
        let add = self.take_fresh(&entry_at);
        let first = self.sorted.partition_point(|(o, _)| *o < add[0].0);
        let tail: Vec<(Id, Version)> = self.sorted.drain(first..).collect();
        let tail_index: Vec<u32> = self.index.drain(first..).collect();
        let (mut a, mut b) = (tail.into_iter().zip(tail_index).peekable(), add.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if x.0 .0 < y.0 {
                        a.next()
                    } else {
                        b.next().map(|(o, v, k)| ((o, v), k))
                    }
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next().map(|(o, v, k)| ((o, v), k)),
                (None, None) => break,
            };
            let Some((e, k)) = next else { break };
            self.pos[k as usize] = self.sorted.len() as u32;
            self.sorted.push(e);
            self.index.push(k);
        }
    }

    /// The waiting entries, read from the view, sorted by origin.
    fn take_fresh(&mut self, entry_at: &impl Fn(usize) -> (Id, Version)) -> Vec<(Id, Version, u32)> {
        let mut add: Vec<(Id, Version, u32)> = self
            .fresh
            .drain(..)
            .map(|k| {
                let (o, v) = entry_at(k as usize);
                (o, v, k)
            })
            .collect();
        add.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        add
    }

    /// The sorted list. Entries added since the last [`VersionVector::flush`]
    /// are not in it yet.
    pub fn sorted(&self) -> &[(Id, Version)] {
        &self.sorted
    }

    /// The view index of `sorted()[p]`.
    pub fn view_index(&self, p: usize) -> usize {
        self.index[p] as usize
    }

    /// Whether entries wait to be merged in.
    pub fn needs_flush(&self) -> bool {
        !self.fresh.is_empty()
    }

    /// The whole vector, sorted, as a new list, without flushing (for callers
    /// that cannot mutate): the waiting entries are read with `entry_at`.
    pub fn to_vec(&self, entry_at: impl Fn(usize) -> (Id, Version)) -> Vec<(Id, Version)> {
        if self.fresh.is_empty() {
            return self.sorted.clone();
        }
        let mut add: Vec<(Id, Version)> = self.fresh.iter().map(|&k| entry_at(k as usize)).collect();
        add.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut merged = Vec::with_capacity(self.sorted.len() + add.len());
        merge_into(&mut merged, self.sorted.iter().cloned(), add.into_iter());
        merged
    }
}

/// Append the merge of two lists sorted by origin to `out`. An origin in
/// both (which the vector's own lists never have) is kept once, from `a`.
fn merge_into<Id: Ord>(
    out: &mut Vec<(Id, Version)>,
    a: impl Iterator<Item = (Id, Version)>,
    b: impl Iterator<Item = (Id, Version)>,
) {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    b.next();
                    a.next()
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
}

/// Whether `d` is strictly increasing by origin (sorted, no origin twice).
pub fn is_canonical<Id: Ord>(d: &[(Id, Version)]) -> bool {
    d.windows(2).all(|w| w[0].0 < w[1].0)
}

/// `d` sorted by origin with each origin once, at the highest version
/// listed for it: what a received digest that is not canonical means.
pub fn canonical<Id: Ord + Clone>(d: &[(Id, Version)]) -> Vec<(Id, Version)> {
    let mut v = d.to_vec();
    // by origin, then newest first, so that dedup keeps the newest
    v.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    v.dedup_by(|later, first| later.0 == first.0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn v(c: u64) -> Version {
        Version::new(0, c)
    }

    /// A view as the node keeps it (entries in arrival order, removals
    /// shift) with its version vector alongside.
    #[derive(Default)]
    struct View {
        entries: Vec<(u32, Version)>,
        vv: VersionVector<u32>,
    }

    impl View {
        fn set(&mut self, o: u32, ver: Version) {
            match self.entries.iter().position(|e| e.0 == o) {
                Some(k) => {
                    self.entries[k].1 = ver;
                    self.vv.update(k, ver);
                }
                None => {
                    self.entries.push((o, ver));
                    self.vv.add(self.entries.len() - 1);
                }
            }
        }

        fn remove(&mut self, o: u32) {
            if let Some(k) = self.entries.iter().position(|e| e.0 == o) {
                self.entries.remove(k);
                self.vv.reset(self.entries.len());
            }
        }

        fn expected(&self) -> Vec<(u32, Version)> {
            let mut e = self.entries.clone();
            e.sort();
            e
        }

        fn check(&mut self, step: u64) {
            let expect = self.expected();
            let entries = &self.entries;
            assert_eq!(self.vv.to_vec(|k| entries[k]), expect, "snapshot at step {step}");
            self.vv.flush(|k| entries[k]);
            assert!(!self.vv.needs_flush());
            assert_eq!(self.vv.sorted(), &expect[..], "flushed at step {step}");
            for (p, e) in self.vv.sorted().iter().enumerate() {
                assert_eq!(entries[self.vv.view_index(p)], *e, "view index of position {p}");
            }
        }
    }

    #[test]
    fn the_vector_stays_equal_to_the_view_after_random_inserts_updates_and_removals() {
        let mut rng = Rng::new(7);
        let mut view = View::default();
        for step in 0..20_000u64 {
            let o = rng.below(300) as u32;
            match rng.below(20) {
                0 => view.remove(o),
                _ => view.set(o, v(step)),
            }
            if rng.below(40) == 0 {
                view.check(step);
            }
        }
        view.check(20_000);
        assert!(view.vv.sorted().len() > 200);
    }

    #[test]
    fn a_digest_is_made_canonical_keeping_the_newest_version_of_each_origin() {
        let d = vec![(5u32, v(1)), (2, v(4)), (5, v(3)), (9, v(1)), (2, v(2))];
        assert!(!is_canonical(&d));
        let c = canonical(&d);
        assert_eq!(c, vec![(2, v(4)), (5, v(3)), (9, v(1))]);
        assert!(is_canonical(&c));
        assert!(is_canonical::<u32>(&[]) && is_canonical(&[(1u32, v(1))]));
    }
}
