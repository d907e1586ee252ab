//! SWIM failure detection in the native node, with real processes on
//! loopback: a node paused (`SIGSTOP`) for less than the suspicion timeout
//! is never declared dead; a killed node (`kill -9`) is declared dead by
//! every member within the bound its flags give; a Python course node
//! (`examples/course_node.py`, which answers `/swim/` with 404) stays alive
//! in every view, even after a pause that got it suspected, and is declared
//! dead once killed. Every child is killed by a guard, even on failure.
//!
//! Timing: wall-clock, real HTTP. The flags fix the paper's SWIM (no
//! Lifeguard: the probe period never stretches) with a protocol period
//! T' = 300 ms, so that the bounds are exact functions of the flags:
//!
//! * suspicion timeout = `--suspicion-mult` 6 × ⌈ln(n + 1)⌉ × T' = 6 × 2 ×
//!   300 ms = 3.6 s (n = 4 other members, ⌈ln 5⌉ = 2);
//! * a member probes each other member once per pass over the n others,
//!   in a reshuffled order, so two probes of the same member are at most
//!   2n − 1 periods apart: every live member suspects a killed one within
//!   2n periods of the kill (the last one judged at the end of its period),
//!   and declares it dead at most one suspicion timeout later (sooner if it
//!   hears another member's declaration). Bound: 2n × T' + 3.6 s = 6.0 s,
//!   plus 1.5 s for a loaded test machine.
#![cfg(all(unix, not(target_arch = "wasm32")))] // the native node and signals

use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{free_ports, get, metric, state, wait_until, Proc};

const PERIOD_MS: u64 = 300;
const SUSPICION_MS: u64 = 6 * 2 * PERIOD_MS;
const OTHERS: u64 = 4;
/// Every live member declares a killed member dead within this, ms.
const BOUND_MS: u64 = 2 * OTHERS * PERIOD_MS + SUSPICION_MS;
const SLACK_MS: u64 = 1_500;

const FLAGS: [&str; 12] = [
    "--interval-ms",
    "300",
    "--change-ms",
    "0",
    "--swim-preset",
    "paper",
    "--probe-interval-ms",
    "300",
    "--probe-timeout-ms",
    "150",
    "--suspicion-mult",
    "6",
];

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The status `port` holds for the member at `of` (`None`: unknown, or
/// the node does not answer).
fn status(port: u16, of: u16) -> Option<String> {
    let s = state(port)?;
    s.members.into_iter().find(|m| m.url == url(of)).map(|m| m.status)
}

/// Whether every node of `ports` holds every other one alive.
fn all_alive(ports: &[u16]) -> bool {
    ports.iter().all(|&p| ports.iter().filter(|&&o| o != p).all(|&o| status(p, o).as_deref() == Some("alive")))
}

/// `gossip_swim_events_total{event="<event>"}` of the node on `port`.
fn swim_event(port: u16, event: &str) -> u64 {
    let text = get(port, "/metrics").map(|r| r.text()).unwrap_or_default();
    metric(&text, &format!("gossip_swim_events_total{{event=\"{event}\"}}")).unwrap_or(0)
}

#[test]
fn a_paused_member_is_never_declared_dead_and_a_killed_one_is_declared_by_every_member_within_the_bound() {
    let ports = free_ports(5);
    let boot = ports[0];
    let mut nodes: Vec<Option<Proc>> = ports.iter().map(|&p| Some(Proc::node(p, boot, &FLAGS))).collect();
    let took = wait_until("every member holds every other alive", Duration::from_secs(20), || all_alive(&ports));
    eprintln!("membership complete in {took:?}");
    let s = state(ports[1]).unwrap();
    assert_eq!(s.failure_detector, "swim");
    assert_eq!(s.members.len(), 4, "{:?}", s.members);
    assert!(s.members.iter().all(|m| !m.plain), "natives speak SWIM: {:?}", s.members);

    // pause one member for less than the suspicion timeout
    let paused = ports[4];
    let others: Vec<u16> = ports[..4].to_vec();
    let pause = Duration::from_millis(1_500);
    assert!(pause.as_millis() as u64 * 2 <= SUSPICION_MS, "the pause is well under the suspicion timeout");
    nodes[4].as_ref().unwrap().signal("STOP");
    let t = Instant::now();
    let mut suspected = false;
    while t.elapsed() < pause {
        for &p in &others {
            let st = status(p, paused);
            suspected |= st.as_deref() == Some("suspect");
            assert_ne!(st.as_deref(), Some("dead"), "port {p} declared the paused member dead during the pause");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    nodes[4].as_ref().unwrap().signal("CONT");
    // watch for two suspicion timeouts after it resumed
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(2 * SUSPICION_MS) {
        for &p in &others {
            let st = status(p, paused);
            suspected |= st.as_deref() == Some("suspect");
            assert_ne!(st.as_deref(), Some("dead"), "port {p} declared the paused member dead after it resumed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_until("every member holds the resumed one alive", Duration::from_secs(5), || all_alive(&ports));
    let me = state(paused).unwrap();
    let refuted = swim_event(paused, "refutation");
    eprintln!("paused member: suspected {suspected}, incarnation {:?}, refutations {refuted}", me.incarnation);
    assert!(suspected, "a pause of 5 periods gets the member suspected (else this test shows nothing)");
    assert!(refuted >= 1 && me.incarnation >= Some(1), "it refuted the suspicion with a higher incarnation");
    for &p in &ports {
        let declared = swim_event(p, "declared_dead");
        eprintln!("port {p}: declared dead {declared}, suspicions {}", swim_event(p, "suspicion"));
        if p != paused {
            let s = state(p).unwrap();
            let m = s.members.iter().find(|m| m.url == url(paused)).unwrap();
            assert!(m.incarnation >= 1, "port {p} holds the refutation: {m:?}");
        }
    }

    // kill one member: every live member declares it dead within the bound
    let victim = ports[2];
    let live: Vec<u16> = ports.iter().copied().filter(|&p| p != victim).collect();
    nodes[2] = None; // SIGKILL
    let killed = Instant::now();
    let mut declared_at: Vec<Option<Duration>> = vec![None; live.len()];
    while declared_at.iter().any(Option::is_none) && killed.elapsed() < Duration::from_millis(BOUND_MS + SLACK_MS) {
        for (i, &p) in live.iter().enumerate() {
            if declared_at[i].is_none() && status(p, victim).as_deref() == Some("dead") {
                declared_at[i] = Some(killed.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    eprintln!("killed member declared dead at {declared_at:?} (bound {BOUND_MS} ms + {SLACK_MS} ms slack)");
    for (i, &p) in live.iter().enumerate() {
        assert!(declared_at[i].is_some(), "port {p} did not declare the killed member dead within the bound");
    }
    // and nobody else is dead anywhere
    for &p in &live {
        let s = state(p).unwrap();
        for m in s.members.iter().filter(|m| m.url != url(victim)) {
            assert_eq!(m.status, "alive", "port {p}: {m:?}");
        }
        assert!(!s.peers.contains(&url(victim)), "port {p} no longer lists it in /peers/");
    }
}

fn python_present() {
    let ok = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "this test runs examples/course_node.py: python3 must be on PATH");
}

#[test]
fn a_course_node_that_does_not_speak_swim_stays_alive_in_every_view_while_it_answers() {
    python_present();
    let ports = free_ports(4);
    let (boot, course) = (ports[0], ports[3]);
    let natives: Vec<u16> = ports[..3].to_vec();
    let _nodes: Vec<Proc> = natives.iter().map(|&p| Proc::node(p, boot, &FLAGS)).collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/course_node.py");
    let (cp, bp) = (course.to_string(), boot.to_string());
    let py = Proc::spawn_program(
        course,
        "python3",
        &[script, "-p", &cp, "-b", &bp, "--interval-ms", "300", "--change-ms", "0"],
    );
    wait_until("the course node answers", Duration::from_secs(10), || get(course, "/peers/").is_ok());
    let held_alive = |p: u16| {
        state(p).is_some_and(|s| s.members.iter().any(|m| m.url == url(course) && m.status == "alive" && m.plain))
    };
    wait_until("every native holds the course node alive and plain", Duration::from_secs(20), || {
        natives.iter().all(|&p| held_alive(p))
    });

    // pause it long enough to be suspected, not declared: once it answers
    // again the natives vouch for it, since it cannot refute
    py.signal("STOP");
    let t = Instant::now();
    let mut suspected = false;
    while t.elapsed() < Duration::from_millis(1_500) {
        suspected |= natives.iter().any(|&p| status(p, course).as_deref() == Some("suspect"));
        std::thread::sleep(Duration::from_millis(50));
    }
    py.signal("CONT");
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(2 * SUSPICION_MS) {
        for &p in &natives {
            let st = status(p, course);
            suspected |= st.as_deref() == Some("suspect");
            assert_ne!(st.as_deref(), Some("dead"), "port {p} declared the answering course node dead");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(suspected, "the pause got the course node suspected (else this test shows nothing)");
    wait_until("every native holds the course node alive again", Duration::from_secs(5), || {
        natives.iter().all(|&p| held_alive(p))
    });
    let vouched: u64 = natives.iter().map(|&p| swim_event(p, "vouched")).sum();
    assert!(vouched >= 1, "the natives vouched for it");
    // its own view holds the natives (it gossips with them as ever)
    let peers = get(course, "/peers/").unwrap().json();
    assert!(natives.iter().all(|&p| peers.as_array().unwrap().iter().any(|u| u == &url(p))), "{peers}");

    // killed, it is declared dead like any member
    drop(py);
    let killed = Instant::now();
    wait_until("every native declares the killed course node dead", Duration::from_millis(BOUND_MS + SLACK_MS), || {
        natives.iter().all(|&p| status(p, course).as_deref() == Some("dead"))
    });
    eprintln!("course node declared dead by every native in {:?}", killed.elapsed());
}

/// The sum of `gossip_swim_messages_total` and of `gossip_swim_requests_total` of the node on `port`.
fn swim_traffic(port: u16) -> (u64, u64) {
    let text = get(port, "/metrics").map(|r| r.text()).unwrap_or_default();
    let sum = |family: &str, labels: &[&str]| -> u64 {
        labels.iter().map(|l| metric(&text, &format!("{family}{{{l}}}")).unwrap_or(0)).sum()
    };
    let msgs =
        sum("gossip_swim_messages_total", &["type=\"ping\"", "type=\"ping_req\"", "type=\"ack\"", "type=\"nack\""]);
    let reqs = sum("gossip_swim_requests_total", &["result=\"ok\"", "result=\"plain\"", "result=\"failed\""]);
    (msgs, reqs)
}

/// The benchmark of BENCHMARKS.md (not a timed test; run by hand):
/// `cargo test --release --test suite node_swim:: -- --ignored --nocapture`.
/// For each configuration, three fresh 5-node clusters: SWIM messages and
/// `POST /swim/` requests per member per period over a quiet window, then
/// the time from `kill -9` of one member to the first and to the last live
/// member declaring it dead (polled every 25 ms).
#[test]
#[ignore = "a benchmark: run by hand, see BENCHMARKS.md"]
fn bench_detection_time_and_messages_per_member_per_period_in_a_5_node_cluster() {
    let configs: [(&str, u64, Vec<&str>); 2] = [
        ("defaults (Lifeguard, T' = --interval-ms = 1000 ms)", 1_000, vec!["--change-ms", "0"]),
        ("paper, T' = 300 ms, --suspicion-mult 6 (the test's flags)", PERIOD_MS, FLAGS.to_vec()),
    ];
    for (name, period, flags) in configs {
        let mut firsts = Vec::new();
        let mut fulls = Vec::new();
        let mut rates = Vec::new();
        for round in 0..3 {
            let ports = free_ports(5);
            let mut nodes: Vec<Option<Proc>> = ports.iter().map(|&p| Some(Proc::node(p, ports[0], &flags))).collect();
            wait_until("membership complete", Duration::from_secs(30), || all_alive(&ports));
            let before: Vec<(u64, u64)> = ports.iter().map(|&p| swim_traffic(p)).collect();
            let window = Duration::from_millis(20 * period);
            std::thread::sleep(window);
            let after: Vec<(u64, u64)> = ports.iter().map(|&p| swim_traffic(p)).collect();
            let periods = window.as_millis() as f64 / period as f64;
            let msgs: u64 = after.iter().zip(&before).map(|(a, b)| a.0 - b.0).sum();
            let reqs: u64 = after.iter().zip(&before).map(|(a, b)| a.1 - b.1).sum();
            rates.push((msgs as f64 / 5.0 / periods, reqs as f64 / 5.0 / periods));
            let victim = ports[2 + round % 3];
            let live: Vec<u16> = ports.iter().copied().filter(|&p| p != victim).collect();
            nodes[ports.iter().position(|&p| p == victim).unwrap()] = None;
            let killed = Instant::now();
            let mut at: Vec<Option<Duration>> = vec![None; live.len()];
            while at.iter().any(Option::is_none) && killed.elapsed() < Duration::from_secs(120) {
                for (i, &p) in live.iter().enumerate() {
                    if at[i].is_none() && status(p, victim).as_deref() == Some("dead") {
                        at[i] = Some(killed.elapsed());
                    }
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let got: Vec<Duration> = at.into_iter().flatten().collect();
            assert_eq!(got.len(), live.len(), "every member declared it");
            firsts.push(got.iter().min().unwrap().as_secs_f64());
            fulls.push(got.iter().max().unwrap().as_secs_f64());
            drop(nodes);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (m, r): (Vec<f64>, Vec<f64>) = rates.iter().copied().unzip();
        eprintln!(
            "{name}: messages/member/period {:.2} (POST /swim/ requests {:.2}); detection first {:.2} s (runs {:?}), every member {:.2} s (runs {:?})",
            mean(&m),
            mean(&r),
            mean(&firsts),
            firsts.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>(),
            mean(&fulls),
            fulls.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>(),
        );
    }
}
