//! The broadcast workload (Jepsen Maelstrom's, as in the Gossip Glomers
//! challenge) and the `glomers` preset's protocol configuration: every value
//! reaches every node, within 3d's latencies and 3e's message budget, also
//! while a partition comes and heals.

use gossip::sim::{self, params::SimParams, Report, SimConfig};

fn glomers(extra: &[(&str, &str)]) -> SimConfig {
    let mut p = SimParams::preset("glomers").expect("known preset");
    for (k, v) in extra {
        p.set(k, v).expect("valid parameter");
    }
    p.to_config().expect("valid configuration")
}

fn run(cfg: &SimConfig) -> Report {
    sim::run(cfg, &mut |_| {}).expect("runs")
}

#[test]
fn glomers_preset_meets_3d_latencies_and_3e_message_budget_at_once() {
    for seed in ["1", "2", "3"] {
        let r = run(&glomers(&[("seed", seed)]));
        assert_eq!(r.nodes, 25);
        assert!(r.updates > 1800 && r.updates < 2200, "about 100 values/s for 20 s: {}", r.updates);
        assert_eq!(r.lost_updates, 0, "every value reaches every node");
        assert_eq!(r.informed, 25);
        assert!(r.messages_per_update < 20.0, "3e: {} messages per update", r.messages_per_update);
        let (median, max) = (r.latency_ms.median.unwrap(), r.latency_ms.max.unwrap());
        assert!(median < 400.0, "3d: median {median} ms");
        assert!(max < 600.0, "3d: max {max} ms");
        // no value can arrive sooner than one link's latency
        assert!(median >= 100.0);
        assert!(r.partition.is_none());
    }
}

#[test]
fn glomers_preset_survives_a_partition_within_budget() {
    let mut p = SimParams::preset("glomers").unwrap();
    p.faults = SimParams::partition_faults();
    let r = run(&p.to_config().unwrap());
    assert_eq!(r.lost_updates, 0, "values made on either side reach everyone after the heal");
    assert!(r.partitioned_messages > 0, "the partition dropped messages");
    assert!(r.messages_per_update < 20.0, "3e's budget holds with the partition: {}", r.messages_per_update);
    let part = r.partition.expect("partition stats");
    assert_eq!(part.partitions, 1);
    // about 5 s of 100 values/s, plus those in flight when it came
    assert!(part.updates_caught > 400 && part.updates_caught < 700, "{}", part.updates_caught);
    let clear = &part.latency_ms_clear;
    assert!(clear.median.unwrap() < 400.0 && clear.max.unwrap() < 600.0, "3d holds outside the partition: {clear:?}");
    // a caught value waits for the heal: the partition lasted 5 s
    assert!(part.latency_ms_caught.max.unwrap() > 4_000.0);
    let repair = part.repair_ms.expect("repaired");
    assert!(repair < 2_000, "anti-entropy and hot re-pushes repair within 2 s of the heal: {repair} ms");
}

#[test]
fn broadcast_runs_are_deterministic() {
    let cfg = glomers(&[("seed", "9"), ("duration_s", "3")]);
    let (a, b) = (run(&cfg), run(&cfg));
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let other = run(&glomers(&[("seed", "10"), ("duration_s", "3")]));
    assert_ne!(a.latency_ms, other.latency_ms, "the seed matters");
}

#[test]
fn the_request_stream_follows_the_rate_and_spreads_over_nodes() {
    let cfg = glomers(&[("rate", "250"), ("duration_s", "40")]);
    let requests = cfg.broadcasts();
    let n = requests.len() as f64;
    // Poisson: 10,000 expected, standard deviation 100
    assert!((n - 10_000.0).abs() < 500.0, "{n}");
    assert!(requests.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
    assert!(requests.iter().all(|&(t, i)| (1..=40_000).contains(&t) && i < 25));
    let mut per_node = [0u32; 25];
    for &(_, i) in &requests {
        per_node[i as usize] += 1;
    }
    assert!(per_node.iter().all(|&c| c > 300 && c < 500), "{per_node:?}");
    // keys sit above every node index, joiners included
    let joined = glomers(&[("faults", "1s:join:5")]);
    assert_eq!(joined.broadcast_key(0), 30);
}

#[test]
fn more_messages_buy_lower_latency_and_fewer_cost_latency() {
    // the budget is set by the tick: nodes x fanout x ticks per second / rate
    let base = run(&glomers(&[("duration_s", "5")]));
    let sparse = run(&glomers(&[("duration_s", "5"), ("interval_ms", "100")]));
    assert!(sparse.messages_per_update < base.messages_per_update * 0.6);
    assert!(sparse.latency_ms.median > base.latency_ms.median);
}

#[test]
fn without_anti_entropy_a_partition_can_lose_values_for_good() {
    // Demers et al.: rumor mongering alone leaves some nodes out; here
    // the hot values cool down on their side before the heal
    let mut p = SimParams::preset("glomers").unwrap();
    p.faults = SimParams::partition_faults();
    p.anti_entropy_ms = None;
    let r = run(&p.to_config().unwrap());
    assert!(r.lost_updates > 0, "nothing carries the cold values across the healed cut");
}

#[test]
fn broadcast_rejects_bad_configurations() {
    let mut p = SimParams::preset("glomers").unwrap();
    p.rate = 0.0;
    assert!(p.to_config().unwrap_err().to_string().contains("rate"));
    p.rate = 100.0;
    p.anti_entropy_ms = Some(0);
    assert!(p.to_config().unwrap_err().to_string().contains("anti_entropy_ms"));
    assert!(SimParams::preset("maelstrom").unwrap_err().to_string().contains("glomers"));
    let mut p = SimParams::preset("glomers").unwrap();
    assert!(p.set("targets", "nearest").unwrap_err().to_string().contains("round-robin"));
}

/// The configuration of the bug report: 20 nodes, 10 values/s for 30 s and
/// 20 s to settle, default protocol (push-pull with eager push), no fault,
/// with the course's bootstrap membership.
fn bootstrap_broadcast(seed: u64, model: &str) -> SimConfig {
    let mut p = SimParams::default();
    for (k, v) in [
        ("seed", seed.to_string().as_str()),
        ("nodes", "20"),
        ("scenario", "broadcast"),
        ("model", model),
        ("duration_s", "30"),
        ("rate", "10"),
        ("settle_s", "20"),
        ("membership", "bootstrap"),
    ] {
        p.set(k, v).expect("valid parameter");
    }
    p.to_config().expect("valid configuration")
}

#[test]
fn bootstrap_membership_learns_no_value_key_as_a_peer_and_every_value_arrives() {
    // A broadcast value is keyed by itself (an id above every node index),
    // not by a node: a table that learned such a key as a peer sent to
    // nobody (counted as messages to down nodes) and lost almost every value.
    for model in ["rounds", "events"] {
        for seed in 1..=6 {
            let r = run(&bootstrap_broadcast(seed, model));
            let at = format!("{model} seed {seed}");
            assert!(r.updates > 200, "{at}: about 300 values made: {}", r.updates);
            assert_eq!(r.messages_to_down_nodes, 0, "{at}: nothing crashes, so nothing is sent to a down node");
            assert_eq!(r.lost_updates, 0, "{at}: every value reaches every node");
            assert_eq!(r.informed, 20, "{at}");
        }
    }
}
