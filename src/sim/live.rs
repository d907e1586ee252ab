//! A live run, for viewers: the browser lab drives one of these.
//!
//! It is the same run [`super::run`] makes for the same [`SimConfig`] (full
//! core nodes, the same engines), advanced in slices of virtual time, with
//! faults that a user adds while it runs. Every added fault goes into the
//! configuration's timeline, so [`Live::config`] is a scenario that replays
//! the run exactly, natively or in the page; and what a viewer draws each
//! frame (node freshness, messages in flight, per-update coverage) is read
//! here, not recomputed in JavaScript.

use serde::Serialize;

use super::engine::{Flight, Runner};
use super::population::{FullPopulation, Population, TraceEntry};
use super::{report, runner, EngineChoice, Fault, Progress, Report, SimConfig, StopReason};
use crate::core::Version;

/// Most flights kept between two drains (a frame).
pub const FLIGHT_CAP: usize = 20_000;
/// Most trace events kept for export.
pub const TRACE_CAP: usize = 500_000;

/// A run in progress.
pub struct Live {
    cfg: SimConfig,
    r: Runner<FullPopulation>,
}

/// One node, as a viewer shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    /// Its index.
    pub id: u32,
    /// Whether it runs.
    pub up: bool,
    /// Its own favorite movie, if it has one yet.
    pub movie: Option<String>,
    /// The counter of its own version.
    pub version: u64,
    /// The epoch (incarnation) of its own version.
    pub epoch: u32,
    /// Whether it holds every origin's latest update.
    pub up_to_date: bool,
    /// How many origins' latest update it lacks.
    pub stale: u32,
}

/// One row of a node's view, for the inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewRow {
    /// Whose favorite.
    pub origin: u32,
    /// What this node thinks it is.
    pub movie: String,
    /// The version it holds (counter).
    pub version: u64,
    /// Its epoch.
    pub epoch: u32,
    /// The origin's latest version (counter and epoch), as the run knows it.
    pub latest: Option<(u32, u64)>,
    /// Whether this row is behind the origin's latest.
    pub stale: bool,
    /// When this node learned it, ms.
    pub learned_at: u64,
}

/// Everything about one node, for the inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeDetail {
    /// The node.
    #[serde(flatten)]
    pub node: NodeView,
    /// Its partition group (0 when the network is whole).
    pub group: u16,
    /// The peers it can pick from: its own table (bootstrap membership),
    /// or `None` for "every member".
    pub peers: Option<Vec<u32>>,
    /// How many members the network has.
    pub members: usize,
    /// What it thinks every node's favorite is.
    pub view: Vec<ViewRow>,
    /// Updates it received that changed nothing.
    pub duplicates: u64,
    /// UUIDs it remembers for dedup.
    pub seen: usize,
}

/// One update's spread, for the convergence chart.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UpdateSpread {
    /// Whose update.
    pub origin: u32,
    /// Its epoch.
    pub epoch: u32,
    /// Its counter.
    pub counter: u64,
    /// When it was made, ms.
    pub created: u64,
    /// Fraction of live nodes that know it.
    pub fraction: f64,
    /// When the last live node learned it, ms.
    pub done: Option<u64>,
}

impl Live {
    /// Start a run of `cfg` (checked first; it always runs full core nodes,
    /// whatever `cfg.engine` says, since a viewer shows node state).
    pub fn new(cfg: &SimConfig) -> Result<Live, String> {
        let mut cfg = cfg.clone();
        cfg.engine = EngineChoice::Full;
        cfg.validate()?;
        let mut pop = super::full_population(&cfg);
        pop.track_for_viewer(TRACE_CAP);
        let mut r = runner(&cfg, pop);
        r.w.log_flights(FLIGHT_CAP);
        Ok(Live { cfg, r })
    }

    /// The scenario so far: the configuration with every fault added.
    pub fn config(&self) -> SimConfig {
        SimConfig { faults: self.r.w.faults().to_vec(), ..self.cfg.clone() }
    }

    /// Virtual time, ms.
    pub fn now(&self) -> u64 {
        self.r.now()
    }

    /// Why the run ended, if it has.
    pub fn stopped(&self) -> Option<StopReason> {
        self.r.stopped()
    }

    /// The run's time limit, ms.
    pub fn limit_ms(&self) -> u64 {
        self.r.schedule().limit_ms
    }

    /// Advance to `target` ms or the end, processing at most about `budget`
    /// events; false if the budget ran out first.
    pub fn advance(&mut self, target: u64, budget: u64) -> bool {
        self.r.advance(target, budget, &mut |_: Progress| {})
    }

    /// Add a fault now (it applies just after the current time). Node
    /// indices are checked against the nodes that exist.
    pub fn add_fault(&mut self, fault: Fault) -> Result<u64, String> {
        let n = self.r.w.pop.len();
        match fault {
            Fault::Crash { node } | Fault::Restart { node, .. } | Fault::Leave { node } if node >= n => {
                return Err(format!("there is no node {node}: nodes are 0 to {}", n.saturating_sub(1)));
            }
            Fault::Join { count } if count == 0 || n as u64 + count as u64 > 100_000 => {
                return Err("join adds 1 or more nodes, up to 100000 in all".into());
            }
            Fault::Partition { groups } if !(2..=1000).contains(&groups) => {
                return Err("a partition needs 2 to 1000 groups".into());
            }
            Fault::Loss { p } if !(0.0..=1.0).contains(&p) => {
                return Err(format!("loss must be between 0 and 1, got {p}"));
            }
            _ => {}
        }
        Ok(self.r.add_fault(self.r.now() + 1, fault))
    }

    /// The report, as `gossip sim --json` prints it for [`Live::config`]
    /// once the run has ended (before that, the report so far).
    pub fn report(&self) -> Report {
        let reason = self.r.stopped().unwrap_or(StopReason::TimeLimit);
        report(&self.config(), &self.r.w, reason, self.r.now())
    }

    /// Number of nodes ever created.
    pub fn len(&self) -> u32 {
        self.r.w.pop.len()
    }

    /// Whether there are none (never, once built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every live node holds every origin's latest update.
    pub fn converged(&self) -> bool {
        (0..self.len()).filter(|&i| self.r.w.up[i as usize]).all(|i| self.stale(i) == 0)
    }

    fn stale(&self, i: u32) -> u32 {
        self.r.w.pop.staleness(i).map_or(0, |s| s.0)
    }

    /// Node `i` as a viewer shows it.
    pub fn node(&self, i: u32) -> Option<NodeView> {
        let n = self.r.w.pop.nodes().get(i as usize)?;
        let stale = self.stale(i);
        let up = self.r.w.up[i as usize];
        Some(NodeView {
            id: i,
            up,
            movie: n.favorite().map(str::to_owned),
            version: n.version().counter,
            epoch: n.version().epoch,
            up_to_date: up && stale == 0,
            stale,
        })
    }

    /// One code per node for the frame: 0 down, otherwise 1 + how many
    /// origins' latest update it lacks.
    pub fn status_codes(&self, out: &mut Vec<u32>) {
        out.clear();
        out.extend((0..self.len()).map(|i| if self.r.w.up[i as usize] { 1 + self.stale(i) } else { 0 }));
    }

    /// Each node's partition group.
    pub fn groups(&self, out: &mut Vec<u16>) {
        out.clear();
        out.extend((0..self.len()).map(|i| self.r.w.net.group(i)));
    }

    /// Everything about node `i`.
    pub fn detail(&self, i: u32) -> Option<NodeDetail> {
        let node = self.node(i)?;
        let pop = &self.r.w.pop;
        let n = &pop.nodes()[i as usize];
        let mut view: Vec<ViewRow> = n
            .view()
            .map(|(&o, e)| {
                let latest = pop.latest(o);
                ViewRow {
                    origin: o,
                    movie: e.payload.as_str().to_owned(),
                    version: e.version.counter,
                    epoch: e.version.epoch,
                    latest: latest.map(|v: Version| (v.epoch, v.counter)),
                    stale: latest.is_some_and(|l| l > e.version),
                    learned_at: e.learned_at,
                }
            })
            .collect();
        view.sort_by_key(|r| r.origin);
        Some(NodeDetail {
            node,
            group: self.r.w.net.group(i),
            peers: pop.peer_table(i).map(|t| t.peers().to_vec()),
            members: self.r.w.members.len(),
            view,
            duplicates: n.stats().duplicates,
            seen: n.seen_len(),
        })
    }

    /// Messages sent since the last call, and how many more did not fit.
    pub fn drain_flights(&mut self) -> (Vec<Flight>, u64) {
        self.r.w.drain_flights()
    }

    /// Updates made since `since` ms, or still spreading.
    pub fn spreads(&self, since: u64) -> Vec<UpdateSpread> {
        let live = self.r.w.metrics.live().max(1) as f64;
        self.r
            .w
            .metrics
            .recent(since)
            .map(|(origin, v, created, covered, done)| UpdateSpread {
                origin,
                epoch: v.epoch,
                counter: v.counter,
                created,
                fraction: if done.is_some() { 1.0 } else { (covered as f64 / live).min(1.0) },
                done,
            })
            .collect()
    }

    /// The event trace so far, and how many events did not fit.
    pub fn trace(&self) -> (&[TraceEntry], u64) {
        self.r.w.pop.trace()
    }
}
