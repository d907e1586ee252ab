//! Helper threads kept for the whole run, for the events engine's windows
//! (native only; see `window.rs`).
//!
//! A run of the course app at 2,000 nodes has about a thousand windows of
//! a few milliseconds each. Starting a thread per window and joining it
//! costs the system scheduler about half a millisecond a window on these
//! machines (`clone3`, futex wake-ups, the new thread's setup). A [`Pool`]
//! starts its helpers once; between windows they watch an atomic counter,
//! spinning for a few tens of microseconds, then yielding their core to
//! any other thread that wants it (the next window usually comes within a
//! millisecond), and only after 2 ms sleep on a condition variable.
//!
//! [`Pool::run`] lends a borrowed closure to the helpers for one call and
//! returns only once every helper is done with it: that is what makes
//! sharing a non-`'static` borrow sound, as `std::thread::scope` does, and
//! it holds even if the closure panics on either side.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a waiting thread spins before it yields its core to other
/// threads between checks (the machine may have more threads than cores:
/// tests run in parallel).
const SPIN: Duration = Duration::from_micros(50);

/// How long a helper waits for the next job, yielding, before it sleeps.
const WAIT: Duration = Duration::from_millis(2);

/// A job as the helpers see it: its lifetime erased (see [`Pool::run`]).
type Job = &'static (dyn Fn() + Sync);

/// What the caller and the helpers share.
struct Shared {
    /// Bumped for each job published; a helper runs a job once per value.
    epoch: AtomicU64,
    /// The current job, while [`Pool::run`] lends it.
    job: Mutex<Option<Job>>,
    /// Helpers still running the current job.
    running: AtomicUsize,
    /// Helpers asleep on `wake` (a publish wakes them only if there are).
    sleepers: AtomicUsize,
    /// Set when the pool is dropped.
    stop: AtomicBool,
    /// Set when a helper's run of the job panicked.
    panicked: AtomicBool,
    /// Guards sleeping and waking.
    lock: Mutex<()>,
    wake: Condvar,
}

/// A fixed set of helper threads that run a borrowed closure alongside the
/// caller, one call at a time. Dropping it stops and joins the helpers.
pub struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// A pool of up to `helpers` threads (fewer if the system refuses some:
    /// their share of each job goes to the others).
    pub fn new(helpers: usize) -> Pool {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: Mutex::new(None),
            running: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let helpers = (0..helpers)
            .filter_map(|i| {
                let s = shared.clone();
                std::thread::Builder::new().name(format!("gossip-sim-{}", i + 1)).spawn(move || helper(&s)).ok()
            })
            .collect();
        Pool { shared, helpers }
    }

    /// Helper threads running.
    pub fn helpers(&self) -> usize {
        self.helpers.len()
    }

    /// Run `job` on every helper while the caller runs `mine`; return once
    /// all of them are done. A panic in `job` on a helper is raised here
    /// after the others finish.
    pub fn run(&self, job: &(dyn Fn() + Sync), mine: impl FnOnce()) {
        let s = &*self.shared;
        // SAFETY: the helpers use `job` only between the publish below and
        // their decrement of `running`, and `Waiter` does not let this call
        // return or unwind before `running` is zero; the borrow outlives
        // every use, as with a scoped thread.
        let erased: Job = unsafe { std::mem::transmute::<&(dyn Fn() + Sync), Job>(job) };
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(erased);
        s.running.store(self.helpers.len(), Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _g = s.lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        let waiter = Waiter(s);
        mine();
        drop(waiter);
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if s.panicked.swap(false, Ordering::SeqCst) {
            panic!("a simulation thread panicked");
        }
    }
}

/// Waits, when dropped (returning or unwinding), until no helper runs the job.
struct Waiter<'a>(&'a Shared);

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        let start = Instant::now();
        while self.0.running.load(Ordering::SeqCst) > 0 {
            if start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.stop.store(true, Ordering::SeqCst);
        {
            let _g = s.lock.lock().unwrap_or_else(|e| e.into_inner());
            s.wake.notify_all();
        }
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

/// A helper's life: wait for the next epoch, run its job, report done.
fn helper(s: &Shared) {
    let mut seen = 0;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        // spin a little: the next window usually comes soon
        while s.epoch.load(Ordering::SeqCst) == seen && !s.stop.load(Ordering::SeqCst) {
            spins = spins.wrapping_add(1);
            if spins < 64 || !spins.is_multiple_of(16) {
                std::hint::spin_loop();
                continue;
            }
            // the clock is read once every so many turns
            let waited = start.elapsed();
            if waited < SPIN {
                std::hint::spin_loop();
                continue;
            }
            if waited < WAIT {
                std::thread::yield_now();
                continue;
            }
            let mut g = s.lock.lock().unwrap_or_else(|e| e.into_inner());
            s.sleepers.fetch_add(1, Ordering::SeqCst);
            while s.epoch.load(Ordering::SeqCst) == seen && !s.stop.load(Ordering::SeqCst) {
                g = s.wake.wait(g).unwrap_or_else(|e| e.into_inner());
            }
            s.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        if s.stop.load(Ordering::SeqCst) {
            return;
        }
        seen = s.epoch.load(Ordering::SeqCst);
        let job = *s.job.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(job) = job {
            if catch_unwind(AssertUnwindSafe(job)).is_err() {
                s.panicked.store(true, Ordering::SeqCst);
            }
        }
        s.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_helper_runs_each_job_once_and_run_returns_after_them() {
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
                std::thread::sleep(WAIT * 2);
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
