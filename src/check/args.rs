//! `gossip check`'s command line: the system under test as `gossip sim`
//! takes it (any parameter or preset), the check's own options, the
//! progress bar, and the exit status (0: every seed passed, 1: a property
//! failed, 2: bad input, in one line on stderr).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Args;

use super::property::Bounds;
use super::report::DEFAULT_LAB_URL;
use super::schedule::Kind;
use super::{CheckError, Options, Plan, Stage};
use crate::cli::SimArgs;
use crate::sim::faults::parse_time;
use crate::sim::params::SimParams;

/// What the check runs unless a preset or the flags say otherwise: a
/// stream of updates on a small cluster in virtual milliseconds (slow
/// members need them), 10 values a second for 30 s (the rate only for
/// the broadcast scenario).
pub const CHECK_DEFAULTS: &[(&str, &str)] =
    &[("model", "events"), ("scenario", "broadcast"), ("nodes", "20"), ("rate", "10"), ("duration_s", "30")];

/// `gossip check`'s arguments.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The system under test, as `gossip sim` takes it (without a preset,
    /// the check starts from events, broadcast, 20 nodes, 10 values/s for 30 s).
    #[command(flatten)]
    sim: SimArgs,
    /// How many seeds to check, consecutive from --seed.
    #[arg(long, value_name = "N", default_value_t = 100, help_heading = "Check")]
    seeds: u64,
    /// Mean time between fault starts (ms, or seconds with s).
    #[arg(long, value_name = "TIME", default_value = "5000", help_heading = "Check")]
    mean_interval: String,
    /// Kinds of fault to draw: crash (back with its state), restart (back
    /// without it), partition, one-way, loss (a burst), slow (a member), or all.
    #[arg(long = "faults", value_name = "KINDS", default_value = "all", help_heading = "Check")]
    kinds: String,
    /// Every update at every live node within this long after the later of
    /// its creation and the last heal (ms, or seconds with s); the quiet
    /// period after the update window is twice this.
    #[arg(long, value_name = "TIME", default_value = "10000", help_heading = "Check")]
    converge_within: String,
    /// At most this many messages per update (default: no budget).
    #[arg(long, value_name = "MSGS_PER_UPDATE", help_heading = "Check")]
    budget: Option<f64>,
    /// How many failing seeds to shrink and print (the first ones).
    #[arg(long, value_name = "N", default_value_t = 3, help_heading = "Check")]
    shrink: usize,
    /// The most runs shrinking one failing seed may take (default 300; with --shrink above 0).
    #[arg(long, value_name = "N", help_heading = "Check")]
    shrink_runs: Option<usize>,
    /// Runs at once (default: the machine's cores); each run is single-threaded.
    #[arg(long, value_name = "N", help_heading = "Check")]
    jobs: Option<usize>,
    /// Where the lab page is served, for the shrunk schedules' links
    /// (default http://127.0.0.1:8080/; with --shrink above 0).
    #[arg(long, value_name = "URL", help_heading = "Check")]
    lab_url: Option<String>,
}

/// The default `--shrink-runs`.
const DEFAULT_SHRINK_RUNS: usize = 300;

impl CheckArgs {
    /// The validated check these arguments ask for.
    pub fn plan(&self) -> Result<Plan, CheckError> {
        let input = |s: &str| Err(CheckError::Input(s.to_owned()));
        let sim = &self.sim;
        if sim.partition {
            return input("--partition: gossip check draws its own faults; choose their kinds with --faults");
        }
        if sim.threads.is_some() {
            return input("--threads: each check run is single-threaded; --jobs sets how many run at once");
        }
        if sim.given.iter().any(|(k, _)| *k == "settle_s") {
            return input("--settle-s: gossip check sets the quiet period to twice --converge-within");
        }
        if self.jobs == Some(0) {
            return input("--jobs must be at least 1");
        }
        if self.shrink == 0 {
            // only a shrunk schedule is run again and linked to the lab
            let unread = [("--shrink-runs", self.shrink_runs.is_some()), ("--lab-url", self.lab_url.is_some())];
            if let Some((flag, _)) = unread.iter().find(|(_, given)| *given) {
                return Err(CheckError::Input(format!(
                    "{flag} applies to shrunk failures only, and --shrink 0 shrinks none: leave it out or give \
                     --shrink above 0"
                )));
            }
        }
        let time = |flag: &str, v: &str| {
            parse_time(v)
                .ok_or_else(|| CheckError::Input(format!("{flag}: bad time {v:?} (use ms, or seconds with s)")))
        };
        let defaults = if sim.preset.is_some() { &[][..] } else { CHECK_DEFAULTS };
        let pairs = sim
            .preset
            .iter()
            .map(|p| ("preset", p.as_str()))
            .chain(defaults.iter().copied())
            .chain(sim.given.iter().map(|(k, v)| (*k, v.as_str())));
        let mut params = SimParams::from_pairs(pairs).map_err(CheckError::Param)?;
        if params.scenario != "broadcast" && !sim.given.iter().any(|(k, _)| *k == "rate") {
            // the check's rate is the broadcast workload's; another scenario keeps the table's
            params.rate = SimParams::default().rate;
        }
        let options = Options {
            seeds: self.seeds,
            mean_interval_ms: time("--mean-interval", &self.mean_interval)?,
            kinds: Kind::parse_list(&self.kinds).map_err(CheckError::Kind)?,
            bounds: Bounds {
                converge_within_ms: time("--converge-within", &self.converge_within)?,
                budget: self.budget,
            },
            shrink: self.shrink,
            shrink_runs: self.shrink_runs.unwrap_or(DEFAULT_SHRINK_RUNS),
        };
        let plan = Plan::new(params, options)?;
        let cfg = plan.params.to_config().map_err(CheckError::Param)?;
        sim.check_given_apply(&cfg).map_err(|e| CheckError::Input(e.to_string()))?;
        Ok(plan)
    }
}

/// Run `gossip check`; returns the exit status.
pub fn run(args: &CheckArgs) -> ExitCode {
    let plan = match args.plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gossip check: {e}");
            return ExitCode::from(2);
        }
    };
    let show = !args.sim.quiet && std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(plan.options.seeds);
    if show {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} check [{bar:30}] {pos}/{len} {msg}, {elapsed} (ETA {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let failed = AtomicU64::new(0);
    let shrunk = AtomicU64::new(0);
    let progress = |stage: Stage| match stage {
        Stage::Seed { failed: f } => {
            let now = failed.fetch_add(u64::from(f), Ordering::Relaxed) + u64::from(f);
            bar.set_message(format!("seeds, {now} failing"));
            bar.inc(1);
        }
        Stage::Shrunk => {
            let k = shrunk.fetch_add(1, Ordering::Relaxed) + 1;
            bar.set_message(format!("seeds; shrunk {k} failing schedules"));
        }
    };
    let workers = args.jobs.unwrap_or_else(crate::sim::default_threads);
    let result = super::run(&plan, workers, &progress);
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gossip check: {e}");
            return ExitCode::from(2);
        }
    };
    let lab_url = args.lab_url.as_deref().unwrap_or(DEFAULT_LAB_URL);
    if args.sim.json {
        println!("{}", report.json(lab_url));
    } else {
        print!("{}", report.text(lab_url));
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
