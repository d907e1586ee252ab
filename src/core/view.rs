//! The node's view: what it knows about each origin, stored for cheap
//! lookups and cheap sorted walks.
//!
//! A node with full membership knows every origin, so a network of n nodes
//! holds n^2 entries, and every update that spreads is looked up in n views.
//! At a few thousand nodes the views are far larger than the caches and each
//! lookup is a cache miss or several; the storage is laid out to touch as
//! little memory per lookup as possible, and to let a batch of lookups
//! overlap their misses:
//!
//! * an origin with a dense index ([`NodeId::dense`]: the simulator's
//!   integer identities) has its entry in an array indexed by that index,
//!   with a second array beside it of 8-byte *cells* holding a copy of
//!   the version (or, for a version too wide to pack, a mark that sends
//!   readers to the entry): the merge rule reads one cell, no hashing, a duplicate
//!   never touches the entry, and the entry's address needs no lookup (so
//!   the cell and the entry of an update can be fetched at once); the
//!   cells are in origin order, so the view's digest is a copy of them (a
//!   [`Digest`] column: no origin stored), and comparing such a digest
//!   with the view is a walk of two arrays side by side, eight cells (a
//!   cache line) at a time, that stops only where cells differ; a view
//!   holding a wide cell lists its pairs in its digests and compares
//!   pair by pair (simulated nodes' versions are never wide);
//! * every other origin (the native node's string identities, or dense
//!   indices far beyond what the view holds) has its entry in a plain
//!   vector, found through a hash map, with its versions kept sorted by
//!   origin in a [`VersionVector`];
//! * a list of *positions* keeps the order in which the node learned of
//!   each origin (what [`View::iter`] yields). A position names an entry
//!   in either place ([`View::at`]); it stays valid until the view next
//!   gains or loses an origin.
//!
//! The array covers dense indices `0..dense.len()` and grows only while the
//! view is dense enough to pay for it (an index at most about twice the
//! number of entries), so that a node that knows one origin named 1,000,000
//! does not allocate a million cells. The invariant: an origin with a dense
//! index below `dense.len()` is in the array, every other origin is in the
//! map. Dense indices follow the identities' order, so the sorted walk is
//! the array's origins followed by the map's.

use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::message::{map_entry_len, version_len, Digest, NodeId, Record};
use super::node::Entry;
use super::vector::VersionVector;
use super::version::{Cell, Version, EMPTY};
use crate::hint::{prefetch, prefetch_all};

/// Positions from here on name entries of the map's vector.
const LOOSE: usize = 1 << 31;

/// The array grows to cover a dense index `d` only if `d < SPAN * len + MIN`.
const SPAN: usize = 2;
const MIN: usize = 64;

/// Where an origin's entry is: its position, and its version (read
/// without touching the entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The entry's position ([`View::at`]).
    pub pos: usize,
    /// The entry's version.
    pub version: Version,
}

/// What a node knows, by origin. See the module documentation.
#[derive(Clone, Debug)]
pub struct View<Id> {
    /// By dense index: that origin's version, or `EMPTY` (or
    /// [`Cell::WIDE`]: the version is the entry's).
    dense: Vec<Cell>,
    /// How many cells of `dense` are wide (nearly always none: the
    /// digests and comparisons that read cells alone then do not apply).
    wide: usize,
    /// One past the highest dense index with an entry (the cells from there
    /// on are empty: digests and comparisons stop there).
    end: usize,
    /// By dense index, beside `dense`: that origin's entry.
    entries: Vec<Option<(Id, Entry)>>,
    /// The entries of the origins not in the array (positions `LOOSE + i`).
    loose: Vec<(Id, Entry)>,
    /// Where in `loose` each origin not in the array is.
    sparse: HashMap<Id, u32, FixedState>,
    /// The versions of the origins in `loose`, sorted by origin.
    vv: VersionVector<Id>,
    /// Every entry's position, in the order the origins were learned.
    order: Vec<u32>,
    /// The lowest dense index among the origins in `sparse` (`usize::MAX`
    /// if none has one): the array takes it in as soon as the view is dense
    /// enough, so that a view that fills up ends with an empty map.
    sparse_low: usize,
    /// The digest's size on the wire, kept up to date as entries change
    /// (the sum of [`map_entry_len`] over the entries).
    digest_sum: usize,
}

impl<Id: NodeId> View<Id> {
    /// An empty view; `hash_seed` keys its hash map (take it from the node's RNG).
    pub fn new(hash_seed: u64) -> Self {
        View {
            dense: Vec::new(),
            wide: 0,
            end: 0,
            entries: Vec::new(),
            loose: Vec::new(),
            sparse: HashMap::with_hasher(FixedState::with_seed(hash_seed)),
            vv: VersionVector::new(),
            order: Vec::new(),
            sparse_low: usize::MAX,
            digest_sum: 0,
        }
    }

    /// Number of origins known.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it knows no origin.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// `origin`'s cell in the array, if the array covers it (else the
    /// origin belongs to the map).
    #[inline]
    fn cell_of(&self, origin: &Id) -> Option<usize> {
        origin.dense().filter(|&d| d < self.dense.len())
    }

    /// The version in the array's cell `d` (read from the entry if the
    /// cell is wide), if that origin has an entry.
    #[inline]
    fn cell_version(&self, d: usize) -> Option<Version> {
        let c = self.dense[d];
        if c.is_wide() {
            self.entries[d].as_ref().map(|(_, e)| e.version)
        } else {
            c.get()
        }
    }

    /// Set the array's cell `d`, keeping count of the wide ones.
    #[inline]
    fn set_cell(&mut self, d: usize, cell: Cell) {
        self.wide = self.wide + usize::from(cell.is_wide()) - usize::from(self.dense[d].is_wide());
        self.dense[d] = cell;
    }

    /// Where `origin`'s entry is, if it has one.
    #[inline]
    pub fn find(&self, origin: &Id) -> Option<Found> {
        match self.cell_of(origin) {
            Some(d) => self.cell_version(d).map(|version| Found { pos: d, version }),
            None => {
                let i = *self.sparse.get(origin)? as usize;
                Some(Found { pos: LOOSE + i, version: self.loose[i].1.version })
            }
        }
    }

    /// Start loading `origin`'s cell and entry (whole: an entry can
    /// straddle two cache lines). An entry of the array needs no lookup, so
    /// both loads go at once; a loop over a batch of updates calls this a
    /// few items ahead so that their cache misses overlap instead of
    /// waiting for each in turn. A hint: it changes nothing.
    #[inline]
    pub fn warm(&self, origin: &Id) {
        if !crate::hint::ENABLED {
            return;
        }
        match self.cell_of(origin) {
            Some(d) => {
                prefetch(&self.dense[d]);
                prefetch_all(&self.entries[d]);
            }
            None => {
                if let Some(&i) = self.sparse.get(origin) {
                    prefetch_all(&self.loose[i as usize]);
                }
            }
        }
    }

    /// Start loading the record `origin`'s entry holds (it reads the
    /// entry: warm that first, a few lookups earlier).
    #[inline]
    pub fn warm_record(&self, origin: &Id) {
        if !crate::hint::ENABLED {
            return;
        }
        let entry = match self.cell_of(origin) {
            Some(d) => self.entries[d].as_ref(),
            None => self.sparse.get(origin).map(|&i| &self.loose[i as usize]),
        };
        if let Some((_, e)) = entry {
            prefetch(e.record().as_ref());
        }
    }

    /// Start loading the entry at position `pos` (a hint, as [`View::warm`]).
    #[inline]
    pub fn warm_at(&self, pos: usize) {
        if !crate::hint::ENABLED {
            return;
        }
        match pos.checked_sub(LOOSE) {
            None => prefetch_all(&self.entries[pos]),
            Some(i) => prefetch_all(&self.loose[i]),
        }
    }

    /// Start loading the record the entry at position `pos` holds.
    #[inline]
    pub fn warm_record_at(&self, pos: usize) {
        if !crate::hint::ENABLED {
            return;
        }
        prefetch(self.at(pos).1.record().as_ref());
    }

    /// Load, now, what a batch will touch: the cells and entries of the
    /// items' origins, the records those entries hold, and each item's
    /// own record (`own`). For targets without a prefetch hint (wasm32),
    /// where this is how a batch's cache misses overlap: these loops do
    /// nothing but independent loads, so the processor has many of them
    /// in flight at once, and the batch's work then finds them in the
    /// cache (its own loop is far too long for the processor to run ahead
    /// into the next item's loads). Nothing changes.
    pub fn touch<T>(&self, items: &[T], origin: impl Fn(&T) -> &Id, own: impl Fn(&T) -> Option<&Record>) {
        let mut acc = 0u64;
        for t in items {
            if let Some(d) = self.cell_of(origin(t)) {
                acc ^= self.dense[d].differs(&EMPTY);
                acc ^= self.entries[d].as_ref().map_or(0, |(_, e)| u64::from(e.ttl));
            }
            acc ^= own(t).map_or(0, |r| r.version.counter);
        }
        // the records held, whose reference counts the batch will change
        for t in items {
            if let Some((_, e)) = self.cell_of(origin(t)).and_then(|d| self.entries[d].as_ref()) {
                acc ^= std::sync::Arc::strong_count(e.record()) as u64;
            }
        }
        std::hint::black_box(acc);
    }

    /// [`View::touch`] for the entries at positions `positions` and their records.
    pub fn touch_at(&self, positions: &[usize]) {
        let mut acc = 0u64;
        for &pos in positions {
            acc ^= u64::from(self.at(pos).1.ttl);
        }
        for &pos in positions {
            acc ^= std::sync::Arc::strong_count(self.at(pos).1.record()) as u64;
        }
        std::hint::black_box(acc);
    }

    /// `origin`'s entry.
    pub fn get(&self, origin: &Id) -> Option<&Entry> {
        self.find(origin).map(|f| self.at(f.pos).1)
    }

    /// The origin and entry at position `pos` (from [`View::find`],
    /// [`View::sorted`] or [`View::diff`] since the view last gained or lost
    /// an origin).
    pub fn at(&self, pos: usize) -> (&Id, &Entry) {
        let (o, e) = match pos.checked_sub(LOOSE) {
            None => self.entries[pos].as_ref().expect("a position names an entry"),
            Some(i) => &self.loose[i],
        };
        (o, e)
    }

    /// The entry at position `pos`, to change anything but its version
    /// (which [`View::put`] alone writes, keeping its copies in step).
    pub fn at_mut(&mut self, pos: usize) -> &mut Entry {
        match pos.checked_sub(LOOSE) {
            None => &mut self.entries[pos].as_mut().expect("a position names an entry").1,
            Some(i) => &mut self.loose[i].1,
        }
    }

    /// Every origin and entry, in the order the origins were learned.
    pub fn iter(&self) -> impl Iterator<Item = (&Id, &Entry)> {
        self.order.iter().map(|&p| self.at(p as usize))
    }

    /// Record `entry` as `origin`'s; `at` is where it is, if the caller just
    /// found it. Returns the version it replaced.
    #[inline]
    pub fn put(&mut self, at: Option<Found>, origin: Id, entry: Entry) -> Option<Version> {
        let version = entry.version;
        let Some(f) = at.or_else(|| self.find(&origin)) else {
            self.insert(origin, entry);
            return None;
        };
        // the version from the cell: the replaced record need not be read
        let previous = f.version;
        *self.at_mut(f.pos) = entry;
        match f.pos.checked_sub(LOOSE) {
            None => self.set_cell(f.pos, Cell::new(version)),
            Some(i) => self.vv.update(i, version),
        }
        // the same origin: only the version's digits can change
        self.digest_sum = self.digest_sum + version_len(version) - version_len(previous);
        Some(previous)
    }

    /// [`View::put`] of an origin not known yet: once per origin, kept out
    /// of line so that replacing an entry (nearly every put) stays small.
    #[inline(never)]
    fn insert(&mut self, origin: Id, entry: Entry) {
        let version = entry.version;
        self.digest_sum += map_entry_len(&origin, version);
        match self.cell_of(&origin) {
            Some(d) => {
                self.set_cell(d, Cell::new(version));
                self.end = self.end.max(d + 1);
                self.entries[d] = Some((origin, entry));
                self.order.push(d as u32);
            }
            None => {
                let i = self.loose.len();
                self.sparse_low = self.sparse_low.min(origin.dense().unwrap_or(usize::MAX));
                self.sparse.insert(origin.clone(), i as u32);
                self.loose.push((origin, entry));
                self.vv.add(i);
                self.order.push((LOOSE + i) as u32);
            }
        }
        // one more entry: the array may now grow to take in the map's lowest
        // origin; it at least doubles, so that it grows a few times in all
        if self.sparse_low != usize::MAX {
            let len = (2 * self.dense.len()).max(self.sparse_low + 1);
            if len <= SPAN * self.len() + MIN {
                self.grow(len);
            }
        }
    }

    /// Make room at once for the origins with dense indices below
    /// `origins`: a hint from a driver that knows the view will hold them
    /// all (a simulated network where every node has a favorite), which
    /// spares the view the growth it would go through as it learns them.
    /// It changes no behaviour.
    pub fn reserve(&mut self, origins: usize) {
        if origins > self.dense.len() {
            self.grow(origins);
        }
        self.order.reserve(origins.saturating_sub(self.order.len()));
    }

    /// Extend the array to `len` cells, moving the origins it now covers
    /// out of the map. O(n), a few times in a view's life.
    fn grow(&mut self, len: usize) {
        self.dense.resize(len, EMPTY);
        self.entries.resize_with(len, || None);
        // where each entry of the old `loose` went
        let mut moved_to = Vec::with_capacity(self.loose.len());
        for (o, e) in std::mem::take(&mut self.loose) {
            match o.dense().filter(|&d| d < len) {
                Some(d) => {
                    self.set_cell(d, Cell::new(e.version));
                    self.end = self.end.max(d + 1);
                    self.entries[d] = Some((o, e));
                    moved_to.push(d as u32);
                }
                None => {
                    moved_to.push((LOOSE + self.loose.len()) as u32);
                    self.loose.push((o, e));
                }
            }
        }
        for p in &mut self.order {
            if let Some(i) = (*p as usize).checked_sub(LOOSE) {
                *p = moved_to[i];
            }
        }
        self.rebuild_map();
    }

    /// Index `loose` anew (the map, the version vector and `sparse_low`).
    fn rebuild_map(&mut self) {
        self.sparse.clear();
        self.vv.reset(0);
        self.sparse_low = usize::MAX;
        for (i, (o, _)) in self.loose.iter().enumerate() {
            self.sparse.insert(o.clone(), i as u32);
            self.sparse_low = self.sparse_low.min(o.dense().unwrap_or(usize::MAX));
            self.vv.add(i);
        }
    }

    /// Forget `origin`. Returns whether it was known. O(n) (rare: key
    /// bindings only).
    pub fn remove(&mut self, origin: &Id) -> bool {
        let Some(f) = self.find(origin) else { return false };
        self.digest_sum -= map_entry_len(origin, f.version);
        self.order.retain(|&p| p as usize != f.pos);
        match f.pos.checked_sub(LOOSE) {
            None => {
                self.set_cell(f.pos, EMPTY);
                self.end = self.dense[..self.end].iter().rposition(|c| c.is_present()).map_or(0, |i| i + 1);
                self.entries[f.pos] = None;
            }
            Some(i) => {
                self.loose.remove(i);
                // the later entries of `loose` moved down by one
                for p in &mut self.order {
                    if *p as usize > f.pos {
                        *p -= 1;
                    }
                }
                self.rebuild_map();
            }
        }
        true
    }

    /// Merge origins learned since the last call into the sorted list; call
    /// before [`View::sorted`].
    pub fn flush(&mut self) {
        let loose = &self.loose;
        self.vv.flush(|k| (loose[k].0.clone(), loose[k].1.version));
    }

    /// Every origin's version and position, sorted by origin. Origins of the map
    /// learned since the last [`View::flush`] are missing.
    pub fn sorted(&self) -> impl Iterator<Item = (Id, Version, usize)> + '_ {
        let sparse =
            self.vv.sorted().iter().enumerate().map(|(p, (o, v))| (o.clone(), *v, LOOSE + self.vv.view_index(p)));
        self.dense_part().chain(sparse)
    }

    /// The dense array's origins, in order.
    fn dense_part(&self) -> impl Iterator<Item = (Id, Version, usize)> + '_ {
        (0..self.end).filter_map(|d| Some((Id::from_dense(d)?, self.cell_version(d)?, d)))
    }

    /// The digest: `origin -> version` for every entry, sorted by origin:
    /// a copy of the dense array (less its empty tail), then the map's
    /// origins.
    pub fn digest(&self) -> Digest<Id> {
        self.digest_into(Vec::new())
    }

    /// [`View::digest`], its column copied into `column` (a spare buffer:
    /// its contents are dropped, its memory reused). A view with a wide
    /// cell lists its pairs instead.
    pub(crate) fn digest_into(&self, mut column: Vec<Cell>) -> Digest<Id> {
        let loose = &self.loose;
        let rest = self.vv.to_vec(|k| (loose[k].0.clone(), loose[k].1.version));
        column.clear();
        if self.wide == 0 {
            column.extend_from_slice(&self.dense[..self.end]);
            Digest::from_parts(column, self.len() - loose.len(), rest, self.digest_sum)
        } else {
            // a wide cell does not say its version: every pair is listed
            let mut pairs: Vec<(Id, Version)> = self.dense_part().map(|(o, v, _)| (o, v)).collect();
            pairs.extend(rest);
            Digest::from_parts(column, 0, pairs, self.digest_sum)
        }
    }

    /// Compare the view with `theirs`, a digest sorted by origin, calling
    /// `step` for each difference in origin order. Returns `false`, having
    /// stopped early, if `theirs` turns out not to be strictly increasing.
    /// Call [`View::flush`] first.
    pub fn diff(&self, theirs: &Digest<Id>, mut step: impl FnMut(Diff<'_, Id>)) -> bool {
        match theirs.parts() {
            ([], rest) => self.diff_pairs(rest, &mut step),
            (column, []) if self.sparse.is_empty() && self.wide == 0 => {
                self.diff_columns(column, &mut step);
                true
            }
            _ => self.diff_pairs(&theirs.pairs(), &mut step),
        }
    }

    /// [`View::diff`] of two arrays of versions by dense index (a digest's
    /// column, when the view has all its origins in its array): a walk of
    /// both side by side, where equal cells (nearly all) are skipped.
    fn diff_columns(&self, theirs: &[Cell], step: &mut impl FnMut(Diff<'_, Id>)) {
        /// Cells compared at once (a cache line of each side).
        const RUN: usize = 8;
        let mine = &self.dense[..self.end];
        let common = mine.len().min(theirs.len());
        let whole = common - common % RUN;
        let runs = mine[..whole].chunks_exact(RUN).zip(theirs[..whole].chunks_exact(RUN));
        for (r, (a, b)) in runs.enumerate() {
            let a: &[Cell; RUN] = a.try_into().expect("chunks of RUN cells");
            let b: &[Cell; RUN] = b.try_into().expect("chunks of RUN cells");
            if a.iter().zip(b).fold(0, |x, (a, b)| x | a.differs(b)) != 0 {
                for k in 0..RUN {
                    if a[k].differs(&b[k]) != 0 {
                        version_diff(r * RUN + k, a[k].get(), b[k].get(), step);
                    }
                }
            }
        }
        for d in whole..common {
            if mine[d].differs(&theirs[d]) != 0 {
                version_diff(d, mine[d].get(), theirs[d].get(), step);
            }
        }
        for (d, a) in mine.iter().enumerate().skip(common) {
            if a.is_present() {
                step(Diff::TheyLack(d));
            }
        }
        for (d, b) in theirs.iter().enumerate().skip(common) {
            if b.is_present() {
                version_diff(d, None, b.get(), step);
            }
        }
    }

    /// [`View::diff`] of a list of pairs.
    fn diff_pairs(&self, theirs: &[(Id, Version)], step: &mut impl FnMut(Diff<'_, Id>)) -> bool {
        if self.sparse.is_empty() {
            self.diff_dense(theirs, step)
        } else {
            self.diff_merge(theirs, step)
        }
    }

    /// [`View::diff`] when every origin is in the dense array: one pass over
    /// `theirs`, reading the cells between consecutive origins of theirs.
    fn diff_dense(&self, theirs: &[(Id, Version)], step: &mut impl FnMut(Diff<'_, Id>)) -> bool {
        let cells = &self.dense;
        // cells below `next` are done
        let mut next = 0;
        for (j, (o, v)) in theirs.iter().enumerate() {
            if j > 0 && theirs[j - 1].0 >= *o {
                return false;
            }
            // identities with dense indices all have one
            let Some(d) = o.dense() else { return self.diff_merge(theirs, step) };
            let upto = d.min(cells.len());
            let from = next.min(upto);
            for (k, c) in cells[from..upto].iter().enumerate() {
                if c.is_present() {
                    step(Diff::TheyLack(from + k));
                }
            }
            version_diff(d, (d < cells.len()).then(|| self.cell_version(d)).flatten(), Some(*v), step);
            next = d + 1;
        }
        for (k, c) in cells.iter().enumerate().skip(next) {
            if c.is_present() {
                step(Diff::TheyLack(k));
            }
        }
        true
    }

    /// [`View::diff`] in general: a merge of the two sorted lists.
    fn diff_merge(&self, theirs: &[(Id, Version)], step: &mut impl FnMut(Diff<'_, Id>)) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let mut ours = self.sorted().peekable();
        let mut j = 0;
        loop {
            let order = match (ours.peek(), theirs.get(j)) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (Some(_), None) => Less,
                (None, Some(_)) => Greater,
                (None, None) => return true,
            };
            if order != Less && j > 0 && theirs[j - 1].0 >= theirs[j].0 {
                return false;
            }
            match order {
                Less => {
                    if let Some((_, _, pos)) = ours.next() {
                        step(Diff::TheyLack(pos));
                    }
                }
                Greater => {
                    let (o, v) = &theirs[j];
                    step(Diff::WeLack(o, *v));
                    j += 1;
                }
                Equal => {
                    if let Some((_, mine, pos)) = ours.next() {
                        let (o, v) = &theirs[j];
                        if mine > *v {
                            step(Diff::TheyLack(pos));
                        } else if mine < *v {
                            step(Diff::WeLag(o, mine));
                        }
                    }
                    j += 1;
                }
            }
        }
    }
}

/// The difference between our version `a` and their version `b` of the
/// origin of dense index `d`.
#[inline]
fn version_diff<Id: NodeId>(d: usize, a: Option<Version>, b: Option<Version>, step: &mut impl FnMut(Diff<'_, Id>)) {
    match (a, b) {
        (Some(_), None) => step(Diff::TheyLack(d)),
        (Some(mine), Some(v)) if mine > v => step(Diff::TheyLack(d)),
        (mine, Some(v)) if mine < Some(v) => {
            if let Some(o) = Id::from_dense(d) {
                match mine {
                    None => step(Diff::WeLack(&o, v)),
                    Some(mine) => step(Diff::WeLag(&o, mine)),
                }
            }
        }
        _ => {}
    }
}

/// One difference between a view and a digest ([`View::diff`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diff<'a, Id> {
    /// The entry in this position is newer than theirs, or they do not list it.
    TheyLack(usize),
    /// They list an origin the view does not have, at this version.
    WeLack(&'a Id, Version),
    /// They list a newer version of this origin; ours is this one.
    WeLag(&'a Id, Version),
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::core::Record;
    use crate::rng::Rng;

    fn entry(version: Version) -> Entry {
        Entry::new(
            std::sync::Arc::new(Record::new(crate::core::Uuid::from_u128(1), version, "Alien".into(), None)),
            3,
            0,
        )
    }

    /// The differences a plain sorted map gives, as `(origin, kind, version)`
    /// with kind 0 they lack (our version), 1 we lack (theirs), 2 we lag (ours).
    fn expected_diff(model: &BTreeMap<u32, Version>, theirs: &[(u32, Version)]) -> Vec<(u32, u8, Version)> {
        let theirs_map: BTreeMap<u32, Version> = theirs.iter().copied().collect();
        let mut out = Vec::new();
        let origins: std::collections::BTreeSet<u32> = model.keys().chain(theirs_map.keys()).copied().collect();
        for o in origins {
            match (model.get(&o), theirs_map.get(&o)) {
                (Some(&m), None) => out.push((o, 0, m)),
                (None, Some(&t)) => out.push((o, 1, t)),
                (Some(&m), Some(&t)) if m > t => out.push((o, 0, m)),
                (Some(&m), Some(&t)) if m < t => out.push((o, 2, m)),
                _ => {}
            }
        }
        out
    }

    /// An epoch: 0, or once in `one_in` a wide one (too large for a cell).
    fn some_wide(rng: &mut Rng, one_in: u64) -> u32 {
        if rng.below(one_in) == 0 {
            Cell::EPOCHS + rng.below(3) as u32
        } else {
            0
        }
    }

    fn check(view: &mut View<u32>, model: &BTreeMap<u32, Version>, rng: &mut Rng, step: usize) {
        let want: Vec<(u32, Version)> = model.iter().map(|(&o, &v)| (o, v)).collect();
        assert_eq!(view.digest(), want, "digest before a flush, step {step}");
        view.flush();
        assert_eq!(view.digest(), want, "digest after a flush, step {step}");
        assert_eq!(view.len(), model.len());
        for (&o, &v) in model {
            let f = view.find(&o).expect("known origin");
            assert_eq!(f.version, v);
            assert_eq!((*view.at(f.pos).0, view.at(f.pos).1.version), (o, v), "pos of {o}");
        }
        // a random sorted digest of theirs
        let mut theirs: BTreeMap<u32, Version> = BTreeMap::new();
        for _ in 0..rng.below(60) {
            theirs.insert(rng.below(3000) as u32, Version::new(some_wide(rng, 20), rng.below(5)));
        }
        let theirs: Vec<(u32, Version)> = theirs.into_iter().collect();
        // as a list, and as the column a view of those versions makes
        let mut other: View<u32> = View::new(9);
        for &(o, v) in &theirs {
            other.put(None, o, entry(v));
        }
        other.flush();
        let column = other.digest();
        assert_eq!(column, theirs);
        for digest in [Digest::new(theirs.clone()), column] {
            let mut got = Vec::new();
            let sorted = view.diff(&digest, |d| match d {
                Diff::TheyLack(pos) => got.push((*view.at(pos).0, 0, view.at(pos).1.version)),
                Diff::WeLack(o, v) => got.push((*o, 1, v)),
                Diff::WeLag(o, v) => got.push((*o, 2, v)),
            });
            assert!(sorted);
            assert_eq!(got, expected_diff(model, &theirs), "diff at step {step}");
        }
        if theirs.len() > 1 {
            let mut shuffled = theirs.clone();
            shuffled.swap(0, theirs.len() - 1);
            assert!(!view.diff(&Digest::new(shuffled), |_| {}), "an unsorted digest is refused");
        }
    }

    #[test]
    fn the_view_agrees_with_a_sorted_map_as_it_fills_and_loses_entries() {
        let mut rng = Rng::new(11);
        let mut view: View<u32> = View::new(5);
        let mut model: BTreeMap<u32, Version> = BTreeMap::new();
        // the order the view learned its origins in, less the removed ones
        let mut learned: Vec<u32> = Vec::new();
        for step in 0..6_000 {
            // mostly origins below 600, so that the array takes over; a few
            // far ones stay in the map
            let o = if rng.below(50) == 0 { 1_000_000 + rng.below(10) as u32 } else { rng.below(600) as u32 };
            if rng.below(40) == 0 {
                assert_eq!(view.remove(&o), model.remove(&o).is_some());
                learned.retain(|&x| x != o);
            } else {
                let v = Version::new(some_wide(&mut rng, 40), step as u64);
                let at = view.find(&o);
                let previous = view.put(at, o, entry(v));
                assert_eq!(previous, model.insert(o, v));
                if previous.is_none() {
                    learned.push(o);
                }
            }
            if step % 150 == 0 {
                check(&mut view, &model, &mut rng, step);
                let walked: Vec<u32> = view.iter().map(|(&o, _)| o).collect();
                assert_eq!(walked, learned, "iteration in learn order, step {step}");
            }
        }
        check(&mut view, &model, &mut rng, 6_000);
        assert!(view.dense.len() >= 600, "the dense origins moved into the array");
        assert!(view.sparse.keys().all(|&o| o >= 1_000_000), "only the far origins stay in the map");
    }

    #[test]
    fn two_dense_views_compare_their_columns_as_the_lists_they_stand_for() {
        let mut rng = Rng::new(23);
        // rounds where both sides kept every origin in their arrays
        let mut columns = 0;
        for round in 0..200 {
            let (mut ours, mut theirs): (View<u32>, View<u32>) = (View::new(1), View::new(2));
            let mut model = BTreeMap::new();
            let mut listed = BTreeMap::new();
            let (span_a, span_b) = (1 + rng.below(100), 1 + rng.below(100));
            for _ in 0..rng.below(400) {
                let (view, map, span) =
                    if rng.chance(0.5) { (&mut ours, &mut model, span_a) } else { (&mut theirs, &mut listed, span_b) };
                let o = rng.below(span) as u32;
                if rng.below(10) == 0 {
                    view.remove(&o);
                    map.remove(&o);
                } else {
                    // a wide version now and then, in a quarter of the rounds
                    let epoch = if round % 4 == 3 { some_wide(&mut rng, 30) } else { rng.below(2) as u32 };
                    let v = Version::new(epoch, rng.below(4));
                    if map.get(&o).is_none_or(|&had| v > had) {
                        view.put(None, o, entry(v));
                        map.insert(o, v);
                    }
                }
            }
            ours.flush();
            let digest = theirs.digest();
            let (column, rest) = digest.parts();
            columns += usize::from(ours.sparse.is_empty() && !column.is_empty() && rest.is_empty());
            let pairs: Vec<(u32, Version)> = listed.iter().map(|(&o, &v)| (o, v)).collect();
            assert_eq!(digest, pairs, "round {round}");
            let mut got = Vec::new();
            assert!(ours.diff(&digest, |d| match d {
                Diff::TheyLack(pos) => got.push((*ours.at(pos).0, 0, ours.at(pos).1.version)),
                Diff::WeLack(o, v) => got.push((*o, 1, v)),
                Diff::WeLag(o, v) => got.push((*o, 2, v)),
            }));
            assert_eq!(got, expected_diff(&model, &pairs), "round {round}");
        }
        assert!(columns > 120, "the column walk ran in {columns} rounds of 200");
    }

    #[test]
    fn a_reserved_view_holds_what_a_growing_one_holds_without_moving() {
        let mut rng = Rng::new(3);
        let (mut grown, mut reserved): (View<u32>, View<u32>) = (View::new(1), View::new(1));
        reserved.reserve(500);
        let cells = reserved.dense.as_ptr();
        for step in 0..3_000 {
            // a few origins past the reservation go to the map, as they would
            let o = if step % 100 == 0 { 1_000_000 + rng.below(50) as u32 } else { rng.below(500) as u32 };
            let v = Version::new(0, step);
            for view in [&mut grown, &mut reserved] {
                let at = view.find(&o);
                view.put(at, o, entry(v));
            }
        }
        assert_eq!(reserved.dense.as_ptr(), cells, "the reserved array never moved");
        reserved.flush();
        grown.flush();
        assert_eq!(reserved.digest(), grown.digest());
        assert!(reserved.iter().map(|(o, e)| (*o, e.version)).eq(grown.iter().map(|(o, e)| (*o, e.version))));
        let mut diffs: [Vec<(u32, u8)>; 2] = Default::default();
        let theirs = Digest::new((0..600).step_by(3).chain([1_000_010]).map(|o| (o, Version::new(0, 1_500))).collect());
        for (view, got) in [&reserved, &grown].into_iter().zip(&mut diffs) {
            assert!(view.diff(&theirs, |d| got.push(match d {
                Diff::TheyLack(pos) => (*view.at(pos).0, 0),
                Diff::WeLack(o, _) => (*o, 1),
                Diff::WeLag(o, _) => (*o, 2),
            })));
        }
        assert_eq!(diffs[0], diffs[1]);
        assert!(!diffs[0].is_empty());
    }

    #[test]
    fn touching_a_batch_reads_known_and_unknown_origins_and_changes_nothing() {
        let mut view: View<u32> = View::new(0);
        for o in [1, 5, 9, 4_000_000_000] {
            view.put(None, o, entry(Version::new(0, u64::from(o % 7))));
        }
        let before = view.digest();
        // known, unknown, past the array, and far (in the map), each with a record
        let batch: Vec<(u32, Entry)> =
            [1u32, 2, 5, 9, 700, 4_000_000_000].iter().map(|&o| (o, entry(Version::new(0, 1)))).collect();
        view.touch(&batch, |(o, _)| o, |(_, e)| Some(e.record().as_ref()));
        let positions: Vec<usize> = [1, 9].iter().filter_map(|o| view.find(o)).map(|f| f.pos).collect();
        view.touch_at(&positions);
        assert_eq!(view.digest(), before);
        assert_eq!(view.len(), 4);
    }

    #[test]
    fn a_cell_takes_an_eighth_of_a_cache_line() {
        assert_eq!(std::mem::size_of::<Cell>(), 8);
    }

    #[test]
    fn a_view_of_one_far_origin_allocates_no_array_for_it() {
        let mut view: View<u32> = View::new(0);
        view.put(None, 4_000_000_000, entry(Version::new(0, 1)));
        assert!(view.dense.len() < 100);
        assert_eq!(view.digest(), vec![(4_000_000_000, Version::new(0, 1))]);
    }

    #[test]
    fn string_origins_are_found_and_walked_in_order() {
        let mut view: View<String> = View::new(0);
        for (i, o) in ["n10", "n2", "a", "zz"].iter().enumerate() {
            view.put(None, o.to_string(), entry(Version::new(0, i as u64 + 1)));
        }
        view.flush();
        let origins: Vec<String> = view.digest().into_vec().into_iter().map(|(o, _)| o).collect();
        assert_eq!(origins, ["a", "n10", "n2", "zz"]);
        assert_eq!(view.get(&"n2".to_string()).map(|e| e.version), Some(Version::new(0, 2)));
        assert!(view.remove(&"n10".to_string()) && view.find(&"n10".to_string()).is_none());
        let zz = view.find(&"zz".to_string()).expect("still there");
        assert_eq!(view.at(zz.pos).0, "zz", "later entries moved down, and their positions with them");
        let order: Vec<&str> = view.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(order, ["n2", "a", "zz"], "learn order, less the removed one");
    }
}
