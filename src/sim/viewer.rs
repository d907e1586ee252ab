//! The viewer's bookkeeping over full nodes: who told whom, learned-at
//! hops, per-node freshness, each update's deliveries and a bounded trace.
//!
//! A live run (the page, `sim::live`) shows more than the metrics: how many
//! origins' latest update each node lacks, who told a node what it holds and
//! at what hop, every delivery of an update (first ones and duplicates), and
//! an event trace. [`Viewer`] keeps all of that, exact as updates are made
//! and learned. The full population owns one when a viewer asked for it
//! (`FullPopulation::track_for_viewer`) and calls it through a few methods:
//! an update was made ([`Viewer::originated`]), a message is about to be
//! delivered ([`Viewer::carry`]), a node's events before they are drained
//! ([`Viewer::observe`]), a node was reset or added, a remote origin's version
//! or a real node's state arrived ([`Viewer::remote_originated`],
//! [`Viewer::mirrored`]); the rest are reads. It is kept apart so that
//! the population holds nodes and the viewer holds what a viewer draws: a
//! run without a viewer never touches this module.
//!
//! It is kept cheap per delivery, since the page records every one while it
//! animates: a sender's hop is read off the viewer's own record of what
//! that sender holds (each record names the version by its index among the
//! versions made of its origin, `Rec::k`) instead of a lookup in the
//! sender's view, and an update made drops only the nodes that held the
//! old latest (a list per origin) instead of checking every node. In the
//! simulator a node's held version changes only by a `Learned` event or a
//! reset, so the record is exact; where it cannot tell (a version made
//! outside the run's knowledge) it asks the node. Still, it stays off in
//! `gossip sim` runs.

use crate::core::protocols::Dissemination;
use crate::core::{Event, Message, Node, Version};

/// Kept for viewers: how many origins' latest version each node holds,
/// kept exact as updates are made and learned, a bounded trace, and who
/// told whom ([`Told`], [`Delivery`]).
#[derive(Clone, Debug, Default)]
pub struct Viewer {
    latest: Vec<Option<Version>>,
    /// `made[origin]`: the versions of `origin` made so far, in order (so
    /// increasing); a record names one by its index.
    made: Vec<Vec<Version>>,
    /// `holders[origin]`: the nodes counted in `current` as holding
    /// `origin`'s latest version, a bit per node (a set of 1,000 nodes is
    /// 125 bytes: the sets of every origin stay in cache, where lists of
    /// ids, appended at random, missed it on nearly every update learned).
    holders: Holders,
    current: Vec<u32>,
    origins: u32,
    trace: Vec<Traced>,
    trace_cap: usize,
    trace_dropped: u64,
    /// `told[i][origin]`: who told node `i` the version of `origin` it
    /// holds, at what hop, and which version that is. By node, so that the
    /// records one message touches (its sender's and its receiver's, for
    /// the updates it carries, which a digest answer lists by origin) lie
    /// side by side: by origin, wasm (which has no prefetch) ran the page's
    /// 1,000-node movies run about 30 % slower.
    told: Vec<Vec<Rec>>,
    /// Every delivery of recent updates, first ones and duplicates.
    deliveries: Deliveries,
    /// Where the events about to be observed come from.
    source: Source,
    /// The `(origin, version)` of each update the message being delivered
    /// carries, in order, with the version's index among those made of its
    /// origin (empty outside a delivery).
    carried: Vec<Carried>,
}

/// The holders of each origin's latest version: a bit per `(origin,
/// node)`, the words of an origin side by side (1,000 nodes and 1,000
/// origins are 125 KB in one block, which stays in cache, where lists of
/// ids, appended at random, missed it on nearly every update learned).
#[derive(Clone, Debug, Default)]
struct Holders {
    bits: Vec<u64>,
    /// Words per origin.
    stride: usize,
    origins: usize,
}

impl Holders {
    /// Room for `origins` origins.
    fn grow_origins(&mut self, origins: usize) {
        if self.origins < origins {
            self.origins = origins;
            self.bits.resize(origins * self.stride, 0);
        }
    }

    #[inline]
    fn insert(&mut self, origin: u32, i: u32) {
        let w = (i / 64) as usize;
        if w >= self.stride {
            self.widen(w + 1);
        }
        self.bits[origin as usize * self.stride + w] |= 1 << (i % 64);
    }

    /// Room for nodes up to `stride` words (nodes were added).
    #[cold]
    fn widen(&mut self, stride: usize) {
        let mut bits = vec![0; self.origins * stride];
        for o in 0..self.origins {
            bits[o * stride..o * stride + self.stride]
                .copy_from_slice(&self.bits[o * self.stride..(o + 1) * self.stride]);
        }
        (self.bits, self.stride) = (bits, stride);
    }

    fn remove(&mut self, i: u32) {
        let w = (i / 64) as usize;
        if w < self.stride {
            for row in self.bits.chunks_exact_mut(self.stride.max(1)) {
                row[w] &= !(1 << (i % 64));
            }
        }
    }

    /// Every holder of `origin`, in increasing order; none is left.
    fn drain(&mut self, origin: u32, mut f: impl FnMut(u32)) {
        let at = origin as usize * self.stride;
        for (k, w) in self.bits[at..at + self.stride].iter_mut().enumerate() {
            let mut bits = std::mem::take(w);
            while bits != 0 {
                f(k as u32 * 64 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
    }
}

/// The viewer's record per `(node, origin)`: who told the node the version
/// it holds, at what hop, and which version (12 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rec {
    told: Told,
    /// The held version's index in `made[origin]`, or [`Rec::NOTHING`] or [`Rec::UNKNOWN`].
    k: u32,
}

impl Rec {
    /// The node holds no version of the origin.
    const NOTHING: u32 = u32::MAX;
    /// The node holds a version the viewer has no index for: ask the node.
    const UNKNOWN: u32 = u32::MAX - 1;
    const NONE: Rec = Rec { told: Told::NONE, k: Rec::NOTHING };
}

/// Who told a node the version of an origin it holds: the viewer's record
/// per `(node, origin)`, 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Told {
    /// The sender, or [`Told::NOBODY`] (the node made it, a client handed it
    /// over, or a real node's state was copied in).
    pub from: u32,
    /// Its hop count (the origin holds hop 0), or [`Told::UNKNOWN_HOP`].
    pub hop: u16,
}

impl Told {
    /// No sender: the node made the update or was handed it from outside the run.
    pub const NOBODY: u32 = u32::MAX;
    /// The hop is unknown (learned through a real node, or its sender's hop was not kept).
    pub const UNKNOWN_HOP: u16 = u16::MAX;
    const NONE: Told = Told { from: Told::NOBODY, hop: Told::UNKNOWN_HOP };

    /// The sender, if a node of the run sent it.
    pub fn sender(self) -> Option<u32> {
        (self.from != Told::NOBODY).then_some(self.from)
    }

    /// The hop count, if known.
    pub fn hops(self) -> Option<u32> {
        (self.hop != Told::UNKNOWN_HOP).then_some(u32::from(self.hop))
    }

    /// One hop further than this (saturating below [`Told::UNKNOWN_HOP`]).
    fn next(self) -> u16 {
        match self.hop {
            Told::UNKNOWN_HOP => Told::UNKNOWN_HOP,
            h => (h + 1).min(Told::UNKNOWN_HOP - 1),
        }
    }
}

/// One delivery of an update to a node, for the dissemination of that update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Virtual time, ms.
    pub t: u64,
    /// The sender.
    pub from: u32,
    /// The receiver.
    pub to: u32,
    /// The copy's hop count (the sender's hop + 1), or [`Told::UNKNOWN_HOP`].
    pub hop: u16,
    /// The receiver already held this version or a newer one: it learned nothing.
    pub duplicate: bool,
}

/// Most deliveries kept for a dissemination record (24 bytes each):
/// the oldest updates' records go first.
pub const DELIVERY_CAP: usize = 500_000;

/// The deliveries of the most recent updates, by update, at most
/// [`DELIVERY_CAP`] in all: when full, the oldest update's list goes. The
/// viewer of full nodes keeps one, and so does the overlay population for
/// its broadcasts.
#[derive(Clone, Debug, Default)]
pub struct Deliveries {
    /// `last[o]`: the last update of origin `o` opened, `(version, its
    /// deliveries)`, while kept: nearly every delivery goes to one of
    /// these, found in this dense row without a cache miss.
    last: Vec<Option<(Version, Vec<Delivery>)>>,
    /// `older[o]`: the other kept updates of origin `o`, in the order they
    /// were opened (a few per origin: plain vectors, no hash map, keep the
    /// page's package small).
    older: Vec<Vec<(Version, Vec<Delivery>)>>,
    /// Updates in the order their lists were opened.
    order: std::collections::VecDeque<(u32, Version)>,
    total: usize,
    /// Deliveries not kept (an update's whole list dropped counts its deliveries too).
    dropped: u64,
    /// Emptied buffers of evicted lists, for the next lists opened.
    spare: Vec<Vec<Delivery>>,
}

/// Most deliveries a new list makes room for at once (the last list of its origin's length, up to this).
const RESERVE_MAX: usize = 1 << 16;

/// Most emptied delivery buffers kept for reuse.
const SPARE_LISTS: usize = 16;

/// Origins at or above this are not recorded (no index that large is a node or a broadcast of a run).
const MAX_RECORDED_ORIGIN: u32 = 1 << 24;

impl Deliveries {
    /// Record delivery `d` of `version` of `origin`.
    #[inline]
    pub fn push(&mut self, origin: u32, version: Version, d: Delivery) {
        // nearly always: a delivery of the last update opened of its origin, with room
        if self.total < DELIVERY_CAP {
            if let Some((v, list)) = self.last.get_mut(origin as usize).and_then(Option::as_mut) {
                if *v == version && list.len() < list.capacity() {
                    list.push(d);
                    self.total += 1;
                    return;
                }
            }
        }
        self.push_slow(origin, version, d);
    }

    /// Start loading where the next delivery of `origin`'s last update
    /// opened goes (a cache hint: see [`crate::hint`]).
    #[inline]
    pub fn prefetch_tail(&self, origin: u32) {
        // the last delivery's line: the next one goes beside it
        if let Some(d) = self.last.get(origin as usize).and_then(Option::as_ref).and_then(|(_, list)| list.last()) {
            crate::hint::prefetch(d);
        }
    }

    /// [`Deliveries::push`] when the list must be found, opened or grown, or room made.
    #[cold]
    #[inline(never)]
    fn push_slow(&mut self, origin: u32, version: Version, d: Delivery) {
        if self.list(origin, version).is_none() {
            self.open(origin, version);
        }
        // the oldest other updates make room; one update alone past the cap keeps what it has
        while self.total >= DELIVERY_CAP && self.order.len() > 1 {
            self.evict();
        }
        if self.total >= DELIVERY_CAP {
            self.dropped += 1;
            return;
        }
        if let Some(list) = self.list_mut(origin, version) {
            list.push(d);
            self.total += 1;
        }
    }

    /// Start the (empty) list of an update: it now has a dissemination.
    pub fn open(&mut self, origin: u32, version: Version) {
        if origin >= MAX_RECORDED_ORIGIN || self.list(origin, version).is_some() {
            return;
        }
        let o = origin as usize;
        if self.last.len() <= o {
            self.last.resize_with(o + 1, || None);
            self.older.resize_with(o + 1, Vec::new);
        }
        let mut list = self.spare.pop().unwrap_or_default();
        // the origin's update before reached about as many nodes: room for
        // as many deliveries at once, not a copy at each doubling
        if let Some((_, before)) = self.last[o].as_ref().or(self.older[o].last()) {
            list.reserve(before.len().min(RESERVE_MAX));
        }
        if let Some(before) = self.last[o].replace((version, list)) {
            self.older[o].push(before);
        }
        self.order.push_back((origin, version));
    }

    fn evict(&mut self) {
        if let Some((origin, version)) = self.order.pop_front() {
            let o = origin as usize;
            let taken = match &self.last[o] {
                Some((v, _)) if *v == version => self.last[o].take(),
                _ => self.older[o].iter().position(|(v, _)| *v == version).map(|k| self.older[o].remove(k)),
            };
            if let Some((_, mut list)) = taken {
                let n = list.len();
                self.total -= n;
                self.dropped += n as u64;
                // its buffer serves the next update opened (no growth from empty again)
                if self.spare.len() < SPARE_LISTS {
                    list.clear();
                    self.spare.push(list);
                }
            }
        }
    }

    fn list(&self, origin: u32, version: Version) -> Option<&Vec<Delivery>> {
        let o = origin as usize;
        match self.last.get(o)? {
            Some((v, l)) if *v == version => Some(l),
            _ => self.older[o].iter().rev().find(|(v, _)| *v == version).map(|(_, l)| l),
        }
    }

    fn list_mut(&mut self, origin: u32, version: Version) -> Option<&mut Vec<Delivery>> {
        let o = origin as usize;
        match self.last.get_mut(o)? {
            Some((v, l)) if *v == version => Some(l),
            _ => self.older[o].iter_mut().rev().find(|(v, _)| *v == version).map(|(_, l)| l),
        }
    }

    /// Every delivery of `version` of `origin` kept, in time order.
    pub fn of(&self, origin: u32, version: Version) -> Option<&[Delivery]> {
        self.list(origin, version).map(Vec::as_slice)
    }

    /// Deliveries not kept (past [`DELIVERY_CAP`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The first delivery of `(origin, version)` to `node`, if kept.
    fn first_to(&self, origin: u32, version: Version, node: u32) -> Option<&Delivery> {
        self.list(origin, version)?.iter().find(|d| d.to == node && !d.duplicate)
    }
}

/// One line of a run's event trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TraceEntry {
    /// Virtual time, ms.
    pub t: u64,
    /// The node it happened at.
    pub node: u32,
    /// `originated` (the node made a new version of its favorite) or `learned`.
    pub kind: &'static str,
    /// Whose favorite.
    pub origin: u32,
    /// The version's epoch.
    pub epoch: u32,
    /// The version's counter.
    pub counter: u64,
    /// `learned` from a node of the run: the sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// `learned`: the hop count, when known (0: handed over by a client, as the first holder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop: Option<u32>,
}

/// An update the message being delivered carries, as [`Viewer::carry`]
/// noted it.
#[derive(Clone, Copy, Debug)]
struct Carried {
    origin: u32,
    version: Version,
    /// The version's index among those made of its origin, or [`Rec::UNKNOWN`].
    k: u32,
    /// The sender's record of that origin when the message was carried
    /// (read then, for all the updates at once, so that their cache misses
    /// overlap: wasm has no prefetch hint; no other node's records change
    /// while one node handles a message).
    sender: Rec,
}

/// A line of the trace as kept (40 bytes; a [`TraceEntry`] is 64): the
/// page keeps up to half a million of them while it animates.
#[derive(Clone, Copy, Debug)]
struct Traced {
    t: u64,
    counter: u64,
    node: u32,
    origin: u32,
    epoch: u32,
    /// `learned`: who told it; `originated`: [`Told::NONE`] (not shown).
    told: Told,
    learned: bool,
}

impl Traced {
    fn entry(&self) -> TraceEntry {
        let told = self.learned.then_some(self.told);
        TraceEntry {
            t: self.t,
            node: self.node,
            kind: if self.learned { "learned" } else { "originated" },
            origin: self.origin,
            epoch: self.epoch,
            counter: self.counter,
            from: told.and_then(Told::sender),
            hop: told.and_then(Told::hops),
        }
    }
}

/// Where the events a viewer observes came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Source {
    /// The node itself (its timer, its own update, a client's request).
    #[default]
    Local,
    /// A message from this node of the run.
    Message(u32),
    /// A real node's state copied into its mirror ([`Viewer::mirrored`]).
    Outside,
}

impl Viewer {
    /// A viewer of `nodes` nodes keeping a trace of at most `trace_cap` events.
    pub fn new(nodes: usize, trace_cap: usize) -> Self {
        let holders = Holders { stride: nodes.div_ceil(64).max(1), ..Default::default() };
        Viewer { trace_cap, current: vec![0; nodes], holders, ..Default::default() }
    }

    /// How many origins' latest update node `i` lacks, out of how many origins.
    pub fn staleness(&self, i: u32) -> Option<(u32, u32)> {
        Some((self.origins - self.current.get(i as usize)?, self.origins))
    }

    /// The latest version of `origin`.
    pub fn latest(&self, origin: u32) -> Option<Version> {
        self.latest.get(origin as usize).copied().flatten()
    }

    /// Every delivery of `version` of `origin` kept, in time order.
    pub fn dissemination(&self, origin: u32, version: Version) -> Option<&[Delivery]> {
        self.deliveries.of(origin, version)
    }

    /// Deliveries not kept (past [`DELIVERY_CAP`]).
    pub fn deliveries_dropped(&self) -> u64 {
        self.deliveries.dropped()
    }

    /// The trace so far, and how many events did not fit in it.
    pub fn trace(&self) -> (Vec<TraceEntry>, u64) {
        (self.trace.iter().map(Traced::entry).collect(), self.trace_dropped)
    }

    /// Node `i` lost its state (a restart): it holds nothing and was told nothing.
    pub fn node_reset(&mut self, i: u32) {
        self.current[i as usize] = 0;
        if let Some(t) = self.told.get_mut(i as usize) {
            t.clear();
        }
        // rare (a restart): a bit cleared per origin
        self.holders.remove(i);
    }

    /// A node (or a mirror) was added: it holds nothing yet.
    pub fn node_added(&mut self) {
        self.current.push(0);
    }

    /// Remote origin `i` made `version`, as far as the run can tell: the
    /// freshness of every node is now judged against it. Older or equal
    /// versions change nothing. Returns whether it was newer.
    pub fn remote_originated<R: Dissemination>(&mut self, i: u32, version: Version, nodes: &[Node<u32, R>]) -> bool {
        if self.latest(i).is_some_and(|l| l >= version) {
            return false;
        }
        self.originated(i, version);
        // nodes that held it already (a mirror can learn a remote origin's
        // version from its real node before the run counts it as made) are
        // current, and no `Learned` event will say so
        for (j, n) in nodes.iter().enumerate() {
            if n.known(&i).is_some_and(|k| k >= version) {
                self.current[j] += 1;
                self.holders.insert(i, j as u32);
            }
        }
        true
    }

    /// Mirror `i` took in a real node's state at `now`, with these events.
    pub fn mirrored<R: Dissemination>(&mut self, i: u32, now: u64, events: &[Event<u32>], nodes: &[Node<u32, R>]) {
        self.source = Source::Outside;
        self.observe(i, now, events, nodes);
    }
    /// `origin`'s latest version is now `version`.
    pub fn originated(&mut self, origin: u32, version: Version) {
        let o = origin as usize;
        if self.latest.len() <= o {
            self.latest.resize(o + 1, None);
            self.made.resize_with(o + 1, Vec::new);
            self.holders.grow_origins(o + 1);
        }
        match self.latest[o] {
            // every node that held the old latest is now behind
            Some(_) => {
                let current = &mut self.current;
                self.holders.drain(origin, |j| current[j as usize] = current[j as usize].saturating_sub(1));
            }
            None => self.origins += 1,
        }
        self.latest[o] = Some(version);
        // made in order: a version is made only when newer than the latest
        self.made[o].push(version);
        self.deliveries.open(origin, version);
    }

    /// `version`'s index among the versions made of `origin`, or [`Rec::UNKNOWN`].
    #[inline]
    fn index(&self, origin: u32, version: Version) -> u32 {
        let o = origin as usize;
        let Some(made) = self.made.get(o) else { return Rec::UNKNOWN };
        // nearly always the latest: read off `latest` (dense, in cache), not the list
        if self.latest[o] == Some(version) {
            return (made.len() - 1) as u32;
        }
        made.binary_search(&version).map_or(Rec::UNKNOWN, |k| k as u32)
    }

    /// A message from `from` is about to be delivered: note what it carries.
    pub fn carry(&mut self, from: u32, msg: &Message<u32>) {
        self.source = Source::Message(from);
        let mut carried = std::mem::take(&mut self.carried);
        carried.clear();
        if let Message::Push(updates) | Message::Delta { updates, .. } = msg {
            let row = self.told.get(from as usize).map_or(&[][..], Vec::as_slice);
            carried.extend(updates.iter().map(|u| Carried {
                origin: u.origin,
                version: u.version,
                k: self.index(u.origin, u.version),
                sender: row.get(u.origin as usize).copied().unwrap_or(Rec::NONE),
            }));
            // where each update's delivery goes: start loading it now
            if crate::hint::ENABLED {
                for c in &carried {
                    self.deliveries.prefetch_tail(c.origin);
                }
            }
        }
        self.carried = carried;
    }

    /// What the viewer holds about who told node `i` of `origin`.
    pub fn told(&self, i: u32, origin: u32) -> Told {
        self.rec(i, origin).told
    }

    #[inline]
    fn rec(&self, i: u32, origin: u32) -> Rec {
        self.told.get(i as usize).and_then(|t| t.get(origin as usize)).copied().unwrap_or(Rec::NONE)
    }

    /// Node `i` now holds version `k` (an index into `made[origin]`) of
    /// `origin`, told by `told`.
    #[inline]
    fn set_told(&mut self, i: u32, origin: u32, told: Told, k: u32) {
        if let Some(r) = self.told.get_mut(i as usize).and_then(|row| row.get_mut(origin as usize)) {
            *r = Rec { told, k };
            return;
        }
        self.set_told_grown(i, origin, Rec { told, k });
    }

    /// [`Viewer::set_told`] past the end of node `i`'s row (or of the rows).
    #[cold]
    #[inline(never)]
    fn set_told_grown(&mut self, i: u32, origin: u32, rec: Rec) {
        let (i, o) = (i as usize, origin as usize);
        if self.told.len() <= i {
            self.told.resize_with(i + 1, Vec::new);
        }
        let row = &mut self.told[i];
        if row.len() <= o {
            row.resize(o + 1, Rec::NONE);
        }
        row[o] = rec;
    }

    /// The hop at which `sender` holds `version` (index `k`) of `origin`
    /// (its own record `rec` if it still holds that version, else its
    /// first delivery of it).
    #[inline]
    fn sender_hop<R: Dissemination>(
        &self,
        (sender, rec): (u32, Rec),
        origin: u32,
        (version, k): (Version, u32),
        nodes: &[Node<u32, R>],
    ) -> Told {
        // `k` unknown (or the sender's record being rewritten): ask the sender
        let holds = match rec.k {
            _ if k >= Rec::UNKNOWN || rec.k == Rec::UNKNOWN => {
                nodes.get(sender as usize).and_then(|n| n.known(&origin)) == Some(version)
            }
            Rec::NOTHING => false,
            held => held == k,
        };
        if holds && rec.told != Told::NONE {
            return rec.told;
        }
        self.sender_hop_kept(sender, origin, version)
    }

    /// [`Viewer::sender_hop`] when the sender no longer holds that version:
    /// its first delivery of it.
    #[cold]
    #[inline(never)]
    fn sender_hop_kept(&self, sender: u32, origin: u32, version: Version) -> Told {
        match self.deliveries.first_to(origin, version, sender) {
            Some(d) => Told { from: d.from, hop: d.hop },
            // the origin sending a version it has since replaced
            None if sender == origin => Told { from: Told::NOBODY, hop: 0 },
            None => Told::NONE,
        }
    }

    /// `carried` from `from` taught node `i` nothing: a duplicate if `i`
    /// held that version or a newer one (not one its checks refused).
    fn duplicate<R: Dissemination>(&mut self, i: u32, from: u32, c: Carried, now: u64, nodes: &[Node<u32, R>]) {
        let Carried { origin, version, k, sender } = c;
        if nodes.get(i as usize).and_then(|n| n.known(&origin)).is_some_and(|held| held >= version) {
            // a node's own message: its records may have changed since it was carried
            let rec = if from == i { self.rec(from, origin) } else { sender };
            let hop = self.sender_hop((from, rec), origin, (version, k), nodes).next();
            self.deliveries.push(origin, version, Delivery { t: now, from, to: i, hop, duplicate: true });
        }
    }

    /// Account for node `i`'s events at `now` (before the driver drains
    /// them), and for the updates of the message it handled, if any.
    pub fn observe<R: Dissemination>(&mut self, i: u32, now: u64, events: &[Event<u32>], nodes: &[Node<u32, R>]) {
        let source = std::mem::take(&mut self.source);
        let mut carried = std::mem::take(&mut self.carried);
        // the next carried update not yet accounted for
        let mut next = 0;
        for ev in events {
            let (learned, origin, version, told) = match *ev {
                Event::Originated { version } => {
                    self.originated(i, version);
                    let k = self.index(i, version);
                    self.set_told(i, i, Told { from: Told::NOBODY, hop: 0 }, k);
                    (false, i, version, Told::NONE)
                }
                Event::Learned { origin, previous, version, .. } => {
                    let latest = self.latest.get(origin as usize).copied().flatten();
                    if latest == Some(version) && previous != Some(version) {
                        self.current[i as usize] += 1;
                        self.holders.insert(origin, i);
                    }
                    let mut k = Rec::UNKNOWN;
                    let told = match source {
                        Source::Local => Told { from: Told::NOBODY, hop: 0 },
                        Source::Outside if origin == i => Told { from: Told::NOBODY, hop: 0 },
                        Source::Outside => Told::NONE,
                        Source::Message(from) => {
                            // the carried updates before this one taught nothing
                            let mut sender = None;
                            if let Some(p) =
                                carried[next..].iter().position(|c| (c.origin, c.version) == (origin, version))
                            {
                                for &c in &carried[next..next + p] {
                                    self.duplicate(i, from, c, now, nodes);
                                }
                                (k, sender) = (carried[next + p].k, Some(carried[next + p].sender));
                                next += p + 1;
                            } else {
                                k = self.index(origin, version);
                            }
                            let hop = match sender {
                                Some(rec) if from != i => self.sender_hop((from, rec), origin, (version, k), nodes),
                                // a node's own message: its record is being rewritten, ask it
                                _ if from == i => {
                                    let rec = self.rec(from, origin);
                                    self.sender_hop((from, rec), origin, (version, Rec::UNKNOWN), nodes)
                                }
                                _ => self.sender_hop((from, self.rec(from, origin)), origin, (version, k), nodes),
                            }
                            .next();
                            let d = Delivery { t: now, from, to: i, hop, duplicate: false };
                            self.deliveries.push(origin, version, d);
                            Told { from, hop }
                        }
                    };
                    if k == Rec::UNKNOWN {
                        k = self.index(origin, version);
                    }
                    self.set_told(i, origin, told, k);
                    (true, origin, version, told)
                }
            };
            if self.trace.len() < self.trace_cap {
                let (epoch, counter) = (version.epoch, version.counter);
                self.trace.push(Traced { t: now, counter, node: i, origin, epoch, told, learned });
            } else {
                self.trace_dropped += 1;
            }
        }
        if let Source::Message(from) = source {
            for &c in &carried[next..] {
                self.duplicate(i, from, c, now, nodes);
            }
        }
        carried.clear();
        self.carried = carried;
    }
}

#[cfg(test)]
impl Viewer {
    /// Whether the viewer's own records agree with the nodes: the version
    /// each record names is the one the node holds, and each node's count
    /// of latest versions held is a recount. The records stand in for the
    /// nodes' views on every delivery, so they must never drift.
    fn check_records<R: Dissemination>(&self, nodes: &[Node<u32, R>]) -> Result<(), String> {
        for (i, n) in nodes.iter().enumerate() {
            let mut current = 0;
            for (o, latest) in self.latest.iter().enumerate() {
                let held = n.known(&(o as u32));
                let rec = self.rec(i as u32, o as u32);
                let named = match rec.k {
                    Rec::NOTHING => None,
                    Rec::UNKNOWN => held,
                    k => Some(self.made[o][k as usize]),
                };
                if named != held {
                    return Err(format!("node {i}, origin {o}: the record names {named:?}, the node holds {held:?}"));
                }
                current += u32::from(latest.is_some() && held == *latest);
            }
            if self.current[i] != current {
                return Err(format!("node {i}: counted {} latest versions held, holds {current}", self.current[i]));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::params::SimParams;
    use crate::sim::{full_population, runner};

    /// The records a sender's hop is read from match the nodes' views at
    /// every step, through loss, partitions, crashes, restarts (with and
    /// without state), joins, broadcasts, floods, eager push and rounds.
    #[test]
    fn the_viewers_records_always_match_what_the_nodes_hold() {
        let configs: &[&[(&str, &str)]] = &[
            &[("nodes", "60"), ("scenario", "movies"), ("model", "events"), ("loss", "0.2")],
            &[
                ("nodes", "50"),
                ("scenario", "movies"),
                ("faults", "1s:crash:4, 3s:restart:4, 2s:crash:7, 4s:restart-fresh:7"),
            ],
            &[
                ("nodes", "50"),
                ("scenario", "movies"),
                ("faults", "1s:partition:3, 4s:heal, 2s:crash-random:0.2, 3s:join:3"),
            ],
            &[("nodes", "40"), ("scenario", "broadcast"), ("rate", "40")],
            &[("nodes", "40"), ("scenario", "movies"), ("protocol", "flood"), ("ttl", "3")],
            &[("nodes", "40"), ("scenario", "movies"), ("protocol", "pull"), ("eager", "on")],
            &[("nodes", "40"), ("scenario", "movies"), ("model", "rounds"), ("resample_ms", "700")],
            &[("nodes", "80"), ("scenario", "single"), ("protocol", "rumor"), ("coin", "2")],
        ];
        for pairs in configs {
            let cfg = SimParams::from_pairs(pairs.iter().copied()).and_then(|p| p.to_config()).unwrap();
            let mut pop = full_population(&cfg);
            pop.track_for_viewer(1000);
            let mut r = runner(&cfg, pop);
            let mut t = 0;
            for _ in 0..200 {
                t += 50;
                r.advance(t, u64::MAX, &mut |_| {});
                let pop = &r.w.pop;
                let v = pop.viewer.as_ref().expect("tracked");
                if let Err(e) = v.check_records(pop.nodes()) {
                    panic!("{pairs:?} at {t} ms: {e}");
                }
            }
        }
    }
}
