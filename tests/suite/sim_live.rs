//! The live run the browser lab drives: slicing time never changes a run,
//! faults a user adds while it runs replay exactly from the recorded
//! scenario, and what a viewer is shown matches the nodes' real state.

use crate::common;
use common::*;
use gossip::core::Protocol;
use gossip::rng::Rng;
use gossip::sim::live::{FaultRefused, Live};
use gossip::sim::{self, EngineChoice, Fault, Model, RunError, SimConfig, StopReason};

fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string(x).expect("serialisable")
}

/// Advance `live` to its end in random slices of time and event budget.
fn run_in_slices(live: &mut Live, rng: &mut Rng) {
    for _ in 0..1_000_000 {
        if live.stopped().is_some() {
            return;
        }
        let target = live.now() + 1 + rng.below(2_500);
        let budget = 1 + rng.below(5_000);
        live.advance(target, budget);
    }
    panic!("the run did not end");
}

fn configs() -> Vec<SimConfig> {
    let mut out = Vec::new();
    for model in [Model::Rounds, Model::Events] {
        let mut c = cfg(200, Protocol::PushPull, model, 5);
        c.net.loss = 0.1;
        c.faults = ["2s:crash:3", "3s:partition:2", "6s:heal", "7s:restart-fresh:3", "8s:join:2"]
            .iter()
            .map(|f| sim::parse_fault(f).expect("valid"))
            .collect();
        out.push(c);
        let mut m = movies(40, model, 9);
        m.duration_ms = Some(15_000);
        out.push(m);
        let mut r = cfg(300, Protocol::Rumor, model, 3);
        r.node.fanout = 2;
        out.push(r);
        let mut b = sim::params::SimParams::preset("glomers").expect("known").to_config().expect("valid");
        b.model = model;
        b.duration_ms = Some(3_000);
        b.faults = ["1s:partition:2", "2s:heal", "2500ms:crash:4"]
            .iter()
            .map(|f| sim::parse_fault(f).expect("valid"))
            .collect();
        out.push(b);
    }
    out
}

#[test]
fn slicing_time_gives_the_same_run_as_one_call() {
    let mut rng = Rng::new(77);
    for c in configs() {
        let mut live = Live::new(&c).expect("valid");
        run_in_slices(&mut live, &mut rng);
        let mut whole = c.clone();
        whole.engine = EngineChoice::Full;
        let native = sim::run(&whole, &mut |_| {}).expect("valid");
        assert_eq!(json(&live.report()), json(&native), "{:?} {:?}", c.model, c.node.protocol);
    }
}

#[test]
fn faults_added_while_running_replay_exactly_from_the_recorded_scenario() {
    for model in [Model::Rounds, Model::Events] {
        let mut c = movies(30, model, 4);
        c.duration_ms = Some(20_000);
        c.net.jitter_ms = 30;
        let mut live = Live::new(&c).expect("valid");
        let clicks: [(u64, Fault); 6] = [
            (2_500, Fault::Crash { node: 5 }),
            (4_000, Fault::Partition { groups: 3 }),
            (4_000, Fault::Loss { p: 0.2 }),
            (9_100, Fault::Heal),
            (11_000, Fault::Restart { node: 5, keep_state: false }),
            (12_345, Fault::Join { count: 2 }),
        ];
        for (t, f) in clicks {
            live.advance(t, u64::MAX);
            let at = live.add_fault(f).expect("valid fault");
            assert_eq!(at, live.now() + 1);
        }
        while live.stopped().is_none() {
            live.advance(live.now() + 1_000, u64::MAX);
        }
        let scenario = live.config();
        assert_eq!(scenario.faults.len(), 6);
        let replay = sim::run(&scenario, &mut |_| {}).expect("valid");
        assert_eq!(json(&live.report()), json(&replay), "{model:?}");
        assert_eq!(replay.stop_reason, StopReason::Converged);
        assert_eq!(replay.live, 32, "30 nodes, one crashed and restarted, two joined");
    }
}

#[test]
fn a_fault_after_convergence_resumes_the_run() {
    let c = cfg(100, Protocol::PushPull, Model::Events, 2);
    let mut live = Live::new(&c).expect("valid");
    live.advance(u64::MAX, u64::MAX);
    assert_eq!(live.stopped(), Some(StopReason::Converged));
    let ended = live.now();
    live.add_fault(Fault::Join { count: 3 }).expect("valid");
    assert_eq!(live.stopped(), None);
    live.advance(u64::MAX, u64::MAX);
    assert_eq!(live.stopped(), Some(StopReason::Converged));
    assert!(live.now() > ended);
    assert_eq!(live.report().informed, 103);
}

#[test]
fn viewer_staleness_matches_the_nodes_views() {
    // The incremental freshness count against a brute-force check of every
    // node's view, at many points of a run with restarts and joins.
    let mut c = movies(25, Model::Events, 6);
    c.duration_ms = Some(20_000);
    c.faults = ["3s:crash:2", "6s:restart-fresh:2", "7s:join:3", "9s:restart-fresh:26"]
        .iter()
        .map(|f| sim::parse_fault(f).expect("valid"))
        .collect();
    let mut live = Live::new(&c).expect("valid");
    let mut checked = 0;
    while live.stopped().is_none() {
        live.advance(live.now() + 137, u64::MAX);
        let views: Vec<_> = (0..live.len()).map(|i| live.detail(i).expect("exists")).collect();
        let latest: std::collections::HashMap<u32, (u32, u64)> =
            views.iter().flat_map(|d| d.view.iter().filter_map(|r| r.latest.map(|l| (r.origin, l)))).collect();
        for d in &views {
            let holds = d.view.iter().filter(|r| latest.get(&r.origin) == Some(&(r.epoch, r.version))).count();
            assert_eq!(d.node.stale as usize, latest.len() - holds, "node {} at {}", d.node.id, live.now());
            checked += 1;
        }
    }
    assert!(checked > 1_000);
    assert!(live.converged());
}

#[test]
fn flights_show_every_message_sent() {
    let c = cfg(50, Protocol::PushPull, Model::Events, 8);
    let mut live = Live::new(&c).expect("valid");
    let mut seen = 0u64;
    while live.stopped().is_none() {
        live.advance(live.now() + 200, u64::MAX);
        let (flights, skipped) = live.drain_flights();
        assert_eq!(skipped, 0);
        for f in &flights {
            assert!(f.from < 50 && f.to < 50 && f.from != f.to);
            assert!(f.arrives.is_some_and(|a| a > f.sent), "latency is positive");
        }
        seen += flights.len() as u64;
    }
    assert_eq!(seen, live.report().messages);
}

#[test]
fn live_faults_with_bad_node_indices_are_refused() {
    let mut live = Live::new(&cfg(10, Protocol::Push, Model::Rounds, 1)).expect("valid");
    let e = live.add_fault(Fault::Crash { node: 10 }).unwrap_err();
    assert_eq!(e, FaultRefused::NoNode { node: 10, nodes: 10 });
    assert!(e.to_string().contains("no node 10"), "{e}");
    assert_eq!(live.add_fault(Fault::Loss { p: -0.1 }), Err(FaultRefused::Loss(-0.1)));
    assert_eq!(live.add_fault(Fault::Join { count: 0 }), Err(FaultRefused::Join));
    assert!(live.config().faults.is_empty());
    let bad = SimConfig { nodes: 0, ..SimConfig::default() };
    let e = Live::new(&bad).err().expect("refused");
    assert!(matches!(&e, RunError::Param(p) if p.param == "nodes"), "{e:?}");
    assert!(e.to_string().contains("nodes must be"), "{e}");
}

#[test]
fn a_live_run_of_the_wrong_kind_of_node_names_the_membership() {
    let full = cfg(10, Protocol::Push, Model::Events, 1);
    let e = Live::<sim::swim::SwimPopulation>::start(&full).err().expect("a full-membership run has no SWIM members");
    assert_eq!(e, RunError::Membership { membership: "full", runs: "SWIM members" });
    assert_eq!(e.to_string(), "the full membership does not run SWIM members");
    let e = Live::<sim::overlay::OverlayPopulation>::start(&full).err().expect("no overlay either");
    assert_eq!(e.to_string(), "the full membership does not run overlay nodes");
}

/// A 20-node movies run of 3 s, open-ended (as while real nodes take part).
fn open_movies(model: Model) -> Live {
    let mut m = movies(20, model, 3);
    m.duration_ms = Some(3_000);
    let mut live = Live::new(&m).unwrap();
    live.set_open(true);
    live
}

#[test]
fn an_open_run_keeps_going_past_its_limit_and_convergence() {
    for model in [Model::Events, Model::Rounds] {
        let mut live = open_movies(model);
        let mut events = Vec::new();
        for t in (0..60_000).step_by(10) {
            live.advance(t, u64::MAX);
            if t % 5_000 == 0 {
                events.push(live.report().events);
            }
        }
        assert_eq!(live.stopped(), None, "{model:?}");
        assert_eq!(live.now(), 59_990);
        assert!(live.converged());
        // nodes keep gossiping (timers, digests) long after the limit
        assert!(events.windows(2).all(|w| w[1] > w[0] + 50), "{model:?}: {events:?}");
        live.set_open(false);
        live.advance(60_000, u64::MAX);
        assert!(live.stopped().is_some(), "{model:?}: closed again, the run ends");
    }
}

#[test]
fn remote_deliveries_do_not_stall_the_simulated_network() {
    use gossip::core::Message;
    use gossip::sim::live::NodeKind;
    for model in [Model::Events, Model::Rounds] {
        let mut live = open_movies(model);
        let slot = live.add_remote(NodeKind::Native);
        for t in (0..20_000).step_by(10) {
            live.advance(t, u64::MAX);
            if t % 300 == 0 {
                let d = live.digest(0).unwrap();
                live.deliver_remote(0, slot, Message::Delta { updates: vec![], request: d });
            }
        }
        let _ = live.drain_remote();
        let st: Vec<_> = (0..live.len()).filter_map(|i| live.node(i)).filter(|n| n.stale > 0).map(|n| n.id).collect();
        assert!(live.converged(), "{model:?}: stale {st:?}");
    }
}

#[test]
fn a_mirror_that_knew_a_remote_version_before_the_run_counted_it_is_current() {
    use gossip::core::{Payload, Update, Uuid, Version};
    use gossip::sim::live::NodeKind;
    let mut live = open_movies(Model::Events);
    live.advance(5_000, u64::MAX);
    let (a, b) = (live.add_remote(NodeKind::Native), live.add_remote(NodeKind::Native));
    // the simulated nodes' updates, which a's mirror lacks
    let base = live.node(a).unwrap().stale;
    assert!(base >= 20);
    let upd = |origin: u32, counter: u64| {
        Update::new(
            Uuid::from_u128((origin as u128) << 32 | counter as u128),
            origin,
            Version::new(9, counter),
            3,
            Payload::from("Heat"),
            None,
        )
    };
    for (origin, counter) in [(a, 1), (b, 1), (b, 2)] {
        // what a's node says it holds, before the run counts b's version as made
        live.mirror(a, vec![upd(a, 1), upd(b, counter)]);
        live.remote_originated(origin, Version::new(9, counter));
        live.remote_originated(a, Version::new(9, 1));
        assert_eq!(live.node(a).unwrap().stale, base, "b at {counter}");
    }
    // a newer version it does not hold makes it stale, and learning it current again
    live.remote_originated(b, Version::new(9, 3));
    assert_eq!(live.node(a).unwrap().stale, base + 1);
    live.mirror(a, vec![upd(b, 3)]);
    assert_eq!(live.node(a).unwrap().stale, base);
}

#[test]
fn the_viewer_follows_a_broadcast_run_whose_keys_are_values() {
    // values are keys above every node index: the viewer's freshness counts
    // and inspector must handle them like origins
    let mut c = sim::params::SimParams::preset("glomers").expect("known").to_config().expect("valid");
    c.duration_ms = Some(2_000);
    let mut live = Live::new(&c).expect("valid");
    let mut checked = 0;
    while live.stopped().is_none() {
        live.advance(live.now() + 97, u64::MAX);
        let made = live.report().updates as usize;
        for i in 0..live.len() {
            let d = live.detail(i).expect("exists");
            let held = d.view.iter().filter(|r| r.origin >= 25).count();
            assert_eq!(d.node.stale as usize, made - held, "node {i} at {}", live.now());
            checked += 1;
        }
        assert!(!live.spreads(0).is_empty());
    }
    assert!(checked > 100);
    assert!(live.converged());
}
