//! Many independent runs on every core: `gossip check`'s runner.
//!
//! Each job is one single-threaded, deterministic run; workers take the
//! next job from a shared counter, and results come back in job order, so
//! the outcome does not depend on the number of workers or on which
//! finished first. (Kept small and apart: `gossip sweep` has a runner of
//! its own, and the two may become one.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f(0), f(1), ..., f(count - 1)` on up to `workers` threads, in order;
/// `done` is called (from a worker) after each job.
pub fn map<T: Send>(count: usize, workers: usize, f: impl Fn(usize) -> T + Sync, done: impl Fn(&T) + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            return;
        }
        let out = f(i);
        done(&out);
        slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(out);
    };
    let workers = workers.clamp(1, count.max(1));
    std::thread::scope(|s| {
        for _ in 1..workers {
            s.spawn(work);
        }
        work();
    });
    slots.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|o| o.expect("every job ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_whatever_the_workers() {
        let square = |i: usize| i * i;
        let one = map(50, 1, square, |_| {});
        for workers in [2, 3, 8, 100] {
            let seen = AtomicUsize::new(0);
            let many = map(50, workers, square, |_| {
                seen.fetch_add(1, Ordering::Relaxed);
            });
            assert_eq!(many, one, "{workers} workers");
            assert_eq!(seen.into_inner(), 50);
        }
        assert!(map(0, 4, square, |_| {}).is_empty());
    }
}
