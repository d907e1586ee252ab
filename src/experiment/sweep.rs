//! The sweep driver: run a plan's runs (or a shard's share) in parallel,
//! stream one CSV row per run in run order, resume an interrupted file,
//! merge shards, and write the summary and the figures next to the CSV.
//!
//! The header holds every metric any configuration reports, so it must be
//! known before the first row: the first seed of every configuration runs
//! first (its *probe*), and the header is the union of their keys, sorted.
//! Without a shard the probes are rows of the sweep anyway; a shard runs
//! the other shards' probes too (one run per configuration), which makes
//! every shard's header the same. A later run that reports a key its
//! configuration's probe did not is an error, never a silently dropped
//! metric. Rows are flushed one by one: an interrupted sweep keeps every
//! finished row, and `--resume` checks the rows it finds against the plan,
//! drops a last line cut short, and runs the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use super::plan::{Plan, Shard};
use super::runner::{run_in_order, JobPanic};
use super::table::{self, write_record, Table, INDEX_COLUMNS};
use super::{baseline, plot, summary, RunFailure, SweepError};
use crate::sim;

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct Options {
    /// The CSV.
    pub out: PathBuf,
    /// Continue `out` rather than refuse it.
    pub resume: bool,
    /// Run only this share.
    pub shard: Option<Shard>,
    /// Runs at a time.
    pub threads: usize,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Stop after this many new rows (tests interrupt a sweep with it).
    pub stop_after: Option<u64>,
    /// The header a `--baseline` file has: a sweep whose header differs
    /// stops as soon as its header is known (bad input), not at the end.
    pub expect_header: Option<(Vec<String>, String)>,
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Rows in the CSV now.
    pub rows: u64,
    /// Rows this call added.
    pub added: u64,
    /// Runs made, probes of other shards included.
    pub runs: u64,
    /// Wall time, s.
    pub seconds: f64,
    /// Whether every run of the plan (or the shard) is in the CSV.
    pub complete: bool,
}

/// One finished run: its parameter cells and its report's cells.
struct Done {
    index: u64,
    config: usize,
    params: Vec<String>,
    metrics: BTreeMap<String, String>,
}

/// What a worker hands over: the run's CSV line, formatted on the worker
/// once the header is known, or (before that: the probes, and runs started
/// while they were in flight) the run, for the writer to place.
enum Finished {
    Line(u64, String),
    Raw(Done),
}

/// The CSV row of `d` under `header`, or an error for a key it lacks.
fn row(d: &Done, header: &[String]) -> Result<Vec<String>, RunFailure> {
    let fixed = INDEX_COLUMNS.len() + d.params.len();
    if let Some(k) = d.metrics.keys().find(|k| !header[fixed..].contains(k)) {
        return Err(RunFailure::NewColumn { run: d.index, key: k.clone() });
    }
    let mut cells = vec![d.index.to_string(), d.config.to_string()];
    cells.extend(d.params.iter().cloned());
    cells.extend(header[fixed..].iter().map(|h| d.metrics.get(h).cloned().unwrap_or_default()));
    Ok(cells)
}

/// The CSV line (with its newline) of `d` under `header`.
fn line(d: &Done, header: &[String]) -> Result<String, RunFailure> {
    let mut text = String::new();
    write_record(&mut text, row(d, header)?);
    Ok(text)
}

/// The rows already in `out` for `--resume`: checked against the plan.
/// Returns the header and how many of `indices` are done, and cuts a
/// last line written short.
fn resume(out: &Path, plan: &Plan, indices: &[u64]) -> Result<Option<(Vec<String>, usize)>, SweepError> {
    let text = std::fs::read_to_string(out).map_err(SweepError::io(out))?;
    let what = out.display().to_string();
    let (t, whole) = match Table::parse_prefix(&text, &what) {
        Ok(x) => x,
        // not even a whole header: start afresh
        Err(_) if !text.contains('\n') => return Ok(None),
        Err(e) => return Err(e),
    };
    let params = table::param_columns();
    let expected: Vec<&str> = INDEX_COLUMNS.iter().copied().chain(params.iter().copied()).collect();
    if t.header.len() < expected.len() || t.header[..expected.len()] != expected[..] {
        return Err(SweepError::Input(format!("--resume: {what} is not a CSV of gossip sweep (other columns)")));
    }
    if t.rows.len() > indices.len() {
        return Err(SweepError::Input(format!(
            "--resume: {what} has {} rows, more than the {} runs of this sweep: another sweep's file",
            t.rows.len(),
            indices.len()
        )));
    }
    for (k, r) in t.rows.iter().enumerate() {
        let run = plan.run(indices[k]);
        let cells = table::param_cells(&run.params);
        if r[0] != run.index.to_string() || r[INDEX_COLUMNS.len()..expected.len()] != cells[..] {
            return Err(SweepError::Input(format!(
                "--resume: line {} of {what} is not run {} of this sweep (other parameters, seeds or shard)",
                k + 2,
                run.index
            )));
        }
    }
    if whole < text.len() {
        let f = OpenOptions::new().write(true).open(out).map_err(SweepError::io(out))?;
        f.set_len(whole as u64).map_err(SweepError::io(out))?;
    }
    Ok(Some((t.header, t.rows.len())))
}

/// Run `plan` (or `opts.shard`'s share) into `opts.out`.
pub fn run(plan: &Plan, opts: &Options) -> Result<Outcome, SweepError> {
    let start = Instant::now();
    let out = &opts.out;
    let indices = plan.indices(opts.shard);
    let existing = if out.exists() {
        if !opts.resume {
            return Err(SweepError::Input(format!(
                "{} exists: add --resume to continue it, or remove it",
                out.display()
            )));
        }
        resume(out, plan, &indices)?
    } else {
        None
    };
    let (header, done) = match existing {
        Some((h, d)) => (OnceLock::from(h), d),
        None => (OnceLock::new(), 0),
    };
    let check_header = |h: &[String]| match &opts.expect_header {
        Some((old, what)) => baseline::check_columns(&Table { header: old.clone(), rows: Vec::new() }, h, what),
        None => Ok(()),
    };
    if let Some(h) = header.get() {
        check_header(h)?;
    }
    let mut file = if header.get().is_some() { OpenOptions::new().append(true).open(out) } else { File::create(out) }
        .map_err(SweepError::io(out))?;
    let todo: Vec<u64> =
        indices[done..].iter().copied().take(opts.stop_after.map_or(usize::MAX, |n| n as usize)).collect();
    // the probes: every configuration's first seed, first (only without a header)
    let probes: Vec<u64> = if header.get().is_none() {
        (0..plan.settings.len() as u64).map(|c| c * plan.seeds).collect()
    } else {
        Vec::new()
    };
    let todo_set: BTreeSet<u64> = todo.iter().copied().collect();
    let probe_set: BTreeSet<u64> = probes.iter().copied().collect();
    let jobs: Vec<u64> =
        probes.iter().copied().chain(todo.iter().copied().filter(|i| !probe_set.contains(i))).collect();
    let bar = progress_bar(jobs.len() as u64, opts.progress);
    let mut keys: BTreeSet<String> = BTreeSet::new();
    let mut stash: BTreeMap<u64, Done> = BTreeMap::new();
    let mut added = 0u64;
    let mut failure: Option<SweepError> = None;
    let write = |file: &mut File, text: &str, added: &mut u64| -> Result<(), SweepError> {
        file.write_all(text.as_bytes()).map_err(SweepError::io(out))?;
        *added += 1;
        Ok(())
    };
    let job = |k: usize| -> Result<Finished, RunFailure> {
        let r = plan.run(jobs[k]);
        let report =
            sim::run_threads(&r.sim, 1, &mut |_| {}).map_err(|error| RunFailure::Refused { run: r.index, error })?;
        let value = serde_json::to_value(&report).map_err(|error| RunFailure::Encode { run: r.index, error })?;
        let d = Done {
            index: r.index,
            config: r.config,
            params: table::param_cells(&r.params),
            metrics: table::flatten_report(&value).into_iter().collect(),
        };
        match header.get() {
            Some(h) if k >= probes.len() => Ok(Finished::Line(d.index, line(&d, h)?)),
            _ => Ok(Finished::Raw(d)),
        }
    };
    let ran = run_in_order(jobs.len(), opts.threads, job, |k, result| {
        bar.inc(1);
        let step = (|| -> Result<(), SweepError> {
            let (index, text) = match result? {
                Finished::Raw(d) if k < probes.len() => {
                    keys.extend(d.metrics.keys().cloned());
                    if todo_set.contains(&d.index) {
                        stash.insert(d.index, d);
                    }
                    if k + 1 == probes.len() {
                        let mut h: Vec<String> = INDEX_COLUMNS.iter().map(|s| s.to_string()).collect();
                        h.extend(table::param_columns().into_iter().map(String::from));
                        h.extend(std::mem::take(&mut keys));
                        check_header(&h)?;
                        let mut line = String::new();
                        write_record(&mut line, &h);
                        file.write_all(line.as_bytes()).map_err(SweepError::io(out))?;
                        let _ = header.set(h);
                    }
                    return Ok(());
                }
                Finished::Raw(d) => (d.index, line(&d, header.get().expect("the probes come first"))?),
                Finished::Line(index, text) => (index, text),
            };
            let h = header.get().expect("the probes come first");
            // probes of this share that come before this run
            while let Some(e) = stash.first_entry().filter(|e| *e.key() < index) {
                write(&mut file, &line(&e.remove(), h)?, &mut added)?;
            }
            write(&mut file, &text, &mut added)
        })();
        match step {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    bar.finish_and_clear();
    if let Err(p) = ran {
        return Err(RunFailure::Panicked(JobPanic { index: jobs[p.index] as usize, ..p }).into());
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(h) = header.get() {
        while let Some((_, d)) = stash.pop_first() {
            write(&mut file, &line(&d, h)?, &mut added)?;
        }
    }
    file.flush().map_err(SweepError::io(out))?;
    let rows = done as u64 + added;
    Ok(Outcome {
        rows,
        added,
        runs: jobs.len() as u64,
        seconds: start.elapsed().as_secs_f64(),
        complete: rows == indices.len() as u64,
    })
}

fn progress_bar(len: u64, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("sweep [{bar:30}] {pos}/{len} runs, {per_sec}, ETA {eta} ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Join shard CSVs into `out`: the same header in every one, rows in run
/// order, each run once and none missing below the last.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<Table, SweepError> {
    let mut merged: Option<Table> = None;
    for path in inputs {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(SweepError::io(path))?;
        let (t, whole) = Table::parse_prefix(&text, &what)?;
        if whole < text.len() {
            return Err(SweepError::Input(format!(
                "{what} ends in a line cut short: finish that shard with --resume first"
            )));
        }
        match &mut merged {
            None => merged = Some(t),
            Some(m) => {
                if m.header != t.header {
                    return Err(SweepError::Input(format!(
                        "{what} has other columns than {}: shards of another sweep",
                        inputs[0].display()
                    )));
                }
                m.rows.extend(t.rows);
            }
        }
    }
    let mut m = merged.ok_or_else(|| SweepError::Input("sweep merge: no CSV given".into()))?;
    let runs = m.run_indices("sweep merge")?;
    let mut order: Vec<(u64, usize)> = runs.iter().copied().zip(0..).collect();
    order.sort_unstable();
    for (k, &(run, _)) in order.iter().enumerate() {
        if run != k as u64 {
            let why = if k > 0 && order[k - 1].0 == run {
                format!("run {run} is in two files")
            } else {
                format!("run {k} is in no file")
            };
            return Err(SweepError::Input(format!("sweep merge: {why}: give each shard once, all of them")));
        }
    }
    let mut rows: Vec<Option<Vec<String>>> = m.rows.drain(..).map(Some).collect();
    m.rows = order.iter().map(|&(_, i)| rows[i].take().expect("each row once")).collect();
    std::fs::write(out, m.to_csv()).map_err(SweepError::io(out))?;
    Ok(m)
}

/// The files written next to `csv`: `NAME.summary.csv`, `NAME.svg` (the
/// metrics), `NAME.tradeoff.svg`.
pub fn side_paths(csv: &Path) -> [PathBuf; 3] {
    let stem = csv.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned());
    let dir = csv.parent().unwrap_or(Path::new(""));
    [format!("{stem}.summary.csv"), format!("{stem}.svg"), format!("{stem}.tradeoff.svg")].map(|n| dir.join(n))
}

/// Write the summary and the figures of the CSV at `csv` next to it;
/// returns the readable summary and the files written.
pub fn finish(csv: &Path) -> Result<(Table, String, Vec<PathBuf>), SweepError> {
    let text = std::fs::read_to_string(csv).map_err(SweepError::io(csv))?;
    let t = Table::parse(&text, &csv.display().to_string())?;
    let [sum, metrics, tradeoff] = side_paths(csv);
    let mut written = Vec::new();
    std::fs::write(&sum, summary::summary_csv(&t)).map_err(SweepError::io(&sum))?;
    written.push(sum);
    for (path, svg) in [(metrics, plot::metrics_svg(&t)), (tradeoff, plot::tradeoff_svg(&t))] {
        if let Some(svg) = svg {
            std::fs::write(&path, svg).map_err(SweepError::io(&path))?;
            written.push(path);
        }
    }
    let readable = summary::readable(&t);
    Ok((t, readable, written))
}

/// Read a baseline CSV.
pub fn read_baseline(path: &Path) -> Result<Table, SweepError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| SweepError::Input(format!("--baseline {}: {e}", path.display())))?;
    Table::parse(&text, &path.display().to_string())
}

/// Compare the finished sweep `t` with `old`.
pub fn against(old: &Table, t: &Table, what: &str) -> Result<baseline::Comparison, SweepError> {
    baseline::check_columns(old, &t.header, what)?;
    Ok(baseline::compare(old, t))
}
