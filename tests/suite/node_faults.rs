//! Faults against real `gossip` processes on loopback, five nodes each,
//! gossiping every 30 ms and re-sampling their favorites about every second
//! while the faults last:
//!
//! * a node killed with SIGKILL and restarted at once on the same port,
//!   with `--data-dir` (its epoch grows at every restart, even within one
//!   second) and without (same wall-clock epoch, it outbids its previous
//!   self): its new `--movie` wins at every node;
//! * a node frozen with SIGSTOP for longer than `--remove-after-ms`: the
//!   others drop it; after SIGCONT it is back in every peer table;
//! * a partition {0,1} / {2,3,4} through `POST /faults` (`--allow-faults`),
//!   held while every node keeps re-sampling, then healed.
//!
//! Each ends with the cluster observer: views identical at one polling
//! instant within 20 s, and no acknowledged update lost (every update any
//! node reported, before or during the fault, is present or superseded
//! everywhere). Every child is killed by a guard, even on failure.
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::observer::Observer;
use support::{free_ports, post_json, state, wait_until, Proc};

/// Removal after 1.5 s of silence; an exchange times out after 0.5 s.
const REMOVE_AFTER_MS: u64 = 1_500;

/// How long views may take to become identical after a fault ends.
const SETTLE: Duration = Duration::from_secs(20);

/// How long acknowledged updates may take to reach every node.
const CATCH_UP: Duration = Duration::from_secs(10);

/// How often the observer polls while a fault lasts.
const POLL: Duration = Duration::from_millis(100);

/// The base URL of the node on `port`.
fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The flags every node runs with; `change_ms` 0 never re-samples.
fn flags(change_ms: u64, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--interval-ms",
        "30",
        "--fanout",
        "2",
        "--request-timeout-ms",
        "500",
        "--remove-after-ms",
        &REMOVE_AFTER_MS.to_string(),
        "--change-ms",
        &change_ms.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// Start the node on `port` (bootstrapping from `boot`) with `args`, waited for.
fn start(port: u16, boot: u16, args: &[String]) -> Proc {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    Proc::node(port, boot, &a)
}

/// Five nodes re-sampling about every second, `extra` flags on each; waits
/// until their views are identical once.
fn cluster(extra: &[&str], obs: &mut Observer) -> (Vec<u16>, Vec<Option<Proc>>) {
    let ports = free_ports(5);
    let nodes = ports.iter().map(|&p| Some(start(p, ports[0], &flags(1_000, extra)))).collect();
    let took = obs.identical_views(&ports, SETTLE).expect("the new cluster converges");
    eprintln!("converged in {took:?}");
    (ports, nodes)
}

/// The end of every test: identical views and no lost update.
fn settles(obs: &mut Observer, ports: &[u16], what: &str) {
    let took = obs.identical_views(ports, SETTLE).unwrap_or_else(|e| panic!("{what}: {e}"));
    let lost = obs.lost_updates(ports, CATCH_UP);
    assert!(lost.is_empty(), "{what}: acknowledged updates never reached (origin, port): {lost:?}");
    eprintln!(
        "{what}: identical views in {took:?}; {} updates acknowledged, none lost; {} versions under two UUIDs",
        obs.acknowledged(),
        obs.conflicts().len()
    );
}

/// A directory under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("gossip-faults-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("a temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Kill node 3 with SIGKILL and restart it at once on the same port with
/// `--movie title` (and `--data-dir`, if given); wait until every node's
/// view of it is its new favorite at its current version. Returns its
/// `(epoch, version)` before and after.
fn kill_9_and_restart(
    nodes: &mut [Option<Proc>],
    ports: &[u16],
    obs: &mut Observer,
    title: &str,
    data_dir: Option<&Path>,
) -> ((u32, u64), (u32, u64)) {
    let victim = ports[3];
    let before = obs.poll(ports)[3].clone().expect("the victim answers");
    assert_ne!(before.movie.as_deref(), Some(title), "pick another title");
    let killed = nodes[3].as_mut().unwrap().signal_and_wait("KILL", Duration::from_secs(5)).expect("it dies");
    assert!(!killed.success(), "{killed:?}");
    let dir = data_dir.map(|d| d.to_string_lossy().into_owned());
    let mut extra = vec!["--movie", title];
    if let Some(d) = &dir {
        extra.extend(["--data-dir", d.as_str()]);
    }
    // the restarted node does not re-sample, so its new favorite stays put
    nodes[3] = Some(start(victim, ports[0], &flags(0, &extra)));
    let after = state(victim).expect("the restarted node answers");
    assert_eq!(after.movie.as_deref(), Some(title));
    let took = wait_until("the restarted node's new favorite wins everywhere", SETTLE, || {
        let states = obs.poll(ports);
        let Some(me) = &states[3] else { return false };
        states.iter().flatten().count() == ports.len()
            && states.iter().flatten().all(|s| {
                s.view.get(&url(victim)).is_some_and(|e| {
                    e.movie == title
                        && (e.epoch, e.version) == (me.epoch, me.version)
                        && me.movie.as_deref() == Some(title)
                })
            })
    });
    let now = state(victim).unwrap();
    eprintln!(
        "restart: ({}, {}) -> ({}, {}) {title:?}; everywhere in {took:?}",
        before.epoch, before.version, now.epoch, now.version
    );
    ((before.epoch, before.version), (now.epoch, now.version))
}

#[test]
fn kill_9_and_restart_with_a_data_dir_raises_the_epoch_and_the_new_favorite_wins() {
    let dir = TempDir::new("data-dir");
    let d = dir.0.to_string_lossy().into_owned();
    let mut obs = Observer::new();
    let ports = free_ports(5);
    let mut nodes: Vec<Option<Proc>> = ports
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let extra: &[&str] = if i == 3 { &["--data-dir", &d] } else { &[] };
            Some(start(p, ports[0], &flags(1_000, extra)))
        })
        .collect();
    obs.identical_views(&ports, SETTLE).expect("the new cluster converges");
    let file = dir.0.join("node.json");
    let saved = || std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let first = state(ports[3]).unwrap();
    assert!(saved().contains(&first.epoch.to_string()), "node.json holds epoch {}: {}", first.epoch, saved());
    // without --allow-faults there is no fault injection
    let r = post_json(ports[0], "/faults", br#"{"drop":[]}"#).unwrap();
    assert!((400..500).contains(&r.status), "POST /faults without --allow-faults: {} {}", r.status, r.text());

    let (before, after) = kill_9_and_restart(&mut nodes, &ports, &mut obs, "Alien 3", Some(&dir.0));
    assert!(after.0 > before.0, "the epoch grows at every restart: {before:?} -> {after:?}");
    assert!(saved().contains(&after.0.to_string()), "node.json holds epoch {}: {}", after.0, saved());
    // again at once, most likely within the same second: the epoch still grows
    let (_, again) = kill_9_and_restart(&mut nodes, &ports, &mut obs, "Heat 2", Some(&dir.0));
    assert!(again.0 > after.0, "the epoch grows at every restart: {after:?} -> {again:?}");
    settles(&mut obs, &ports, "restart with --data-dir");
}

#[test]
fn kill_9_and_restart_without_a_data_dir_the_new_favorite_still_wins() {
    let mut obs = Observer::new();
    let (ports, mut nodes) = cluster(&[], &mut obs);
    obs.watch(&ports, Duration::from_secs(2), POLL); // a few re-samples acknowledged first
    let (before, after) = kill_9_and_restart(&mut nodes, &ports, &mut obs, "Alien 3", None);
    // a new wall-clock second, or the same epoch above its previous self
    assert!(after > before, "{before:?} -> {after:?}");
    // again at once, most likely within the same second: same epoch, a new
    // key, and the peers re-bind it. If its previous self had a later
    // version, or a peer pushes that self's update back before re-binding,
    // it announces above it; if both selves stand at the very same version,
    // digests cannot tell them apart, and the new favorite wins (checked
    // above: everywhere, at its version) because the re-binding drops the
    // old self's entry. So the version never goes back, and may stay.
    let (_, again) = kill_9_and_restart(&mut nodes, &ports, &mut obs, "Heat 2", None);
    assert!(again >= after, "{after:?} -> {again:?}");
    settles(&mut obs, &ports, "restart without --data-dir");
}

#[test]
fn a_node_frozen_past_the_removal_timeout_is_dropped_then_rejoins_after_sigcont() {
    let mut obs = Observer::new();
    let (ports, mut nodes) = cluster(&[], &mut obs);
    let (victim, gone) = (ports[2], url(ports[2]));
    let others: Vec<u16> = ports.iter().copied().filter(|&p| p != victim).collect();

    let frozen = Instant::now();
    nodes[2].as_ref().unwrap().signal("STOP");
    let dropped = wait_until("every other node drops the frozen one", Duration::from_secs(15), || {
        let states = obs.poll(&others);
        states.iter().all(|s| s.as_ref().is_some_and(|s| !s.peers.contains(&gone) && !s.suspect.contains(&gone)))
    });
    assert!(dropped >= Duration::from_millis(REMOVE_AFTER_MS), "dropped after {dropped:?}");
    assert!(state(victim).is_none(), "a stopped process does not answer");
    obs.watch(&others, Duration::from_secs(1), POLL); // the others go on re-sampling meanwhile

    let frozen_for = frozen.elapsed();
    nodes[2].as_ref().unwrap().signal("CONT");
    let back = wait_until("the thawed node is back in every peer table", Duration::from_secs(15), || {
        let states = obs.poll(&ports);
        let all = ports.iter().map(|&p| url(p));
        states.iter().zip(all).all(|(s, me)| {
            s.as_ref().is_some_and(|s| ports.iter().map(|&p| url(p)).filter(|u| *u != me).all(|u| s.peers.contains(&u)))
        })
    });
    eprintln!("frozen {frozen_for:?}: dropped after {dropped:?}, back {back:?} after SIGCONT");
    assert!(nodes[2].as_mut().unwrap().running());
    settles(&mut obs, &ports, "SIGSTOP then SIGCONT");
}

/// `POST /faults` with `{"drop": urls}` to the node on `port`.
fn drop_traffic(port: u16, urls: &[String]) {
    let body = serde_json::json!({ "drop": urls }).to_string();
    let r = post_json(port, "/faults", body.as_bytes()).unwrap();
    assert!((200..300).contains(&r.status), "POST /faults to {port}: {} {}", r.status, r.text());
}

#[test]
fn a_partition_through_faults_heals_into_identical_views_without_losing_updates() {
    let mut obs = Observer::new();
    let (ports, nodes) = cluster(&["--allow-faults"], &mut obs);
    let (a, b) = ports.split_at(2);
    let urls = |g: &[u16]| g.iter().map(|&p| url(p)).collect::<Vec<_>>();
    for &p in a {
        drop_traffic(p, &urls(b));
    }
    for &p in b {
        drop_traffic(p, &urls(a));
    }
    // longer than the removal timeout, with every node re-sampling about once a second
    obs.watch(&ports, Duration::from_secs(4), POLL);
    let states: Vec<_> = obs.poll(&ports).into_iter().map(|s| s.expect("every node answers")).collect();
    for (i, s) in states.iter().enumerate() {
        for (j, o) in states.iter().enumerate() {
            if (i < 2) != (j < 2) {
                let seen = s.view.get(&o.id).map(|e| (e.epoch, e.version));
                assert!(
                    seen < Some((o.epoch, o.version)),
                    "port {} knows port {}'s current version {:?} across the partition",
                    ports[i],
                    ports[j],
                    seen
                );
            }
        }
    }
    let healed = Instant::now();
    for &p in &ports {
        drop_traffic(p, &[]);
    }
    settles(&mut obs, &ports, "partition {0,1} / {2,3,4} healed");
    eprintln!("healed and settled in {:?}", healed.elapsed());
    assert!(nodes.iter().all(Option::is_some));
}
