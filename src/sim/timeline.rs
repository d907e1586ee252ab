//! The run's one external timeline: the faults and the workload together.
//!
//! Everything that happens to a run from outside its nodes is on it: the
//! fault timeline (`faults.rs`: partitions, crashes, restarts, joins, ...)
//! and the workload's requests (`workload.rs`). The engines ask it one
//! question, "when does the next external thing happen", to know how far
//! they may run the nodes' own events (and how wide a window of threads
//! may be), and take what is due from it in one order: at the same
//! millisecond, faults first (in the order they were added), then the
//! workload's requests, then the nodes' timers and messages.
//!
//! The end of the workload's updates is kept here too ([`Timeline::take_end`]),
//! but it is no external event: it is ordered among the nodes' timers (see
//! `workload.rs`).

use super::faults::{Fault, TimedFault};
use super::workload::{AnyWorkload, Workload};

/// The faults and the workload of a run, and how far each has got.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// In time order; same-time faults in the order they were added.
    faults: Vec<TimedFault>,
    /// How many were applied.
    next_fault: usize,
    /// What the clients ask of the nodes.
    pub workload: AnyWorkload,
    /// Whether the workload's end was taken.
    ended: bool,
}

impl Timeline {
    /// The timeline of `faults` (in any order: sorted, same-time faults
    /// keeping their order) and `workload`.
    pub fn new(mut faults: Vec<TimedFault>, workload: AnyWorkload) -> Self {
        faults.sort_by_key(|f| f.at_ms); // stable: same-time faults keep their order
        Timeline { faults, next_fault: 0, workload, ended: false }
    }

    /// When the next external thing happens (a fault or a request), if
    /// anything is left.
    #[inline]
    pub fn next_at(&self) -> Option<u64> {
        match (self.next_fault_at(), self.workload.next_at()) {
            (Some(f), Some(r)) => Some(f.min(r)),
            (f, r) => f.or(r),
        }
    }

    /// When the next fault applies, if any is left.
    #[inline]
    pub fn next_fault_at(&self) -> Option<u64> {
        self.faults.get(self.next_fault).map(|f| f.at_ms)
    }

    /// The next fault, if it is due at or before `now` (it counts as applied).
    pub fn take_fault(&mut self, now: u64) -> Option<Fault> {
        let f = self.faults.get(self.next_fault).filter(|f| f.at_ms <= now)?.fault.clone();
        self.next_fault += 1;
        Some(f)
    }

    /// Whether every fault was applied.
    pub fn faults_done(&self) -> bool {
        self.next_fault >= self.faults.len()
    }

    /// Add a fault. It must lie in the future of the run (the caller keeps
    /// it after the current time); same-time faults keep the order they
    /// were added in.
    pub fn add_fault(&mut self, f: TimedFault) {
        let at = self.next_fault + self.faults[self.next_fault..].partition_point(|g| g.at_ms <= f.at_ms);
        self.faults.insert(at, f);
    }

    /// The whole fault timeline, applied and pending.
    pub fn faults(&self) -> &[TimedFault] {
        &self.faults
    }

    /// Whether the workload's end is due at `now` and was not taken yet
    /// (it counts as taken).
    pub fn take_end(&mut self, now: u64) -> bool {
        let due = !self.ended && now >= self.workload.end_ms();
        self.ended |= due;
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::workload::{Broadcast, Movies};

    fn at(at_ms: u64, fault: Fault) -> TimedFault {
        TimedFault { at_ms, fault }
    }

    #[test]
    fn the_next_external_thing_is_the_earlier_of_the_next_fault_and_the_next_request() {
        let requests = vec![(5, 0, 10), (9, 1, 11)];
        let mut t = Timeline::new(
            vec![at(7, Fault::Heal), at(3, Fault::Loss { p: 0.1 })],
            AnyWorkload::Broadcast(Broadcast::new(requests, 20)),
        );
        assert_eq!(t.next_at(), Some(3));
        assert_eq!(t.take_fault(2), None, "not due yet");
        assert_eq!(t.take_fault(3), Some(Fault::Loss { p: 0.1 }));
        assert_eq!(t.next_at(), Some(5), "the first request comes before the next fault");
        assert_eq!(t.next_fault_at(), Some(7));
        assert!(!t.faults_done());
        assert_eq!(t.take_fault(100), Some(Fault::Heal));
        assert!(t.faults_done());
        assert_eq!(t.next_at(), Some(5), "the requests are left");
    }

    #[test]
    fn same_time_faults_keep_the_order_they_were_added_in() {
        let mut t = Timeline::new(vec![at(4, Fault::Heal), at(4, Fault::Crash { node: 1 })], empty());
        t.add_fault(at(4, Fault::Crash { node: 2 }));
        t.add_fault(at(2, Fault::Crash { node: 3 }));
        let order: Vec<Fault> = std::iter::from_fn(|| t.take_fault(10)).collect();
        assert_eq!(order, [Fault::Crash { node: 3 }, Fault::Heal, Fault::Crash { node: 1 }, Fault::Crash { node: 2 }]);
        assert_eq!(t.faults().len(), 4, "applied faults stay on the timeline");
    }

    #[test]
    fn the_workloads_end_is_taken_once_and_not_before_its_time() {
        let mut t = Timeline::new(Vec::new(), AnyWorkload::Movies(Movies { end_ms: 50 }));
        assert!(!t.take_end(49));
        assert!(t.take_end(60));
        assert!(!t.take_end(70), "once");
        assert_eq!(t.next_at(), None, "movies makes no requests");
    }

    fn empty() -> AnyWorkload {
        AnyWorkload::Broadcast(Broadcast::new(Vec::new(), 0))
    }
}
