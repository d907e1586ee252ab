//! The events engine on threads (windows shorter than the least link
//! latency, run in parts and replayed in order) gives exactly the run that
//! one event at a time gives: same report, byte for byte, under every kind
//! of fault, every protocol, both memberships and the broadcast workload.
#![cfg(not(target_arch = "wasm32"))] // threads

use crate::common;
use common::*;
use gossip::core::Protocol;
use gossip::sim::params::SimParams;
use gossip::sim::{self, parse_fault, MembershipMode, Model, SimConfig};

/// The JSON report of `c` run on `threads` threads with windows of at
/// least `min_window` events, and how many windows ran on threads.
fn report(c: &SimConfig, threads: usize, min_window: usize) -> (String, u64) {
    let mut r = sim::runner(c, sim::full_population(c));
    r.set_threads(threads, min_window);
    let (reason, t) = r.run(&mut |_| {});
    let json = serde_json::to_string(&sim::report(c, &r.w, reason, t)).expect("serialisable");
    (json, r.windows())
}

/// `c` gives the same report on 2 and 3 threads as on one, and the
/// threaded runs used at least `least` windows.
fn same_on_threads(c: &SimConfig, what: &str, least: u64) {
    let (alone, none) = report(c, 1, 1);
    assert_eq!(none, 0, "{what}: one thread runs no windows");
    for threads in [2, 3] {
        let (threaded, windows) = report(c, threads, 1);
        assert!(windows >= least, "{what}: only {windows} windows on {threads} threads");
        assert_eq!(alone, threaded, "{what}: {threads} threads changed the run");
    }
}

fn with_faults(mut c: SimConfig, list: &[&str]) -> SimConfig {
    c.faults = list.iter().map(|f| parse_fault(f).expect("valid fault")).collect();
    c
}

#[test]
fn movies_on_threads_is_the_same_run_under_every_fault() {
    let mut c = movies(150, Model::Events, 5);
    c.duration_ms = Some(20_000);
    c.net.latency_ms = 20;
    c.net.jitter_ms = 15;
    c.net.link_spread = 0.5;
    c.node.resample_ms = Some(2_000); // timers inside windows
    same_on_threads(&c, "movies", 100);
    let c = with_faults(
        c,
        &[
            "2s:crash:3",
            "3s:restart:3",
            "4s:crash:40",
            "6s:restart-fresh:40",
            "5s:partition:3",
            "9s:heal",
            "7s:join:12",
            "8s:leave:90",
            "10s:loss:0.2",
        ],
    );
    same_on_threads(&c, "movies with faults", 100);
}

#[test]
fn every_protocol_and_bootstrap_membership_on_threads_is_the_same_run() {
    for protocol in [Protocol::PushPull, Protocol::Pull, Protocol::Push, Protocol::Rumor, Protocol::Flood] {
        let mut c = cfg(200, protocol, Model::Events, 11);
        c.net.latency_ms = 30;
        c.net.loss = 0.05;
        c.node.fanout = 2;
        c.engine = sim::EngineChoice::Full;
        c.duration_ms = Some(40_000);
        // a flood runs one event at a time (see FullPopulation::split)
        let least = if protocol == Protocol::Flood { 0 } else { 10 };
        same_on_threads(&c, &format!("single {protocol:?}"), least);
    }
    // pushes to 60 peers an event: a burst, after which the engine runs a
    // while one event at a time (the engine's BURST), then windows again
    let mut c = cfg(400, Protocol::Push, Model::Events, 4);
    c.node.fanout = 60;
    c.engine = sim::EngineChoice::Full;
    same_on_threads(&c, "push to 60 peers", 1);
    let mut c = movies(120, Model::Events, 8);
    c.membership = MembershipMode::Bootstrap;
    c.duration_ms = Some(15_000);
    same_on_threads(&with_faults(c, &["4s:crash:7", "6s:restart-fresh:7"]), "movies, bootstrap membership", 10);
}

#[test]
fn the_broadcast_preset_on_threads_is_the_same_run() {
    let mut p = SimParams::preset("glomers").expect("a preset");
    p.faults.extend(SimParams::partition_faults());
    let c = p.to_config().expect("valid");
    same_on_threads(&c, "glomers with a partition", 10);
}
