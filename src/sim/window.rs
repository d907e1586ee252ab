//! Parallel windows of the events engine: what one thread does.
//!
//! No message arrives sooner than the network's least latency `L`, so in a
//! window `[t0, t0 + L)` of virtual time nothing a node sends can reach
//! another node inside the window: the nodes' events there are independent
//! of one another, except for each node's own timer. The engine takes the
//! window's events off its queue, gives each [`Part`] of the population its
//! own nodes' events, and the parts run them on threads at once; a part
//! records its effects (messages, metric calls, next timers) in a
//! [`PartLog`] and a list of [`Done`], one per event. The engine then
//! replays those logs on its own thread in the exact order the sequential
//! engine would have processed the events, so a run's report does not
//! depend on the number of threads.
//!
//! That order is the queue's `(time, insertion)` order. Events taken off
//! the queue keep it; a timer a node sets for a time inside the window
//! comes after every taken event of its millisecond (it was inserted
//! later) and after the timers set before it. [`Order`] computes it, the
//! same way for a part (its own events) and for the engine (all of them).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::nodeset::NodeSet;
use super::population::{Part, PartLog};

/// An event of a window, handed to the part that holds its node.
pub enum Job<M> {
    /// Node `i`'s timer.
    Tick(u32),
    /// A message `(from, to, msg)` arriving.
    Msg(u32, u32, M),
}

/// What became of one event of a part, in the order the part ran them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    /// Its node (the receiver of a message).
    pub node: u32,
    /// Its time, ms.
    pub t: u64,
    /// Whether it ran (false: its node was down, or the timer was stale).
    pub ran: bool,
    /// A timer that ran: when the node's next one is due.
    pub next: u64,
    /// One past its last message in the part's log.
    pub sends: usize,
    /// One past its last metric call in the part's log.
    pub ops: usize,
}

/// Where the next event of a window comes from.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// The next event taken off the queue.
    Taken,
    /// A timer set inside the window: `(time, node)`.
    Timer(u64, u32),
    /// None left.
    End,
}

/// The window's order: taken events (already in order) merged with the
/// timers nodes set inside the window.
#[derive(Debug, Default)]
pub struct Order {
    timers: BinaryHeap<Reverse<(u64, u64, u32)>>,
    set: u64,
}

impl Order {
    /// The next event, given the time of the next taken one (if any).
    pub fn next(&mut self, taken: Option<u64>) -> Next {
        match (taken, self.timers.peek()) {
            // a taken event goes first at its millisecond: it was queued earlier
            (Some(t), Some(Reverse((timer, ..)))) if t <= *timer => Next::Taken,
            (Some(_), None) => Next::Taken,
            (_, Some(_)) => {
                let Reverse((t, _, i)) = self.timers.pop().expect("peeked");
                Next::Timer(t, i)
            }
            (None, None) => Next::End,
        }
    }

    /// Node `i` set its timer for `t`, inside the window.
    pub fn timer(&mut self, t: u64, i: u32) {
        self.set += 1;
        self.timers.push(Reverse((t, self.set, i)));
    }
}

/// Run one part's events of the window ending before `t_end`: `jobs` in
/// queue order (taken out of the list, which keeps its memory), and the
/// timers its nodes set inside the window. `retimed`
/// is the engine's record of restarted timers (see the engine), copied.
pub fn run_part<M>(
    part: &mut dyn Part<M>,
    jobs: &mut Vec<(u64, Job<M>)>,
    up: &NodeSet,
    mut retimed: HashMap<u32, u64>,
    t_end: u64,
    log: &mut PartLog<M>,
    done: &mut Vec<Done>,
) {
    let mut order = Order::default();
    let mut jobs = jobs.drain(..).peekable();
    loop {
        let (t, job) = match order.next(jobs.peek().map(|j| j.0)) {
            Next::Taken => jobs.next().expect("peeked"),
            Next::Timer(t, i) => (t, Job::Tick(i)),
            Next::End => return,
        };
        let before = log.sends.len();
        let mut d = Done { node: 0, t, ran: false, next: 0, sends: 0, ops: 0 };
        match job {
            Job::Tick(i) => {
                d.node = i;
                if up.get(i as usize) && retimed.get(&i).is_none_or(|&valid| valid == t) {
                    part.tick(i, t, log);
                    let next = part.next_timeout(i).max(t + 1);
                    if let Some(valid) = retimed.get_mut(&i) {
                        *valid = next;
                    }
                    if next < t_end {
                        order.timer(next, i);
                    }
                    (d.ran, d.next) = (true, next);
                }
            }
            Job::Msg(from, to, msg) => {
                d.node = to;
                if up.get(to as usize) {
                    part.deliver(to, from, msg, t, log);
                    d.ran = true;
                }
            }
        }
        for s in &mut log.sends[before..] {
            s.3 = part.msg_info(&s.2);
        }
        (d.sends, d.ops) = (log.sends.len(), log.ops.len());
        done.push(d);
    }
}

/// A value alone on its cache lines (two of them: the adjacent-line
/// prefetcher pairs lines), for per-part state that different threads
/// write side by side (a part's log, its output buffers): without it, two
/// parts' vector lengths can share a line, and every push of one thread
/// evicts the line from the other's cache.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Padded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_events_go_first_at_their_millisecond_then_timers_in_the_order_set() {
        let mut o = Order::default();
        o.timer(12, 1);
        o.timer(10, 2);
        o.timer(12, 3);
        let taken = [10, 12, 13];
        let mut k = 0;
        let mut seen = Vec::new();
        loop {
            match o.next(taken.get(k).copied()) {
                Next::Taken => {
                    seen.push(format!("taken@{}", taken[k]));
                    k += 1;
                }
                Next::Timer(t, i) => seen.push(format!("timer{i}@{t}")),
                Next::End => break,
            }
        }
        assert_eq!(seen, ["taken@10", "timer2@10", "taken@12", "timer1@12", "timer3@12", "taken@13"]);
    }
}
