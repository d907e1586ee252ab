//! What a sweep runs: the varied parameters (`--vary fanout=1,2,3`,
//! `--vary loss=0:0.2:0.05`), their product, times the seeds, and a shard's
//! share of it.
//!
//! Every value goes through [`SimParams::from_pairs`] and
//! [`SimParams::to_config`], and every configuration through the same
//! "does this flag apply" checks as `gossip sim`, before anything runs: a
//! value `gossip sim` refuses is refused here, naming the configuration.
//! Configurations are the product of the `--vary` lists in the order given,
//! the last one changing fastest; runs are the configurations times the
//! seeds (`--seed`, `--seed + 1`, ...), a configuration's seeds together;
//! run `i` belongs to shard `i mod N` (one-based on the command line),
//! which spreads every configuration over the shards.

use std::fmt;

use super::SweepError;
use crate::sim::params::SimParams;
use crate::sim::table;
use crate::sim::SimConfig;

/// One `--vary NAME=VALUES`: a parameter and its values, as text.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// The parameter's name in the table (or `preset`).
    pub name: &'static str,
    /// Its values, in order.
    pub values: Vec<String>,
}

impl Vary {
    /// Parse `NAME=V1,V2,...` (`;` separates instead when the spec has one:
    /// `faults=;5s:partition:2,10s:heal`), `NAME=FROM:TO` (whole steps of 1)
    /// or `NAME=FROM:TO:STEP` (both ends included). The name is the table's
    /// (`interval_ms`) or the flag's (`interval-ms`, `fault`).
    pub fn parse(spec: &str) -> Result<Vary, SweepError> {
        let bad = |why: String| SweepError::Input(format!("--vary {spec}: {why}"));
        let (name, values) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=VALUES, e.g. fanout=1,2,3 or loss=0:0.2:0.05".into()))?;
        let name = name.trim();
        let name: &'static str = if name == "preset" {
            "preset"
        } else {
            table::TABLE
                .iter()
                .find(|p| p.name == name || p.flag == name)
                .map(|p| p.name)
                .ok_or_else(|| bad(format!("unknown parameter {name:?}; known: {}", table::names().join(", "))))?
        };
        if name == "seed" {
            return Err(bad("the seeds are --seed (the first) and --seeds (how many), not a --vary".into()));
        }
        let values = if values.contains(';') {
            values.split(';').map(|v| v.trim().to_owned()).collect()
        } else if values.contains(':') && !matches!(name, "faults" | "preset") {
            range(values).map_err(|e| bad(e.to_string()))?
        } else {
            values.split(',').map(|v| v.trim().to_owned()).collect::<Vec<_>>()
        };
        if values.is_empty() || values.iter().all(String::is_empty) && name != "faults" {
            return Err(bad("no values".into()));
        }
        Ok(Vary { name, values })
    }
}

/// Why a `FROM:TO[:STEP]` range gives no values (after `--vary NAME=...: `).
#[derive(Clone, Debug, PartialEq)]
pub enum RangeError {
    /// A bound or the step is not a finite number.
    NotANumber(String),
    /// Not two or three numbers.
    Shape,
    /// The step is 0 or below.
    Step(f64),
    /// `TO` is below `FROM`.
    Empty {
        /// The start.
        from: f64,
        /// The end.
        to: f64,
    },
    /// More values than a sweep takes.
    TooMany(u64),
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeError::NotANumber(s) => write!(f, "{s:?} is not a number"),
            RangeError::Shape => f.write_str("a range is FROM:TO or FROM:TO:STEP"),
            RangeError::Step(step) => write!(f, "the step must be above 0, got {step}"),
            RangeError::Empty { from, to } => write!(f, "empty range: {to} is below {from}"),
            RangeError::TooMany(count) => write!(f, "{count} values; at most {MAX_RANGE}"),
        }
    }
}

impl std::error::Error for RangeError {}

/// The most values a range gives.
const MAX_RANGE: u64 = 100_000;

/// The values of `FROM:TO[:STEP]`, written with as many decimals as the
/// three numbers have (`0:0.2:0.05` gives 0, 0.05, 0.1, 0.15, 0.2, with no
/// binary-fraction residue such as 0.15000000000000002).
fn range(spec: &str) -> Result<Vec<String>, RangeError> {
    let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| RangeError::NotANumber(s.into()));
    let (from, to, step) = match parts.as_slice() {
        [a, b] => (num(a)?, num(b)?, 1.0),
        [a, b, s] => (num(a)?, num(b)?, num(s)?),
        _ => return Err(RangeError::Shape),
    };
    if step <= 0.0 {
        return Err(RangeError::Step(step));
    }
    if to < from {
        return Err(RangeError::Empty { from, to });
    }
    let decimals = parts.iter().map(|p| p.split_once('.').map_or(0, |(_, d)| d.len())).max().unwrap_or(0);
    let count = ((to - from) / step + 1e-9).floor() as u64 + 1;
    if count > MAX_RANGE {
        return Err(RangeError::TooMany(count));
    }
    Ok((0..count)
        .map(|k| {
            let v = from + k as f64 * step;
            let s = format!("{v:.decimals$}");
            if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            } else {
                s
            }
        })
        .collect())
}

/// A configuration: the varied values that make it, and its parameters
/// (seed: the first).
#[derive(Clone, Debug)]
pub struct Setting {
    /// `(name, value)` of each varied parameter.
    pub varied: Vec<(&'static str, String)>,
    /// The parameters.
    pub params: SimParams,
}

/// One run of the sweep.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its index in the whole sweep.
    pub index: u64,
    /// Its configuration's index.
    pub config: usize,
    /// Its parameters (the seed its own).
    pub params: SimParams,
    /// What `gossip sim` runs for them.
    pub sim: SimConfig,
}

/// `--shard I/N`: the runs whose index is `I - 1` modulo `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Zero-based.
    pub index: u64,
    /// How many.
    pub count: u64,
}

impl Shard {
    /// Parse `I/N`, 1 <= I <= N.
    pub fn parse(s: &str) -> Result<Shard, SweepError> {
        let bad = || SweepError::Input(format!("--shard {s}: expected I/N with 1 <= I <= N, e.g. 1/4"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (u64, u64) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if i == 0 || n == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard { index: i - 1, count: n })
    }

    /// Whether run `i` is this shard's.
    pub fn owns(&self, i: u64) -> bool {
        i % self.count == self.index
    }
}

/// The whole sweep.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Its configurations, in order.
    pub settings: Vec<Setting>,
    /// Seeds per configuration.
    pub seeds: u64,
    /// The first seed.
    pub first_seed: u64,
}

/// A check that the parameters named apply to a configuration (`gossip
/// sim`'s: a flag the protocol does not read is refused, with why).
pub type CheckGiven = fn(&[&str], &SimConfig) -> Result<(), crate::sim::ParamError>;

/// What a sweep is made from: the fixed parameters as `gossip sim` takes
/// them, the varied ones, and the seeds.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// `(name, text)` of each parameter given on the command line (or a
    /// preset as `("preset", NAME)`), as [`SimParams::from_pairs`] reads them.
    pub given: Vec<(&'static str, String)>,
    /// `--partition`: add its fault timeline.
    pub partition: bool,
    /// The `--vary` lists.
    pub vary: Vec<Vary>,
    /// Seeds per configuration.
    pub seeds: u64,
    /// Checks that a parameter given applies to a configuration
    /// (`gossip sim`'s: a flag the protocol does not read is refused).
    pub check_given: Option<CheckGiven>,
}

/// At most this many runs in one sweep.
pub const MAX_RUNS: u64 = 10_000_000;

impl Spec {
    /// The plan, every configuration checked.
    pub fn plan(&self) -> Result<Plan, SweepError> {
        if self.seeds == 0 {
            return Err(SweepError::Input("--seeds must be at least 1".into()));
        }
        for (i, v) in self.vary.iter().enumerate() {
            if self.vary[..i].iter().any(|w| w.name == v.name) {
                return Err(SweepError::Input(format!("--vary {}: given twice", v.name)));
            }
            if self.given.iter().any(|(k, _)| *k == v.name) {
                return Err(SweepError::Input(format!(
                    "{} is both a flag and a --vary: keep one",
                    table::flag_of(v.name)
                )));
            }
        }
        let configs: u64 =
            self.vary.iter().map(|v| v.values.len() as u64).try_fold(1u64, |a, b| a.checked_mul(b)).unwrap_or(u64::MAX);
        if configs.saturating_mul(self.seeds) > MAX_RUNS {
            return Err(SweepError::Input(format!(
                "{configs} configurations x {} seeds is more than {MAX_RUNS} runs",
                self.seeds
            )));
        }
        let names: Vec<&str> = self.given.iter().map(|(k, _)| *k).chain(self.vary.iter().map(|v| v.name)).collect();
        let mut settings = Vec::with_capacity(configs as usize);
        for c in 0..configs {
            // the last --vary changes fastest
            let mut rest = c;
            let mut varied = vec![("", String::new()); self.vary.len()];
            for (pair, v) in varied.iter_mut().zip(&self.vary).rev() {
                let k = (rest % v.values.len() as u64) as usize;
                rest /= v.values.len() as u64;
                *pair = (v.name, v.values[k].clone());
            }
            let what = || {
                if varied.is_empty() {
                    String::new()
                } else {
                    let pairs: Vec<String> = varied.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("configuration {}: ", pairs.join(" "))
                }
            };
            let pairs =
                self.given.iter().map(|(k, v)| (*k, v.as_str())).chain(varied.iter().map(|(k, v)| (*k, v.as_str())));
            let params = SimParams::from_pairs(pairs)
                .and_then(|mut p| {
                    if self.partition {
                        p.faults.extend(SimParams::partition_faults());
                    }
                    p.to_config().map(|_| p)
                })
                .map_err(|e| SweepError::Input(format!("{}{}", what(), e.cli_message())))?;
            let cfg = params.to_config().map_err(|e| SweepError::Input(format!("{}{}", what(), e.cli_message())))?;
            if let Some(check) = self.check_given {
                check(&names, &cfg).map_err(|e| SweepError::Input(format!("{}{e}", what())))?;
            }
            settings.push(Setting { varied, params });
        }
        let first_seed = settings.first().map_or(1, |s| s.params.seed);
        if first_seed.checked_add(self.seeds - 1).is_none() {
            return Err(SweepError::Input(format!("--seed {first_seed} + --seeds {} overflows", self.seeds)));
        }
        Ok(Plan { settings, seeds: self.seeds, first_seed })
    }
}

impl Plan {
    /// Runs in the whole sweep.
    pub fn total(&self) -> u64 {
        self.settings.len() as u64 * self.seeds
    }

    /// Run `i` of the sweep.
    pub fn run(&self, i: u64) -> Run {
        let config = (i / self.seeds) as usize;
        let mut params = self.settings[config].params.clone();
        params.seed = self.first_seed + i % self.seeds;
        let sim = params.to_config().expect("checked when planned; the seed changes no rule");
        Run { index: i, config, params, sim }
    }

    /// The indices of a shard's runs (all of them without a shard), in order.
    pub fn indices(&self, shard: Option<Shard>) -> Vec<u64> {
        (0..self.total()).filter(|&i| shard.is_none_or(|s| s.owns(i))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(spec: &str) -> Vec<String> {
        Vary::parse(spec).unwrap().values
    }

    #[test]
    fn lists_and_ranges_expand_to_exact_text() {
        assert_eq!(values("fanout=1,2,3"), ["1", "2", "3"]);
        assert_eq!(values("loss=0:0.2:0.05"), ["0", "0.05", "0.1", "0.15", "0.2"]);
        assert_eq!(values("nodes=100:400:100"), ["100", "200", "300", "400"]);
        assert_eq!(values("ttl=1:3"), ["1", "2", "3"]);
        assert_eq!(Vary::parse("interval-ms=10,20").unwrap().name, "interval_ms");
        assert_eq!(Vary::parse("fault=;5s:partition:2,10s:heal").unwrap().values, ["", "5s:partition:2,10s:heal"]);
    }

    #[test]
    fn bad_vary_specs_say_what_is_wrong() {
        for (spec, needle) in [
            ("colour=1,2", "unknown parameter \"colour\""),
            ("loss=0.2:0:0.05", "empty range"),
            ("loss=0:1:0", "step must be above 0"),
            ("fanout", "expected NAME=VALUES"),
            ("fanout=", "no values"),
            ("seed=1,2", "--seeds"),
            ("loss=a:b", "not a number"),
        ] {
            let e = Vary::parse(spec).unwrap_err().to_string();
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn shards_are_one_based_and_partition_the_runs() {
        assert!(Shard::parse("3/2").is_err());
        assert!(Shard::parse("0/2").is_err());
        assert!(Shard::parse("1/0").is_err());
        let spec = Spec { vary: vec![Vary::parse("fanout=1,2,3").unwrap()], seeds: 5, ..Spec::default() };
        let plan = spec.plan().unwrap();
        let mut all: Vec<u64> =
            (1..=4).flat_map(|i| plan.indices(Some(Shard::parse(&format!("{i}/4")).unwrap()))).collect();
        all.sort_unstable();
        assert_eq!(all, plan.indices(None));
        assert_eq!(all.len(), 15);
    }

    #[test]
    fn the_last_vary_changes_fastest_and_seeds_are_consecutive() {
        let spec = Spec {
            given: vec![("seed", "10".into()), ("nodes", "50".into())],
            vary: vec![Vary::parse("fanout=1,2").unwrap(), Vary::parse("loss=0,0.1").unwrap()],
            seeds: 3,
            ..Spec::default()
        };
        let plan = spec.plan().unwrap();
        let varied: Vec<String> =
            plan.settings.iter().map(|s| format!("{}/{}", s.varied[0].1, s.varied[1].1)).collect();
        assert_eq!(varied, ["1/0", "1/0.1", "2/0", "2/0.1"]);
        let r = plan.run(7);
        assert_eq!((r.config, r.params.seed, r.params.fanout, r.params.loss, r.params.nodes), (2, 11, 2, 0.0, 50));
    }

    #[test]
    fn a_value_gossip_sim_refuses_is_refused_naming_the_configuration() {
        let spec = Spec { vary: vec![Vary::parse("fanout=1,0").unwrap()], seeds: 1, ..Spec::default() };
        let e = spec.plan().unwrap_err().to_string();
        assert!(e.contains("configuration fanout=0") && e.contains("--fanout"), "{e}");
        let spec = Spec {
            given: vec![("fanout", "2".into())],
            vary: vec![Vary::parse("fanout=1,2").unwrap()],
            seeds: 1,
            ..Spec::default()
        };
        assert!(spec.plan().unwrap_err().to_string().contains("both a flag and a --vary"));
    }
}
