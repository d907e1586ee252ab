//! Regression against a baseline: a sweep's CSV against an older one of the
//! same sweep (`--baseline OLD.csv`), per configuration and metric, the
//! change of the mean and whether it is significant (Welch's t over the
//! seeds, two-sided, 5 %).
//!
//! The two files must have the same columns (a baseline from another
//! sweep, or from before a metric was added, is refused: re-record it).
//! Configurations are matched by their parameters (all but the seed).
//! A *regression* is a significant change for the worse of a gated
//! metric: more lost updates, more residue (no convergence), slower
//! convergence (`rounds_full`, `t_last_ms`), or more failing runs
//! (compared as a 0/1 per seed). The deterministic simulator gives the same
//! rows for the same code, so a baseline compared with itself shows no
//! change at all.

use std::fmt::Write as _;

use super::stats::{Summary, Welch};
use super::summary::{failure, groups, num, numeric_metrics, values};
use super::table::Table;
use super::SweepError;

/// The metrics whose significant rise fails the comparison.
pub const GATED: [&str; 4] = ["lost_updates", "residue", "rounds_full", "t_last_ms"];

/// Significance level.
pub const ALPHA: f64 = 0.05;

/// One metric of one configuration, old against new.
#[derive(Clone, Debug)]
pub struct Change {
    /// The configuration's name (its varied parameters, or its index).
    pub config: String,
    /// The metric.
    pub metric: String,
    /// Old and new summaries.
    pub old: Summary,
    /// New.
    pub new: Summary,
    /// The test, when both sides have two values or more.
    pub welch: Option<Welch>,
    /// Whether the change is significant at [`ALPHA`].
    pub significant: bool,
    /// Whether it is a significant rise of a gated metric.
    pub regression: bool,
}

/// The comparison.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// Every metric of every configuration found in both.
    pub changes: Vec<Change>,
    /// Configurations of the new sweep that the baseline lacks.
    pub unmatched: Vec<String>,
}

/// Refuse a baseline whose columns are not `header`'s.
pub fn check_columns(old: &Table, header: &[String], what: &str) -> Result<(), SweepError> {
    if old.header == header {
        return Ok(());
    }
    let missing: Vec<&str> = header.iter().filter(|h| !old.header.contains(h)).map(String::as_str).collect();
    let extra: Vec<&str> = old.header.iter().filter(|h| !header.contains(h)).map(String::as_str).collect();
    let why = if missing.is_empty() && extra.is_empty() {
        "the same columns in another order".to_owned()
    } else {
        let list = |v: &[&str]| if v.is_empty() { "none".to_owned() } else { v.join(" ") };
        format!("it lacks {}; it has besides {}", list(&missing), list(&extra))
    };
    Err(SweepError::Input(format!("{what} has other columns than this sweep ({why}): re-record the baseline")))
}

/// Compare `new` with `old` (same columns).
pub fn compare(old: &Table, new: &Table) -> Comparison {
    let (og, ng) = (groups(old), groups(new));
    let metrics = numeric_metrics(new);
    let mut out = Comparison::default();
    for g in &ng {
        let name = if g.varied.is_empty() {
            format!("config {}", g.config)
        } else {
            g.varied.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        };
        let Some(o) = og.iter().find(|o| o.key == g.key) else {
            out.unmatched.push(name);
            continue;
        };
        let fails = |t: &Table, rows: &[usize]| -> Vec<f64> {
            rows.iter().map(|&i| f64::from(u8::from(failure(t, &t.rows[i]).is_some()))).collect()
        };
        let mut series: Vec<(String, Vec<f64>, Vec<f64>)> = metrics
            .iter()
            .map(|&c| (new.header[c].clone(), values(old, &o.rows, c), values(new, &g.rows, c)))
            .collect();
        series.push(("failing_runs".into(), fails(old, &o.rows), fails(new, &g.rows)));
        for (metric, a, b) in series {
            let (so, sn) = (Summary::of(&a), Summary::of(&b));
            let welch = Welch::test(&a, &b);
            let significant = welch.is_some_and(|w| w.p < ALPHA);
            let gated = GATED.contains(&metric.as_str()) || metric == "failing_runs";
            let regression = significant && gated && sn.mean > so.mean;
            out.changes.push(Change { config: name.clone(), metric, old: so, new: sn, welch, significant, regression });
        }
    }
    out
}

impl Comparison {
    /// Whether a gated metric regressed.
    pub fn regressed(&self) -> bool {
        self.changes.iter().any(|c| c.regression)
    }

    /// The report: a line per configuration and metric (old mean, new
    /// mean, change, p, and `significant` / `REGRESSION`), then a verdict.
    pub fn readable(&self) -> String {
        let mut s = String::new();
        let mut last = "";
        for c in &self.changes {
            if c.config != last {
                let _ = writeln!(s, "{}:", c.config);
                last = &c.config;
            }
            let change = if c.old.mean == c.new.mean {
                "no change".to_owned()
            } else if c.old.mean != 0.0 && c.old.mean.is_finite() {
                format!("{:+.1} %", (c.new.mean - c.old.mean) / c.old.mean.abs() * 100.0)
            } else {
                format!("{:+}", num(c.new.mean - c.old.mean))
            };
            let p = c.welch.map_or("p -".to_owned(), |w| format!("p {:.3}", w.p));
            let mark = if c.regression {
                "  REGRESSION"
            } else if c.significant {
                "  significant"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "  {:<32} {:>12} -> {:<12} {:<12} {p}{mark}",
                c.metric,
                num(c.old.mean),
                num(c.new.mean),
                change
            );
        }
        for u in &self.unmatched {
            let _ = writeln!(s, "{u}: not in the baseline");
        }
        let regressions: Vec<String> =
            self.changes.iter().filter(|c| c.regression).map(|c| format!("{} {}", c.config, c.metric)).collect();
        let significant = self.changes.iter().filter(|c| c.significant).count();
        if regressions.is_empty() {
            let _ = writeln!(
                s,
                "baseline: no significant regression of {} or failing runs ({significant} significant changes)",
                GATED.join(", ")
            );
        } else {
            let _ = writeln!(s, "baseline: significant regression in {}", regressions.join("; "));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::table::write_record;

    fn sweep(lost: &[[u32; 4]]) -> Table {
        let mut s = String::new();
        write_record(&mut s, ["run", "config", "fanout", "seed", "lost_updates", "updates", "t_last_ms"]);
        let mut run = 0;
        for (c, row) in lost.iter().enumerate() {
            for (seed, l) in row.iter().enumerate() {
                let t = 1000 + 10 * seed as u32;
                write_record(
                    &mut s,
                    [
                        run.to_string(),
                        c.to_string(),
                        (c + 1).to_string(),
                        seed.to_string(),
                        l.to_string(),
                        "1".into(),
                        t.to_string(),
                    ],
                );
                run += 1;
            }
        }
        Table::parse(&s, "t").unwrap()
    }

    #[test]
    fn a_sweep_against_itself_changes_nothing() {
        let t = sweep(&[[0, 1, 0, 0], [0, 0, 0, 0]]);
        let c = compare(&t, &t);
        assert!(!c.regressed());
        assert!(c.changes.iter().all(|c| !c.significant));
        assert!(c.readable().contains("no significant regression"));
    }

    #[test]
    fn a_rise_in_lost_updates_over_every_seed_is_a_regression_and_a_fall_is_not() {
        let old = sweep(&[[0, 0, 0, 0], [1, 1, 1, 1]]);
        let new = sweep(&[[1, 1, 1, 1], [0, 0, 0, 0]]);
        let c = compare(&old, &new);
        let regressions: Vec<(&str, &str)> =
            c.changes.iter().filter(|c| c.regression).map(|c| (c.config.as_str(), c.metric.as_str())).collect();
        assert_eq!(regressions, [("fanout=1", "lost_updates"), ("fanout=1", "failing_runs")]);
        assert!(c.readable().contains("REGRESSION"));
        // one unlucky seed out of four is within chance
        let c = compare(&sweep(&[[0, 0, 0, 0], [0, 0, 0, 0]]), &sweep(&[[0, 0, 0, 1], [0, 0, 0, 0]]));
        assert!(!c.regressed());
    }

    #[test]
    fn a_baseline_with_other_columns_is_refused() {
        let t = sweep(&[[0, 0, 0, 0]]);
        let mut other = t.header.clone();
        other[6] = "t_avg_ms".into();
        let e = check_columns(&t, &other, "old.csv").unwrap_err().to_string();
        assert!(
            e.contains("old.csv has other columns") && e.contains("lacks t_avg_ms") && e.contains("besides t_last_ms"),
            "{e}"
        );
    }
}
