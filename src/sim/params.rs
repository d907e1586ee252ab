//! Scenario parameters by name: the one mapping from `gossip sim`'s flags to
//! a [`SimConfig`], shared by the command line, the browser lab's
//! `configure(params)` and its URL (`#nodes=50&protocol=push-pull&...`).
//!
//! Names are the flags' in snake_case (`interval_ms` for `--interval-ms`);
//! values are text, as in a URL or on a command line, so a value from any of
//! the three gets the same checks and the same error message.

use serde::{Deserialize, Serialize};

use super::{parse_fault, EngineChoice, MembershipMode, Model, Scenario, SimConfig};
use crate::core::{Protocol, StopRule};

/// Every parameter of a scenario, with `gossip sim`'s defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimParams {
    /// Number of nodes.
    pub nodes: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// `rounds` or `events`.
    pub model: String,
    /// `flood`, `push`, `pull`, `push-pull` or `rumor`.
    pub protocol: String,
    /// Peers contacted per round (and per eager push).
    pub fanout: u32,
    /// Hops a pushed update may travel.
    pub ttl: u32,
    /// Gossip interval, ms.
    pub interval_ms: u64,
    /// One-way latency, ms.
    pub latency_ms: u64,
    /// Extra uniform delay per message, ms.
    pub jitter_ms: u64,
    /// Per-link spread of latency, 0..1.
    pub link_spread: f64,
    /// Message loss probability, 0..1.
    pub loss: f64,
    /// `single` or `movies`.
    pub scenario: String,
    /// movies: how long nodes re-sample, s; single: the time limit, s.
    pub duration_s: Option<f64>,
    /// movies: time for the last updates to settle, s.
    pub settle_s: Option<f64>,
    /// movies: mean time between re-samples, ms.
    pub resample_ms: u64,
    /// Rumor stop rule: `feedback` or `blind`.
    pub stop: String,
    /// Rumor: lose interest after K counted contacts.
    pub counter: Option<u8>,
    /// Rumor: lose interest with probability 1/K per counted contact.
    pub coin: Option<u8>,
    /// Eager push of fresh updates: `auto`, `on` or `off`.
    pub eager: String,
    /// The fault timeline, `TIME:KIND[:ARG]` each.
    pub faults: Vec<String>,
    /// `full` or `bootstrap`.
    pub membership: String,
    /// `auto`, `full` or `compact`.
    pub engine: String,
    /// broadcast: values handed to the nodes per second.
    pub rate: f64,
    /// A backup push-pull exchange with one random peer this often, ms (none: off).
    pub anti_entropy_ms: Option<u64>,
    /// Partners: `random` (drawn independently) or `round-robin` (shuffled passes).
    pub targets: String,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            nodes: 1000,
            seed: 1,
            model: "rounds".into(),
            protocol: "push-pull".into(),
            fanout: 1,
            ttl: 32,
            interval_ms: 1000,
            latency_ms: 50,
            jitter_ms: 10,
            link_spread: 0.0,
            loss: 0.0,
            scenario: "single".into(),
            duration_s: None,
            settle_s: None,
            resample_ms: 10_000,
            stop: "feedback".into(),
            counter: None,
            coin: None,
            eager: "auto".into(),
            faults: Vec::new(),
            membership: "full".into(),
            engine: "auto".into(),
            rate: 100.0,
            anti_entropy_ms: None,
            targets: "random".into(),
        }
    }
}

/// The parameter names [`SimParams::set`] accepts.
pub const NAMES: &[&str] = &[
    "nodes",
    "seed",
    "model",
    "protocol",
    "fanout",
    "ttl",
    "interval_ms",
    "latency_ms",
    "jitter_ms",
    "link_spread",
    "loss",
    "scenario",
    "duration_s",
    "settle_s",
    "resample_ms",
    "stop",
    "counter",
    "coin",
    "eager",
    "faults",
    "membership",
    "engine",
    "rate",
    "anti_entropy_ms",
    "targets",
];

/// The named workloads [`SimParams::preset`] knows.
pub const PRESETS: &[&str] = &["glomers"];

/// The protocol configuration of the `glomers` preset: rumor mongering in
/// batches (every `interval_ms`, each node pushes all its hot values to
/// `fanout` peers, taken in shuffled passes over all peers with
/// `round_robin`; a value stays hot for `counter` contacts), backed by a
/// push-pull exchange with one random peer every `anti_entropy_ms`.
/// Messages per value are about `nodes * fanout * 1000 / interval_ms / rate`
/// whatever the batch sizes, so the budget is set by the tick, not the load.
struct Glomers {
    fanout: u32,
    interval_ms: u64,
    counter: u8,
    anti_entropy_ms: u64,
    round_robin: bool,
}

const GLOMERS: Glomers = Glomers { fanout: 3, interval_ms: 50, counter: 16, anti_entropy_ms: 1000, round_robin: true };

fn num<T: std::str::FromStr>(name: &str, v: &str, what: &str) -> Result<T, String> {
    v.trim().parse().map_err(|_| format!("{name}: expected {what}, got {v:?}"))
}

fn opt<T: std::str::FromStr>(name: &str, v: &str, what: &str) -> Result<Option<T>, String> {
    match v.trim() {
        "" | "none" | "null" | "default" => Ok(None),
        s => num(name, s, what).map(Some),
    }
}

fn one_of(name: &str, v: &str, allowed: &[&str]) -> Result<String, String> {
    let v = v.trim().to_ascii_lowercase().replace('_', "-");
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(format!("{name}: expected one of {}, got {v:?}", allowed.join(", ")))
    }
}

impl SimParams {
    /// Set parameter `name` from text; the error names the parameter and
    /// says what it expects. `faults` takes a comma-separated list.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        const WHOLE: &str = "a whole number";
        const FRACTION: &str = "a number";
        match name.trim() {
            "nodes" => self.nodes = num(name, value, "a whole number from 2 up")?,
            "seed" => self.seed = num(name, value, "a whole number from 0 to 2^64-1")?,
            "model" => self.model = one_of(name, value, &["rounds", "events"])?,
            "protocol" => self.protocol = one_of(name, value, &["flood", "push", "pull", "push-pull", "rumor"])?,
            "fanout" => self.fanout = num(name, value, WHOLE)?,
            "ttl" => self.ttl = num(name, value, WHOLE)?,
            "interval_ms" => self.interval_ms = num(name, value, WHOLE)?,
            "latency_ms" => self.latency_ms = num(name, value, WHOLE)?,
            "jitter_ms" => self.jitter_ms = num(name, value, WHOLE)?,
            "link_spread" => self.link_spread = num(name, value, FRACTION)?,
            "loss" => self.loss = num(name, value, "a probability from 0 to 1")?,
            "scenario" => self.scenario = one_of(name, value, &["single", "movies", "broadcast"])?,
            "duration_s" => self.duration_s = opt(name, value, "a number of seconds")?,
            "settle_s" => self.settle_s = opt(name, value, "a number of seconds")?,
            "resample_ms" => self.resample_ms = num(name, value, WHOLE)?,
            "stop" => self.stop = one_of(name, value, &["feedback", "blind"])?,
            "counter" => self.counter = opt(name, value, "a whole number from 1 to 255")?,
            "coin" => self.coin = opt(name, value, "a whole number from 1 to 255")?,
            "eager" => self.eager = one_of(name, value, &["auto", "on", "off"])?,
            "faults" => {
                self.faults = value.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect()
            }
            "membership" => self.membership = one_of(name, value, &["full", "bootstrap"])?,
            "engine" => self.engine = one_of(name, value, &["auto", "full", "compact"])?,
            "rate" => self.rate = num(name, value, "a number of values per second")?,
            "anti_entropy_ms" => self.anti_entropy_ms = opt(name, value, WHOLE)?,
            "targets" => self.targets = one_of(name, value, &["random", "round-robin"])?,
            other => return Err(format!("unknown parameter {other:?}; known: {}", NAMES.join(", "))),
        }
        Ok(())
    }

    /// The parameters as `(name, text)` pairs that [`SimParams::set`] reads
    /// back to the same values (only those that differ from the defaults).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        self.pairs().into_iter().filter(|(_, v, d)| v != d).map(|(k, v, _)| (k, v)).collect()
    }

    /// Every parameter as a `(name, text)` pair [`SimParams::set`] reads back.
    pub fn to_pairs_all(&self) -> Vec<(&'static str, String)> {
        self.pairs().into_iter().map(|(k, v, _)| (k, v)).collect()
    }

    /// `(name, text, the default's text)` for every parameter.
    fn pairs(&self) -> Vec<(&'static str, String, String)> {
        let d = SimParams::default();
        let opt_s = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        let opt_k = |x: Option<u8>| x.map_or(String::new(), |v| v.to_string());
        let all: Vec<(&'static str, String, String)> = vec![
            ("nodes", self.nodes.to_string(), d.nodes.to_string()),
            ("seed", self.seed.to_string(), d.seed.to_string()),
            ("model", self.model.clone(), d.model.clone()),
            ("protocol", self.protocol.clone(), d.protocol.clone()),
            ("fanout", self.fanout.to_string(), d.fanout.to_string()),
            ("ttl", self.ttl.to_string(), d.ttl.to_string()),
            ("interval_ms", self.interval_ms.to_string(), d.interval_ms.to_string()),
            ("latency_ms", self.latency_ms.to_string(), d.latency_ms.to_string()),
            ("jitter_ms", self.jitter_ms.to_string(), d.jitter_ms.to_string()),
            ("link_spread", self.link_spread.to_string(), d.link_spread.to_string()),
            ("loss", self.loss.to_string(), d.loss.to_string()),
            ("scenario", self.scenario.clone(), d.scenario.clone()),
            ("duration_s", opt_s(self.duration_s), opt_s(d.duration_s)),
            ("settle_s", opt_s(self.settle_s), opt_s(d.settle_s)),
            ("resample_ms", self.resample_ms.to_string(), d.resample_ms.to_string()),
            ("stop", self.stop.clone(), d.stop.clone()),
            ("counter", opt_k(self.counter), opt_k(d.counter)),
            ("coin", opt_k(self.coin), opt_k(d.coin)),
            ("eager", self.eager.clone(), d.eager.clone()),
            ("faults", self.faults.join(","), d.faults.join(",")),
            ("membership", self.membership.clone(), d.membership.clone()),
            ("engine", self.engine.clone(), d.engine.clone()),
            ("rate", self.rate.to_string(), d.rate.to_string()),
            ("anti_entropy_ms", self.anti_entropy_ms.map_or(String::new(), |v| v.to_string()), String::new()),
            ("targets", self.targets.clone(), d.targets.clone()),
        ];
        all
    }

    /// A named workload: its parameters (flags given on the command line
    /// override them). `glomers`: the Gossip Glomers broadcast challenge
    /// (Jepsen Maelstrom's `broadcast` workload, challenges 3d and 3e): 25
    /// nodes, 100 ms links, 100 values a second for 20 s, and the protocol
    /// configuration that meets 3d's latencies and 3e's message budget at
    /// once. See [`PRESETS`].
    pub fn preset(name: &str) -> Result<SimParams, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "glomers" => Ok(SimParams {
                nodes: 25,
                model: "events".into(),
                scenario: "broadcast".into(),
                rate: 100.0,
                duration_s: Some(20.0),
                settle_s: Some(10.0),
                latency_ms: 100,
                jitter_ms: 0,
                protocol: "rumor".into(),
                fanout: GLOMERS.fanout,
                interval_ms: GLOMERS.interval_ms,
                stop: "blind".into(),
                counter: Some(GLOMERS.counter),
                anti_entropy_ms: Some(GLOMERS.anti_entropy_ms),
                targets: if GLOMERS.round_robin { "round-robin" } else { "random" }.into(),
                ..SimParams::default()
            }),
            other => Err(format!("unknown preset {other:?}; known: {}", PRESETS.join(", "))),
        }
    }

    /// The fault timeline `--partition` adds to a preset: the nodes split in
    /// two halves at 5 s and the partition heals at 10 s.
    pub fn partition_faults() -> Vec<String> {
        vec!["5s:partition:2".into(), "10s:heal".into()]
    }

    /// The configuration these parameters describe, checked.
    pub fn to_config(&self) -> Result<SimConfig, String> {
        let scenario = Scenario::parse(&self.scenario).ok_or("scenario must be single, movies or broadcast")?;
        let model = Model::parse(&self.model).ok_or("model must be rounds or events")?;
        let protocol = Protocol::parse(&self.protocol).ok_or_else(|| {
            format!("protocol must be flood, push, pull, push-pull or rumor, got {:?}", self.protocol)
        })?;
        let secs = |s: Option<f64>, what: &str| -> Result<Option<u64>, String> {
            match s {
                None => Ok(None),
                Some(v) if v.is_finite() && v > 0.0 && v <= 1e9 => Ok(Some((v * 1000.0).round() as u64)),
                Some(v) => Err(format!("{what} must be a positive number of seconds, got {v}")),
            }
        };
        let mut cfg = SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            model,
            scenario,
            duration_ms: secs(self.duration_s, "duration_s")?,
            settle_ms: secs(self.settle_s, "settle_s")?,
            membership: match self.membership.as_str() {
                "full" => MembershipMode::Full,
                "bootstrap" => MembershipMode::Bootstrap,
                m => return Err(format!("membership must be full or bootstrap, got {m:?}")),
            },
            engine: match self.engine.as_str() {
                "auto" => EngineChoice::Auto,
                "full" => EngineChoice::Full,
                "compact" => EngineChoice::Compact,
                e => return Err(format!("engine must be auto, full or compact, got {e:?}")),
            },
            rate: self.rate,
            ..SimConfig::default()
        };
        let n = &mut cfg.node;
        n.protocol = protocol;
        n.fanout = self.fanout;
        n.ttl = self.ttl;
        n.interval_ms = self.interval_ms;
        n.anti_entropy_ms = self.anti_entropy_ms;
        n.round_robin = match self.targets.as_str() {
            "random" => false,
            "round-robin" => true,
            t => return Err(format!("targets must be random or round-robin, got {t:?}")),
        };
        n.stop = StopRule::from_flags(&self.stop, self.counter, self.coin)?;
        n.eager_push = match self.eager.as_str() {
            "on" => true,
            "off" => false,
            "auto" => scenario != Scenario::Single,
            e => return Err(format!("eager must be auto, on or off, got {e:?}")),
        };
        if scenario == Scenario::Movies {
            if self.resample_ms == 0 {
                return Err("resample_ms must be at least 1".into());
            }
            n.resample_ms = Some(self.resample_ms);
            n.resample_jitter_ms = self.resample_ms / 5;
        }
        cfg.net.latency_ms = self.latency_ms;
        cfg.net.jitter_ms = self.jitter_ms;
        cfg.net.link_spread = self.link_spread;
        cfg.net.loss = self.loss;
        cfg.faults = self.faults.iter().map(|f| parse_fault(f)).collect::<Result<_, _>>()?;
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pairs_round_trip_through_set() {
        let mut p = SimParams::default();
        for (k, v) in [
            ("nodes", "50"),
            ("protocol", "rumor"),
            ("model", "events"),
            ("loss", "0.25"),
            ("coin", "2"),
            ("faults", "3s:crash:4, 5000:heal"),
        ] {
            p.set(k, v).expect("valid");
        }
        let mut back = SimParams::default();
        for (k, v) in p.to_pairs() {
            back.set(k, &v).expect("reads back");
        }
        assert_eq!(back, p);
        assert_eq!(back.faults, vec!["3s:crash:4", "5000:heal"]);
        assert!(p.to_config().is_ok());
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let mut p = SimParams::default();
        assert!(p.set("nodes", "-3").unwrap_err().starts_with("nodes: expected"));
        assert!(p.set("protocol", "gossip").unwrap_err().contains("push-pull"));
        assert!(p.set("colour", "red").unwrap_err().contains("unknown parameter"));
        p.set("loss", "-0.5").expect("parses; the range is checked with the rest");
        assert!(p.to_config().unwrap_err().contains("loss must be between 0 and 1"));
        p.loss = 0.0;
        p.nodes = 1_000_000_000;
        assert!(p.to_config().unwrap_err().contains("nodes must be between 2 and"));
        p.nodes = 10;
        p.faults = vec!["soon:crash:1".into()];
        assert!(p.to_config().unwrap_err().contains("bad time"));
    }
}
