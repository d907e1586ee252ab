//! The workloads (single rumor, movies, broadcast) on the run's external
//! timeline: how each run ends and what its report says about it, what a
//! workload injects and when, and where its requests fall against the
//! faults of the same millisecond. Both timing models; several seeds each.

use gossip::core::Protocol;
use gossip::sim::{self, EngineChoice, Fault, Model, Report, Scenario, SimConfig, StopReason, TimedFault};

fn cfg(scenario: Scenario, model: Model, protocol: Protocol, seed: u64) -> SimConfig {
    let mut c = SimConfig { nodes: 60, seed, model, scenario, ..SimConfig::default() };
    c.node.protocol = protocol;
    c.duration_ms = Some(match scenario {
        Scenario::Single => 60_000,
        Scenario::Movies => 12_000,
        Scenario::Broadcast => 3_000,
    });
    c.rate = 20.0;
    c
}

fn run(c: &SimConfig) -> Report {
    sim::run(c, &mut |_| {}).expect("runs")
}

const WORKLOADS: [Scenario; 3] = [Scenario::Single, Scenario::Movies, Scenario::Broadcast];
const MODELS: [Model; 2] = [Model::Rounds, Model::Events];

#[test]
fn an_anti_entropy_run_of_every_workload_ends_converged_once_every_live_node_knows_every_update() {
    for scenario in WORKLOADS {
        for model in MODELS {
            for seed in 1..=4 {
                let mut c = cfg(scenario, model, Protocol::PushPull, seed);
                c.faults = vec![TimedFault { at_ms: 1_500, fault: Fault::Crash { node: 7 } }];
                let r = run(&c);
                let what = format!("{scenario:?} {model:?} seed {seed}");
                assert_eq!(r.stop_reason, StopReason::Converged, "{what}");
                assert_eq!(r.informed, r.live, "{what}: converged means every live node knows");
                assert_eq!(r.live, 59, "{what}");
                assert!(r.updates >= 1, "{what}");
                assert!(r.time_ms < c.limit_ms(), "{what}: before the limit ({} ms)", r.time_ms);
                assert!(r.time_ms >= c.updates_end_ms(), "{what}: not before the updates end ({} ms)", r.time_ms);
            }
        }
    }
}

#[test]
fn an_anti_entropy_run_that_cannot_converge_ends_at_its_time_limit_and_says_so() {
    // a partition that never heals: each half learns only its own updates
    // (the single rumor's half without node 0 never hears of it)
    for scenario in WORKLOADS {
        for model in MODELS {
            for seed in 1..=3 {
                let mut c = cfg(scenario, model, Protocol::PushPull, seed);
                c.faults = vec![TimedFault { at_ms: 0, fault: Fault::Partition { groups: 2 } }];
                let r = run(&c);
                let what = format!("{scenario:?} {model:?} seed {seed}");
                assert_eq!(r.stop_reason, StopReason::TimeLimit, "{what}");
                assert_eq!(r.time_ms, c.limit_ms(), "{what}");
                assert!(r.informed < r.live, "{what}: {} of {} informed", r.informed, r.live);
                assert!(r.residue >= 0.45, "{what}: residue {}", r.residue);
            }
        }
    }
}

#[test]
fn backup_anti_entropy_makes_rumor_runs_of_every_workload_end_converged() {
    for scenario in WORKLOADS {
        for model in MODELS {
            let mut c = cfg(scenario, model, Protocol::Rumor, 5);
            c.node.anti_entropy_ms = Some(1_000);
            c.net.loss = 0.2;
            let r = run(&c);
            let what = format!("{scenario:?} {model:?}");
            assert_eq!(r.stop_reason, StopReason::Converged, "{what}");
            assert_eq!(r.informed, r.live, "{what}");
        }
    }
}

#[test]
fn a_single_rumor_without_anti_entropy_ends_when_it_has_gone_quiet() {
    for model in MODELS {
        for seed in 1..=4 {
            let mut c = cfg(Scenario::Single, model, Protocol::Rumor, seed);
            c.net.loss = 0.3;
            let r = run(&c);
            assert_eq!(r.stop_reason, StopReason::Quiescent, "{model:?} seed {seed}");
            assert!(r.time_ms < c.limit_ms());
            assert_eq!(r.updates, 1);
        }
    }
}

/// The updates a run of `c` made: `(origin, created_ms)`.
fn made(c: &SimConfig) -> Vec<(u32, u64)> {
    let mut r = sim::runner(c, sim::full_population(c));
    r.run(&mut |_| {});
    r.w.metrics.updates().map(|(o, _, created, _)| (o, created)).collect()
}

#[test]
fn the_single_rumor_is_one_update_of_node_0_at_time_0() {
    for model in MODELS {
        assert_eq!(made(&cfg(Scenario::Single, model, Protocol::PushPull, 3)), [(0, 0)], "{model:?}");
    }
}

#[test]
fn movies_nodes_re_sample_until_the_updates_end_and_never_after() {
    for model in MODELS {
        for seed in 1..=3 {
            let mut c = cfg(Scenario::Movies, model, Protocol::PushPull, seed);
            c.node.resample_ms = Some(2_000);
            c.node.resample_jitter_ms = 0;
            let end = c.updates_end_ms();
            let updates = made(&c);
            let what = format!("{model:?} seed {seed}");
            assert!(updates.iter().all(|&(_, t)| t <= end), "{what}: an update after {end} ms");
            // every node picks a favorite at its first timer (before 1 s),
            // then a new one every 2 s until the end at 12 s: 6 (7 if its
            // first timer fell at 0 and its last on the end itself)
            for node in 0..60 {
                let mine = updates.iter().filter(|u| u.0 == node).count();
                assert!((6..=7).contains(&mine), "{what}: node {node} made {mine} updates");
            }
            assert!(updates.iter().any(|&(_, t)| t + 2_000 >= end), "{what}: re-sampling until the end");
        }
    }
}

/// The time the engine takes up a request or fault due at `t`: at once in
/// the events model, at the next round's start in rounds.
fn taken_at(c: &SimConfig, t: u64) -> u64 {
    match c.model {
        Model::Events => t,
        Model::Rounds => t.div_ceil(c.node.interval_ms) * c.node.interval_ms,
    }
}

#[test]
fn a_request_fails_at_a_node_a_fault_of_the_same_millisecond_crashed_and_reaches_one_restarted() {
    for model in MODELS {
        for seed in 1..=3 {
            let c = cfg(Scenario::Broadcast, model, Protocol::PushPull, seed);
            let requests = c.broadcasts();
            assert_eq!(run(&c).updates as usize, requests.len(), "every request makes an update");
            // crash the node of a request in the middle at the request's own millisecond
            let (t, k) = requests[requests.len() / 2];
            let mut crashed = c.clone();
            crashed.faults = vec![TimedFault { at_ms: t, fault: Fault::Crash { node: k } }];
            let failed = requests.iter().filter(|&&(x, i)| i == k && taken_at(&c, x) >= taken_at(&c, t)).count();
            assert!(failed >= 1);
            let r = run(&crashed);
            assert_eq!(r.updates as usize, requests.len() - failed, "{model:?} seed {seed}: faults come first");
            // and restarted at the same millisecond as a later request to it
            let Some(&(t2, _)) = requests.iter().find(|&&(x, i)| i == k && taken_at(&c, x) > taken_at(&c, t)) else {
                continue;
            };
            let mut back = crashed.clone();
            back.faults.push(TimedFault { at_ms: t2, fault: Fault::Restart { node: k, keep_state: true } });
            let refailed = requests
                .iter()
                .filter(|&&(x, i)| i == k && taken_at(&c, x) >= taken_at(&c, t) && taken_at(&c, x) < taken_at(&c, t2))
                .count();
            let r = run(&back);
            assert_eq!(r.updates as usize, requests.len() - refailed, "{model:?} seed {seed}: the restart comes first");
        }
    }
}

#[test]
fn slicing_a_run_of_every_workload_gives_the_run_of_one_call() {
    for scenario in WORKLOADS {
        for model in MODELS {
            let mut c = cfg(scenario, model, Protocol::PushPull, 2);
            c.engine = EngineChoice::Full;
            c.faults = vec![
                TimedFault { at_ms: 1_000, fault: Fault::Partition { groups: 2 } },
                TimedFault { at_ms: 2_500, fault: Fault::Heal },
            ];
            let whole = run(&c);
            let mut r = sim::runner(&c, sim::full_population(&c));
            // slices of 333 ms, each in calls of at most 97 events
            let mut target = 0;
            for _ in 0..1_000_000 {
                if r.stopped().is_some() {
                    break;
                }
                if r.advance(target, 97, &mut |_| {}) {
                    target += 333;
                }
            }
            let (reason, t) = (r.stopped().expect("ended"), r.now());
            let sliced = sim::report(&c, &r.w, reason, t);
            assert_eq!(sliced, whole, "{scenario:?} {model:?}");
        }
    }
}
