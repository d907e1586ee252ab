//! The summary of a sweep's CSV per configuration: for every numeric metric
//! its mean, standard deviation and 95 % confidence interval over the
//! seeds, and the failing runs with their seeds.
//!
//! It reads the CSV (not the runs in memory), so a resumed sweep, a merged
//! one and a baseline are summarized the same way. A run *fails* when an
//! update was lost (`lost_updates` above 0), when updates were made and
//! some live node never got them (`residue` above 0: no convergence), or
//! when the livelock guard ended it. SWIM runs make no update; their
//! detection metrics are summarized but none of them counts as a failure.

use std::fmt::Write as _;

use super::stats::Summary;
use super::table::{is_param, write_record, Table, INDEX_COLUMNS};

/// One configuration's rows.
#[derive(Clone, Debug)]
pub struct Group {
    /// The `config` cell.
    pub config: String,
    /// `(parameter, value)` of the parameters that differ between configurations.
    pub varied: Vec<(String, String)>,
    /// The parameter cells (every parameter column), the configuration's key.
    pub key: Vec<String>,
    /// Row indices in the table.
    pub rows: Vec<usize>,
    /// Seeds of the failing runs, with why.
    pub failures: Vec<(String, &'static str)>,
}

/// The columns of `t` that hold metrics: after the parameters, every cell
/// a number or empty, at least one a number.
pub fn numeric_metrics(t: &Table) -> Vec<usize> {
    (0..t.header.len())
        .filter(|&c| !is_param(&t.header[c]) && !INDEX_COLUMNS.contains(&t.header[c].as_str()))
        .filter(|&c| {
            t.rows.iter().all(|r| r[c].is_empty() || r[c].parse::<f64>().is_ok())
                && t.rows.iter().any(|r| !r[c].is_empty())
        })
        .collect()
}

/// The parameter columns of `t`, but the seed.
fn key_columns(t: &Table) -> Vec<usize> {
    (0..t.header.len()).filter(|&c| is_param(&t.header[c]) && t.header[c] != "seed").collect()
}

/// Why row `r` of `t` failed, if it did.
pub fn failure(t: &Table, r: &[String]) -> Option<&'static str> {
    let num = |name: &str| t.column(name).and_then(|c| r[c].parse::<f64>().ok());
    if t.column("stop_reason").is_some_and(|c| r[c] == "livelock-guard") {
        return Some("livelock guard");
    }
    if num("lost_updates").is_some_and(|v| v > 0.0) {
        return Some("lost updates");
    }
    if num("updates").is_some_and(|v| v > 0.0) && num("residue").is_some_and(|v| v > 0.0) {
        return Some("no convergence");
    }
    None
}

/// The rows of `t` grouped by configuration (the parameters but the seed),
/// in order of first appearance.
pub fn groups(t: &Table) -> Vec<Group> {
    let keys = key_columns(t);
    let seed = t.column("seed");
    let config = t.column("config");
    let mut out: Vec<Group> = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        let key: Vec<String> = keys.iter().map(|&c| r[c].clone()).collect();
        let g = match out.iter().position(|g| g.key == key) {
            Some(g) => g,
            None => {
                out.push(Group {
                    config: config.map_or_else(|| out.len().to_string(), |c| r[c].clone()),
                    varied: Vec::new(),
                    key,
                    rows: Vec::new(),
                    failures: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[g].rows.push(i);
        if let Some(why) = failure(t, r) {
            out[g].failures.push((seed.map_or_else(String::new, |c| r[c].clone()), why));
        }
    }
    // varied: the key columns whose values differ between groups
    for (k, &c) in keys.iter().enumerate() {
        if out.iter().any(|g| g.key[k] != out[0].key[k]) {
            for g in &mut out {
                let v = g.key[k].clone();
                g.varied.push((t.header[c].clone(), v));
            }
        }
    }
    out
}

/// The values of column `c` over `rows` (empty cells left out).
pub fn values(t: &Table, rows: &[usize], c: usize) -> Vec<f64> {
    rows.iter().filter_map(|&i| t.rows[i][c].parse::<f64>().ok()).collect()
}

/// The summary CSV: one row per configuration and metric (`config`, the
/// varied parameters, `metric`, `n`, `mean`, `sd`, `ci95_low`,
/// `ci95_high`, `failing_runs`, `failing_seeds`).
pub fn summary_csv(t: &Table) -> String {
    let gs = groups(t);
    let metrics = numeric_metrics(t);
    let mut s = String::new();
    let mut header = vec!["config".to_owned()];
    header.extend(gs.first().into_iter().flat_map(|g| g.varied.iter().map(|(k, _)| k.clone())));
    header.extend(
        ["metric", "n", "mean", "sd", "ci95_low", "ci95_high", "failing_runs", "failing_seeds"].map(String::from),
    );
    write_record(&mut s, &header);
    for g in &gs {
        let seeds: Vec<&str> = g.failures.iter().map(|f| f.0.as_str()).collect();
        for &c in &metrics {
            let sum = Summary::of(&values(t, &g.rows, c));
            let mut row = vec![g.config.clone()];
            row.extend(g.varied.iter().map(|(_, v)| v.clone()));
            row.push(t.header[c].clone());
            row.push(sum.n.to_string());
            for x in [sum.mean, sum.sd, sum.low(), sum.high()] {
                row.push(if x.is_finite() { format!("{x}") } else { String::new() });
            }
            row.push(g.failures.len().to_string());
            row.push(seeds.join(" "));
            write_record(&mut s, &row);
        }
    }
    s
}

/// The metrics the readable summary shows, where the sweep has them.
const SHOWN: [&str; 8] = [
    "rounds_full",
    "t_last_ms",
    "residue",
    "messages_per_node",
    "messages_per_update",
    "report.latency_ms.median",
    "reliability.mean",
    "detection.first_ms.mean",
];

/// The readable summary: a block per configuration with the shown metrics
/// as mean ± half-width of the interval, and the failing runs' seeds.
pub fn readable(t: &Table) -> String {
    let gs = groups(t);
    let shown: Vec<usize> =
        SHOWN.iter().filter_map(|m| t.column(m)).filter(|c| numeric_metrics(t).contains(c)).collect();
    let mut s = String::new();
    for g in &gs {
        let name: Vec<String> = g.varied.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            s,
            "config {}{}{}: {} runs, {} failing{}",
            g.config,
            if name.is_empty() { "" } else { " " },
            name.join(" "),
            g.rows.len(),
            g.failures.len(),
            if g.failures.is_empty() {
                String::new()
            } else {
                let list: Vec<String> =
                    g.failures.iter().take(20).map(|(seed, why)| format!("{seed} ({why})")).collect();
                format!(" (seeds {}{})", list.join(", "), if g.failures.len() > 20 { ", ..." } else { "" })
            }
        );
        let cells: Vec<String> = shown
            .iter()
            .filter_map(|&c| {
                let sum = Summary::of(&values(t, &g.rows, c));
                (sum.n > 0).then(|| format!("{} {} ± {}", t.header[c], num(sum.mean), num(sum.half_width)))
            })
            .collect();
        if !cells.is_empty() {
            let _ = writeln!(s, "  {}", cells.join(", "));
        }
    }
    s
}

/// A number with four significant digits.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[[&str; 7]]) -> Table {
        let header = ["run", "config", "fanout", "seed", "lost_updates", "updates", "residue"];
        let mut s = String::new();
        write_record(&mut s, header);
        for r in rows {
            write_record(&mut s, r);
        }
        Table::parse(&s, "t").unwrap()
    }

    #[test]
    fn groups_follow_the_parameters_and_failures_name_their_seeds() {
        let t = table(&[
            ["0", "0", "1", "1", "0", "1", "0.0"],
            ["1", "0", "1", "2", "1", "1", "0.5"],
            ["2", "1", "2", "1", "0", "1", "0.0"],
            ["3", "1", "2", "2", "0", "1", "0.0"],
        ]);
        let gs = groups(&t);
        assert_eq!(gs.len(), 2);
        assert_eq!(gs[0].varied, vec![("fanout".to_owned(), "1".to_owned())]);
        assert_eq!(gs[0].failures, vec![("2".to_owned(), "lost updates")]);
        assert!(gs[1].failures.is_empty());
        let csv = summary_csv(&t);
        let st = Table::parse(&csv, "s").unwrap();
        let row = st.rows.iter().find(|r| r[0] == "0" && r[2] == "residue").unwrap();
        assert_eq!(&row[3..5], ["2", "0.25"]);
        assert_eq!(row[9], "2");
        assert!(readable(&t).contains("config 0 fanout=1: 2 runs, 1 failing (seeds 2 (lost updates))"));
    }
}
