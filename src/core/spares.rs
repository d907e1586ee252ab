//! Buffers of messages read and done with, kept for the next messages made.
//!
//! A simulated run moves hundreds of thousands of lists between nodes: the
//! digests (a copy of the sender's version column, n cells), the deltas
//! that answer them (the updates the other side lacks) and the requests
//! (the versions this side lacks). Each list is made by one node and read
//! by another, and with the simulator's threads the two are often on
//! different threads: the reader's `free` then lands in the maker's
//! allocator arena, under its lock, and the maker's next `malloc` finds its
//! own cache empty. Keeping the emptied buffers in the [`Out`] the reader
//! was handed, and making the next lists in them, ends both: once a run is
//! under way its messages allocate nothing.
//!
//! [`Out`]: super::Out

use super::message::Update;
use super::version::{Cell, Version};

/// Buffers a [`Spares`] keeps of each kind unless told otherwise.
pub(crate) const CAP: usize = 4;

/// Update and request lists longer than this are freed, not kept: a first
/// exchange between two nodes lists a whole view, and a few thousand
/// spares of that size would hold far more memory than they save.
pub(crate) const LIST_KEPT: usize = 1024;

/// Spare buffers by kind, each emptied; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Spares<Id> {
    /// Digest columns.
    columns: Vec<Vec<Cell>>,
    /// Update lists (deltas, pushes).
    updates: Vec<Vec<Update<Id>>>,
    /// `(origin, version)` lists (requests).
    pairs: Vec<Vec<(Id, Version)>>,
    /// How many buffers of each kind to keep.
    cap: usize,
}

impl<Id> Default for Spares<Id> {
    fn default() -> Self {
        Spares { columns: Vec::new(), updates: Vec::new(), pairs: Vec::new(), cap: CAP }
    }
}

impl<Id> Spares<Id> {
    /// Keep up to `cap` buffers of each kind, freeing any past it now.
    pub(crate) fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
        self.columns.truncate(cap);
        self.updates.truncate(cap);
        self.pairs.truncate(cap);
    }

    /// How many buffers are kept, of all kinds.
    pub(crate) fn len(&self) -> usize {
        self.columns.len() + self.updates.len() + self.pairs.len()
    }

    /// An empty digest column to fill.
    pub(crate) fn column(&mut self) -> Vec<Cell> {
        self.columns.pop().unwrap_or_default()
    }

    /// An empty update list to fill.
    pub(crate) fn updates(&mut self) -> Vec<Update<Id>> {
        self.updates.pop().unwrap_or_default()
    }

    /// An empty `(origin, version)` list to fill.
    pub(crate) fn pairs(&mut self) -> Vec<(Id, Version)> {
        self.pairs.pop().unwrap_or_default()
    }

    /// Keep `column`, a digest's, if there is room (of any length: a
    /// digest lists the whole view, and the next one will too).
    pub(crate) fn give_column(&mut self, column: Vec<Cell>) {
        keep(&mut self.columns, self.cap, usize::MAX, column);
    }

    /// Keep `list` if there is room and it is not long (its updates are
    /// dropped now).
    pub(crate) fn give_updates(&mut self, list: Vec<Update<Id>>) {
        keep(&mut self.updates, self.cap, LIST_KEPT, list);
    }

    /// Keep `list` if there is room and it is not long.
    pub(crate) fn give_pairs(&mut self, list: Vec<(Id, Version)>) {
        keep(&mut self.pairs, self.cap, LIST_KEPT, list);
    }
}

/// Add `buf`, emptied, to `kept` if fewer than `cap` are kept and it holds
/// memory, at most `longest` items of it; else free it.
fn keep<T>(kept: &mut Vec<Vec<T>>, cap: usize, longest: usize, mut buf: Vec<T>) {
    if buf.capacity() > 0 && buf.capacity() <= longest && kept.len() < cap {
        buf.clear();
        kept.push(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_kept_up_to_the_cap_and_come_back_empty() {
        let mut s: Spares<u32> = Spares::default();
        s.set_cap(2);
        for _ in 0..3 {
            s.give_pairs(vec![(1, Version::new(0, 1)); 10]);
        }
        assert_eq!(s.len(), 2, "the third list is freed");
        let p = s.pairs();
        assert!(p.is_empty() && p.capacity() >= 10, "a kept list comes back empty, its memory with it");
        s.give_pairs(Vec::new());
        assert_eq!(s.len(), 1, "a list without memory is not worth keeping");
        s.give_pairs(Vec::with_capacity(LIST_KEPT + 1));
        assert_eq!(s.len(), 1, "a long list is freed");
        s.give_column(Vec::with_capacity(LIST_KEPT * 4));
        assert_eq!(s.len(), 2, "a column is kept whatever its length");
        s.set_cap(0);
        assert_eq!(s.len(), 0, "a lower cap frees the spares past it");
        assert_eq!(s.updates().capacity(), 0, "with none kept, a new list is made");
    }
}
