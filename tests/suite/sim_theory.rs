//! The simulator reproduces the literature's numbers (Karp et al. 2000,
//! Demers et al. 1987) in the rounds model with one random partner a round.
//! Tolerances are tight enough that a wrong protocol cannot pass: push-pull
//! that behaved like push, rumor mongering judged on the state at contact
//! time instead of at round start, or feedback that was ignored all fail.

use crate::common;
use common::*;
use gossip::core::protocols::{mean_field, MeanField};
use gossip::core::{Protocol, StopKind};
use gossip::sim::Model;

fn rounds_full(r: &gossip::sim::Report) -> f64 {
    r.rounds_full.expect("anti-entropy informs everyone") as f64
}

#[test]
fn push_pull_informs_everyone_in_log3_n_plus_log2_ln_n_rounds() {
    let n = 10_000f64;
    let theory = n.log(3.0) + n.ln().log2(); // 11.6
    let got = mean_over_seeds(&cfg(10_000, Protocol::PushPull, Model::Rounds, 0), 6, rounds_full);
    assert!((theory - 1.0..=theory + 1.0).contains(&got), "push-pull: {got} rounds, theory {theory:.1}");
}

#[test]
fn push_informs_everyone_in_log2_n_plus_ln_n_rounds() {
    let n = 10_000f64;
    let theory = n.log2() + n.ln() + 1.0; // 23.5 (Pittel 1987: + O(1))
    let got = mean_over_seeds(&cfg(10_000, Protocol::Push, Model::Rounds, 0), 6, rounds_full);
    assert!((theory - 1.5..=theory + 1.5).contains(&got), "push: {got} rounds, theory {theory:.1}");
}

#[test]
fn pull_is_slower_than_push_pull_and_faster_than_push() {
    let pull = mean_over_seeds(&cfg(10_000, Protocol::Pull, Model::Rounds, 0), 4, rounds_full);
    let pp = mean_over_seeds(&cfg(10_000, Protocol::PushPull, Model::Rounds, 0), 4, rounds_full);
    let push = mean_over_seeds(&cfg(10_000, Protocol::Push, Model::Rounds, 0), 4, rounds_full);
    assert!(pp < pull && pull < push, "push-pull {pp}, pull {pull}, push {push}");
}

#[test]
fn push_pull_at_100k_nodes_matches_theory() {
    let n = 100_000f64;
    let theory = n.log(3.0) + n.ln().log2(); // 14.0
    let got = rounds_full(&run(&cfg(100_000, Protocol::PushPull, Model::Rounds, 7)));
    assert!((theory - 1.5..=theory + 1.5).contains(&got), "{got} vs {theory:.1}");
}

#[test]
fn rumor_feedback_coin_k1_leaves_the_synchronous_residue() {
    // Demers: s = e^{-(k+1)(1-s)} gives 0.203 asynchronously; judged on the
    // state at round start it lands near 0.175 at n = 10,000.
    let s = mean_over_seeds(&rumor(10_000, true, StopKind::Coin(1), 0), 5, |r| r.residue);
    assert!((0.160..=0.188).contains(&s), "residue {s}");
}

#[test]
fn rumor_feedback_coin_k2_leaves_the_synchronous_residue() {
    let s = mean_over_seeds(&rumor(10_000, true, StopKind::Coin(2), 0), 5, |r| r.residue);
    assert!((0.043..=0.057).contains(&s), "residue {s} (paper's asynchronous estimate 0.060)");
}

#[test]
fn rumor_residue_is_e_to_the_minus_traffic() {
    // Demers et al. 1987, section 1.4: for push rumor mongering, s = e^{-m}
    // whatever the stop rule.
    for (feedback, kind) in
        [(true, StopKind::Coin(1)), (true, StopKind::Counter(2)), (false, StopKind::Coin(2)), (true, StopKind::Coin(3))]
    {
        let r = run(&rumor(10_000, feedback, kind, 3));
        let predicted = (-r.traffic).exp();
        assert!((r.residue - predicted).abs() < 0.012, "{feedback} {kind:?}: s {} vs e^-m {predicted}", r.residue);
    }
}

#[test]
fn blind_rumors_leave_more_behind_than_feedback_at_the_same_k() {
    let blind = mean_over_seeds(&rumor(10_000, false, StopKind::Coin(2), 0), 3, |r| r.residue);
    let fb = mean_over_seeds(&rumor(10_000, true, StopKind::Coin(2), 0), 3, |r| r.residue);
    assert!(blind > 3.0 * fb, "blind {blind}, feedback {fb}");
}

#[test]
fn rumor_mongering_stops_by_itself() {
    let r = run(&rumor(5_000, true, StopKind::Counter(3), 1));
    assert_eq!(r.stop_reason, gossip::sim::StopReason::Quiescent);
    assert!(r.rounds < 100, "{} rounds", r.rounds);
}

/// Rounds of the mean-field curve (with `loss`) until fewer than half a node
/// is left uninformed, for `c` in the rounds model.
fn theory_rounds(c: &gossip::sim::SimConfig) -> f64 {
    let p = c.mean_field();
    let curve = mean_field(&p, 200_000.0).expect("anti-entropy has a rule");
    let n = f64::from(c.nodes);
    let t = curve.iter().find(|&&(_, f)| f >= 1.0 - 0.5 / n).expect("the curve reaches everyone").0;
    t / c.node.interval_ms as f64
}

#[test]
fn the_mean_field_curve_with_loss_predicts_the_rounds_to_inform_everyone() {
    // rounds model, one partner a round, loss on every message leg: the
    // curve that accounts for loss is within 20 % of the mean over seeds,
    // and the curve that ignores it is not (so ignoring loss fails)
    for protocol in [Protocol::Push, Protocol::Pull, Protocol::PushPull] {
        for loss in [0.3, 0.5] {
            let mut c = cfg(2_000, protocol, Model::Rounds, 0);
            c.net.loss = loss;
            let got = mean_over_seeds(&c, 8, rounds_full);
            let want = theory_rounds(&c);
            let mut lossless = c.clone();
            lossless.net.loss = 0.0;
            let naive = theory_rounds(&lossless);
            let name = protocol.name();
            assert!((got - want).abs() <= 0.2 * want, "{name} at loss {loss}: {got:.1} rounds, theory {want:.1}");
            assert!(
                (got - naive).abs() > 0.2 * naive,
                "{name} at loss {loss}: the lossless curve ({naive:.1}) fits too ({got:.1})"
            );
        }
    }
}

/// The events model's timing, measured: a single update among `c.nodes`
/// nodes, run to the end on the live driver, its coverage read from the
/// spread log (sampled every twentieth of an interval, 50 ms here); the
/// age in ms at which it first reached each of `fracs` (linear between
/// samples).
fn measured_ages(c: &gossip::sim::SimConfig, fracs: &[f64]) -> Vec<f64> {
    let mut live = gossip::sim::live::Live::new(c).expect("valid");
    let mut guard = 0;
    while live.stopped().is_none() {
        live.advance(u64::MAX, 1_000_000);
        guard += 1;
        assert!(guard < 10_000, "the run ends");
    }
    let pts: Vec<(f64, f64)> =
        live.spread_log().points().iter().filter(|p| p.update == 0).map(|p| (p.age_ms as f64, p.fraction)).collect();
    fracs.iter().map(|&x| first_age(&pts, x).expect("the update reaches everyone")).collect()
}

/// The first age at which `pts` (age, fraction) reaches `frac`, linear
/// between the points around it.
fn first_age(pts: &[(f64, f64)], frac: f64) -> Option<f64> {
    let k = pts.iter().position(|p| p.1 >= frac)?;
    if k == 0 {
        return Some(pts[0].0);
    }
    let ((t0, f0), (t1, f1)) = (pts[k - 1], pts[k]);
    Some(t0 + (t1 - t0) * (frac - f0) / (f1 - f0))
}

/// Median of `xs`.
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        (xs[m - 1] + xs[m]) / 2.0
    }
}

#[test]
fn the_events_models_theory_curve_predicts_the_times_to_half_and_99_percent() {
    // events model, 2,000 nodes, one partner a round (fanout 1), interval
    // 1,000 ms with random phases, latency L + uniform 0..=J ms per message
    // (mean hop L + J/2), no loss; 8 seeds. The delayed mean-field curve
    // (each part reading the informed fraction its legs' hops ago, nodes
    // informed by their own pull silent until their next round) gives the
    // median ages at 50 % and 99 % within 10 %. Wrong curves miss: the
    // same equation without delays (hop 1 ms) at the longer latency, for
    // every protocol; and the curve the page drew before (no delays, no
    // silence: its times recorded below) for push-pull at both latencies.
    let fracs = [0.5, 0.99];
    let mut report = String::new();
    let mut wrong = Vec::new();
    for (latency, jitter) in [(50, 10), (200, 100)] {
        for protocol in [Protocol::Push, Protocol::Pull, Protocol::PushPull] {
            let mut c = cfg(2_000, protocol, Model::Events, 0);
            c.net.latency_ms = latency;
            c.net.jitter_ms = jitter;
            c.node.interval_ms = 1000;
            let runs: Vec<Vec<f64>> = (1..=8)
                .map(|seed| {
                    let mut c = c.clone();
                    c.seed = seed;
                    measured_ages(&c, &fracs)
                })
                .collect();
            let p = c.mean_field();
            let curve = mean_field(&p, 200_000.0).expect("a rule");
            let undelayed = mean_field(&MeanField { hop_ms: Some(1.0), ..p }, 200_000.0).expect("a rule");
            for (j, &frac) in fracs.iter().enumerate() {
                let got = median(runs.iter().map(|r| r[j]).collect());
                let want = first_age(&curve, frac).expect("the curve gets there");
                let naive = first_age(&undelayed, frac).expect("the curve gets there");
                let name = protocol.name();
                let line = format!(
                    "{name} at {latency}+0..{jitter} ms, {frac}: measured {got:.0} ms, curve {want:.0} ms ({:+.1} %), undelayed {naive:.0} ms ({:+.1} %)",
                    100.0 * (want - got) / got,
                    100.0 * (naive - got) / got
                );
                if (want - got).abs() > 0.1 * got {
                    wrong.push(format!("the curve misses: {line}"));
                }
                if latency == 200 && (naive - got).abs() <= 0.1 * got {
                    wrong.push(format!("the undelayed curve fits too: {line}"));
                }
                // the page's curve before the delays (commit 96fced4), ms
                let before = match (protocol, latency, j) {
                    (Protocol::PushPull, 50, 0) => Some(3892.0),
                    (Protocol::PushPull, 50, _) => Some(5242.0),
                    (Protocol::PushPull, _, 0) => Some(4530.0),
                    (Protocol::PushPull, _, _) => Some(6036.0),
                    _ => None,
                };
                if let Some(b) = before.filter(|b| (b - got).abs() <= 0.1 * got) {
                    wrong.push(format!("the curve drawn before ({b} ms) fits too: {line}"));
                }
                report.push_str(&line);
                report.push('\n');
            }
        }
    }
    println!("{report}");
    assert!(wrong.is_empty(), "{}\n{report}", wrong.join("\n"));
}

/// A hash of the bits of every point of the rounds model's curves over a
/// grid of parameters (every protocol with a rule, eager push or not, 2 to
/// 1,000,000 nodes, fanout 1 and 3, loss 0 to 0.5, two stop rules and
/// TTLs, two intervals), and how many points there are.
fn rounds_curves_fingerprint(eagers: &[bool]) -> (u64, usize) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut count = 0;
    for &protocol in Protocol::ALL {
        for &eager in eagers {
            for nodes in [2, 50, 1000, 10_000, 1_000_000] {
                for fanout in [1, 3] {
                    for loss in [0.0, 0.3, 0.5] {
                        for (k, ttl) in [(1, 32), (2, 2)] {
                            for interval_ms in [250, 1000] {
                                let p = MeanField {
                                    protocol,
                                    eager,
                                    nodes,
                                    fanout,
                                    ttl,
                                    k,
                                    interval_ms,
                                    hop_ms: None,
                                    loss,
                                };
                                let Some(c) = mean_field(&p, 120_000.0) else { continue };
                                for (t, f) in c {
                                    for b in [t.to_bits(), f.to_bits()] {
                                        h = (h ^ b).wrapping_mul(0x0100_0000_01b3);
                                    }
                                    count += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (h, count)
}

#[test]
fn the_rounds_models_curves_are_bit_for_bit_those_recorded() {
    // the rounds model reads no delay: the events model's delays (commit
    // 96fced4) did not move it
    // without eager push: the curves of commit 96fced4 (72,868 points with
    // and without eager push then)
    assert_eq!(rounds_curves_fingerprint(&[false]), (4_629_689_980_097_969_853, 36_912));
    // with eager push: re-recorded when only the nodes that learned by a
    // push came to push on (see the eager test above; 578 more points: the
    // curves reach everyone later; 35,956 points and 1_119_481_381_576_940_677
    // before, at a88e0b3)
    assert_eq!(rounds_curves_fingerprint(&[true]), (2_060_302_865_432_434_093, 36_534));
}

/// The median first ages of update 0 reaching `fracs`, over `seeds`, and
/// the mean-field curve's, for `c`.
fn measured_and_curve(c: &gossip::sim::SimConfig, fracs: &[f64], seeds: u64) -> (Vec<f64>, Vec<f64>) {
    let runs: Vec<Vec<f64>> = (1..=seeds)
        .map(|seed| {
            let mut c = c.clone();
            c.seed = seed;
            measured_ages(&c, fracs)
        })
        .collect();
    let curve = mean_field(&c.mean_field(), 200_000.0).expect("a rule");
    let got = (0..fracs.len()).map(|j| median(runs.iter().map(|r| r[j]).collect())).collect();
    let want = fracs.iter().map(|&f| first_age(&curve, f).expect("the curve gets there")).collect();
    (got, want)
}

#[test]
fn with_eager_push_only_the_nodes_that_learned_by_a_push_push_on_in_the_theory_curve() {
    // 2,000 nodes, one update, eager push over push-pull and over push
    // (fanout 1 and 2, TTL 32), 8 seeds, in both models: rounds (a hop is a
    // round) and events (50 + 0..10 ms a hop, 1,000 ms interval, random
    // phases). A node that learns in an exchange of the rounds does not push
    // the update on (`Fresh` only for pushes), so the eager part of the
    // mean-field curve feeds on the nodes informed by a push alone. The
    // curve gives the median ages at 50 % within 12 % and at 99 % within
    // 22 % (plus a round in the rounds model); the curve drawn before (every
    // newly informed node pushing: its ages recorded below from commit
    // a88e0b3) is 30 to 60 % early for fanout 1 in the events model, where
    // the push chains run many hops a round, and fails.
    let fracs = [0.5, 0.99];
    let mut report = String::new();
    let mut wrong = Vec::new();
    for model in [Model::Rounds, Model::Events] {
        for (protocol, fanout) in [(Protocol::PushPull, 1), (Protocol::PushPull, 2), (Protocol::Push, 1)] {
            let mut c = cfg(2_000, protocol, model, 0);
            c.node.eager_push = true;
            c.node.fanout = fanout;
            c.node.ttl = 32;
            c.node.interval_ms = 1000;
            c.net.latency_ms = 50;
            c.net.jitter_ms = 10;
            let (got, want) = measured_and_curve(&c, &fracs, 8);
            for (j, &frac) in fracs.iter().enumerate() {
                let (got, want) = (got[j], want[j]);
                let line = format!(
                    "{model:?} {} + eager, fanout {fanout}, {frac}: measured {got:.0} ms, curve {want:.0} ms ({:+.1} %)",
                    protocol.name(),
                    100.0 * (want - got) / got
                );
                // the last 1 %: the rounds' fixed phases and the pushes'
                // distinct targets show most in the tail (fanout 2, events:
                // -20 %); a round is 1,000 ms: in the rounds model the times
                // are whole rounds
                let rel = if frac > 0.9 { 0.22 } else { 0.12 };
                let tol = if model == Model::Rounds { rel * got + 1000.0 } else { rel * got };
                if (want - got).abs() > tol {
                    wrong.push(format!("the curve misses: {line}"));
                }
                // the curve drawn before (commit a88e0b3), ms
                let before = match (model, protocol, fanout, j) {
                    (Model::Events, Protocol::PushPull, 1, 0) => Some(1453.0),
                    (Model::Events, Protocol::PushPull, 1, _) => Some(2774.0),
                    (Model::Events, Protocol::Push, 1, 0) => Some(2045.0),
                    (Model::Events, Protocol::Push, 1, _) => Some(6681.0),
                    _ => None,
                };
                if let Some(b) = before.filter(|b| (b - got).abs() <= tol) {
                    wrong.push(format!("the curve drawn before ({b} ms) fits too: {line}"));
                }
                report.push_str(&line);
                report.push('\n');
            }
        }
    }
    println!("{report}");
    assert!(wrong.is_empty(), "{}\n{report}", wrong.join("\n"));
}
