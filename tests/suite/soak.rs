//! Soak: five real `gossip` processes on loopback gossiping fast (20 ms
//! rounds, fanout 2) with every node changing its favorite about every
//! 300 ms, for `SOAK_SECS` seconds (45 by default; `scripts/soak.sh` runs
//! 300). Meanwhile the cluster observer polls every node's `/state` about
//! every 100 ms, and every few seconds a sample is taken: incoming exchanges
//! per second and the p99 of outgoing exchange latency (both from
//! `/metrics`: the counters and the `gossip_exchange_duration_seconds`
//! histogram), and each process's resident memory.
//!
//! Pass: no node died, no acknowledged update was lost (every update any
//! node reported reached or was superseded at every node), memory stayed
//! bounded (last sample at most twice the one at a quarter of the run, plus
//! 20 MB), and the p99 stayed under a second. The samples are printed as a
//! table (`cargo test --release --test suite soak:: -- --nocapture`).
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::time::{Duration, Instant};

use support::observer::Observer;
use support::{free_ports, get, Proc};

/// The cluster's flags: fast rounds, constant churn, quick removal.
const ARGS: [&str; 8] = ["--interval-ms", "20", "--fanout", "2", "--change-ms", "300", "--remove-after-ms", "3000"];

/// How often the observer polls every node's `/state`.
const POLL: Duration = Duration::from_millis(100);

/// `SOAK_SECS`, or 45.
fn soak_secs() -> u64 {
    std::env::var("SOAK_SECS").ok().and_then(|v| v.parse().ok()).filter(|&s| s >= 8).unwrap_or(45)
}

/// The value of the sample `series` (name and labels, exactly as rendered)
/// in a Prometheus text.
fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{series} missing from /metrics"))
}

/// The cumulative buckets of histogram `name`: `(le, count)`, `+Inf` as infinity.
fn buckets(metrics: &str, name: &str) -> Vec<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    let b: Vec<(f64, f64)> = metrics
        .lines()
        .filter_map(|l| {
            let (le, n) = l.strip_prefix(&prefix)?.split_once("\"} ")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, n.parse().ok()?))
        })
        .collect();
    assert!(b.last().is_some_and(|(le, _)| le.is_infinite()), "{name} has no +Inf bucket");
    b
}

/// The `q` quantile of cumulative buckets, interpolated linearly inside
/// its bucket as Prometheus' `histogram_quantile` does; `None` when empty.
fn quantile(q: f64, b: &[(f64, f64)]) -> Option<f64> {
    let total = b.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(le, n) in b {
        if n >= rank {
            if le.is_infinite() {
                return Some(lower.0); // beyond the last bound: say the last bound
            }
            let inside = n - lower.1;
            let frac = if inside > 0.0 { (rank - lower.1) / inside } else { 1.0 };
            return Some(lower.0 + (le - lower.0) * frac);
        }
        lower = (le, n);
    }
    None
}

/// What the whole cluster's `/metrics` say at one instant, summed over nodes.
#[derive(Clone, Debug, Default)]
struct Totals {
    exchanges_in: f64,
    failed_out: f64,
    latency: Vec<(f64, f64)>,
}

fn totals(ports: &[u16]) -> Totals {
    let mut t = Totals::default();
    for &p in ports {
        let m = get(p, "/metrics").expect("/metrics answers").text();
        t.exchanges_in += value(&m, r#"gossip_exchanges_total{direction="in",result="ok"}"#);
        t.failed_out += value(&m, r#"gossip_exchanges_total{direction="out",result="failed"}"#);
        let b = buckets(&m, "gossip_exchange_duration_seconds");
        if t.latency.is_empty() {
            t.latency = b;
        } else {
            for (acc, (_, n)) in t.latency.iter_mut().zip(b) {
                acc.1 += n;
            }
        }
    }
    t
}

/// One row of the table.
struct Sample {
    at: Duration,
    req_per_s: f64,
    p99_ms: Option<f64>,
    failed: f64,
    rss_mb: Vec<f64>,
}

#[test]
fn five_nodes_under_constant_churn_lose_no_update_and_keep_their_memory() {
    let secs = soak_secs();
    let every = Duration::from_secs((secs / 15).max(3));
    let ports = free_ports(5);
    let mut nodes: Vec<Proc> = ports.iter().map(|&p| Proc::node(p, ports[0], &ARGS)).collect();
    let mut obs = Observer::new();
    support::wait_until("every node knows all five", Duration::from_secs(20), || {
        obs.poll(&ports).iter().all(|s| s.as_ref().is_some_and(|s| s.view.len() == 5))
    });

    let start = Instant::now();
    let mut last = (Instant::now(), totals(&ports));
    let mut samples: Vec<Sample> = Vec::new();
    let mut overall_latency = Vec::new();
    println!("soak: 5 nodes, {} for {secs} s, a sample every {every:?}", ARGS.join(" "));
    println!(
        "req/s: POST /gossip/ answered, whole cluster; p99: outgoing exchanges; RSS in MB, one column per node (port)"
    );
    println!(
        "{:>6} {:>8} {:>8} {:>7}  {}",
        "t (s)",
        "req/s",
        "p99 ms",
        "failed",
        ports.iter().map(|p| format!("RSS:{p:<5}")).collect::<Vec<_>>().join(" ")
    );
    while start.elapsed() < Duration::from_secs(secs) {
        let tick = Instant::now();
        obs.poll(&ports);
        if last.0.elapsed() >= every {
            for n in nodes.iter_mut() {
                assert!(n.running(), "the node on port {} died", n.port);
            }
            let now = (Instant::now(), totals(&ports));
            let window: Vec<(f64, f64)> =
                now.1.latency.iter().zip(&last.1.latency).map(|(a, b)| (a.0, a.1 - b.1)).collect();
            let s = Sample {
                at: start.elapsed(),
                req_per_s: (now.1.exchanges_in - last.1.exchanges_in) / (now.0 - last.0).as_secs_f64(),
                p99_ms: quantile(0.99, &window).map(|s| s * 1e3),
                failed: now.1.failed_out - last.1.failed_out,
                rss_mb: nodes.iter().map(|n| n.rss_kib().unwrap_or(0) as f64 / 1024.0).collect(),
            };
            println!(
                "{:>6.1} {:>8.0} {:>8} {:>7}  {}",
                s.at.as_secs_f64(),
                s.req_per_s,
                s.p99_ms.map_or("-".to_string(), |p| format!("{p:.2}")),
                s.failed,
                s.rss_mb.iter().map(|m| format!("{m:>9.1}")).collect::<Vec<_>>().join(" ")
            );
            overall_latency = now.1.latency.clone();
            samples.push(s);
            last = now;
        }
        std::thread::sleep(POLL.saturating_sub(tick.elapsed()));
    }

    for n in nodes.iter_mut() {
        assert!(n.running(), "the node on port {} died", n.port);
    }
    let acked = obs.acknowledged();
    let lost = obs.lost_updates(&ports, Duration::from_secs(10));
    let (polls, answers) = obs.polls();
    println!(
        "acknowledged updates: {acked}; lost: {}; /state polls: {polls} rounds, {answers} answers; same version under two UUIDs: {}",
        lost.len(),
        obs.conflicts().len()
    );
    assert!(lost.is_empty(), "updates acknowledged but missing: {lost:?}");
    // churn did happen: each node re-samples about 3 times a second
    assert!(acked as u64 >= secs * 5, "only {acked} updates acknowledged in {secs} s");
    assert!(samples.len() >= 2, "{} samples", samples.len());
    assert!(samples.iter().all(|s| s.req_per_s > 0.0), "the cluster kept exchanging");

    let p99 = quantile(0.99, &overall_latency).expect("exchanges were timed") * 1e3;
    let p50 = quantile(0.5, &overall_latency).unwrap() * 1e3;
    println!("whole run: outgoing exchange latency p50 {p50:.2} ms, p99 {p99:.2} ms");
    assert!(p99 < 1_000.0, "p99 of outgoing exchanges {p99:.1} ms");

    // memory: the last sample against the one at a quarter of the run
    let quarter = samples.iter().find(|s| s.at >= Duration::from_secs(secs) / 4).unwrap_or(&samples[0]);
    let end = samples.last().unwrap();
    for (i, (q, e)) in quarter.rss_mb.iter().zip(&end.rss_mb).enumerate() {
        assert!(*q > 0.0 && *e > 0.0, "RSS of node {i} unreadable");
        assert!(
            *e <= 2.0 * q + 20.0,
            "node {i} (port {}): RSS {e:.1} MB at the end, {q:.1} MB at {:?}",
            ports[i],
            quarter.at
        );
    }
}

#[test]
fn quantiles_interpolate_inside_buckets() {
    let b = [(0.001, 50.0), (0.01, 90.0), (0.1, 100.0), (f64::INFINITY, 100.0)];
    assert_eq!(quantile(0.5, &b), Some(0.001));
    assert!((quantile(0.7, &b).unwrap() - 0.0055).abs() < 1e-12);
    assert!((quantile(0.99, &b).unwrap() - 0.091).abs() < 1e-12);
    assert_eq!(quantile(0.99, &[(0.001, 0.0), (f64::INFINITY, 0.0)]), None);
    assert_eq!(quantile(0.99, &[(0.001, 1.0), (f64::INFINITY, 10.0)]), Some(0.001), "beyond the last bound");
}
