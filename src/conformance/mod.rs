//! `gossip test-node`: a conformance test for course implementations of
//! the wire protocol (`PROTOCOL.md`), in the spirit of Maelstrom's `test`
//! for Gossip Glomers.
//!
//! ```text
//! gossip test-node --cmd 'python3 node.py -p {port} -b {bootstrap}'
//! gossip test-node --url http://127.0.0.1:7001      # a node already running
//! ```
//!
//! The harness starts the student's node on loopback (bootstrapped from a
//! fake peer that records what it is sent), then reference nodes (this
//! crate's own node, in process) that bootstrap from it, and runs a fixed
//! list of named steps ([`steps::ALL`]): each passes or fails with what was
//! observed and, on failure, a hint naming the `PROTOCOL.md` section to
//! read. Every wait is bounded; the child process is killed when the run
//! ends, on Ctrl-C and in a panic. Exit status: 0 when every required step
//! passes, 1 when one fails, 2 for bad flags, 130 on Ctrl-C or SIGTERM.
//!
//! * [`steps`]: the catalog (names, titles, sections, advice);
//! * [`runner`]: the sequence and every check;
//! * [`launch`]: the `--cmd` template and the child-process guard;
//! * [`fake`]: the recording fake peers;
//! * [`refs`]: the in-process reference nodes (partitioned by `POST /faults`);
//! * [`probe`]: the HTTP client (view reads, pushes);
//! * [`report`]: text and `--json`.

pub mod fake;
pub mod launch;
pub mod probe;
pub mod refs;
pub mod report;
pub mod runner;
pub mod steps;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use launch::{LaunchError, Template};
use runner::{Plan, Target};

/// `gossip test-node` flags.
#[derive(Args, Debug, Clone)]
pub struct TestNodeArgs {
    /// Command that starts your node; {port} becomes its port and
    /// {bootstrap} the port of its bootstrap peer ({bootstrap_url}: its base
    /// URL). Run through `sh -c`.
    #[arg(long, value_name = "COMMAND", required_unless_present = "url", conflicts_with = "url")]
    cmd: Option<String>,
    /// Test a node that is already running at this base URL instead (the
    /// steps that restart it are skipped; those that watch its forwards are
    /// advisory, since its other peers may receive them).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Port for your node with --cmd (default: a free one).
    #[arg(long, conflicts_with = "url")]
    port: Option<u16>,
    /// Bound on each convergence, ms.
    #[arg(long, default_value_t = 5_000)]
    converge_ms: u64,
    /// Time your node has to start listening, ms (default 10000; with --cmd).
    #[arg(long)]
    start_ms: Option<u64>,
    /// How long to watch for forwards after each push, ms.
    #[arg(long, default_value_t = 1_000)]
    watch_ms: u64,
    /// Gossip interval of the reference nodes, ms.
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
    /// Print one JSON object instead of the readable report.
    #[arg(long)]
    json: bool,
    /// Serve the browser lab joined to the nodes under test, open it, and
    /// keep everything running after the report until Ctrl-C.
    #[arg(long)]
    lab: bool,
    /// The lab's static files (with --lab).
    #[arg(long, value_name = "DIR", default_value = "www", requires = "lab")]
    www: PathBuf,
    /// The lab's port (with --lab; 0: any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0, requires = "lab")]
    lab_port: u16,
}

/// Why the flags cannot be used.
#[derive(Debug)]
pub enum UsageError {
    /// A bad `--cmd`.
    Cmd(LaunchError),
    /// A bad `--url`.
    Url(String),
    /// `--port` is taken (or cannot be bound).
    PortInUse(u16, std::io::Error),
    /// No free port for the node.
    NoPort(std::io::Error),
    /// A bound that is 0 or absurd.
    Bound(&'static str),
    /// `--www` is not a directory.
    Www(PathBuf),
    /// A flag of `--cmd` was given with `--url` (named), which would not read it.
    NotWithUrl(&'static str),
}

/// The default `--start-ms`.
const DEFAULT_START_MS: u64 = 10_000;

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UsageError::Cmd(e) => e.fmt(f),
            UsageError::Url(u) => {
                write!(f, "--url must be an http:// base URL such as http://127.0.0.1:7001, got {u:?}")
            }
            UsageError::PortInUse(p, e) => {
                write!(f, "--port {p}: the port is in use ({e}); stop what listens there or choose another port")
            }
            UsageError::NoPort(e) => write!(f, "no free loopback port for the node: {e}"),
            UsageError::Bound(flag) => write!(f, "{flag} must be between 1 and 600000"),
            UsageError::Www(d) => {
                write!(f, "--www must be the lab's directory (www/ of this repository), got {}", d.display())
            }
            UsageError::NotWithUrl(flag) => write!(
                f,
                "{flag} applies to --cmd only (the node the harness starts); a --url node is already running: \
                 leave it out or give --cmd"
            ),
        }
    }
}

impl std::error::Error for UsageError {}

impl TestNodeArgs {
    /// The plan these flags ask for, or what is wrong with them.
    pub fn plan(&self) -> Result<Plan, UsageError> {
        if self.url.is_some() && self.start_ms.is_some() {
            return Err(UsageError::NotWithUrl("--start-ms"));
        }
        let start_ms = self.start_ms.unwrap_or(DEFAULT_START_MS);
        for (v, flag) in [
            (self.converge_ms, "--converge-ms"),
            (start_ms, "--start-ms"),
            (self.watch_ms, "--watch-ms"),
            (self.interval_ms, "--interval-ms"),
        ] {
            if !(1..=600_000).contains(&v) {
                return Err(UsageError::Bound(flag));
            }
        }
        let target = match (&self.cmd, &self.url) {
            (Some(cmd), _) => {
                let template = Template::parse(cmd).map_err(UsageError::Cmd)?;
                let port = match self.port {
                    Some(p) => {
                        std::net::TcpListener::bind(("127.0.0.1", p)).map_err(|e| UsageError::PortInUse(p, e))?;
                        p
                    }
                    None => free_port().map_err(UsageError::NoPort)?,
                };
                Target::Cmd { template, port }
            }
            (None, Some(url)) => {
                let u = url.trim_end_matches('/');
                if !crate::wire::is_base_url(u) || !u.starts_with("http://") {
                    return Err(UsageError::Url(url.clone()));
                }
                Target::Url(u.to_owned())
            }
            (None, None) => return Err(UsageError::Url(String::new())),
        };
        let lab = if self.lab {
            if !self.www.is_dir() {
                return Err(UsageError::Www(self.www.clone()));
            }
            Some((self.www.clone(), self.lab_port))
        } else {
            None
        };
        let ms = Duration::from_millis;
        Ok(Plan {
            target,
            converge: ms(self.converge_ms),
            start: ms(start_ms),
            watch: ms(self.watch_ms),
            interval_ms: self.interval_ms,
            lab,
        })
    }
}

/// A free port for the node under test, below the kernel's ephemeral range
/// (32768 and up by default), so that none of the harness's own listeners
/// or outgoing connections takes it before the node binds it.
fn free_port() -> std::io::Result<u16> {
    let start = 20_000 + (probe::fresh_uuid().as_u128() % 12_000) as u16;
    (0..12_000u16)
        .map(|i| 20_000 + (start - 20_000 + i) % 12_000)
        .find(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        .map_or_else(|| std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()), Ok)
}

/// `gossip test-node ...`: run the steps, print the report, exit 0 only if
/// every required step passed. With `--lab`, the nodes and the lab keep
/// running after the report until Ctrl-C or SIGTERM, and the exit status
/// is still the report's.
pub fn run(args: &TestNodeArgs) -> ExitCode {
    let plan = match args.plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gossip test-node: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gossip test-node: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lab = plan.lab.is_some();
    rt.block_on(async {
        // on Ctrl-C or SIGTERM the run is dropped: its guards kill the node and stop the servers
        let outcome = tokio::select! {
            r = runner::run(plan) => Some(r),
            _ = crate::node_cli::shutdown_signal() => None,
        };
        let (report, keep) = match outcome {
            None => {
                eprintln!("gossip test-node: interrupted");
                return ExitCode::from(130);
            }
            Some(Err(e)) => {
                eprintln!("gossip test-node: {e}");
                return ExitCode::FAILURE;
            }
            Some(Ok(r)) => r,
        };
        if args.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.text());
        }
        if lab && keep.is_some() {
            eprintln!("gossip test-node: the nodes and the lab keep running; Ctrl-C to stop");
            crate::node_cli::shutdown_signal().await;
        }
        drop(keep);
        if report.passed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
