//! Scenario parameters by name: the one mapping from `gossip sim`'s flags to
//! a [`SimConfig`], shared by the command line, the browser lab's
//! `configure(params)` and its URL (`#nodes=50&protocol=push-pull&...`).
//!
//! Names, kinds, ranges, defaults and presets are the parameter table's
//! ([`super::table`]); values are text, as in a URL or on a command line, so
//! a value from any of the three gets the same checks and the same
//! [`ParamError`].

use serde::{Deserialize, Serialize};

use super::network::LatencyDist;
use super::overlay::OverlayConfig;
use super::swim::SwimRun;
pub use super::table::ParamError;
use super::table::{self, TABLE};
use super::{parse_fault, EngineChoice, MembershipMode, Model, Scenario, SimConfig};
use crate::core::membership::swim::SwimConfig;
use crate::core::{Protocol, StopRule};

/// Every parameter of a scenario. [`SimParams::default`] holds `gossip
/// sim`'s defaults, as the parameter table ([`table::TABLE`]) says them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimParams {
    /// The preset these values started from, if any ([`table::PRESETS`]).
    pub preset: Option<String>,
    /// Number of nodes.
    pub nodes: u32,
    /// Seed of every random choice.
    pub seed: u64,
    /// `rounds` or `events`.
    pub model: String,
    /// A protocol of the registry, by its name.
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
    /// `single`, `movies` or `broadcast`.
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
    /// A backup push-pull exchange with one peer (random, or the next of the pass with round-robin targets) this often, ms (none: off).
    pub anti_entropy_ms: Option<u64>,
    /// Partners: `random` (drawn independently) or `round-robin` (shuffled passes).
    pub targets: String,
    /// Static overlays: the topology's degree.
    pub degree: u32,
    /// Watts–Strogatz: the rewiring probability.
    pub rewire: f64,
    /// Plumtree's timeout1, ms.
    pub ihave_timeout_ms: u64,
    /// Plumtree's timeout2, ms.
    pub graft_timeout_ms: u64,
    /// Plumtree's optimization threshold (none: off).
    pub optimization: Option<u32>,
    /// Overlay broadcast: senders (none: every node).
    pub senders: Option<u32>,
    /// Overlay broadcast: cycles before the first broadcast.
    pub warmup_cycles: u32,
    /// `constant`, `uniform`, `exponential` or `lognormal`.
    pub latency_dist: String,
    /// swim: `paper` or `memberlist` formulas and defaults.
    pub swim_formulas: String,
    /// swim: `off`, `on`, `health`, `suspicion` or `buddy`.
    pub lifeguard: String,
    /// swim: `on` or `off`.
    pub suspicion: String,
    /// swim: the protocol period, ms.
    pub probe_interval_ms: u64,
    /// swim: the direct probe's timeout, ms.
    pub probe_timeout_ms: u64,
    /// swim: indirect probes.
    pub indirect_k: u32,
    /// swim: suspicion multiplier (none: the formulas' default).
    pub suspicion_mult: Option<u32>,
    /// swim: Lifeguard's maximum suspicion multiplier.
    pub suspicion_max_mult: u32,
    /// swim: retransmit multiplier λ (none: the formulas' default).
    pub retransmit_mult: Option<u32>,
    /// swim: the health multiplier's ceiling (none: the formulas' default).
    pub awareness_max: Option<u32>,
    /// swim: `random` or `aligned` phases.
    pub phase: String,
}

impl SimParams {
    /// Every field empty, for [`SimParams::default`] to fill from the table.
    const BLANK: SimParams = SimParams {
        preset: None,
        nodes: 0,
        seed: 0,
        model: String::new(),
        protocol: String::new(),
        fanout: 0,
        ttl: 0,
        interval_ms: 0,
        latency_ms: 0,
        jitter_ms: 0,
        link_spread: 0.0,
        loss: 0.0,
        scenario: String::new(),
        duration_s: None,
        settle_s: None,
        resample_ms: 0,
        stop: String::new(),
        counter: None,
        coin: None,
        eager: String::new(),
        faults: Vec::new(),
        membership: String::new(),
        engine: String::new(),
        rate: 0.0,
        anti_entropy_ms: None,
        targets: String::new(),
        degree: 0,
        rewire: 0.0,
        ihave_timeout_ms: 0,
        graft_timeout_ms: 0,
        optimization: None,
        senders: None,
        warmup_cycles: 0,
        latency_dist: String::new(),
        swim_formulas: String::new(),
        lifeguard: String::new(),
        suspicion: String::new(),
        probe_interval_ms: 0,
        probe_timeout_ms: 0,
        indirect_k: 0,
        suspicion_mult: None,
        suspicion_max_mult: 0,
        retransmit_mult: None,
        awareness_max: None,
        phase: String::new(),
    };
}

impl Default for SimParams {
    /// The table's defaults.
    fn default() -> Self {
        let mut p = SimParams::BLANK;
        for param in TABLE {
            param.put(&mut p, param.parse(param.default).expect("the table's defaults pass its checks"));
        }
        p
    }
}

impl SimParams {
    /// Set parameter `name` (a name of the table, or `preset`) from text;
    /// the error names the parameter and says what it takes. `faults` takes
    /// a comma-separated list. A preset replaces every value with its own
    /// (empty or `none`: the defaults), so it comes first
    /// ([`SimParams::from_pairs`] sees to that).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ParamError> {
        let name = name.trim();
        if name == "preset" {
            *self = match value.trim() {
                "" | "none" => SimParams::default(),
                v => SimParams::preset(v)?,
            };
            return Ok(());
        }
        let param = table::param(name).ok_or_else(|| {
            ParamError::rule(name, format!("unknown parameter {name:?}; known: {}", table::names().join(", ")))
        })?;
        param.put(self, param.parse(value)?);
        Ok(())
    }

    /// Parameters from `(name, text)` pairs on top of the defaults: a
    /// `preset` first, wherever it stands, then the others in order (they
    /// override it).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<SimParams, ParamError> {
        let (presets, rest): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k.trim() == "preset");
        let mut p = SimParams::default();
        for (k, v) in presets.into_iter().chain(rest) {
            p.set(k, v)?;
        }
        Ok(p)
    }

    /// The parameters as `(name, text)` pairs that [`SimParams::from_pairs`]
    /// reads back to the same values: the preset, if any, then every value
    /// that differs from the preset's (or the default).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let base = self.preset.as_deref().and_then(|n| SimParams::preset(n).ok()).unwrap_or_default();
        let preset = self.preset.iter().map(|n| ("preset", n.clone()));
        let changed = TABLE.iter().filter_map(|p| {
            let v = p.text(self);
            (v != p.text(&base)).then_some((p.name, v))
        });
        preset.chain(changed).collect()
    }

    /// The network's timing ([`table::EVENTS_PARAMS`]) put back at the
    /// preset's values (or the defaults) when the model is rounds, which
    /// does not read it: for the page, whose links and form may carry it,
    /// so that its report, link and `gossip sim` command are those of the
    /// run it makes (the command line refuses these flags in rounds).
    /// So too the jitter when the latency distribution does not read it
    /// (exponential), and a scenario's own fields under another scenario
    /// (`rate` with movies): the form sends them whatever it shows.
    pub fn drop_unread_timing(&mut self) {
        let base = self.preset.as_deref().and_then(|n| SimParams::preset(n).ok()).unwrap_or_default();
        let rounds = Model::parse(&self.model) == Some(Model::Rounds);
        let no_jitter = LatencyDist::parse(&self.latency_dist).is_some_and(|d| !d.reads_jitter());
        let scenario = Scenario::parse(&self.scenario);
        let unread = |name: &str| {
            (rounds && table::EVENTS_PARAMS.contains(&name))
                || (no_jitter && name == "jitter_ms")
                || scenario.is_some_and(|s| table::scenario_reads(name, s) == Some(false))
        };
        for p in TABLE.iter().filter(|p| unread(p.name)) {
            let v = p.text(&base);
            self.set(p.name, &v).expect("the table's own text of a value reads back");
        }
    }

    /// A named workload ([`table::PRESETS`]): its parameters, every other
    /// one at its default.
    pub fn preset(name: &str) -> Result<SimParams, ParamError> {
        let preset = table::preset(name)?;
        let mut p = SimParams::default();
        for (k, v) in preset.values {
            p.set(k, v)?;
        }
        p.preset = Some(preset.name.into());
        Ok(p)
    }

    /// The fault timeline `--partition` adds to a preset: the nodes split in
    /// two halves at 5 s and the partition heals at 10 s.
    pub fn partition_faults() -> Vec<String> {
        vec!["5s:partition:2".into(), "10s:heal".into()]
    }

    /// Whether partners are chosen by shuffled passes over every peer
    /// (`targets` is `round-robin`, the core's `Config::round_robin`).
    pub fn round_robin(&self) -> bool {
        self.targets == "round-robin"
    }

    /// The SWIM configuration these parameters describe: the formulas'
    /// defaults, Lifeguard's parts as chosen, and the values given.
    fn swim_run(&self) -> SwimRun {
        let memberlist = self.swim_formulas == "memberlist";
        let mut c = if memberlist { SwimConfig::memberlist_lan() } else { SwimConfig::paper() };
        let part = |p: &str| self.lifeguard == "on" || self.lifeguard == p;
        c.lhm = part("health");
        c.lha_suspicion = part("suspicion");
        c.buddy = part("buddy");
        c.suspicion = self.suspicion != "off";
        c.probe_interval_ms = self.probe_interval_ms;
        c.probe_timeout_ms = self.probe_timeout_ms;
        c.indirect_checks = self.indirect_k;
        if let Some(m) = self.suspicion_mult {
            c.suspicion_mult = m;
        }
        if memberlist {
            // memberlist's K: SuspicionMult - 2
            c.suspicion_k = c.suspicion_mult.saturating_sub(2);
        }
        c.suspicion_max_mult = self.suspicion_max_mult;
        if let Some(m) = self.retransmit_mult {
            c.retransmit_mult = m;
        }
        if let Some(a) = self.awareness_max {
            c.lhm_max = u8::try_from(a - 1).unwrap_or(u8::MAX);
        }
        SwimRun { config: c, aligned: self.phase == "aligned" }
    }

    /// The configuration these parameters describe, checked: every value
    /// against the table (fields may have been set directly), then the
    /// rules that join several (eager push where the protocol refuses it,
    /// the stop rule, the scenario's limits, faults naming nodes).
    pub fn to_config(&self) -> Result<SimConfig, ParamError> {
        for param in TABLE {
            param.parse(&param.text(self))?;
        }
        let choice = |name: &str, v: &str| ParamError::rule(name, format!("unknown {name} {v:?}"));
        let scenario = Scenario::parse(&self.scenario).ok_or_else(|| choice("scenario", &self.scenario))?;
        let model = Model::parse(&self.model).ok_or_else(|| choice("model", &self.model))?;
        let protocol = Protocol::parse(&self.protocol).ok_or_else(|| choice("protocol", &self.protocol))?;
        let secs = |s: Option<f64>| s.map(|v| (v * 1000.0).round() as u64);
        let mut cfg = SimConfig {
            nodes: self.nodes,
            seed: self.seed,
            model,
            scenario,
            duration_ms: secs(self.duration_s),
            settle_ms: secs(self.settle_s),
            membership: MembershipMode::parse(&self.membership)
                .ok_or_else(|| choice("membership", &self.membership))?,
            swim: (self.membership == "swim").then(|| self.swim_run()),
            engine: match self.engine.as_str() {
                "full" => EngineChoice::Full,
                "compact" => EngineChoice::Compact,
                _ => EngineChoice::Auto,
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
        n.round_robin = self.round_robin();
        n.stop = StopRule::from_flags(&self.stop, self.counter, self.coin)
            .map_err(|e| ParamError::rule(e.param(), e.to_string()))?;
        // auto: the app's eager push for movies and broadcast, where the
        // protocol takes it; the literature's pure protocols for single
        n.eager_push = match self.eager.as_str() {
            "on" => true,
            "off" => false,
            _ => scenario != Scenario::Single && protocol.info().no_eager.is_none(),
        };
        n.check().map_err(|e| ParamError::rule(e.param(), e.to_string()))?;
        if scenario == Scenario::Movies {
            n.resample_ms = Some(self.resample_ms);
            n.resample_jitter_ms = self.resample_ms / 5;
        }
        if cfg.membership.is_overlay() {
            cfg.overlay = Some(OverlayConfig {
                degree: self.degree,
                rewire: self.rewire,
                ihave_timeout_ms: self.ihave_timeout_ms,
                graft_timeout_ms: self.graft_timeout_ms,
                optimization: self.optimization,
                senders: self.senders,
                warmup_cycles: self.warmup_cycles,
            });
        }
        cfg.net.latency_ms = self.latency_ms;
        cfg.net.jitter_ms = self.jitter_ms;
        cfg.net.link_spread = self.link_spread;
        cfg.net.loss = self.loss;
        cfg.net.latency_dist =
            LatencyDist::parse(&self.latency_dist).ok_or_else(|| choice("latency_dist", &self.latency_dist))?;
        if cfg.membership == MembershipMode::Swim {
            // the engine's schedule (samples, the time limit in periods) runs on the probe period
            n.interval_ms = self.probe_interval_ms;
        }
        cfg.faults = self
            .faults
            .iter()
            .map(|f| parse_fault(f).map_err(|e| ParamError::rule("faults", e.to_string())))
            .collect::<Result<_, _>>()?;
        cfg.check()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rounds_model_drops_the_network_timing_it_does_not_read_and_the_events_model_keeps_it() {
        let given = [
            ("model", "rounds"),
            ("latency_ms", "300"),
            ("jitter_ms", "70"),
            ("link_spread", "0.5"),
            ("latency_dist", "uniform"),
            ("loss", "0.1"),
        ];
        let mut p = SimParams::from_pairs(given).unwrap();
        p.drop_unread_timing();
        let pairs = p.to_pairs();
        assert_eq!(pairs, vec![("loss", "0.1".to_string())], "(rounds is the default model; loss is read in rounds)");
        let mut e = SimParams::from_pairs([("model", "events"), ("latency_ms", "300")]).unwrap();
        e.drop_unread_timing();
        assert_eq!(e.to_config().unwrap().net.latency_ms, 300);
        // back at the preset's values, not the table's
        let mut g = SimParams::from_pairs([("preset", "glomers"), ("model", "rounds"), ("latency_ms", "7")]).unwrap();
        g.drop_unread_timing();
        assert_eq!(g.to_pairs().iter().filter(|(k, _)| *k == "latency_ms").count(), 0);
        assert_eq!(g.latency_ms, SimParams::preset("glomers").unwrap().latency_ms);
    }

    #[test]
    fn the_page_drops_the_jitter_of_the_exponential_distribution_and_other_scenarios_fields() {
        // (gossip sim refuses these flags: the page's link and command must not carry them)
        let given = [
            ("model", "events"),
            ("latency_dist", "exponential"),
            ("jitter_ms", "42"),
            ("scenario", "single"),
            ("rate", "5"),
            ("settle_s", "3"),
            ("resample_ms", "3000"),
        ];
        let mut p = SimParams::from_pairs(given).unwrap();
        p.drop_unread_timing();
        let pairs = p.to_pairs();
        assert_eq!(pairs, vec![("model", "events".to_string()), ("latency_dist", "exponential".to_string())]);
        let mut m =
            SimParams::from_pairs([("scenario", "movies"), ("settle_s", "3"), ("rate", "5"), ("jitter_ms", "4")])
                .unwrap();
        m.drop_unread_timing();
        let keys: Vec<&str> = m.to_pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["scenario", "settle_s"], "(movies reads settle_s; rounds reads no jitter)");
    }

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
        let pairs = p.to_pairs();
        let back = SimParams::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).expect("reads back");
        assert_eq!(back, p);
        assert_eq!(back.faults, vec!["3s:crash:4", "5000:heal"]);
        assert!(p.to_config().is_ok());
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let mut p = SimParams::default();
        let e = p.set("nodes", "-3").unwrap_err();
        assert_eq!(
            (e.param.as_str(), e.to_string().as_str()),
            ("nodes", "nodes must be between 2 and 50000000, got -3")
        );
        assert!(p.set("nodes", "lots").unwrap_err().to_string().starts_with("nodes: expected"));
        let e = p.set("protocol", "gossip").unwrap_err();
        assert_eq!(
            e.to_string(),
            "protocol: expected one of flood, push, pull, push-pull, rumor, plumtree, got \"gossip\""
        );
        let e = p.set("colour", "red").unwrap_err();
        assert!(e.param == "colour" && e.to_string().contains("unknown parameter"), "{e}");
        assert!(p.set("loss", "-0.5").unwrap_err().to_string().contains("loss must be between 0 and 1"));
        // fields set directly are checked by the table too
        p.loss = -0.5;
        assert!(p.to_config().unwrap_err().to_string().contains("loss must be between 0 and 1"));
        p.loss = 0.0;
        p.nodes = 1_000_000_000;
        let e = p.to_config().unwrap_err();
        assert!(e.param == "nodes" && e.to_string().contains("nodes must be between 2 and"), "{e}");
        p.nodes = 10;
        p.faults = vec!["soon:crash:1".into()];
        let e = p.to_config().unwrap_err();
        assert!(e.param == "faults" && e.to_string().contains("bad time"), "{e}");
        p.faults = vec!["1s:crash:12".into()];
        assert_eq!(p.to_config().unwrap_err().param, "faults", "a rule across values names one of them");
    }

    #[test]
    fn a_preset_comes_first_and_the_pairs_name_it() {
        let p = SimParams::from_pairs([("nodes", "40"), ("preset", "glomers")]).expect("valid");
        assert_eq!((p.nodes, p.fanout, p.preset.as_deref()), (40, 3, Some("glomers")));
        assert_eq!(p.to_pairs(), vec![("preset", "glomers".to_owned()), ("nodes", "40".to_owned())]);
        assert_eq!(SimParams::preset("glomers").unwrap().to_pairs(), vec![("preset", "glomers".to_owned())]);
        let e = SimParams::from_pairs([("preset", "paxos")]).unwrap_err();
        assert_eq!((e.param.as_str(), e.expected.as_str()), ("preset", "one of glomers, swim-paper, memberlist-lan"));
        // an empty preset is the defaults
        assert_eq!(SimParams::from_pairs([("preset", "")]).unwrap(), SimParams::default());
    }

    #[test]
    fn eager_push_is_refused_where_the_protocol_refuses_it_and_auto_follows() {
        let cfg = |pairs: &[(&str, &str)]| SimParams::from_pairs(pairs.iter().copied()).and_then(|p| p.to_config());
        for protocol in ["rumor", "flood"] {
            let e = cfg(&[("protocol", protocol), ("eager", "on")]).unwrap_err();
            assert_eq!(e.param, "eager");
            assert!(e.to_string().contains(&format!("eager push does not apply to {protocol}")), "{e}");
            for scenario in ["movies", "broadcast", "single"] {
                let c = cfg(&[("protocol", protocol), ("scenario", scenario), ("nodes", "20")]).expect("valid");
                assert!(!c.node.eager_push, "{protocol} {scenario}: auto is off");
            }
        }
        for scenario in ["movies", "broadcast"] {
            assert!(cfg(&[("scenario", scenario), ("nodes", "20")]).unwrap().node.eager_push, "{scenario}");
        }
        assert!(!cfg(&[]).unwrap().node.eager_push, "single: off");
    }

    #[test]
    fn every_protocol_of_the_registry_is_accepted_by_name() {
        for p in Protocol::ALL {
            let mut s = SimParams::default();
            s.set("protocol", p.name()).expect("a registry name");
            if p.info().overlay {
                let e = s.to_config().expect_err("an overlay protocol without an overlay");
                assert_eq!(e.param, "protocol", "{e}");
                s.set("membership", "ring").expect("a membership");
            }
            assert_eq!(s.to_config().expect("valid").node.protocol, *p);
        }
        let e = SimParams::default().set("protocol", "telepathy").unwrap_err().to_string();
        for p in Protocol::ALL {
            assert!(e.contains(p.name()), "{e}");
        }
    }
}
