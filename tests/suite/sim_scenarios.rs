//! Scenario tests: faults, determinism, the course app, and the compact
//! population's equivalence with real core nodes.

use crate::common;
use common::*;
use gossip::core::{Protocol, StopKind, StopRule, Version};
use gossip::sim::{self, parse_fault, EngineChoice, Model, Report, StopReason};

fn faults(list: &[&str]) -> Vec<sim::TimedFault> {
    list.iter().map(|f| parse_fault(f).expect("valid fault")).collect()
}

fn json(r: &Report) -> String {
    serde_json::to_string(r).expect("serialisable")
}

#[test]
fn compact_and_full_populations_give_identical_runs() {
    // The compact population is the protocol specialised to one rumor: same
    // random draws, same messages, same bytes, same results, under loss and
    // every kind of fault, in both models.
    let fault_list = faults(&[
        "1500:crash:3",
        "2500:restart:3",
        "3s:crash:4",
        "6s:restart-fresh:4",
        "2s:partition:3",
        "7s:heal",
        "4s:join:5",
        "5s:leave:9",
    ]);
    let protocols: [(Protocol, StopRule); 6] = [
        (Protocol::PushPull, StopRule::default()),
        (Protocol::Pull, StopRule::default()),
        (Protocol::Push, StopRule::default()),
        (Protocol::Rumor, StopRule { feedback: true, kind: StopKind::Coin(2) }),
        (Protocol::Rumor, StopRule { feedback: true, kind: StopKind::Counter(2) }),
        (Protocol::Rumor, StopRule { feedback: false, kind: StopKind::Coin(3) }),
    ];
    for model in [Model::Rounds, Model::Events] {
        for (protocol, stop) in protocols {
            for (fanout, loss, with_faults) in [(1, 0.0, false), (2, 0.1, true), (3, 0.3, true)] {
                let mut c = cfg(300, protocol, model, 42);
                c.node.fanout = fanout;
                c.node.stop = stop;
                c.node.ttl = 12;
                c.net.loss = loss;
                c.net.jitter_ms = 40;
                c.duration_ms = Some(60_000);
                if with_faults {
                    c.faults = fault_list.clone();
                }
                c.engine = EngineChoice::Compact;
                let mut compact = run(&c);
                c.engine = EngineChoice::Full;
                let full = run(&c);
                assert_eq!(compact.engine, "compact");
                compact.engine = full.engine.clone();
                compact.config.engine = EngineChoice::Full;
                assert_eq!(json(&compact), json(&full), "{model:?} {protocol:?} {stop:?} fanout {fanout} loss {loss}");
            }
        }
    }
}

#[test]
fn same_seed_same_trace() {
    for model in [Model::Rounds, Model::Events] {
        let mut c = movies(60, model, 9);
        c.net.loss = 0.1;
        c.duration_ms = Some(30_000);
        c.faults = faults(&["5s:partition:2", "12s:heal", "8s:crash:2", "14s:restart-fresh:2"]);
        assert_eq!(json(&run(&c)), json(&run(&c)));
        let mut other = c.clone();
        other.seed = 10;
        assert_ne!(run(&c).messages, run(&other).messages, "a different seed gives a different run");
    }
}

#[test]
fn converges_with_30pct_loss() {
    for protocol in [Protocol::PushPull, Protocol::Pull, Protocol::Push] {
        let mut c = cfg(500, protocol, Model::Events, 3);
        c.net.loss = 0.3;
        let r = run(&c);
        assert_eq!(r.stop_reason, StopReason::Converged, "{protocol:?}");
        assert_eq!(r.residue, 0.0);
        assert!(r.lost_messages > 0);
    }
}

#[test]
fn loss_slows_dissemination_down() {
    let base = mean_over_seeds(&cfg(2_000, Protocol::PushPull, Model::Rounds, 0), 3, |r| r.rounds_full.unwrap() as f64);
    let mut lossy = cfg(2_000, Protocol::PushPull, Model::Rounds, 0);
    lossy.net.loss = 0.5;
    let slow = mean_over_seeds(&lossy, 3, |r| r.rounds_full.unwrap() as f64);
    assert!(slow > base + 1.0, "{base} vs {slow}");
}

#[test]
fn partition_then_heal_converges_only_after_the_heal() {
    let mut c = cfg(200, Protocol::PushPull, Model::Events, 5);
    c.faults = faults(&["0:partition:2", "20s:heal"]);
    let r = run(&c);
    assert_eq!(r.stop_reason, StopReason::Converged);
    assert!(r.partitioned_messages > 0);
    // before the heal, only node 0's half can know the rumor
    for &(t, f) in &r.coverage {
        if t < 20_000 {
            assert!(f <= 0.5, "coverage {f} at {t} ms across a partition");
        }
    }
    let full_ms = r.rounds_full.unwrap() * 1000;
    assert!(full_ms > 20_000, "everyone knew at {full_ms} ms, before the heal");
    assert!(full_ms < 40_000, "took {full_ms} ms after the heal");
}

#[test]
fn crashed_nodes_do_not_block_convergence_and_catch_up_after_restart() {
    let mut c = cfg(300, Protocol::PushPull, Model::Events, 8);
    c.faults = faults(&["0:crash:10", "0:crash:11", "30s:restart:10", "30s:restart-fresh:11"]);
    let r = run(&c);
    assert_eq!(r.stop_reason, StopReason::Converged);
    assert!(r.messages_to_down_nodes > 0);
    assert_eq!(r.live, 300);
    assert_eq!(r.informed, 300, "restarted nodes learned the rumor too");
    assert!(r.time_ms > 30_000);
}

#[test]
fn joining_nodes_learn_and_leaving_nodes_stop_counting() {
    let mut c = cfg(200, Protocol::PushPull, Model::Events, 4);
    c.faults = faults(&["3s:join:50", "4s:leave:7", "4s:leave:8"]);
    let r = run(&c);
    assert_eq!(r.stop_reason, StopReason::Converged);
    assert_eq!(r.live, 248);
    assert_eq!(r.informed, 248);
}

#[test]
fn the_movies_app_loses_no_update_under_loss_and_faults() {
    let mut c = movies(100, Model::Events, 2);
    c.net.loss = 0.2;
    c.duration_ms = Some(40_000);
    c.faults = faults(&["10s:partition:2", "18s:heal", "5s:crash:3", "25s:restart-fresh:3"]);
    let r = run(&c);
    assert_eq!(r.stop_reason, StopReason::Converged);
    assert!(r.updates >= 100 * 3 + 50, "{} updates", r.updates);
    assert_eq!(r.lost_updates, 0);
    assert_eq!(r.informed, r.live, "every live node's view is current");
    let (m, mx) = (r.latency_ms.median.unwrap(), r.latency_ms.max.unwrap());
    assert!(m > 0.0 && m <= mx, "{m} {mx}");
    assert!(r.messages_per_update > 1.0);
}

#[test]
fn a_restart_without_state_wins_with_a_new_epoch() {
    // Node 3 restarts at counter 1 in epoch 1: its new favorite must replace
    // the old epoch-0 versions everywhere although its counter is lower.
    let mut c = movies(30, Model::Events, 6);
    c.duration_ms = Some(40_000);
    c.faults = faults(&["15s:restart-fresh:3"]);
    let cfg_full = c.clone();
    let r = run(&cfg_full);
    assert_eq!(r.lost_updates, 0);
    assert_eq!(r.informed, 30);
    // the epoch-1 updates of node 3 exist and completed
    let full = sim_full_population(&cfg_full);
    let latest = full.iter().map(|n| n.known(&3).unwrap()).collect::<Vec<_>>();
    assert!(latest.iter().all(|v| *v == latest[0] && v.epoch == 1), "{latest:?}");
    assert!(latest[0] < Version::new(1, 100));
}

fn sim_full_population(c: &sim::SimConfig) -> Vec<gossip::core::Node<u32>> {
    // rerun the configuration on full nodes and return their final state
    use sim::population::Population;
    let mut r = sim::runner(c, sim::full_population(c));
    r.run(&mut |_| {});
    assert!(r.w.pop.len() == c.nodes);
    r.w.pop.nodes().to_vec()
}

#[test]
fn flood_ttl_counts_hops_exactly() {
    // The origin's own send is not a forward; each forward decrements the
    // TTL; a message at TTL 0 is applied but never forwarded.
    let n = 50u64;
    for (ttl, expected) in [(0u32, n - 1), (1, (n - 1) + (n - 1) * (n - 2))] {
        let mut c = cfg(n as u32, Protocol::Flood, Model::Rounds, 1);
        c.node.ttl = ttl;
        let r = run(&c);
        assert_eq!(r.messages, expected, "ttl {ttl}");
        assert_eq!(r.informed, n as u32);
        assert_eq!(r.stop_reason, StopReason::Quiescent);
    }
}

#[test]
fn eager_push_speeds_up_push_pull() {
    let mut plain = movies(300, Model::Events, 3);
    plain.duration_ms = Some(30_000);
    plain.node.eager_push = false;
    let mut eager = plain.clone();
    eager.node.eager_push = true;
    let (p, e) = (run(&plain), run(&eager));
    assert!(
        e.latency_ms.median.unwrap() < p.latency_ms.median.unwrap() / 1.5,
        "eager {:?} plain {:?}",
        e.latency_ms,
        p.latency_ms
    );
}

#[test]
fn time_limit_bounds_a_run_that_cannot_converge() {
    let mut c = cfg(100, Protocol::PushPull, Model::Events, 1);
    c.faults = faults(&["0:partition:2"]);
    c.duration_ms = Some(20_000);
    let r = run(&c);
    assert_eq!(r.stop_reason, StopReason::TimeLimit);
    assert!(r.rounds_full.is_none());
    assert!(r.residue >= 0.45);
}

#[test]
fn scenarios_reject_bad_configurations() {
    let mut c = cfg(10, Protocol::PushPull, Model::Events, 1);
    c.net.loss = -0.5;
    assert!(sim::run(&c, &mut |_| {}).unwrap_err().to_string().contains("loss"));
    let mut c = cfg(1, Protocol::PushPull, Model::Events, 1);
    c.nodes = 1;
    assert!(sim::run(&c, &mut |_| {}).unwrap_err().to_string().contains("nodes"));
    let mut c = movies(10, Model::Events, 1);
    c.engine = EngineChoice::Compact;
    assert!(sim::run(&c, &mut |_| {}).unwrap_err().to_string().contains("compact"));
}

#[test]
fn bootstrapped_nodes_discover_each_other_and_converge() {
    // The course's membership: node 0 starts alone, everyone else knows only
    // node 0, and peers are learned from who calls and from update origins.
    let mut c = movies(80, Model::Events, 12);
    c.membership = sim::MembershipMode::Bootstrap;
    c.duration_ms = Some(30_000);
    let r = run(&c);
    assert_eq!(r.stop_reason, StopReason::Converged);
    assert_eq!(r.lost_updates, 0);
    assert_eq!(r.informed, 80);

    // the same run, stopped at 20 s, to look at the peer tables
    let mut r = sim::runner(&c, sim::full_population(&c));
    r.advance(20_000, u64::MAX, &mut |_| {});
    for i in 0..80 {
        let t = r.w.pop.peer_table(i).expect("bootstrap tables");
        assert!(t.len() >= 70, "node {i} knows only {} peers", t.len());
        assert!(!t.peers().contains(&i), "node {i} lists itself");
    }
}
