//! A live run, for viewers: the browser lab drives one of these.
//!
//! It is the same run [`super::run`] makes for the same [`SimConfig`] (real
//! core state machines, never the compact engine), advanced in slices of virtual time, with
//! faults that a user adds while it runs. Every added fault goes into the
//! configuration's timeline, so [`Live::config`] is a scenario that replays
//! the run exactly, natively or in the page; and what a viewer draws each
//! frame (node freshness, messages in flight, per-update coverage) is read
//! here, not recomputed in JavaScript.
//!
//! The same driver runs every population the simulator has: full gossip
//! nodes ([`FullPopulation`], the default, the only one real nodes can
//! join), SWIM members ([`SwimPopulation`]) and overlay nodes
//! ([`OverlayPopulation`]: HyParView or a static topology, Plumtree or
//! flooding). [`LiveRun`] says how each is built and reported, so a live
//! run of any of them ends with exactly the report `gossip sim --json`
//! prints; what is particular to one (a SWIM member's view, Plumtree's
//! eager links) is read in its own `impl` block below.
//!
//! Single-rumor runs past [`COMPACT_ABOVE`] nodes (or any that asks for
//! `engine: compact`) run on the [`CompactPopulation`] instead, exactly as
//! `gossip sim` does ([`runs_compact`]): a few bytes a node, so the
//! literature's 1,000,000-node experiments run in the page too. Such a run
//! keeps whether each node knows the rumor and the counters, nothing more
//! (no views, no who-told-whom, no messages in flight to draw).

use serde::Serialize;

use super::compact::CompactPopulation;
use super::engine::{Flight, Runner};
use super::metrics::Knowledge;
use super::overlay::OverlayPopulation;
use super::population::{Delivery, FullPopulation, Population, Told, TraceEntry};
pub use super::remote::NodeKind;
use super::spread_log::SpreadLog;
use super::swim::SwimPopulation;
use super::table::ParamError;
use super::{report, runner, EngineChoice, Fault, MembershipMode, Progress, Report, RunError, SimConfig, StopReason};
use crate::core::membership::swim::State;
use crate::core::{Digest, Message, Update, Version};

/// Most flights kept between two drains (a frame): the latest.
pub const FLIGHT_CAP: usize = 20_000;
/// Most trace events kept for export.
pub const TRACE_CAP: usize = 500_000;

/// A population a live run can drive: how it is built for a
/// configuration, and how its run is reported (as `gossip sim` does).
pub trait LiveRun: Population + Sized {
    /// The population of `cfg` (already validated), or why this kind of
    /// run does not take `cfg`.
    fn build(cfg: &SimConfig) -> Result<Self, RunError>;
    /// Whether the run logs the messages it sends for the viewer to draw.
    const FLIGHTS: bool = true;
    /// The engine the run's configuration names (and its report says):
    /// full nodes unless the population is the compact one.
    fn engine(_cfg: &SimConfig) -> EngineChoice {
        EngineChoice::Full
    }
    /// The report of the run `r` of `cfg` that reached `t` (stopped for `reason`).
    fn report(cfg: &SimConfig, r: &Runner<Self>, reason: StopReason, t: u64) -> Report;
    /// The counters of one of [`Live::rows`] for the run `r` of `cfg` at
    /// `t`: by default read off the whole report. A population whose
    /// report is [`super::report`] reads them off the world instead
    /// ([`Counters::of_world`]): that report checks every node against
    /// every origin's latest version, which a row does not show (a tenth
    /// of the page's 1,000-node run went there).
    fn counters(cfg: &SimConfig, r: &Runner<Self>, t: u64) -> Counters {
        Counters::of_report(&Self::report(cfg, r, r.stopped().unwrap_or(StopReason::TimeLimit), t))
    }
    /// How many nodes of the run `r` count for convergence and hold every
    /// origin's latest update, if the population counts them without
    /// asking every node (`None`: [`Live`] asks each node, a pass that at
    /// a million nodes cost a fifth of the page's run, once a row).
    fn up_to_date(_r: &Runner<Self>) -> Option<u32> {
        None
    }
    /// How many updates (broadcasts) node `i` is behind, for the viewer.
    fn behind(&self, i: u32) -> u32;
    /// Every delivery of `version` of `origin` so far, first ones and
    /// duplicates, in time order; `None` if this run keeps none for it.
    fn dissemination(&self, _origin: u32, _version: Version) -> Option<&[Delivery]> {
        None
    }
    /// What a message carries, for the inspector (by default its size only).
    fn describe(&self, msg: &Self::Msg) -> Carries {
        Carries { kind: "message", bytes: self.msg_info(msg).0, updates: Vec::new() }
    }
}

/// The counters a row of [`Live::rows`] shows, as the report has them.
#[derive(Clone, Debug, PartialEq)]
pub struct Counters {
    /// Nodes up.
    pub live: u32,
    /// Updates made.
    pub updates: u64,
    /// Messages sent.
    pub messages: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Updates received that changed nothing.
    pub duplicates: u64,
    /// Messages lost.
    pub lost_messages: u64,
    /// Messages cut by a partition.
    pub partitioned_messages: u64,
    /// Latency of the completed updates.
    pub latency_ms: super::Latency,
}

impl Counters {
    /// The counters of `report`.
    pub fn of_report(m: &Report) -> Counters {
        Counters {
            live: m.live,
            updates: m.updates,
            messages: m.messages,
            bytes: m.bytes,
            duplicates: m.duplicates,
            lost_messages: m.lost_messages,
            partitioned_messages: m.partitioned_messages,
            latency_ms: m.latency_ms.clone(),
        }
    }

    /// The counters [`super::report`] gives the world `w`, read off it
    /// directly (without the report's check of every node's view).
    pub fn of_world<P: Population>(w: &super::engine::World<P>) -> Counters {
        let m = &w.metrics;
        let mut lat: Vec<u64> = Vec::new();
        let mut updates = 0;
        for (_, _, created, done) in m.updates() {
            updates += 1;
            lat.extend(done.map(|d| d - created));
        }
        Counters {
            // one bit a node, kept as long as the population
            live: w.up.count_ones() as u32,
            updates,
            messages: m.messages,
            bytes: m.bytes,
            duplicates: w.pop.duplicates(),
            lost_messages: m.lost,
            partitioned_messages: m.partitioned,
            latency_ms: super::Latency::of(&mut lat),
        }
    }
}

/// What a message in flight carries, for the inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Carries {
    /// `push` (forwarded updates), `feedback`, `digest`, `delta` (state
    /// transfer), or `message` for the runs whose messages are not described.
    pub kind: &'static str,
    /// Its approximate size on the wire, bytes.
    pub bytes: usize,
    /// The updates it carries.
    pub updates: Vec<CarriedUpdate>,
}

/// One update a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CarriedUpdate {
    /// Whose favorite.
    pub origin: u32,
    /// The version's epoch.
    pub epoch: u32,
    /// The version's counter.
    pub counter: u64,
    /// Hops it may still travel.
    pub ttl: u32,
}

/// A message in flight, for the inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InFlight {
    /// Sender.
    pub from: u32,
    /// Receiver.
    pub to: u32,
    /// When it arrives, ms.
    pub arrives: u64,
    /// What it carries.
    #[serde(flatten)]
    pub carries: Carries,
}

impl LiveRun for FullPopulation {
    fn build(cfg: &SimConfig) -> Result<Self, RunError> {
        if cfg.membership == MembershipMode::Swim || cfg.membership.is_overlay() {
            return Err(RunError::Membership { membership: cfg.membership.name(), runs: "full gossip nodes" });
        }
        let mut pop = super::full_population(cfg);
        pop.track_for_viewer(TRACE_CAP);
        Ok(pop)
    }
    fn report(cfg: &SimConfig, r: &Runner<Self>, reason: StopReason, t: u64) -> Report {
        report(cfg, &r.w, reason, t)
    }
    fn counters(_cfg: &SimConfig, r: &Runner<Self>, _t: u64) -> Counters {
        Counters::of_world(&r.w)
    }
    fn behind(&self, i: u32) -> u32 {
        self.staleness(i).map_or(0, |s| s.0)
    }
    fn dissemination(&self, origin: u32, version: Version) -> Option<&[Delivery]> {
        FullPopulation::dissemination(self, origin, version)
    }
    fn describe(&self, msg: &Message<u32>) -> Carries {
        let (kind, updates): (_, &[Update<u32>]) = match msg {
            Message::Push(u) => ("push", u),
            Message::Feedback(_) => ("feedback", &[]),
            Message::Digest { .. } => ("digest", &[]),
            Message::Delta { updates, .. } => ("delta", updates),
        };
        let updates = updates
            .iter()
            .map(|u| CarriedUpdate { origin: u.origin, epoch: u.version.epoch, counter: u.version.counter, ttl: u.ttl })
            .collect();
        Carries { kind, bytes: msg.wire_len(), updates }
    }
}

impl LiveRun for SwimPopulation {
    fn build(cfg: &SimConfig) -> Result<Self, RunError> {
        match (&cfg.swim, cfg.membership) {
            (Some(run), MembershipMode::Swim) => Ok(SwimPopulation::new(cfg.nodes, run, cfg.seed)),
            _ => Err(RunError::Membership { membership: cfg.membership.name(), runs: "SWIM members" }),
        }
    }
    fn report(cfg: &SimConfig, r: &Runner<Self>, reason: StopReason, t: u64) -> Report {
        super::swim_report(cfg, &r.w, reason, t)
    }
    /// SWIM spreads no rumor: nobody is behind.
    fn behind(&self, _i: u32) -> u32 {
        0
    }
}

impl LiveRun for OverlayPopulation {
    fn build(cfg: &SimConfig) -> Result<Self, RunError> {
        if !cfg.membership.is_overlay() {
            return Err(RunError::Membership { membership: cfg.membership.name(), runs: "overlay nodes" });
        }
        let mut pop = OverlayPopulation::new(cfg)?;
        pop.track_deliveries();
        Ok(pop)
    }
    fn report(cfg: &SimConfig, r: &Runner<Self>, reason: StopReason, t: u64) -> Report {
        super::overlay::report(cfg, r, reason, t)
    }
    /// Broadcasts announced to it (`IHAVE`) that it has not received yet.
    fn behind(&self, i: u32) -> u32 {
        self.tree(i).missing() as u32
    }
    /// Broadcasts have one version, `0.1`.
    fn dissemination(&self, origin: u32, version: Version) -> Option<&[Delivery]> {
        (version == Version::new(0, 1)).then(|| OverlayPopulation::dissemination(self, origin)).flatten()
    }
}

impl LiveRun for CompactPopulation {
    fn build(cfg: &SimConfig) -> Result<Self, RunError> {
        if !cfg.compact_applies() {
            let why = format!("the compact engine cannot run {}", cfg.compact_obstacles().join(", "));
            return Err(RunError::Param(ParamError::rule("engine", why)));
        }
        Ok(CompactPopulation::new(cfg.nodes, cfg.node_config(), cfg.seed, 0))
    }
    /// A compact run draws no messages: at a million nodes they would be
    /// millions a round, and its fast rounds send them in bulk.
    const FLIGHTS: bool = false;
    /// As given (`auto` or `compact`), so the report's configuration is
    /// the one `gossip sim` prints for the same parameters.
    fn engine(cfg: &SimConfig) -> EngineChoice {
        cfg.engine
    }
    fn report(cfg: &SimConfig, r: &Runner<Self>, reason: StopReason, t: u64) -> Report {
        report(cfg, &r.w, reason, t)
    }
    fn counters(_cfg: &SimConfig, r: &Runner<Self>, _t: u64) -> Counters {
        Counters::of_world(&r.w)
    }
    /// A word at a time: the nodes up that know the rumor (all up before
    /// it is made). Real nodes never join a compact run; if they did, the
    /// pass would count them.
    fn up_to_date(r: &Runner<Self>) -> Option<u32> {
        (!r.w.remotes.any()).then(|| r.w.pop.up_to_date(&r.w.up))
    }
    /// One update behind until it knows the rumor, once it was made.
    fn behind(&self, i: u32) -> u32 {
        u32::from(self.rumor_made() && self.known(i, 0).is_none())
    }
}

/// Above this many nodes (20,000, as the messages below spell it) the page runs a single rumor on the compact
/// population (as `gossip sim` would); at or below it, on full nodes, whose
/// views, senders and messages the viewer shows.
pub const COMPACT_ABOVE: u32 = 20_000;

/// Whether a live run of `cfg` runs on the compact population: `engine:
/// compact`, or `auto` past [`COMPACT_ABOVE`] nodes where the compact
/// engine applies. A run past that size it does not apply to is refused
/// (full nodes keep views the page cannot hold), naming what stands in
/// the way.
pub fn runs_compact(cfg: &SimConfig) -> Result<bool, ParamError> {
    match cfg.engine {
        EngineChoice::Compact => Ok(true),
        EngineChoice::Full if cfg.nodes <= COMPACT_ABOVE => Ok(false),
        EngineChoice::Auto if cfg.nodes <= COMPACT_ABOVE => Ok(false),
        EngineChoice::Auto if cfg.compact_applies() => Ok(true),
        EngineChoice::Full => Err(ParamError::rule(
            "nodes",
            format!(
                "the lab shows at most 20,000 nodes on full nodes (engine full); past that it runs a single rumor on the compact engine (engine auto or compact), got {}",
                cfg.nodes
            ),
        )),
        EngineChoice::Auto => Err(ParamError::rule(
            "nodes",
            format!(
                "the lab shows at most 20,000 nodes on full nodes; past that it runs a single rumor on the compact engine, which cannot run {} (got {})",
                cfg.compact_obstacles().join(", "),
                cfg.nodes
            ),
        )),
    }
}

/// A run in progress (of full gossip nodes unless `P` says otherwise).
pub struct Live<P: LiveRun = FullPopulation> {
    cfg: SimConfig,
    r: Runner<P>,
    /// Each update's spread, sampled in virtual time.
    log: SpreadLog,
    /// Counters at fixed steps of virtual time ([`ROW_COLUMNS`] each).
    rows: Vec<[f64; ROW_COLUMNS.len()]>,
    /// Virtual time between two rows, ms (a multiple of the log's step).
    row_step: u64,
}

/// The columns of [`Live::rows`]: the counters of `gossip sim --json`
/// (and the nodes up to date) at one instant of virtual time; an empty
/// latency is NaN.
pub const ROW_COLUMNS: [&str; 12] = [
    "time_ms",
    "nodes_up",
    "nodes_up_to_date",
    "updates",
    "messages",
    "bytes",
    "duplicates",
    "lost_messages",
    "partitioned_messages",
    "latency_median_ms",
    "latency_p99_ms",
    "latency_max_ms",
];

/// Most rows kept (a run past that many steps keeps its first ones).
pub const ROW_CAP: usize = 100_000;

/// Why [`Live::seek`] could not go to a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeekError {
    /// Real nodes (or other pages' nodes) take part: their past cannot be replayed.
    Remote,
    /// The scenario could not be rebuilt (cannot happen for a run that started).
    Rebuild(RunError),
}

impl std::fmt::Display for SeekError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeekError::Remote => write!(f, "real nodes take part in this run: their past cannot be replayed, so time runs at wall-clock speed and cannot be moved"),
            SeekError::Rebuild(e) => write!(f, "the scenario could not be rebuilt: {e}"),
        }
    }
}

impl std::error::Error for SeekError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SeekError::Remote => None,
            SeekError::Rebuild(e) => Some(e),
        }
    }
}

/// Why [`Live::add_fault`] refused a fault.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultRefused {
    /// It names a node that does not exist (nodes are `0` to `nodes - 1`).
    NoNode {
        /// The node named.
        node: u32,
        /// How many nodes there are.
        nodes: u32,
    },
    /// It would crash, restart or remove a node another process runs.
    Remote {
        /// The node named.
        node: u32,
    },
    /// A join of no nodes, or one past 100000 nodes in all.
    Join,
    /// A partition into fewer than 2 or more than 1000 groups.
    Partition,
    /// A loss probability outside 0 to 1.
    Loss(f64),
    /// A slow member in the rounds model.
    SlowInRounds,
    /// A crash-random fraction outside 0 to 1.
    Fraction(f64),
    /// The scenario with it added is refused (a fault this kind of run does not take).
    Scenario(ParamError),
    /// The run could not take another course from now.
    Seek(SeekError),
}

impl std::fmt::Display for FaultRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultRefused::NoNode { node, nodes } => {
                write!(f, "there is no node {node}: nodes are 0 to {}", nodes.saturating_sub(1))
            }
            FaultRefused::Remote { node } => {
                write!(f, "node {node} is not simulated here: it cannot be crashed from the lab")
            }
            FaultRefused::Join => f.write_str("join adds 1 or more nodes, up to 100000 in all"),
            FaultRefused::Partition => f.write_str("a partition needs 2 to 1000 groups"),
            FaultRefused::Loss(p) => write!(f, "loss must be between 0 and 1, got {p}"),
            FaultRefused::SlowInRounds => {
                f.write_str("a slow member handles messages late in virtual milliseconds: use the events model")
            }
            FaultRefused::Fraction(x) => write!(f, "the fraction must be between 0 and 1, got {x}"),
            FaultRefused::Scenario(e) => e.fmt(f),
            FaultRefused::Seek(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for FaultRefused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FaultRefused::Scenario(e) => Some(e),
            FaultRefused::Seek(e) => Some(e),
            _ => None,
        }
    }
}

/// One node, as a viewer shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeView {
    /// Its index.
    pub id: u32,
    /// Virtual, native or remote-virtual.
    pub kind: NodeKind,
    /// Whether it runs (a native node: whether it answers).
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
    /// Who told it this version (absent: it made it, a client handed it
    /// over, or it came from a real node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// Its hop count (0 at the origin), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop: Option<u32>,
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

/// One update's spread at this moment (the chart reads the spread log,
/// [`super::spread_log`], which keeps its whole course).
#[derive(Clone, Copy, Debug, PartialEq)]
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
    pub fn new(cfg: &SimConfig) -> Result<Live, RunError> {
        Self::start(cfg)
    }
}

impl<P: LiveRun> Live<P> {
    /// Start a run of `cfg` on `P` (checked first; `cfg.engine` is set to
    /// full, a viewer showing node state, unless `P` is the compact
    /// population: see [`LiveRun::engine`]).
    pub fn start(cfg: &SimConfig) -> Result<Live<P>, RunError> {
        let mut cfg = cfg.clone();
        cfg.engine = P::engine(&cfg);
        cfg.validate()?;
        let mut r = runner(&cfg, P::build(&cfg)?);
        if P::FLIGHTS {
            r.w.log_flights(FLIGHT_CAP);
        }
        let log = SpreadLog::new(SpreadLog::resolution_for(cfg.node.interval_ms));
        let row_step = cfg.node.interval_ms.max(100).div_ceil(log.resolution()) * log.resolution();
        Ok(Live { cfg, r, log, rows: Vec::new(), row_step })
    }

    /// The counters at fixed steps of virtual time (every interval, at
    /// least every 100 ms, and at the end), [`ROW_COLUMNS`] each: the same
    /// however the run was sliced.
    pub fn rows(&self) -> &[[f64; ROW_COLUMNS.len()]] {
        &self.rows
    }

    /// Virtual time between two of [`Live::rows`], ms.
    pub fn row_step(&self) -> u64 {
        self.row_step
    }

    fn record_row(&mut self) {
        if self.rows.len() >= ROW_CAP {
            return;
        }
        let m = P::counters(&self.config(), &self.r, self.r.now());
        let current = self.up_to_date();
        let l = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let u = |x: u64| x as f64;
        self.rows.push([
            u(self.now()),
            f64::from(m.live),
            f64::from(current),
            u(m.updates),
            u(m.messages),
            u(m.bytes),
            u(m.duplicates),
            u(m.lost_messages),
            u(m.partitioned_messages),
            l(m.latency_ms.median),
            l(m.latency_ms.p99),
            l(m.latency_ms.max),
        ]);
    }

    /// Each update's spread so far, sampled in virtual time (the same
    /// however the run was sliced into [`Live::advance`] calls).
    pub fn spread_log(&self) -> &SpreadLog {
        &self.log
    }

    /// Go to virtual time `ms` exactly: forward by running on, backward by
    /// rebuilding the run from [`Live::config`] (every fault added so far,
    /// later ones included, so going forward again replays them) and
    /// replaying to `ms`. The run is deterministic, so the state is the
    /// state a fresh run of the scenario has at `ms`. Refused while real
    /// nodes take part.
    pub fn seek(&mut self, ms: u64) -> Result<(), SeekError> {
        if self.r.w.remotes.any() {
            return Err(SeekError::Remote);
        }
        if ms < self.now() {
            *self = Self::start(&self.config()).map_err(SeekError::Rebuild)?;
        }
        self.advance(ms, u64::MAX);
        Ok(())
    }

    /// Whether the scenario holds faults later than one added now would
    /// be (at now + 1 ms): the run was sought back.
    pub fn has_future(&self) -> bool {
        let now = self.now();
        self.r.w.faults().iter().any(|f| f.at_ms > now + 1)
    }

    /// Drop the faults after now (the run was sought back and now takes
    /// another course): rebuild without them and replay to now.
    pub fn fork(&mut self) -> Result<(), SeekError> {
        if !self.has_future() {
            return Ok(());
        }
        let now = self.now();
        let mut cfg = self.config();
        cfg.faults.retain(|f| f.at_ms <= now + 1);
        *self = Self::start(&cfg).map_err(SeekError::Rebuild)?;
        self.advance(now, u64::MAX);
        Ok(())
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
    /// The spread log is sampled at each of its grid times on the way.
    pub fn advance(&mut self, target: u64, budget: u64) -> bool {
        let until = self.r.w.metrics.events.saturating_add(budget);
        let left = |r: &Runner<P>| until.saturating_sub(r.w.metrics.events);
        loop {
            let g = self.log.next_sample().min(target);
            if left(&self.r) == 0 {
                return false;
            }
            let closed = self.log.next_sample() == u64::MAX;
            if closed && self.r.stopped().is_none() {
                // a fault woke a run that had converged: follow it again
                self.log.reopen(self.r.now());
                continue;
            }
            let reached = self.r.advance(g, left(&self.r), &mut |_: Progress| {});
            if self.r.stopped().is_some() {
                if !closed {
                    self.log.close(&self.r.w.metrics, self.r.now());
                    self.record_row();
                }
                return true;
            }
            if !reached {
                return false;
            }
            if g == self.log.next_sample() {
                self.log.sample(&self.r.w.metrics, g);
                if g.is_multiple_of(self.row_step) {
                    self.record_row();
                }
            }
            if g == target {
                return true;
            }
        }
    }

    /// Add a fault now (it applies just after the current time). Node
    /// indices are checked against the nodes that exist.
    /// A fault added after seeking back takes the run on another course:
    /// the faults that were after now are dropped first (see [`Live::fork`]).
    pub fn add_fault(&mut self, fault: Fault) -> Result<u64, FaultRefused> {
        let n = self.r.w.pop.len();
        match fault {
            Fault::Crash { node }
            | Fault::Restart { node, .. }
            | Fault::Leave { node }
            | Fault::Slow { node, .. }
            | Fault::Fast { node }
                if node >= n =>
            {
                return Err(FaultRefused::NoNode { node, nodes: n });
            }
            Fault::Crash { node } | Fault::Restart { node, .. } | Fault::Leave { node } if self.is_remote(node) => {
                return Err(FaultRefused::Remote { node });
            }
            Fault::Join { count } if count == 0 || n as u64 + count as u64 > 100_000 => {
                return Err(FaultRefused::Join);
            }
            Fault::Partition { groups } if !(2..=1000).contains(&groups) => {
                return Err(FaultRefused::Partition);
            }
            Fault::Loss { p } if !(0.0..=1.0).contains(&p) => {
                return Err(FaultRefused::Loss(p));
            }
            Fault::Slow { .. } if self.r.w.pop.len() > 0 && self.config().model == super::Model::Rounds => {
                return Err(FaultRefused::SlowInRounds);
            }
            Fault::CrashRandom { fraction } if !(0.0..=1.0).contains(&fraction) => {
                return Err(FaultRefused::Fraction(fraction));
            }
            _ => {}
        }
        // a fault the scenario could not replay (one this kind of run does
        // not take, such as a restart in an overlay run) is refused now
        let at = self.r.now() + 1;
        let mut next = self.config();
        next.faults.push(super::TimedFault { at_ms: at, fault: fault.clone() });
        next.check().map_err(FaultRefused::Scenario)?;
        self.fork().map_err(FaultRefused::Seek)?;
        // a broadcast's values are keyed above every node, joiners included
        // (`workload::key`), so a join renumbers them from the start: the run
        // is rebuilt with it and replayed to now, as a fresh run of the
        // scenario is (added to the running one, the joiners took the keys
        // of values already handed out; with real nodes, whose past cannot be
        // replayed, it stays so)
        if matches!(fault, Fault::Join { .. }) && next.scenario == super::Scenario::Broadcast && !self.r.w.remotes.any()
        {
            let mut cfg = self.config();
            cfg.faults.push(super::TimedFault { at_ms: at, fault });
            let now = self.now();
            *self = Self::start(&cfg).map_err(|e| FaultRefused::Seek(SeekError::Rebuild(e)))?;
            self.advance(now, u64::MAX);
            return Ok(at);
        }
        Ok(self.r.add_fault(at, fault))
    }

    /// The report, as `gossip sim --json` prints it for [`Live::config`]
    /// once the run has ended (before that, the report so far).
    pub fn report(&self) -> Report {
        let reason = self.r.stopped().unwrap_or(StopReason::TimeLimit);
        P::report(&self.config(), &self.r, reason, self.r.now())
    }

    /// Number of nodes ever created.
    pub fn len(&self) -> u32 {
        self.r.w.pop.len()
    }

    /// Whether there are none (never, once built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every live node (simulated and up, or native and answering)
    /// holds every origin's latest update.
    pub fn converged(&self) -> bool {
        (0..self.len()).filter(|&i| self.counts(i)).all(|i| self.stale(i) == 0)
    }

    /// How many nodes count for convergence and hold every origin's latest
    /// update now (the rows' `nodes_up_to_date`).
    fn up_to_date(&self) -> u32 {
        P::up_to_date(&self.r)
            .unwrap_or_else(|| (0..self.len()).filter(|&i| self.counts(i) && self.stale(i) == 0).count() as u32)
    }

    /// Whether node `i` counts for convergence: simulated and up, or a
    /// native node that answers.
    fn counts(&self, i: u32) -> bool {
        match self.r.w.remotes.get(i) {
            None => self.r.w.up.get(i as usize),
            Some(s) => s.kind == NodeKind::Native && s.reachable,
        }
    }

    /// Whether node `i` stands for a node outside the run (see `remote.rs`).
    pub fn is_remote(&self, i: u32) -> bool {
        self.r.w.remotes.contains(i)
    }

    /// What node `i` is.
    pub fn kind(&self, i: u32) -> NodeKind {
        self.r.w.remotes.kind(i)
    }

    /// Whether simulated node `i` is up.
    pub fn is_up(&self, i: u32) -> bool {
        !self.is_remote(i) && self.r.w.up.get(i as usize)
    }

    /// Add a real node (`Native`) or a node elsewhere (`RemoteVirtual`):
    /// it gets an index, is drawn and inspected like the others, and never
    /// runs here. Returns its index.
    pub fn add_remote(&mut self, kind: NodeKind) -> u32 {
        let now = self.r.now();
        self.r.w.add_remote(kind, now)
    }

    /// Mark native node `i` answering or not.
    pub fn set_reachable(&mut self, i: u32, reachable: bool) {
        self.r.w.remotes.set_reachable(i, reachable);
    }

    /// Open-ended mode while real nodes take part (see [`Runner::set_open`]).
    pub fn set_open(&mut self, open: bool) {
        self.r.set_open(open);
    }

    /// Whether the run is open-ended.
    pub fn is_open(&self) -> bool {
        self.r.is_open()
    }

    /// Draw a message that went outside the network model (an HTTP exchange).
    pub fn log_flight(&mut self, f: Flight) {
        self.r.w.log_flight(f);
    }

    fn stale(&self, i: u32) -> u32 {
        self.r.w.pop.behind(i)
    }

    /// Each node's state for the frame, in index order: `None` down (or a
    /// native node that does not answer), otherwise how many origins'
    /// latest update it lacks (a remote virtual node, whose view is
    /// unknown: 0).
    pub fn lacking(&self) -> impl Iterator<Item = Option<u32>> + '_ {
        // (without real nodes, no lookup of each node among them: at a
        // million nodes that lookup was most of the frame's status read)
        let remotes = self.r.w.remotes.any();
        (0..self.len()).map(move |i| match if remotes { self.r.w.remotes.get(i) } else { None } {
            None if self.r.w.up.get(i as usize) => Some(self.stale(i)),
            None => None,
            Some(s) if s.kind == NodeKind::RemoteVirtual => Some(0),
            Some(s) if s.reachable => Some(self.stale(i)),
            Some(_) => None,
        })
    }

    /// [`Live::lacking`] as codes into `out`: `down` for a node down (or
    /// not answering), `current + k` for one `k` updates behind. A word at
    /// a time where the population keeps a single rumor's holders as bits
    /// ([`Population::rumor_bits`]: a node without it lacks one update once
    /// it was made) and no real node takes part (a million compact nodes
    /// asked one by one took 45 ms a read in the page).
    pub fn lacking_codes(&self, down: u32, current: u32, out: &mut Vec<u32>) {
        out.clear();
        let w = &self.r.w;
        let Some(r) = w.pop.rumor_bits().filter(|_| !w.remotes.any()) else {
            out.extend(self.lacking().map(|k| k.map_or(down, |k| current + k)));
            return;
        };
        let n = self.len() as usize;
        out.resize(n, current);
        let codes = out.as_mut_slice();
        let up = w.up.words();
        // (while loops: a `Range`'s `next` is a call in the page's wasm)
        let mut k = 0;
        while k < up.len() && k * 64 < n {
            let (u, b) = (up[k], if r.made { r.holders.get(k).copied().unwrap_or(0) } else { u64::MAX });
            let tail = if (k + 1) * 64 <= n { u64::MAX } else { (1u64 << (n % 64)) - 1 };
            let mut odd = (!u | !b) & tail; // down, or up and behind
            while odd != 0 {
                let t = odd.trailing_zeros() as usize;
                codes[k * 64 + t] = if u >> t & 1 == 0 { down } else { current + 1 };
                odd &= odd - 1;
            }
            k += 1;
        }
    }

    /// Each node's partition group.
    pub fn groups(&self, out: &mut Vec<u16>) {
        out.clear();
        if self.r.w.net.is_partitioned() {
            out.extend((0..self.len()).map(|i| self.r.w.net.group(i)));
        } else {
            // whole: every node in group 0
            out.resize(self.len() as usize, 0);
        }
    }

    /// Every delivery of `version` of `origin` so far, first ones and
    /// duplicates, in time order (see [`LiveRun::dissemination`]).
    pub fn dissemination(&self, origin: u32, version: Version) -> Option<&[Delivery]> {
        self.r.w.pop.dissemination(origin, version)
    }

    /// The messages from `from` to `to` in flight now, by arrival within
    /// the queue's window of 8 s (none in the rounds model, where an
    /// exchange completes within its round).
    pub fn in_flight(&self, from: u32, to: u32) -> Vec<InFlight> {
        let mut out = Vec::new();
        self.r.in_flight(|f, t, arrives, msg| {
            if (f, t) == (from, to) {
                out.push(InFlight { from, to, arrives, carries: self.r.w.pop.describe(msg) });
            }
        });
        out
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
}

impl Live {
    /// The remote origin `i` made `version` (as learned from the network):
    /// counted as an update of the run, and freshness is judged against it.
    /// Older or equal versions change nothing.
    pub fn remote_originated(&mut self, i: u32, version: Version) {
        if self.is_remote(i) && self.r.w.pop.remote_originated(i, version) {
            let now = self.r.now();
            self.r.w.metrics.originated(i, version, now);
        }
    }

    /// Show remote node `i`'s mirror what its node knows (see [`FullPopulation::mirror_apply`]).
    pub fn mirror(&mut self, i: u32, updates: Vec<Update<u32>>) {
        if self.is_remote(i) {
            let now = self.r.now();
            self.r.w.pop.mirror_apply(i, updates, now);
        }
    }

    /// Node `i`'s entry for `origin` (a remote node's: what its node said of it).
    pub fn entry(&self, i: u32, origin: u32) -> Option<&crate::core::Entry> {
        self.r.w.pop.nodes().get(i as usize)?.entry(&origin)
    }

    /// The latest version of `origin` the run knows of.
    pub fn latest(&self, origin: u32) -> Option<Version> {
        self.r.w.pop.latest(origin)
    }

    /// Simulated node `i`'s digest, if it is up.
    pub fn digest(&self, i: u32) -> Option<Digest<u32>> {
        self.is_up(i).then(|| self.r.w.pop.nodes()[i as usize].digest())
    }

    /// Deliver `msg` from remote node `from` to simulated node `to` now
    /// (see [`Runner::deliver_remote`]).
    pub fn deliver_remote(&mut self, to: u32, from: u32, msg: Message<u32>) {
        self.r.deliver_remote(to, from, msg);
    }

    /// What simulated nodes sent to remote nodes since the last call.
    pub fn drain_remote(&mut self) -> Vec<(u32, u32, Message<u32>)> {
        self.r.w.remotes.drain()
    }

    /// Node `i` as a viewer shows it.
    pub fn node(&self, i: u32) -> Option<NodeView> {
        let n = self.r.w.pop.nodes().get(i as usize)?;
        let stale = self.stale(i);
        let kind = self.kind(i);
        let (up, movie, version) = match self.r.w.remotes.get(i) {
            None => (self.r.w.up.get(i as usize), n.favorite(), n.version()),
            // a mirror's entry for its own index is what the remote node said of itself
            Some(s) => {
                let own = n.entry(&i);
                (s.reachable, own.map(|e| e.payload.as_str()), own.map_or(Version::new(0, 0), |e| e.version))
            }
        };
        Some(NodeView {
            id: i,
            kind,
            up,
            movie: movie.map(str::to_owned),
            version: version.counter,
            epoch: version.epoch,
            up_to_date: up && stale == 0,
            stale,
        })
    }

    /// Everything about node `i`.
    pub fn detail(&self, i: u32) -> Option<NodeDetail> {
        let node = self.node(i)?;
        let pop = &self.r.w.pop;
        let n = &pop.nodes()[i as usize];
        let view: Vec<ViewRow> = n
            .view()
            .map(|(&o, e)| {
                let latest = pop.latest(o);
                let told = pop.told(i, o);
                ViewRow {
                    origin: o,
                    movie: e.payload.as_str().to_owned(),
                    version: e.version.counter,
                    epoch: e.version.epoch,
                    latest: latest.map(|v: Version| (v.epoch, v.counter)),
                    stale: latest.is_some_and(|l| l > e.version),
                    learned_at: e.learned_at,
                    from: told.and_then(Told::sender),
                    hop: told.and_then(Told::hops),
                }
            })
            .collect();
        let view = super::order::sorted_by(view, |r| (u64::from(r.origin), 0));
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

    /// The event trace so far, and how many events did not fit.
    pub fn trace(&self) -> (Vec<TraceEntry>, u64) {
        self.r.w.pop.trace()
    }
}

/// One SWIM member, for the inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberDetail {
    /// Its index.
    pub id: u32,
    /// Whether it runs.
    pub up: bool,
    /// Its own incarnation.
    pub incarnation: u32,
    /// Its local health score (Lifeguard; 0: healthy).
    pub health: u8,
    /// The nodes it holds alive, suspect, dead, and does not know (itself not counted).
    pub alive: u32,
    /// See `alive`.
    pub suspect: u32,
    /// See `alive`.
    pub dead: u32,
    /// See `alive`.
    pub unknown: u32,
    /// How many live members hold it suspect.
    pub suspected_by: u32,
    /// How many live members hold it dead.
    pub dead_to: u32,
    /// Updates waiting to be piggybacked.
    pub pending_gossip: usize,
}

impl Live<SwimPopulation> {
    /// What member `i` holds about every node, in index order (itself:
    /// alive; `None`: a node it does not know); `None` if there is no `i`.
    pub fn member_view(&self, i: u32) -> Option<impl Iterator<Item = Option<State>> + '_> {
        let m = (i < self.len()).then(|| self.r.w.pop.member(i))?;
        Some((0..self.len()).map(move |j| if j == i { Some(State::Alive) } else { m.entry(&j).map(|e| e.state) }))
    }

    /// How many live members hold each node in `state` (suspect, or dead),
    /// in index order, into `out`.
    pub fn held(&self, state: State, out: &mut Vec<u32>) {
        out.clear();
        out.resize(self.len() as usize, 0);
        let w = &self.r.w;
        for i in (0..self.len()).filter(|&i| w.up.get(i as usize)) {
            // only what differs from the baseline (all alive) is stored: a few entries a member
            for (&j, e) in w.pop.member(i).changed() {
                if e.state == state && j != i {
                    if let Some(c) = out.get_mut(j as usize) {
                        *c += 1;
                    }
                }
            }
        }
    }

    /// Member `i`, for the inspector.
    pub fn member_detail(&self, i: u32) -> Option<MemberDetail> {
        (i < self.len()).then_some(())?;
        let m = self.r.w.pop.member(i);
        let mut d = MemberDetail {
            id: i,
            up: self.is_up(i),
            incarnation: m.incarnation(),
            health: m.health(),
            alive: 0,
            suspect: 0,
            dead: 0,
            unknown: 0,
            suspected_by: 0,
            dead_to: 0,
            pending_gossip: m.pending_gossip(),
        };
        for (j, s) in self.member_view(i)?.enumerate() {
            match s {
                _ if j as u32 == i => {}
                Some(State::Alive) => d.alive += 1,
                Some(State::Suspect) => d.suspect += 1,
                Some(State::Dead) => d.dead += 1,
                None => d.unknown += 1,
            }
        }
        let mut held = Vec::new();
        self.held(State::Suspect, &mut held);
        d.suspected_by = held[i as usize];
        self.held(State::Dead, &mut held);
        d.dead_to = held[i as usize];
        Some(d)
    }
}

/// One overlay node, for the inspector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OverlayDetail {
    /// Its index.
    pub id: u32,
    /// Whether it runs.
    pub up: bool,
    /// Its overlay neighbours (HyParView's active view, or its static links).
    pub neighbours: Vec<u32>,
    /// Plumtree's eager peers: the tree's links at this node.
    pub eager: Vec<u32>,
    /// Plumtree's lazy peers: announced to, not sent payloads.
    pub lazy: Vec<u32>,
    /// Broadcasts announced to it and not received yet.
    pub missing: usize,
}

impl Live<OverlayPopulation> {
    /// Every link from a live node to a live node, flat: `from, to, eager`
    /// (1: an eager Plumtree peer, the tree; 0: lazy) per link, each
    /// direction its own link.
    pub fn links(&self, out: &mut Vec<u32>) {
        out.clear();
        let w = &self.r.w;
        let up = |i: u32| w.up.get(i as usize);
        for i in (0..self.len()).filter(|&i| up(i)) {
            let t = w.pop.tree(i);
            for (peers, eager) in [(t.eager(), 1), (t.lazy(), 0)] {
                for &j in peers.iter().filter(|&&j| up(j)) {
                    out.extend([i, j, eager]);
                }
            }
        }
    }

    /// Node `i`, for the inspector.
    pub fn overlay_detail(&self, i: u32) -> Option<OverlayDetail> {
        (i < self.len()).then_some(())?;
        let pop = &self.r.w.pop;
        let mut neighbours = Vec::new();
        pop.member(i).neighbours(i, &mut neighbours);
        let t = pop.tree(i);
        Some(OverlayDetail {
            id: i,
            up: self.is_up(i),
            neighbours,
            eager: t.eager().to_vec(),
            lazy: t.lazy().to_vec(),
            missing: t.missing(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Model, Scenario};

    fn cfg() -> SimConfig {
        SimConfig {
            nodes: 80,
            seed: 3,
            model: Model::Events,
            scenario: Scenario::Movies,
            duration_ms: Some(10_000),
            ..SimConfig::default()
        }
    }

    /// Steps `l` over its grid to the end and checks, at every step, the
    /// counters read off the world against those of the whole report.
    fn counters_agree_along<P: LiveRun>(mut l: Live<P>, what: &str) -> usize {
        let step = l.spread_log().resolution();
        let mut checked = 0;
        for guard in 0..100_000 {
            assert!(guard < 99_999, "{what}: the run did not end");
            let t = l.now() + step;
            l.advance(t, u64::MAX);
            let fast = Counters::of_world(&l.r.w);
            assert_eq!(fast, Counters::of_report(&l.report()), "{what} at {} ms", l.now());
            checked += usize::from(fast.lost_messages + fast.partitioned_messages > 0 && fast.latency_ms.max.is_some());
            if l.stopped().is_some() {
                break;
            }
        }
        checked
    }

    #[test]
    fn the_rows_counters_read_off_the_world_are_the_reports_at_every_step() {
        let faults =
            ["1s:loss:0.2", "2s:partition:3", "2500ms:crash:5", "3s:restart:7", "4s:heal", "4500ms:crash-random:0.1"];
        let faults: Vec<_> = faults.iter().map(|f| crate::sim::faults::parse_fault(f).unwrap()).collect();
        for model in [Model::Events, Model::Rounds] {
            let full = SimConfig { model, faults: faults.clone(), duration_ms: Some(8_000), ..cfg() };
            let n = counters_agree_along(Live::<FullPopulation>::start(&full).unwrap(), "full");
            assert!(n > 10, "{model:?}: only {n} steps with losses and completed updates");
        }
        let single = SimConfig {
            nodes: 3_000,
            scenario: Scenario::Single,
            faults: faults[..2].to_vec(),
            ..SimConfig::default()
        };
        counters_agree_along(Live::<CompactPopulation>::start(&single).unwrap(), "compact");
    }

    #[test]
    fn a_compact_runs_up_to_date_count_kept_a_word_at_a_time_is_the_count_node_by_node() {
        // crashes (informed nodes down), fresh restarts (informed nodes
        // forget), joins (new words of bits), leaves, a partition; both models
        let faults = [
            "500ms:crash:1",
            "1500ms:restart-fresh:1",
            "2s:crash-random:0.2",
            "2500ms:join:70",
            "3s:partition:2",
            "4s:leave:5",
            "5s:heal",
            "6s:restart:6",
        ];
        let faults: Vec<_> = faults.iter().map(|f| crate::sim::faults::parse_fault(f).unwrap()).collect();
        for model in [Model::Rounds, Model::Events] {
            let cfg = SimConfig {
                nodes: 1_000,
                scenario: Scenario::Single,
                engine: EngineChoice::Compact,
                model,
                faults: faults.clone(),
                duration_ms: Some(12_000),
                ..SimConfig::default()
            };
            let mut l = Live::<CompactPopulation>::start(&cfg).unwrap();
            let (mut between, mut steps) = (0, 0);
            for guard in 0..100_000 {
                assert!(guard < 99_999, "{model:?}: the run did not end");
                let by_node = (0..l.len()).filter(|&i| l.counts(i) && l.stale(i) == 0).count() as u32;
                assert_eq!(
                    <CompactPopulation as LiveRun>::up_to_date(&l.r),
                    Some(by_node),
                    "{model:?} at {} ms",
                    l.now()
                );
                let live = Counters::of_world(&l.r.w).live;
                between += usize::from(by_node > 0 && by_node < live);
                steps += 1;
                if l.stopped().is_some() {
                    break;
                }
                l.advance(l.now() + 100, u64::MAX);
            }
            assert!(between > 5 && steps > 50, "{model:?}: {between} of {steps} steps part way");
        }
    }

    /// What a viewer reads of a run at one instant.
    fn seen(l: &Live) -> (u64, Vec<Option<u32>>, Vec<Option<NodeView>>, String, usize) {
        let report = serde_json::to_string(&l.report()).unwrap();
        (
            l.now(),
            l.lacking().collect(),
            (0..l.len()).map(|i| l.node(i)).collect(),
            report,
            l.spread_log().points().len(),
        )
    }

    fn fresh_at(cfg: &SimConfig, ms: u64) -> Live {
        let mut l = Live::new(cfg).unwrap();
        while !l.advance(ms, 1000) {}
        l
    }

    #[test]
    fn seeking_back_and_forth_gives_the_state_of_a_fresh_run_at_that_time() {
        let mut l = Live::new(&cfg()).unwrap();
        l.advance(3_000, u64::MAX);
        l.add_fault(Fault::Partition { groups: 2 }).unwrap();
        l.advance(6_000, u64::MAX);
        l.add_fault(Fault::Heal).unwrap();
        l.advance(9_000, u64::MAX);
        let scenario = l.config();
        for ms in [4_500, 1_200, 7_000, 2_000, 9_000] {
            l.seek(ms).unwrap();
            assert_eq!(seen(&l), seen(&fresh_at(&scenario, ms)), "at {ms} ms");
        }
        // seeking back keeps the future: the scenario still has both faults
        l.seek(1_000).unwrap();
        assert_eq!(l.config().faults, scenario.faults);
    }

    #[test]
    fn a_join_added_to_a_broadcast_run_gives_the_state_of_a_fresh_run_with_it() {
        // the broadcast's values are keyed above every node, joiners included:
        // added to the running run, the joiners took the keys of values already
        // handed out (more updates than a fresh run of the scenario had)
        for model in [Model::Rounds, Model::Events] {
            let c = SimConfig { nodes: 27, scenario: Scenario::Broadcast, rate: 2.0, model, ..cfg() };
            let mut l = Live::new(&c).unwrap();
            l.advance(333, u64::MAX);
            l.add_fault(Fault::Join { count: 3 }).unwrap();
            l.advance(3_815, u64::MAX);
            assert_eq!(seen(&l), seen(&fresh_at(&l.config(), 3_815)), "{model:?}");
        }
    }

    #[test]
    fn a_fault_added_after_seeking_back_drops_the_later_ones_and_replays() {
        let mut l = Live::new(&cfg()).unwrap();
        l.advance(5_000, u64::MAX);
        l.add_fault(Fault::Partition { groups: 2 }).unwrap();
        l.advance(8_000, u64::MAX);
        l.seek(2_000).unwrap();
        assert!(l.has_future());
        l.add_fault(Fault::Crash { node: 4 }).unwrap();
        let forked = l.config();
        assert_eq!(forked.faults.len(), 1, "the partition at 5 s was in the discarded future");
        assert_eq!(forked.faults[0].at_ms, 2_001);
        l.advance(6_000, u64::MAX);
        assert_eq!(seen(&l), seen(&fresh_at(&forked, 6_000)));
        // two faults at the same instant are not a fork
        l.add_fault(Fault::Crash { node: 5 }).unwrap();
        l.add_fault(Fault::Crash { node: 6 }).unwrap();
        assert_eq!(l.config().faults.len(), 3);
    }
    fn big(protocol: crate::core::Protocol, model: Model) -> SimConfig {
        let mut c = SimConfig { nodes: 30_000, seed: 11, model, ..SimConfig::default() };
        c.node.protocol = protocol;
        c
    }

    fn json<T: Serialize>(x: &T) -> String {
        serde_json::to_string(x).unwrap()
    }

    /// Everything the page reads of a compact run's course.
    fn course(l: &Live<CompactPopulation>) -> (String, Vec<Option<u32>>, String, usize) {
        let rows: Vec<Vec<String>> = l.rows().iter().map(|r| r.iter().map(|x| x.to_string()).collect()).collect();
        (json(&l.report()), l.lacking().collect(), format!("{rows:?}"), l.spread_log().points().len())
    }

    #[test]
    fn a_compact_live_run_in_slices_ends_with_the_report_gossip_sim_prints() {
        use crate::core::Protocol;
        for (protocol, model) in [
            (Protocol::PushPull, Model::Rounds),
            (Protocol::Push, Model::Rounds),
            (Protocol::Pull, Model::Rounds),
            (Protocol::Rumor, Model::Rounds),
            (Protocol::PushPull, Model::Events),
            (Protocol::Rumor, Model::Events),
        ] {
            let cfg = big(protocol, model);
            assert_eq!(runs_compact(&cfg), Ok(true));
            let native = super::super::run(&cfg, &mut |_| {}).unwrap();
            assert_eq!(native.engine, "compact");
            let mut whole = Live::<CompactPopulation>::start(&cfg).unwrap();
            assert!(whole.advance(u64::MAX, u64::MAX));
            assert!(whole.stopped().is_some());
            assert_eq!(json(&whole.report()), json(&native), "{protocol:?} {model:?}: one call");
            let mut sliced = Live::<CompactPopulation>::start(&cfg).unwrap();
            let mut calls = 0;
            let mut target = 0;
            while sliced.stopped().is_none() {
                target += 137;
                while !sliced.advance(target, 5_000) {
                    calls += 1;
                }
                calls += 1;
                assert!(calls < 1_000_000, "bounded");
            }
            assert!(calls > 10, "{protocol:?} {model:?}: really sliced ({calls} calls)");
            assert_eq!(course(&sliced), course(&whole), "{protocol:?} {model:?}: slices = one call");
        }
    }

    #[test]
    fn a_compact_live_run_with_faults_added_and_sought_back_replays_as_gossip_sim() {
        let cfg = big(crate::core::Protocol::PushPull, Model::Rounds);
        let mut l = Live::<CompactPopulation>::start(&cfg).unwrap();
        l.advance(3_000, u64::MAX);
        l.add_fault(Fault::CrashRandom { fraction: 0.3 }).unwrap();
        l.advance(5_000, u64::MAX);
        let mid = l.lacking().filter(|s| *s == Some(1)).count();
        let r = l.report();
        assert_eq!(mid as u32, r.live - r.informed, "uninformed live nodes are one behind");
        assert!(mid > 0, "the rumor is still spreading at 5 s");
        assert_eq!(l.lacking().filter(Option::is_none).count(), 9_000, "30% crashed");
        l.advance(u64::MAX, u64::MAX);
        let scenario = l.config();
        assert_eq!(scenario.engine, EngineChoice::Auto, "the report names the configuration gossip sim ran");
        let native = super::super::run(&scenario, &mut |_| {}).unwrap();
        assert_eq!(json(&l.report()), json(&native));
        let end = course(&l);
        l.seek(4_000).unwrap();
        let mut fresh = Live::<CompactPopulation>::start(&scenario).unwrap();
        fresh.advance(4_000, u64::MAX);
        assert_eq!(course(&l), course(&fresh), "seeking back replays the scenario");
        l.seek(u64::MAX).unwrap();
        assert_eq!(course(&l), end);
    }

    #[test]
    fn the_status_codes_read_a_word_at_a_time_are_those_of_each_node_asked_in_turn() {
        // 30,001 nodes: the last word of the bitsets is partly used
        let cfg = SimConfig { nodes: 30_001, ..big(crate::core::Protocol::PushPull, Model::Rounds) };
        let mut l = Live::<CompactPopulation>::start(&cfg).unwrap();
        let one_by_one =
            |l: &Live<CompactPopulation>| -> Vec<u32> { l.lacking().map(|k| k.map_or(7, |k| 100 + k)).collect() };
        let mut codes = Vec::new();
        // as started: the rumor made at its origin, everyone else behind
        l.lacking_codes(7, 100, &mut codes);
        assert_eq!(codes, one_by_one(&l), "at the start");
        assert_eq!(codes.iter().filter(|&&c| c == 100).count(), 1);
        let (mut seen_down, mut seen_behind) = (false, false);
        for (t, fault) in [(0, None), (2_000, Some(0.3)), (4_000, Some(0.2)), (6_000, None), (u64::MAX, None)] {
            l.advance(t, u64::MAX);
            if let Some(fraction) = fault {
                l.add_fault(Fault::CrashRandom { fraction }).unwrap();
            }
            l.lacking_codes(7, 100, &mut codes);
            assert_eq!(codes, one_by_one(&l), "at {t} ms");
            assert!(l.r.w.pop.rumor_bits().unwrap().made, "the rumor is made at time 0");
            seen_down |= codes.contains(&7);
            seen_behind |= codes.contains(&101);
        }
        assert!(seen_down && seen_behind, "crashed nodes and uninformed ones show");
        assert!(codes.iter().all(|&c| c == 7 || c == 100), "the end: every live node informed");
    }

    #[test]
    fn compact_nodes_are_behind_until_they_know_the_rumor_and_a_compact_run_draws_no_messages() {
        let cfg = SimConfig { nodes: 100, engine: EngineChoice::Compact, ..SimConfig::default() };
        let pop = CompactPopulation::build(&cfg).unwrap();
        assert!((0..100).all(|i| pop.behind(i) == 0), "no rumor made yet: nobody behind");
        let mut l = Live::<CompactPopulation>::start(&cfg).unwrap();
        l.advance(1, u64::MAX);
        let lacking: Vec<_> = l.lacking().collect();
        assert_eq!(lacking[0], Some(0), "the origin holds its rumor");
        assert!(lacking[1..].iter().all(|&s| s == Some(1)), "everyone else lacks it: {lacking:?}");
        l.advance(2_000, u64::MAX);
        assert!(l.r.w.metrics.messages > 0);
        assert!(l.drain_flights().0.is_empty());
    }

    #[test]
    fn the_flight_log_keeps_the_latest_messages_so_those_in_flight_after_a_long_replay_are_there() {
        // 80 nodes for 8 s send far more than a cap of 300: the log must
        // hold the latest 300 messages, oldest first, and among them every
        // message the queue holds in flight now
        const CAP: usize = 300;
        let mut l = Live::<FullPopulation>::start(&cfg()).unwrap();
        l.r.w.log_flights(CAP);
        let mut flying = Vec::new();
        for t in (8_000..9_000).step_by(7) {
            l.advance(t, u64::MAX);
            l.r.in_flight(|from, to, arrives, _| flying.push((from, to, arrives)));
            if !flying.is_empty() {
                break;
            }
        }
        assert!(!flying.is_empty(), "a moment with messages in flight");
        let sent = l.r.w.metrics.messages;
        assert!(sent > CAP as u64 * 3, "the run sends past the cap: {sent}");
        let (log, skipped) = l.drain_flights();
        assert_eq!(log.len(), CAP);
        assert_eq!(log.len() as u64 + skipped, sent, "every message kept or counted as skipped");
        assert!(log.windows(2).all(|w| w[0].sent <= w[1].sent), "oldest first");
        assert!(log.last().unwrap().sent + 1_000 > l.now(), "the latest: {} at {}", log.last().unwrap().sent, l.now());
        for m in &flying {
            assert!(
                log.iter().any(|f| (f.from, f.to, f.arrives) == (m.0, m.1, Some(m.2))),
                "{m:?} in flight, not in the log"
            );
        }
        assert!(l.drain_flights().0.is_empty(), "drained");
    }

    #[test]
    fn the_page_runs_a_single_rumor_compact_past_20000_nodes_and_refuses_what_compact_cannot_run() {
        let at = |nodes: u32| SimConfig { nodes, ..SimConfig::default() };
        assert_eq!(runs_compact(&at(COMPACT_ABOVE)), Ok(false), "full nodes up to the limit: views to show");
        assert_eq!(runs_compact(&at(COMPACT_ABOVE + 1)), Ok(true));
        assert_eq!(runs_compact(&SimConfig { engine: EngineChoice::Compact, ..at(50) }), Ok(true));
        let full = runs_compact(&SimConfig { engine: EngineChoice::Full, ..at(30_000) }).unwrap_err();
        assert_eq!(full.param, "nodes");
        assert!(full.to_string().contains("at most 20,000 nodes on full nodes"), "{full}");
        let movies = runs_compact(&SimConfig { scenario: crate::sim::Scenario::Movies, ..at(30_000) }).unwrap_err();
        assert!(movies.to_string().contains("cannot run --scenario movies"), "{movies}");
        let mut eager = at(30_000);
        eager.node.eager_push = true;
        assert!(runs_compact(&eager).unwrap_err().to_string().contains("--eager on"));
        assert!(Live::<CompactPopulation>::start(&eager).is_err(), "the compact population refuses it too");
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// Print, `runs` times, how long `sim::run` takes `cfg` on one thread
    /// and how long a live run on `P` takes it to the end, with the same
    /// events.
    fn time_live_against_run<P: LiveRun>(cfg: &SimConfig, runs: usize, what: &str) {
        for _ in 0..runs {
            let t = std::time::Instant::now();
            let a = super::super::run_threads(cfg, 1, &mut |_| {}).unwrap();
            let native = t.elapsed();
            let t = std::time::Instant::now();
            let mut l = Live::<P>::start(cfg).unwrap();
            while l.stopped().is_none() {
                l.advance(u64::MAX, u64::MAX);
            }
            let live = t.elapsed();
            assert_eq!(l.report().events, a.events);
            eprintln!("sim::run {native:?}, {what} {live:?} ({} events)", a.events);
        }
    }

    /// Not a test: `cargo test --release --lib page_work_natively -- --ignored --nocapture`
    /// prints how long the page's 1,000-node movies run (the live run with
    /// the viewer's recording: who told whom, the trace, the spread log)
    /// takes natively against `sim::run` on one thread, the run
    /// `tests/e2e/wasm-vs-native.mjs` times in the page (the page's work,
    /// natively: wasm's ratio against this is its speed on the same work).
    #[test]
    #[ignore]
    fn page_work_natively() {
        let pairs = [("nodes", "1000"), ("scenario", "movies"), ("model", "events"), ("duration_s", "20")];
        let cfg = crate::sim::params::SimParams::from_pairs(pairs).and_then(|p| p.to_config()).unwrap();
        time_live_against_run::<FullPopulation>(&cfg, 5, "live run with the viewer");
    }

    /// Not a test: `cargo test --release --lib live_overhead -- --ignored --nocapture`
    /// prints how long a 1,000,000-node compact live run takes against `sim::run`.
    #[test]
    #[ignore]
    fn live_overhead() {
        time_live_against_run::<CompactPopulation>(&SimConfig { nodes: 1_000_000, ..SimConfig::default() }, 3, "live");
    }
}
