//! The deterministic simulator.
//!
//! A run is a pure function of its [`SimConfig`]: one `u64` seed feeds every
//! node's RNG (one stream per node and incarnation) and the network's, so the
//! same configuration gives the same [`Report`], bit for bit, natively and
//! in wasm. No clock is read: time is virtual.
//!
//! Layout: [`engine`] (rounds and events loops), [`population`] and
//! [`compact`] (how nodes are held), [`network`] (latency, jitter, loss,
//! partitions), [`timeline`] (what happens from outside the nodes: the
//! [`faults`] and the [`workload`], single rumor, movies or broadcast, on
//! one timeline), [`metrics`] (what is measured),
//! [`queue`] (the event queue), [`membership`] (who can be sampled),
//! [`swim`] (SWIM members: failure detection, `--membership swim`),
//! [`overlay`] (HyParView or a static topology with Plumtree or flooding).

pub mod compact;
pub mod engine;
pub mod error;
pub mod faults;
pub mod live;
pub mod membership;
pub mod metrics;
pub mod network;
pub mod nodeset;
pub mod order;
pub mod overlay;
pub mod params;
#[cfg(not(target_arch = "wasm32"))]
pub mod pool;
pub mod population;
pub mod queue;
pub mod remote;
pub mod spread_log;
pub mod swim;
pub mod table;
pub mod timeline;
pub mod viewer;
pub mod window;
pub mod workload;

use serde::{Deserialize, Serialize};

use crate::core::protocols::{Dissemination, Fresh, MeanField, Rules};
use crate::core::{Config, StopKind, Version};
use crate::rng::Rng;
pub use error::RunError;
pub use faults::{parse_fault, Fault, FaultError, TimedFault};
pub use network::NetConfig;
pub use table::ParamError;
use workload::Workload;

/// Cycle-driven rounds or discrete events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Synchronous rounds (theory papers, PeerSim's cycle engine).
    Rounds,
    /// Discrete events in virtual milliseconds.
    Events,
}

impl Model {
    /// Parse `rounds` or `events`.
    pub fn parse(s: &str) -> Option<Model> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rounds" | "cycle" | "cycles" => Some(Model::Rounds),
            "events" | "event" => Some(Model::Events),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Model::Rounds => "rounds",
            Model::Events => "events",
        }
    }
}

/// What the nodes do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// One update injected at node 0 at time 0 (before round 1), no re-sampling.
    Single,
    /// The course app: every node picks a favorite at start and re-samples it.
    Movies,
    /// The broadcast workload of Jepsen Maelstrom (the Gossip Glomers
    /// challenge): clients hand unique values to random nodes at a steady
    /// rate, and every value must reach every node. Each value is its own
    /// key in the views (a grow-only set), so none supersedes another.
    Broadcast,
}

impl Scenario {
    /// Parse `single` or `movies`.
    pub fn parse(s: &str) -> Option<Scenario> {
        match s.trim().to_ascii_lowercase().as_str() {
            "single" | "rumor" => Some(Scenario::Single),
            "movies" | "app" => Some(Scenario::Movies),
            "broadcast" => Some(Scenario::Broadcast),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Single => "single",
            Scenario::Movies => "movies",
            Scenario::Broadcast => "broadcast",
        }
    }
}

/// Which population holds the nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineChoice {
    /// Compact when the scenario allows it, full nodes otherwise.
    Auto,
    /// Always real core nodes.
    Full,
    /// The single-rumor compact population (error if not applicable).
    Compact,
}

/// Where nodes find gossip partners.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MembershipMode {
    /// Every node samples uniformly from all members (the theory's model).
    #[default]
    Full,
    /// The course's: node 0 starts alone, every other node knows node 0, and
    /// each learns peers from who contacts it and from update origins.
    Bootstrap,
    /// SWIM members with the failure detector of [`SimConfig::swim`]: the
    /// run measures failure detection (no rumor is spread).
    Swim,
    /// HyParView's active views (an overlay run, [`overlay`]).
    #[serde(rename = "hyparview")]
    HyParView,
    /// A ring lattice of `degree` (static overlay).
    Ring,
    /// Random k-out, `degree` links each (static overlay).
    KOut,
    /// Watts–Strogatz: a ring lattice of `degree` rewired with `rewire` (static overlay).
    WattsStrogatz,
    /// Barabási–Albert preferential attachment, `degree` links per node (static overlay).
    BarabasiAlbert,
    /// Maelstrom's grid (static overlay).
    Grid,
    /// Maelstrom's line (static overlay).
    Line,
    /// Maelstrom's tree of arity `degree` (static overlay).
    Tree,
}

impl MembershipMode {
    /// Every mode, in the order the parameter table lists them.
    pub const ALL: [MembershipMode; 11] = [
        MembershipMode::Full,
        MembershipMode::Bootstrap,
        MembershipMode::Swim,
        MembershipMode::HyParView,
        MembershipMode::Ring,
        MembershipMode::KOut,
        MembershipMode::WattsStrogatz,
        MembershipMode::BarabasiAlbert,
        MembershipMode::Grid,
        MembershipMode::Line,
        MembershipMode::Tree,
    ];

    /// Its name on command lines and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            MembershipMode::Full => "full",
            MembershipMode::Bootstrap => "bootstrap",
            MembershipMode::Swim => "swim",
            MembershipMode::HyParView => "hyparview",
            MembershipMode::Ring => "ring",
            MembershipMode::KOut => "k-out",
            MembershipMode::WattsStrogatz => "watts-strogatz",
            MembershipMode::BarabasiAlbert => "barabasi-albert",
            MembershipMode::Grid => "grid",
            MembershipMode::Line => "line",
            MembershipMode::Tree => "tree",
        }
    }

    /// The mode named `s`.
    pub fn parse(s: &str) -> Option<MembershipMode> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        MembershipMode::ALL.into_iter().find(|m| m.name() == norm)
    }

    /// Whether nodes keep neighbours in an overlay (HyParView or a static
    /// topology): such runs go to the overlay population.
    pub fn is_overlay(self) -> bool {
        !matches!(self, MembershipMode::Full | MembershipMode::Bootstrap | MembershipMode::Swim)
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Every update reached every live node.
    Converged,
    /// Nothing left to send (rumors cold, no message in flight).
    Quiescent,
    /// The time limit.
    TimeLimit,
    /// Messages kept flowing without time advancing.
    LivelockGuard,
}

/// A progress report, once a round or interval.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Virtual time reached.
    pub time_ms: u64,
    /// The run's time limit.
    pub limit_ms: u64,
    /// Latest coverage sample.
    pub coverage: f64,
}

/// A whole experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Initial number of nodes.
    pub nodes: u32,
    /// The one seed every random choice derives from.
    pub seed: u64,
    /// Rounds or events.
    pub model: Model,
    /// Single rumor or the movies app.
    pub scenario: Scenario,
    /// The nodes' protocol and parameters.
    pub node: Config,
    /// The network (latency and jitter apply to the events model).
    pub net: NetConfig,
    /// `movies`: how long nodes re-sample. `single`: the time limit.
    /// Default: 60 s for movies, 1000 intervals for single.
    pub duration_ms: Option<u64>,
    /// `movies`: how long to wait after re-sampling stops for the last
    /// updates to spread before counting them lost. Default: 30 intervals.
    pub settle_ms: Option<u64>,
    /// The fault timeline.
    pub faults: Vec<TimedFault>,
    /// Population choice.
    pub engine: EngineChoice,
    /// Where nodes find partners.
    #[serde(default)]
    pub membership: MembershipMode,
    /// `broadcast`: values handed to the nodes per second, all clients together.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// `--membership swim`: the members' configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swim: Option<swim::SwimRun>,
    /// Overlay runs' parameters (exactly when the membership is an overlay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<overlay::OverlayConfig>,
}

fn default_rate() -> f64 {
    100.0
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 1000,
            seed: 1,
            model: Model::Rounds,
            scenario: Scenario::Single,
            node: Config {
                fanout: 1,
                eager_push: false,
                resample_ms: None,
                random_phase: false,
                ttl: 32,
                seen_cap: 1024,
                // every simulated node is honest: no seals to check
                auth: crate::core::Policy::Off,
                ..Config::default()
            },
            net: NetConfig::default(),
            duration_ms: None,
            settle_ms: None,
            faults: Vec::new(),
            engine: EngineChoice::Auto,
            membership: MembershipMode::Full,
            rate: default_rate(),
            swim: None,
            overlay: None,
        }
    }
}

/// Largest node count a run accepts.
pub const MAX_NODES: u32 = 50_000_000;

impl SimConfig {
    /// Check every parameter; the error says which one is wrong and why
    /// (the same as [`SimConfig::check`], kept for its callers).
    pub fn validate(&self) -> Result<(), ParamError> {
        self.check()
    }

    /// Check every parameter; the error names the one that is wrong (as the
    /// parameter table names it) and says why.
    pub fn check(&self) -> Result<(), ParamError> {
        let c = &self.node;
        let range = |name: &str, lo: u64, hi: u64, v: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(ParamError::out_of_range(name, format!("between {lo} and {hi}"), v))
            }
        };
        range("nodes", 2, u64::from(MAX_NODES), u64::from(self.nodes))?;
        range("fanout", 1, table::MAX_FANOUT, u64::from(c.fanout))?;
        range("interval_ms", 1, table::MAX_INTERVAL_MS, c.interval_ms)?;
        range("ttl", 0, u64::from(c.max_ttl), u64::from(c.ttl))?;
        if let StopKind::Counter(0) | StopKind::Coin(0) = c.stop.kind {
            let name = if let StopKind::Counter(_) = c.stop.kind { "counter" } else { "coin" };
            return Err(ParamError::rule(name, "the rumor stop rule's k must be at least 1"));
        }
        for (name, v) in [("loss", self.net.loss), ("link_spread", self.net.link_spread)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ParamError::out_of_range(name, "between 0 and 1", v));
            }
        }
        range("latency_ms", 0, table::MAX_LATENCY_MS, self.net.latency_ms)?;
        range("jitter_ms", 0, table::MAX_LATENCY_MS, self.net.jitter_ms)?;
        if self.scenario == Scenario::Broadcast {
            if !(self.rate > 0.0 && self.rate <= table::MAX_RATE) {
                return Err(ParamError::out_of_range(
                    "rate",
                    format!("above 0 and at most {}", table::MAX_RATE),
                    self.rate,
                ));
            }
            let values = self.rate * self.updates_end_ms() as f64 / 1000.0;
            if self.updates_end_ms() > 3_600_000 {
                return Err(ParamError::rule("duration_s", "the broadcast scenario's duration must be at most 3600 s"));
            }
            if values > 1_000_000.0 {
                return Err(ParamError::rule(
                    "rate",
                    format!(
                        "the broadcast scenario would hand out {} values (rate x duration); at most 1000000",
                        values.round() as u64
                    ),
                ));
            }
            if self.nodes > 10_000 {
                return Err(ParamError::rule(
                    "nodes",
                    format!(
                        "the broadcast scenario keeps every value at every node; use at most 10000 nodes, got {}",
                        self.nodes
                    ),
                ));
            }
        }
        overlay::check(self)?;
        if self.node.anti_entropy_ms == Some(0) {
            return Err(ParamError::out_of_range("anti_entropy_ms", "at least 1", 0));
        }
        if self.scenario == Scenario::Movies && self.nodes > 100_000 {
            return Err(ParamError::rule(
                "nodes",
                format!(
                    "the movies scenario keeps a full view per node (n^2 entries); use at most 100000 nodes, got {}",
                    self.nodes
                ),
            ));
        }
        if Rules::new(&self.node).fresh() == Fresh::All && self.nodes > 20_000 {
            return Err(ParamError::rule(
                "nodes",
                format!(
                    "{} sends to every node (n^2 messages); use at most 20000 nodes, got {}",
                    self.node.protocol, self.nodes
                ),
            ));
        }
        let joins: u64 =
            self.faults.iter().map(|f| if let Fault::Join { count } = f.fault { count as u64 } else { 0 }).sum();
        for f in &self.faults {
            if let Fault::Crash { node } | Fault::Restart { node, .. } | Fault::Leave { node } = f.fault {
                if node as u64 >= self.nodes as u64 + joins {
                    return Err(ParamError::rule(
                        "faults",
                        format!(
                            "fault at {} ms names node {node}, but there are only {} nodes",
                            f.at_ms,
                            self.nodes as u64 + joins
                        ),
                    ));
                }
            }
        }
        self.check_swim()?;
        if self.model == Model::Rounds && self.faults.iter().any(|f| matches!(f.fault, Fault::Drop { .. })) {
            return Err(ParamError::rule(
                "faults",
                "drop loses messages in flight, and in the rounds model nothing is in flight between rounds: use --model events",
            ));
        }
        if self.model == Model::Rounds && self.faults.iter().any(|f| matches!(f.fault, Fault::Slow { .. })) {
            return Err(ParamError::rule(
                "faults",
                "a slow member handles messages late in virtual milliseconds: use --model events",
            ));
        }
        if self.engine == EngineChoice::Compact {
            let obstacles = self.compact_obstacles();
            if !obstacles.is_empty() {
                return Err(ParamError::rule(
                    "engine",
                    format!("the compact engine cannot run {}; use --engine full or auto", obstacles.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// The rules of a SWIM run: a configuration exactly when the membership
    /// is SWIM, valid, and a workload it runs (failure detection alone, in
    /// the events model, on its own population).
    fn check_swim(&self) -> Result<(), ParamError> {
        let Some(run) = &self.swim else {
            if self.membership == MembershipMode::Swim {
                return Err(ParamError::rule("membership", "--membership swim needs its configuration"));
            }
            return Ok(());
        };
        if self.membership != MembershipMode::Swim {
            return Err(ParamError::rule("membership", "a SWIM configuration needs --membership swim"));
        }
        run.config.check().map_err(|e| ParamError::rule(e.param, e.to_string()))?;
        let refuse = |name: &str, why: &str| Err(ParamError::rule(name, format!("--membership swim {why}")));
        if self.model != Model::Events {
            return refuse(
                "model",
                "runs in the events model only (a period holds a timeout and an indirect round trip): use --model events",
            );
        }
        if self.scenario != Scenario::Single {
            return refuse(
                "scenario",
                "measures failure detection only; it does not run the movies or broadcast workloads (leave --scenario out)",
            );
        }
        if self.engine == EngineChoice::Compact {
            return refuse("engine", "runs its own population, not the compact one (leave --engine out)");
        }
        if self.nodes > 10_000_000 {
            return refuse("nodes", "runs at most 10000000 members");
        }
        Ok(())
    }

    /// What the mean-field curve of one update depends on in this run (the
    /// page draws it under the measured spread).
    pub fn mean_field(&self) -> MeanField {
        let c = &self.node;
        MeanField {
            protocol: c.protocol,
            eager: c.eager_push && c.protocol.info().no_eager.is_none(),
            nodes: self.nodes,
            fanout: c.fanout,
            ttl: c.ttl,
            k: match c.stop.kind {
                StopKind::Counter(k) | StopKind::Coin(k) => u32::from(k),
            },
            interval_ms: c.interval_ms,
            hop_ms: (self.model == Model::Events)
                .then(|| self.net.latency_dist.mean_ms(self.net.latency_ms, self.net.jitter_ms)),
            loss: self.net.loss,
        }
    }

    /// What keeps this configuration off the compact population, each as
    /// `gossip sim` spells it (empty: it can run compact).
    fn compact_obstacles(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.scenario != Scenario::Single {
            out.push(format!("--scenario {}", self.scenario.name()));
        }
        if self.membership != MembershipMode::Full {
            out.push(format!("--membership {}", self.membership.name()));
        }
        // re-sampling comes with the movies scenario, named above
        let node = compact::CompactPopulation::unsupported(&self.node_config());
        out.extend(node.into_iter().filter(|o| self.scenario == Scenario::Single || !o.starts_with("re-sampling")));
        out
    }

    fn compact_applies(&self) -> bool {
        self.compact_obstacles().is_empty()
    }

    /// Whether `gossip sim` runs this configuration on the compact
    /// population (asked for, or chosen by `auto` where it applies).
    fn runs_compact(&self) -> bool {
        match self.engine {
            EngineChoice::Compact => true,
            EngineChoice::Full => false,
            EngineChoice::Auto => self.compact_applies(),
        }
    }

    /// The node configuration as the scenario runs it.
    pub fn node_config(&self) -> Config {
        let mut c = self.node.clone();
        match self.scenario {
            Scenario::Single => c.resample_ms = None,
            Scenario::Movies => {
                if c.resample_ms.is_none() {
                    c.resample_ms = Some(10_000);
                }
            }
            Scenario::Broadcast => c.resample_ms = None,
        }
        c.random_phase = self.model == Model::Events;
        c
    }

    /// Virtual-time limit of the run.
    pub fn limit_ms(&self) -> u64 {
        let interval = self.node.interval_ms.max(1);
        match self.scenario {
            Scenario::Single => self.duration_ms.unwrap_or(1000 * interval),
            Scenario::Movies | Scenario::Broadcast => {
                self.updates_end_ms() + self.settle_ms.unwrap_or((30 * interval).max(5_000))
            }
        }
    }

    /// When updates stop being made (movies, broadcast), ms; 0 for single.
    pub fn updates_end_ms(&self) -> u64 {
        match self.scenario {
            Scenario::Single => 0,
            Scenario::Movies => self.duration_ms.unwrap_or(60_000),
            // overlay runs broadcast after their warm-up cycles
            Scenario::Broadcast => {
                let warmup = self.overlay.as_ref().map_or(0, |o| u64::from(o.warmup_cycles) * self.node.interval_ms);
                self.duration_ms.unwrap_or(20_000).saturating_add(warmup)
            }
        }
    }

    /// `broadcast`: the clients' requests, `(time_ms, node)` in time order;
    /// the `k`-th names value `broadcast_key(k)`. Each millisecond of the
    /// update period holds `rate / 1000` requests on average (the whole part,
    /// plus one more with the fraction's probability: a Poisson stream to the
    /// millisecond, drawn without transcendental functions so that wasm and
    /// native agree bit for bit), each to a uniformly chosen initial node,
    /// from the run's seed (a stream of its own).
    /// (Overlay runs: one request per cycle, mid-cycle, after the warm-up,
    /// from the run's `senders`.) The workload itself is
    /// [`workload::Broadcast`].
    pub fn broadcasts(&self) -> Vec<(u64, u32)> {
        workload::requests(self)
    }

    /// The key (origin) value `k` of the broadcast workload has in the
    /// views: above every node index, joiners included.
    pub fn broadcast_key(&self, k: usize) -> u32 {
        workload::key(self, k)
    }
}

/// Dissemination latency statistics over completed updates, ms.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub median: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

impl Latency {
    /// Median (mean of the middle two for an even count), 99th percentile
    /// (nearest rank) and maximum of `samples`.
    pub fn of(samples: &mut [u64]) -> Latency {
        samples.sort_unstable();
        let n = samples.len();
        if n == 0 {
            return Latency::default();
        }
        let median =
            if n % 2 == 1 { samples[n / 2] as f64 } else { (samples[n / 2 - 1] + samples[n / 2]) as f64 / 2.0 };
        let rank = ((0.99 * n as f64).ceil() as usize).clamp(1, n);
        Latency { median: Some(median), p99: Some(samples[rank - 1] as f64), max: Some(samples[n - 1] as f64) }
    }
}

/// How partitions touched the updates of a run with partitions in its fault
/// timeline. An update is *caught* when a partition was in force at some
/// moment between its creation and the moment the last live node learned it
/// (or the end of the run); its latency then includes waiting for the heal,
/// which no protocol can shorten. The others are *clear*.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionStats {
    /// Partitions that came (and, if the run got there, healed).
    pub partitions: u32,
    /// Updates a partition caught while they spread.
    pub updates_caught: u64,
    /// Latency of the clear updates: what the protocol does on a whole network.
    pub latency_ms_clear: Latency,
    /// Latency of the caught updates.
    pub latency_ms_caught: Latency,
    /// From the last heal until every caught update had reached every live
    /// node, ms; null if some never did.
    pub repair_ms: Option<u64>,
}

/// The partition windows `[start, end)` of a fault timeline (`end` is
/// `u64::MAX` for one that never heals).
fn partition_windows(faults: &[TimedFault]) -> Vec<(u64, u64)> {
    let sorted = order::sorted_by(faults.iter().collect(), |f: &&TimedFault| (f.at_ms, 0));
    let mut windows = Vec::new();
    let mut open: Option<u64> = None;
    for f in sorted {
        match f.fault {
            Fault::Partition { .. } => {
                open.get_or_insert(f.at_ms);
            }
            Fault::Heal => {
                if let Some(start) = open.take() {
                    windows.push((start, f.at_ms));
                }
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        windows.push((start, u64::MAX));
    }
    windows
}

fn partition_stats(
    faults: &[TimedFault],
    updates: &[(u32, Version, u64, Option<u64>)],
    end: u64,
) -> Option<PartitionStats> {
    let windows = partition_windows(faults);
    if windows.is_empty() {
        return None;
    }
    let (mut clear, mut caught) = (Vec::new(), Vec::new());
    let mut repaired = Some(0u64);
    for &(_, _, created, done) in updates {
        let until = done.unwrap_or(end);
        let hit = windows.iter().any(|&(a, b)| a <= until && created < b);
        match (hit, done) {
            (false, Some(d)) => clear.push(d - created),
            (true, Some(d)) => {
                caught.push(d - created);
                repaired = repaired.map(|r| r.max(d));
            }
            (true, None) => {
                caught.push(u64::MAX);
                repaired = None;
            }
            (false, None) => {}
        }
    }
    let updates_caught = caught.len() as u64;
    caught.retain(|&l| l != u64::MAX);
    let last_heal = windows.iter().map(|w| w.1).max().unwrap_or(0);
    Some(PartitionStats {
        partitions: windows.len() as u32,
        updates_caught,
        latency_ms_clear: Latency::of(&mut clear),
        latency_ms_caught: Latency::of(&mut caught),
        repair_ms: if last_heal == u64::MAX { None } else { repaired.map(|r| r.saturating_sub(last_heal)) },
    })
}

/// The result of a run. Every field is deterministic (no wall-clock time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Initial nodes.
    pub nodes: u32,
    /// The seed.
    pub seed: u64,
    /// Protocol name.
    pub protocol: String,
    /// `rounds` or `events`.
    pub model: String,
    /// `single` or `movies`.
    pub scenario: String,
    /// `compact` or `full`.
    pub engine: String,
    /// Why the run ended.
    pub stop_reason: StopReason,
    /// Virtual time at the end, ms.
    pub time_ms: u64,
    /// Rounds run (rounds model), or intervals elapsed (events model).
    pub rounds: u64,
    /// Live nodes at the end.
    pub live: u32,
    /// Single: live nodes that know the update at the end. Movies: live nodes
    /// whose view holds every origin's latest version.
    pub informed: u32,
    /// Fraction of live nodes not informed (Demers' residue).
    pub residue: f64,
    /// Rounds (or intervals, rounded up) until every live node knew the
    /// single update; null if that never happened.
    pub rounds_full: Option<u64>,
    /// Mean round (or interval) at which non-origin nodes first learned an update.
    pub t_avg: f64,
    /// Last round (or interval) at which a node first learned an update.
    pub t_last: f64,
    /// `t_avg` in ms.
    pub t_avg_ms: f64,
    /// `t_last` in ms.
    pub t_last_ms: u64,
    /// Messages sent (lost ones included).
    pub messages: u64,
    /// Messages per initial node.
    pub messages_per_node: f64,
    /// Update-carrying messages per initial node (Demers' traffic m).
    pub traffic: f64,
    /// Approximate bytes sent (JSON wire format).
    pub bytes: u64,
    /// Received updates that changed nothing.
    pub duplicates: u64,
    /// Messages lost to random loss.
    pub lost_messages: u64,
    /// Messages dropped by partitions.
    pub partitioned_messages: u64,
    /// Messages that reached a crashed node.
    pub messages_to_down_nodes: u64,
    /// Updates made.
    pub updates: u64,
    /// Updates that never reached every live node.
    pub lost_updates: u64,
    /// Messages per update.
    pub messages_per_update: f64,
    /// Bytes per update.
    pub bytes_per_update: f64,
    /// Time from an update's creation until the last live node knew it.
    pub latency_ms: Latency,
    /// With partitions in the fault timeline: the updates they caught and
    /// the latency of the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionStats>,
    /// Overlay runs: relative message redundancy per broadcast, `{mean, max}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmr: Option<overlay::Stat>,
    /// Overlay runs: last delivery hop per broadcast, `{mean, max}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldh: Option<overlay::Stat>,
    /// Overlay runs: fraction of the live nodes that delivered a broadcast, `{mean, min}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<overlay::Stat>,
    /// Overlay runs: messages that carried a payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_messages: Option<u64>,
    /// Overlay runs: Plumtree's control messages (IHAVE, GRAFT, PRUNE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_messages: Option<u64>,
    /// Overlay runs: the membership's own messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_messages: Option<u64>,
    /// Overlay runs: the live nodes' overlay at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<overlay::OverlayStats>,
    /// Events processed.
    pub events: u64,
    /// `--membership swim`: failure detection (`detection`,
    /// `false_positives`, ...), at the top level of the JSON.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub swim: Option<swim::SwimReport>,
    /// `[time_ms, fraction]` samples of coverage.
    pub coverage: Vec<(u64, f64)>,
    /// The configuration that ran.
    pub config: SimConfig,
}

/// Run an experiment on [`default_threads`]. `progress` is called once a
/// round or interval.
pub fn run(cfg: &SimConfig, progress: &mut dyn FnMut(Progress)) -> Result<Report, RunError> {
    run_threads(cfg, default_threads(), progress)
}

/// The threads a run uses unless told: the machine's cores (natively), one
/// in WebAssembly.
pub fn default_threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    #[cfg(target_arch = "wasm32")]
    let n = 1;
    n
}

/// Why a run of `cfg` uses fewer threads than the `threads` asked,
/// whatever the machine (`None`: it may use them all). `gossip sim` says so
/// on its error stream rather than ignore `--threads` silently. Only the
/// full nodes of the events model (in windows of events, see
/// [`engine::Runner::set_threads`]) and the compact population's rounds
/// (their first wave, see [`compact::first_wave_threads`]) run on threads.
pub fn threads_note(cfg: &SimConfig, threads: usize) -> Option<String> {
    if threads < 2 {
        return None;
    }
    let why = if cfg.membership.is_overlay() {
        "HyParView and topology runs go one event at a time".to_string()
    } else if cfg.membership == MembershipMode::Swim && cfg.swim.is_some() {
        "a SWIM run goes one event at a time (its members share one table of updates)".to_string()
    } else if cfg.runs_compact() {
        if cfg.model == Model::Events {
            "the compact population goes one event at a time in the events model".to_string()
        } else if (cfg.nodes as usize) < compact::FIRST_WAVE_THREADS_FROM {
            format!(
                "compact rounds of fewer than {} nodes run on one thread (a thread costs more than it saves)",
                compact::FIRST_WAVE_THREADS_FROM
            )
        } else if threads > 2 {
            "compact rounds run their first wave on at most 2 threads".to_string()
        } else {
            return None;
        }
    } else if cfg.model == Model::Rounds {
        "the rounds model runs full nodes one at a time".to_string()
    } else if Rules::new(&cfg.node).fresh() == Fresh::All {
        format!("{} sends each update to every peer at once: its messages go one at a time", cfg.node.protocol)
    } else {
        return None;
    };
    Some(why)
}

/// Run an experiment with up to `threads` threads in the events model (see
/// [`engine::Runner::set_threads`]); the report is the same whatever the
/// number. `progress` is called once a round or interval.
pub fn run_threads(cfg: &SimConfig, threads: usize, progress: &mut dyn FnMut(Progress)) -> Result<Report, RunError> {
    cfg.validate()?;
    if cfg.membership.is_overlay() {
        return overlay::run(cfg, progress);
    }
    if let (MembershipMode::Swim, Some(run)) = (cfg.membership, &cfg.swim) {
        let mut r = runner(cfg, swim::SwimPopulation::new(cfg.nodes, run, cfg.seed));
        let (reason, t) = r.run(progress);
        return Ok(swim_report(cfg, &r.w, reason, t));
    }
    if cfg.runs_compact() {
        let mut pop = compact::CompactPopulation::new(cfg.nodes, cfg.node_config(), cfg.seed, 0);
        pop.set_threads(threads);
        let mut r = runner(cfg, pop);
        let (reason, t) = r.run(progress);
        Ok(report(cfg, &r.w, reason, t))
    } else {
        let mut r = runner(cfg, full_population(cfg));
        r.set_threads(threads, engine::MIN_WINDOW);
        let (reason, t) = r.run(progress);
        Ok(report(cfg, &r.w, reason, t))
    }
}

/// The report of a SWIM run of `cfg` that ended for `reason` at `t`
/// (`gossip sim`'s and the live viewer's).
pub fn swim_report(cfg: &SimConfig, w: &engine::World<swim::SwimPopulation>, reason: StopReason, t: u64) -> Report {
    let mut rep = report(cfg, w, reason, t);
    rep.swim = Some(swim::report(w, cfg.nodes, t));
    rep.protocol = "swim".into();
    rep
}

/// The memory the nodes' views of a run of `cfg` will take at least, if
/// every view will list every node (the movies scenario: n^2 entries, all
/// made room for at the start); `None` for runs whose views stay small.
pub fn views_bytes(cfg: &SimConfig) -> Option<u64> {
    let n = u64::from(cfg.nodes);
    (cfg.scenario == Scenario::Movies).then(|| n * n * population::VIEW_BYTES_PER_ORIGIN as u64)
}

/// Real core nodes for `cfg`, with the membership it asks for.
pub fn full_population(cfg: &SimConfig) -> population::FullPopulation {
    let mut pop = match cfg.membership {
        // a SWIM run has its own population (`run_threads`); `Live` refuses it
        MembershipMode::Full | MembershipMode::Swim => {
            population::FullPopulation::new(cfg.nodes, cfg.node_config(), cfg.seed)
        }
        MembershipMode::Bootstrap => population::FullPopulation::with_bootstrap(cfg.nodes, cfg.node_config(), cfg.seed),
        // overlay runs have their own population (`overlay::OverlayPopulation`);
        // callers refuse them first (`Live::new`), so this is the roster
        _ => population::FullPopulation::new(cfg.nodes, cfg.node_config(), cfg.seed),
    };
    // every node has a favorite: every view will list every node
    if cfg.scenario == Scenario::Movies {
        pop.reserve_views();
    }
    pop
}

/// A run of `cfg` on `pop`, at time 0, ready to advance (the configuration
/// is assumed valid).
pub fn runner<P: population::Population>(cfg: &SimConfig, pop: P) -> engine::Runner<P> {
    let net = network::Network::new(cfg.net.clone(), Rng::derive(cfg.seed, u64::MAX));
    // the anti-entropy protocols, or any protocol with backup anti-entropy
    // (a SWIM run spreads nothing: it runs to its time limit)
    let anti_entropy = cfg.membership != MembershipMode::Swim
        && (cfg.node.protocol.info().converges || cfg.node.anti_entropy_ms.is_some());
    let timeline = timeline::Timeline::new(cfg.faults.clone(), workload::AnyWorkload::of(cfg));
    let w = engine::World::new(pop, net, timeline, anti_entropy);
    let schedule = engine::Schedule { interval: cfg.node.interval_ms.max(1), limit_ms: cfg.limit_ms() };
    engine::Runner::new(w, schedule, cfg.model == Model::Rounds)
}

/// The report of a run of `cfg` that ended for `stop_reason` at `time_ms`.
pub fn report<P: population::Population>(
    cfg: &SimConfig,
    w: &engine::World<P>,
    stop_reason: StopReason,
    time_ms: u64,
) -> Report {
    let interval = cfg.node.interval_ms.max(1);
    let live_nodes: Vec<u32> = w.up.members();
    let live = live_nodes.len() as u32;
    let m = &w.metrics;
    let updates: Vec<_> = m.updates().collect();
    let load = &w.timeline().workload;
    let informed = load.informed(&w.pop, &live_nodes, &updates);
    let mut lat: Vec<u64> = updates.iter().filter_map(|u| u.3.map(|d| d - u.2)).collect();
    let rounds_of = |ms: f64| ms / interval as f64;
    let rounds_full = load.rounds_full(&updates, interval);
    let (_, t_avg_ms, t_last_ms) = m.learn_times();
    let n_updates = updates.len() as u64;
    let per_update = |x: u64| {
        if n_updates == 0 {
            0.0
        } else {
            x as f64 / n_updates as f64
        }
    };
    Report {
        nodes: cfg.nodes,
        seed: cfg.seed,
        protocol: cfg.node.protocol.name().into(),
        model: cfg.model.name().into(),
        scenario: cfg.scenario.name().into(),
        engine: w.pop.engine_name().into(),
        stop_reason,
        time_ms,
        rounds: time_ms / interval,
        live,
        informed,
        residue: if live == 0 { 0.0 } else { (live - informed) as f64 / live as f64 },
        rounds_full,
        t_avg: rounds_of(t_avg_ms),
        t_last: rounds_of(t_last_ms as f64),
        t_avg_ms,
        t_last_ms,
        messages: m.messages,
        messages_per_node: m.messages as f64 / cfg.nodes as f64,
        traffic: m.update_messages as f64 / cfg.nodes as f64,
        bytes: m.bytes,
        duplicates: w.pop.duplicates(),
        lost_messages: m.lost,
        partitioned_messages: m.partitioned,
        messages_to_down_nodes: m.to_down,
        updates: n_updates,
        lost_updates: updates.iter().filter(|u| u.3.is_none()).count() as u64,
        messages_per_update: per_update(m.messages),
        bytes_per_update: per_update(m.bytes),
        latency_ms: Latency::of(&mut lat),
        partition: partition_stats(&cfg.faults, &updates, time_ms),
        rmr: None,
        ldh: None,
        reliability: None,
        payload_messages: None,
        control_messages: None,
        membership_messages: None,
        overlay: None,
        events: m.events,
        swim: None,
        coverage: m.coverage.clone(),
        config: cfg.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::params::SimParams;
    use crate::core::protocols::mean_field;

    /// A curve the page's JavaScript drew before the rule moved to Rust
    /// (`www/theory.js`'s `theoryCurve` and `theoryName` run under node on
    /// these parameters): its length, the sums of its ages and fractions,
    /// and some `(index, age, fraction)` points. The events model's
    /// push-pull, push and rumor curves were re-recorded on purpose when
    /// its delays came (each part reading the informed fraction its legs'
    /// hops back, learners by pull silent until their next round: later
    /// and closer to the measured runs, tests/suite/sim_theory.rs), and the eager
    /// ones again when only the nodes that learned by a push came to push
    /// on (tests/suite/sim_theory.rs); the rounds model's without eager push and
    /// the flood's are the JavaScript's still.
    struct Old {
        params: &'static str,
        max_age_ms: f64,
        name: &'static str,
        len: usize,
        sum_t: f64,
        sum_f: f64,
        points: &'static [(usize, f64, f64)],
    }

    const OLD: &[Old] = &[
        Old {
            params: "protocol=push-pull model=events scenario=movies nodes=50 fanout=2 ttl=6 interval_ms=1000 latency_ms=60 jitter_ms=40",
            max_age_ms: 20000.0,
            name: "mean-field push-pull + eager push, n=50",
            len: 15,
            sum_t: 27280.0,
            sum_f: 9.6808843585812,
            points: &[(1, 80.0, 0.05842634963072335), (2, 160.0, 0.13089196444767282), (7, 560.0, 0.8159887132077339), (12, 960.0, 0.9815896057074239), (14, 20000.0, 1.0)],
        },
        Old {
            params: "protocol=rumor model=rounds scenario=single nodes=1000 coin=2",
            max_age_ms: 60000.0,
            name: "mean-field rumor, n=1000",
            len: 61,
            sum_t: 1830000.0,
            sum_f: 48.1517166778155,
            points: &[(1, 1000.0, 0.001998500666458347), (2, 2000.0, 0.003991015643571849), (30, 30000.0, 0.9404797907073597), (59, 59000.0, 0.9404797907073597), (60, 60000.0, 0.9404797907073597)],
        },
        Old {
            params: "protocol=flood model=events scenario=single nodes=300 ttl=3 latency_ms=50 jitter_ms=10",
            max_age_ms: 5000.0,
            name: "mean-field flood, n=300",
            len: 3,
            sum_t: 5055.0,
            sum_f: 2.0033333333333334,
            points: &[(1, 55.0, 1.0), (2, 5000.0, 1.0), (1, 55.0, 1.0), (1, 55.0, 1.0), (2, 5000.0, 1.0)],
        },
        Old {
            params: "protocol=pull model=rounds scenario=single nodes=10000 fanout=3 interval_ms=500",
            max_age_ms: 30000.0,
            name: "mean-field pull, n=10000",
            len: 11,
            sum_t: 52500.0,
            sum_f: 4.271489760960111,
            points: &[(1, 500.0, 0.00039994000399989904), (2, 1000.0, 0.001598800559817981), (5, 2500.0, 0.09733620987762592), (9, 4500.0, 0.9999999999958822), (10, 30000.0, 1.0)],
        },
        Old {
            params: "protocol=push model=events scenario=movies eager=on nodes=200 fanout=1 ttl=2 interval_ms=250 latency_ms=80 jitter_ms=0",
            max_age_ms: 20000.0,
            name: "mean-field push + eager push, n=200",
            len: 40,
            sum_t: 79210.0,
            sum_f: 22.180647778173356,
            points: &[(1, 80.0, 0.009962583203281139), (2, 160.0, 0.01643851346795444), (19, 1520.0, 0.5992333305733775), (37, 2960.0, 0.9974642692784325), (39, 20000.0, 1.0)],
        },
        Old {
            params: "protocol=rumor model=events scenario=broadcast nodes=25 fanout=3 interval_ms=50 latency_ms=100 jitter_ms=0 counter=16",
            max_age_ms: 3000.0,
            name: "mean-field rumor, n=25",
            len: 7,
            sum_t: 4410.0,
            sum_f: 3.9428662102374386,
            points: &[(1, 100.0, 0.040000000000000036), (2, 200.0, 0.24483725337610895), (3, 300.0, 0.6665271018213795), (5, 410.0, 0.9805361202152798), (6, 3000.0, 1.0)],
        },
        Old {
            params: "protocol=push model=rounds scenario=single eager=off nodes=1000",
            max_age_ms: 60000.0,
            name: "mean-field push, n=1000",
            len: 20,
            sum_t: 231000.0,
            sum_f: 9.929195140313691,
            points: &[(1, 1000.0, 0.001998500666458347), (2, 2000.0, 0.003991015643571849), (10, 10000.0, 0.5597637907166044), (18, 18000.0, 0.9996404132948803), (19, 60000.0, 1.0)],
        },
    ];

    #[test]
    fn the_pages_theory_line_is_the_one_its_javascript_drew() {
        for old in OLD {
            let pairs = old.params.split_whitespace().map(|kv| kv.split_once('=').expect("name=value"));
            let cfg = SimParams::from_pairs(pairs).and_then(|p| p.to_config()).expect("valid");
            let mf = cfg.mean_field();
            let curve = mean_field(&mf, old.max_age_ms).expect("a rule");
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert_eq!(mf.name(), old.name, "{}", old.params);
            assert_eq!(curve.len(), old.len, "{}", old.params);
            let (t, f) = curve.iter().fold((0.0, 0.0), |(t, f), p| (t + p.0, f + p.1));
            assert!(close(t, old.sum_t) && close(f, old.sum_f), "{}: sums {t}, {f}", old.params);
            for &(i, at, frac) in old.points {
                assert!(close(curve[i].0, at) && close(curve[i].1, frac), "{}: point {i}: {:?}", old.params, curve[i]);
            }
        }
    }
}
