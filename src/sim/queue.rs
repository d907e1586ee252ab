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
//! Memory: an empty bucket holds no buffer. A bucket's buffer, once its
//! events are taken, goes to a small pool that the next bucket to fill
//! takes from, so the buffers in use follow the buckets that hold events
//! (about the span of times scheduled ahead) rather than every bucket of
//! the window keeping the largest buffer it ever needed (8,192 of them: at
//! 100,000 SWIM members, 400 events a millisecond, that was 150 MB).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

const WINDOW: usize = 1 << 13; // 8.2 s of 1 ms buckets
/// Spare bucket buffers kept for reuse (more are freed).
const SPARE: usize = 16;

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

/// A deterministic priority queue of `T` keyed by virtual time.
pub struct EventQueue<T> {
    now: u64,
    buckets: Vec<Vec<T>>,
    in_window: usize,
    current: VecDeque<T>,
    far: BinaryHeap<Far<T>>,
    seq: u64,
    /// Emptied bucket buffers, for the next buckets to fill.
    spare: Vec<Vec<T>>,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> EventQueue<T> {
    /// An empty queue at time 0.
    pub fn new() -> Self {
        EventQueue {
            now: 0,
            buckets: (0..WINDOW).map(|_| Vec::new()).collect(),
            in_window: 0,
            current: VecDeque::new(),
            far: BinaryHeap::new(),
            seq: 0,
            spare: Vec::new(),
        }
    }

    /// Time of the last popped event (events are never scheduled before it).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.current.len() + self.in_window + self.far.len()
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
    pub fn ahead(&self, k: usize) -> Option<&T> {
        self.current.get(k)
    }

    /// About how many events are due before `time`: those in the next
    /// buckets (events still in the far heap are not counted). O(`time - now`).
    pub fn due_before(&self, time: u64) -> usize {
        let end = time.min(self.now + WINDOW as u64);
        self.current.len() + (self.now..end).map(|t| self.buckets[t as usize % WINDOW].len()).sum::<usize>()
    }

    /// Call `f` with every waiting event and its time: in `(time, seq)`
    /// order within the window (8.2 s ahead), then those beyond it in no
    /// particular order. O(events + window): for rare looks (a fault, a
    /// click), not per event.
    pub fn scan(&self, mut f: impl FnMut(u64, &T)) {
        for item in &self.current {
            f(self.now, item);
        }
        // a bucket holds the events of one time in `now..now + WINDOW`
        for k in 0..WINDOW as u64 {
            for item in &self.buckets[((self.now + k) % WINDOW as u64) as usize] {
                f(self.now + k, item);
            }
        }
        for far in &self.far {
            f(far.time, &far.item);
        }
    }

    /// The earliest event and its time, earliest-inserted first among equals.
    pub fn pop(&mut self) -> Option<(u64, T)> {
        let t = self.peek_until(u64::MAX)?;
        self.current.pop_front().map(|item| (t, item))
    }

    /// If the earliest event is due at or before `bound`, move the clock to
    /// it and return its time (the next `pop` returns it). Otherwise move
    /// the clock towards `bound`, never past it and never past an event, and
    /// return `None`: the caller may then still schedule events at any time
    /// from `bound` on.
    pub fn peek_until(&mut self, bound: u64) -> Option<u64> {
        loop {
            if !self.current.is_empty() {
                return Some(self.now);
            }
            let k = self.now as usize % WINDOW;
            if !self.buckets[k].is_empty() {
                let bucket = std::mem::take(&mut self.buckets[k]);
                self.in_window -= bucket.len();
                let spare = std::mem::replace(&mut self.current, VecDeque::from(bucket));
                let mut spare: Vec<T> = spare.into();
                if spare.capacity() > 0 && self.spare.len() < SPARE {
                    spare.clear();
                    self.spare.push(spare);
                }
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

    fn migrate(&mut self) {
        let horizon = self.now + WINDOW as u64;
        while self.far.peek().is_some_and(|f| f.time < horizon) {
            let f = self.far.pop().expect("peeked");
            self.bucket_push(f.time, f.item);
        }
    }

    /// Append `item` to the bucket of `time` (inside the window), giving an
    /// empty bucket a spare buffer.
    #[inline]
    fn bucket_push(&mut self, time: u64, item: T) {
        let bucket = &mut self.buckets[time as usize % WINDOW];
        if bucket.capacity() == 0 {
            if let Some(b) = self.spare.pop() {
                *bucket = b;
            }
        }
        bucket.push(item);
        self.in_window += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn scan_sees_every_waiting_event_at_its_time() {
        let mut rng = Rng::new(5);
        let mut q = EventQueue::new();
        let mut reference = Vec::new();
        for id in 0..3_000u64 {
            let t = q.now() + rng.below(20_000);
            q.push(t, id);
            reference.push((t, id));
            if id % 7 == 0 {
                let (t, id) = q.pop().expect("something waits");
                reference.retain(|&r| r != (t, id));
            }
        }
        let mut seen = Vec::new();
        q.scan(|t, &id| seen.push((t, id)));
        seen.sort_unstable();
        reference.sort_unstable();
        assert_eq!(seen, reference);
    }

    #[test]
    fn peek_until_stops_at_the_bound_and_later_pushes_keep_order() {
        let mut q = EventQueue::new();
        q.push(10, "a");
        q.push(20_000, "far");
        assert_eq!(q.peek_until(5), None);
        assert_eq!(q.now(), 5, "the clock moved to the bound, not past it");
        q.push(5, "b"); // still allowed at the bound
        assert_eq!(q.peek_until(15_000), Some(5));
        assert_eq!(q.pop(), Some((5, "b")));
        assert_eq!(q.pop(), Some((10, "a")));
        assert_eq!(q.peek_until(15_000), None);
        assert_eq!(q.now(), 15_000);
        q.push(15_000, "c");
        assert_eq!(q.pop(), Some((15_000, "c")));
        assert_eq!(q.pop(), Some((20_000, "far")));
        assert_eq!(q.peek_until(u64::MAX), None);
    }

    #[test]
    fn pops_in_time_then_insertion_order() {
        // compare against a sorted reference on random schedules, including
        // far-future events and events pushed while popping
        let mut rng = Rng::new(11);
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut id = 0u64;
        for _ in 0..5_000 {
            let t = rng.below(40_000);
            q.push(t, id);
            reference.push((t, id));
            id += 1;
        }
        let mut popped = Vec::new();
        while let Some((t, x)) = q.pop() {
            popped.push((t, x));
            if id < 8_000 && rng.chance(0.5) {
                let dt = [0, 1, 5, 9_000, 30_000][rng.below(5) as usize];
                q.push(t + dt, id);
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
        for (t, x) in [(3, "a"), (3, "b"), (3, "c"), (4, "d")] {
            q.push(t, x);
        }
        assert_eq!(q.pop(), Some((3, "a")));
        assert_eq!(q.ahead(0), Some(&"b"));
        assert_eq!(q.ahead(1), Some(&"c"));
        assert_eq!(q.ahead(2), None, "a later millisecond is not looked into");
        assert_eq!(q.pop(), Some((3, "b")));
        assert_eq!(q.ahead(0), Some(&"c"));
    }

    #[test]
    fn emptied_buckets_keep_no_buffer_beyond_a_small_pool() {
        // 400 events a millisecond over 3 s: each bucket once held 400
        let mut q = EventQueue::new();
        for t in 0..3_000u64 {
            for k in 0..400u32 {
                q.push(t, k);
            }
        }
        let mut popped = 0;
        while q.pop().is_some() {
            popped += 1;
        }
        assert_eq!(popped, 3_000 * 400);
        let held: usize = q.buckets.iter().chain(&q.spare).map(Vec::capacity).sum();
        assert!(held <= SPARE * 512, "buffers held: {held} events");
    }

    #[test]
    fn empty_queue_pops_none() {
        let mut q: EventQueue<u8> = EventQueue::new();
        assert!(q.pop().is_none());
        q.push(100_000, 1);
        assert_eq!(q.pop(), Some((100_000, 1)));
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }
}
