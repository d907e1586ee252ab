//! What `gossip check` reports: the failing seeds, and for each shrunk one
//! its minimal schedule as a `gossip sim` command and a lab link that
//! replay it exactly (every parameter that differs from `gossip sim`'s
//! defaults, the seed and the fault timeline), as text or as one JSON
//! object (`--json`).

use std::fmt::Write;

use serde::Serialize;

use super::property::{Bounds, Violation};
use super::schedule::{Kind, Schedule};
use super::shrink::Shrunk;
use super::Plan;
use crate::sim::params::SimParams;
use crate::sim::table::flag_of;

/// Where the lab page is served unless told (`gossip cluster --www` and
/// `scripts/demo.sh` serve it there).
pub const DEFAULT_LAB_URL: &str = "http://127.0.0.1:8080/";

/// A seed whose run broke a property.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failing {
    /// The seed (of the schedule and of the run).
    pub seed: u64,
    /// Faults in its drawn schedule.
    pub faults: usize,
    /// What broke.
    pub violations: Vec<Violation>,
}

/// A failing seed's schedule, shrunk, and how to replay it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Counterexample {
    /// The seed.
    pub seed: u64,
    /// Faults in the drawn schedule.
    pub faults_before: usize,
    /// The shrunk schedule's faults (start, length and what).
    pub schedule: Schedule,
    /// The shrunk schedule as `gossip sim --fault` values.
    pub timeline: Vec<String>,
    /// Candidates run while shrinking.
    pub shrink_runs: usize,
    /// Whether shrinking stopped at its run budget (`--shrink-runs`).
    pub shrink_capped: bool,
    /// What the shrunk run broke.
    pub violations: Vec<Violation>,
    /// The `gossip sim` command that replays it.
    pub command: String,
    /// The lab link that replays it (without the base URL: [`Counterexample::lab`]).
    #[serde(skip)]
    fragment: String,
}

impl Counterexample {
    /// The counterexample of `seed`, shrunk from `faults_before` faults.
    pub fn new(plan: &Plan, seed: u64, faults_before: usize, shrunk: Shrunk, violations: Vec<Violation>) -> Self {
        let params = plan.params_for(seed, &shrunk.schedule);
        Counterexample {
            seed,
            faults_before,
            timeline: params.faults.clone(),
            schedule: shrunk.schedule,
            shrink_runs: shrunk.runs,
            shrink_capped: shrunk.capped,
            violations,
            command: sim_command(&params),
            fragment: lab_fragment(&params),
        }
    }

    /// The lab link on the page served at `base`.
    pub fn lab(&self, base: &str) -> String {
        format!("{}#{}", base.trim_end_matches('#'), self.fragment)
    }
}

/// The whole result of a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    /// The system under test as `gossip sim` flags (seed and faults aside).
    pub system: String,
    /// The first seed.
    pub first_seed: u64,
    /// How many seeds ran.
    pub seeds: u64,
    /// The kinds of fault drawn.
    pub kinds: Vec<Kind>,
    /// Mean time between fault starts, ms.
    pub mean_interval_ms: u64,
    /// Faults start and heal inside `0..window_ms`, the update window.
    pub window_ms: u64,
    /// The quiet period after it, ms.
    pub quiet_ms: u64,
    /// The property bounds.
    pub bounds: Bounds,
    /// Seeds that broke no property.
    pub passed: u64,
    /// Seeds that broke one, in seed order.
    pub failing: Vec<Failing>,
    /// The first failing seeds, shrunk (`--shrink`).
    pub counterexamples: Vec<Counterexample>,
}

impl CheckReport {
    /// The report of `plan`'s check.
    pub fn new(plan: &Plan, failing: Vec<Failing>, counterexamples: Vec<Counterexample>) -> Self {
        CheckReport {
            system: flags(&plan.params, false).join(" "),
            first_seed: plan.params.seed,
            seeds: plan.options.seeds,
            kinds: plan.options.kinds.clone(),
            mean_interval_ms: plan.options.mean_interval_ms,
            window_ms: plan.space.window_ms,
            quiet_ms: plan.quiet_ms(),
            bounds: plan.options.bounds,
            passed: plan.options.seeds - failing.len() as u64,
            failing,
            counterexamples,
        }
    }

    /// Whether every seed passed.
    pub fn ok(&self) -> bool {
        self.failing.is_empty()
    }

    /// The report as one JSON object, lab links on `lab_base`.
    pub fn json(&self, lab_base: &str) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(list) = v.get_mut("counterexamples").and_then(|c| c.as_array_mut()) {
            for (c, ce) in list.iter_mut().zip(&self.counterexamples) {
                c["lab"] = serde_json::Value::String(ce.lab(lab_base));
            }
        }
        v["ok"] = serde_json::Value::Bool(self.ok());
        v
    }

    /// The readable report, lab links on `lab_base`.
    pub fn text(&self, lab_base: &str) -> String {
        let mut s = String::new();
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.name()).collect();
        let last = self.first_seed + self.seeds - 1;
        let _ = writeln!(s, "gossip check: seeds {}..={last} of: gossip sim {}", self.first_seed, self.system);
        let _ = writeln!(
            s,
            "  faults: {} every {} ms on average, healed inside the {} ms update window; then {} ms quiet",
            kinds.join(", "),
            self.mean_interval_ms,
            self.window_ms,
            self.quiet_ms
        );
        let _ = writeln!(
            s,
            "  properties: no lost update at the end; every update at every live node within {} ms of the later \
             of its creation and the last heal; {}",
            self.bounds.converge_within_ms,
            self.bounds.budget.map_or("no message budget".into(), |b| format!("at most {b} messages per update"))
        );
        if self.ok() {
            let _ = writeln!(s, "  passed: all {} seeds", self.seeds);
            return s;
        }
        let seeds: Vec<String> = self.failing.iter().map(|f| f.seed.to_string()).collect();
        let _ = writeln!(s, "  FAILED: {} of {} seeds: {}", self.failing.len(), self.seeds, seeds.join(", "));
        for c in &self.counterexamples {
            let broke: Vec<&str> = c.violations.iter().map(|v| v.property.name()).collect();
            let to = match c.schedule.faults.len() {
                0 => "none (it fails without any fault)".to_owned(),
                n => n.to_string(),
            };
            let _ = writeln!(
                s,
                "\nseed {}: broke {}; shrunk from {} faults to {to} in {} runs{}",
                c.seed,
                broke.join(", "),
                c.faults_before,
                c.shrink_runs,
                if c.shrink_capped { " (stopped at --shrink-runs)" } else { "" }
            );
            for v in &c.violations {
                let _ = writeln!(s, "  {}: {}", v.property.name(), v.detail);
            }
            let _ =
                writeln!(s, "  faults: {}", if c.timeline.is_empty() { "none".into() } else { c.timeline.join(" ") });
            let _ = writeln!(s, "  replay: {}", c.command);
            let _ = writeln!(s, "  lab:    {}", c.lab(lab_base));
        }
        s
    }
}

/// `params` as `gossip sim` flags: every value that differs from the
/// defaults (or the preset's), each fault its own `--fault`, quoted for a
/// POSIX shell where needed; the seed always (`seed: true`) or never.
fn flags(params: &SimParams, seed: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in pairs(params, seed) {
        if name == "faults" {
            for f in &params.faults {
                out.push(format!("{} {}", flag_of(name), shell_word(f)));
            }
        } else {
            let value = if value.is_empty() { "none".to_owned() } else { value };
            out.push(format!("{} {}", flag_of(name), shell_word(&value)));
        }
    }
    out
}

/// `params` as `(name, text)` pairs ([`SimParams::to_pairs`]), with the
/// seed after the preset even when it is the default (`seed: true`), or
/// without it.
fn pairs(params: &SimParams, seed: bool) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&str, String)> = params.to_pairs().into_iter().filter(|(k, _)| *k != "seed").collect();
    if seed {
        let at = pairs.iter().position(|(k, _)| *k != "preset").unwrap_or(pairs.len());
        pairs.insert(at, ("seed", params.seed.to_string()));
    }
    pairs
}

/// The `gossip sim` command that runs `params`.
pub fn sim_command(params: &SimParams) -> String {
    std::iter::once("gossip sim".to_owned()).chain(flags(params, true)).collect::<Vec<_>>().join(" ")
}

/// `word` as one POSIX shell word.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_.,:/=+-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The lab page's URL fragment for `params`, as the page writes its own
/// (`name=value` pairs, `encodeURIComponent` with `:` and `,` left plain).
fn lab_fragment(params: &SimParams) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.!~*'():,".contains(&b) {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    };
    pairs(params, true).iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_quotes_what_a_shell_would_read_otherwise() {
        let mut p = SimParams::from_pairs([("protocol", "rumor"), ("nodes", "20")]).unwrap();
        p.faults = vec!["100:block:0-4>5-9".into(), "200:unblock:0-4>5-9".into()];
        assert_eq!(
            sim_command(&p),
            "gossip sim --seed 1 --nodes 20 --protocol rumor --fault '100:block:0-4>5-9' --fault '200:unblock:0-4>5-9'"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_lab_fragment_reads_back_to_the_same_parameters() {
        let mut p = SimParams::from_pairs([("preset", "glomers"), ("anti_entropy_ms", "off"), ("seed", "42")]).unwrap();
        p.faults = vec!["0:partition:2".into(), "1250:heal".into(), "3:block:0-4>5-9".into()];
        let frag = lab_fragment(&p);
        assert!(frag.starts_with("preset=glomers&seed=42&"), "{frag}");
        assert!(frag.contains("faults=0:partition:2,1250:heal,3:block:0-4%3E5-9"), "{frag}");
        // as the page's paramsFromHash reads it: split on &, then on the first =, then decode
        let decode = |s: &str| {
            let mut out = Vec::new();
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        let pairs: Vec<(String, String)> =
            frag.split('&').map(|kv| kv.split_once('=').unwrap()).map(|(k, v)| (decode(k), decode(v))).collect();
        let back = SimParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.anti_entropy_ms, None);
    }
}
