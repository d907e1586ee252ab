//! The live run of SWIM members and of overlay nodes (HyParView or a static
//! topology, Plumtree or flooding), as the browser lab drives them: slicing
//! time never changes a run (the report is `gossip sim --json`'s), a SWIM
//! member's view shows a crash as suspect and then dead, and Plumtree's
//! eager links form a spanning tree that repairs around a crashed node.
//!
//! Timing models: SWIM runs in the events model (its only one: 100 ms links
//! with 40 ms jitter below); the overlay runs are in both models (see
//! `src/sim/overlay.rs`: in rounds a membership cycle is a round, in events
//! every message takes a link's latency).

use std::collections::BTreeSet;

use gossip::core::membership::swim::State;
use gossip::rng::Rng;
use gossip::sim::live::{FaultRefused, Live, LiveRun};
use gossip::sim::overlay::OverlayPopulation;
use gossip::sim::swim::SwimPopulation;
use gossip::sim::{self, params::SimParams, EngineChoice, Fault, SimConfig};

fn cfg(pairs: &[(&str, &str)]) -> SimConfig {
    SimParams::from_pairs(pairs.iter().copied()).and_then(|p| p.to_config()).expect("valid configuration")
}

fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string(x).expect("serialisable")
}

/// Advance `live` to its end in random slices of time and event budget.
fn run_in_slices<P: LiveRun>(live: &mut Live<P>, rng: &mut Rng) {
    for _ in 0..1_000_000 {
        if live.stopped().is_some() {
            return;
        }
        let target = live.now() + 1 + rng.below(2_500);
        live.advance(target, 1 + rng.below(5_000));
    }
    panic!("the run did not end");
}

fn same_as_gossip_sim<P: LiveRun>(c: &SimConfig, rng: &mut Rng) {
    let mut live = Live::<P>::start(c).expect("valid");
    run_in_slices(&mut live, rng);
    let mut whole = c.clone();
    whole.engine = EngineChoice::Full;
    let native = sim::run(&whole, &mut |_| {}).expect("valid");
    assert_eq!(json(&live.report()), json(&native), "{}", c.membership.name());
}

const SWIM: &[(&str, &str)] = &[
    ("membership", "swim"),
    ("model", "events"),
    ("nodes", "60"),
    ("seed", "4"),
    ("duration_s", "40"),
    ("latency_ms", "100"),
    ("jitter_ms", "40"),
];

#[test]
fn slicing_time_gives_the_same_swim_and_overlay_runs_as_gossip_sim() {
    let mut rng = Rng::new(21);
    let mut swim = cfg(&[SWIM, &[("lifeguard", "on"), ("loss", "0.05")]].concat());
    swim.faults = ["5s:crash:3", "9s:crash:17", "20s:restart:3"].iter().map(|f| sim::parse_fault(f).unwrap()).collect();
    same_as_gossip_sim::<SwimPopulation>(&swim, &mut rng);
    for model in ["rounds", "events"] {
        let mut hpv = cfg(&[
            ("membership", "hyparview"),
            ("protocol", "plumtree"),
            ("scenario", "broadcast"),
            ("model", model),
            ("nodes", "80"),
            ("seed", "6"),
            ("warmup_cycles", "10"),
            ("duration_s", "30"),
        ]);
        hpv.faults = ["15s:crash:7", "18s:crash:30"].iter().map(|f| sim::parse_fault(f).unwrap()).collect();
        same_as_gossip_sim::<OverlayPopulation>(&hpv, &mut rng);
        let ring = cfg(&[
            ("membership", "ring"),
            ("degree", "4"),
            ("protocol", "plumtree"),
            ("scenario", "single"),
            ("model", model),
            ("nodes", "50"),
            ("seed", "2"),
        ]);
        same_as_gossip_sim::<OverlayPopulation>(&ring, &mut rng);
    }
}

/// How many live members hold node `x` in `state`, from their views.
fn holders(live: &Live<SwimPopulation>, x: u32, state: State) -> u32 {
    (0..live.len())
        .filter(|&i| i != x && live.is_up(i))
        .filter(|&i| live.member_view(i).expect("a member").nth(x as usize) == Some(Some(state)))
        .count() as u32
}

#[test]
fn a_crashed_member_is_seen_suspect_then_dead_and_the_counts_match_the_views() {
    for seed in 1..=5u64 {
        let seed = seed.to_string();
        let c = cfg(&[SWIM, &[("seed", seed.as_str()), ("duration_s", "120")]].concat());
        let mut live = Live::<SwimPopulation>::start(&c).expect("valid");
        live.advance(3_000, u64::MAX);
        assert_eq!(
            holders(&live, 9, State::Suspect) + holders(&live, 9, State::Dead),
            0,
            "nobody doubts a live member"
        );
        live.add_fault(Fault::Crash { node: 9 }).expect("a node");
        let (mut suspected_at, mut dead_at) = (None, None);
        let (mut held, mut dead) = (Vec::new(), Vec::new());
        while live.now() < 60_000 && dead_at.is_none() {
            let t = live.now() + 100;
            live.advance(t, u64::MAX);
            live.held(State::Suspect, &mut held);
            live.held(State::Dead, &mut dead);
            assert_eq!(held[9], holders(&live, 9, State::Suspect), "seed {seed} at {t}");
            assert_eq!(dead[9], holders(&live, 9, State::Dead), "seed {seed} at {t}");
            let others_doubted =
                (0..live.len()).filter(|&j| j != 9).map(|j| held[j as usize] + dead[j as usize]).sum::<u32>();
            assert_eq!(others_doubted, 0, "seed {seed}: no live member is doubted on a clean network");
            if held[9] > 0 && suspected_at.is_none() {
                suspected_at = Some(t);
            }
            if dead[9] == live.len() - 1 {
                dead_at = Some(t);
            }
        }
        let s = suspected_at.expect("suspected") - 3_000;
        let d = dead_at.expect("every live member declared it dead") - 3_000;
        // suspicion: within a few periods (each member probes it once per
        // pass of 59 periods, so one of 59 members does within ~2 periods);
        // declaration after the suspicion timeout, 3 ceil(ln 61) = 15 periods
        assert!(s <= 5_000, "seed {seed}: suspected after {s} ms");
        assert!(d > s && (15_000..=40_000).contains(&d), "seed {seed}: dead to all after {d} ms, suspected after {s}");
        let m = live.member_detail(0).expect("a member");
        assert_eq!((m.dead, m.suspect, m.alive + m.unknown), (1, 0, live.len() - 2));
    }
}

/// The undirected eager links between live nodes, and whether they connect
/// every live node.
fn eager_tree(live: &Live<OverlayPopulation>) -> (BTreeSet<(u32, u32)>, bool) {
    let mut flat = Vec::new();
    live.links(&mut flat);
    let edges: BTreeSet<(u32, u32)> =
        flat.chunks_exact(3).filter(|l| l[2] == 1).map(|l| (l[0].min(l[1]), l[0].max(l[1]))).collect();
    let live_nodes: Vec<u32> = (0..live.len()).filter(|&i| live.is_up(i)).collect();
    let mut reached = BTreeSet::from([live_nodes[0]]);
    let mut frontier = vec![live_nodes[0]];
    while let Some(a) = frontier.pop() {
        for &(x, y) in &edges {
            let other = if x == a {
                y
            } else if y == a {
                x
            } else {
                continue;
            };
            if reached.insert(other) {
                frontier.push(other);
            }
        }
    }
    (edges, reached.len() == live_nodes.len())
}

#[test]
fn plumtree_eager_links_form_a_spanning_tree_that_repairs_after_a_tree_node_crashes() {
    for (membership, seeds) in [("hyparview", 1..=4u64), ("watts-strogatz", 1..=3)] {
        for seed in seeds {
            let seed = seed.to_string();
            let c = cfg(&[
                ("membership", membership),
                ("protocol", "plumtree"),
                ("scenario", "broadcast"),
                ("senders", "1"),
                ("model", "rounds"),
                ("nodes", "100"),
                ("seed", seed.as_str()),
                ("warmup_cycles", "10"),
                ("duration_s", "60"),
            ]);
            let mut live = Live::<OverlayPopulation>::start(&c).expect("valid");
            live.advance(20_000, u64::MAX); // ten broadcasts after the warm-up
            let (before, spans) = eager_tree(&live);
            assert!(spans, "{membership} {seed}: the eager links reach every node");
            assert_eq!(before.len(), 99, "{membership} {seed}: n - 1 eager links, a tree");
            // crash an inner node of the tree, not the one that broadcasts
            let sender = c.broadcasts()[0].1;
            let degree = |x: u32| before.iter().filter(|&&(a, b)| a == x || b == x).count();
            let inner = (0..100).filter(|&x| x != sender).max_by_key(|&x| degree(x)).expect("nodes");
            assert!(degree(inner) >= 2);
            live.add_fault(Fault::Crash { node: inner }).expect("a node");
            live.advance(40_000, u64::MAX);
            let (after, spans) = eager_tree(&live);
            assert!(spans, "{membership} {seed}: the tree reaches every live node again");
            assert_eq!(after.len(), 98, "{membership} {seed}: a tree of the 99 live nodes");
            assert!(after.iter().all(|&(a, b)| a != inner && b != inner));
            // the old tree minus the crashed node is a forest of degree(inner)
            // parts: the repair grafted links that join them
            assert!(after.difference(&before).count() >= degree(inner) - 1, "{membership} {seed}: new tree links");
        }
    }
}

#[test]
fn a_fault_an_overlay_run_cannot_replay_is_refused_live() {
    let c = cfg(&[("membership", "ring"), ("protocol", "plumtree"), ("scenario", "single"), ("nodes", "20")]);
    let mut live = Live::<OverlayPopulation>::start(&c).expect("valid");
    let e = live.add_fault(Fault::Restart { node: 3, keep_state: true }).expect_err("refused");
    assert!(matches!(&e, FaultRefused::Scenario(p) if p.param == "faults"), "{e:?}");
    assert!(e.to_string().contains("crash, partition, heal and loss"), "{e}");
    assert!(live.add_fault(Fault::Crash { node: 3 }).is_ok());
    assert!(live.config().faults.len() == 1);
}
