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
    Run(String),
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
            SweepError::Input(m) | SweepError::Run(m) => f.write_str(m),
            SweepError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for SweepError {}
