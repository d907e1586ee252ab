//! SWIM and Lifeguard in the simulator reproduce the literature (Das, Gupta,
//! Motivala 2002; Dadgar, Phillips, Currey 2018), and the failure-detection
//! faults do what they say. Every run is in the events model (virtual
//! milliseconds); each test states its timing model. Tolerances are set so
//! that a wrong implementation (probing every other period, sending two
//! pings a period, ignoring the indirect path, a Lifeguard that changes
//! nothing) fails.

use gossip::sim::params::SimParams;
use gossip::sim::swim::SwimReport;
use gossip::sim::{run_threads, Report, SimConfig};

fn config(pairs: &[(&str, String)]) -> SimConfig {
    SimParams::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .and_then(|p| p.to_config())
        .unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
}

fn run(pairs: &[(&str, String)]) -> Report {
    run_threads(&config(pairs), 1, &mut |_| {}).expect("runs")
}

fn swim(r: &Report) -> &SwimReport {
    r.swim.as_ref().expect("a SWIM run reports failure detection")
}

fn p(k: &'static str, v: impl ToString) -> (&'static str, String) {
    (k, v.to_string())
}

fn faults(list: impl IntoIterator<Item = String>) -> (&'static str, String) {
    ("faults", list.into_iter().collect::<Vec<_>>().join(","))
}

/// Timing model: events; every member's periods aligned (they start
/// together, the paper's synchronous protocol periods); basic SWIM (no
/// suspicion: a failed probe declares at once); one crash at a period
/// boundary every 20 periods, each long detected before the next. A member
/// pinged in a period is declared failed at that period's end, so the time
/// to first detection is `K` periods, `K` geometric with success
/// `1 − (1 − 1/(n−1))^(n−1) ≈ 1 − 1/e`: mean `e/(e−1) = 1.582` periods.
/// Probing every other period would give 2.54, probing twice a period 1.16.
#[test]
fn first_detection_takes_e_over_e_minus_1_periods() {
    let mut periods = Vec::new();
    for seed in 1..=20u64 {
        let crashes = (0..20u32).map(|k| format!("{}:crash:{}", 10_000 + 20_000 * u64::from(k), 3 * k + 1));
        let r = run(&[
            p("preset", "swim-paper"),
            p("seed", seed),
            p("nodes", 100),
            p("suspicion", "off"),
            p("phase", "aligned"),
            p("latency_ms", 10),
            p("jitter_ms", 0),
            p("duration_s", 410),
            faults(crashes),
        ]);
        let d = &swim(&r).detection;
        assert_eq!((d.crashed, d.undetected, d.not_full), (20, 0, 0), "seed {seed}");
        // each crash's first detection is a whole number of periods
        periods.push(d.first_ms.mean.unwrap() / 1000.0);
        assert_eq!(swim(&r).false_positives, 0, "no loss, no slow member: no false positive");
    }
    let mean = periods.iter().sum::<f64>() / periods.len() as f64;
    let theory = std::f64::consts::E / (std::f64::consts::E - 1.0);
    // 400 crashes, geometric sd ~0.95: standard error ~0.048
    assert!((mean - theory).abs() < 0.15, "first detection after {mean:.3} periods, theory {theory:.3}");
}

/// Timing model: events, random phases, no loss, no crash: every member
/// sends exactly one ping a period and every ping is answered by one ack
/// (none but those in flight when the run ends); the indirect path is never
/// taken. The paper's Fig. 2: about two messages per member per period,
/// whatever n.
#[test]
fn without_loss_each_member_sends_one_ping_and_gets_one_ack_per_period() {
    for n in [50u32, 400] {
        let periods = 40u64;
        let r = run(&[p("preset", "swim-paper"), p("nodes", n), p("duration_s", periods)]);
        let s = swim(&r);
        assert_eq!(s.probes, u64::from(n) * periods, "n = {n}: one probe per member per period");
        assert_eq!(s.pings, s.probes, "n = {n}: one ping per probe");
        assert!(s.acks <= s.pings && s.acks + u64::from(n) / 10 >= s.pings, "n = {n}: {} acks", s.acks);
        assert_eq!((s.ping_reqs, s.failed_probes, s.suspicions), (0, 0, 0), "n = {n}");
        assert_eq!(r.messages, s.pings + s.acks, "n = {n}: nothing else is sent");
        assert!((s.messages_per_member_per_period - 2.0).abs() < 0.05, "n = {n}: {}", s.messages_per_member_per_period);
    }
}

/// Timing model: events, random phases, independent loss `p` on every
/// message, no crash, every helper alive: a probe gets no ack at all, direct
/// (ping and ack) or through any of `k` helpers (ping-req, ping, ack,
/// forwarded ack), with probability `(1 − (1−p)²)·(1 − (1−p)⁴)^k` (§5).
/// Measured as failed probes over probes with suspicion on.
#[test]
fn the_per_probe_false_suspicion_rate_matches_the_papers_formula() {
    let loss = 0.1f64;
    for (k, tolerance) in [(1u32, 0.08), (3, 0.15)] {
        let (mut probes, mut failed) = (0u64, 0u64);
        for seed in 1..=3u64 {
            let r = run(&[
                p("preset", "swim-paper"),
                p("seed", seed),
                p("nodes", 100),
                p("indirect_k", k),
                p("loss", loss),
                p("duration_s", 200),
            ]);
            let s = swim(&r);
            probes += s.probes;
            failed += s.failed_probes;
            assert!(s.suspicions <= s.failed_probes && s.suspicions * 10 >= s.failed_probes * 9, "suspicion on");
        }
        let q = 1.0 - loss;
        let theory = (1.0 - q * q) * (1.0 - q.powi(4)).powi(k as i32);
        let got = failed as f64 / probes as f64;
        assert!(
            (got / theory - 1.0).abs() < tolerance,
            "k = {k}: {failed} of {probes} probes failed, {got:.5} against {theory:.5}"
        );
    }
}

/// The slow-member schedule: members 1..=10 each slowed (received messages
/// handled 1.5 s late, timers on time) for 20 s out of every 40 s.
fn slow_schedule() -> Vec<String> {
    let mut f = Vec::new();
    for m in 1..=10u64 {
        for r in 0..6u64 {
            let t = 10_000 + r * 40_000 + m * 3_000;
            f.push(format!("{t}:slow:{m}:1500"));
            f.push(format!("{}:fast:{m}", t + 20_000));
        }
    }
    f
}

/// Timing model: events, random phases, memberlist's LAN configuration
/// (probe 1 s, timeout 500 ms, k = 3, SuspicionMult 4, log10 formulas), 100
/// members. Lifeguard's claim (v1 abstract: more than 50x fewer false
/// positives, with a modest cost in detection time), checked as at least
/// 10x fewer declarations of running members on the same seeded
/// slow-member schedule, and a median time to the first detection of real
/// crashes (ten crashes, no slow member) at most 1.25x SWIM's.
#[test]
fn lifeguard_cuts_false_positives_tenfold_without_slowing_detection() {
    let (mut swim_fp, mut lifeguard_fp) = (0u64, 0u64);
    for seed in 2..=4u64 {
        let fp = |lifeguard: &str| {
            let r = run(&[
                p("preset", "memberlist-lan"),
                p("seed", seed),
                p("lifeguard", lifeguard),
                p("duration_s", 260),
                faults(slow_schedule()),
            ]);
            swim(&r).false_positives
        };
        swim_fp += fp("off");
        lifeguard_fp += fp("on");
    }
    assert!(swim_fp >= 100, "the schedule makes plain SWIM declare running members failed: {swim_fp}");
    assert!(lifeguard_fp * 10 <= swim_fp, "Lifeguard {lifeguard_fp} false positives, SWIM {swim_fp}");
    let median = |lifeguard: &str| {
        let mut firsts = Vec::new();
        for seed in 1..=3u64 {
            let crashes = (0..10u64).map(|k| format!("{}:crash:{}", 10_000 + 20_000 * k, 20 + k));
            let r = run(&[
                p("preset", "memberlist-lan"),
                p("seed", seed),
                p("lifeguard", lifeguard),
                p("duration_s", 230),
                faults(crashes),
            ]);
            let d = &swim(&r).detection;
            assert_eq!((d.crashed, d.undetected), (10, 0));
            firsts.push(d.first_ms.median.unwrap());
        }
        firsts.sort_by(f64::total_cmp);
        firsts[1]
    };
    let (plain, lifeguard) = (median("off"), median("on"));
    assert!(lifeguard <= 1.25 * plain, "median first detection: Lifeguard {lifeguard} ms, SWIM {plain} ms");
}

/// Timing model: events, random phases, paper SWIM. Once every member
/// has declared a crashed member failed nobody pings it any more: running
/// twice as long adds (almost) no message to it. Before SWIM, a crash only
/// silenced a node while its peers kept sending to it.
#[test]
fn a_crashed_member_stops_receiving_traffic_once_confirmed() {
    let to_down = |secs: u64| {
        let r = run(&[p("preset", "swim-paper"), p("duration_s", secs), faults(["10s:crash:5".to_string()])]);
        assert_eq!(swim(&r).detection.not_full, 0, "{secs} s: everyone declared it");
        r.messages_to_down_nodes
    };
    let (short, long) = (to_down(60), to_down(120));
    assert!(short > 0, "it was probed before it was declared");
    assert_eq!(long, short, "no message reached it after it was confirmed (60 s: {short}, 120 s: {long})");
}

/// A slow member's answers come late, so its probers time out and suspect
/// it; once it is fast again the suspicions stop. Timing model: events,
/// aligned phases, no loss.
#[test]
fn a_slow_member_is_suspected_until_it_is_fast_again() {
    let base = [p("preset", "memberlist-lan"), p("phase", "aligned"), p("duration_s", 60)];
    let quiet = run(&base);
    assert_eq!(swim(&quiet).suspicions, 0);
    let slowed = |end: u64| {
        let mut pairs = base.to_vec();
        pairs.push(faults(["5s:slow:7:2000".to_string(), format!("{end}s:fast:7")]));
        swim(&run(&pairs)).suspicions
    };
    let (brief, long) = (slowed(15), slowed(40));
    assert!(brief > 0, "probes of a member 2 s late fail");
    assert!(long > brief, "slow for longer, suspected more: {brief} then {long}");
}

/// `crash-random` crashes that fraction of the running members, chosen from
/// the seed: the same ones for the same seed, others for another.
#[test]
fn crash_random_takes_a_seeded_fraction_of_the_running_members() {
    let at = |seed: u64| {
        let r = run(&[
            p("preset", "swim-paper"),
            p("seed", seed),
            p("nodes", 200),
            p("duration_s", 40),
            faults(["5s:crash:0".to_string(), "10s:crash-random:0.1".to_string()]),
        ]);
        let d = swim(&r).detection.clone();
        (r.live, d.crashed, r.messages_to_down_nodes, d)
    };
    let (live, crashed, to_down, d) = at(3);
    assert_eq!((live, crashed), (179, 21), "one crash, then 10 % of the 199 running (20)");
    assert_eq!(d.undetected, 0);
    assert_eq!(at(3).2, to_down, "same seed, same victims");
    assert_ne!(at(4).3, d, "another seed, other victims");
}

/// One-way partition: members 0-9 cannot reach 10-99 but hear them. A
/// probe across the block fails whichever side starts it: the ping of a
/// member of 0-9 is dropped, and so is the ack it owes a member of 10-99.
/// Probes fail while the block lasts and not before or after (the network
/// test checks that the other direction passes). Timing model: events,
/// random phases.
#[test]
fn a_one_way_block_fails_the_probes_that_cross_it_while_it_lasts() {
    let failed = |f: Vec<String>| {
        let r = run(&[p("preset", "swim-paper"), p("duration_s", 30), faults(f)]);
        (swim(&r).failed_probes, r.partitioned_messages)
    };
    let (none, dropped_none) = failed(vec![]);
    assert_eq!((none, dropped_none), (0, 0));
    let (blocked, dropped) = failed(vec!["10s:block:0-9>10-99".into(), "20s:unblock:0-9>10-99".into()]);
    // 10 periods: 10 members x 90 % of their targets, and 90 members x 10 %
    assert!((150..=210).contains(&blocked), "{blocked} probes failed");
    assert!(dropped > 0);
}

/// Same seed, same run, bit for bit, with every new fault and a latency
/// distribution.
#[test]
fn same_seed_same_swim_run() {
    let pairs = [
        p("preset", "memberlist-lan"),
        p("latency_dist", "lognormal"),
        p("jitter_ms", 30),
        p("loss", 0.02),
        p("duration_s", 40),
        faults([
            "5s:slow:3:800".to_string(),
            "9s:fast:3".to_string(),
            "6s:crash-random:0.05".to_string(),
            "7s:block:0-4>50-60".to_string(),
            "12s:heal".to_string(),
        ]),
    ];
    let a = serde_json::to_string(&run(&pairs)).unwrap();
    assert_eq!(a, serde_json::to_string(&run(&pairs)).unwrap());
    assert!(a.contains("\"false_positives\""), "the SWIM keys are in the JSON");
}

/// Combinations a SWIM run does not support are refused, naming the flag.
#[test]
fn unsupported_swim_combinations_are_refused() {
    let err = |pairs: &[(&str, String)]| {
        SimParams::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
            .and_then(|p| p.to_config())
            .expect_err("refused")
            .to_string()
    };
    assert!(err(&[p("preset", "swim-paper"), p("scenario", "movies")]).contains("failure detection only"));
    assert!(err(&[p("preset", "swim-paper"), p("model", "rounds")]).contains("events model"));
    assert!(err(&[p("preset", "swim-paper"), p("engine", "compact")]).contains("compact"));
    assert!(err(&[p("preset", "swim-paper"), p("suspicion", "off"), p("lifeguard", "on")]).contains("suspicion"));
    assert!(err(&[p("model", "rounds"), faults(["1s:slow:1:100".to_string()])]).contains("events"));
}

/// Members that join later announce themselves and are probed: a joiner
/// that crashes is detected by everyone. Timing model: events, random phases.
#[test]
fn a_joiner_is_learned_and_its_crash_detected() {
    let r = run(&[
        p("preset", "swim-paper"),
        p("duration_s", 90),
        faults(["10s:join:5".to_string(), "30s:crash:102".to_string()]),
    ]);
    let s = swim(&r);
    assert_eq!((s.detection.crashed, s.detection.undetected, s.detection.not_full), (1, 0, 0));
    assert_eq!(s.false_positives, 0);
}

/// The new faults apply to dissemination runs too: a slow node learns the
/// rumor no sooner than its delay (events model, full nodes), and
/// `crash-random` takes its fraction of the compact population (rounds).
#[test]
fn slow_and_crash_random_apply_to_dissemination_runs() {
    let base = [p("nodes", 50), p("model", "events"), p("protocol", "push-pull"), p("engine", "full")];
    let plain = run(&base);
    assert!(plain.t_last_ms < 5_000, "{}", plain.t_last_ms);
    let mut slowed = base.to_vec();
    slowed.push(faults(["0:slow:7:5000".to_string()]));
    let r = run(&slowed);
    assert!(r.t_last_ms >= 5_000, "node 7 handles what it receives 5 s late: {}", r.t_last_ms);
    let r = run(&[p("nodes", 1000), p("engine", "compact"), faults(["1s:crash-random:0.5".to_string()])]);
    assert_eq!((r.engine.as_str(), r.live), ("compact", 500));
}
