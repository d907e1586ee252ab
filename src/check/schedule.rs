//! Fault schedules for `gossip check`: what may go wrong, drawn from a seed.
//!
//! A schedule is a list of [`Injected`] faults, each with a start and a
//! length: a crash and its restart, a partition and its heal, a one-way
//! block and its lift, a loss burst and the base loss again, a slow member
//! and its recovery. Every fault ends (heals) inside the update window, so
//! a run always ends with the network whole and every node up, followed by
//! the quiet period the properties need ([`super::property`]).
//!
//! Faults that act on the same thing never overlap (one network fault at a
//! time, since a `heal` lifts one-way blocks too; one loss burst at a time;
//! one fault per node at a time), so each fault means what it says, and the
//! shrinker ([`super::shrink`]) only keeps schedules that stay that way
//! ([`Schedule::well_formed`]).
//!
//! Start times follow a renewal process with uniform gaps in `0..=2 x mean`
//! (the mean interval asked for, and no transcendental functions: the same
//! seed draws the same schedule on every platform).

use std::fmt;

use serde::Serialize;

use crate::rng::Rng;
use crate::sim::faults::format_fault;
use crate::sim::{Fault, TimedFault};

/// The kinds of fault a schedule may hold, as `--faults` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A node crashes and comes back with its state.
    Crash,
    /// A node crashes and comes back without its state (a new epoch).
    Restart,
    /// The nodes split into 2 or 3 contiguous groups, then heal.
    Partition,
    /// Every message from one part of the nodes to the other is dropped (one way).
    OneWay,
    /// A burst of message loss.
    Loss,
    /// A member handles every message it receives late (CPU-starved).
    Slow,
}

impl Kind {
    /// Every kind, in the order `--faults` lists them.
    pub const ALL: [Kind; 6] = [Kind::Crash, Kind::Restart, Kind::Partition, Kind::OneWay, Kind::Loss, Kind::Slow];

    /// Its name in `--faults`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::Restart => "restart",
            Kind::Partition => "partition",
            Kind::OneWay => "one-way",
            Kind::Loss => "loss",
            Kind::Slow => "slow",
        }
    }

    /// The kinds of a comma-separated list (`crash,partition`); `all` is every kind.
    pub fn parse_list(s: &str) -> Result<Vec<Kind>, UnknownKind> {
        let mut out = Vec::new();
        for word in s.split(',').map(str::trim) {
            if word == "all" {
                return Ok(Kind::ALL.to_vec());
            }
            let k = Kind::ALL.into_iter().find(|k| k.name() == word).ok_or_else(|| UnknownKind(word.to_owned()))?;
            if !out.contains(&k) {
                out.push(k);
            }
        }
        Ok(out)
    }
}

/// A word of `--faults` that names no [`Kind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        write!(f, "--faults: unknown kind {:?}; expected a list of {} (or all)", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownKind {}

/// What a fault does while it lasts.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum What {
    /// `node` is down; it comes back with its state (`fresh: false`) or without.
    Crash { node: u32, fresh: bool },
    /// The nodes are split into `groups` contiguous groups.
    Partition { groups: u16 },
    /// Messages from nodes `from` to nodes `to` (inclusive ranges) are dropped.
    OneWay { from: (u32, u32), to: (u32, u32) },
    /// Messages are lost with probability `p` (then the run's own loss again).
    Loss { p: f64 },
    /// `node` handles what it receives `ms` late.
    Slow { node: u32, ms: u64 },
}

/// What a fault acts on: faults on the same resource never overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Network,
    Loss,
    Node(u32),
}

impl What {
    fn resource(&self) -> Resource {
        match *self {
            What::Crash { node, .. } | What::Slow { node, .. } => Resource::Node(node),
            What::Partition { .. } | What::OneWay { .. } => Resource::Network,
            What::Loss { .. } => Resource::Loss,
        }
    }
}

/// One fault of a schedule: from `start_ms` for `length_ms`, then healed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Injected {
    /// When it starts, virtual ms.
    pub start_ms: u64,
    /// How long it lasts, ms (at least 1).
    pub length_ms: u64,
    /// What it does.
    #[serde(flatten)]
    pub what: What,
}

impl Injected {
    /// When it is healed, virtual ms.
    pub fn end_ms(&self) -> u64 {
        self.start_ms + self.length_ms
    }

    /// Its two events for the simulator: the fault and its end. `base_loss`
    /// is the run's own loss, which a loss burst returns to.
    fn events(&self, base_loss: f64) -> [TimedFault; 2] {
        let (start, end) = (self.start_ms, self.end_ms());
        let at = |at_ms, fault| TimedFault { at_ms, fault };
        match self.what {
            What::Crash { node, fresh } => {
                [at(start, Fault::Crash { node }), at(end, Fault::Restart { node, keep_state: !fresh })]
            }
            What::Partition { groups } => [at(start, Fault::Partition { groups }), at(end, Fault::Heal)],
            What::OneWay { from, to } => [at(start, Fault::Block { from, to }), at(end, Fault::Unblock { from, to })],
            What::Loss { p } => [at(start, Fault::Loss { p }), at(end, Fault::Loss { p: base_loss })],
            What::Slow { node, ms } => [at(start, Fault::Slow { node, ms }), at(end, Fault::Fast { node })],
        }
    }
}

/// A fault schedule: faults in start order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Schedule {
    /// The faults.
    pub faults: Vec<Injected>,
}

/// What a schedule is drawn for.
#[derive(Clone, Debug)]
pub struct Space {
    /// Nodes of the run.
    pub nodes: u32,
    /// Faults start and heal inside `0..window_ms` (the update window).
    pub window_ms: u64,
    /// Mean time between fault starts, ms.
    pub mean_interval_ms: u64,
    /// The kinds to draw from (not empty).
    pub kinds: Vec<Kind>,
    /// The shortest fault, ms (the run's gossip interval).
    pub min_length_ms: u64,
}

/// The most fault starts a schedule draws (a bound on the loop: a window
/// this crowded is refused before, [`super::CheckError`]).
const MAX_DRAWS: usize = 10_000;

/// The stream of the schedule's draws, apart from the run's own streams.
const SCHEDULE_STREAM: u64 = 0xC4EC_5C4E_D01E;

impl Schedule {
    /// The schedule of `seed` in `space`: start times with uniform gaps in
    /// `0..=2 x mean`, each fault a kind of `space.kinds`, a length uniform
    /// in `min_length..=2 x mean` cut to end inside the window, and a start
    /// pushed past the end of any fault on the same resource.
    pub fn draw(seed: u64, space: &Space) -> Schedule {
        let mut rng = Rng::derive(seed, SCHEDULE_STREAM);
        let mean = space.mean_interval_ms.max(1);
        let n = space.nodes.max(2);
        let mut faults: Vec<Injected> = Vec::new();
        let mut t = 0u64;
        for _ in 0..MAX_DRAWS {
            t += rng.below(2 * mean + 1);
            if t + 1 >= space.window_ms || space.kinds.is_empty() {
                break;
            }
            let kind = space.kinds[rng.below(space.kinds.len() as u64) as usize];
            let what = match kind {
                Kind::Crash | Kind::Restart => {
                    What::Crash { node: rng.below(u64::from(n)) as u32, fresh: kind == Kind::Restart }
                }
                Kind::Partition => What::Partition { groups: 2 + rng.below(2) as u16 },
                Kind::OneWay => {
                    let split = 1 + rng.below(u64::from(n - 1)) as u32;
                    let (low, high) = ((0, split - 1), (split, n - 1));
                    if rng.chance(0.5) {
                        What::OneWay { from: low, to: high }
                    } else {
                        What::OneWay { from: high, to: low }
                    }
                }
                Kind::Loss => What::Loss { p: (2 + rng.below(9)) as f64 / 10.0 },
                Kind::Slow => What::Slow { node: rng.below(u64::from(n)) as u32, ms: 100 * (1 + rng.below(20)) },
            };
            let min = space.min_length_ms.clamp(1, 2 * mean);
            let length = min + rng.below(2 * mean - min + 1);
            let busy = faults.iter().filter(|f| f.what.resource() == what.resource()).map(Injected::end_ms).max();
            let start = t.max(busy.map_or(0, |b| b + 1));
            if start + 1 >= space.window_ms {
                continue;
            }
            let length = length.min(space.window_ms - 1 - start).max(1);
            faults.push(Injected { start_ms: start, length_ms: length, what });
        }
        faults.sort_by_key(|f| f.start_ms);
        Schedule { faults }
    }

    /// Whether no two faults on the same resource overlap (a touch counts:
    /// a heal and a fault at the same millisecond would race).
    pub fn well_formed(&self) -> bool {
        self.faults.iter().enumerate().all(|(i, a)| {
            a.length_ms >= 1
                && self.faults[i + 1..].iter().all(|b| {
                    a.what.resource() != b.what.resource() || a.end_ms() < b.start_ms || b.end_ms() < a.start_ms
                })
        })
    }

    /// When the last fault is healed (0 without faults).
    pub fn last_heal_ms(&self) -> u64 {
        self.faults.iter().map(Injected::end_ms).max().unwrap_or(0)
    }

    /// The simulator's fault timeline, in time order.
    pub fn timeline(&self, base_loss: f64) -> Vec<TimedFault> {
        let mut out: Vec<TimedFault> = self.faults.iter().flat_map(|f| f.events(base_loss)).collect();
        out.sort_by_key(|f| f.at_ms); // stable: a fault's start stays before its end
        out
    }

    /// The timeline as `gossip sim --fault` values.
    pub fn fault_texts(&self, base_loss: f64) -> Vec<String> {
        self.timeline(base_loss).iter().map(format_fault).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(kinds: &[Kind]) -> Space {
        Space { nodes: 20, window_ms: 30_000, mean_interval_ms: 3_000, kinds: kinds.to_vec(), min_length_ms: 100 }
    }

    #[test]
    fn the_same_seed_draws_the_same_schedule_and_others_differ() {
        let s = space(&Kind::ALL);
        assert_eq!(Schedule::draw(7, &s), Schedule::draw(7, &s));
        let distinct: std::collections::HashSet<String> =
            (0..20).map(|seed| format!("{:?}", Schedule::draw(seed, &s))).collect();
        assert!(distinct.len() >= 19, "{} distinct of 20", distinct.len());
    }

    #[test]
    fn every_fault_heals_inside_the_window_and_none_overlap_on_a_resource() {
        for seed in 0..300 {
            let s = space(&Kind::ALL);
            let sched = Schedule::draw(seed, &s);
            assert!(sched.well_formed(), "seed {seed}: {sched:?}");
            assert!(sched.last_heal_ms() < s.window_ms, "seed {seed}");
            for f in &sched.faults {
                if let What::Crash { node, .. } | What::Slow { node, .. } = f.what {
                    assert!(node < 20);
                }
            }
        }
    }

    #[test]
    fn the_mean_interval_sets_how_many_faults_a_window_holds() {
        // crashes on 20 nodes rarely wait for one another: about window / mean starts
        let count = |mean| {
            let s = Space { mean_interval_ms: mean, ..space(&[Kind::Crash]) };
            (0..200).map(|seed| Schedule::draw(seed, &s).faults.len()).sum::<usize>() as f64 / 200.0
        };
        let (often, rarely) = (count(1_000), count(5_000));
        assert!((25.0..=31.0).contains(&often), "mean 1 s: {often} faults in 30 s");
        assert!((4.5..=6.5).contains(&rarely), "mean 5 s: {rarely} faults in 30 s");
    }

    #[test]
    fn only_the_kinds_asked_for_are_drawn() {
        let s = space(&[Kind::Loss, Kind::OneWay]);
        for seed in 0..50 {
            for f in Schedule::draw(seed, &s).faults {
                assert!(matches!(f.what, What::Loss { .. } | What::OneWay { .. }), "{f:?}");
            }
        }
        assert_eq!(Kind::parse_list("crash, one-way,crash").unwrap(), vec![Kind::Crash, Kind::OneWay]);
        assert_eq!(Kind::parse_list("all").unwrap(), Kind::ALL.to_vec());
        assert!(Kind::parse_list("crash,meteor").unwrap_err().to_string().contains("\"meteor\""));
    }

    #[test]
    fn the_timeline_pairs_each_fault_with_its_end() {
        let sched = Schedule {
            faults: vec![
                Injected { start_ms: 100, length_ms: 900, what: What::Crash { node: 3, fresh: true } },
                Injected { start_ms: 200, length_ms: 50, what: What::Loss { p: 0.5 } },
                Injected { start_ms: 300, length_ms: 10, what: What::OneWay { from: (0, 4), to: (5, 9) } },
            ],
        };
        assert_eq!(
            sched.fault_texts(0.1),
            [
                "100:crash:3",
                "200:loss:0.5",
                "250:loss:0.1",
                "300:block:0-4>5-9",
                "310:unblock:0-4>5-9",
                "1000:restart-fresh:3"
            ]
        );
        assert_eq!(sched.last_heal_ms(), 1000);
    }
}
