//! Who told whom in a live run: every node that learns an update has
//! exactly one first delivery of it (its sender and hop, the sender's hop
//! plus one), every other delivery of it is a duplicate that adds up to the
//! nodes' own duplicate counters, and on a known overlay a flood's hop
//! counts are the breadth-first distances from the origin.

use crate::common;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use common::*;
use gossip::core::{Protocol, Version};
use gossip::sim::live::{Live, LiveRun};
use gossip::sim::overlay::OverlayPopulation;
use gossip::sim::params::SimParams;
use gossip::sim::population::{Delivery, FullPopulation};
use gossip::sim::{self, Model, SimConfig};

fn run_to_end<P: LiveRun>(live: &mut Live<P>) {
    for _ in 0..100_000 {
        if live.stopped().is_some() {
            return;
        }
        live.advance(live.now() + 1_000, 1_000_000);
    }
    panic!("the run did not end");
}

/// The updates of a run of full nodes: every `(origin, version)` its trace saw.
fn updates(live: &Live) -> BTreeSet<(u32, Version)> {
    let (trace, dropped) = live.trace();
    assert_eq!(dropped, 0, "the trace holds the whole run");
    trace.iter().map(|e| (e.origin, Version::new(e.epoch, e.counter))).collect()
}

/// Checks the invariants of one update's deliveries against the trace of
/// the run: one first delivery per node that learned it from another node,
/// to exactly those nodes, each a hop further than its sender's.
fn check_update(live: &Live, origin: u32, version: Version) -> (usize, usize) {
    let edges: &[Delivery] = live.dissemination(origin, version).expect("every update made is kept");
    assert!(edges.windows(2).all(|w| w[0].t <= w[1].t), "in time order");
    let mut first: BTreeMap<u32, Delivery> = BTreeMap::new();
    for e in edges.iter().filter(|e| !e.duplicate) {
        assert!(first.insert(e.to, *e).is_none(), "{origin}@{version:?}: node {} learned it twice", e.to);
    }
    // the trace's learned events with a sender are exactly the first deliveries
    let (trace, _) = live.trace();
    let mut told = BTreeMap::new();
    let mut holders = BTreeSet::new();
    for ev in trace.iter().filter(|e| e.origin == origin && Version::new(e.epoch, e.counter) == version) {
        match (ev.kind, ev.from) {
            ("learned", Some(from)) => {
                told.insert(ev.node, (from, ev.hop, ev.t));
            }
            // the origin, or the node a client handed a broadcast value to
            _ => {
                assert_eq!(ev.hop.unwrap_or(0), 0, "a node that holds an update first is hop 0");
                holders.insert(ev.node);
            }
        }
    }
    assert_eq!(told.len(), first.len(), "{origin}@{version:?}: one first delivery per informed node");
    for (to, e) in &first {
        assert_eq!(told[to], (e.from, Some(u32::from(e.hop)), e.t), "the trace says what the dissemination says");
        assert!(!holders.contains(to), "the origin is not told its own update");
        // its sender held it first at hop 0, or learned it earlier, one hop closer
        let sender_hop = if holders.contains(&e.from) { 0 } else { first[&e.from].hop };
        assert!(holders.contains(&e.from) || first[&e.from].t <= e.t, "the sender knew it before sending");
        assert_eq!(e.hop, sender_hop + 1, "{origin}@{version:?}: hop of {} via {}", e.to, e.from);
    }
    (first.len(), edges.len() - first.len())
}

fn gossip_configs() -> Vec<SimConfig> {
    let mut out = Vec::new();
    for model in [Model::Rounds, Model::Events] {
        let mut c = cfg(120, Protocol::PushPull, model, 5);
        c.net.loss = 0.1;
        c.faults = ["2s:crash:3", "3s:partition:2", "6s:heal", "7s:restart:3", "8s:join:2"]
            .iter()
            .map(|f| sim::parse_fault(f).expect("valid"))
            .collect();
        out.push(c);
        let mut m = movies(30, model, 9);
        m.duration_ms = Some(12_000);
        out.push(m);
        let mut r = cfg(150, Protocol::Rumor, model, 3);
        r.node.fanout = 2;
        out.push(r);
        let mut b = SimParams::preset("glomers").expect("known").to_config().expect("valid");
        b.model = model;
        b.duration_ms = Some(2_000);
        out.push(b);
    }
    out
}

#[test]
fn every_informed_node_has_exactly_one_first_delivery_a_hop_past_its_sender() {
    for c in gossip_configs() {
        let mut live = Live::new(&c).expect("valid");
        run_to_end(&mut live);
        let ups = updates(&live);
        assert!(!ups.is_empty());
        let (mut informed, mut dups) = (0, 0);
        for (o, v) in ups {
            let (i, d) = check_update(&live, o, v);
            informed += i;
            dups += d;
        }
        assert!(
            informed > 0 && dups > 0,
            "{:?}/{:?}: {informed} first deliveries, {dups} duplicates",
            c.model,
            c.node.protocol
        );
    }
}

#[test]
fn duplicate_deliveries_add_up_to_the_nodes_duplicate_counters() {
    for model in [Model::Rounds, Model::Events] {
        for protocol in [Protocol::Push, Protocol::PushPull, Protocol::Flood, Protocol::Rumor] {
            let mut c = movies(25, model, 4);
            c.node.protocol = protocol;
            c.duration_ms = Some(8_000);
            let mut live = Live::new(&c).expect("valid");
            run_to_end(&mut live);
            let recorded: usize = updates(&live)
                .into_iter()
                .map(|(o, v)| live.dissemination(o, v).expect("kept").iter().filter(|e| e.duplicate).count())
                .sum();
            let counted: u64 = (0..live.len()).map(|i| live.detail(i).expect("a node").duplicates).sum();
            assert!(counted > 0, "{model:?} {protocol:?}: some duplicates");
            assert_eq!(recorded as u64, counted, "{model:?} {protocol:?}");
        }
    }
}

#[test]
fn the_inspector_says_who_told_each_entry() {
    let mut live = Live::new(&movies(20, Model::Events, 2)).expect("valid");
    live.advance(6_000, u64::MAX);
    let d = live.detail(7).expect("a node");
    assert!(d.view.len() > 1);
    for row in &d.view {
        if row.origin == 7 {
            assert_eq!((row.from, row.hop), (None, Some(0)), "its own favorite");
            continue;
        }
        let from = row.from.expect("told by a node");
        let edges = live.dissemination(row.origin, Version::new(row.epoch, row.version)).expect("kept");
        let e = edges.iter().find(|e| e.to == 7 && !e.duplicate).expect("its first delivery");
        assert_eq!((e.from, Some(u32::from(e.hop)), e.t), (from, row.hop, row.learned_at));
    }
}

/// Breadth-first distances from `origin` over the overlay's links.
fn bfs(live: &Live<OverlayPopulation>, origin: u32) -> Vec<Option<u32>> {
    let mut dist = vec![None; live.len() as usize];
    dist[origin as usize] = Some(0);
    let mut q = VecDeque::from([origin]);
    while let Some(i) = q.pop_front() {
        for j in live.overlay_detail(i).expect("a node").neighbours {
            if dist[j as usize].is_none() {
                dist[j as usize] = Some(dist[i as usize].unwrap_or(0) + 1);
                q.push_back(j);
            }
        }
    }
    dist
}

#[test]
fn hop_counts_of_a_flood_on_a_static_overlay_are_the_bfs_distances() {
    let cases = [
        ("ring", "rounds", "4"),
        ("line", "rounds", "2"),
        ("grid", "rounds", "4"),
        ("tree", "rounds", "3"),
        ("k-out", "rounds", "3"),
        ("line", "events", "2"),
        ("tree", "events", "2"),
    ];
    for (membership, model, degree) in cases {
        let mut pairs = vec![("nodes", "64"), ("protocol", "flood"), ("membership", membership), ("model", model)];
        pairs.push(("scenario", "single"));
        if !matches!(membership, "line" | "grid") {
            pairs.push(("degree", degree));
        }
        let c = SimParams::from_pairs(pairs).expect("valid").to_config().expect("valid");
        let mut live: Live<OverlayPopulation> = Live::start(&c).expect("valid");
        let dist = bfs(&live, 0);
        run_to_end(&mut live);
        let edges = live.dissemination(0, Version::new(0, 1)).expect("the broadcast is kept");
        let mut first = BTreeMap::new();
        for e in edges.iter().filter(|e| !e.duplicate) {
            assert!(first.insert(e.to, e.hop).is_none(), "{membership}: node {} delivered twice", e.to);
        }
        let reached: Vec<u32> = (1..live.len()).filter(|&j| dist[j as usize].is_some()).collect();
        assert_eq!(first.len(), reached.len(), "{membership}/{model}: one first delivery per reachable node");
        for j in reached {
            assert_eq!(Some(u32::from(first[&j])), dist[j as usize], "{membership}/{model}: node {j}");
        }
    }
}

#[test]
fn a_flood_over_everyone_tells_every_node_at_hop_one() {
    let c = cfg(40, Protocol::Flood, Model::Events, 8);
    let mut live: Live<FullPopulation> = Live::new(&c).expect("valid");
    run_to_end(&mut live);
    let v = live.latest(0).expect("made");
    let edges = live.dissemination(0, v).expect("kept");
    let first: Vec<_> = edges.iter().filter(|e| !e.duplicate).collect();
    assert_eq!(first.len(), 39);
    assert!(first.iter().all(|e| e.from == 0 && e.hop == 1), "the origin told everyone directly");
    assert!(edges.iter().filter(|e| e.duplicate).all(|e| e.hop == 2 || e.to == 0), "echoes are a hop further");
}

/// Some pair of nodes with a message carrying updates in flight between them.
fn a_flight(live: &Live) -> Option<(u32, u32, usize)> {
    for from in 0..live.len() {
        for to in 0..live.len() {
            let msgs = live.in_flight(from, to);
            if msgs.iter().any(|m| !m.carries.updates.is_empty()) {
                return Some((from, to, msgs.len()));
            }
        }
    }
    None
}

#[test]
fn a_dropped_flight_is_lost_recorded_in_the_scenario_and_replays() {
    let mut c = cfg(30, Protocol::PushPull, Model::Events, 3);
    c.node.eager_push = true;
    let mut live = Live::new(&c).expect("valid");
    live.advance(1_200, u64::MAX);
    let (from, to, k) = a_flight(&live).expect("messages fly at 1.2 s");
    let m = &live.in_flight(from, to)[0];
    assert!(m.arrives > live.now() && m.carries.bytes > 0);
    assert!(m.carries.updates.iter().all(|u| u.origin < 30 && u.counter >= 1));
    let at = live.add_fault(sim::Fault::Drop { from: (from, from), to: (to, to) }).expect("a valid fault");
    live.advance(at, u64::MAX);
    assert!(live.in_flight(from, to).is_empty(), "the doomed messages are no longer shown in flight");
    run_to_end(&mut live);
    let report = live.report();
    assert_eq!(report.lost_messages, k as u64, "without loss, exactly the dropped messages are lost");
    let spec = sim::faults::format_fault(&live.config().faults[0]);
    assert_eq!(spec, format!("{at}:drop:{from}>{to}"));
    // the scenario replays the run, natively, with the fault in its timeline
    let replay = run(&live.config());
    assert_eq!(serde_json::to_string(&replay).unwrap(), serde_json::to_string(&report).unwrap());
    // and the rounds model refuses it: nothing is in flight between rounds
    let mut r = cfg(30, Protocol::PushPull, Model::Rounds, 3);
    r.faults = vec![sim::parse_fault("1s:drop:1>2").expect("valid")];
    assert!(r.validate().unwrap_err().to_string().contains("rounds"));
}
