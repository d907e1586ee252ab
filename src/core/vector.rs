//! The node's version vector: `origin -> version` for every view entry,
//! sorted by origin.
//!
//! Push-pull anti-entropy compares digests, and a digest lists every origin
//! of a view: with n nodes, each exchange touches n entries. Looking each
//! entry of a received digest up in the view's hash map costs a cache miss
//! per entry once views are big; comparing two lists *sorted by origin* is a
//! linear merge over contiguous memory. [`VersionVector`] keeps that sorted
//! list next to the view:
//!
//! * a known origin's new version is written in place (binary search);
//! * a new origin would cost an O(n) shift to insert in order, and a node
//!   learns n origins, so new origins wait in a side list and are merged in
//!   all at once (sort the few, merge in O(n)) by [`VersionVector::flush`],
//!   which the node calls only when it needs the sorted list: when it sends
//!   or receives a digest;
//! * a removal (rare: a key binding drops an entry) shifts.
//!
//! The view stays the source of truth: the side list holds origins only, and
//! their versions are read from the view at the flush.

use super::version::Version;

/// The sorted `origin -> version` list of a view, maintained incrementally.
/// See the module documentation.
#[derive(Clone, Debug)]
pub struct VersionVector<Id> {
    /// Strictly increasing by origin.
    sorted: Vec<(Id, Version)>,
    /// Origins added since the last flush, in arrival order, none of them in `sorted`.
    fresh: Vec<Id>,
    /// The previous sorted list's buffer, reused by the next flush.
    spare: Vec<(Id, Version)>,
}

impl<Id> Default for VersionVector<Id> {
    fn default() -> Self {
        VersionVector { sorted: Vec::new(), fresh: Vec::new(), spare: Vec::new() }
    }
}

impl<Id: Ord + Clone> VersionVector<Id> {
    /// An empty vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// `origin`, absent from the view until now, was added to it.
    pub fn add(&mut self, origin: Id) {
        self.fresh.push(origin);
    }

    /// A known origin's version changed to `version`. An origin still
    /// waiting in the side list needs nothing: the flush reads the view.
    pub fn update(&mut self, origin: &Id, version: Version) {
        if let Ok(i) = self.position(origin) {
            self.sorted[i].1 = version;
        }
    }

    /// `origin` left the view.
    pub fn remove(&mut self, origin: &Id) {
        match self.position(origin) {
            Ok(i) => {
                self.sorted.remove(i);
            }
            Err(_) => self.fresh.retain(|o| o != origin),
        }
    }

    /// Merge the origins added since the last flush into the sorted list,
    /// reading their versions with `version_of` (the view's). O(n + k log k)
    /// for k new origins; nothing when there are none.
    pub fn flush(&mut self, version_of: impl Fn(&Id) -> Option<Version>) {
        if self.fresh.is_empty() {
            return;
        }
        let mut add: Vec<(Id, Version)> = self.fresh.drain(..).filter_map(|o| version_of(&o).map(|v| (o, v))).collect();
        add.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut merged = std::mem::take(&mut self.spare);
        merged.clear();
        merged.reserve(self.sorted.len() + add.len());
        merge_into(&mut merged, self.sorted.drain(..), add.into_iter());
        self.spare = std::mem::replace(&mut self.sorted, merged);
    }

    /// The sorted list. Origins added since the last [`VersionVector::flush`]
    /// are not in it yet.
    pub fn sorted(&self) -> &[(Id, Version)] {
        &self.sorted
    }

    /// Whether origins wait to be merged in.
    pub fn needs_flush(&self) -> bool {
        !self.fresh.is_empty()
    }

    /// The whole vector, sorted, as a new list, without flushing (for callers
    /// that cannot mutate): the waiting origins' versions come from `version_of`.
    pub fn to_vec(&self, version_of: impl Fn(&Id) -> Option<Version>) -> Vec<(Id, Version)> {
        if self.fresh.is_empty() {
            return self.sorted.clone();
        }
        let mut add: Vec<(Id, Version)> =
            self.fresh.iter().filter_map(|o| version_of(o).map(|v| (o.clone(), v))).collect();
        add.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut merged = Vec::with_capacity(self.sorted.len() + add.len());
        merge_into(&mut merged, self.sorted.iter().cloned(), add.into_iter());
        merged
    }

    fn position(&self, origin: &Id) -> Result<usize, usize> {
        self.sorted.binary_search_by(|(o, _)| o.cmp(origin))
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
    use std::collections::BTreeMap;

    fn v(c: u64) -> Version {
        Version::new(0, c)
    }

    #[test]
    fn the_vector_stays_equal_to_the_view_after_random_inserts_updates_and_removals() {
        let mut rng = Rng::new(7);
        let mut view: BTreeMap<u32, Version> = BTreeMap::new();
        let mut vv = VersionVector::new();
        for step in 0..20_000u64 {
            let o = rng.below(300) as u32;
            match rng.below(10) {
                0 => {
                    if view.remove(&o).is_some() {
                        vv.remove(&o);
                    }
                }
                _ => {
                    let ver = v(step);
                    match view.insert(o, ver) {
                        None => vv.add(o),
                        Some(_) => vv.update(&o, ver),
                    }
                }
            }
            if rng.below(50) == 0 {
                let expect: Vec<_> = view.iter().map(|(&o, &v)| (o, v)).collect();
                assert_eq!(vv.to_vec(|o| view.get(o).copied()), expect, "snapshot at step {step}");
                vv.flush(|o| view.get(o).copied());
                assert!(!vv.needs_flush());
                assert_eq!(vv.sorted(), &expect[..], "flushed at step {step}");
            }
        }
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
