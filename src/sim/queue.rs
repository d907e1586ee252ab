//! The simulator's event queue: events in virtual milliseconds, ties broken
//! by insertion order (a sequence number), so a run is a pure function of
//! its seed.
//!
//! It is a calendar queue: a ring of one bucket per millisecond over a
//! window, plus a heap for events beyond the window. Buckets are appended to
//! in insertion order, and heap events move into their bucket (in
//! `(time, seq)` order) before anything else can be inserted there, so the
//! pop order is exactly `(time, seq)` while push and pop are O(1) amortised.
//!
//! Two kinds of event ([`Item`]): a node's timer tick, which is only a node
//! id, and everything else (messages). A bucket keeps them apart: ticks as
//! 4-byte ids, the rest as `T`, and one bit per event saying which kind
//! came next, so the pop order is still the insertion order. Why: in most
//! runs every node has a tick waiting at all times (a SWIM run at 100,000
//! members holds 100,000 ticks over the next second, next to about ten
//! thousand messages in flight), and a tick stored as a message-sized `T`
//! took 40 bytes where 4 do, in buffers grown to the size of the message
//! bursts they once held (keeping them apart took 11 MB off the peak of
//! a SWIM run at 100,000 members).
//! A look ahead ([`EventQueue::ahead`], for prefetching) reads a rank of
//! ticks made when a millisecond is taken out of the ring, not a count of
//! bits per look.
//!
//! Memory: an empty bucket holds no buffer. A bucket's buffers, once its
//! events are taken, go to small pools that the next bucket to fill takes
//! from, so the buffers in use follow the buckets that hold events (about
//! the span of times scheduled ahead) rather than every bucket of the
//! window keeping the largest buffer it ever needed (8,192 of them: at
//! 100,000 SWIM members, 400 events a millisecond, that was 150 MB).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

const WINDOW: usize = 1 << 13; // 8.2 s of 1 ms buckets
/// Spare bucket buffers kept for reuse, of each kind (more are freed).
const SPARE: usize = 16;

/// What the queue needs to know of an event: whether it is a node's tick
/// (kept as the node's id alone) and how to make one back.
pub trait Item: Sized {
    /// The node whose tick this is, if it is a tick.
    fn as_tick(&self) -> Option<u32>;
    /// Node `id`'s tick.
    fn tick(id: u32) -> Self;
}

/// A waiting event, looked at in place.
#[derive(Debug, PartialEq, Eq)]
pub enum Peek<'a, T> {
    /// Node `id`'s tick.
    Tick(u32),
    /// Any other event.
    Other(&'a T),
}

struct Far<T> {
    time: u64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Far<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl<T> Eq for Far<T> {}
impl<T> PartialOrd for Far<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Far<T> {
    fn cmp(&self, o: &Self) -> Ordering {
        // reversed: BinaryHeap is a max-heap
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

/// The events of one millisecond, in insertion order: bit `k` of `kinds`
/// says whether the `k`-th is a tick (the next of `ticks`) or not (the next
/// of `items`).
struct Bucket<T> {
    items: Vec<T>,
    ticks: Vec<u32>,
    kinds: Vec<u64>,
}

impl<T> Default for Bucket<T> {
    fn default() -> Self {
        Bucket { items: Vec::new(), ticks: Vec::new(), kinds: Vec::new() }
    }
}

impl<T> Bucket<T> {
    #[inline]
    fn len(&self) -> usize {
        self.items.len() + self.ticks.len()
    }
}

/// Whether the `k`-th event of `kinds` is a tick.
#[inline]
fn is_tick(kinds: &[u64], k: usize) -> bool {
    kinds[k / 64] >> (k % 64) & 1 == 1
}

/// Give an empty bucket's buffer `v` a spare one (if it has none yet).
#[inline]
fn reuse<U>(v: &mut Vec<U>, spare: &mut Vec<Vec<U>>) {
    if v.capacity() == 0 {
        if let Some(s) = spare.pop() {
            *v = s;
        }
    }
}

/// Keep a used buffer for reuse, emptied, if the pool has room.
#[inline]
fn keep<U>(mut v: Vec<U>, spare: &mut Vec<Vec<U>>) {
    if v.capacity() > 0 && spare.len() < SPARE {
        v.clear();
        spare.push(v);
    }
}

/// The millisecond being popped: a bucket taken out of the ring, read from
/// the front.
struct Current<T> {
    items: VecDeque<T>,
    ticks: Vec<u32>,
    kinds: Vec<u64>,
    /// `rank[k]`: the ticks before its `k`-th event (made when it is taken
    /// out of the ring, so that a look ahead costs no bit counting).
    rank: Vec<u32>,
    /// Events of it taken so far, and how many of them were ticks.
    taken: usize,
    ticks_taken: usize,
    len: usize,
}

impl<T> Current<T> {
    #[inline]
    fn left(&self) -> usize {
        self.len - self.taken
    }
}

/// Spare buffers of each kind.
struct Spare<T> {
    items: Vec<Vec<T>>,
    ticks: Vec<Vec<u32>>,
    kinds: Vec<Vec<u64>>,
}

/// A deterministic priority queue of `T` keyed by virtual time.
pub struct EventQueue<T> {
    now: u64,
    buckets: Vec<Bucket<T>>,
    in_window: usize,
    current: Current<T>,
    far: BinaryHeap<Far<T>>,
    seq: u64,
    /// Emptied bucket buffers, for the next buckets to fill.
    spare: Spare<T>,
}

impl<T: Item> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Call `f` with the events of a bucket from the `from`-th on, in order;
/// `items` yields its non-ticks from the first at or after `from`, and
/// `ticks` its ticks likewise.
fn each<'a, T: 'a>(
    kinds: &[u64],
    from: usize,
    len: usize,
    mut ticks: impl Iterator<Item = &'a u32>,
    mut items: impl Iterator<Item = &'a T>,
    f: &mut impl FnMut(Peek<'a, T>),
) {
    for k in from..len {
        if is_tick(kinds, k) {
            if let Some(&id) = ticks.next() {
                f(Peek::Tick(id));
            }
        } else if let Some(item) = items.next() {
            f(Peek::Other(item));
        }
    }
}

impl<T: Item> EventQueue<T> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        EventQueue {
            now: 0,
            buckets: (0..WINDOW).map(|_| Bucket::default()).collect(),
            in_window: 0,
            current: Current {
                items: VecDeque::new(),
                ticks: Vec::new(),
                kinds: Vec::new(),
                rank: Vec::new(),
                taken: 0,
                ticks_taken: 0,
                len: 0,
            },
            far: BinaryHeap::new(),
            seq: 0,
            spare: Spare { items: Vec::new(), ticks: Vec::new(), kinds: Vec::new() },
        }
    }

    /// Time of the last popped event (events are never scheduled before it).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.current.left() + self.in_window + self.far.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedule `item` at `time` (clamped to now: the past cannot be scheduled).
    pub fn push(&mut self, time: u64, item: T) {
        let time = time.max(self.now);
        if time < self.now + WINDOW as u64 {
            self.bucket_push(time, item);
        } else {
            self.seq += 1;
            self.far.push(Far { time, seq: self.seq, item });
        }
    }

    /// The event that the `k`-th `pop` from now returns (0: the next), if
    /// it is due at the millisecond being popped: a look ahead, to prefetch
    /// what it touches. `None` says nothing about later times.
    #[inline]
    pub fn ahead(&self, k: usize) -> Option<Peek<'_, T>> {
        let c = &self.current;
        let at = c.taken + k;
        if at >= c.len {
            return None;
        }
        let ticks = c.rank[at] as usize;
        if is_tick(&c.kinds, at) {
            c.ticks.get(ticks).map(|&id| Peek::Tick(id))
        } else {
            // the deque's front is the first other event not taken
            c.items.get(at - ticks - (c.taken - c.ticks_taken)).map(Peek::Other)
        }
    }

    /// About how many events are due before `time`: those in the next
    /// buckets (events still in the far heap are not counted). O(`time - now`).
    pub fn due_before(&self, time: u64) -> usize {
        let end = time.min(self.now + WINDOW as u64);
        self.current.left() + (self.now..end).map(|t| self.buckets[t as usize % WINDOW].len()).sum::<usize>()
    }

    /// Call `f` with every waiting event and its time: in `(time, seq)`
    /// order within the window (8.2 s ahead), then those beyond it in no
    /// particular order. O(events + window): for rare looks (a fault, a
    /// click), not per event.
    pub fn scan(&self, mut f: impl FnMut(u64, Peek<'_, T>)) {
        let c = &self.current;
        let now = self.now;
        each(&c.kinds, c.taken, c.len, c.ticks[c.ticks_taken..].iter(), c.items.iter(), &mut |p| f(now, p));
        // a bucket holds the events of one time in `now..now + WINDOW`
        for k in 0..WINDOW as u64 {
            let b = &self.buckets[((self.now + k) % WINDOW as u64) as usize];
            each(&b.kinds, 0, b.len(), b.ticks.iter(), b.items.iter(), &mut |p| f(now + k, p));
        }
        for far in &self.far {
            match far.item.as_tick() {
                Some(id) => f(far.time, Peek::Tick(id)),
                None => f(far.time, Peek::Other(&far.item)),
            }
        }
    }

    /// The earliest event and its time, earliest-inserted first among equals.
    pub fn pop(&mut self) -> Option<(u64, T)> {
        let t = self.peek_until(u64::MAX)?;
        let c = &mut self.current;
        let k = c.taken;
        c.taken += 1;
        if is_tick(&c.kinds, k) {
            c.ticks_taken += 1;
            c.ticks.get(c.ticks_taken - 1).map(|&id| (t, T::tick(id)))
        } else {
            c.items.pop_front().map(|item| (t, item))
        }
    }

    /// If the earliest event is due at or before `bound`, move the clock to
    /// it and return its time (the next `pop` returns it). Otherwise move
    /// the clock towards `bound`, never past it and never past an event, and
    /// return `None`: the caller may then still schedule events at any time
    /// from `bound` on.
    pub fn peek_until(&mut self, bound: u64) -> Option<u64> {
        loop {
            if self.current.left() > 0 {
                return Some(self.now);
            }
            let k = self.now as usize % WINDOW;
            if self.buckets[k].len() > 0 {
                self.take_bucket(k);
                continue;
            }
            if self.now >= bound {
                return None;
            }
            if self.in_window == 0 {
                let next = self.far.peek()?.time;
                self.now = next.min(bound);
            } else {
                self.now += 1;
            }
            self.migrate();
        }
    }

    /// Make bucket `k` the current millisecond, its old buffers spare.
    fn take_bucket(&mut self, k: usize) {
        let b = std::mem::take(&mut self.buckets[k]);
        let len = b.len();
        self.in_window -= len;
        let c = &mut self.current;
        let items: Vec<T> = std::mem::replace(&mut c.items, VecDeque::from(b.items)).into();
        keep(items, &mut self.spare.items);
        keep(std::mem::replace(&mut c.ticks, b.ticks), &mut self.spare.ticks);
        keep(std::mem::replace(&mut c.kinds, b.kinds), &mut self.spare.kinds);
        (c.taken, c.ticks_taken, c.len) = (0, 0, len);
        c.rank.clear();
        let mut ticks = 0;
        for k in 0..len {
            c.rank.push(ticks);
            ticks += u32::from(is_tick(&c.kinds, k));
        }
    }

    fn migrate(&mut self) {
        let horizon = self.now + WINDOW as u64;
        while self.far.peek().is_some_and(|f| f.time < horizon) {
            let f = self.far.pop().expect("peeked");
            self.bucket_push(f.time, f.item);
        }
    }

    /// Append `item` to the bucket of `time` (inside the window), giving an
    /// empty bucket's buffers spare ones.
    #[inline]
    fn bucket_push(&mut self, time: u64, item: T) {
        let b = &mut self.buckets[time as usize % WINDOW];
        let k = b.len();
        if k.is_multiple_of(64) {
            reuse(&mut b.kinds, &mut self.spare.kinds);
            b.kinds.push(0);
        }
        match item.as_tick() {
            Some(id) => {
                b.kinds[k / 64] |= 1 << (k % 64);
                reuse(&mut b.ticks, &mut self.spare.ticks);
                b.ticks.push(id);
            }
            None => {
                reuse(&mut b.items, &mut self.spare.items);
                b.items.push(item);
            }
        }
        self.in_window += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A test event: a tick, or anything else (a number).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum E {
        Tick(u32),
        X(u64),
    }

    impl Item for E {
        fn as_tick(&self) -> Option<u32> {
            match self {
                E::Tick(id) => Some(*id),
                E::X(_) => None,
            }
        }
        fn tick(id: u32) -> Self {
            E::Tick(id)
        }
    }

    fn peeked(p: Peek<'_, E>) -> E {
        match p {
            Peek::Tick(id) => E::Tick(id),
            Peek::Other(e) => *e,
        }
    }

    /// Event number `id`, a tick for one id in three.
    fn event(id: u64) -> E {
        if id.is_multiple_of(3) {
            E::Tick(id as u32)
        } else {
            E::X(id)
        }
    }

    fn id_of(e: E) -> u64 {
        match e {
            E::Tick(id) => u64::from(id),
            E::X(id) => id,
        }
    }

    #[test]
    fn scan_sees_every_waiting_event_at_its_time() {
        let mut rng = Rng::new(5);
        let mut q = EventQueue::new();
        let mut reference = Vec::new();
        for id in 0..3_000u64 {
            let t = q.now() + rng.below(20_000);
            q.push(t, event(id));
            reference.push((t, event(id)));
            if id.is_multiple_of(7) {
                let (t, e) = q.pop().expect("something waits");
                reference.retain(|&r| r != (t, e));
            }
        }
        let mut seen = Vec::new();
        q.scan(|t, p| seen.push((t, peeked(p))));
        // within the window, in pop order
        let window: Vec<_> = seen.iter().copied().filter(|&(t, _)| t < q.now() + WINDOW as u64).collect();
        assert!(window.windows(2).all(|w| w[0].0 <= w[1].0), "the window is scanned in time order");
        seen.sort_unstable();
        reference.sort_unstable();
        assert_eq!(seen, reference);
    }

    #[test]
    fn peek_until_stops_at_the_bound_and_later_pushes_keep_order() {
        let mut q = EventQueue::new();
        q.push(10, E::X(1));
        q.push(20_000, E::Tick(9));
        assert_eq!(q.peek_until(5), None);
        assert_eq!(q.now(), 5, "the clock moved to the bound, not past it");
        q.push(5, E::Tick(2)); // still allowed at the bound
        assert_eq!(q.peek_until(15_000), Some(5));
        assert_eq!(q.pop(), Some((5, E::Tick(2))));
        assert_eq!(q.pop(), Some((10, E::X(1))));
        assert_eq!(q.peek_until(15_000), None);
        assert_eq!(q.now(), 15_000);
        q.push(15_000, E::X(3));
        assert_eq!(q.pop(), Some((15_000, E::X(3))));
        assert_eq!(q.pop(), Some((20_000, E::Tick(9))));
        assert_eq!(q.peek_until(u64::MAX), None);
    }

    #[test]
    fn ticks_and_other_events_pop_in_time_then_insertion_order() {
        // compare against a sorted reference on random schedules, ticks and
        // other events mixed, including far-future events and events pushed
        // while popping (at the millisecond being popped, too)
        let mut rng = Rng::new(11);
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut id = 0u64;
        for _ in 0..5_000 {
            let t = rng.below(40_000);
            q.push(t, event(id));
            reference.push((t, id));
            id += 1;
        }
        let mut popped = Vec::new();
        while let Some((t, e)) = q.pop() {
            popped.push((t, id_of(e)));
            assert_eq!(e, event(id_of(e)), "a tick stays a tick and the rest stays itself");
            if id < 8_000 && rng.chance(0.5) {
                let dt = [0, 1, 5, 9_000, 30_000][rng.below(5) as usize];
                q.push(t + dt, event(id));
                reference.push((t + dt, id));
                id += 1;
            }
        }
        // reference order: by time, then by insertion (ids increase with insertion)
        reference.sort();
        assert_eq!(popped, reference);
    }

    #[test]
    fn ahead_shows_what_the_next_pops_of_the_current_millisecond_return() {
        let mut q = EventQueue::new();
        for (t, x) in [(3, E::X(0)), (3, E::Tick(1)), (3, E::X(2)), (3, E::Tick(3)), (4, E::X(4))] {
            q.push(t, x);
        }
        assert_eq!(q.pop(), Some((3, E::X(0))));
        assert_eq!(q.ahead(0), Some(Peek::Tick(1)));
        assert_eq!(q.ahead(1), Some(Peek::Other(&E::X(2))));
        assert_eq!(q.ahead(2), Some(Peek::Tick(3)));
        assert_eq!(q.ahead(3), None, "a later millisecond is not looked into");
        assert_eq!(q.pop(), Some((3, E::Tick(1))));
        assert_eq!(q.ahead(0), Some(Peek::Other(&E::X(2))));
        assert_eq!(q.ahead(1), Some(Peek::Tick(3)));
    }

    #[test]
    fn ahead_agrees_with_the_pops_across_many_words_of_kinds() {
        // 300 events in one millisecond (five words of kinds), looked at
        // after every pop, at every distance
        let mut rng = Rng::new(3);
        let mut q = EventQueue::new();
        let events: Vec<E> = (0..300u64).map(|i| if rng.chance(0.4) { E::Tick(i as u32) } else { E::X(i) }).collect();
        for &e in &events {
            q.push(7, e);
        }
        for at in 0..events.len() {
            assert_eq!(q.pop(), Some((7, events[at])));
            for k in 0..events.len() + 2 {
                assert_eq!(q.ahead(k).map(peeked), events.get(at + 1 + k).copied(), "after {at}, {k} ahead");
            }
        }
        assert!(q.is_empty());
    }

    #[test]
    fn emptied_buckets_keep_no_buffer_beyond_a_small_pool() {
        // 400 events a millisecond over 3 s: each bucket once held 400
        let mut q = EventQueue::new();
        for t in 0..3_000u64 {
            for k in 0..400u64 {
                q.push(t, event(k));
            }
        }
        let mut popped = 0;
        while q.pop().is_some() {
            popped += 1;
        }
        assert_eq!(popped, 3_000 * 400);
        let items: usize =
            q.buckets.iter().map(|b| b.items.capacity()).chain(q.spare.items.iter().map(Vec::capacity)).sum();
        let ticks: usize =
            q.buckets.iter().map(|b| b.ticks.capacity()).chain(q.spare.ticks.iter().map(Vec::capacity)).sum();
        assert!(items <= SPARE * 512, "buffers held: {items} events");
        assert!(ticks <= SPARE * 256, "buffers held: {ticks} ticks");
    }

    #[test]
    fn buckets_holding_only_ticks_take_no_message_buffer() {
        // a burst of 400 messages a millisecond for 20 ms leaves spare
        // buffers of 400 messages; then a second of 100 ticks a millisecond
        // (a SWIM population's next ticks) must not hold them
        let mut q = EventQueue::new();
        for t in 0..20u64 {
            for k in 0..400u64 {
                q.push(t, E::X(k));
            }
        }
        while q.peek_until(19).is_some() {
            q.pop();
        }
        for t in 100..1_100u64 {
            for k in 0..100u32 {
                q.push(t, E::Tick(k));
            }
        }
        let items: usize = q.buckets.iter().map(|b| b.items.capacity()).sum();
        assert_eq!(items, 0, "no tick bucket holds a message buffer");
        let ticks: usize = q.buckets.iter().map(|b| b.ticks.capacity()).sum();
        assert!(ticks <= 1_000 * 128, "tick buffers: {ticks} ids for 100,000 ticks");
        assert_eq!(q.len(), 100_000);
    }

    #[test]
    fn empty_queue_pops_none() {
        let mut q: EventQueue<E> = EventQueue::new();
        assert!(q.pop().is_none());
        q.push(100_000, E::Tick(1));
        assert_eq!(q.pop(), Some((100_000, E::Tick(1))));
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }
}
