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
/// array, and the digest copied from it): one word, eight to a cache line,
/// so that copying and comparing those arrays moves as little memory as
/// possible. Zero is "no entry"; a version whose epoch is below
/// [`Cell::EPOCHS`] (every simulated node's, and a counter up to
/// [`MAX_COUNTER`]) is stored as `1 + (epoch << 53 | counter)`, which
/// orders as the version does; any other version is stored as the marker
/// [`Cell::WIDE`], and its holder keeps the version elsewhere (a view, in
/// the entry). Two cells that are not wide are equal exactly when both
/// are empty or both hold the same version, so arrays of them compare by
/// plain equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell(u64);

/// The cell of an origin without an entry.
pub(crate) const EMPTY: Cell = Cell(0);

/// Bits of a packed counter (enough for [`MAX_COUNTER`]).
const COUNTER_BITS: u32 = 53;

impl Cell {
    /// Epochs below this are packed in the cell.
    pub(crate) const EPOCHS: u32 = 1 << (63 - COUNTER_BITS);

    /// The cell of a version that does not fit one: its holder keeps it.
    pub(crate) const WIDE: Cell = Cell(u64::MAX);

    /// The cell of an origin at `version` ([`Cell::WIDE`] if it does not fit).
    #[inline]
    pub(crate) fn new(version: Version) -> Self {
        if version.epoch < Self::EPOCHS && version.counter <= MAX_COUNTER {
            Cell(1 + ((version.epoch as u64) << COUNTER_BITS | version.counter))
        } else {
            Self::WIDE
        }
    }

    /// Whether the origin has an entry.
    #[inline]
    pub(crate) fn is_present(&self) -> bool {
        self.0 != 0
    }

    /// Whether the version is kept elsewhere.
    #[inline]
    pub(crate) fn is_wide(&self) -> bool {
        *self == Self::WIDE
    }

    /// The version, if the origin has an entry and the cell holds it.
    #[inline]
    pub(crate) fn get(&self) -> Option<Version> {
        (self.is_present() && !self.is_wide()).then(|| self.version())
    }

    /// Zero exactly when the two cells are equal: branch-free, so that a
    /// run of cells compares as one reduction.
    #[inline]
    pub(crate) fn differs(&self, other: &Cell) -> u64 {
        self.0 ^ other.0
    }

    /// The version of a cell that holds one (present, not wide).
    #[inline]
    pub(crate) fn version(&self) -> Version {
        debug_assert!(self.is_present() && !self.is_wide());
        let packed = self.0 - 1;
        Version::new((packed >> COUNTER_BITS) as u32, packed & MAX_COUNTER)
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
    fn cells_hold_versions_in_order_and_mark_the_ones_that_do_not_fit() {
        let fits = [
            Version::new(0, 0),
            Version::new(0, 1),
            Version::new(0, MAX_COUNTER),
            Version::new(1, 0),
            Version::new(Cell::EPOCHS - 1, 7),
            Version::new(Cell::EPOCHS - 1, MAX_COUNTER),
        ];
        for (i, &v) in fits.iter().enumerate() {
            let c = Cell::new(v);
            assert!(c.is_present() && !c.is_wide());
            assert_eq!(c.get(), Some(v));
            if let Some(&next) = fits.get(i + 1) {
                assert!(c.0 < Cell::new(next).0, "packed cells order as versions do");
            }
        }
        for v in [Version::new(Cell::EPOCHS, 0), Version::new(u32::MAX, 1), Version::new(0, MAX_COUNTER + 1)] {
            assert_eq!(Cell::new(v), Cell::WIDE);
            assert!(Cell::WIDE.is_present() && Cell::WIDE.get().is_none());
        }
        assert!(!EMPTY.is_present() && EMPTY.get().is_none());
    }

    #[test]
    fn counters_past_js_safe_range_are_invalid() {
        assert!(Version::new(0, MAX_COUNTER).is_valid());
        assert!(!Version::new(0, MAX_COUNTER + 1).is_valid());
    }
}
