//! The `gossip` command line (native only): argument parsing, the progress
//! bar and the readable summary. The binary in `main.rs` only calls [`main`].

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Parser, Subcommand};

use crate::sim::params::SimParams;
use crate::sim::table::ParamError;
use crate::sim::{self, Report, SimConfig};

/// A gossip-protocol lab: simulate, serve and measure gossip protocols.
#[derive(Parser, Debug)]
#[command(name = "gossip", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a headless, deterministic simulation and print its metrics.
    Sim(SimArgs),
    /// Run a native HTTP node (the default: `gossip -p 7001 -b 7000`).
    Node(crate::node_cli::NodeArgs),
    /// Run a local cluster of native nodes for demos.
    Cluster(crate::node_cli::ClusterArgs),
    /// Check a course implementation against PROTOCOL.md, step by step.
    TestNode(crate::conformance::TestNodeArgs),
    /// Run a system under drawn fault schedules over many seeds, check its
    /// properties, and shrink each failure to a replayable schedule.
    Check(crate::check::args::CheckArgs),
    /// Run many simulations over varied parameters and seeds into a CSV, with
    /// a summary, plots and a baseline comparison (`gossip sweep merge` joins shards).
    Sweep(crate::experiment::command::SweepArgs),
}

/// `gossip sim`'s arguments. The simulation parameters and their help come
/// from the parameter table ([`sim::table::TABLE`], one flag per entry,
/// under its group's heading, with its possible values and their help: the
/// protocols' from the registry); the preset's from [`sim::table::PRESETS`].
/// Values are checked by the table (as the page's are), so a bad one gets
/// the same message everywhere, with the flag's name.
#[derive(Debug, Clone, Default)]
pub struct SimArgs {
    /// `(table name, text)` of each parameter given on the command line
    /// (a repeated flag's values joined with commas).
    pub(crate) given: Vec<(&'static str, String)>,
    /// `--preset NAME`.
    pub(crate) preset: Option<String>,
    /// `--partition`.
    pub(crate) partition: bool,
    /// `--threads N`.
    pub(crate) threads: Option<u16>,
    /// `--json`.
    pub(crate) json: bool,
    /// `-q`, `--quiet`.
    pub(crate) quiet: bool,
}

/// A table parameter's value on the command line: taken as text (the
/// table checks it, with its own message), with the possible values and
/// their help for `--help`.
#[derive(Clone)]
pub(crate) struct TableValue(Vec<PossibleValue>);

impl TableValue {
    pub(crate) fn of(
        choices: impl IntoIterator<Item = (&'static str, &'static str, &'static [&'static str])>,
    ) -> TableValue {
        TableValue(
            choices.into_iter().map(|(v, help, aliases)| PossibleValue::new(v).help(help).aliases(aliases)).collect(),
        )
    }
}

impl TypedValueParser for TableValue {
    type Value = String;

    fn parse_ref(&self, cmd: &clap::Command, _arg: Option<&Arg>, value: &OsStr) -> Result<String, clap::Error> {
        value.to_str().map(str::to_owned).ok_or_else(|| clap::Error::new(ErrorKind::InvalidUtf8).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        (!self.0.is_empty()).then(|| Box::new(self.0.iter().cloned()) as Box<dyn Iterator<Item = PossibleValue>>)
    }
}

/// The clap argument of table entry `p` (`gossip node` takes the entries
/// it shares with the simulator from here too, `src/node_cli.rs`).
pub(crate) fn table_arg(p: &'static sim::table::Param) -> Arg {
    let choices = p.choices();
    let values = TableValue::of(choices.iter().map(|c| (c.value, c.help, c.aliases)));
    let help = match p.protocols() {
        Some(ps) => format!("{} [protocols: {}]", p.help, ps.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")),
        None => p.help.to_owned(),
    };
    let mut arg = Arg::new(p.name)
        .long(p.flag)
        .value_name(p.flag.to_ascii_uppercase().replace('-', "_"))
        .help(help)
        .value_parser(values)
        .help_heading(p.group.heading());
    if p.name == "faults" {
        arg = arg.action(ArgAction::Append);
    } else if !p.default.is_empty() {
        arg = arg.default_value(p.default);
    }
    arg
}

impl clap::Args for SimArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let presets = sim::table::PRESETS.iter().map(|p| (p.name, p.summary, &[][..]));
        let cmd = cmd
            .allow_negative_numbers(true)
            .arg(
                Arg::new("preset")
                    .long("preset")
                    .value_name("NAME")
                    .value_parser(TableValue::of(presets))
                    .help("A named configuration; the other flags given override its values."),
            )
            .arg(
                Arg::new("partition")
                    .long("partition")
                    .action(ArgAction::SetTrue)
                    .help("Add a partition that comes and heals: two halves from 5 s to 10 s."),
            )
            .arg(
                Arg::new("threads")
                    .long("threads")
                    .value_name("N")
                    .value_parser(clap::value_parser!(u16).range(1..=256))
                    .help(
                        "Threads a run may use (default: the machine's cores; 1: one at a time): the events \
                         model's full nodes, and the compact population's rounds from 65536 nodes (up to 2). \
                         Other runs use one, and say so when more are asked. The result is the same whatever the number.",
                    ),
            )
            .arg(
                Arg::new("json")
                    .long("json")
                    .action(ArgAction::SetTrue)
                    .help("Print exactly one JSON object on stdout (keys in docs/sim.md)."),
            )
            .arg(
                Arg::new("quiet")
                    .long("quiet")
                    .short('q')
                    .action(ArgAction::SetTrue)
                    .help("No progress bar and no timing line on stderr."),
            );
        sim::table::Group::ALL.iter().fold(cmd, |cmd, &group| {
            sim::table::TABLE.iter().filter(|p| p.group == group).fold(cmd, |cmd, p| cmd.arg(table_arg(p)))
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for SimArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let given = sim::table::TABLE
            .iter()
            .filter(|p| m.value_source(p.name) == Some(ValueSource::CommandLine))
            .map(|p| {
                let values: Vec<&str> =
                    m.get_many::<String>(p.name).into_iter().flatten().map(String::as_str).collect();
                (p.name, values.join(","))
            })
            .collect();
        Ok(SimArgs {
            given,
            preset: m.get_one::<String>("preset").cloned(),
            partition: m.get_flag("partition"),
            threads: m.get_one::<u16>("threads").copied(),
            json: m.get_flag("json"),
            quiet: m.get_flag("quiet"),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl SimArgs {
    /// Turn flags into a validated configuration, or say what is wrong
    /// (naming the flag).
    pub fn to_config(&self) -> Result<SimConfig, SimArgsError> {
        let preset = self.preset.as_deref().map(|p| ("preset", p));
        let given = self.given.iter().map(|(k, v)| (*k, v.as_str()));
        let to_config = || {
            let mut p = SimParams::from_pairs(preset.into_iter().chain(given))?;
            if self.partition {
                p.faults.extend(SimParams::partition_faults());
            }
            p.to_config()
        };
        let cfg = to_config().map_err(SimArgsError::Param)?;
        self.check_given_apply(&cfg).map_err(SimArgsError::Unread)?;
        Ok(cfg)
    }

    /// A flag typed on the command line that the run's protocol does not
    /// read (`--counter` with push-pull) is refused, naming it, rather than
    /// silently ignored ([`sim::table::refuse_unread`]).
    pub(crate) fn check_given_apply(&self, cfg: &SimConfig) -> Result<(), ParamError> {
        let given: Vec<&str> = self.given.iter().map(|(k, _)| *k).collect();
        check_names_apply(&given, cfg)
    }

    /// The parameters given, as `(name, text)` pairs for
    /// [`SimParams::from_pairs`]: the preset (if any) first.
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let preset = self.preset.iter().map(|p| ("preset", p.clone()));
        preset.chain(self.given.iter().cloned()).collect()
    }

    /// `--partition`, `--threads`, `--json`, `--quiet`.
    pub(crate) fn flags(&self) -> (bool, Option<u16>, bool, bool) {
        (self.partition, self.threads, self.json, self.quiet)
    }
}

/// Refuse a parameter named in `given` that the run `cfg` does not read
/// ([`SimArgs::check_given_apply`]'s rule, for any list of names: `gossip
/// sweep` adds its varied ones).
pub(crate) fn check_names_apply(given: &[&str], cfg: &SimConfig) -> Result<(), ParamError> {
    sim::table::refuse_unread_run::<false>(given.iter().copied(), cfg, sim::table::flag_of)
}

/// Why `gossip sim`'s command line was refused: printed as one line, exit 2.
#[derive(Debug)]
pub enum SimArgsError {
    /// A flag's value, as the parameter table checks it (named by its flag).
    Param(ParamError),
    /// A flag was given that this run would not read (`--counter` with
    /// push-pull): refused rather than silently ignored; the reason names it.
    Unread(ParamError),
    /// The views of a movies run cannot fit in the memory available.
    Memory {
        /// Nodes asked for.
        nodes: u32,
        /// Bytes their views need at least.
        need: u64,
        /// Bytes available (`MemAvailable`).
        available: u64,
    },
}

impl std::fmt::Display for SimArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimArgsError::Param(e) => f.write_str(&e.cli_message()),
            SimArgsError::Unread(e) => write!(f, "{e}"),
            SimArgsError::Memory { nodes, need, available } => {
                let gb = |b: u64| b as f64 / 1e9;
                write!(
                    f,
                    "the movies scenario keeps a full view per node: {nodes} nodes need at least {:.1} GB for their \
                     views ({} bytes per entry, n^2 entries), and {:.1} GB are available; use fewer nodes",
                    gb(*need),
                    sim::population::VIEW_BYTES_PER_ORIGIN,
                    gb(*available)
                )
            }
        }
    }
}

impl std::error::Error for SimArgsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SimArgsError::Param(e) | SimArgsError::Unread(e) => Some(e),
            SimArgsError::Memory { .. } => None,
        }
    }
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let checking = argv.get(1).is_some_and(|a| a == "check");
    let cli = match parse(crate::node_cli::course_form(argv)) {
        Ok(c) => c,
        // gossip check's bad input: one line, status 2
        Err(e) if checking && e.use_stderr() => {
            eprintln!("gossip check: {}", e.to_string().lines().next().unwrap_or("bad arguments"));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Sim(args) => run_sim(&args),
        Command::Node(args) => crate::node_cli::run_node(&args),
        Command::Cluster(args) => crate::node_cli::run_cluster(&args),
        Command::TestNode(args) => crate::conformance::run(&args),
        Command::Check(args) => crate::check::args::run(&args),
        Command::Sweep(args) => crate::experiment::command::run(&args),
    }
}

/// Parse a command line.
fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(args)
}

/// Refuse, before anything is allocated, a run whose views cannot fit in
/// the memory the system has available (Linux's `MemAvailable`; no check
/// where it cannot be read).
fn check_memory(cfg: &SimConfig) -> Result<(), SimArgsError> {
    let (Some(need), Some(available)) = (sim::views_bytes(cfg), mem_available()) else {
        return Ok(());
    };
    if need <= available {
        return Ok(());
    }
    Err(SimArgsError::Memory { nodes: cfg.nodes, need, available })
}

/// The memory available to start new programs, from `/proc/meminfo`.
fn mem_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn run_sim(args: &SimArgs) -> ExitCode {
    let cfg = match args.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gossip sim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = check_memory(&cfg) {
        eprintln!("gossip sim: {e}");
        return ExitCode::from(2);
    }
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(cfg.limit_ms());
    if show_bar {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} sim {msg} [{bar:30}] {pos}/{len} ms virtual, {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let start = Instant::now();
    let mut last_draw = start;
    let mut on_progress = |p: sim::Progress| {
        if show_bar && last_draw.elapsed().as_millis() >= 100 {
            last_draw = Instant::now();
            bar.set_position(p.time_ms.min(p.limit_ms));
            bar.set_message(format!("coverage {:5.1}%", p.coverage * 100.0));
        }
    };
    let threads = args.threads.map_or_else(sim::default_threads, usize::from);
    if let Some(why) = args.threads.and_then(|t| sim::threads_note(&cfg, usize::from(t))) {
        eprintln!("gossip sim: note: --threads {threads}: {why}; the report is the same either way");
    }
    let report = match sim::run_threads(&cfg, threads, &mut on_progress) {
        Ok(r) => r,
        Err(e) => {
            bar.finish_and_clear();
            eprintln!("gossip sim: {e}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let wall = start.elapsed();
    if args.json {
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("gossip sim: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", summary(&report));
    }
    if !args.quiet {
        let secs = wall.as_secs_f64().max(1e-9);
        eprintln!(
            "ran in {:.3} s wall: {} events, {:.1} M events/s, peak RSS {}",
            secs,
            report.events,
            report.events as f64 / secs / 1e6,
            peak_rss().map_or("unknown".into(), |kb| format!(
                "{:.1} MB ({:.0} bytes/node)",
                kb as f64 / 1024.0,
                kb as f64 * 1024.0 / report.nodes as f64
            )),
        );
    }
    ExitCode::SUCCESS
}

/// Peak resident set size of this process in KiB (Linux), if known.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.0}"))
}

/// The readable summary of a report.
pub fn summary(r: &Report) -> String {
    use std::fmt::Write;
    let c = &r.config;
    let mut s = String::new();
    if let Some(o) = &r.overlay {
        // an overlay run: no fanout or TTL; its broadcast and overlay measures
        let _ = writeln!(
            s,
            "gossip sim: {} nodes, {} model, {} scenario, protocol {} over the {} overlay, seed {}",
            r.nodes,
            r.model,
            r.scenario,
            r.protocol,
            c.membership.name(),
            r.seed
        );
        let stat = |x: &Option<sim::overlay::Stat>| x.map_or("-".into(), |x| format!("{:.3}", x.mean));
        let _ = writeln!(
            s,
            "  broadcasts: rmr {}, ldh {}, reliability {} (means); overlay: {:.2} links a node, \
             {:.1} % full, avg shortest path {:.2}, clustering {:.4}, {}connected",
            stat(&r.rmr),
            stat(&r.ldh),
            stat(&r.reliability),
            o.active_mean,
            o.active_full_fraction * 100.0,
            o.avg_shortest_path,
            o.clustering,
            if o.connected { "" } else { "not " }
        );
    } else {
        let _ = writeln!(
            s,
            "gossip sim: {} nodes, {} model, {} scenario, protocol {} ({}ttl {}{}), seed {}",
            r.nodes,
            r.model,
            r.scenario,
            r.protocol,
            // what the protocol reads: flood sends to every peer, no fanout
            match c.node.protocol.info().params.contains(&"fanout") {
                true => format!("fanout {}, ", c.node.fanout),
                false => String::new(),
            },
            c.node.ttl,
            if r.protocol == "rumor" {
                format!(", stop {}", c.node.stop)
            } else if c.node.eager_push {
                ", eager push".into()
            } else {
                String::new()
            },
            r.seed
        );
    }
    if r.model == "events" {
        let _ = writeln!(
            s,
            "  network: latency {} ms + jitter 0..{} ms, loss {}",
            c.net.latency_ms, c.net.jitter_ms, c.net.loss
        );
    }
    if !c.faults.is_empty() {
        let _ = writeln!(s, "  faults: {}", c.faults.len());
    }
    let unit = if r.model == "rounds" { "rounds" } else { "intervals" };
    let _ = writeln!(s, "  ended: {:?} at {} ms ({} {unit}), engine {}", r.stop_reason, r.time_ms, r.rounds, r.engine);
    let _ = writeln!(s, "  informed: {} of {} live nodes (residue {:.4})", r.informed, r.live, r.residue);
    if r.scenario == "single" {
        let _ =
            writeln!(s, "  everyone knew after: {}", r.rounds_full.map_or("never".into(), |k| format!("{k} {unit}")));
        let _ = writeln!(s, "  t_avg {:.2} {unit}, t_last {:.2} {unit}", r.t_avg, r.t_last);
    } else {
        let _ = writeln!(s, "  updates: {} made, {} never reached every live node", r.updates, r.lost_updates);
        let _ = writeln!(
            s,
            "  latency to the last node: median {} ms, p99 {} ms, max {} ms",
            fmt_opt(r.latency_ms.median),
            fmt_opt(r.latency_ms.p99),
            fmt_opt(r.latency_ms.max)
        );
        let _ = writeln!(s, "  per update: {:.1} messages, {:.0} bytes", r.messages_per_update, r.bytes_per_update);
        if let Some(p) = &r.partition {
            let _ = writeln!(
                s,
                "  partitions ({}) caught {} updates: clear ones median {} ms, max {} ms; caught ones max {} ms; repaired {} after the heal",
                p.partitions,
                p.updates_caught,
                fmt_opt(p.latency_ms_clear.median),
                fmt_opt(p.latency_ms_clear.max),
                fmt_opt(p.latency_ms_caught.max),
                p.repair_ms.map_or("never".into(), |ms| format!("{ms} ms")),
            );
        }
    }
    let _ =
        writeln!(
        s,
        "  traffic: {} messages ({:.2} per node, {:.2} carrying updates per node), {} bytes, {} duplicates, {} lost, {} cut by partitions",
        r.messages, r.messages_per_node, r.traffic, r.bytes, r.duplicates, r.lost_messages, r.partitioned_messages
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Protocol, StopKind, StopRule};
    use crate::sim::Model;

    fn parse(args: &[&str]) -> Result<SimConfig, String> {
        let mut full = vec!["gossip", "sim"];
        full.extend_from_slice(args);
        let cli = super::parse(full.into_iter().map(Into::into).collect()).map_err(|e| e.to_string())?;
        let Command::Sim(a) = cli.command else { unreachable!("parsed as sim") };
        a.to_config().map_err(|e| e.to_string())
    }

    #[test]
    fn flags_map_onto_the_configuration() {
        let c = parse(&[
            "--nodes",
            "50",
            "--protocol",
            "rumor",
            "--counter",
            "3",
            "--stop",
            "blind",
            "--model",
            "events",
            "--loss",
            "0.1",
            "--fault",
            "2s:crash:4",
        ])
        .unwrap();
        assert_eq!(c.nodes, 50);
        assert_eq!(c.node.protocol, Protocol::Rumor);
        assert_eq!(c.node.stop, StopRule { feedback: false, kind: StopKind::Counter(3) });
        assert_eq!(c.model, Model::Events);
        assert_eq!(c.net.loss, 0.1);
        assert_eq!(c.faults.len(), 1);
    }

    #[test]
    fn eager_push_defaults_follow_the_scenario() {
        assert!(!parse(&[]).unwrap().node.eager_push);
        assert!(parse(&["--scenario", "movies"]).unwrap().node.eager_push);
        assert!(!parse(&["--scenario", "movies", "--eager", "off"]).unwrap().node.eager_push);
        assert!(!parse(&["--scenario", "movies", "--protocol", "rumor"]).unwrap().node.eager_push);
        assert!(!parse(&["--scenario", "broadcast", "--protocol", "flood"]).unwrap().node.eager_push);
    }

    #[test]
    fn the_help_lists_every_parameter_of_the_table_and_every_protocol_with_its_summary() {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let help = cmd.find_subcommand_mut("sim").expect("sim").render_long_help().to_string();
        for p in sim::table::TABLE {
            assert!(help.contains(&format!("--{} <", p.flag)), "--{} missing:\n{help}", p.flag);
        }
        for p in crate::core::Protocol::ALL {
            let listed = |l: &str| l.trim_start().starts_with(&format!("- {p}:")) && l.ends_with(p.info().summary);
            assert!(help.lines().any(listed), "{p} missing:\n{help}");
        }
        for g in sim::table::Group::ALL {
            assert!(help.contains(&format!("{}:", g.heading())), "heading {} missing:\n{help}", g.heading());
        }
        assert!(help.contains("- glomers: "), "the presets are listed");
    }

    #[test]
    fn a_flag_the_protocol_does_not_read_is_refused_by_name() {
        let e = parse(&["--protocol", "push-pull", "--counter", "3"]).unwrap_err();
        assert!(e.starts_with("--counter applies to rumor only"), "{e}");
        let e = parse(&["--protocol", "flood", "--stop", "blind"]).unwrap_err();
        assert!(e.starts_with("--stop applies to rumor only, not to flood"), "{e}");
        assert!(parse(&["--protocol", "rumor", "--counter", "3", "--stop", "blind"]).is_ok());
        // a preset's own values are not the user's flags
        assert!(parse(&["--preset", "glomers", "--protocol", "rumor"]).is_ok());
    }

    #[test]
    fn a_preset_yields_to_the_flags_given() {
        let c = parse(&["--preset", "glomers"]).unwrap();
        assert_eq!((c.nodes, c.net.latency_ms, c.net.jitter_ms), (25, 100, 0));
        assert_eq!(c.scenario, sim::Scenario::Broadcast);
        assert_eq!(c.duration_ms, Some(20_000));
        assert!(c.node.round_robin && c.node.anti_entropy_ms.is_some());
        assert!(c.faults.is_empty());
        // given flags win, even when they spell a default value
        let c = parse(&["--preset", "glomers", "--nodes", "1000", "--fanout", "5", "--partition"]).unwrap();
        assert_eq!((c.nodes, c.node.fanout, c.net.latency_ms), (1000, 5, 100));
        assert_eq!(c.faults.len(), 2, "a partition and its heal");
        assert!(parse(&["--preset", "glomers", "--rate", "-1"]).unwrap_err().contains("--rate"));
        let e = parse(&["--preset", "paxos"]).unwrap_err();
        assert_eq!(e, "--preset: expected one of glomers, swim-paper, memberlist-lan, got \"paxos\"");
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        for (args, needle) in [
            (vec!["--nodes", "0"], "nodes"),
            (vec!["--nodes", "1000000000"], "nodes"),
            (vec!["--loss", "-0.1"], "loss"),
            (vec!["--loss", "1.5"], "loss"),
            (vec!["--fanout", "0"], "fanout"),
            (vec!["--fault", "2s:crash:5000"], "node 5000"),
            (vec!["--fault", "soon:crash:1"], "time"),
            (vec!["--duration-s", "-3"], "duration"),
            (vec!["--protocol", "telepathy"], "telepathy"),
            (vec!["--counter", "0", "--protocol", "rumor"], "--counter must be between 1 and 255"),
            (vec!["--counter", "2", "--coin", "2"], "--counter: give the rumor stop rule a counter or a coin"),
            (vec!["--protocol", "rumor", "--eager", "on"], "--eager: eager push does not apply to rumor"),
            (vec!["--link-spread", "2"], "--link-spread must be between 0 and 1, got 2"),
            (
                vec!["--scenario", "movies", "--rate", "5"],
                "--rate applies to the broadcast scenario only, not to movies",
            ),
            (vec!["--resample-ms", "3000"], "--resample-ms applies to the movies scenario only, not to single"),
            (vec!["--settle-s", "2"], "--settle-s applies to the movies and broadcast scenario only"),
        ] {
            let e = parse(&args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn the_summary_counts_lost_and_partition_cut_messages_apart() {
        // no random loss: every dropped message was cut by the partition
        let args = "--scenario movies --nodes 30 --duration-s 8 --fault 1s:partition:2 --fault 4s:heal";
        let c = parse(&args.split(' ').collect::<Vec<_>>()).unwrap();
        let r = crate::sim::run(&c, &mut |_| {}).unwrap();
        assert_eq!(r.lost_messages, 0);
        assert!(r.partitioned_messages > 0, "the partition cut some messages");
        let text = summary(&r);
        assert!(text.contains(&format!(" 0 lost, {} cut by partitions", r.partitioned_messages)), "{text}");
        assert!(text.contains("repaired"), "the partition figures are printed: {text}");
    }
}
