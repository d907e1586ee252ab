//! `gossip sweep`: many `gossip sim` runs over varied parameters and seeds,
//! in parallel, streamed to one tidy CSV, then summarized, plotted and
//! compared with a baseline (native only).
//!
//! Why: one run answers little (a lucky seed passes a partition test), and
//! an engineer's question is a curve over parameters with its spread over
//! seeds. Each run is exactly `gossip sim --json` for its parameters (same
//! parameter parsing and checks, one thread per run), so a row can be
//! replayed by hand.
//!
//! Layout, one noun per file: [`plan`] (the `--vary` lists, their product,
//! the seeds, shards), [`runner`] (jobs on a pool, results in order: shared
//! with other drivers of many runs), [`table`] (the CSV and the flattening
//! of a report into columns), [`stats`] (means, intervals, Welch's t),
//! [`summary`] (per configuration, failing runs), [`plot`] (SVG),
//! [`baseline`] (regressions), [`sweep`] (the driver: probes, streaming,
//! `--resume`, shards, `merge`), [`command`] (the command line).
//!
//! Determinism: rows are written in run order whatever the threads, so a
//! sweep, the same sweep interrupted and resumed, and its shards merged are
//! the same bytes.

pub mod baseline;
pub mod command;
pub mod plan;
pub mod plot;
pub mod runner;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod table;

use std::fmt;
use std::path::PathBuf;

use crate::sim::RunError;
use runner::JobPanic;

/// What can go wrong in a sweep.
#[derive(Debug)]
pub enum SweepError {
    /// Bad input: a parameter, a range, a shard, a file that does not fit
    /// (exit status 2).
    Input(String),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A run failed or panicked (a bug: every configuration was checked).
    Run(RunFailure),
}

/// A run of a sweep that failed: a bug, since every configuration was
/// checked before any ran. Each names the run by its index in the sweep.
#[derive(Debug)]
pub enum RunFailure {
    /// The simulator refused it.
    Refused {
        /// The run.
        run: u64,
        /// Why.
        error: RunError,
    },
    /// Its report could not be encoded as JSON.
    Encode {
        /// The run.
        run: u64,
        /// Why.
        error: serde_json::Error,
    },
    /// It reported a metric its configuration's first run did not: the CSV
    /// has no column for it.
    NewColumn {
        /// The run.
        run: u64,
        /// The metric's column.
        key: String,
    },
    /// It panicked (the index is the run's).
    Panicked(JobPanic),
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Refused { run, error } => write!(f, "run {run}: {error}"),
            RunFailure::Encode { run, error } => write!(f, "run {run}: cannot encode the report: {error}"),
            RunFailure::NewColumn { run, key } => write!(
                f,
                "run {run} reported {key}, which the first runs of the configurations did not: the CSV has no column for it"
            ),
            RunFailure::Panicked(p) => p.fmt(f),
        }
    }
}

impl std::error::Error for RunFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunFailure::Refused { error, .. } => Some(error),
            RunFailure::Encode { error, .. } => Some(error),
            RunFailure::NewColumn { .. } => None,
            RunFailure::Panicked(p) => Some(p),
        }
    }
}

impl SweepError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            SweepError::Input(_) => 2,
            SweepError::Io { .. } | SweepError::Run(_) => 1,
        }
    }

    /// An IO error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SweepError {
        let path = path.into();
        move |source| SweepError::Io { path, source }
    }
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Input(m) => f.write_str(m),
            SweepError::Run(e) => e.fmt(f),
            SweepError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for SweepError {}

impl From<RunFailure> for SweepError {
    fn from(e: RunFailure) -> SweepError {
        SweepError::Run(e)
    }
}
