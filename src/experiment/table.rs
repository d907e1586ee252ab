//! The sweep's CSV: one row per run, a fixed header, RFC 4180 quoting; the
//! flattening of a run's JSON report into cells; and reading a sweep's CSV
//! back (for `--resume`, `merge`, the summary, the plots and `--baseline`).
//!
//! Columns, in order: `run` (the run's index in the whole sweep), `config`
//! (its configuration's index), every parameter of the table as
//! `SimParams` holds it (`preset` first, then the table's order: the
//! values `gossip sim` ran with, defaults included), then every scalar of
//! the JSON report of `gossip sim --json`, flattened with dots
//! (`detection.first_ms.mean`), sorted by name. Arrays (the coverage series)
//! and the report's `config` object (the parameters again) are left out;
//! a report key that is also a parameter's name is prefixed `report.`
//! (`report.engine`: the engine that ran, where the parameter says `auto`;
//! `report.latency_ms.p99`: the dissemination latency, where the parameter
//! `latency_ms` is the links').
//! Flattening is generic, so a new metric of the report becomes a column
//! with no edit here. `null` is an empty cell. Numbers are written as
//! serde_json writes them, so a cell is byte for byte the JSON's value.

use std::fmt::Write as _;

use serde_json::Value;

use super::SweepError;
use crate::sim::params::SimParams;
use crate::sim::table::TABLE;

/// The columns before the parameters.
pub const INDEX_COLUMNS: [&str; 2] = ["run", "config"];

/// The parameter columns: `preset`, then the table's names.
pub fn param_columns() -> Vec<&'static str> {
    std::iter::once("preset").chain(TABLE.iter().map(|p| p.name)).collect()
}

/// Whether column `name` holds a parameter.
pub fn is_param(name: &str) -> bool {
    name == "preset" || TABLE.iter().any(|p| p.name == name)
}

/// The parameter cells of `p`, in [`param_columns`] order.
pub fn param_cells(p: &SimParams) -> Vec<String> {
    std::iter::once(p.preset.clone().unwrap_or_default()).chain(TABLE.iter().map(|t| t.text(p))).collect()
}

/// The report's scalars as `(column, cell)` pairs, sorted by column.
pub fn flatten_report(report: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(map) = report {
        for (k, v) in map {
            if k == "config" {
                continue;
            }
            let name =
                if is_param(k) || INDEX_COLUMNS.contains(&k.as_str()) { format!("report.{k}") } else { k.clone() };
            flatten_into(&name, v, &mut out);
        }
    }
    // sorted whatever the map's order (serde_json's preserve_order feature)
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn flatten_into(name: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten_into(&format!("{name}.{k}"), v, out);
            }
        }
        Value::Array(_) => {} // a series, not a column
        Value::Null => out.push((name.to_owned(), String::new())),
        Value::String(s) => out.push((name.to_owned(), s.clone())),
        other => out.push((name.to_owned(), other.to_string())),
    }
}

/// Append `cells` as one CSV record (with its newline) to `out`.
pub fn write_record<S: AsRef<str>>(out: &mut String, cells: impl IntoIterator<Item = S>) {
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let c = c.as_ref();
        if c.contains([',', '"', '\n', '\r']) {
            let _ = write!(out, "\"{}\"", c.replace('"', "\"\""));
        } else {
            out.push_str(c);
        }
    }
    out.push('\n');
}

/// A parsed sweep CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Parse CSV `text`; `what` names the file in errors. Only whole
    /// records count: a last line without its newline (a write cut short)
    /// is dropped, and [`Table::parse_prefix`] says how many bytes were whole.
    pub fn parse(text: &str, what: &str) -> Result<Table, SweepError> {
        Ok(Table::parse_prefix(text, what)?.0)
    }

    /// [`Table::parse`], and the length of the text's whole records.
    pub fn parse_prefix(text: &str, what: &str) -> Result<(Table, usize), SweepError> {
        let mut records = Vec::new();
        let mut whole = 0;
        let (mut field, mut record) = (String::new(), Vec::new());
        let mut quoted = false;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if quoted {
                match c {
                    '"' if chars.peek().map(|p| p.1) == Some('"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    c => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.is_empty() => quoted = true,
                ',' => record.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    whole = i + 1;
                }
                c => field.push(c),
            }
        }
        let mut records = records.into_iter();
        let header = records.next().ok_or_else(|| SweepError::Input(format!("{what}: no header line")))?;
        let rows: Vec<Vec<String>> = records.collect();
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != header.len()) {
            return Err(SweepError::Input(format!(
                "{what}: line {} has {} cells, the header {}",
                i + 2,
                r.len(),
                header.len()
            )));
        }
        Ok((Table { header, rows }, whole))
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The text of the table, as the sweep writes it.
    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        write_record(&mut s, &self.header);
        for r in &self.rows {
            write_record(&mut s, r);
        }
        s
    }

    /// Each row's `run` cell as a number.
    pub fn run_indices(&self, what: &str) -> Result<Vec<u64>, SweepError> {
        let col = self.column("run").ok_or_else(|| SweepError::Input(format!("{what}: no \"run\" column")))?;
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r[col].parse().map_err(|_| SweepError::Input(format!("{what}: line {}: bad run {:?}", i + 2, r[col])))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_quoting() {
        let mut s = String::new();
        write_record(&mut s, ["a", "b,c", "say \"hi\"", ""]);
        write_record(&mut s, ["1", "2", "3", "4"]);
        assert_eq!(s, "a,\"b,c\",\"say \"\"hi\"\"\",\n1,2,3,4\n");
        let t = Table::parse(&s, "t").unwrap();
        assert_eq!(t.header, ["a", "b,c", "say \"hi\"", ""]);
        assert_eq!(t.to_csv(), s);
    }

    #[test]
    fn a_record_cut_short_is_not_counted() {
        let text = "run,x\n0,1\n1,2\n2,";
        let (t, whole) = Table::parse_prefix(text, "t").unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(&text[..whole], "run,x\n0,1\n1,2\n");
        assert!(Table::parse("run,x\n0\n", "f.csv").unwrap_err().to_string().contains("f.csv: line 2 has 1 cells"));
    }

    #[test]
    fn the_report_is_flattened_with_dots_and_without_series() {
        let v: Value = serde_json::json!({
            "nodes": 10, "residue": 0.0, "rounds_full": null, "stop_reason": "converged",
            "latency_ms": {"median": 3.5, "p99": null}, "coverage": [[0, 0.1]], "config": {"nodes": 10}
        });
        let cells = flatten_report(&v);
        let names: Vec<&str> = cells.iter().map(|c| c.0.as_str()).collect();
        // latency_ms is also a parameter (the links' latency)
        assert_eq!(
            names,
            [
                "report.latency_ms.median",
                "report.latency_ms.p99",
                "report.nodes",
                "residue",
                "rounds_full",
                "stop_reason"
            ]
        );
        let values: Vec<&str> = cells.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(values, ["3.5", "", "10", "0.0", "", "converged"]);
    }
}
