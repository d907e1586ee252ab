//! Many independent jobs on a thread pool, their results handed back in job
//! order: the piece of `gossip sweep` that any driver of many runs (a fault
//! checker, a benchmark) can share.
//!
//! Each job runs on one thread from start to end (a simulation run is
//! single-threaded here, so its report is exactly `gossip sim`'s: a run's
//! result does not depend on the threads). Jobs are taken in index order
//! from a shared counter, finish in any order, and are handed to the
//! caller's callback strictly in index order, one at a time: what it writes
//! is the same whatever the thread count and timing. The callback can stop
//! the whole batch early (jobs already started finish and are dropped).
//!
//! Why no separate writer thread: `threads` is the number of threads that
//! work, the caller's own among them (a pool of `threads - 1` helpers made
//! for the call). Whichever thread finishes the job that is due hands it
//! over, with every later one already done, while the others go on with
//! their jobs (one thread at a time hands over: the *committer*). A writer
//! thread woken by a channel for every result made a third thread on two
//! cores, a wake-up per run, and serial work that the one-thread case did
//! on a second core for free; on two threads the sweep lost about 10 % to
//! it (`BENCHMARKS.md`, "`gossip sweep`: two threads").

use std::collections::BTreeMap;
use std::fmt;
use std::ops::ControlFlow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::sim::{self, Report, RunError, SimConfig};

/// A job that panicked: its index and the panic's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPanic {
    /// The job's index (or the run's, once a driver maps it).
    pub index: usize,
    /// The panic's message, if it was text.
    pub message: String,
}

/// `run INDEX panicked: MESSAGE`: how `gossip sweep` and `gossip check`
/// report a run that panicked.
impl fmt::Display for JobPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {} panicked: {}", self.index, self.message)
    }
}

impl std::error::Error for JobPanic {}

/// Results waiting for the ones before them.
struct Queue<T> {
    /// Finished, not yet handed over, by index.
    ready: BTreeMap<usize, std::thread::Result<T>>,
    /// The next index to hand over.
    due: usize,
    /// A thread is handing results over.
    committing: bool,
    /// The batch stopped (a break, a panic): drop what comes.
    closed: bool,
}

/// What only the committer touches.
struct Commit<E> {
    each: E,
    result: Result<(), JobPanic>,
    /// A panic of `each`, raised on the caller's thread at the end.
    each_panic: Option<Box<dyn std::any::Any + Send>>,
}

fn lock<X>(m: &Mutex<X>) -> MutexGuard<'_, X> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Run `job(0)`, ..., `job(count - 1)` on `threads` threads (this one
/// among them) and call `each(i, result)` for i = 0, 1, ... in order, one
/// call at a time, as soon as every job before i has been handed over (on
/// whichever thread finished the last of them). Returns when every job has
/// been handed over or `each` said [`ControlFlow::Break`]. A job that
/// panics stops the batch; its panic comes back as an error. A panic in
/// `each` stops the batch and is raised here.
pub fn run_in_order<T: Send, E: FnMut(usize, T) -> ControlFlow<()> + Send>(
    count: usize,
    threads: usize,
    job: impl Fn(usize) -> T + Sync,
    each: E,
) -> Result<(), JobPanic> {
    let threads = threads.clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let queue = Mutex::new(Queue { ready: BTreeMap::new(), due: 0, committing: false, closed: false });
    let commit = Mutex::new(Commit { each, result: Ok(()), each_panic: None });
    let hand_over = |i: usize, out: std::thread::Result<T>| {
        let mut q = lock(&queue);
        if q.closed {
            return;
        }
        q.ready.insert(i, out);
        if q.committing || !q.ready.contains_key(&q.due) {
            return;
        }
        q.committing = true;
        // uncontended: taken only with `committing` set, under `queue`
        let mut c = lock(&commit);
        loop {
            let mut batch = Vec::new();
            loop {
                let due = q.due;
                let Some(out) = q.ready.remove(&due) else { break };
                batch.push((due, out));
                q.due += 1;
            }
            if batch.is_empty() || q.closed {
                drop(c);
                q.committing = false;
                return;
            }
            drop(q);
            let mut closed = false;
            for (k, out) in batch {
                let c = &mut *c;
                let brk = match out {
                    Ok(v) => match catch_unwind(AssertUnwindSafe(|| (c.each)(k, v))) {
                        Ok(flow) => flow.is_break(),
                        Err(p) => {
                            c.each_panic = Some(p);
                            true
                        }
                    },
                    Err(p) => {
                        c.result = Err(JobPanic { index: k, message: panic_text(&*p) });
                        true
                    }
                };
                if brk {
                    stop.store(true, Ordering::Relaxed);
                    closed = true;
                    break;
                }
            }
            q = lock(&queue);
            if closed {
                q.closed = true;
                q.ready.clear();
            }
        }
    };
    let worker = || loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            return;
        }
        let out = catch_unwind(AssertUnwindSafe(|| job(i)));
        hand_over(i, out);
    };
    let pool = (threads > 1)
        .then(|| {
            rayon_core::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .thread_name(|i| format!("gossip-runs-{}", i + 1))
                .build()
                .ok()
        })
        .flatten();
    match pool {
        Some(pool) => pool.in_place_scope(|s| {
            for _ in 1..threads {
                s.spawn(|_| worker());
            }
            worker();
        }),
        // one thread, or no helpers to be had: do it all here, in order
        None => worker(),
    }
    let c = commit.into_inner().unwrap_or_else(PoisonError::into_inner);
    if let Some(p) = c.each_panic {
        resume_unwind(p);
    }
    c.result
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Run every configuration (one thread each, as `gossip sim --threads 1`)
/// on `threads` threads; `each(i, report)` gets the reports in order.
pub fn run_configs(
    configs: &[SimConfig],
    threads: usize,
    each: impl FnMut(usize, Result<Report, RunError>) -> ControlFlow<()> + Send,
) -> Result<(), JobPanic> {
    run_in_order(configs.len(), threads, |i| sim::run_threads(&configs[i], 1, &mut |_| {}), each)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_job_order_whatever_the_finishing_order() {
        for threads in [1, 2, 4] {
            let mut seen = Vec::new();
            run_in_order(
                40,
                threads,
                |i| {
                    // later jobs finish first
                    std::thread::sleep(std::time::Duration::from_micros(((40 - i) * 50) as u64));
                    i * i
                },
                |i, v| {
                    seen.push((i, v));
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
            assert_eq!(seen, (0..40).map(|i| (i, i * i)).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    /// A job of 200 us that counts its starts in `started`.
    fn counted(started: &AtomicUsize) -> impl Fn(usize) -> usize + Sync + '_ {
        |i| {
            started.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_micros(200));
            i
        }
    }

    /// [`counted`], but jobs from 8 on wait (at most 10 s) for `gate`,
    /// which the test's callback sets where it stops the batch: a machine
    /// that holds the committing thread back cannot let the other thread
    /// finish every job first (which would hide a batch that does not stop).
    fn held<'a>(started: &'a AtomicUsize, gate: &'a AtomicBool) -> impl Fn(usize) -> usize + Sync + 'a {
        move |i| {
            for _ in 0..10_000 {
                if i < 8 || gate.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if i >= 8 {
                // past the gate, a job takes a millisecond: the callback
                // opens the gate a moment before it stops the batch (a
                // panic's backtrace, under RUST_BACKTRACE=1, can take a
                // tenth of a second), and instant jobs could all start
                // in that moment
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            counted(started)(i)
        }
    }

    #[test]
    fn break_stops_the_batch_and_a_panic_is_reported_with_its_index() {
        let started = AtomicUsize::new(0);
        let four = AtomicBool::new(false);
        let mut got = 0;
        run_in_order(1000, 2, held(&started, &four), |i, _| {
            got += 1;
            four.store(i == 4, Ordering::SeqCst);
            if i == 4 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(got, 5);
        assert!(started.load(Ordering::SeqCst) < 1000, "the rest were not started");
        let e = run_in_order(10, 2, |i| assert!(i != 3, "job three"), |_, _| ControlFlow::Continue(())).unwrap_err();
        assert_eq!(e, JobPanic { index: 3, message: "job three".into() });
    }

    #[test]
    fn the_threads_count_the_callers_own() {
        let me = std::thread::current().id();
        let seen = Mutex::new(std::collections::BTreeSet::new());
        let record = |_| {
            seen.lock().unwrap().insert(format!("{:?}", std::thread::current().id()));
            std::thread::sleep(std::time::Duration::from_micros(300));
        };
        run_in_order(20, 1, record, |_, _| ControlFlow::Continue(())).unwrap();
        assert_eq!(*seen.lock().unwrap(), [format!("{me:?}")].into_iter().collect(), "one thread: the caller alone");
        seen.lock().unwrap().clear();
        run_in_order(200, 2, record, |_, _| ControlFlow::Continue(())).unwrap();
        let seen = seen.into_inner().unwrap();
        assert!(seen.len() <= 2, "two threads, the caller among them: {seen:?}");
    }

    #[test]
    fn a_panic_in_the_callback_stops_the_batch_and_is_raised_to_the_caller() {
        let started = AtomicUsize::new(0);
        let three = AtomicBool::new(false);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            run_in_order(1000, 2, held(&started, &three), |i, _| {
                if i == 3 {
                    three.store(true, Ordering::SeqCst);
                }
                assert!(i != 3, "callback three");
                ControlFlow::Continue(())
            })
        }));
        let p = caught.unwrap_err();
        assert_eq!(panic_text(&*p), "callback three");
        assert!(started.load(Ordering::SeqCst) < 1000, "the rest were not started");
    }

    #[test]
    fn a_job_panic_reads_as_a_run_that_panicked() {
        assert_eq!(JobPanic { index: 7, message: "boom".into() }.to_string(), "run 7 panicked: boom");
    }

    #[test]
    fn reports_equal_single_runs() {
        let configs: Vec<SimConfig> =
            (0..6).map(|s| SimConfig { nodes: 300, seed: s, ..SimConfig::default() }).collect();
        let mut got = Vec::new();
        run_configs(&configs, 2, |_, r| {
            got.push(r.unwrap());
            ControlFlow::Continue(())
        })
        .unwrap();
        for (c, r) in configs.iter().zip(&got) {
            assert_eq!(&sim::run_threads(c, 1, &mut |_| {}).unwrap(), r);
        }
    }
}
