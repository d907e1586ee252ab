//! The `gossip` command line (native only): argument parsing, the progress
//! bar and the readable summary. The binary in `main.rs` only calls [`main`].

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::core::Protocol;
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProtocolArg {
    Flood,
    Push,
    Pull,
    #[value(alias = "push_pull", alias = "pushpull")]
    PushPull,
    Rumor,
}

impl From<ProtocolArg> for Protocol {
    fn from(p: ProtocolArg) -> Self {
        match p {
            ProtocolArg::Flood => Protocol::Flood,
            ProtocolArg::Push => Protocol::Push,
            ProtocolArg::Pull => Protocol::Pull,
            ProtocolArg::PushPull => Protocol::PushPull,
            ProtocolArg::Rumor => Protocol::Rumor,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StopArg {
    Feedback,
    Blind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Switch {
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    Auto,
    Full,
    Compact,
}

/// `gossip sim` flags. Defaults are the literature's (one random partner a
/// round, no eager push) for `single`, and the app's for `movies`.
#[derive(Args, Debug, Clone)]
#[command(allow_negative_numbers = true)]
pub struct SimArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 1000)]
    nodes: u32,
    /// Seed of every random choice (same seed and flags, same result).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Synchronous rounds or discrete events.
    #[arg(long, default_value = "rounds", value_parser = ["rounds", "events"])]
    model: String,
    /// Dissemination protocol.
    #[arg(long, value_enum, default_value_t = ProtocolArg::PushPull)]
    protocol: ProtocolArg,
    /// Peers contacted per round (and per eager push).
    #[arg(long, default_value_t = 1)]
    fanout: u32,
    /// Hops a pushed update may travel.
    #[arg(long, default_value_t = 32)]
    ttl: u32,
    /// Gossip interval (one round), ms.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// One-way link latency, ms (events model).
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Extra uniform delay per message, 0..=jitter, ms (events model).
    #[arg(long, default_value_t = 10)]
    jitter_ms: u64,
    /// Per-link spread of latency, 0..1 (0: every link the same).
    #[arg(long, default_value_t = 0.0)]
    link_spread: f64,
    /// Probability that a message is lost, 0..1.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// `single`: one update at node 0 at time 0; `movies`: the course app;
    /// `broadcast`: clients hand unique values to random nodes (Maelstrom's workload).
    #[arg(long, default_value = "single", value_parser = ["single", "movies", "broadcast"])]
    scenario: String,
    /// broadcast: values handed to the nodes per second, all clients together.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// A backup push-pull exchange with one random peer this often, ms (off by default).
    #[arg(long, value_name = "MS")]
    anti_entropy_ms: Option<u64>,
    /// Partners: drawn independently (`random`) or in shuffled passes over all peers (`round-robin`).
    #[arg(long, default_value = "random", value_parser = ["random", "round-robin"])]
    targets: String,
    /// A named workload whose settings other flags override: `glomers`, the Gossip
    /// Glomers broadcast challenge (25 nodes, 100 ms links, 100 values/s for 20 s,
    /// batched rumor mongering with backup anti-entropy).
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Add a partition that comes and heals: two halves from 5 s to 10 s.
    #[arg(long)]
    partition: bool,
    /// movies, broadcast: how long updates are made (s); single: time limit (default 1000 rounds).
    #[arg(long)]
    duration_s: Option<f64>,
    /// movies: extra time for the last updates to spread before they count as lost (s).
    #[arg(long)]
    settle_s: Option<f64>,
    /// movies: mean time between re-samples of a node's favorite, ms.
    #[arg(long, default_value_t = 10_000)]
    resample_ms: u64,
    /// Rumor stop rule: count only contacts that knew (feedback) or all (blind).
    #[arg(long, value_enum, default_value_t = StopArg::Feedback)]
    stop: StopArg,
    /// Rumor: lose interest after K counted contacts.
    #[arg(long, value_name = "K", conflicts_with = "coin")]
    counter: Option<u8>,
    /// Rumor: lose interest with probability 1/K per counted contact (default K=1).
    #[arg(long, value_name = "K")]
    coin: Option<u8>,
    /// Push fresh updates at once to `fanout` peers (auto: on for movies, off for single).
    #[arg(long, value_enum, default_value_t = Switch::Auto)]
    eager: Switch,
    /// A fault, TIME:KIND[:ARG], repeatable: 10s:partition:2, 20s:heal, 5s:crash:3,
    /// 8s:restart:3, 8s:restart-fresh:3, 12s:join:5, 15s:leave:7, 3s:loss:0.3.
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<String>,
    /// Partners: `full` (uniform over everyone, the theory's model) or
    /// `bootstrap` (the course's: each node starts from node 0 and discovers the rest).
    #[arg(long, default_value = "full", value_parser = ["full", "bootstrap"])]
    membership: String,
    /// Node representation: compact (single rumor, bytes per node) or full core nodes.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    engine: EngineArg,
    /// Threads for the events model (default: the machine's cores; 1: one
    /// event at a time). The result is the same whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    /// Print exactly one JSON object on stdout (keys in the README).
    #[arg(long)]
    json: bool,
    /// No progress bar and no timing line on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// The flags given on the command line (a preset yields to them).
    #[arg(skip)]
    given: Vec<String>,
}

impl SimArgs {
    /// Turn flags into a validated configuration, or say what is wrong.
    pub fn to_config(&self) -> Result<SimConfig, String> {
        let name = |v: &dyn ValueEnumName| v.name();
        let flags = sim::params::SimParams {
            nodes: self.nodes,
            seed: self.seed,
            model: self.model.clone(),
            protocol: Protocol::from(self.protocol).name().into(),
            fanout: self.fanout,
            ttl: self.ttl,
            interval_ms: self.interval_ms,
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            link_spread: self.link_spread,
            loss: self.loss,
            scenario: self.scenario.clone(),
            duration_s: self.duration_s,
            settle_s: self.settle_s,
            resample_ms: self.resample_ms,
            stop: name(&self.stop),
            counter: self.counter,
            coin: self.coin,
            eager: name(&self.eager),
            faults: self.faults.clone(),
            membership: self.membership.clone(),
            engine: name(&self.engine),
            rate: self.rate,
            anti_entropy_ms: self.anti_entropy_ms,
            targets: self.targets.clone(),
        };
        let mut p = match &self.preset {
            None => flags,
            Some(preset) => {
                // the preset, then every flag given on the command line
                let mut p = sim::params::SimParams::preset(preset).map_err(|e| format!("--preset: {e}"))?;
                for (key, value) in flags.to_pairs_all() {
                    if self.given.iter().any(|g| g == key) {
                        p.set(key, &value).map_err(|e| format!("--{}", e.replacen('_', "-", 1)))?;
                    }
                }
                p
            }
        };
        if self.partition {
            p.faults.extend(sim::params::SimParams::partition_faults());
        }
        p.to_config().map_err(|e| {
            // name the flag as it is written on the command line
            let flag = sim::params::NAMES.iter().find(|n| e.starts_with(*n));
            match flag {
                Some(n) => format!("--{}{}", n.replace('_', "-"), &e[n.len()..]),
                None => e,
            }
        })
    }
}

/// The command-line spelling of a value.
trait ValueEnumName {
    fn name(&self) -> String;
}

impl<T: ValueEnum> ValueEnumName for T {
    fn name(&self) -> String {
        self.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default()
    }
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match parse(crate::node_cli::course_form(std::env::args_os().collect())) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Sim(args) => run_sim(&args),
        Command::Node(args) => crate::node_cli::run_node(&args),
        Command::Cluster(args) => crate::node_cli::run_cluster(&args),
    }
}

/// Parse a command line, noting which `sim` flags were given (a preset
/// yields to them).
fn parse(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Command::Sim(a), Some(m)) = (&mut cli.command, matches.subcommand_matches("sim")) {
        a.given = m
            .ids()
            .filter(|id| m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
            .map(|id| id.as_str().to_owned())
            .collect();
    }
    Ok(cli)
}

/// Refuse, before anything is allocated, a run whose views cannot fit in
/// the memory the system has available (Linux's `MemAvailable`; no check
/// where it cannot be read).
fn check_memory(cfg: &SimConfig) -> Result<(), String> {
    let (Some(need), Some(available)) = (sim::views_bytes(cfg), mem_available()) else {
        return Ok(());
    };
    if need <= available {
        return Ok(());
    }
    let gb = |b: u64| b as f64 / 1e9;
    Err(format!(
        "the movies scenario keeps a full view per node: {} nodes need at least {:.1} GB for their views \
         ({} bytes per entry, n^2 entries), and {:.1} GB are available; use fewer nodes",
        cfg.nodes,
        gb(need),
        sim::population::VIEW_BYTES_PER_ORIGIN,
        gb(available)
    ))
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
    let _ = writeln!(
        s,
        "gossip sim: {} nodes, {} model, {} scenario, protocol {} (fanout {}, ttl {}{}), seed {}",
        r.nodes,
        r.model,
        r.scenario,
        r.protocol,
        c.node.fanout,
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
        "  traffic: {} messages ({:.2} per node, {:.2} carrying updates per node), {} bytes, {} duplicates, {} lost",
        r.messages, r.messages_per_node, r.traffic, r.bytes, r.duplicates, r.lost_messages + r.partitioned_messages
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{StopKind, StopRule};
    use crate::sim::Model;

    fn parse(args: &[&str]) -> Result<SimConfig, String> {
        let mut full = vec!["gossip", "sim"];
        full.extend_from_slice(args);
        let cli = super::parse(full.into_iter().map(Into::into).collect()).map_err(|e| e.to_string())?;
        let Command::Sim(a) = cli.command else { unreachable!("parsed as sim") };
        a.to_config()
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
        assert!(parse(&["--preset", "paxos"]).unwrap_err().contains("unknown preset"));
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
            (vec!["--counter", "0", "--protocol", "rumor"], "at least 1"),
        ] {
            let e = parse(&args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }
}
