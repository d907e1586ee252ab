//! Each update's spread, recorded in virtual time for a viewer's chart.
//!
//! A viewer used to sample each update's coverage once per frame of wall
//! time, so a run drawn at "max" speed was a straight line and a stepped run
//! a ramp. This log samples the metrics' coverage tracker at fixed points of
//! *virtual* time instead (every `resolution` ms, plus the instant an update
//! completes), so what it holds at virtual time `t` depends only on the run
//! (seed and scenario), never on how the run was sliced into frames.
//!
//! The log is append-only (a viewer copies what is new since its last read)
//! and keeps every update: a flat stretch is written as its two ends only,
//! so memory grows with how often coverage changes, not with run length.
//! The driver ([`super::live::Live`]) calls [`SpreadLog::sample`] each time
//! the run reaches the next grid point, and [`SpreadLog::close`] when it ends.

use super::metrics::Metrics;
use crate::core::Version;

/// One update the log follows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpreadUpdate {
    /// Whose update.
    pub origin: u32,
    /// Its version.
    pub version: Version,
    /// When it was made, ms.
    pub created: u64,
}

/// One point of one update's curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpreadPoint {
    /// Index of the update in [`SpreadLog::updates`].
    pub update: u32,
    /// Age of the update, ms.
    pub age_ms: u64,
    /// Fraction of live nodes that know it (1 once every live node does).
    pub fraction: f64,
}

#[derive(Clone, Copy, Debug)]
struct Follow {
    /// Last fraction written.
    last: f64,
    /// The age up to which the fraction stayed at `last`, not written yet.
    flat: Option<u64>,
    done: bool,
}

/// Every update's coverage over its age, sampled in virtual time.
#[derive(Clone, Debug)]
pub struct SpreadLog {
    resolution: u64,
    next: u64,
    /// No update made before this is still open in the log: the metrics
    /// are read from here on.
    oldest_open: u64,
    updates: Vec<SpreadUpdate>,
    follow: Vec<Follow>,
    /// `index[origin]`: `(version, index in updates)` of that origin's
    /// updates, in the order first seen (a plain vector by origin, read
    /// from its end: the updates still open are an origin's latest; a
    /// hash map here was a tenth of the recording's cost).
    index: Vec<Vec<(Version, u32)>>,
    points: Vec<SpreadPoint>,
    closed: bool,
}

impl SpreadLog {
    /// A log sampling every `resolution_ms` of virtual time (at least 1).
    pub fn new(resolution_ms: u64) -> Self {
        SpreadLog {
            resolution: resolution_ms.max(1),
            next: 0,
            oldest_open: 0,
            updates: Vec::new(),
            follow: Vec::new(),
            index: Vec::new(),
            points: Vec::new(),
            closed: false,
        }
    }

    /// The resolution for a run with gossip interval `interval_ms`: a
    /// twentieth of it, between 1 and 100 ms.
    pub fn resolution_for(interval_ms: u64) -> u64 {
        (interval_ms / 20).clamp(1, 100)
    }

    /// Sampling step, ms.
    pub fn resolution(&self) -> u64 {
        self.resolution
    }

    /// The next grid time to sample at, ms (`u64::MAX` once closed).
    pub fn next_sample(&self) -> u64 {
        if self.closed {
            u64::MAX
        } else {
            self.next
        }
    }

    /// Every update seen so far, in the order first seen.
    pub fn updates(&self) -> &[SpreadUpdate] {
        &self.updates
    }

    /// Every point written so far, in the order written.
    pub fn points(&self) -> &[SpreadPoint] {
        &self.points
    }

    /// Sample the metrics at grid time `t` (the run has processed every
    /// event at or before `t`, none after). Moves the grid on.
    pub fn sample(&mut self, metrics: &Metrics, t: u64) {
        if self.closed {
            return;
        }
        self.take(metrics, t);
        self.next = t.saturating_add(self.resolution);
    }

    /// The run ended at `t`: take its last state, and write each open
    /// update's flat tail so its curve reaches `t`.
    pub fn close(&mut self, metrics: &Metrics, t: u64) {
        if self.closed {
            return;
        }
        self.take(metrics, t);
        for (k, f) in self.follow.iter_mut().enumerate() {
            if let Some(age) = f.flat.take() {
                self.points.push(SpreadPoint { update: k as u32, age_ms: age, fraction: f.last });
            }
        }
        self.closed = true;
    }

    /// The run goes on after [`SpreadLog::close`] (a fault woke a run that
    /// had converged at `t`): sample again from the next grid time on.
    pub fn reopen(&mut self, t: u64) {
        if self.closed {
            self.closed = false;
            self.next = (t / self.resolution + 1) * self.resolution;
        }
    }

    fn take(&mut self, metrics: &Metrics, t: u64) {
        let live = f64::from(metrics.live().max(1));
        let since = self.oldest_open;
        let mut oldest = t;
        for (origin, version, created, covered, done) in metrics.recent(since) {
            let o = origin as usize;
            if self.index.len() <= o {
                self.index.resize_with(o + 1, Vec::new);
            }
            let k = match self.index[o].iter().rev().find(|(v, _)| *v == version) {
                Some(&(_, k)) => k,
                None => {
                    let k = self.updates.len() as u32;
                    self.index[o].push((version, k));
                    self.updates.push(SpreadUpdate { origin, version, created });
                    let first = (1.0 / live).min(1.0);
                    self.follow.push(Follow { last: first, flat: None, done: false });
                    self.points.push(SpreadPoint { update: k, age_ms: 0, fraction: first });
                    k
                }
            };
            let f = &mut self.follow[k as usize];
            if f.done {
                continue;
            }
            let (age, fraction) = match done {
                Some(d) => (d.saturating_sub(created), 1.0),
                None => (t.saturating_sub(created), (f64::from(covered) / live).min(1.0)),
            };
            f.done = done.is_some();
            if !f.done {
                oldest = oldest.min(created);
            }
            if fraction == f.last && !f.done {
                f.flat = Some(age);
                continue;
            }
            if let Some(a) = f.flat.take() {
                if a < age {
                    self.points.push(SpreadPoint { update: k, age_ms: a, fraction: f.last });
                }
            }
            f.last = fraction;
            self.points.push(SpreadPoint { update: k, age_ms: age, fraction });
        }
        self.oldest_open = oldest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{live::Live, Model, Scenario, SimConfig};

    fn cfg(model: Model) -> SimConfig {
        SimConfig {
            nodes: 60,
            seed: 7,
            model,
            scenario: Scenario::Movies,
            duration_ms: Some(8_000),
            ..SimConfig::default()
        }
    }

    fn whole(live: &Live) -> (Vec<SpreadUpdate>, Vec<SpreadPoint>) {
        (live.spread_log().updates().to_vec(), live.spread_log().points().to_vec())
    }

    #[test]
    fn the_log_is_the_same_however_the_run_is_sliced() {
        for model in [Model::Events, Model::Rounds] {
            let mut whole_run = Live::new(&cfg(model)).unwrap();
            whole_run.advance(u64::MAX, u64::MAX);
            let mut sliced = Live::new(&cfg(model)).unwrap();
            // odd slices and tiny event budgets, as frames and Step give
            let mut t = 0;
            for guard in 0..1_000_000 {
                assert!(guard < 999_999, "the sliced run did not end");
                t += 37;
                while !sliced.advance(t, 3) {}
                if sliced.stopped().is_some() {
                    break;
                }
            }
            assert_eq!(whole_run.stopped(), sliced.stopped());
            let (u, p) = whole(&whole_run);
            assert!(u.len() >= 60, "{model:?}: {} updates", u.len());
            assert_eq!((u, p), whole(&sliced), "{model:?}");
        }
    }

    #[test]
    fn every_update_is_kept_and_each_curve_rises_to_one_in_age_order() {
        let mut live = Live::new(&cfg(Model::Events)).unwrap();
        live.advance(u64::MAX, u64::MAX);
        let log = live.spread_log();
        let made = live.report().updates;
        assert_eq!(log.updates().len() as u64, made);
        for k in 0..log.updates().len() as u32 {
            let pts: Vec<_> = log.points().iter().filter(|p| p.update == k).collect();
            assert!(pts.windows(2).all(|w| w[0].age_ms <= w[1].age_ms), "update {k}: ages out of order");
            assert_eq!(pts.last().unwrap().fraction, 1.0, "update {k} did not complete in a converged run");
            assert_eq!(pts.iter().filter(|p| p.fraction == 1.0).count(), 1, "update {k}: completed twice");
        }
    }
}
