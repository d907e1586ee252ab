//! Versions and the merge rule.
//!
//! Every update an origin makes is stamped with a [`Version`]: an `epoch`
//! (bumped when a node restarts without its state) and a `counter` (bumped at
//! every new favorite). Versions are ordered lexicographically by
//! `(epoch, counter)`, and a view entry is only ever replaced by a *strictly*
//! newer version. That single rule makes delivery order irrelevant:
//! duplicates and stale messages are no-ops.

use serde::{Deserialize, Serialize};

/// The largest counter a version may carry: 2^53 - 1, the largest integer a
/// JavaScript number holds exactly, so that browsers can read every version.
pub const MAX_COUNTER: u64 = (1 << 53) - 1;

/// An update's position in its origin's history, ordered by `(epoch, counter)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Incarnation of the origin; a node that lost its state comes back with a higher epoch.
    pub epoch: u32,
    /// The course's version number: 1 for the first favorite, +1 for each re-sample.
    pub counter: u64,
}

impl Version {
    /// The version `counter` of incarnation `epoch`.
    pub const fn new(epoch: u32, counter: u64) -> Self {
        Version { epoch, counter }
    }

    /// Whether a message may carry this version (the counter fits a JS number).
    pub fn is_valid(&self) -> bool {
        self.counter <= MAX_COUNTER
    }

    /// The next version of the same incarnation.
    pub fn next(self) -> Self {
        Version { epoch: self.epoch, counter: self.counter + 1 }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.epoch == 0 {
            write!(f, "v{}", self.counter)
        } else {
            write!(f, "e{}.v{}", self.epoch, self.counter)
        }
    }
}

/// An origin's version packed for arrays indexed by origin (a view's dense
/// array, and the digest copied from it): 16 bytes, four to a cache line (a
/// `Version` field would take 16 alone, with its padding), with a flag for
/// "no entry". Two cells are equal exactly when both are empty or both hold
/// the same version, so a whole array compares by plain equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    counter: u64,
    /// The epoch in the low 32 bits, and bit 32 set if the origin has an
    /// entry (else the cell is all zero): two words, so that comparing
    /// runs of cells is plain word arithmetic the compiler vectorizes.
    tag: u64,
}

/// The cell of an origin without an entry.
pub(crate) const EMPTY: Cell = Cell { counter: 0, tag: 0 };

/// `Cell::tag`'s "has an entry" bit.
const PRESENT: u64 = 1 << 32;

impl Cell {
    /// The cell of an origin at `version`.
    #[inline]
    pub(crate) fn new(version: Version) -> Self {
        Cell { counter: version.counter, tag: PRESENT | u64::from(version.epoch) }
    }

    /// The version, if the origin has an entry.
    #[inline]
    pub(crate) fn get(&self) -> Option<Version> {
        self.is_present().then(|| self.version())
    }

    /// Whether the origin has an entry.
    #[inline]
    pub(crate) fn is_present(&self) -> bool {
        self.tag & PRESENT != 0
    }

    /// Zero exactly when the two cells are equal: branch-free, so that a
    /// run of cells compares as one reduction.
    #[inline]
    pub(crate) fn differs(&self, other: &Cell) -> u64 {
        (self.counter ^ other.counter) | (self.tag ^ other.tag)
    }

    /// The version (zero for an empty cell).
    #[inline]
    pub(crate) fn version(&self) -> Version {
        Version::new(self.tag as u32, self.counter)
    }
}

/// The merge rule: does an incoming `candidate` replace what we `have`?
/// Only a strictly newer version does; equal and older ones are duplicates.
#[inline]
pub fn supersedes(candidate: Version, have: Option<Version>) -> bool {
    match have {
        None => true,
        Some(h) => candidate > h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_dominates_counter() {
        assert!(Version::new(1, 0) > Version::new(0, 1_000_000));
        assert!(Version::new(0, 2) > Version::new(0, 1));
    }

    #[test]
    fn only_strictly_newer_supersedes() {
        let v = Version::new(0, 5);
        assert!(supersedes(v, None));
        assert!(supersedes(v, Some(Version::new(0, 4))));
        assert!(!supersedes(v, Some(v)));
        assert!(!supersedes(v, Some(Version::new(0, 6))));
    }

    #[test]
    fn counters_past_js_safe_range_are_invalid() {
        assert!(Version::new(0, MAX_COUNTER).is_valid());
        assert!(!Version::new(0, MAX_COUNTER + 1).is_valid());
    }
}
