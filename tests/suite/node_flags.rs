//! The protocol flags `gossip node` shares with `gossip sim` steer a real
//! node, and what its protocol refuses is counted where an operator looks.
//! Nodes run as `gossip` processes (or in process, for the refused kinds)
//! on loopback against fake peers ([`support::fake`]) that write down every
//! request: whom the node dialed, in what order, with what. Every wait is
//! bounded; processes and fakes stop when dropped.
//!
//! * `--targets round-robin`: a node contacts its peers in shuffled passes,
//!   each peer once per pass; with `--targets random` the same node does
//!   not keep to passes.
//! * `--anti-entropy-ms`: a rumor-mongering node, which never sends a
//!   digest of its own, runs backup push-pull exchanges.
//! * a `known` (rumor feedback) sent to a push-pull node is refused whole,
//!   counted in `gossip_unspoken_messages_total`, and the exchange still
//!   answers 200 with the rest applied.
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::time::{Duration, Instant};

use gossip::core::{Config, Policy, Protocol};
use gossip::server::NodeOptions;
use serde_json::Value;
use support::fake::{Fake, Heard, Log};
use support::{free_ports, metric, post_json, state, wait_until, InProc, Proc};

/// A fake peer that lists no peers and answers every exchange with nothing.
fn quiet_fake(log: &Log) -> Fake {
    Fake::start_logging("[]".into(), r#"{"from":"fake"}"#.into(), log.clone())
}

/// `gossip node` on `port`, bootstrapping from every fake, with the simple
/// failure detector (no SWIM traffic), no re-sampling, and `extra`.
fn node_against(port: u16, fakes: &[Fake], extra: &[&str]) -> Proc {
    let p = port.to_string();
    let mut args = vec!["node", "-p", &p, "--failure-detector", "simple", "--change-ms", "0"];
    let urls: Vec<String> = fakes.iter().map(Fake::url).collect();
    for u in &urls {
        args.extend(["--bootstrap", u]);
    }
    args.extend_from_slice(extra);
    let n = Proc::spawn(port, &args);
    n.wait_ready();
    n
}

/// The body of a request as JSON (`Null` if it is not JSON).
fn body(h: &Heard) -> Value {
    serde_json::from_str(&h.body).unwrap_or(Value::Null)
}

/// The push-pull digests in `log` (a round's or a backup exchange's; not
/// the join-time `pull_only` request), in the order they arrived.
fn push_pull_digests(log: &Log) -> Vec<Heard> {
    let log = log.lock().unwrap();
    log.iter()
        .filter(|h| !h.peers)
        .filter(|h| {
            let b = body(h);
            b.get("digest").is_some() && b.get("pull_only") != Some(&Value::Bool(true))
        })
        .cloned()
        .collect()
}

/// The first `passes` blocks of `k` destinations each, and whether every
/// one of them holds each of the `k` peers exactly once.
fn in_passes(dest: &[u16], k: usize, passes: usize) -> (Vec<Vec<u16>>, bool) {
    let blocks: Vec<Vec<u16>> = dest.chunks(k).take(passes).map(<[u16]>::to_vec).collect();
    let ok = blocks.iter().all(|b| {
        let mut s = b.clone();
        s.sort_unstable();
        s.dedup();
        s.len() == k
    });
    (blocks, ok)
}

#[test]
fn round_robin_targets_contact_every_peer_once_per_pass_and_random_targets_do_not() {
    const PEERS: usize = 4;
    const PASSES: usize = 5;
    // one exchange per round (push-pull digests only: no eager push), five rounds a second: far enough
    // apart that two exchanges do not reach their fakes out of order on a loaded machine
    let flags = ["--protocol", "push-pull", "--eager", "off", "--fanout", "1", "--interval-ms", "200"];
    let ports = free_ports(2);
    let (rr_log, random_log) = (Log::default(), Log::default());
    let rr_fakes: Vec<Fake> = (0..PEERS).map(|_| quiet_fake(&rr_log)).collect();
    let random_fakes: Vec<Fake> = (0..PEERS).map(|_| quiet_fake(&random_log)).collect();
    let _rr = node_against(ports[0], &rr_fakes, &[&flags[..], &["--targets", "round-robin"]].concat());
    let _random = node_against(ports[1], &random_fakes, &[&flags[..], &["--targets", "random"]].concat());

    let want = PEERS * PASSES;
    wait_until("both nodes make 20 exchanges", Duration::from_secs(30), || {
        push_pull_digests(&rr_log).len() >= want && push_pull_digests(&random_log).len() >= want
    });
    let dest = |log: &Log| push_pull_digests(log).iter().map(|h| h.port).collect::<Vec<u16>>();
    let (blocks, ok) = in_passes(&dest(&rr_log), PEERS, PASSES);
    assert!(ok, "round-robin: each pass of {PEERS} exchanges reaches every peer once: {blocks:?}");
    // drawn independently, 5 blocks of 4 all happen to be passes with probability (4!/4^4)^5 < 1e-5
    let (blocks, ok) = in_passes(&dest(&random_log), PEERS, PASSES);
    assert!(!ok, "random targets do not keep to passes: {blocks:?}");
}

#[test]
fn a_rumor_node_runs_backup_push_pull_exchanges_only_with_anti_entropy_ms() {
    let flags = ["--protocol", "rumor", "--interval-ms", "100"];
    let ports = free_ports(2);
    let (backup_log, plain_log) = (Log::default(), Log::default());
    let backup_fakes: Vec<Fake> = (0..2).map(|_| quiet_fake(&backup_log)).collect();
    let plain_fakes: Vec<Fake> = (0..2).map(|_| quiet_fake(&plain_log)).collect();
    let started = Instant::now();
    let backup = node_against(ports[0], &backup_fakes, &[&flags[..], &["--anti-entropy-ms", "100"]].concat());
    let _plain = node_against(ports[1], &plain_fakes, &flags);

    wait_until("the node with --anti-entropy-ms runs 5 backup exchanges", Duration::from_secs(20), || {
        push_pull_digests(&backup_log).len() >= 5
    });
    // the other node has run at least as long, and gossips (it pushes its hot rumor)
    std::thread::sleep(Duration::from_millis(300));
    let me = state(backup.port).expect("the node answers").id;
    for h in push_pull_digests(&backup_log) {
        let b = body(&h);
        assert!(b["digest"].get(&me).is_some(), "a backup exchange sends the node's whole digest: {b}");
    }
    let plain = plain_log.lock().unwrap().clone();
    assert!(plain.iter().any(|h| body(h).get("updates").is_some()), "the plain rumor node pushes: {plain:?}");
    assert!(
        push_pull_digests(&plain_log).is_empty(),
        "without --anti-entropy-ms a rumor node sends no push-pull digest in {:?}: {plain:?}",
        started.elapsed()
    );
}

/// A node in process running `protocol`, unsigned updates welcome (the
/// bodies below are written by hand), never re-sampling.
fn in_process(protocol: Protocol) -> InProc {
    InProc::start(NodeOptions {
        core: Config { protocol, eager_push: false, resample_ms: None, auth: Policy::Welcome, ..Config::default() },
        movie: Some("Alien".into()),
        ..NodeOptions::default()
    })
}

fn unspoken(node: &InProc) -> u64 {
    let m = node.metrics();
    assert!(m.contains("# TYPE gossip_unspoken_messages_total counter\n"), "{m}");
    metric(&m, "gossip_unspoken_messages_total").unwrap_or_else(|| panic!("no unspoken counter:\n{m}"))
}

#[test]
fn a_feedback_to_a_node_whose_protocol_refuses_it_is_counted_in_metrics_and_the_rest_is_applied() {
    let sender = "http://127.0.0.1:9";
    let known = serde_json::json!({ "from": sender, "known": { sender: [0, 3] } }).to_string();
    let with_update = serde_json::json!({
        "from": sender,
        "known": { sender: [0, 3] },
        "updates": [{ "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e", "origin": sender,
                      "epoch": 0, "version": 3, "ttl": 0, "payload": "Heat" }],
    })
    .to_string();

    let push_pull = in_process(Protocol::PushPull);
    assert_eq!(unspoken(&push_pull), 0);
    let r = post_json(push_pull.port, "/gossip/", known.as_bytes()).expect("the node answers");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().get("known"), None, "nothing is answered for it: {}", r.text());
    assert_eq!(unspoken(&push_pull), 1, "a push-pull node does not take rumor feedback");
    let r = post_json(push_pull.port, "/gossip/", with_update.as_bytes()).expect("the node answers");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(unspoken(&push_pull), 2);
    let s = state(push_pull.port).expect("state");
    assert_eq!(s.view.get(sender).map(|e| e.movie.as_str()), Some("Heat"), "the update beside it is applied");

    // rumor mongering with feedback (the default stop rule) takes it: nothing refused
    let rumor = in_process(Protocol::Rumor);
    let r = post_json(rumor.port, "/gossip/", known.as_bytes()).expect("the node answers");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(unspoken(&rumor), 0, "rumor mongering with feedback speaks known");
}
