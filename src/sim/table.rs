//! The parameter table: one entry per `gossip sim` parameter, and the named
//! presets, from which every interface derives what it offers.
//!
//! An entry ([`Param`]) holds the parameter's name (snake_case, as in URLs
//! and the page's `configure()`), its flag, its kind (a whole number or a
//! number with its range, a choice with its values, a protocol of the
//! registry, a fault timeline; optionally none), its default, a one-line
//! help, a short label for the page's form, its [`Group`], and through the
//! protocol registry ([`Info::params`](crate::core::protocols::Info)) which
//! protocols read it. From this table:
//!
//! * `gossip sim` builds its clap arguments, help headings and possible
//!   values (`src/cli.rs`);
//! * [`SimParams::set`] takes its names and checks its values, and
//!   [`SimParams::to_pairs`] writes the URL pairs (`src/sim/params.rs`);
//! * the page builds its form from [`table_json`] (`Lab.table()`), and marks
//!   the field a [`ParamError`] names.
//!
//! Values are text, as on a command line or in a URL, so a value from any
//! interface gets the same checks and the same message.

use std::fmt;

use serde::{Serialize, Serializer};

use super::faults::parse_fault;
use super::params::SimParams;
use super::{Scenario, MAX_NODES};
use crate::core::config::MAX_TTL;
use crate::core::Protocol;

/// Why a parameter's value was refused: which parameter (its name in the
/// table, or the unknown name given), what it expects and what it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter's name in the table (`interval_ms`), `preset`, or the
    /// unknown name that was given.
    pub param: String,
    /// What it takes (`a whole number from 2 to 50000000`, `between 0 and
    /// 1`, `one of rounds, events`), or for [`Form::Rule`] the whole reason.
    pub expected: String,
    /// The value given, as text (empty where a rule is about several values).
    pub given: String,
    /// How the message reads.
    pub form: Form,
}

/// How a [`ParamError`]'s message reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Not a value of the parameter's kind: `loss: expected a number from 0
    /// to 1, got "lots"`.
    Unreadable,
    /// A value of its kind, out of range: `nodes must be between 2 and
    /// 50000000, got 0`.
    OutOfRange,
    /// A rule refuses it (often with other values): `expected` is the reason,
    /// in its own words.
    Rule,
}

impl ParamError {
    /// `param` cannot be read as what it takes.
    pub fn unreadable(param: &str, expected: impl Into<String>, given: &str) -> ParamError {
        ParamError { param: param.into(), expected: expected.into(), given: given.into(), form: Form::Unreadable }
    }

    /// `param`'s value is outside `range` (`between 0 and 1`).
    pub fn out_of_range(param: &str, range: impl Into<String>, given: impl fmt::Display) -> ParamError {
        ParamError { param: param.into(), expected: range.into(), given: given.to_string(), form: Form::OutOfRange }
    }

    /// A rule refuses `param`'s value, for `reason`.
    pub fn rule(param: &str, reason: impl Into<String>) -> ParamError {
        ParamError { param: param.into(), expected: reason.into(), given: String::new(), form: Form::Rule }
    }

    /// The message, with the parameter called `name` (the command line says
    /// `--interval-ms` where the page says `interval_ms`).
    pub fn message_as(&self, name: &str) -> String {
        match self.form {
            Form::Unreadable => format!("{name}: expected {}, got {:?}", self.expected, self.given),
            Form::OutOfRange => format!("{name} must be {}, got {}", self.expected, self.given),
            Form::Rule => format!("{name}: {}", self.expected),
        }
    }

    /// The message as `gossip sim` prints it: the parameter named by its flag.
    pub fn cli_message(&self) -> String {
        self.message_as(&flag_of(&self.param))
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form {
            // a rule's reason names what it is about in its own words
            Form::Rule => f.write_str(&self.expected),
            _ => f.write_str(&self.message_as(&self.param)),
        }
    }
}

impl std::error::Error for ParamError {}

impl From<ParamError> for String {
    fn from(e: ParamError) -> String {
        e.to_string()
    }
}

/// Where a parameter belongs: `gossip sim --help`'s headings, the table's
/// sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The run as a whole: size, seed, time model, length, population.
    Run,
    /// The workload: what the nodes are asked to spread.
    Scenario,
    /// How the nodes gossip.
    Protocol,
    /// Links: latency, jitter, loss.
    Network,
    /// The fault timeline.
    Faults,
    /// SWIM's failure detector (`--membership swim`).
    Swim,
}

impl Group {
    /// Every group, in the order the help lists them.
    pub const ALL: [Group; 6] =
        [Group::Run, Group::Scenario, Group::Protocol, Group::Swim, Group::Network, Group::Faults];

    /// Its name in the table's JSON.
    pub fn name(self) -> &'static str {
        match self {
            Group::Run => "run",
            Group::Scenario => "scenario",
            Group::Protocol => "protocol",
            Group::Network => "network",
            Group::Faults => "faults",
            Group::Swim => "swim",
        }
    }

    /// Its heading in `gossip sim --help`.
    pub fn heading(self) -> &'static str {
        match self {
            Group::Run => "Run",
            Group::Scenario => "Scenario",
            Group::Protocol => "Protocol",
            Group::Network => "Network",
            Group::Faults => "Faults",
            Group::Swim => "SWIM (--membership swim)",
        }
    }
}

/// One value of a choice.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Choice {
    /// The value, as written.
    pub value: &'static str,
    /// How the page's list shows it.
    pub label: &'static str,
    /// What it means (help texts, the page's tooltips).
    pub help: &'static str,
    /// Other spellings accepted.
    pub aliases: &'static [&'static str],
}

const fn choice(value: &'static str, label: &'static str, help: &'static str) -> Choice {
    Choice { value, label, help, aliases: &[] }
}

/// What a parameter takes.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A whole number from `min` to `max` (`u64::MAX`: no upper bound).
    Int { min: u64, max: u64 },
    /// A number from `min` (excluded when `above`) to `max`; `step` is the
    /// form's step (`None`: any).
    Float { min: f64, above: bool, max: f64, step: Option<f64> },
    /// One of these values (lower case, `_` read as `-`).
    Choice(&'static [Choice]),
    /// A protocol of the registry ([`Protocol::ALL`]), by name or alias.
    Protocol,
    /// A fault timeline: `TIME:KIND[:ARG]` items, comma-separated (the flag
    /// is repeated instead).
    Faults,
}

/// A parameter's value once its text passed the table's checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A whole number.
    Int(u64),
    /// A number.
    Float(f64),
    /// A choice, as its canonical value.
    Text(String),
    /// A fault timeline.
    List(Vec<String>),
    /// No value (an optional parameter left empty).
    None,
}

/// One parameter of a simulated run.
pub struct Param {
    /// Its name: snake_case, as in URLs and `configure()`.
    pub name: &'static str,
    /// Its long flag, without the dashes (`interval-ms`; `fault` for `faults`).
    pub flag: &'static str,
    /// Its label in the page's form.
    pub label: &'static str,
    /// What it takes.
    pub kind: Kind,
    /// Its default, as text (empty: none).
    pub default: &'static str,
    /// `Some(meaning)` if it may be left empty, and what that means
    /// (`off`, `default`, `1`).
    pub empty: Option<&'static str>,
    /// One line of help.
    pub help: &'static str,
    /// Where it belongs.
    pub group: Group,
    get: fn(&SimParams) -> String,
    put: fn(&mut SimParams, Value),
}

impl fmt::Debug for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Param").field("name", &self.name).field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A [`SimParams`] field's type, as the table reads and writes it.
trait Field: Sized {
    fn text(&self) -> String;
    fn from_value(v: Value) -> Self;
}

fn mismatch(v: Value) -> ! {
    panic!("the parameter table's kind does not fit its field: {v:?}")
}

/// `impl Field for $t`: its text, and its value from the [`Value`] variant
/// its kind parses to (out of line: one copy per type, not per field).
macro_rules! field {
    ($t:ty, |$s:ident| $text:expr, $variant:ident($x:ident) => $value:expr) => {
        impl Field for $t {
            #[inline(never)]
            fn text(&self) -> String {
                let $s = self;
                $text
            }
            #[inline(never)]
            fn from_value(v: Value) -> Self {
                match v {
                    Value::$variant($x) => $value,
                    v => mismatch(v),
                }
            }
        }
    };
}
field!(u8, |n| n.to_string(), Int(n) => u8::try_from(n).expect("the table's range fits the field"));
field!(u32, |n| n.to_string(), Int(n) => u32::try_from(n).expect("the table's range fits the field"));
field!(u64, |n| n.to_string(), Int(n) => n);
field!(f64, |x| x.to_string(), Float(x) => x);
field!(String, |s| s.clone(), Text(s) => s);
field!(Vec<String>, |l| l.join(","), List(l) => l);

impl<T: Field> Field for Option<T> {
    #[inline(never)]
    fn text(&self) -> String {
        self.as_ref().map_or(String::new(), Field::text)
    }
    #[inline(never)]
    fn from_value(v: Value) -> Self {
        match v {
            Value::None => None,
            v => Some(T::from_value(v)),
        }
    }
}

/// An entry of [`TABLE`] for the [`SimParams`] field of the same name.
macro_rules! param {
    ($name:ident, $flag:literal, $label:literal, $group:ident, $kind:expr, default $default:literal, $empty:expr, $help:literal) => {
        Param {
            name: stringify!($name),
            flag: $flag,
            label: $label,
            kind: $kind,
            default: $default,
            empty: $empty,
            help: $help,
            group: Group::$group,
            get: |p| Field::text(&p.$name),
            put: |p, v| p.$name = Field::from_value(v),
        }
    };
}

const NO_MAX: u64 = u64::MAX;
/// The longest link latency or jitter, ms (one hour).
pub const MAX_LATENCY_MS: u64 = 3_600_000;
/// The longest gossip interval, ms (one day).
pub const MAX_INTERVAL_MS: u64 = 86_400_000;
/// The longest duration or settle time, s.
const MAX_SECONDS: f64 = 1e9;
/// The highest broadcast rate, values per second.
pub const MAX_RATE: f64 = 100_000.0;
/// The most peers per round.
pub const MAX_FANOUT: u64 = 10_000;
const FRACTION: Kind = Kind::Float { min: 0.0, above: false, max: 1.0, step: Some(0.01) };
const SECONDS: Kind = Kind::Float { min: 0.0, above: true, max: MAX_SECONDS, step: None };
const RUMOR_K: Kind = Kind::Int { min: 1, max: u8::MAX as u64 };

/// Every parameter of a simulated run, in the order the page's form and
/// `gossip sim --help` (within each group) list them.
pub const TABLE: &[Param] = &[
    param!(nodes, "nodes", "Nodes", Run, Kind::Int { min: 2, max: MAX_NODES as u64 }, default "1000", None,
        "Number of nodes."),
    param!(seed, "seed", "Seed", Run, Kind::Int { min: 0, max: NO_MAX }, default "1", None,
        "Seed of every random choice (same seed and flags, same result)."),
    param!(scenario, "scenario", "Scenario", Scenario, Kind::Choice(&[
        choice("movies", "movies (course app)", "the course app: every node has a favorite movie and re-samples it"),
        choice("single", "single rumor", "one update at node 0 at time 0, no re-sampling"),
        choice("broadcast", "broadcast (Maelstrom)",
            "Maelstrom's workload: clients hand unique values to random nodes, every value must reach every node"),
    ]), default "single", None,
        "What the nodes spread."),
    param!(model, "model", "Model", Run, Kind::Choice(&[
        choice("events", "events (ms)", "discrete events in virtual milliseconds"),
        choice("rounds", "rounds", "synchronous rounds (theory, PeerSim's cycle engine)"),
    ]), default "rounds", None,
        "How time advances."),
    param!(protocol, "protocol", "Protocol", Protocol, Kind::Protocol, default "push-pull", None,
        "Dissemination protocol."),
    param!(eager, "eager", "Eager push", Protocol, Kind::Choice(&[
        choice("auto", "auto", "on for movies and broadcast where the protocol takes it, off for single"),
        choice("on", "on", "push fresh updates at once to fanout peers while the TTL lasts"),
        choice("off", "off", "only the protocol's own rounds"),
    ]), default "auto", None,
        "Eager push of fresh updates (refused by protocols that already push them)."),
    param!(fanout, "fanout", "Fanout", Protocol, Kind::Int { min: 1, max: MAX_FANOUT }, default "1", None,
        "Peers contacted per round (and per eager push)."),
    param!(ttl, "ttl", "TTL", Protocol, Kind::Int { min: 0, max: MAX_TTL as u64 }, default "32", None,
        "Hops a pushed update may travel."),
    param!(interval_ms, "interval-ms", "Interval, ms", Protocol, Kind::Int { min: 1, max: MAX_INTERVAL_MS },
        default "1000", None,
        "Gossip interval (one round), ms."),
    param!(duration_s, "duration-s", "Duration, s", Run, SECONDS, default "", Some("default"),
        "movies, broadcast: how long updates are made, s; single: the time limit, s (default 60, 20, 1000 rounds)."),
    param!(stop, "stop", "Stop rule", Protocol, Kind::Choice(&[
        choice("feedback", "feedback", "count only contacts that already knew the rumor"),
        choice("blind", "blind", "count every contact"),
    ]), default "feedback", None,
        "Rumor stop rule: which contacts count."),
    param!(coin, "coin", "Coin 1/k, k", Protocol, RUMOR_K, default "", Some("1"),
        "Rumor: lose interest with probability 1/K per counted contact (default K=1)."),
    param!(counter, "counter", "or counter k", Protocol, RUMOR_K, default "", Some("off"),
        "Rumor: lose interest after K counted contacts (instead of the coin)."),
    param!(latency_ms, "latency-ms", "Latency, ms", Network, Kind::Int { min: 0, max: MAX_LATENCY_MS },
        default "50", None,
        "One-way link latency, ms (events model)."),
    param!(jitter_ms, "jitter-ms", "Jitter, ms", Network, Kind::Int { min: 0, max: MAX_LATENCY_MS },
        default "10", None,
        "Extra uniform delay per message, 0..=jitter, ms (events model)."),
    param!(loss, "loss", "Loss", Network, FRACTION, default "0", None,
        "Probability that a message is lost, 0..1."),
    param!(rate, "rate", "Rate, values/s", Scenario,
        Kind::Float { min: 0.0, above: true, max: MAX_RATE, step: None }, default "100", None,
        "broadcast: values handed to the nodes per second, all clients together."),
    param!(settle_s, "settle-s", "Settle, s", Scenario, SECONDS, default "", Some("default"),
        "movies, broadcast: extra time for the last updates to spread before they count as lost, s."),
    param!(resample_ms, "resample-ms", "Re-sample, ms", Scenario,
        // at most a day, as the gossip interval: a node made later adds it to its clock
        Kind::Int { min: 1, max: MAX_INTERVAL_MS },
        default "10000", None,
        "movies: mean time between re-samples of a node's favorite, ms (jitter 20 %)."),
    param!(anti_entropy_ms, "anti-entropy-ms", "Backup exchange, ms", Protocol,
        // at most a day, as the gossip interval: its first deadline is drawn below it and added to the clock
        Kind::Int { min: 1, max: MAX_INTERVAL_MS },
        default "", Some("off"),
        "A backup push-pull exchange with one peer (random, or the next of the pass with round-robin targets) this often, ms, besides the protocol's rounds (default off)."),
    param!(targets, "targets", "Targets", Protocol, Kind::Choice(&[
        choice("random", "random", "partners drawn independently"),
        choice("round-robin", "round-robin", "shuffled passes over all peers, each once per pass (as SWIM probes)"),
    ]), default "random", None,
        "How partners are chosen."),
    param!(membership, "membership", "Membership", Protocol, Kind::Choice(&[
        choice("full", "full", "uniform over everyone (the theory's model)"),
        choice("bootstrap", "bootstrap", "the course's: each node starts from node 0 and discovers the rest"),
        choice("swim", "SWIM", "SWIM members (failure detection only, events model): probes, suspicion, Lifeguard"),
        choice("hyparview", "HyParView", "HyParView's symmetric active views of 5, passive views of 30, repair"),
        choice("ring", "ring lattice", "static: each node linked to degree/2 neighbours on each side"),
        choice("k-out", "random k-out", "static: each node links to degree random others"),
        choice("watts-strogatz", "Watts-Strogatz", "static: a ring lattice of degree, each edge rewired with rewire"),
        choice("barabasi-albert", "Barabasi-Albert", "static: preferential attachment, degree links per new node"),
        choice("grid", "grid (Maelstrom)", "static: a square grid, 4 neighbours"),
        choice("line", "line (Maelstrom)", "static: a line"),
        choice("tree", "tree (Maelstrom)", "static: a tree of arity degree"),
    ]), default "full", None,
        "Where nodes find partners (an overlay runs plumtree or flood over its links)."),
    param!(degree, "degree", "Degree", Protocol, Kind::Int { min: 1, max: 1_000 }, default "4", None,
        "Static overlays: the ring's and Watts-Strogatz's k, k-out's k, Barabasi-Albert's m, the tree's arity."),
    param!(rewire, "rewire", "Rewire", Protocol, FRACTION, default "0.1", None,
        "Watts-Strogatz: the probability that a lattice edge is rewired, 0..1."),
    param!(ihave_timeout_ms, "ihave-timeout-ms", "IHAVE timeout, ms", Protocol, Kind::Int { min: 1, max: MAX_INTERVAL_MS },
        default "1000", None,
        "Plumtree's timeout1: how long an announced payload is awaited before a GRAFT, ms."),
    param!(graft_timeout_ms, "graft-timeout-ms", "GRAFT timeout, ms", Protocol, Kind::Int { min: 1, max: MAX_INTERVAL_MS },
        default "500", None,
        "Plumtree's timeout2: how long a GRAFT waits before the next announcer is grafted, ms."),
    param!(optimization, "optimization", "Optimization", Protocol, Kind::Int { min: 1, max: 1_000 },
        default "", Some("off"),
        "Plumtree's optimization: re-graft to an announcer at least this many rounds closer (paper: 3, 7)."),
    param!(senders, "senders", "Senders", Scenario, Kind::Int { min: 1, max: MAX_NODES as u64 },
        default "", Some("every node"),
        "Overlay broadcast: how many (seeded) nodes send the broadcasts (default every node)."),
    param!(warmup_cycles, "warmup-cycles", "Warm-up cycles", Scenario, Kind::Int { min: 0, max: 1_000_000 },
        default "50", None,
        "Overlay broadcast: membership cycles (intervals) before the first broadcast (the paper: 50); \
         then one broadcast per cycle for the duration."),
    param!(link_spread, "link-spread", "Link spread", Network, FRACTION, default "0", None,
        "Per-link spread of latency, latency x (1 +- X) fixed per link (0: every link the same)."),
    param!(engine, "engine", "Engine", Run, Kind::Choice(&[
        choice("auto", "auto", "compact where it applies, full nodes otherwise"),
        choice("full", "full", "real core nodes"),
        choice("compact", "compact", "one rumor, bytes per node"),
    ]), default "auto", None,
        "How nodes are held."),
    param!(latency_dist, "latency-dist", "Latency distribution", Network, Kind::Choice(&[
        choice("constant", "constant + jitter", "the link's latency plus uniform 0..=jitter"),
        choice("uniform", "uniform", "uniform on latency +- jitter"),
        choice("exponential", "exponential", "exponential with mean latency (jitter not used)"),
        choice("lognormal", "log-normal", "log-normal with mean latency and standard deviation jitter"),
    ]), default "constant", None,
        "How message delays are drawn (events model)."),
    param!(swim_formulas, "swim-formulas", "SWIM formulas", Swim, Kind::Choice(&[
        choice("paper", "paper", "SWIM's: limits and timeouts 3 ceil(ln(n+1)) periods"),
        choice("memberlist", "memberlist", "memberlist's: log10 formulas, SuspicionMult 4, RetransmitMult 4"),
    ]), default "paper", None,
        "swim: whose logarithms and multipliers (the defaults of the others)."),
    param!(lifeguard, "lifeguard", "Lifeguard", Swim, Kind::Choice(&[
        choice("off", "off", "plain SWIM"),
        choice("on", "on", "all three parts"),
        choice("health", "health only", "the local health multiplier (and nacks)"),
        choice("suspicion", "suspicion only", "suspicion timeouts that shrink with confirmations"),
        choice("buddy", "buddy only", "pings to a suspect carry the suspicion"),
    ]), default "off", None,
        "swim: Lifeguard's refinements."),
    param!(suspicion, "suspicion", "Suspicion", Swim, Kind::Choice(&[
        choice("on", "on", "suspect first, declare failed when the suspicion times out"),
        choice("off", "off", "basic SWIM: declare failed at once"),
    ]), default "on", None,
        "swim: the suspicion mechanism."),
    param!(probe_interval_ms, "probe-interval-ms", "Probe interval, ms", Swim,
        Kind::Int { min: 2, max: MAX_INTERVAL_MS }, default "1000", None,
        "swim: the protocol period T', ms."),
    param!(probe_timeout_ms, "probe-timeout-ms", "Probe timeout, ms", Swim,
        Kind::Int { min: 1, max: MAX_INTERVAL_MS }, default "500", None,
        "swim: wait this long for a direct ack before asking helpers, ms."),
    param!(indirect_k, "indirect-k", "Indirect probes k", Swim, Kind::Int { min: 0, max: 64 }, default "3", None,
        "swim: helpers asked to ping a target that did not ack."),
    param!(suspicion_mult, "suspicion-mult", "Suspicion mult", Swim, Kind::Int { min: 1, max: 1000 },
        default "", Some("default"),
        "swim: suspicion timeout (Lifeguard's minimum) = mult x log n periods (default 3 paper, 4 memberlist)."),
    param!(suspicion_max_mult, "suspicion-max-mult", "Suspicion max mult", Swim, Kind::Int { min: 1, max: 1000 },
        default "6", None,
        "swim, Lifeguard: the longest suspicion = this x the shortest."),
    param!(retransmit_mult, "retransmit-mult", "Retransmit mult", Swim, Kind::Int { min: 1, max: 100 },
        default "", Some("default"),
        "swim: each update is piggybacked at most mult x log n times (default 3 paper, 4 memberlist)."),
    param!(awareness_max, "awareness-max", "Awareness max", Swim, Kind::Int { min: 1, max: 256 },
        default "", Some("default"),
        "swim, Lifeguard: the health multiplier's ceiling (default 9 paper, S = 8; 8 memberlist)."),
    param!(phase, "phase", "Phases", Swim, Kind::Choice(&[
        choice("random", "random", "each member starts its periods at a random time"),
        choice("aligned", "aligned", "every member's periods start together (the paper's analysis)"),
    ]), default "random", None,
        "swim: when members' protocol periods start."),
    param!(faults, "fault", "Faults", Faults, Kind::Faults, default "", None,
        "A fault, TIME:KIND[:ARG], repeatable: 10s:partition:2, 20s:heal, 5s:crash:3, 8s:restart:3, \
         8s:restart-fresh:3, 12s:join:5, 15s:leave:7, 3s:loss:0.3, 2s:slow:3:1500, 9s:fast:3, \
         5s:crash-random:0.1, 4s:block:0-9>10-19, 6s:unblock:0-9>10-19."),
];

/// The parameters only a SWIM run reads (`--membership swim`).
pub const SWIM_PARAMS: &[&str] = &[
    "swim_formulas",
    "lifeguard",
    "suspicion",
    "probe_interval_ms",
    "probe_timeout_ms",
    "indirect_k",
    "suspicion_mult",
    "suspicion_max_mult",
    "retransmit_mult",
    "awareness_max",
    "phase",
];

/// The parameters of dissemination, which a SWIM run does not read.
const DISSEMINATION_PARAMS: &[&str] = &[
    "protocol",
    "eager",
    "fanout",
    "ttl",
    "interval_ms",
    "stop",
    "coin",
    "counter",
    "anti_entropy_ms",
    "targets",
    "rate",
    "settle_s",
    "resample_ms",
];

/// The workload parameters that only some scenarios read, with those
/// scenarios.
const SCENARIO_PARAMS: &[(&str, &[Scenario])] = &[
    ("rate", &[Scenario::Broadcast]),
    ("settle_s", &[Scenario::Movies, Scenario::Broadcast]),
    ("resample_ms", &[Scenario::Movies]),
];

/// Whether `scenario` reads the workload parameter `name` (`None`: not a
/// scenario's own parameter, read by every scenario).
pub fn scenario_reads(name: &str, scenario: Scenario) -> Option<bool> {
    SCENARIO_PARAMS.iter().find(|(n, _)| *n == name).map(|(_, readers)| readers.contains(&scenario))
}

/// Refuse a workload parameter given for a scenario that does not read it
/// (`--rate` with the movies scenario), naming it as `call` does.
pub fn refuse_unread_scenario<'a>(
    given: impl IntoIterator<Item = &'a str>,
    scenario: Scenario,
    call: impl Fn(&str) -> String,
) -> Result<(), ParamError> {
    for name in given {
        let Some((_, readers)) = SCENARIO_PARAMS.iter().find(|(n, _)| *n == name) else { continue };
        if !readers.contains(&scenario) {
            let names: Vec<&str> = readers.iter().map(|s| s.name()).collect();
            return Err(ParamError::rule(
                name,
                format!(
                    "{} applies to the {} scenario only, not to {}: leave it out or change the scenario",
                    call(name),
                    names.join(" and "),
                    scenario.name()
                ),
            ));
        }
    }
    Ok(())
}

/// Refuse a SWIM parameter given although the run's SWIM (`c`) does not
/// read it: the suspicion timeouts with suspicion off (a member that fails
/// a probe is declared dead at once), Lifeguard's `suspicion_max_mult`
/// without its suspicion part, `awareness_max` without its health part.
/// `call` names parameters as in [`refuse_unread`].
pub fn refuse_unread_swim<'a>(
    given: impl IntoIterator<Item = &'a str>,
    c: &crate::core::membership::swim::SwimConfig,
    call: impl Fn(&str) -> String,
) -> Result<(), ParamError> {
    let lifeguard = |part: &str| format!("give {} on or {part}, or leave it out", call("lifeguard"));
    for name in given {
        let why = match name {
            "suspicion_mult" | "suspicion_max_mult" if !c.suspicion => format!(
                "is not read with {} off (a member that fails a probe is declared dead at once): leave it out",
                call("suspicion")
            ),
            "suspicion_max_mult" if !c.lha_suspicion => {
                format!(
                    "is Lifeguard's (suspicion timeouts that shrink with confirmations): {}",
                    lifeguard("suspicion")
                )
            }
            "awareness_max" if !c.lhm => {
                format!("is Lifeguard's (the local health multiplier's ceiling): {}", lifeguard("health"))
            }
            _ => continue,
        };
        return Err(ParamError::rule(name, format!("{} {why}", call(name))));
    }
    Ok(())
}

/// The network's timing: read by the events model only (in the rounds
/// model an exchange completes within its round, whatever the latency).
pub const EVENTS_PARAMS: &[&str] = &["latency_ms", "jitter_ms", "link_spread", "latency_dist"];

/// Refuse a parameter that was given although the run's model does not
/// read it ([`EVENTS_PARAMS`] in the rounds model). `call` names parameters
/// as in [`refuse_unread`].
pub fn refuse_unread_model<'a>(
    given: impl IntoIterator<Item = &'a str>,
    events: bool,
    call: impl Fn(&str) -> String,
) -> Result<(), ParamError> {
    match given.into_iter().find(|name| !events && EVENTS_PARAMS.contains(name)) {
        Some(name) => Err(ParamError::rule(
            name,
            format!(
                "{} is not read by the rounds model (an exchange completes within its round): use --model events \
                 or leave it out",
                call(name)
            ),
        )),
        None => Ok(()),
    }
}

/// Refuse a parameter that was given although the run's membership does
/// not read it (SWIM's parameters without `--membership swim`, a
/// dissemination parameter with it), or `jitter_ms` with a latency
/// distribution that does not read it. `call` names parameters as in
/// [`refuse_unread`].
pub fn refuse_unread_membership<'a>(
    given: impl IntoIterator<Item = &'a str>,
    swim: bool,
    jitter_read: bool,
    call: impl Fn(&str) -> String,
) -> Result<(), ParamError> {
    for name in given {
        if !swim && SWIM_PARAMS.contains(&name) {
            return Err(ParamError::rule(
                name,
                format!("{} applies to --membership swim only: leave it out or choose that membership", call(name)),
            ));
        }
        if swim && DISSEMINATION_PARAMS.contains(&name) {
            return Err(ParamError::rule(
                name,
                format!(
                    "{} is a dissemination parameter; a --membership swim run spreads no rumor (its period is \
                     --probe-interval-ms): leave it out",
                    call(name)
                ),
            ));
        }
        if !jitter_read && name == "jitter_ms" {
            return Err(ParamError::rule(
                name,
                format!("{} is not read by the exponential latency distribution (its spread is its mean)", call(name)),
            ));
        }
    }
    Ok(())
}

/// Refuse a parameter that was given although `cfg`'s run would not read
/// it, by every rule above ([`refuse_unread`] for the protocol, and those
/// of the membership, the overlay, SWIM, the model and the scenario): the
/// one check `gossip sim`, `gossip sweep` and the page make. `PAGE`: the
/// page asks, whose form always sends the jitter and every scenario's
/// fields, and drops the rounds model's timing itself
/// ([`SimParams::drop_unread_timing`](super::params::SimParams::drop_unread_timing)),
/// so those three rules are not its. `call` names parameters as in
/// [`refuse_unread`].
pub fn refuse_unread_run<'a, const PAGE: bool>(
    given: impl Iterator<Item = &'a str> + Clone,
    cfg: &super::SimConfig,
    call: impl Fn(&str) -> String + Copy,
) -> Result<(), ParamError> {
    let swim = cfg.membership == super::MembershipMode::Swim;
    let jitter = PAGE || cfg.net.latency_dist.reads_jitter();
    refuse_unread_membership(given.clone(), swim, jitter, call)?;
    if !PAGE {
        refuse_unread_model(given.clone(), cfg.model == super::Model::Events, call)?;
    }
    if let Some(run) = &cfg.swim {
        refuse_unread_swim(given.clone(), &run.config, call)?;
    }
    refuse_unread(given.clone(), cfg.node.protocol, call)?;
    super::overlay::refuse_given(given.clone(), cfg, call)?;
    if !PAGE {
        refuse_unread_scenario(given, cfg.scenario, call)?;
    }
    Ok(())
}

/// The entry named `name`.
pub fn param(name: &str) -> Option<&'static Param> {
    TABLE.iter().find(|p| p.name == name)
}

/// How `gossip sim` spells parameter `name`: `--interval-ms`, `--fault`,
/// `--preset` (an unknown name as it is).
pub fn flag_of(name: &str) -> String {
    match (name, param(name)) {
        ("preset", _) => "--preset".into(),
        (_, Some(p)) => format!("--{}", p.flag),
        (other, None) => other.into(),
    }
}

/// Refuse a parameter that was given (typed on the command line, passed to
/// the page's `configure()`) although the run's `protocol` does not read it
/// (`counter` with push-pull): a value that would be silently ignored.
/// Names outside the table (`preset`) and `eager` (which has its own rule
/// and reason, `Protocol::check`) are not this check's. `call` names a
/// parameter in the message as the caller's users know it (`--counter` on
/// the command line, `counter` in the page).
pub fn refuse_unread<'a>(
    given: impl IntoIterator<Item = &'a str>,
    protocol: Protocol,
    call: impl Fn(&str) -> String,
) -> Result<(), ParamError> {
    for name in given {
        if name == "eager" {
            continue;
        }
        let Some(readers) = param(name).and_then(|p| p.protocols()) else { continue };
        if !readers.contains(&protocol) {
            let names: Vec<&str> = readers.iter().map(|p| p.name()).collect();
            return Err(ParamError::rule(
                name,
                format!(
                    "{} applies to {} only, not to {protocol}: leave it out or change the protocol",
                    call(name),
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Every name [`SimParams::set`] accepts: the table's, and `preset`.
pub fn names() -> Vec<&'static str> {
    TABLE.iter().map(|p| p.name).chain(["preset"]).collect()
}

/// `"a, b or c"`.
fn one_of(values: &[&str]) -> String {
    format!("one of {}", values.join(", "))
}

impl Param {
    /// Its value in `p`, as text [`Param::parse`] reads back.
    pub fn text(&self, p: &SimParams) -> String {
        (self.get)(p)
    }

    /// Store `v` (from [`Param::parse`]) in `p`.
    pub fn put(&self, p: &mut SimParams, v: Value) {
        (self.put)(p, v)
    }

    /// Its values, if it is a choice: the table's, or the registry's
    /// protocols (name, summary and aliases).
    pub fn choices(&self) -> Vec<Choice> {
        match self.kind {
            Kind::Choice(c) => c.to_vec(),
            Kind::Protocol => Protocol::ALL
                .iter()
                .map(|p| {
                    let i = p.info();
                    Choice { value: i.name, label: i.name, help: i.summary, aliases: i.aliases }
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The protocols that read it, from the registry's `params` lists;
    /// `None` for every protocol (no list names it, or every list does).
    pub fn protocols(&self) -> Option<Vec<Protocol>> {
        let users: Vec<Protocol> =
            Protocol::ALL.iter().copied().filter(|p| p.info().params.contains(&self.name)).collect();
        (!users.is_empty() && users.len() < Protocol::ALL.len()).then_some(users)
    }

    /// The memberships that read it, from the rules that refuse a value
    /// given where it does not apply ([`refuse_unread_membership`],
    /// [`super::overlay::refuse_given`], with the broadcast scenario's
    /// parameters allowed); `None` for every membership.
    pub fn memberships(&self) -> Option<Vec<&'static str>> {
        use super::{MembershipMode, Scenario, SimConfig};
        let reads = |m: MembershipMode| {
            let c = SimConfig { membership: m, scenario: Scenario::Broadcast, ..SimConfig::default() };
            refuse_unread_membership([self.name], m == MembershipMode::Swim, true, str::to_owned).is_ok()
                && super::overlay::refuse_given([self.name], &c, str::to_owned).is_ok()
        };
        let users: Vec<&str> = MembershipMode::ALL.into_iter().filter(|&m| reads(m)).map(|m| m.name()).collect();
        (users.len() < MembershipMode::ALL.len()).then_some(users)
    }

    /// The models that read it ([`refuse_unread_model`]); `None` for both.
    pub fn models(&self) -> Option<Vec<&'static str>> {
        EVENTS_PARAMS.contains(&self.name).then(|| vec![super::Model::Events.name()])
    }

    /// Its range in words: `between 2 and 50000000`, `at least 1`, `above 0
    /// and at most 100000` (empty for other kinds).
    pub fn range(&self) -> String {
        match self.kind {
            Kind::Int { min, max: NO_MAX } => format!("at least {min}"),
            Kind::Int { min, max } => format!("between {min} and {max}"),
            Kind::Float { min, above: true, max, .. } => format!("above {min} and at most {max}"),
            Kind::Float { min, max, .. } => format!("between {min} and {max}"),
            _ => String::new(),
        }
    }

    /// What it takes, in words.
    pub fn expected(&self) -> String {
        match self.kind {
            Kind::Int { .. } => format!("a whole number {}", self.range()),
            Kind::Float { .. } => format!("a number {}", self.range()),
            Kind::Choice(_) | Kind::Protocol => one_of(&self.choices().iter().map(|c| c.value).collect::<Vec<_>>()),
            Kind::Faults => "faults TIME:KIND[:ARG], comma-separated".into(),
        }
    }

    /// Read `text` as this parameter's value, checked: the error says what
    /// it takes.
    pub fn parse(&self, text: &str) -> Result<Value, ParamError> {
        let t = text.trim();
        if self.empty.is_some() && matches!(t, "" | "none" | "null" | "default" | "off") {
            return Ok(Value::None);
        }
        let unreadable = || ParamError::unreadable(self.name, self.expected(), t);
        match self.kind {
            Kind::Int { min, max } => {
                // a negative whole number is one, out of range
                let n: u64 = t.strip_prefix('-').unwrap_or(t).parse().map_err(|_| unreadable())?;
                if t.starts_with('-') && n > 0 || n < min || n > max {
                    return Err(ParamError::out_of_range(self.name, self.range(), t));
                }
                Ok(Value::Int(n))
            }
            Kind::Float { min, above, max, .. } => {
                let x: f64 = t.parse().map_err(|_| unreadable())?;
                let low_ok = if above { x > min } else { x >= min };
                if !(low_ok && x <= max) {
                    return Err(ParamError::out_of_range(self.name, self.range(), t));
                }
                Ok(Value::Float(x))
            }
            Kind::Choice(_) => {
                let norm = t.to_ascii_lowercase().replace('_', "-");
                let c = self.choices().into_iter().find(|c| c.value == norm || c.aliases.contains(&norm.as_str()));
                c.map(|c| Value::Text(c.value.into())).ok_or_else(unreadable)
            }
            Kind::Protocol => Protocol::parse(t).map(|p| Value::Text(p.name().into())).ok_or_else(unreadable),
            Kind::Faults => {
                let items: Vec<String> =
                    text.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect();
                for f in &items {
                    parse_fault(f).map_err(|e| ParamError::rule(self.name, e.to_string()))?;
                }
                Ok(Value::List(items))
            }
        }
    }

    /// The entry as the page reads it.
    fn view(&self) -> ParamView {
        let (kind, min, max, step) = match self.kind {
            Kind::Int { min, max } => ("int", Some(min as f64), (max != NO_MAX).then_some(max as f64), Some(1.0)),
            Kind::Float { min, max, step, .. } => ("float", Some(min), Some(max), step),
            Kind::Choice(_) | Kind::Protocol => ("choice", None, None, None),
            Kind::Faults => ("faults", None, None, None),
        };
        ParamView {
            name: self.name,
            flag: self.flag,
            label: self.label,
            kind,
            min,
            max,
            step,
            range: self.range(),
            default: self.default,
            empty: self.empty,
            help: self.help,
            group: self.group.name(),
            choices: self.choices(),
            protocols: self.protocols().map(|ps| ps.iter().map(|p| p.name()).collect()),
            memberships: self.memberships(),
            models: self.models(),
        }
    }
}

/// A [`Param`] as the page reads it (see [`table_json`]).
#[derive(Serialize)]
struct ParamView {
    name: &'static str,
    flag: &'static str,
    label: &'static str,
    kind: &'static str,
    min: Option<f64>,
    max: Option<f64>,
    step: Option<f64>,
    range: String,
    default: &'static str,
    empty: Option<&'static str>,
    help: &'static str,
    group: &'static str,
    choices: Vec<Choice>,
    protocols: Option<Vec<&'static str>>,
    memberships: Option<Vec<&'static str>>,
    models: Option<Vec<&'static str>>,
}

/// A named configuration: the values it sets (every other parameter keeps
/// its default; values given with it override it).
#[derive(Debug, Serialize)]
pub struct Preset {
    /// Its name (`--preset glomers`, `#preset=glomers`).
    pub name: &'static str,
    /// One line: what it is.
    pub summary: &'static str,
    /// `(parameter, value)` pairs, as [`SimParams::set`] reads them (a
    /// `{ name: value }` object in the page's table).
    #[serde(serialize_with = "pairs_as_map")]
    pub values: &'static [(&'static str, &'static str)],
}

/// The named presets.
///
/// `glomers`: the Gossip Glomers broadcast challenge (Jepsen Maelstrom's
/// `broadcast` workload, challenges 3d and 3e): 25 nodes, 100 ms links, 100
/// values a second for 20 s, and the protocol configuration that meets 3d's
/// latencies and 3e's message budget at once: rumor mongering in batches
/// (every `interval_ms`, each node pushes all its hot values to `fanout`
/// peers, taken in shuffled passes over all peers; a value stays hot for
/// `counter` contacts), backed by a push-pull exchange with one random peer
/// every `anti_entropy_ms`. Messages per value are about `nodes * fanout *
/// 1000 / interval_ms / rate` whatever the batch sizes, so the budget is set
/// by the tick, not the load.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "glomers",
        summary: "the Gossip Glomers broadcast challenge (3d/3e): 25 nodes, 100 ms links, 100 values/s for 20 s, \
              batched rumor mongering with backup anti-entropy",
        values: &[
            ("nodes", "25"),
            ("model", "events"),
            ("scenario", "broadcast"),
            ("rate", "100"),
            ("duration_s", "20"),
            ("settle_s", "10"),
            ("latency_ms", "100"),
            ("jitter_ms", "0"),
            ("protocol", "rumor"),
            ("fanout", "3"),
            ("interval_ms", "50"),
            ("stop", "blind"),
            ("counter", "16"),
            ("anti_entropy_ms", "1000"),
            ("targets", "round-robin"),
        ],
    },
    Preset {
        name: "swim-paper",
        summary: "SWIM as in its paper: suspicion, k = 3, limits and timeouts 3 ceil(ln(n+1)) periods, 1 s periods, \
                  no Lifeguard (failure detection, events model)",
        values: &[
            ("membership", "swim"),
            ("model", "events"),
            ("nodes", "100"),
            ("duration_s", "120"),
            ("swim_formulas", "paper"),
            ("lifeguard", "off"),
            ("suspicion", "on"),
            ("probe_interval_ms", "1000"),
            ("probe_timeout_ms", "500"),
            ("indirect_k", "3"),
            ("suspicion_mult", "3"),
            ("retransmit_mult", "3"),
        ],
    },
    Preset {
        name: "memberlist-lan",
        summary: "hashicorp/memberlist's DefaultLANConfig: probe 1 s, timeout 500 ms, 3 indirect checks, \
                  RetransmitMult 4, SuspicionMult 4, SuspicionMaxTimeoutMult 6, AwarenessMaxMultiplier 8, \
                  log10 formulas, Lifeguard on (failure detection, events model)",
        values: &[
            ("membership", "swim"),
            ("model", "events"),
            ("nodes", "100"),
            ("duration_s", "120"),
            ("swim_formulas", "memberlist"),
            ("lifeguard", "on"),
            ("suspicion", "on"),
            ("probe_interval_ms", "1000"),
            ("probe_timeout_ms", "500"),
            ("indirect_k", "3"),
            ("suspicion_mult", "4"),
            ("suspicion_max_mult", "6"),
            ("retransmit_mult", "4"),
            ("awareness_max", "8"),
        ],
    },
];

/// The preset named `name` (any case); the error lists the known ones.
pub fn preset(name: &str) -> Result<&'static Preset, ParamError> {
    let n = name.trim().to_ascii_lowercase();
    PRESETS.iter().find(|p| p.name == n).ok_or_else(|| {
        ParamError::unreadable("preset", one_of(&PRESETS.iter().map(|p| p.name).collect::<Vec<_>>()), name.trim())
    })
}

fn pairs_as_map<S: Serializer>(pairs: &&'static [(&'static str, &'static str)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().copied())
}

/// The whole table as JSON text, for the page (`Lab.table()`): `params`
/// (every entry: name, flag, label, kind, min, max, step (`null`: any),
/// range, default, empty, help, group, choices, protocols, memberships), `protocols`
/// (the registry: name, aliases, summary, params, no_eager, converges,
/// compact) and `presets` (name, summary, values).
pub fn table_json() -> String {
    #[derive(Serialize)]
    struct Table {
        params: Vec<ParamView>,
        protocols: Vec<&'static crate::core::protocols::Info>,
        presets: &'static [Preset],
    }
    let table = Table {
        params: TABLE.iter().map(Param::view).collect(),
        protocols: Protocol::ALL.iter().map(|p| p.info()).collect(),
        presets: PRESETS,
    };
    serde_json::to_string(&table).expect("the table serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_and_preset_value_passes_its_own_check() {
        for p in TABLE {
            let v = p.parse(p.default).unwrap_or_else(|e| panic!("{}: default {:?}: {e}", p.name, p.default));
            let mut s = SimParams::default();
            p.put(&mut s, v);
            assert_eq!(p.text(&s), p.default, "{}: the default reads back", p.name);
        }
        for preset in PRESETS {
            for (k, v) in preset.values {
                let p = param(k).unwrap_or_else(|| panic!("{}: unknown parameter {k}", preset.name));
                p.parse(v).unwrap_or_else(|e| panic!("{}: {k}={v}: {e}", preset.name));
            }
        }
    }

    #[test]
    fn names_and_flags_agree() {
        for p in TABLE {
            let flag = if p.name == "faults" { "fault".to_owned() } else { p.name.replace('_', "-") };
            assert_eq!(p.flag, flag, "{}", p.name);
            assert!(!p.help.contains("--"), "{}: the help names no flag (it reads the same in the page)", p.name);
            assert_eq!(TABLE.iter().filter(|q| q.name == p.name).count(), 1, "{} twice", p.name);
        }
        assert_eq!(flag_of("interval_ms"), "--interval-ms");
        assert_eq!(flag_of("faults"), "--fault");
        assert_eq!(flag_of("preset"), "--preset");
    }

    #[test]
    fn values_are_checked_against_their_kind_and_range() {
        let nodes = param("nodes").unwrap();
        assert_eq!(nodes.parse(" 50 "), Ok(Value::Int(50)));
        assert_eq!(nodes.parse("0").unwrap_err().to_string(), "nodes must be between 2 and 50000000, got 0");
        assert_eq!(nodes.parse("-3").unwrap_err().form, Form::OutOfRange);
        let e = nodes.parse("many").unwrap_err();
        assert_eq!(e.to_string(), "nodes: expected a whole number between 2 and 50000000, got \"many\"");
        assert_eq!(e.cli_message(), "--nodes: expected a whole number between 2 and 50000000, got \"many\"");
        let loss = param("loss").unwrap();
        assert!(loss.parse("NaN").is_err() && loss.parse("inf").is_err() && loss.parse("1.5").is_err());
        assert_eq!(param("rate").unwrap().parse("0").unwrap_err().expected, "above 0 and at most 100000");
        assert_eq!(param("coin").unwrap().parse("none"), Ok(Value::None));
        assert!(param("nodes").unwrap().parse("").is_err(), "not optional");
        assert_eq!(param("targets").unwrap().parse("Round_Robin"), Ok(Value::Text("round-robin".into())));
        assert_eq!(param("protocol").unwrap().parse("scuttlebutt"), Ok(Value::Text("push-pull".into())));
        let e = param("faults").unwrap().parse("1s:crash:1, soon:heal").unwrap_err();
        assert!(e.param == "faults" && e.to_string().contains("bad time"), "{e}");
        // every interval and timeout is added to a node's clock: at most a day, so it cannot overflow
        for name in ["interval_ms", "resample_ms", "anti_entropy_ms", "ihave_timeout_ms", "graft_timeout_ms"] {
            let p = param(name).unwrap();
            assert_eq!(p.parse("86400000"), Ok(Value::Int(86_400_000)), "{name}");
            assert_eq!(p.parse("86400001").unwrap_err().form, Form::OutOfRange, "{name}");
        }
        let e = ParamError::rule("eager", "eager push does not apply to rumor");
        assert_eq!(
            (e.to_string().as_str(), e.cli_message().as_str()),
            ("eager push does not apply to rumor", "--eager: eager push does not apply to rumor")
        );
    }

    #[test]
    fn per_protocol_parameters_come_from_the_registry() {
        let names = |p: &str| param(p).unwrap().protocols().map(|ps| ps.iter().map(|p| p.name()).collect::<Vec<_>>());
        assert_eq!(names("coin"), Some(vec!["rumor"]));
        assert_eq!(names("stop"), Some(vec!["rumor"]));
        assert_eq!(names("eager"), Some(vec!["push", "pull", "push-pull"]));
        assert_eq!(
            names("anti_entropy_ms"),
            Some(vec!["flood", "push", "pull", "push-pull", "rumor"]),
            "every store-based protocol takes the backup exchange, plumtree does not"
        );
        assert_eq!(names("ihave_timeout_ms"), Some(vec!["plumtree"]));
        assert_eq!(names("fanout"), Some(vec!["push", "pull", "push-pull", "rumor"]), "flood sends to every peer");
        assert_eq!(
            names("targets"),
            Some(vec!["flood", "push", "pull", "push-pull", "rumor"]),
            "flood's backup exchange takes a partner"
        );
        assert_eq!(names("nodes"), None);
        // every name a protocol lists is a parameter, and eager push is listed exactly where it applies
        for p in Protocol::ALL {
            let i = p.info();
            for name in i.params {
                assert!(param(name).is_some(), "{}: lists {name}, which the table lacks", i.name);
            }
            assert_eq!(i.params.contains(&"eager"), i.no_eager.is_none(), "{}", i.name);
        }
    }

    #[test]
    fn an_unknown_preset_lists_the_known_ones() {
        let e = preset("paxos").unwrap_err();
        assert_eq!(e.to_string(), "preset: expected one of glomers, swim-paper, memberlist-lan, got \"paxos\"");
        assert_eq!(preset(" Glomers ").unwrap().name, "glomers");
    }

    #[test]
    fn the_memberships_that_read_a_parameter_follow_the_refusal_rules() {
        let m = |name: &str| param(name).unwrap().memberships();
        assert_eq!(m("probe_interval_ms"), Some(vec!["swim"]));
        assert_eq!(m("degree"), Some(vec!["ring", "k-out", "watts-strogatz", "barabasi-albert", "tree"]));
        assert_eq!(m("rewire"), Some(vec!["watts-strogatz"]));
        assert_eq!(m("fanout"), Some(vec!["full", "bootstrap"]));
        let overlays = ["hyparview", "ring", "k-out", "watts-strogatz", "barabasi-albert", "grid", "line", "tree"];
        assert_eq!(m("warmup_cycles"), Some(overlays.to_vec()));
        let no_swim: Vec<&str> =
            super::super::MembershipMode::ALL.iter().map(|m| m.name()).filter(|&n| n != "swim").collect();
        assert_eq!(m("protocol"), Some(no_swim));
        assert_eq!(m("nodes"), None);
        assert_eq!(m("membership"), None);
        assert!(table_json().contains(r#""memberships":["swim"]"#));
    }

    #[test]
    fn lifeguards_parameters_and_the_suspicion_timeouts_are_refused_where_the_swim_run_does_not_read_them() {
        use crate::core::membership::swim::SwimConfig;
        let paper = SwimConfig::paper();
        assert!(!paper.lhm && !paper.lha_suspicion && paper.suspicion);
        let refused = |c: &SwimConfig, name: &str| refuse_unread_swim([name], c, flag_of).err().map(|e| e.to_string());
        assert!(refused(&paper, "awareness_max").unwrap().contains("--lifeguard on or health"));
        assert!(refused(&paper, "suspicion_max_mult").unwrap().contains("--lifeguard on or suspicion"));
        assert_eq!(refused(&paper, "suspicion_mult"), None);
        let lifeguard = SwimConfig { lhm: true, lha_suspicion: true, ..paper.clone() };
        for name in ["awareness_max", "suspicion_max_mult", "suspicion_mult", "probe_timeout_ms"] {
            assert_eq!(refused(&lifeguard, name), None, "{name}");
        }
        let no_suspicion = SwimConfig { suspicion: false, ..lifeguard };
        for name in ["suspicion_mult", "suspicion_max_mult"] {
            assert!(refused(&no_suspicion, name).unwrap().contains("--suspicion off"), "{name}");
        }
        assert_eq!(refused(&no_suspicion, "awareness_max"), None);
    }

    #[test]
    fn the_network_timing_is_read_by_the_events_model_only_and_refused_in_rounds() {
        for name in ["latency_ms", "jitter_ms", "link_spread", "latency_dist"] {
            assert_eq!(param(name).unwrap().models(), Some(vec!["events"]), "{name}");
            let e = refuse_unread_model([name], false, str::to_owned).unwrap_err();
            assert!(e.to_string().contains("rounds model"), "{e}");
            assert!(refuse_unread_model([name], true, str::to_owned).is_ok());
        }
        for name in ["loss", "interval_ms", "fanout", "nodes"] {
            assert_eq!(param(name).unwrap().models(), None, "{name}");
            assert!(refuse_unread_model([name], false, str::to_owned).is_ok(), "{name}");
        }
        assert!(table_json().contains(r#""models":["events"]"#));
    }
}
