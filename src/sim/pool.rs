//! Helper threads kept for the whole run, for the events engine's windows
//! (native only; see `window.rs`).
//!
//! A run of the course app at 2,000 nodes has about a thousand windows of
//! a few milliseconds each. Starting a thread per window and joining it
//! costs the system scheduler about half a millisecond a window on these
//! machines (`clone3`, futex wake-ups, the new thread's setup). A [`Pool`]
//! starts its helpers once, as a rayon thread pool; each window is one
//! rayon scope, in which the caller's own share runs on the caller's
//! thread beside the helpers'. Lending the window's borrows to the helpers
//! for the length of the scope is rayon's (safe) scope, as with
//! `std::thread::scope`.

use rayon_core::{ThreadPool, ThreadPoolBuilder};

/// A fixed set of helper threads that run a borrowed closure alongside the
/// caller, one call at a time.
pub struct Pool {
    /// `None` when the system refused the threads: the caller does it all.
    pool: Option<ThreadPool>,
}

impl Pool {
    /// A pool of `helpers` threads (none if the system refuses them: the
    /// caller's share of each job is then the whole job).
    pub fn new(helpers: usize) -> Pool {
        let pool = (helpers > 0)
            .then(|| {
                ThreadPoolBuilder::new()
                    .num_threads(helpers)
                    .thread_name(|i| format!("gossip-sim-{}", i + 1))
                    .build()
                    .ok()
            })
            .flatten();
        Pool { pool }
    }

    /// Helper threads running.
    pub fn helpers(&self) -> usize {
        self.pool.as_ref().map_or(0, ThreadPool::current_num_threads)
    }

    /// Run `job` once per helper while the caller runs `mine`; return once
    /// all of them are done. A panic in `job` on a helper is raised here
    /// after the others finish.
    pub fn run(&self, job: &(dyn Fn() + Sync), mine: impl FnOnce()) {
        let Some(pool) = &self.pool else { return mine() };
        pool.in_place_scope(|s| {
            for _ in 0..pool.current_num_threads() {
                s.spawn(|_| job());
            }
            mine();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_job_runs_once_per_helper_and_run_returns_after_them() {
        let pool = Pool::new(3);
        assert_eq!(pool.helpers(), 3);
        for round in 1..=50usize {
            let count = AtomicUsize::new(0);
            // a borrow of this iteration's counter
            let job = || {
                count.fetch_add(1, Ordering::SeqCst);
            };
            let mut mine = 0;
            pool.run(&job, || mine += 1);
            assert_eq!(count.load(Ordering::SeqCst), 3, "round {round}");
            assert_eq!(mine, 1);
            if round % 10 == 0 {
                // long enough for the helpers to go to sleep
                std::thread::sleep(std::time::Duration::from_millis(4));
            }
        }
    }

    #[test]
    fn a_panic_on_a_helper_is_raised_to_the_caller_and_the_pool_goes_on() {
        let pool = Pool::new(1);
        let caught = catch_unwind(AssertUnwindSafe(|| pool.run(&|| panic!("boom"), || {})));
        assert!(caught.is_err());
        let count = AtomicUsize::new(0);
        pool.run(
            &|| {
                count.fetch_add(1, Ordering::SeqCst);
            },
            || {},
        );
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
