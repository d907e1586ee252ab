//! The sequence of `gossip test-node`: start the node under test
//! bootstrapped from a fake peer (so everything it pushes is seen), push it
//! made-up updates and watch what it forwards; then start reference nodes
//! that bootstrap from it, check convergence, a re-sample, a partition and
//! its heal, restart it with a reference node as its bootstrap, and feed it
//! malformed input. Every wait has a bound; the node's process is killed
//! when the run ends, however it ends.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::fake::{Fakes, Silent};
use super::launch::{Launched, Template};
use super::probe::{self, Held, Probe, ProbeError, View, HARNESS_ID};
use super::refs::{self, RefNode};
use super::report::Report;
use super::steps::{self, Outcome, Status, Step};
use crate::core::{Signer, Update, Version};
use crate::wire::Id;

/// What to test.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start the node with this command, on `port`.
    Cmd {
        /// The checked template.
        template: Template,
        /// Its port.
        port: u16,
    },
    /// A node already running at this base URL.
    Url(String),
}

/// How to run the test.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The node under test.
    pub target: Target,
    /// Bound on each convergence (and on the node's first messages).
    pub converge: Duration,
    /// Bound on the node's start.
    pub start: Duration,
    /// How long to watch for forwards after a push.
    pub watch: Duration,
    /// The reference nodes' gossip interval, ms.
    pub interval_ms: u64,
    /// With `--lab`: the lab's static files and its port (0: any).
    pub lab: Option<(PathBuf, u16)>,
}

/// A step's verdict, before its timing is added.
enum Verdict {
    Pass(String),
    Fail(String),
    Skip(String),
}

/// The updates the harness pushed to the node, and what became of them.
struct Injected {
    sealed: Update<Id>,
    ttl3: Update<Id>,
    ttl0: Update<Id>,
    newer: Update<Id>,
    older: Update<Id>,
    /// Copies of `sealed` pushed on by the node before the replay.
    before_replay: usize,
    /// Answers to the pushes that were not a 200.
    refused: Vec<String>,
    /// Its view after it all.
    view: Result<View, ProbeError>,
}

/// The TTL of the replayed update (step dedup): its forwards are told
/// from the first copy's (pushed with ttl 4) by their TTL.
const REPLAY_TTL: u32 = 6;

/// How often waits poll.
const POLL: Duration = Duration::from_millis(100);

/// The reference nodes' favorites, and the ones they re-sample to.
const REF_MOVIES: [&str; 2] = ["Metropolis", "Rashomon"];
const RESAMPLED: &str = "The Third Man";

struct Run {
    plan: Plan,
    probe: Probe,
    fakes: Fakes,
    /// The node under test: its base URL (also its identity).
    node: String,
    child: Option<Launched>,
    /// The command line of its first start.
    first_line: Option<String>,
    refs: Vec<RefNode>,
    signer: Signer,
    own: Option<Held>,
    injected: Option<Injected>,
    lab: Option<(String, tokio::task::JoinHandle<()>)>,
    stop_lab: Option<tokio::sync::oneshot::Sender<()>>,
    /// The silent peer of step partition, kept to the end of the run.
    silent: Option<Silent>,
    /// The malformed requests sent, and the status each got (none: no answer).
    hostile: Vec<(&'static str, Option<u16>)>,
    outcomes: Vec<Outcome>,
}

/// A reference node did not take the harness's `POST /faults` (the
/// partition step cannot cut the node off through it).
#[derive(Debug)]
struct FaultsRefused {
    /// The reference node.
    url: String,
    /// What its answer was, or why there was none.
    why: ProbeError,
}

impl std::fmt::Display for FaultsRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} POST /faults: {}", self.url, self.why)
    }
}

/// Why the run could not start at all.
#[derive(Debug)]
pub enum RunError {
    /// The harness's own loopback servers could not listen.
    Listen(std::io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Listen(e) => write!(f, "cannot listen on a loopback port for the harness's own peers: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Run every step against the plan's node; the report, and (with `--lab`)
/// a guard that keeps the nodes and the lab running until it is dropped.
pub async fn run(plan: Plan) -> Result<(Report, Option<Box<dyn Send>>), RunError> {
    let fakes = Fakes::start(4).await.map_err(RunError::Listen)?;
    let node = match &plan.target {
        Target::Cmd { port, .. } => format!("http://127.0.0.1:{port}"),
        Target::Url(u) => u.trim_end_matches('/').to_owned(),
    };
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(probe::fresh_uuid().as_bytes());
    seed[16..].copy_from_slice(probe::fresh_uuid().as_bytes());
    let mut run = Run {
        probe: Probe::new(Duration::from_secs(2)),
        fakes,
        node,
        child: None,
        first_line: None,
        refs: Vec::new(),
        signer: Signer::from_seed(seed),
        own: None,
        injected: None,
        lab: None,
        stop_lab: None,
        silent: None,
        hostile: Vec::new(),
        outcomes: Vec::new(),
        plan,
    };
    run.all().await;
    let command = run.first_line.clone();
    let report =
        Report { node: run.node.clone(), command, outcomes: std::mem::take(&mut run.outcomes), lab: run.lab_url() };
    let keep: Option<Box<dyn Send>> = if run.lab.is_some() { Some(Box::new(run)) } else { None };
    Ok((report, keep))
}

impl Run {
    fn by_cmd(&self) -> bool {
        matches!(self.plan.target, Target::Cmd { .. })
    }

    fn lab_url(&self) -> Option<String> {
        self.lab.as_ref().map(|(u, _)| u.clone())
    }

    /// Why the node can no longer be tested, if its process has exited.
    fn gone(&mut self) -> Option<String> {
        let c = self.child.as_mut()?;
        let status = c.exited()?;
        Some(format!("the node's process exited ({status}); its output ends with:\n{}", indent(&c.tail(8))))
    }

    async fn all(&mut self) {
        for &step in steps::ALL {
            let started = Instant::now();
            if let Some(why) = self.gone() {
                self.record(step, true, started, Verdict::Skip(why));
                continue;
            }
            if step != steps::STARTS && self.outcomes.first().is_some_and(|o| o.status != Status::Pass) {
                self.record(step, true, started, Verdict::Skip("the node did not start".into()));
                continue;
            }
            // advisory where a running node's other peers may hide what it forwards
            let required = self.by_cmd()
                || ![steps::FORWARDS, steps::DEDUP, steps::TTL, steps::SEALS, steps::REJECTS].contains(&step);
            let required = required && step != steps::REJECTS;
            // a global bound on top of each wait's own
            let bound = self.plan.start + self.plan.converge * 4 + self.plan.watch * 4 + Duration::from_secs(10);
            let verdict = match tokio::time::timeout(bound, self.check(step)).await {
                Ok(v) => v,
                Err(_) => Verdict::Fail(format!("the step did not finish within {:.0} s", bound.as_secs_f64())),
            };
            let required = required && !matches!(verdict, Verdict::Skip(_));
            self.record(step, required, started, verdict);
        }
    }

    fn record(&mut self, step: Step, required: bool, started: Instant, v: Verdict) {
        let (status, detail) = match v {
            Verdict::Pass(d) => (Status::Pass, d),
            Verdict::Fail(d) => (Status::Fail, d),
            Verdict::Skip(d) => (Status::Skip, d),
        };
        self.outcomes.push(Outcome { step, required, status, duration: started.elapsed(), detail });
    }

    async fn check(&mut self, step: Step) -> Verdict {
        match step.name {
            "starts" => self.starts().await,
            "peers" => self.peers().await,
            "joins" => self.joins().await,
            "own-update" => self.own_update().await,
            "forwards" => self.forwards().await,
            "dedup" => self.dedup(),
            "ttl" => self.ttl(),
            "order" => self.order(),
            "seals" => self.seals(),
            "well-formed" => self.well_formed(),
            "bootstrap-theirs" => self.bootstrap_theirs().await,
            "converge" => self.converge_step().await,
            "resample" => self.resample().await,
            "partition" => self.partition().await,
            "bootstrap-ours" => self.bootstrap_ours().await,
            "restart" => self.restart().await,
            "malformed" => self.malformed().await,
            "rejects" => self.rejects(),
            other => Verdict::Skip(format!("no check for step {other}")),
        }
    }

    // ---- starting --------------------------------------------------------

    /// Start the node (by command) with `bootstrap` and wait until it listens.
    async fn launch(&mut self, bootstrap: u16) -> Verdict {
        let Target::Cmd { template, port } = &self.plan.target else {
            return Verdict::Skip("not started by the harness".into());
        };
        let port = *port;
        self.child = None; // kills the previous incarnation, if any
        let mut child = match Launched::start(template.render(port, bootstrap)) {
            Ok(c) => c,
            Err(e) => return Verdict::Fail(e.to_string()),
        };
        self.first_line.get_or_insert_with(|| child.line.clone());
        let t = Instant::now();
        let deadline = t + self.plan.start;
        loop {
            if let Some(status) = child.exited() {
                let tail = child.tail(8);
                self.child = Some(child);
                return Verdict::Fail(format!(
                    "the command exited ({status}) before listening on port {port}; its output ends with:\n{}",
                    indent(&tail)
                ));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                self.child = Some(child);
                return Verdict::Pass(format!("listening on port {port} after {:.2} s", t.elapsed().as_secs_f64()));
            }
            if Instant::now() >= deadline {
                let tail = child.tail(8);
                self.child = Some(child);
                return Verdict::Fail(format!(
                    "nothing listens on 127.0.0.1:{port} {:.0} s after the start (does the command pass {{port}} \
                     to the node?); its output ends with:\n{}",
                    self.plan.start.as_secs_f64(),
                    indent(&tail)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn starts(&mut self) -> Verdict {
        if self.by_cmd() {
            let boot = port_of(&self.fakes.urls[0]);
            return self.launch(boot).await;
        }
        match self.probe.get(&self.node, "/peers/").await {
            Ok((s, _)) => Verdict::Pass(format!("{} answers (GET /peers/: {s})", self.node)),
            Err(e) => Verdict::Fail(format!("{}: {e}", self.node)),
        }
    }

    async fn peers(&mut self) -> Verdict {
        match self.probe.peers(&self.node).await {
            Ok(list) => match list.iter().find(|p| !crate::wire::is_base_url(p)) {
                Some(bad) => Verdict::Fail(format!("it lists {bad:?}, which is not a base URL (http://host:port)")),
                None => Verdict::Pass(format!("{} peers: {}", list.len(), list.join(", "))),
            },
            Err(e) => Verdict::Fail(format!("GET /peers/ {e}")),
        }
    }

    async fn joins(&mut self) -> Verdict {
        if !self.by_cmd() {
            return Verdict::Skip("a running node (--url) was bootstrapped by someone else".into());
        }
        let asked = wait_for(self.plan.converge, || {
            self.fakes.received().iter().any(|r| matches!(r, super::fake::Received::Peers { to: 0 }))
        })
        .await;
        let pulled = self.fakes.bodies().iter().any(|(to, _, d)| {
            *to == 0
                && d.as_ref().is_ok_and(|e| e.messages.iter().any(|m| matches!(m, crate::core::Message::Digest { .. })))
        });
        match asked {
            Some(t) => Verdict::Pass(format!(
                "asked its bootstrap peer for /peers/ after {:.2} s{}",
                t.as_secs_f64(),
                if pulled { " and sent it a digest" } else { "" }
            )),
            None => Verdict::Fail(format!(
                "in {:.0} s it never sent GET /peers/ to its bootstrap peer {} (given as {{bootstrap}})",
                self.plan.converge.as_secs_f64(),
                self.fakes.urls[0]
            )),
        }
    }

    async fn own_update(&mut self) -> Verdict {
        let deadline = Instant::now() + self.plan.converge;
        let mut view_err = None;
        loop {
            if let Some((_, u)) = self.fakes.pushed().into_iter().find(|(_, u)| *u.origin == *self.node) {
                return self.judge_own(Held::of_update(&u), "pushed to a peer");
            }
            match self.probe.view(&self.node).await {
                Ok(v) => {
                    if let Some(h) = v.get(&self.node) {
                        return self.judge_own(h.clone(), "in its answer to an empty digest");
                    }
                }
                Err(e) => view_err = Some(e),
            }
            if Instant::now() >= deadline {
                let why = view_err.map_or(String::new(), |e| format!("; an empty digest got {e}"));
                return Verdict::Fail(format!(
                    "no update with origin {:?} (its identity) in {:.0} s: not pushed to its peers, not in the \
                     delta answering an empty digest{why}",
                    self.node,
                    self.plan.converge.as_secs_f64()
                ));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    fn judge_own(&mut self, h: Held, how: &str) -> Verdict {
        self.own = Some(h.clone());
        if h.version.counter == 0 {
            return Verdict::Fail(format!(
                "its favorite {h} ({how}) has version 0: the first favorite is version 1, and [0, 0] in a \
                 digest or want means \"nothing known\", so version 0 is never pulled"
            ));
        }
        Verdict::Pass(format!("{h}, {how}"))
    }

    // ---- forwarding, dedup, TTL, ordering, seals --------------------------

    async fn forwards(&mut self) -> Verdict {
        let (f1, f2) = (self.fakes.urls[1].clone(), self.fakes.urls[2].clone());
        let v = |c| Version::new(0, c);
        let sealed = probe::update("test-node-sealed", v(1), 4, "Sealed Movie", Some(&self.signer));
        let ttl3 = probe::update("test-node-ttl", v(1), 3, "Three Hops", None);
        let ttl0 = probe::update("test-node-ttl0", v(1), 0, "No Hops", None);
        let newer = probe::update("test-node-order", v(3), 2, "Newer", None);
        let older = probe::update("test-node-order", v(2), 2, "Older", None);
        let mut refused = Vec::new();
        for u in [&sealed, &ttl3, &ttl0, &newer, &older] {
            let body = probe::push_body(&f1, Some(&f1), vec![u.clone()]);
            if let Err(e) = self.probe.exchange(&self.node, body).await {
                refused.push(format!("a push of {} {e}", u.origin));
            }
        }
        tokio::time::sleep(self.plan.watch).await;
        let before_replay = self.copies(&sealed).len();
        // the same update again, from another peer, as if by a shorter path:
        // its forwards would carry ttl 5 (or 6), the original's 3 (or 4), so
        // a late copy of the original is never taken for a forwarded replay
        let mut replay = sealed.clone();
        replay.ttl = REPLAY_TTL;
        let body = probe::push_body(&f2, Some(&f2), vec![replay]);
        if let Err(e) = self.probe.exchange(&self.node, body).await {
            refused.push(format!("the replay {e}"));
        }
        tokio::time::sleep(self.plan.watch).await;
        let view = self.probe.view(&self.node).await;
        self.injected = Some(Injected { sealed, ttl3, ttl0, newer, older, before_replay, refused, view });
        let inj = self.injected.as_ref().expect("just set");
        if !inj.refused.is_empty() {
            return Verdict::Fail(format!("it did not take our pushes: {}", inj.refused.join("; ")));
        }
        match before_replay {
            0 => Verdict::Fail(format!(
                "a fresh update pushed to it with ttl 4 was not pushed on to any of its other peers within {:.1} s",
                self.plan.watch.as_secs_f64()
            )),
            n => Verdict::Pass(format!(
                "a fresh update went on to {n} peer(s) within {:.1} s",
                self.plan.watch.as_secs_f64()
            )),
        }
    }

    /// The copies of `u` (same UUID) the node pushed to the fakes.
    fn copies(&self, u: &Update<Id>) -> Vec<Update<Id>> {
        self.fakes.pushed().into_iter().filter(|(_, c)| c.uuid == u.uuid).map(|(_, c)| c).collect()
    }

    fn injected(&self) -> Result<&Injected, Verdict> {
        self.injected.as_ref().ok_or_else(|| Verdict::Skip("the pushes of step forwards did not run".into()))
    }

    fn dedup(&mut self) -> Verdict {
        let inj = match self.injected() {
            Ok(i) => i,
            Err(v) => return v,
        };
        let replayed = self.copies(&inj.sealed).iter().filter(|c| c.ttl >= REPLAY_TTL - 1).count();
        if inj.before_replay == 0 {
            return Verdict::Fail("cannot tell: it never forwarded the original (see step forwards)".into());
        }
        if replayed > 0 {
            return Verdict::Fail(format!(
                "an update pushed again with the same UUID (from another peer, with ttl {REPLAY_TTL}) was \
                 forwarded again, {replayed} time(s), after {} forwards of the first copy",
                inj.before_replay
            ));
        }
        if let Ok(v) = &inj.view {
            if v.get("test-node-sealed").is_some_and(|h| h.uuid != inj.sealed.uuid) {
                return Verdict::Fail("the replay changed its view entry".into());
            }
        }
        Verdict::Pass(format!("{} copies before the replay, none after", inj.before_replay))
    }

    fn ttl(&mut self) -> Verdict {
        let inj = match self.injected() {
            Ok(i) => i,
            Err(v) => return v,
        };
        let ttls = |u: &Update<Id>| self.copies(u).iter().map(|c| c.ttl).collect::<Vec<_>>();
        let (t3, t0) = (ttls(&inj.ttl3), ttls(&inj.ttl0));
        // forwards of the first copy (ttl 4), not of the replay (step dedup)
        let t4: Vec<u32> = ttls(&inj.sealed).into_iter().filter(|&t| t < REPLAY_TTL - 1).collect();
        if !t0.is_empty() {
            return Verdict::Fail(format!(
                "an update that arrived with ttl 0 was forwarded ({} copies, ttl {:?})",
                t0.len(),
                t0
            ));
        }
        if t3.is_empty() {
            return Verdict::Fail("an update pushed with ttl 3 was never forwarded".into());
        }
        if t3.iter().any(|&t| t != 2) || t4.iter().any(|&t| t != 3) {
            return Verdict::Fail(format!(
                "updates that arrived with ttl 3 and 4 were forwarded with ttl {t3:?} and {t4:?}, not 2 and 3"
            ));
        }
        match &inj.view {
            Ok(v) if !v.contains_key("test-node-ttl0") => Verdict::Fail(
                "an update that arrived with ttl 0 was not applied (ttl 0 means \"do not forward\", not \"drop\")"
                    .into(),
            ),
            _ => Verdict::Pass(format!("ttl 3 went on as {t3:?}, ttl 4 as {t4:?}, ttl 0 was kept and not forwarded")),
        }
    }

    fn order(&mut self) -> Verdict {
        let inj = match self.injected() {
            Ok(i) => i,
            Err(v) => return v,
        };
        let view = match &inj.view {
            Ok(v) => v,
            Err(e) => {
                return Verdict::Fail(format!(
                    "cannot read its view: an empty digest (pull only) must be answered with a delta of \
                     every entry: {e}"
                ))
            }
        };
        match view.get("test-node-order") {
            None => Verdict::Fail("it did not keep either version of an origin pushed to it".into()),
            Some(h) if h.uuid == inj.newer.uuid => Verdict::Pass("version 3 then version 2: it keeps version 3".into()),
            Some(h) if h.uuid == inj.older.uuid => Verdict::Fail(format!(
                "it holds {h}, which arrived after version 3: an older version replaced a newer one"
            )),
            Some(h) => Verdict::Fail(format!("it holds {h}, which we never sent")),
        }
    }

    fn seals(&mut self) -> Verdict {
        let inj = match self.injected() {
            Ok(i) => i,
            Err(v) => return v,
        };
        let want = Held::of_update(&inj.sealed).seal;
        let copies = self.copies(&inj.sealed);
        if let Some(c) = copies.iter().find(|c| Held::of_update(c).seal != want) {
            let what = if c.seal.is_none() { "without its key and sig" } else { "with another key or sig" };
            return Verdict::Fail(format!("a sealed update was forwarded {what}"));
        }
        if let Ok(v) = &inj.view {
            if let Some(h) = v.get("test-node-sealed") {
                if h.seal != want {
                    return Verdict::Fail("its view hands out a sealed update without its seal".into());
                }
            }
        }
        if copies.is_empty() {
            return Verdict::Fail("cannot tell: it never forwarded the sealed update (see step forwards)".into());
        }
        Verdict::Pass(format!("{} forwarded copies carry the seal unchanged", copies.len()))
    }

    fn well_formed(&mut self) -> Verdict {
        let bodies = self.fakes.bodies();
        if bodies.is_empty() {
            return Verdict::Fail("it sent nothing to its peers".into());
        }
        let n = bodies.len();
        for (_, body, d) in bodies {
            let quote = String::from_utf8_lossy(&body[..body.len().min(160)]).into_owned();
            let env = match d {
                Ok(e) => e,
                Err(e) => return Verdict::Fail(format!("a message it sent is not a valid envelope ({e}): {quote}")),
            };
            if *env.from != *self.node {
                return Verdict::Fail(format!(
                    "a message has \"from\": {:?}, not its identity {:?}",
                    env.from, self.node
                ));
            }
            if env.url.as_deref() != Some(self.node.as_str()) {
                return Verdict::Fail(format!(
                    "a message has \"url\": {:?}, not its base URL {:?} (others dial it there)",
                    env.url, self.node
                ));
            }
        }
        if let Ok(inj) = self.injected() {
            for u in [&inj.ttl3, &inj.sealed] {
                if let Some(c) = self
                    .copies(u)
                    .iter()
                    .find(|c| c.origin != u.origin || c.version != u.version || c.payload != u.payload)
                {
                    return Verdict::Fail(format!(
                        "a forwarded update changed more than its ttl: {:?} {:?} became {:?} {:?}",
                        u.origin, u.version, c.origin, c.version
                    ));
                }
            }
        }
        Verdict::Pass(format!("{n} messages, all valid envelopes from {}", self.node))
    }

    // ---- with reference nodes --------------------------------------------

    /// Every node's view: the node under test's, then each reference node's.
    async fn views(&self) -> Vec<(String, Result<View, ProbeError>)> {
        let mut out = vec![("your node".to_owned(), self.probe.view(&self.node).await)];
        for (i, r) in self.refs.iter().enumerate() {
            let v = self.probe.state(&r.url).await.map(|s| {
                s.view
                    .into_iter()
                    .filter_map(|(o, e)| {
                        let uuid = crate::core::message::parse_uuid(&e.uuid)?;
                        let h = Held { version: Version::new(e.epoch, e.version), uuid, payload: e.movie, seal: None };
                        Some((o, h))
                    })
                    .collect::<BTreeMap<_, _>>()
            });
            out.push((format!("reference node R{i} ({})", r.url), v));
        }
        out
    }

    /// What keeps the nodes from agreeing on every node's own favorite (and
    /// on `extra`): empty when they have converged.
    async fn disagreements(&self, extra: &[&Update<Id>]) -> Vec<String> {
        let views = self.views().await;
        let mut ids = vec![self.node.clone()];
        ids.extend(self.refs.iter().map(|r| r.url.clone()));
        let mut newest: Vec<(String, Held)> = Vec::new();
        let mut problems = Vec::new();
        for ((name, v), id) in views.iter().zip(&ids) {
            match v {
                Ok(v) => match v.get(id) {
                    Some(h) => newest.push((id.clone(), h.clone())),
                    None => problems.push(format!("{name} does not hold its own favorite")),
                },
                Err(e) => problems.push(format!("{name}: {e}")),
            }
        }
        newest.extend(extra.iter().map(|u| (u.origin.to_string(), Held::of_update(u))));
        for (name, v) in &views {
            let Ok(v) = v else { continue };
            for (origin, h) in &newest {
                match v.get(origin) {
                    Some(x) if x.uuid == h.uuid => {}
                    Some(x) => problems.push(format!("{name} holds {x} of {origin}, not {h}")),
                    None => problems.push(format!("{name} holds nothing of {origin}")),
                }
            }
        }
        problems
    }

    /// Wait until the nodes agree (within the convergence bound).
    async fn converge(&self, extra: &[&Update<Id>]) -> Result<Duration, Vec<String>> {
        let t = Instant::now();
        let deadline = t + self.plan.converge;
        loop {
            let d = self.disagreements(extra).await;
            if d.is_empty() {
                return Ok(t.elapsed());
            }
            if Instant::now() >= deadline {
                return Err(d);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn not_converged(&self, what: &str, d: Vec<String>) -> Verdict {
        let shown: Vec<String> = d.iter().take(4).cloned().collect();
        let more = if d.len() > 4 { format!(" (and {} more)", d.len() - 4) } else { String::new() };
        Verdict::Fail(format!(
            "{what}: not converged within {:.1} s: {}{more}",
            self.plan.converge.as_secs_f64(),
            shown.join("; ")
        ))
    }

    async fn start_lab(&mut self) {
        let Some((dir, port)) = self.plan.lab.clone() else { return };
        let mut nodes: Vec<String> = self.refs.iter().map(|r| r.url.clone()).collect();
        nodes.push(self.node.clone());
        let app = crate::server::lab::lab_app(dir, crate::server::lab::LabConfig::new(nodes));
        let l = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("gossip test-node: --lab: cannot listen on port {port}: {e}");
                return;
            }
        };
        let url = l.local_addr().map(|a| format!("http://127.0.0.1:{}/", a.port())).unwrap_or_default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(crate::server::lab::run_lab(l, app, None, async {
            let _ = rx.await;
        }));
        eprintln!("gossip test-node: the lab, joined to the nodes under test: {url}");
        open_browser(&url);
        self.lab = Some((url, task));
        self.stop_lab = Some(tx);
    }

    async fn bootstrap_theirs(&mut self) -> Verdict {
        let epoch = crate::server::state::wall_clock_epoch();
        for (i, movie) in REF_MOVIES.iter().enumerate() {
            let opts = refs::options(movie, epoch, self.plan.interval_ms, vec![self.node.clone()]);
            match RefNode::start(0, opts).await {
                Ok(r) => self.refs.push(r),
                Err(e) => return Verdict::Fail(format!("cannot start reference node R{i}: {e}")),
            }
            tokio::time::sleep(Duration::from_millis(self.plan.interval_ms)).await;
        }
        self.start_lab().await;
        let t = Instant::now();
        let deadline = t + self.plan.converge;
        loop {
            let views = self.views().await;
            let own = views[0].1.as_ref().ok().and_then(|v| v.get(&self.node)).cloned();
            let missing: Vec<String> = views[1..]
                .iter()
                .filter(|(_, v)| {
                    !v.as_ref().is_ok_and(|v| {
                        own.as_ref().is_some_and(|o| v.get(&self.node).is_some_and(|h| h.uuid == o.uuid))
                    })
                })
                .map(|(name, _)| name.clone())
                .collect();
            if missing.is_empty() {
                return Verdict::Pass(format!(
                    "{} reference nodes bootstrapped from it and hold its favorite after {:.2} s",
                    self.refs.len(),
                    t.elapsed().as_secs_f64()
                ));
            }
            if Instant::now() >= deadline {
                return Verdict::Fail(format!(
                    "{} did not learn its favorite within {:.1} s of bootstrapping from it",
                    missing.join(" and "),
                    self.plan.converge.as_secs_f64()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn converge_step(&mut self) -> Verdict {
        match self.converge(&[]).await {
            Ok(t) => Verdict::Pass(format!("everyone holds everyone's favorite after {:.2} s", t.as_secs_f64())),
            Err(d) => self.not_converged("it and the reference nodes", d),
        }
    }

    async fn resample(&mut self) -> Verdict {
        let Some(r) = self.refs.last_mut() else { return Verdict::Skip("no reference node".into()) };
        if let Err(e) = r.resample(RESAMPLED).await {
            return Verdict::Fail(format!("cannot restart reference node R1: {e}"));
        }
        let epoch = r.epoch();
        match self.converge(&[]).await {
            Ok(t) => Verdict::Pass(format!(
                "R1 now likes {RESAMPLED:?} (epoch {epoch}); everyone holds it after {:.2} s",
                t.as_secs_f64()
            )),
            Err(d) => self.not_converged(&format!("after R1 picked {RESAMPLED:?}"), d),
        }
    }

    async fn set_drop(&self, drop: &[&str]) -> Result<(), FaultsRefused> {
        for r in &self.refs {
            let body = serde_json::json!({ "drop": drop }).to_string().into_bytes();
            let why = match self.probe.post(&r.url, "/faults", body).await {
                Ok((200, _)) => continue,
                Ok((s, body)) => ProbeError::Status(s, String::from_utf8_lossy(&body).into_owned()),
                Err(e) => e,
            };
            return Err(FaultsRefused { url: r.url.clone(), why });
        }
        Ok(())
    }

    async fn partition(&mut self) -> Verdict {
        if self.refs.is_empty() {
            return Verdict::Skip("no reference node".into());
        }
        if let Err(e) = self.set_drop(&[&self.node]).await {
            return Verdict::Fail(format!("the harness could not cut the node off: {e}"));
        }
        let cut = Instant::now();
        // and a new peer that never answers: its exchanges hang until they time out
        let silent = match Silent::start().await {
            Ok(s) => s,
            Err(e) => return Verdict::Fail(format!("the harness could not start its silent peer: {e}")),
        };
        let hello = crate::wire::encode(
            &silent.url,
            Some(&silent.url),
            None,
            &[crate::core::Message::Digest { digest: Default::default(), push_pull: true }],
        );
        if let Err(e) = self.probe.exchange(&self.node, hello).await {
            return Verdict::Fail(format!("a digest from a new peer {e}"));
        }
        self.silent = Some(silent);
        tokio::time::sleep(Duration::from_millis(self.plan.interval_ms * 2)).await;
        // news the node cannot hear while it is cut off
        let news = probe::update("test-node-partition", Version::new(0, 1), 6, "Heard After The Heal", None);
        let body = probe::push_body(HARNESS_ID, None, vec![news.clone()]);
        if let Err(e) = self.probe.exchange(&self.refs[0].url, body).await {
            return Verdict::Fail(format!("the harness could not reach reference node R0: {e}"));
        }
        tokio::time::sleep(self.plan.watch.max(Duration::from_millis(self.plan.interval_ms * 3))).await;
        let alive = self.probe.peers(&self.node).await;
        let leaked = self.probe.view(&self.node).await.is_ok_and(|v| v.contains_key("test-node-partition"));
        if let Err(e) = self.set_drop(&[]).await {
            return Verdict::Fail(format!("the harness could not heal the partition: {e}"));
        }
        let held = cut.elapsed();
        if let Err(e) = alive {
            return Verdict::Fail(format!("while cut off, it stopped answering: GET /peers/ {e}"));
        }
        if leaked {
            return Verdict::Fail("the partition leaked: it heard news while cut off (a harness problem)".into());
        }
        match self.converge(&[&news]).await {
            Ok(t) => Verdict::Pass(format!(
                "cut off for {:.1} s (refused by the reference nodes, and a new peer that never answers), it kept \
                 answering; converged {:.2} s after the heal",
                held.as_secs_f64(),
                t.as_secs_f64()
            )),
            Err(d) => self.not_converged("after the partition healed", d),
        }
    }

    async fn bootstrap_ours(&mut self) -> Verdict {
        if !self.by_cmd() {
            return Verdict::Skip("a running node (--url) cannot be restarted by the harness".into());
        }
        let Some(r0) = self.refs.first() else { return Verdict::Skip("no reference node".into()) };
        let boot = r0.port;
        self.own = self.probe.view(&self.node).await.ok().and_then(|v| v.get(&self.node).cloned());
        if let Verdict::Fail(why) = self.launch(boot).await {
            return Verdict::Fail(format!("restarted with -b {boot}: {why}"));
        }
        let t = Instant::now();
        let deadline = t + self.plan.converge;
        loop {
            let views = self.views().await;
            let lacking: Vec<String> = match &views[0].1 {
                Ok(mine) => views[1..]
                    .iter()
                    .zip(&self.refs)
                    .filter_map(|((name, v), r)| {
                        let theirs = v.as_ref().ok()?.get(&r.url)?;
                        match mine.get(&r.url) {
                            Some(h) if h.uuid == theirs.uuid => None,
                            Some(h) => Some(format!("it holds {h} of {name}, not {theirs}")),
                            None => Some(format!("it holds nothing of {name}")),
                        }
                    })
                    .collect(),
                Err(e) => vec![format!("its view cannot be read: {e}")],
            };
            if lacking.is_empty() {
                return Verdict::Pass(format!(
                    "restarted with -b {boot}, it holds every reference favorite after {:.2} s",
                    t.elapsed().as_secs_f64()
                ));
            }
            if Instant::now() >= deadline {
                return Verdict::Fail(format!(
                    "restarted with -b {boot} (a reference node): after {:.1} s {}",
                    self.plan.converge.as_secs_f64(),
                    lacking.join("; ")
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn restart(&mut self) -> Verdict {
        if !self.by_cmd() {
            return Verdict::Skip("a running node (--url) cannot be restarted by the harness".into());
        }
        let old = self.own.clone();
        let t = Instant::now();
        let deadline = t + self.plan.converge;
        loop {
            let views = self.views().await;
            let new = views[0].1.as_ref().ok().and_then(|v| v.get(&self.node)).cloned();
            let Some(new) = new else {
                if Instant::now() >= deadline {
                    return Verdict::Fail("after its restart, its own favorite cannot be read from its view".into());
                }
                tokio::time::sleep(POLL).await;
                continue;
            };
            let stale: Vec<String> = views[1..]
                .iter()
                .filter_map(|(name, v)| match v.as_ref().ok()?.get(&self.node) {
                    Some(h) if h.uuid == new.uuid => None,
                    Some(h) => Some(format!("{name} still holds {h}")),
                    None => Some(format!("{name} holds nothing of it")),
                })
                .collect();
            if stale.is_empty() {
                return Verdict::Pass(format!(
                    "its new favorite {new} reached every reference node in {:.2} s",
                    t.elapsed().as_secs_f64()
                ));
            }
            if Instant::now() >= deadline {
                let why = match &old {
                    Some(o) if new.version <= o.version => {
                        format!(": its new favorite {new} is not newer than its old one {o}, so nobody takes it")
                    }
                    _ => String::new(),
                };
                return Verdict::Fail(format!(
                    "{} after its restart ({:.1} s){why}",
                    stale.join("; "),
                    self.plan.converge.as_secs_f64()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    // ---- hostile input ---------------------------------------------------

    async fn malformed(&mut self) -> Verdict {
        let Some(addr) = authority(&self.node) else { return Verdict::Skip("not a base URL".into()) };
        let mut answers = Vec::new();
        for (name, raw) in hostile_requests() {
            let status = raw_request(&addr, &raw).await;
            answers.push((name, status));
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(why) = self.gone() {
                return Verdict::Fail(format!("{name} killed it: {why}"));
            }
            if let Err(e) = self.probe.peers(&self.node).await {
                return Verdict::Fail(format!("after {name}, it stopped answering: GET /peers/ {e}"));
            }
        }
        let n = answers.len();
        self.hostile = answers;
        Verdict::Pass(format!("{n} malformed requests, still answering"))
    }

    fn rejects(&mut self) -> Verdict {
        if self.hostile.is_empty() {
            return Verdict::Skip("no malformed request was sent".into());
        }
        let bad: Vec<String> = self
            .hostile
            .iter()
            .filter(|(name, _)| !name.starts_with("raw"))
            .filter(|(_, s)| !s.is_some_and(|s| (400..500).contains(&s)))
            .map(|(name, s)| format!("{name}: {}", s.map_or("no answer".into(), |s| s.to_string())))
            .collect();
        if bad.is_empty() {
            Verdict::Pass("every malformed body got a 4xx".into())
        } else {
            Verdict::Fail(format!("answered without a 4xx: {}", bad.join("; ")))
        }
    }
}

/// The port of a `http://127.0.0.1:PORT` URL.
fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0)
}

/// `host:port` of a base URL.
fn authority(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?.trim_end_matches('/');
    Some(if rest.contains(':') && !rest.ends_with(']') { rest.to_owned() } else { format!("{rest}:80") })
}

fn indent(text: &str) -> String {
    if text.trim().is_empty() {
        return "        (no output)".into();
    }
    text.lines().map(|l| format!("        {l}")).collect::<Vec<_>>().join("\n")
}

/// Wait until `f` holds, polling; how long it took, or none after `bound`.
async fn wait_for(bound: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let t = Instant::now();
    loop {
        if f() {
            return Some(t.elapsed());
        }
        if t.elapsed() >= bound {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Requests no node should die of. Names starting with `raw` are not
/// well-formed HTTP requests (any reaction but dying is fine); the others
/// are bodies of `POST /gossip/` that deserve a 4xx.
fn hostile_requests() -> Vec<(&'static str, Vec<u8>)> {
    let post = |body: &[u8]| {
        let mut r = format!(
            "POST /gossip/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let deep = "[".repeat(100_000);
    vec![
        ("truncated JSON", post(br#"{"from": "x", "updates": ["#)),
        ("a body that is not JSON", post(b"hello")),
        ("a JSON array", post(b"[1, 2, 3]")),
        ("an envelope without from", post(b"{}")),
        ("from as a number", post(br#"{"from": 5}"#)),
        ("updates as a string", post(br#"{"from": "x", "updates": "none"}"#)),
        (
            "an update of the wrong types",
            post(br#"{"from": "x", "updates": [{"uuid": "not-a-uuid", "origin": 7, "version": -1, "ttl": "a", "payload": null}]}"#),
        ),
        ("a digest of the wrong shape", post(br#"{"from": "x", "digest": {"a": "b"}}"#)),
        ("a body that is not UTF-8", post(&[0xff, 0xfe, 0xfd, 0x00])),
        ("JSON nested 100,000 deep", post(deep.as_bytes())),
        ("raw: garbage instead of HTTP", b"GARBAGE\r\n\r\n".to_vec()),
        (
            "raw: a body cut short",
            b"POST /gossip/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"from\":".to_vec(),
        ),
    ]
}

/// Send `raw` to `addr`, half-close, and read the status of the answer (if
/// any) within 2 s.
async fn raw_request(addr: &str, raw: &[u8]) -> Option<u16> {
    let io = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(raw).await.ok()?;
        let _ = s.shutdown().await;
        let mut buf = vec![0u8; 4096];
        let mut n = 0;
        while n < buf.len() {
            match s.read(&mut buf[n..]).await {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
            if buf[..n].windows(2).any(|w| w == b"\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        head.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(2), io).await.ok().flatten()
}

/// Try to open `url` in a browser: `open` on macOS, `xdg-open` elsewhere
/// when a graphical session is there (`DISPLAY` or `WAYLAND_DISPLAY`); the
/// URL is printed either way, and nothing here can fail the run.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        "xdg-open"
    } else {
        return;
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Some(tx) = self.stop_lab.take() {
            let _ = tx.send(());
        }
        if let Some((_, t)) = self.lab.take() {
            t.abort();
        }
    }
}
