//! `gossip sweep` and `gossip sweep merge` on the command line: every flag of
//! `gossip sim` fixes a parameter, `--vary NAME=VALUES` varies one, and
//! `--seeds N` repeats each configuration over consecutive seeds.
//!
//! Exit status: 0 done, 1 a significant regression against `--baseline`
//! (or a file that could not be written), 2 bad input (one line on stderr).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::plan::{Shard, Spec, Vary};
use super::sweep::{self, Options};
use super::SweepError;
use crate::cli::SimArgs;

/// `gossip sweep`'s arguments.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    action: Option<SweepAction>,
    /// A parameter's values: a list (`fanout=1,2,3`; `;` separates
    /// instead when given: `fault=;5s:partition:2,10s:heal`) or a range
    /// with both ends (`loss=0:0.2:0.05`, `nodes=100:500:100`, `ttl=1:5`).
    /// Repeat for a product; the last one changes fastest.
    #[arg(long = "vary", value_name = "NAME=VALUES", help_heading = "Sweep")]
    vary: Vec<String>,
    /// Seeds per configuration: --seed, --seed + 1, ...
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Sweep")]
    seeds: u64,
    /// The CSV (one row per run); the summary and the plots go next to it
    /// (NAME.summary.csv, NAME.svg, NAME.tradeoff.svg).
    #[arg(long, short = 'o', value_name = "FILE", default_value = "sweep.csv", help_heading = "Sweep")]
    out: PathBuf,
    /// Continue the CSV of an interrupted sweep (same flags) with the runs it lacks.
    #[arg(long, help_heading = "Sweep")]
    resume: bool,
    /// Run only share I of N (runs whose index is I-1 modulo N); join the
    /// shards' CSVs with `gossip sweep merge`.
    #[arg(long, value_name = "I/N", help_heading = "Sweep")]
    shard: Option<String>,
    /// An older CSV of the same sweep: print each metric's change per
    /// configuration with Welch's t; exit 1 on a significant regression of
    /// lost updates, residue, convergence time or failing runs.
    #[arg(long, value_name = "OLD.csv", help_heading = "Sweep")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    sim: SimArgs,
}

#[derive(clap::Subcommand, Debug)]
enum SweepAction {
    /// Join the CSVs of a sweep's shards (any order) into the CSV of the
    /// whole sweep, with its summary and plots.
    Merge(MergeArgs),
}

/// `gossip sweep merge`'s arguments.
#[derive(clap::Args, Debug)]
struct MergeArgs {
    /// The shards' CSVs.
    #[arg(required = true, value_name = "SHARD.csv")]
    inputs: Vec<PathBuf>,
    /// The merged CSV.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "sweep.csv")]
    out: PathBuf,
}

/// Run `gossip sweep`.
pub fn run(args: &SweepArgs) -> ExitCode {
    let result = match &args.action {
        Some(SweepAction::Merge(m)) => merge(m),
        None => sweep(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gossip sweep: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn merge(m: &MergeArgs) -> Result<ExitCode, SweepError> {
    if m.inputs.iter().any(|i| i == &m.out) {
        return Err(SweepError::Input(format!("sweep merge: {} is an input and the output", m.out.display())));
    }
    let t = sweep::merge(&m.inputs, &m.out)?;
    eprintln!("gossip sweep merge: {} rows from {} files into {}", t.rows.len(), m.inputs.len(), m.out.display());
    report(&m.out, None, false)
}

/// The summary (stdout), the files written (stderr) and the baseline's verdict.
fn report(csv: &Path, baseline: Option<(&super::table::Table, &Path)>, quiet: bool) -> Result<ExitCode, SweepError> {
    let (t, readable, written) = sweep::finish(csv)?;
    print!("{readable}");
    if !quiet {
        let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        eprintln!("wrote {}", names.join(", "));
    }
    if let Some((old, path)) = baseline {
        let c = sweep::against(old, &t, &path.display().to_string())?;
        print!("{}", c.readable());
        if c.regressed() {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn sweep(args: &SweepArgs) -> Result<ExitCode, SweepError> {
    let (partition, threads, json, quiet) = args.sim.flags();
    if json {
        return Err(SweepError::Input(
            "--json does not apply to gossip sweep: every run's report is a row of the CSV (--out)".into(),
        ));
    }
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    if shard.is_some() && args.baseline.is_some() {
        return Err(SweepError::Input(
            "--baseline compares a whole sweep: merge the shards (gossip sweep merge), then sweep --resume the \
             merged CSV with --baseline"
                .into(),
        ));
    }
    let vary = args.vary.iter().map(|v| Vary::parse(v)).collect::<Result<Vec<_>, _>>()?;
    let spec = Spec {
        given: args.sim.pairs(),
        partition,
        vary,
        seeds: args.seeds,
        check_given: Some(crate::cli::check_names_apply),
    };
    let plan = spec.plan()?;
    let old = args.baseline.as_deref().map(sweep::read_baseline).transpose()?;
    let opts = Options {
        out: args.out.clone(),
        resume: args.resume,
        shard,
        threads: threads.map_or_else(crate::sim::default_threads, usize::from),
        progress: !quiet && std::io::stderr().is_terminal(),
        stop_after: None,
        expect_header: old
            .as_ref()
            .zip(args.baseline.as_ref())
            .map(|(t, p)| (t.header.clone(), p.display().to_string())),
    };
    let existed = opts.out.exists();
    let outcome = match sweep::run(&plan, &opts) {
        Ok(o) => o,
        Err(e) => {
            // nothing written: leave no empty file behind
            if !existed && std::fs::metadata(&opts.out).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(&opts.out);
            }
            return Err(e);
        }
    };
    if !quiet {
        eprintln!(
            "gossip sweep: {} runs in {:.2} s ({:.1} runs/s on {} threads); {} rows in {}",
            outcome.runs,
            outcome.seconds,
            outcome.runs as f64 / outcome.seconds.max(1e-9),
            opts.threads,
            outcome.rows,
            opts.out.display()
        );
    }
    if let Some(s) = shard.filter(|_| !quiet) {
        eprintln!(
            "shard {}/{}: join the shards' CSVs with gossip sweep merge SHARD.csv... -o WHOLE.csv",
            s.index + 1,
            s.count
        );
    }
    if shard.is_some() {
        return Ok(ExitCode::SUCCESS);
    }
    report(&opts.out, old.as_ref().zip(args.baseline.as_deref()), quiet)
}
