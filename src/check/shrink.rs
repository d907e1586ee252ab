//! Shrinking a failing fault schedule to a small one that still fails.
//!
//! Three moves, in this order, repeated until none helps or the run budget
//! is spent: drop faults (half the schedule, then quarters, ... then one at
//! a time, as delta debugging does), make each fault shorter (to the
//! shortest, then half, then three quarters of its length), and make each
//! start earlier (at 0, then half, then three quarters of its time). A
//! candidate is kept when it is well formed ([`Schedule::well_formed`]) and
//! still fails (the caller's test: the same property). Every step is a pure
//! function of the schedule and the test's answers, so the same failing
//! seed always shrinks to the same schedule; `max_runs` bounds the tests.

use super::schedule::Schedule;

/// A shrunk schedule and the runs it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// The smallest failing schedule found.
    pub schedule: Schedule,
    /// Candidates run.
    pub runs: usize,
    /// Whether the run budget ran out before no move helped.
    pub capped: bool,
}

/// A change to one fault's timing.
#[derive(Clone, Copy)]
enum Edit {
    /// Its length: the shortest, half, three quarters.
    Shorter,
    /// Its start: at 0, at half its time, at three quarters.
    Earlier,
}

impl Edit {
    /// The values to try for fault `i` of `s`, boldest first.
    fn values(self, s: &Schedule, i: usize) -> [u64; 3] {
        match self {
            Edit::Shorter => {
                let len = s.faults[i].length_ms;
                [1, (len / 2).max(1), (len * 3 / 4).max(1)]
            }
            Edit::Earlier => {
                let start = s.faults[i].start_ms;
                [0, start / 2, start * 3 / 4]
            }
        }
    }

    /// `s` with fault `i` changed to `value` (faults kept in start order).
    fn apply(self, s: &Schedule, i: usize, value: u64) -> Schedule {
        let mut cand = s.clone();
        match self {
            Edit::Shorter => cand.faults[i].length_ms = value,
            Edit::Earlier => {
                cand.faults[i].start_ms = value;
                cand.faults.sort_by_key(|f| f.start_ms);
            }
        }
        cand
    }
}

/// Shrink `start` (which fails) with `fails` (true: the candidate still
/// fails), running at most `max_runs` candidates.
pub fn shrink(start: Schedule, max_runs: usize, mut fails: impl FnMut(&Schedule) -> bool) -> Shrunk {
    let mut best = start;
    let mut runs = 0usize;
    // one candidate: counted, and kept if it fails; None when the budget is spent
    let mut attempt = |cand: Schedule, best: &mut Schedule| -> Option<bool> {
        if cand == *best || !cand.well_formed() {
            return Some(false);
        }
        if runs >= max_runs {
            return None;
        }
        runs += 1;
        let keep = fails(&cand);
        if keep {
            *best = cand;
        }
        Some(keep)
    };
    let capped = 'outer: loop {
        let mut progress = false;
        // fewer faults: drop chunks, halving their size
        let mut chunk = best.faults.len().div_ceil(2).max(1);
        while !best.faults.is_empty() {
            let mut i = 0;
            while i < best.faults.len() {
                let mut cand = best.clone();
                let end = (i + chunk).min(cand.faults.len());
                cand.faults.drain(i..end);
                match attempt(cand, &mut best) {
                    None => break 'outer true,
                    Some(true) => progress = true, // the next chunk moved into place i
                    Some(false) => i += chunk,
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        // shorter, then earlier: each fault in turn, its first value that still fails
        for edit in [Edit::Shorter, Edit::Earlier] {
            for i in 0..best.faults.len() {
                for value in edit.values(&best, i) {
                    match attempt(edit.apply(&best, i, value), &mut best) {
                        None => break 'outer true,
                        Some(true) => {
                            progress = true;
                            break;
                        }
                        Some(false) => {}
                    }
                }
            }
        }
        if !progress {
            break false;
        }
    };
    Shrunk { schedule: best, runs, capped }
}

#[cfg(test)]
mod tests {
    use super::super::schedule::{Injected, What};
    use super::*;

    fn fault(start_ms: u64, length_ms: u64, node: u32) -> Injected {
        Injected { start_ms, length_ms, what: What::Crash { node, fresh: false } }
    }

    fn six() -> Schedule {
        Schedule { faults: (0..6).map(|i| fault(1_000 + 2_000 * i as u64, 1_500, i)).collect() }
    }

    #[test]
    fn a_failure_that_needs_one_fault_shrinks_to_it_early_and_short() {
        // fails while node 4 is down for 200 ms or more, whenever that is
        let needs_node_4 = |s: &Schedule| {
            s.faults.iter().any(|f| f.what == (What::Crash { node: 4, fresh: false }) && f.length_ms >= 200)
        };
        let out = shrink(six(), 1_000, needs_node_4);
        // halving steps stop within a quarter above the threshold
        let f = &out.schedule.faults;
        assert!(f.len() == 1 && f[0].what == (What::Crash { node: 4, fresh: false }), "{out:?}");
        assert!(f[0].start_ms == 0 && (200..250).contains(&f[0].length_ms), "{out:?}");
        assert!(!out.capped && out.runs < 100, "{} runs", out.runs);
    }

    #[test]
    fn a_failure_that_needs_two_faults_keeps_both() {
        let needs_two =
            |s: &Schedule| s.faults.iter().filter(|f| matches!(f.what, What::Crash { node: 1 | 3, .. })).count() == 2;
        let out = shrink(six(), 1_000, needs_two);
        let nodes: Vec<_> = out.schedule.faults.iter().map(|f| f.what.clone()).collect();
        assert_eq!(nodes, [What::Crash { node: 1, fresh: false }, What::Crash { node: 3, fresh: false }]);
        assert!(out.schedule.faults.iter().all(|f| f.start_ms == 0 && f.length_ms == 1), "{out:?}");
    }

    #[test]
    fn shrinking_is_deterministic_and_stops_at_its_run_budget() {
        let odd = |s: &Schedule| s.faults.iter().map(|f| f.start_ms + f.length_ms).sum::<u64>() % 7 != 3;
        assert_eq!(shrink(six(), 500, odd), shrink(six(), 500, odd));
        let out = shrink(six(), 5, |_| true);
        assert!(out.schedule.faults.is_empty() && out.runs == 2, "half, then none: {out:?}");
        let out = shrink(six(), 3, |s| s.faults.len() > 5 || s.faults.iter().any(|f| f.start_ms > 0));
        assert!(out.capped && out.runs == 3, "{out:?}");
    }

    #[test]
    fn candidates_that_overlap_on_a_node_are_never_run() {
        // two crashes of node 0; moving the second to 0 would overlap the first
        let s = Schedule { faults: vec![fault(0, 1_000, 0), fault(5_000, 1_000, 0)] };
        let out = shrink(s, 100, |c| {
            assert!(c.well_formed(), "{c:?}");
            c.faults.len() == 2
        });
        assert_eq!(out.schedule.faults.len(), 2);
    }
}
