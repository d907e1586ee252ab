//! `gossip check`: a randomized fault checker with shrinking.
//!
//! One seed, one check: the seed draws a fault schedule
//! ([`schedule::Schedule::draw`]: crashes, restarts without state,
//! partitions, one-way partitions, loss bursts, slow members, at a mean
//! interval, every one healed inside the update window), the system under
//! test (any `gossip sim` configuration with a stream of updates) runs it
//! with the same seed, and the run is held to stated properties
//! ([`property`]: no lost update once everything healed, convergence within
//! a bound after the last heal, a message budget per update). Seeds run in
//! parallel on `gossip sweep`'s runner ([`crate::experiment::runner`]),
//! each run on one thread, deterministic. A failing seed's schedule is
//! shrunk to a small one that breaks the same property ([`shrink`]), and
//! [`report`] prints it as a `gossip sim` command and a lab link that
//! replay it exactly.
//!
//! Why: one run with one partition says little (a weak protocol passes on a
//! lucky seed); many seeds with varied faults, and a minimal failing
//! schedule for each failure, say where the weakness is.

pub mod args;
pub mod property;
pub mod report;
pub mod schedule;
pub mod shrink;

use std::fmt;

use crate::experiment::runner::JobPanic;
use crate::sim::params::SimParams;
use crate::sim::{MembershipMode, Model, ParamError, Scenario, SimConfig};
use property::{Bounds, Observed, Property, Violation};
use report::{CheckReport, Counterexample, Failing};
use schedule::{Kind, Schedule, Space, UnknownKind};

/// Why a check cannot run: bad input (exit status 2).
#[derive(Debug, Clone, PartialEq)]
pub enum CheckError {
    /// A parameter of the system under test, as the table checks it.
    Param(ParamError),
    /// A check option or a rule of the check, in words naming the flag.
    Input(String),
    /// `--faults` named an unknown kind.
    Kind(UnknownKind),
    /// The simulator refused a run the check built (a drawn schedule it
    /// cannot run): reported, never hidden.
    Refused(ParamError),
    /// A run panicked (a bug): reported with its job's index.
    Panicked(JobPanic),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Param(e) => f.write_str(&e.cli_message()),
            CheckError::Input(s) => f.write_str(s),
            CheckError::Kind(e) => e.fmt(f),
            CheckError::Refused(e) => write!(f, "a run failed to start: {e}"),
            CheckError::Panicked(p) => write!(f, "a run failed to start: {p}"),
        }
    }
}

impl std::error::Error for CheckError {}

/// The check's own options (the system under test is [`SimParams`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// How many consecutive seeds, from the parameters' seed.
    pub seeds: u64,
    /// Mean time between fault starts, ms.
    pub mean_interval_ms: u64,
    /// Which kinds of fault to draw.
    pub kinds: Vec<Kind>,
    /// The property bounds.
    pub bounds: Bounds,
    /// How many failing seeds to shrink (the first ones, in seed order).
    pub shrink: usize,
    /// The most runs a shrink may use, per failing seed.
    pub shrink_runs: usize,
}

/// The most seeds a check runs.
pub const MAX_SEEDS: u64 = 1_000_000;
/// The most fault starts the window may expect (window / mean interval).
const MAX_EXPECTED_FAULTS: u64 = 1_000;

/// A validated check: the system under test and the options.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The system under test, with the quiet period set and no faults;
    /// its seed is the first seed.
    pub params: SimParams,
    /// The options.
    pub options: Options,
    /// What schedules are drawn for.
    pub space: Space,
    /// The run's own message loss, which loss bursts return to.
    base_loss: f64,
}

impl Plan {
    /// Check `params` and `options` together. The quiet period after the
    /// update window is set to twice `--converge-within` (the runs' settle
    /// time), so the convergence bound can be met and a lost update is one
    /// that stayed lost that long.
    pub fn new(mut params: SimParams, options: Options) -> Result<Plan, CheckError> {
        let input = |s: String| Err(CheckError::Input(s));
        if !params.faults.is_empty() {
            return input("--fault: gossip check draws its own faults; choose their kinds with --faults".into());
        }
        if !(1..=MAX_SEEDS).contains(&options.seeds) {
            return input(format!("--seeds must be between 1 and {MAX_SEEDS}, got {}", options.seeds));
        }
        if params.seed.checked_add(options.seeds - 1).is_none() {
            return input(format!("--seed {} + --seeds {} runs past the last seed", params.seed, options.seeds));
        }
        if options.kinds.is_empty() {
            return input("--faults: give at least one kind".into());
        }
        if options.mean_interval_ms == 0 {
            return input("--mean-interval must be at least 1 ms".into());
        }
        let b = options.bounds;
        if !(1..=3_600_000).contains(&b.converge_within_ms) {
            return input(format!("--converge-within must be between 1 and 3600000 ms, got {}", b.converge_within_ms));
        }
        if let Some(budget) = b.budget {
            if !(budget.is_finite() && budget > 0.0) {
                return input(format!("--budget must be a number of messages above 0, got {budget}"));
            }
        }
        let quiet_ms = 2 * b.converge_within_ms;
        params.settle_s = Some(quiet_ms as f64 / 1000.0);
        let cfg = params.to_config().map_err(CheckError::Param)?;
        if cfg.scenario == Scenario::Single {
            return input(
                "--scenario single spreads one update at time 0, before any fault: gossip check needs a stream of \
                 updates (--scenario broadcast or movies)"
                    .into(),
            );
        }
        if !matches!(cfg.membership, MembershipMode::Full | MembershipMode::Bootstrap) {
            return input(format!(
                "--membership {}: gossip check checks dissemination over full or bootstrap membership \
                 (SWIM and the overlays report other measures)",
                cfg.membership.name()
            ));
        }
        if options.kinds.contains(&Kind::Slow) && cfg.model != Model::Events {
            return input("--faults slow: a slow member is late in virtual milliseconds: use --model events".into());
        }
        let window_ms = cfg.updates_end_ms();
        if window_ms / options.mean_interval_ms > MAX_EXPECTED_FAULTS {
            return input(format!(
                "--mean-interval {} ms would draw about {} faults in the {window_ms} ms update window; at most {}",
                options.mean_interval_ms,
                window_ms / options.mean_interval_ms,
                MAX_EXPECTED_FAULTS
            ));
        }
        let space = Space {
            nodes: cfg.nodes,
            window_ms,
            mean_interval_ms: options.mean_interval_ms,
            kinds: options.kinds.clone(),
            min_length_ms: cfg.node.interval_ms,
        };
        Ok(Plan { params, options, space, base_loss: cfg.net.loss })
    }

    /// The quiet period after the update window, ms.
    pub fn quiet_ms(&self) -> u64 {
        2 * self.options.bounds.converge_within_ms
    }

    /// The seeds checked.
    pub fn seeds(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.options.seeds).map(|k| self.params.seed + k)
    }

    /// The schedule `seed` draws.
    pub fn schedule(&self, seed: u64) -> Schedule {
        Schedule::draw(seed, &self.space)
    }

    /// The parameters of the run of `seed` under `schedule`: what the
    /// printed command and link carry.
    pub fn params_for(&self, seed: u64, schedule: &Schedule) -> SimParams {
        let mut p = self.params.clone();
        p.seed = seed;
        p.faults = schedule.fault_texts(self.base_loss);
        p
    }

    /// Run `seed` under `schedule` and hold it to the properties.
    pub fn try_run(&self, seed: u64, schedule: &Schedule) -> Result<Vec<Violation>, CheckError> {
        let cfg: SimConfig = self.params_for(seed, schedule).to_config().map_err(CheckError::Param)?;
        let seen: Observed = property::observe(&cfg).map_err(CheckError::Refused)?;
        Ok(property::evaluate(&seen, schedule.last_heal_ms(), &self.options.bounds))
    }
}

/// What a check is doing, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A seed's run finished; `failed` tells whether it broke a property.
    Seed { failed: bool },
    /// A failing seed was shrunk.
    Shrunk,
}

/// Run the check on up to `workers` threads (one run each); `progress`
/// hears of every seed and every shrink. The report is the same whatever
/// the number of workers.
pub fn run(plan: &Plan, workers: usize, progress: &(dyn Fn(Stage) + Sync)) -> Result<CheckReport, CheckError> {
    let seeds: Vec<u64> = plan.seeds().collect();
    let outcomes = in_order(
        seeds.len(),
        workers,
        |i| {
            let schedule = plan.schedule(seeds[i]);
            plan.try_run(seeds[i], &schedule).map(|v| (schedule, v))
        },
        |r| progress(Stage::Seed { failed: r.as_ref().map_or(true, |(_, v)| !v.is_empty()) }),
    )?;
    let mut failing = Vec::new();
    let mut to_shrink = Vec::new();
    for (seed, outcome) in seeds.iter().zip(outcomes) {
        let (schedule, violations) = outcome?;
        if violations.is_empty() {
            continue;
        }
        failing.push(Failing { seed: *seed, faults: schedule.faults.len(), violations: violations.clone() });
        if to_shrink.len() < plan.options.shrink {
            to_shrink.push((*seed, schedule, violations[0].property));
        }
    }
    let shrunk = in_order(
        to_shrink.len(),
        workers,
        |i| counterexample(plan, to_shrink[i].0, &to_shrink[i].1, to_shrink[i].2),
        |_| progress(Stage::Shrunk),
    )?;
    let counterexamples = shrunk.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(CheckReport::new(plan, failing, counterexamples))
}

/// `f(0), ..., f(count - 1)` on up to `workers` threads (one run each, on
/// `gossip sweep`'s runner), in job order whatever finished first; `done`
/// hears of each result as it is handed over. A run that panics is a
/// [`CheckError::Panicked`] naming it.
fn in_order<T: Send>(
    count: usize,
    workers: usize,
    f: impl Fn(usize) -> T + Sync,
    done: impl Fn(&T) + Sync,
) -> Result<Vec<T>, CheckError> {
    let mut out = Vec::with_capacity(count);
    crate::experiment::runner::run_in_order(count, workers, f, |_, v| {
        done(&v);
        out.push(v);
        std::ops::ControlFlow::Continue(())
    })
    .map_err(CheckError::Panicked)?;
    Ok(out)
}

/// Shrink the failing `schedule` of `seed` against `property` (the first
/// it broke) and describe the result.
fn counterexample(
    plan: &Plan,
    seed: u64,
    schedule: &Schedule,
    property: Property,
) -> Result<Counterexample, CheckError> {
    let mut error = None;
    let out = shrink::shrink(schedule.clone(), plan.options.shrink_runs, |cand| match plan.try_run(seed, cand) {
        Ok(v) => v.iter().any(|v| v.property == property),
        Err(e) => {
            error.get_or_insert(e);
            false
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    let violations = plan.try_run(seed, &out.schedule)?;
    Ok(Counterexample::new(plan, seed, schedule.faults.len(), out, violations))
}
