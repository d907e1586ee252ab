//! Many independent jobs on a thread pool, their results handed back in job
//! order: the piece of `gossip sweep` that any driver of many runs (a fault
//! checker, a benchmark) can share.
//!
//! Each job runs on one pool thread from start to end (a simulation run is
//! single-threaded here, so its report is exactly `gossip sim`'s: a run's
//! result does not depend on the threads). Jobs are taken in index order
//! from a shared counter, finish in any order, and are handed to the
//! caller's callback on the calling thread strictly in index order: the
//! caller buffers nothing, and what it writes is the same whatever the
//! thread count and timing. The callback can stop the whole batch early
//! (jobs already started finish and are dropped). Threads come from a
//! rayon-core pool made for the call.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::sim::{self, Report, RunError, SimConfig};

/// A job that panicked: its index and the panic's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPanic {
    /// The job's index.
    pub index: usize,
    /// The panic's message, if it was text.
    pub message: String,
}

/// Run `job(0)`, ..., `job(count - 1)` on `threads` threads and call
/// `each(i, result)` on this thread for i = 0, 1, ... in order, as soon as
/// every job before i has been handed over. Returns when every job has been
/// handed over or `each` said [`ControlFlow::Break`]. A job that panics
/// stops the batch; its panic comes back as an error.
pub fn run_in_order<T: Send>(
    count: usize,
    threads: usize,
    job: impl Fn(usize) -> T + Sync,
    mut each: impl FnMut(usize, T) -> ControlFlow<()>,
) -> Result<(), JobPanic> {
    let threads = threads.clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, std::thread::Result<T>)>();
    let worker = |tx: mpsc::Sender<(usize, std::thread::Result<T>)>| loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= count {
            return;
        }
        let out = catch_unwind(AssertUnwindSafe(|| job(i)));
        if tx.send((i, out)).is_err() {
            return;
        }
    };
    let pool = rayon_core::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("gossip-runs-{}", i + 1))
        .build();
    let mut result = Ok(());
    let mut consume = |rx: mpsc::Receiver<(usize, std::thread::Result<T>)>| {
        let mut pending = BTreeMap::new();
        let mut due = 0;
        while due < count {
            let Ok((i, out)) = rx.recv() else { break };
            pending.insert(i, out);
            while let Some(out) = pending.remove(&due) {
                match out {
                    Ok(v) => {
                        if each(due, v).is_break() {
                            stop.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                    Err(p) => {
                        stop.store(true, Ordering::Relaxed);
                        result = Err(JobPanic { index: due, message: panic_text(&*p) });
                        return;
                    }
                }
                due += 1;
            }
        }
    };
    match pool {
        Ok(pool) => pool.in_place_scope(|s| {
            for _ in 0..threads {
                let tx = tx.clone();
                let worker = &worker;
                s.spawn(move |_| worker(tx));
            }
            drop(tx);
            consume(rx);
        }),
        // no threads to be had: do it all here, in order
        Err(_) => std::thread::scope(|s| {
            let w = s.spawn(|| worker(tx));
            consume(rx);
            let _ = w.join();
        }),
    }
    result
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
    each: impl FnMut(usize, Result<Report, RunError>) -> ControlFlow<()>,
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

    #[test]
    fn break_stops_the_batch_and_a_panic_is_reported_with_its_index() {
        let started = AtomicUsize::new(0);
        let mut got = 0;
        run_in_order(
            1000,
            2,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_micros(200));
                i
            },
            |i, _| {
                got += 1;
                if i == 4 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
        assert_eq!(got, 5);
        assert!(started.load(Ordering::SeqCst) < 1000, "the rest were not started");
        let e = run_in_order(10, 2, |i| assert!(i != 3, "job three"), |_, _| ControlFlow::Continue(())).unwrap_err();
        assert_eq!(e, JobPanic { index: 3, message: "job three".into() });
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
