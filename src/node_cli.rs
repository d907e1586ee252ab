//! The command line of the native node: `gossip -p 7001 -b 7000` (the
//! course's form, same as `gossip node -p 7001 -b 7000`) and
//! `gossip cluster --nodes 5 --base-port 7000` (with `--www DIR`, also the
//! browser lab's site, pointed at the cluster). Parsing, validation (bad
//! input exits 2 with one line), logging set-up, the tokio runtime and the
//! Ctrl-C / SIGTERM handling live here; the node itself is [`crate::server`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Args};

use crate::cli::TableValue;
use crate::core::membership::swim::{Scale, SwimConfig};
use crate::core::{Config, Policy, Protocol, StopRule};
use crate::server::{self, NodeOptions};
use crate::sim::params::SimParams;
use crate::sim::table::{self, ParamError};

/// Why a node's (or a cluster's) command line was refused: `gossip` prints
/// it as one line and exits 2, before anything is bound.
#[derive(Debug)]
pub enum NodeArgsError {
    /// A flag's value: the flag (`--fanout`), what it takes, what it got.
    Flag(ParamError),
    /// The TLS certificate or key could not be loaded.
    Tls(server::tls::TlsError),
    /// A data directory could not be opened or written.
    DataDir(server::store::StoreError),
}

impl std::fmt::Display for NodeArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeArgsError::Flag(e) => f.write_str(&e.cli_message()),
            NodeArgsError::Tls(e) => write!(f, "{e}"),
            NodeArgsError::DataDir(e) => write!(f, "--data-dir: {e}"),
        }
    }
}

impl std::error::Error for NodeArgsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NodeArgsError::Flag(e) => Some(e),
            NodeArgsError::Tls(e) => Some(e),
            NodeArgsError::DataDir(e) => Some(e),
        }
    }
}

impl From<ParamError> for NodeArgsError {
    fn from(e: ParamError) -> Self {
        NodeArgsError::Flag(e)
    }
}

/// `flag` must lie in `range` (as the message says it), got `given`.
fn out_of_range(flag: &str, range: &str, given: impl std::fmt::Display) -> NodeArgsError {
    ParamError::out_of_range(flag, range, given).into()
}

/// A rule about `flag` refuses what was given, for `reason` (which names it).
fn rule(flag: &str, reason: impl Into<String>) -> NodeArgsError {
    ParamError::rule(flag, reason).into()
}

/// The protocol parameters `gossip node` (and `gossip cluster`) shares with
/// `gossip sim`, by their names in the parameter table
/// ([`crate::sim::table::TABLE`]), with the node's default where it is not
/// the simulator's (`None`: the table's). Their flags, help, allowed values
/// and checks are the table's, so a value gets the same message on either
/// command; a parameter the chosen protocol does not read (`--counter`
/// with push-pull) is refused, naming it, as `gossip sim` refuses it.
const SHARED: &[(&str, Option<&str>)] = &[
    ("protocol", None),
    ("eager", None),
    ("fanout", Some("2")),
    ("ttl", Some("6")),
    ("interval_ms", None),
    ("stop", None),
    ("counter", None),
    ("coin", None),
    ("anti_entropy_ms", None),
    ("targets", None),
];

/// The values of the `SHARED` flags, as text (the table checks them).
#[derive(Clone, Debug, Default)]
pub struct Shared {
    /// `(name, text, typed)` for each shared parameter: its value (the
    /// default if it was not given; empty: none) and whether the command
    /// line gave it.
    values: Vec<(&'static str, String, bool)>,
}

/// The clap argument of the shared parameter `name`: the table's, without
/// its `gossip sim` heading, with the node's `default`; `--protocol` lists
/// only the protocols a node runs (not the overlay's).
fn shared_arg(name: &'static str, default: Option<&'static str>) -> Arg {
    let p = table::param(name).expect("every shared parameter is in the table");
    let mut arg = crate::cli::table_arg(p).help_heading(None::<&str>);
    if let Some(d) = default {
        arg = arg.default_value(d);
    }
    if matches!(p.kind, table::Kind::Protocol) {
        let infos = Protocol::ALL.iter().map(|p| p.info()).filter(|i| !i.overlay);
        arg = arg.value_parser(TableValue::of(infos.map(|i| (i.name, i.summary, i.aliases))));
    }
    arg
}

impl Args for Shared {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SHARED.iter().fold(cmd, |cmd, &(name, default)| cmd.arg(shared_arg(name, default)))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for Shared {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let values = SHARED
            .iter()
            .map(|&(name, _)| {
                let text = m.get_one::<String>(name).cloned().unwrap_or_default();
                (name, text, m.value_source(name) == Some(ValueSource::CommandLine))
            })
            .collect();
        Ok(Shared { values })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// A table error about a shared parameter, naming it by its flag
/// (`--fanout`), as the node's other flag errors do.
fn as_flag(e: ParamError) -> NodeArgsError {
    NodeArgsError::Flag(ParamError { param: table::flag_of(&e.param), ..e })
}

/// What the shared flags set.
struct SharedValues {
    protocol: Protocol,
    eager_push: bool,
    fanout: u32,
    ttl: u32,
    interval_ms: u64,
    stop: StopRule,
    /// The backup anti-entropy exchange's period, ms (`None`: off).
    anti_entropy_ms: Option<u64>,
    /// Partners by shuffled passes over every peer (`--targets round-robin`).
    round_robin: bool,
}

impl Shared {
    /// The values, checked by the table; a parameter given that the
    /// protocol does not read, and a protocol no node runs, are refused.
    fn values(&self) -> Result<SharedValues, NodeArgsError> {
        let mut p = SimParams::default();
        for (name, text, _) in &self.values {
            p.set(name, text).map_err(as_flag)?;
        }
        let protocol = Protocol::parse(&p.protocol).expect("the table checked the name");
        if protocol.info().overlay {
            let why =
                format!("{protocol} runs only in the simulator over an overlay (gossip sim --membership hyparview)");
            return Err(rule("--protocol", why));
        }
        // its own reason names it: `--counter: it applies to rumor only, ...`
        let typed = self.values.iter().filter(|v| v.2).map(|v| v.0);
        table::refuse_unread(typed, protocol, |_| "it".into()).map_err(as_flag)?;
        let stop = StopRule::from_flags(&p.stop, p.counter, p.coin)
            .map_err(|e| rule(&format!("--{}", e.param()), e.to_string()))?;
        let eager_push = match p.eager.as_str() {
            "auto" => protocol.info().no_eager.is_none(),
            e => e == "on",
        };
        Ok(SharedValues {
            protocol,
            eager_push,
            fanout: p.fanout,
            ttl: p.ttl,
            interval_ms: p.interval_ms,
            stop,
            anti_entropy_ms: p.anti_entropy_ms,
            round_robin: p.round_robin(),
        })
    }
}

/// A `--forget-after` value: `never`, or a whole number with a unit (`ms`,
/// `s`, `m`, `h`), from 1 s to 30 days; in ms (`None`: never).
#[derive(Clone, Copy, Debug)]
struct ForgetAfter(Option<u64>);

fn parse_forget_after(s: &str) -> Result<ForgetAfter, ParamError> {
    let refuse = |why: String| ParamError::rule("--forget-after", why);
    let t = s.trim();
    if t == "never" {
        return Ok(ForgetAfter(None));
    }
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "" => return Err(refuse(format!("{s:?} has no unit: write e.g. 10m, 90s, 1h, or never"))),
        _ => return Err(refuse(format!("{s:?}: the unit must be ms, s, m or h (e.g. 10m), or the value never"))),
    };
    let n: u64 =
        n.parse().map_err(|_| refuse(format!("{s:?} is not a whole number with a unit (e.g. 10m), nor never")))?;
    let ms = n.checked_mul(scale).filter(|ms| (1_000..=30 * 86_400_000).contains(ms));
    ms.map(|ms| ForgetAfter(Some(ms)))
        .ok_or_else(|| refuse(format!("{s:?} is out of range: from 1s to 30 days (720h), or never")))
}

/// Protocol and driver settings shared by `gossip node` and `gossip cluster`.
#[derive(Args, Debug, Clone)]
pub struct Tuning {
    /// The protocol parameters shared with `gossip sim`, from its table.
    #[command(flatten)]
    shared: Shared,
    /// Pick a new favorite movie about this often, ms (±20 % jitter; 0: never).
    #[arg(long, default_value_t = 20_000)]
    change_ms: u64,
    /// Remove a peer that has not answered for this long, ms (it is suspect from its first failure).
    #[arg(long, default_value_t = 30_000)]
    remove_after_ms: u64,
    /// Forget an origin silent this long (no new version, no request from
    /// it), e.g. 10m, 90s, 1h, or never; a tombstone keeps its old versions
    /// from coming back, so closed pages and stopped nodes leave every view.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_forget_after)]
    forget_after: ForgetAfter,
    /// Timeout of an outgoing exchange, ms (connecting: at most 1 s of it).
    #[arg(long, default_value_t = 3_000)]
    request_timeout_ms: u64,
    /// Time a client has to send its request head, then its body, ms.
    #[arg(long, default_value_t = 5_000)]
    read_timeout_ms: u64,
    /// Largest request body accepted, bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Refuse every update without its origin's Ed25519 seal (by default,
    /// unsigned updates are welcome for origins never seen signed, so that
    /// course implementations that do not sign interoperate).
    #[arg(long)]
    require_signed: bool,
    /// The default, kept so that older command lines still work: unsigned
    /// updates are welcome for origins never seen signed (shown as
    /// unverified); an origin seen signed must stay signed by its key.
    #[arg(long, conflicts_with = "require_signed")]
    allow_unsigned: bool,
    /// Most requests handled at once; more get 503 with Retry-After (one client may hold half).
    #[arg(long, default_value_t = 256)]
    max_concurrent: usize,
    /// Requests a second per client IP, bursts of twice that; more get 429 (0: no limit).
    #[arg(long, default_value_t = 1_000)]
    client_rps: u32,
    /// Most connections open at once per client IP; more are closed unanswered.
    #[arg(long, default_value_t = 256)]
    client_conns: usize,
    /// Test only: enable POST /faults, which makes this node drop traffic to and from given URLs.
    #[arg(long)]
    allow_faults: bool,
    /// Failure detector: swim (probes over POST /swim/, indirect probes
    /// through other peers, suspicion gossiped with incarnations; see
    /// PROTOCOL.md) or simple (a peer is suspect from its first failed
    /// exchange).
    #[arg(long, default_value = "swim", value_parser = ["swim", "simple"])]
    failure_detector: String,
    /// SWIM's parameters: lifeguard (the paper's SWIM with Lifeguard's three
    /// parts, the default), paper (without them) or memberlist-lan
    /// (hashicorp/memberlist's LAN defaults and log10 formulas).
    #[arg(long, value_name = "PRESET", value_parser = ["lifeguard", "paper", "memberlist-lan"])]
    swim_preset: Option<String>,
    /// SWIM's protocol period T', ms: one probe per period (default: --interval-ms).
    #[arg(long, value_name = "MS")]
    probe_interval_ms: Option<u64>,
    /// SWIM: wait this long for a direct ack before asking helpers, ms
    /// (default: half the probe interval).
    #[arg(long, value_name = "MS")]
    probe_timeout_ms: Option<u64>,
    /// SWIM: suspicion timeout (Lifeguard's minimum) = mult x log(n) probe
    /// intervals (default: the preset's, 3; memberlist-lan 4).
    #[arg(long, value_name = "MULT")]
    suspicion_mult: Option<u32>,
    /// SWIM: helpers asked to ping a member that did not ack (default 3).
    #[arg(long, value_name = "K")]
    indirect_k: Option<u32>,
    /// Worker threads (1: a single-threaded runtime, plenty for a node).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    #[command(flatten)]
    tls: TlsArgs,
}

/// TLS flags shared by `gossip node` and `gossip cluster`.
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (leaf first; needs
    /// --tls-key). The default advertised URL and `-b PORT` become https://.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert's certificate, PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// When dialing https:// peers, also trust the CA certificates in this
    /// PEM file (repeatable; beside the system's roots). Certificates are
    /// always checked.
    #[arg(long, value_name = "FILE")]
    tls_ca: Vec<PathBuf>,
}

/// What the TLS flags load: the server's configuration (with
/// `--tls-cert`/`--tls-key`) and the client's (with `--tls-ca`).
#[derive(Clone, Debug, Default)]
struct TlsSetup {
    server: Option<std::sync::Arc<rustls::ServerConfig>>,
    client: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl TlsArgs {
    /// Read and check every file the flags name (once, however many nodes
    /// use them).
    fn load(&self) -> Result<TlsSetup, server::tls::TlsError> {
        let server = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(server::tls::server_config(cert, key)?),
            _ => None, // clap requires both or neither
        };
        let client = if self.tls_ca.is_empty() { None } else { Some(server::tls::client_config(&self.tls_ca)?) };
        Ok(TlsSetup { server, client })
    }
}

impl TlsSetup {
    /// The scheme of the URLs this setup's nodes serve.
    fn scheme(&self) -> &'static str {
        if self.server.is_some() {
            "https"
        } else {
            "http"
        }
    }

    fn apply(&self, opts: &mut NodeOptions) {
        opts.tls_server = self.server.clone();
        opts.tls_client = self.client.clone();
    }
}

impl Tuning {
    /// SWIM's configuration from the flags (`None`: the simple detector;
    /// SWIM's flags are then refused, not ignored), its probe interval by
    /// default the gossip interval `interval_ms`.
    fn swim(&self, interval_ms: u64) -> Result<Option<SwimConfig>, NodeArgsError> {
        if self.failure_detector == "simple" {
            let given = [
                ("--swim-preset", self.swim_preset.is_some()),
                ("--probe-interval-ms", self.probe_interval_ms.is_some()),
                ("--probe-timeout-ms", self.probe_timeout_ms.is_some()),
                ("--suspicion-mult", self.suspicion_mult.is_some()),
                ("--indirect-k", self.indirect_k.is_some()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
                return Err(rule(
                    flag,
                    format!("{flag} applies to --failure-detector swim only: leave it out or choose swim"),
                ));
            }
            return Ok(None);
        }
        let mut cfg = match self.swim_preset.as_deref() {
            Some("paper") => SwimConfig::paper(),
            Some("memberlist-lan") => SwimConfig::memberlist_lan(),
            _ => SwimConfig::lifeguard(),
        };
        let interval = self.probe_interval_ms.unwrap_or(interval_ms);
        if !(10..=600_000).contains(&interval) {
            return Err(out_of_range(
                "--probe-interval-ms",
                "between 10 and 600000 (it defaults to --interval-ms)",
                interval,
            ));
        }
        cfg.probe_interval_ms = interval;
        cfg.probe_timeout_ms = self.probe_timeout_ms.unwrap_or(interval / 2);
        if cfg.probe_timeout_ms == 0 || cfg.probe_timeout_ms >= interval {
            let range = format!("at least 1 and shorter than the probe interval ({interval} ms)");
            return Err(out_of_range("--probe-timeout-ms", &range, cfg.probe_timeout_ms));
        }
        if let Some(m) = self.suspicion_mult {
            if !(1..=1000).contains(&m) {
                return Err(out_of_range("--suspicion-mult", "between 1 and 1000", m));
            }
            cfg.suspicion_mult = m;
            if cfg.buddy && cfg.scale == Scale::Memberlist {
                cfg.suspicion_k = m.saturating_sub(2); // memberlist's K = SuspicionMult - 2
            }
        }
        if let Some(k) = self.indirect_k {
            if k > 64 {
                return Err(out_of_range("--indirect-k", "between 0 and 64", k));
            }
            cfg.indirect_checks = k;
        }
        cfg.check().map_err(|e| rule("--failure-detector", format!("SWIM: {e}")))?;
        Ok(Some(cfg))
    }

    fn options(&self) -> Result<NodeOptions, NodeArgsError> {
        let positive = |v: u64, flag: &str| if v == 0 { Err(out_of_range(flag, "at least 1", v)) } else { Ok(v) };
        let shared = self.shared.values()?;
        if !(1..=256).contains(&self.threads) {
            return Err(out_of_range("--threads", "between 1 and 256", self.threads));
        }
        if self.max_body_bytes < 1024 {
            return Err(out_of_range("--max-body-bytes", "at least 1024", self.max_body_bytes));
        }
        if !(1..=1_000_000).contains(&self.max_concurrent) {
            return Err(out_of_range("--max-concurrent", "between 1 and 1000000", self.max_concurrent));
        }
        if !(1..=1_000_000).contains(&self.client_conns) {
            return Err(out_of_range("--client-conns", "between 1 and 1000000", self.client_conns));
        }
        let core = Config {
            protocol: shared.protocol,
            fanout: shared.fanout,
            ttl: shared.ttl,
            interval_ms: shared.interval_ms,
            eager_push: shared.eager_push,
            stop: shared.stop,
            anti_entropy_ms: shared.anti_entropy_ms,
            round_robin: shared.round_robin,
            resample_ms: (self.change_ms > 0).then_some(self.change_ms),
            resample_jitter_ms: self.change_ms / 5,
            auth: match (self.require_signed, self.allow_unsigned) {
                (true, true) => {
                    return Err(rule("--require-signed", "--require-signed and --allow-unsigned contradict each other"))
                }
                (true, false) => Policy::Required,
                // --allow-unsigned names the default
                (false, _) => Policy::Welcome,
            },
            ..Config::default()
        };
        core.check().map_err(|e| rule(&format!("--{}", e.param()), e.to_string()))?;
        Ok(NodeOptions {
            core,
            remove_after_ms: positive(self.remove_after_ms, "--remove-after-ms")?,
            forget_after_ms: self.forget_after.0,
            request_timeout_ms: positive(self.request_timeout_ms, "--request-timeout-ms")?,
            connect_timeout_ms: self.request_timeout_ms.min(1_000),
            read_timeout_ms: positive(self.read_timeout_ms, "--read-timeout-ms")?,
            max_body_bytes: self.max_body_bytes,
            max_concurrent: self.max_concurrent,
            client_rps: self.client_rps,
            client_conns: self.client_conns,
            allow_faults: self.allow_faults,
            swim: self.swim(shared.interval_ms)?,
            ..NodeOptions::default()
        })
    }
}

/// `gossip node` flags (also accepted without the `node` subcommand).
#[derive(Args, Debug, Clone)]
pub struct NodeArgs {
    /// Port to listen on (0: any free port).
    #[arg(short = 'p', long, default_value_t = 7000)]
    port: u16,
    /// Bootstrap from the node on this port of this host; your own port (or none) starts a new network.
    #[arg(short = 'b', long = "bootstrap-port", value_name = "PORT")]
    bootstrap_port: Option<u16>,
    /// Bootstrap from the node at this base URL (repeatable), e.g. http://10.0.0.5:7000.
    #[arg(long, value_name = "URL")]
    bootstrap: Vec<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Base URL other nodes reach this one at (default: http://BIND:PORT).
    #[arg(long, value_name = "URL")]
    advertise: Option<String>,
    /// Identity (default: the advertised URL, which embeds the port).
    #[arg(long)]
    id: Option<String>,
    /// First favorite movie (default: a random title from the course's list).
    #[arg(long)]
    movie: Option<String>,
    /// Keep the epoch and the key seed here across restarts (DIR/node.json).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    tuning: Tuning,
}

/// `gossip cluster` flags.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 5)]
    nodes: u16,
    /// Port of the first node; node i listens on base-port + i and bootstraps from the first.
    #[arg(long, default_value_t = 7000)]
    base_port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Also serve the browser lab from this directory (e.g. www), with
    /// /lab-config.json pointing the page at the cluster's nodes.
    #[arg(long, value_name = "DIR")]
    www: Option<PathBuf>,
    /// Port of the lab's site (with --www).
    #[arg(long, value_name = "PORT", default_value_t = 8080, requires = "www")]
    www_port: u16,
    /// Keep each node's epoch and key seed in DIR/PORT across restarts.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    tuning: Tuning,
}

/// The lab's static site to serve beside a cluster: where, from which
/// directory, and where its page finds the nodes.
#[derive(Debug)]
struct LabSite {
    addr: SocketAddr,
    dir: PathBuf,
    config: server::lab::LabConfig,
    /// Serve it over HTTPS (the nodes' `--tls-cert`/`--tls-key`).
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

/// What `gossip cluster` runs: its nodes (address, options) and, with
/// `--www`, the lab's site.
#[derive(Debug)]
struct ClusterPlan {
    nodes: Vec<(SocketAddr, NodeOptions)>,
    lab: Option<LabSite>,
}

fn check_url(flag: &str, u: &str) -> Result<(), NodeArgsError> {
    if !crate::wire::is_base_url(u) {
        return Err(out_of_range(flag, "an http:// or https:// base URL", format_args!("{u:?}")));
    }
    Ok(())
}

impl ClusterArgs {
    /// Each node's address and options, and the lab's site if `--www` is
    /// given, or what is wrong.
    fn to_options(&self) -> Result<ClusterPlan, NodeArgsError> {
        if !(1..=1000).contains(&self.nodes) {
            return Err(out_of_range("--nodes", "between 1 and 1000", self.nodes));
        }
        if self.base_port == 0 || self.base_port as u32 + self.nodes as u32 - 1 > u16::MAX as u32 {
            let range = format!("at least 1 and at most {} (room for every node's port)", 65_536 - self.nodes as u32);
            return Err(out_of_range("--base-port", &range, self.base_port));
        }
        let tls = self.tuning.tls.load().map_err(NodeArgsError::Tls)?;
        let base = server::base_url(tls.scheme(), SocketAddr::new(self.bind, self.base_port));
        let nodes: Vec<(SocketAddr, NodeOptions)> = (0..self.nodes)
            .map(|i| {
                let addr = SocketAddr::new(self.bind, self.base_port + i);
                let mut opts = self.tuning.options()?;
                tls.apply(&mut opts);
                opts.bootstrap = vec![base.clone()];
                opts.data_dir = self.data_dir.as_ref().map(|d| d.join(addr.port().to_string()));
                Ok((addr, opts))
            })
            .collect::<Result<_, NodeArgsError>>()?;
        let lab = match &self.www {
            None => None,
            Some(dir) if !dir.is_dir() => {
                return Err(out_of_range("--www", "a directory (the lab's www/)", dir.display()));
            }
            Some(dir) => {
                // every node's port is fixed (never 0), so these are the URLs they advertise
                let urls = nodes.iter().map(|(addr, opts)| server::advertised_url(opts, *addr)).collect();
                let addr = SocketAddr::new(self.bind, self.www_port);
                let config = server::lab::LabConfig::new(urls);
                Some(LabSite { addr, dir: dir.clone(), config, tls: tls.server.clone() })
            }
        };
        Ok(ClusterPlan { nodes, lab })
    }
}

impl NodeArgs {
    /// The address to bind and the node's options, or what is wrong.
    pub fn to_options(&self) -> Result<(SocketAddr, NodeOptions), NodeArgsError> {
        let addr = SocketAddr::new(self.bind, self.port);
        let mut opts = self.tuning.options()?;
        let tls = self.tuning.tls.load().map_err(NodeArgsError::Tls)?;
        tls.apply(&mut opts);
        // `-b PORT` is a node on this host speaking what this one speaks
        let host = server::base_url(tls.scheme(), SocketAddr::new(self.bind, 0));
        let host = host.trim_end_matches(":0");
        opts.bootstrap = self.bootstrap.clone();
        if self.bootstrap_port == Some(0) {
            return Err(out_of_range("-b", "the bootstrap node's port, 1 to 65535", 0));
        }
        if let Some(p) = self.bootstrap_port {
            opts.bootstrap.push(format!("{host}:{p}"));
        }
        for b in &opts.bootstrap {
            check_url("--bootstrap", b)?;
        }
        if let Some(a) = &self.advertise {
            check_url("--advertise", a)?;
            if opts.tls_server.is_some() && a.starts_with("http://") {
                return Err(rule(
                    "--advertise",
                    format!("--advertise {a:?} is http:// but this node serves HTTPS (--tls-cert)"),
                ));
            }
        }
        if let Some(id) = &self.id {
            if id.is_empty() || id.len() > opts.limits.max_id_len {
                let range = format!("1 to {} bytes long", opts.limits.max_id_len);
                return Err(out_of_range("--id", &range, format_args!("{} bytes", id.len())));
            }
        }
        if let Some(m) = &self.movie {
            if m.is_empty() || m.len() > opts.core.max_payload {
                let range = format!("1 to {} bytes long", opts.core.max_payload);
                return Err(out_of_range("--movie", &range, format_args!("{} bytes", m.len())));
            }
        }
        opts.advertise = self.advertise.clone();
        opts.id = self.id.clone();
        opts.movie = self.movie.clone();
        opts.data_dir = self.data_dir.clone();
        Ok((addr, opts))
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    }
}

/// Resolves at Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("signal received, shutting down");
}

/// Bind every address first (so a taken port fails before anything starts),
/// then run one node per listener, and the lab's site if asked, until a signal.
fn serve_all(what: &str, threads: usize, nodes: Vec<(SocketAddr, NodeOptions)>, lab: Option<LabSite>) -> ExitCode {
    init_logging();
    let rt = match runtime(threads) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gossip {what}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        let mut listeners = Vec::new();
        for (addr, opts) in nodes {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => listeners.push((l, opts)),
                Err(e) => {
                    eprintln!("gossip {what}: cannot listen on {addr}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let site = match lab {
            None => None,
            Some(site) => match tokio::net::TcpListener::bind(site.addr).await {
                Ok(l) => Some((l, server::lab::lab_app(site.dir, site.config), site.tls)),
                Err(e) => {
                    eprintln!("gossip {what}: cannot serve the lab on port {} ({}): {e}", site.addr.port(), site.addr);
                    return ExitCode::FAILURE;
                }
            },
        };
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stop = || {
            let mut rx = rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let mut tasks = Vec::new();
        for (l, opts) in listeners {
            tasks.push(tokio::spawn(server::run(l, opts, stop())));
        }
        let site = site.map(|(l, app, tls)| tokio::spawn(server::lab::run_lab(l, app, tls, stop())));
        shutdown_signal().await;
        let _ = tx.send(true);
        let mut code = ExitCode::SUCCESS;
        for t in tasks {
            if !matches!(t.await, Ok(Ok(_))) {
                code = ExitCode::FAILURE;
            }
        }
        if let Some(t) = site {
            if t.await.is_err() {
                code = ExitCode::FAILURE;
            }
        }
        code
    })
}

/// Start a new incarnation in each node's data directory (if it has one)
/// before anything is bound or served.
fn open_data_dirs<'a>(nodes: impl IntoIterator<Item = &'a mut NodeOptions>) -> Result<(), NodeArgsError> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for opts in nodes {
        opts.open_data_dir(now).map_err(NodeArgsError::DataDir)?;
    }
    Ok(())
}

/// `gossip [node] -p PORT -b PORT ...`: run one node until Ctrl-C or SIGTERM.
pub fn run_node(args: &NodeArgs) -> ExitCode {
    let node = args.to_options().and_then(|(addr, mut opts)| {
        open_data_dirs([&mut opts])?;
        Ok((addr, opts))
    });
    match node {
        Ok(node) => serve_all("node", args.tuning.threads, vec![node], None),
        Err(e) => {
            eprintln!("gossip: {e}");
            ExitCode::from(2)
        }
    }
}

/// `gossip cluster --nodes N --base-port P [--www DIR --www-port Q]`: N
/// nodes in this process, node 0 on port P alone, the others on P+1..
/// bootstrapping from it; with `--www`, the lab's site on port Q too.
pub fn run_cluster(args: &ClusterArgs) -> ExitCode {
    let plan = args.to_options().and_then(|mut plan| {
        open_data_dirs(plan.nodes.iter_mut().map(|(_, o)| o))?;
        Ok(plan)
    });
    match plan {
        Ok(ClusterPlan { nodes, lab }) => {
            for (addr, opts) in &nodes {
                println!("{}", server::advertised_url(opts, *addr));
            }
            serve_all("cluster", args.tuning.threads, nodes, lab)
        }
        Err(e) => {
            eprintln!("gossip cluster: {e}");
            ExitCode::from(2)
        }
    }
}

/// The course's form has no subcommand: `gossip -p 7001 -b 7000` means
/// `gossip node -p 7001 -b 7000`. Rewrites the arguments accordingly.
pub fn course_form(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    let help_or_version = matches!(first, "-h" | "--help" | "-V" | "--version");
    if first.starts_with('-') && !help_or_version {
        args.insert(1, "node".into());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::StopKind;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        node: NodeArgs,
    }

    fn parse(args: &[&str]) -> Result<(SocketAddr, NodeOptions), String> {
        let full = std::iter::once("gossip").chain(args.iter().copied());
        T::try_parse_from(full).map_err(|e| e.to_string())?.node.to_options().map_err(|e| e.to_string())
    }

    #[derive(Parser)]
    struct C {
        #[command(flatten)]
        cluster: ClusterArgs,
    }

    fn parse_cluster(args: &[&str]) -> Result<ClusterPlan, String> {
        let full = std::iter::once("gossip").chain(args.iter().copied());
        C::try_parse_from(full).map_err(|e| e.to_string())?.cluster.to_options().map_err(|e| e.to_string())
    }

    #[test]
    fn cluster_www_serves_the_lab_on_its_port_and_points_it_at_every_node() {
        let www = env!("CARGO_MANIFEST_DIR");
        let ClusterPlan { nodes, lab } =
            parse_cluster(&["--nodes", "3", "--base-port", "7100", "--bind", "0.0.0.0", "--www", www]).unwrap();
        assert_eq!(nodes.len(), 3);
        let lab = lab.expect("--www asks for the lab");
        assert_eq!(lab.addr, "0.0.0.0:8080".parse().unwrap(), "on --bind, port 8080 by default");
        assert_eq!(lab.dir, std::path::PathBuf::from(www));
        let urls = ["http://127.0.0.1:7100", "http://127.0.0.1:7101", "http://127.0.0.1:7102"];
        assert_eq!(
            lab.config,
            server::lab::LabConfig { connect: urls[0].into(), nodes: urls.map(String::from).into() }
        );
        let lab = parse_cluster(&["--www", www, "--www-port", "9000"]).unwrap().lab;
        assert_eq!(lab.unwrap().addr, "127.0.0.1:9000".parse().unwrap());
        assert!(parse_cluster(&[]).unwrap().lab.is_none(), "no lab without --www");
    }

    /// A self-signed certificate for 127.0.0.1 and its key, as PEM files in `dir`.
    fn self_signed(dir: &std::path::Path) -> (String, String) {
        std::fs::create_dir_all(dir).unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        (cert.to_str().unwrap().into(), key.to_str().unwrap().into())
    }

    #[test]
    fn with_a_tls_cert_urls_bootstraps_and_the_lab_are_https_and_tls_ca_alone_changes_no_url() {
        let dir = std::env::temp_dir().join(format!("gossip-cli-tls-{}", std::process::id()));
        let (cert, key) = self_signed(&dir);
        let (_, o) = parse(&["-p", "7001", "-b", "7000", "--tls-cert", &cert, "--tls-key", &key]).unwrap();
        assert_eq!(o.bootstrap, vec!["https://127.0.0.1:7000".to_string()], "-b PORT speaks what the node speaks");
        assert!(o.tls_server.is_some() && o.tls_client.is_none());
        assert_eq!(server::advertised_url(&o, "127.0.0.1:7001".parse().unwrap()), "https://127.0.0.1:7001");
        let (_, o) = parse(&["-p", "7001", "-b", "7000", "--tls-ca", &cert]).unwrap();
        assert_eq!(o.bootstrap, vec!["http://127.0.0.1:7000".to_string()]);
        assert!(o.tls_server.is_none() && o.tls_client.is_some());
        assert_eq!(server::advertised_url(&o, "127.0.0.1:7001".parse().unwrap()), "http://127.0.0.1:7001");
        let (_, o) =
            parse(&["--bootstrap", "https://node.example:7000", "--advertise", "https://me.example:7001"]).unwrap();
        assert_eq!(o.bootstrap, vec!["https://node.example:7000".to_string()], "https peers need no flag");

        let www = env!("CARGO_MANIFEST_DIR");
        let tls = ["--tls-cert", &cert, "--tls-key", &key];
        let plan = parse_cluster(&[&["--nodes", "2", "--base-port", "7100", "--www", www][..], &tls].concat()).unwrap();
        let urls = ["https://127.0.0.1:7100", "https://127.0.0.1:7101"];
        assert_eq!(plan.lab.as_ref().unwrap().config.nodes, urls.map(String::from));
        assert!(plan.lab.unwrap().tls.is_some(), "the lab's site is served over HTTPS too");
        assert!(plan.nodes.iter().all(|(_, o)| o.bootstrap == [urls[0]] && o.tls_server.is_some()));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_cluster_lab_flags_are_rejected_with_a_reason() {
        let e = parse_cluster(&["--www", "/no/such/dir"]).unwrap_err();
        assert!(e.contains("--www must be a directory") && e.contains("/no/such/dir"), "{e}");
        let e = parse_cluster(&["--www-port", "9000"]).unwrap_err();
        assert!(e.contains("--www"), "--www-port needs --www: {e}");
    }

    #[test]
    fn a_refused_flag_is_a_typed_error_naming_the_flag_what_it_takes_and_what_it_got() {
        let refused = |args: &[&str]| {
            let full = std::iter::once("gossip").chain(args.iter().copied());
            match T::try_parse_from(full).unwrap().node.to_options() {
                Err(NodeArgsError::Flag(e)) => e,
                other => panic!("{args:?} should be refused as a flag, got {other:?}"),
            }
        };
        // the parameter table's range (gossip sim's), named by the node's flag
        let e = refused(&["--fanout", "0"]);
        assert_eq!((e.param.as_str(), e.expected.as_str(), e.given.as_str()), ("--fanout", "between 1 and 10000", "0"));
        let e = refused(&["--probe-interval-ms", "5"]);
        assert_eq!((e.param.as_str(), e.given.as_str()), ("--probe-interval-ms", "5"));
        let e = refused(&["--failure-detector", "simple", "--indirect-k", "3"]);
        assert_eq!(e.param, "--indirect-k");
        assert!(e.to_string().contains("swim only"), "{e}");
        let e = refused(&["--bootstrap", "ftp://x"]);
        assert_eq!((e.param.as_str(), e.given.as_str()), ("--bootstrap", "\"ftp://x\""));
        assert_eq!(e.cli_message(), "--bootstrap must be an http:// or https:// base URL, got \"ftp://x\"");
    }

    #[test]
    fn the_course_form_maps_to_a_node_bootstrapping_from_a_local_port() {
        let (addr, o) = parse(&["-p", "7001", "-b", "7000"]).unwrap();
        assert_eq!(addr, "127.0.0.1:7001".parse().unwrap());
        assert_eq!(o.bootstrap, vec!["http://127.0.0.1:7000".to_string()]);
        assert_eq!(o.core.protocol, Protocol::PushPull);
        assert!(o.core.eager_push, "the app pushes fresh updates at once by default");
        assert_eq!(o.core.resample_ms, Some(20_000));
        let args: Vec<std::ffi::OsString> = ["gossip", "-p", "7001"].iter().map(Into::into).collect();
        assert_eq!(course_form(args)[1], "node");
        let args: Vec<std::ffi::OsString> = ["gossip", "sim"].iter().map(Into::into).collect();
        assert_eq!(course_form(args)[1], "sim");
    }

    #[test]
    fn flags_reach_the_core_configuration() {
        let (_, o) = parse(&[
            "--protocol",
            "rumor",
            "--counter",
            "3",
            "--stop",
            "blind",
            "--interval-ms",
            "250",
            "--change-ms",
            "0",
            "--bootstrap",
            "http://10.1.2.3:7000/",
            "--id",
            "alice",
        ])
        .unwrap();
        assert_eq!(o.core.protocol, Protocol::Rumor);
        assert!(!o.core.eager_push, "eager push is off where the protocol already pushes");
        assert_eq!(o.core.stop, StopRule { feedback: false, kind: StopKind::Counter(3) });
        assert_eq!(o.core.interval_ms, 250);
        assert_eq!(o.core.resample_ms, None);
        assert_eq!(o.id.as_deref(), Some("alice"));
        assert_eq!(o.bootstrap, vec!["http://10.1.2.3:7000/".to_string()]);
    }

    #[test]
    fn bad_node_flags_are_rejected_with_a_reason() {
        for (args, needle) in [
            (vec!["--protocol", "telepathy"], "telepathy"),
            (vec!["--bootstrap", "ftp://x"], "--bootstrap"),
            (vec!["--advertise", "localhost:7000"], "--advertise"),
            (vec!["--interval-ms", "0"], "--interval-ms"),
            (vec!["--fanout", "0"], "--fanout"),
            (vec!["--ttl", "1000"], "--ttl"),
            (vec!["-p", "70000"], "70000"),
            (vec!["--bind", "nowhere"], "nowhere"),
            (vec!["--id", ""], "--id"),
            (vec!["--max-concurrent", "0"], "--max-concurrent"),
            (vec!["--client-conns", "0"], "--client-conns"),
            (vec!["--client-rps", "-1"], "-1"),
            (vec!["--protocol", "rumor", "--eager", "on"], "--eager"),
            (vec!["--protocol", "flood", "--eager", "on"], "every peer"),
        ] {
            let e = parse(&args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn course_nodes_are_welcome_by_default_and_require_signed_is_strict() {
        assert_eq!(parse(&["-p", "7001", "-b", "7000"]).unwrap().1.core.auth, Policy::Welcome);
        assert_eq!(parse(&["--allow-unsigned"]).unwrap().1.core.auth, Policy::Welcome, "names the default");
        assert_eq!(parse(&["--require-signed"]).unwrap().1.core.auth, Policy::Required);
        let e = parse(&["--require-signed", "--allow-unsigned"]).unwrap_err();
        assert!(e.contains("--require-signed") && e.contains("--allow-unsigned"), "{e}");
    }

    #[test]
    fn forget_after_takes_a_duration_with_a_unit_or_never_and_refuses_the_rest() {
        assert_eq!(parse(&[]).unwrap().1.forget_after_ms, Some(600_000), "10 minutes by default");
        for (v, ms) in [("90s", Some(90_000)), ("2h", Some(7_200_000)), ("1500ms", Some(1_500)), ("never", None)] {
            assert_eq!(parse(&["--forget-after", v]).unwrap().1.forget_after_ms, ms, "{v}");
        }
        for (v, needle) in [
            ("10", "no unit"),
            ("10d", "unit must be"),
            ("-5m", "unit must be"),
            ("m", "not a whole number"),
            ("500ms", "out of range"),
            ("31000h", "out of range"),
            ("99999999999999999999s", "not a whole number"),
        ] {
            let e = parse(&[&format!("--forget-after={v}")]).unwrap_err();
            assert!(e.contains("--forget-after") && e.contains(needle), "{v}: {e}");
        }
    }

    #[test]
    fn swim_is_the_default_detector_and_its_flags_reach_its_configuration() {
        let (_, o) = parse(&["--interval-ms", "200"]).unwrap();
        let c = o.swim.expect("SWIM by default");
        assert_eq!((c.probe_interval_ms, c.probe_timeout_ms), (200, 100), "the gossip interval, half of it");
        assert!(c.lhm && c.lha_suspicion && c.buddy, "Lifeguard by default");
        let (_, o) = parse(&[
            "--swim-preset",
            "paper",
            "--probe-interval-ms",
            "400",
            "--probe-timeout-ms",
            "150",
            "--suspicion-mult",
            "5",
            "--indirect-k",
            "2",
        ])
        .unwrap();
        let c = o.swim.unwrap();
        assert_eq!((c.probe_interval_ms, c.probe_timeout_ms, c.suspicion_mult, c.indirect_checks), (400, 150, 5, 2));
        assert!(!c.lhm && !c.buddy, "the paper's SWIM");
        let c = parse(&["--swim-preset", "memberlist-lan", "--suspicion-mult", "6"]).unwrap().1.swim.unwrap();
        assert_eq!((c.scale, c.suspicion_k), (Scale::Memberlist, 4), "memberlist's K follows its mult");
        assert!(parse(&["--failure-detector", "simple"]).unwrap().1.swim.is_none());
    }

    #[test]
    fn swim_flags_out_of_range_or_without_swim_are_refused() {
        for (args, needle) in [
            (vec!["--failure-detector", "simple", "--probe-interval-ms", "500"], "--probe-interval-ms applies to"),
            (vec!["--failure-detector", "simple", "--swim-preset", "paper"], "--swim-preset applies to"),
            (vec!["--failure-detector", "simple", "--indirect-k", "1"], "--indirect-k applies to"),
            (vec!["--failure-detector", "gossip"], "gossip"),
            (vec!["--swim-preset", "consul"], "consul"),
            (vec!["--probe-interval-ms", "5"], "--probe-interval-ms must be between"),
            (vec!["--probe-interval-ms", "500", "--probe-timeout-ms", "500"], "--probe-timeout-ms must be"),
            (vec!["--probe-timeout-ms", "0"], "--probe-timeout-ms must be"),
            (vec!["--suspicion-mult", "0"], "--suspicion-mult must be"),
            (vec!["--indirect-k", "65"], "--indirect-k must be"),
        ] {
            let e = parse(&args).unwrap_err();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
    }

    #[test]
    fn overload_fault_and_data_dir_flags_reach_the_options() {
        let (_, d) = parse(&[]).unwrap();
        assert_eq!((d.max_concurrent, d.client_rps, d.client_conns, d.allow_faults), (256, 1_000, 256, false));
        assert_eq!(d.data_dir, None);
        let (_, o) = parse(&[
            "--max-concurrent",
            "8",
            "--client-rps",
            "0",
            "--client-conns",
            "3",
            "--allow-faults",
            "--data-dir",
            "/var/lib/gossip",
        ])
        .unwrap();
        assert_eq!((o.max_concurrent, o.client_rps, o.client_conns, o.allow_faults), (8, 0, 3, true));
        assert_eq!(o.data_dir, Some(PathBuf::from("/var/lib/gossip")));
        let plan =
            parse_cluster(&["--nodes", "2", "--base-port", "7100", "--data-dir", "/d", "--client-rps", "5"]).unwrap();
        let dirs: Vec<_> = plan.nodes.iter().map(|(_, o)| o.data_dir.clone().unwrap()).collect();
        assert_eq!(dirs, [PathBuf::from("/d/7100"), PathBuf::from("/d/7101")], "one directory per node, by port");
        assert!(plan.nodes.iter().all(|(_, o)| o.client_rps == 5));
        assert!(parse_cluster(&[]).unwrap().nodes.iter().all(|(_, o)| o.data_dir.is_none()));
    }

    #[test]
    fn the_shared_protocol_flags_come_from_the_parameter_table_with_the_nodes_defaults() {
        use crate::sim::table;
        let help = {
            use clap::CommandFactory;
            T::command().render_long_help().to_string()
        };
        for &(name, default) in SHARED {
            let p = table::param(name).unwrap();
            // the table's flag and help; the node's default where it has its own
            let flag = format!("--{}", p.flag);
            assert!(help.contains(&flag), "{flag} in the node's help");
            assert!(help.contains(p.help), "{name}'s help is the table's: {}", p.help);
            let default = default.unwrap_or(p.default);
            if !default.is_empty() {
                assert!(help.contains(&format!("[default: {default}]")), "{name} defaults to {default}");
            }
        }
        assert!(!help.contains("plumtree"), "a protocol no node runs is not offered");
        let (_, o) = parse(&[]).unwrap();
        assert_eq!((o.core.fanout, o.core.ttl, o.core.interval_ms), (2, 6, 1000), "the node's defaults");
        // the table's values and aliases, as gossip sim takes them
        let (_, o) = parse(&["--protocol", "scuttlebutt", "--ttl", "64", "--fanout", "10000"]).unwrap();
        assert_eq!((o.core.protocol, o.core.ttl, o.core.fanout), (Protocol::PushPull, 64, 10_000));
        assert!(!parse(&["--protocol", "rumor", "--stop", "BLIND"]).unwrap().1.core.stop.feedback, "blind");
        // and its checks, in its words, named by the flag
        let e = parse(&["--ttl", "65"]).unwrap_err();
        assert_eq!(e, "--ttl must be between 0 and 64, got 65");
        let e = parse(&["--interval-ms", "soon"]).unwrap_err();
        assert_eq!(e, "--interval-ms: expected a whole number between 1 and 86400000, got \"soon\"");
        let e = parse(&["--protocol", "plumtree"]).unwrap_err();
        assert!(e.starts_with("--protocol: plumtree runs only in the simulator"), "{e}");
    }

    #[test]
    fn anti_entropy_and_targets_reach_the_core_configuration_and_bad_values_are_refused() {
        let (_, o) = parse(&[]).unwrap();
        assert_eq!((o.core.anti_entropy_ms, o.core.round_robin), (None, false), "off and random by default");
        for protocol in ["flood", "push", "pull", "push-pull", "rumor"] {
            let (_, o) = parse(&["--protocol", protocol, "--anti-entropy-ms", "750", "--targets", "round-robin"])
                .unwrap_or_else(|e| panic!("{protocol}: {e}"));
            assert_eq!((o.core.anti_entropy_ms, o.core.round_robin), (Some(750), true), "{protocol}");
        }
        // the table's spellings: `off` for none, aliases of a choice
        let (_, o) = parse(&["--anti-entropy-ms", "off", "--targets", "Round_Robin"]).unwrap();
        assert_eq!((o.core.anti_entropy_ms, o.core.round_robin), (None, true));
        assert!(!parse(&["--targets", "random"]).unwrap().1.core.round_robin);
        // every cluster node gets them too
        let plan = parse_cluster(&["--nodes", "2", "--anti-entropy-ms", "300", "--targets", "round-robin"]).unwrap();
        assert!(plan.nodes.iter().all(|(_, o)| o.core.anti_entropy_ms == Some(300) && o.core.round_robin));
        for (args, want) in [
            (&["--anti-entropy-ms", "0"][..], "--anti-entropy-ms must be between 1 and 86400000, got 0"),
            (&["--anti-entropy-ms", "86400001"][..], "--anti-entropy-ms must be between 1 and 86400000, got 86400001"),
            (&["--anti-entropy-ms", "soon"][..], "--anti-entropy-ms: expected"),
            (&["--targets", "sideways"][..], "--targets: expected one of random, round-robin, got \"sideways\""),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.starts_with(want), "{args:?}: {e}");
        }
        // flood takes a partner only for its backup exchange: round-robin without one is refused
        let e = parse(&["--protocol", "flood", "--targets", "round-robin"]).unwrap_err();
        assert!(e.starts_with("--targets: round-robin targets do not apply to flood without a backup exchange"), "{e}");
        // a protocol that reads neither is refused before they are looked at: no node runs it
        let e = parse(&["--protocol", "plumtree", "--anti-entropy-ms", "500"]).unwrap_err();
        assert!(e.starts_with("--protocol: plumtree runs only in the simulator"), "{e}");
    }

    #[test]
    fn a_shared_flag_the_protocol_does_not_read_is_refused_naming_it() {
        for (args, flag, readers) in [
            (&["--counter", "3"][..], "--counter", "rumor"),
            (&["--protocol", "flood", "--coin", "2"][..], "--coin", "rumor"),
            (&["--protocol", "pull", "--stop", "blind"][..], "--stop", "rumor"),
            // flood sends every fresh update to every peer: it picks no fanout
            (&["--protocol", "flood", "--fanout", "3"][..], "--fanout", "push, pull, push-pull, rumor"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.starts_with(&format!("{flag}: it applies to {readers} only, not to ")), "{args:?}: {e}");
            assert!(e.ends_with("leave it out or change the protocol"), "{e}");
        }
        // typed at its default it is still refused: it would be ignored all the same
        let e = parse(&["--protocol", "push", "--stop", "feedback"]).unwrap_err();
        assert!(e.starts_with("--stop: it applies to rumor only"), "{e}");
        // the protocol that reads them takes them
        let (_, o) = parse(&["--protocol", "rumor", "--coin", "2", "--stop", "blind"]).unwrap();
        assert_eq!(o.core.stop, StopRule { feedback: false, kind: StopKind::Coin(2) });
        let e = parse(&["--protocol", "rumor", "--coin", "2", "--counter", "2"]).unwrap_err();
        assert_eq!(e, "--counter: give the rumor stop rule a counter or a coin, not both");
    }
}
