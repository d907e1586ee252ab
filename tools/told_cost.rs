//! What recording who told whom costs the simulator, for callgrind.
//!
//! `cargo run --release --example told_cost -- record|plain|page|run [nodes] [seconds]`
//! runs the page's movies run of full core nodes in the events model (its
//! parameters, 1,000 nodes and 20 s of virtual time by default) the way
//! the page's live run does:
//! advanced 16 ms of virtual time at a time (a frame at 1x), draining the
//! flights log each frame. `record` keeps what the viewer keeps (the
//! senders, hops and every delivery, `FullPopulation::track_for_viewer`);
//! `plain` keeps none of it. `page` is the page's whole run as
//! `tests/e2e/wasm-vs-native.mjs` times it (a `Live` run of `seconds`,
//! the viewer's recording, the spread log and the counter rows, advanced
//! by `advance(end, 1e6)` calls to its end), and `run` is `sim::run` of
//! that scenario on one thread (what `gossip sim` does). Measure with
//! `valgrind --tool=callgrind target/release/examples/told_cost record`
//! (instruction counts repeat exactly; wall times on a shared machine do
//! not). It prints the run's counters, so two versions of the recording
//! can be checked to run the same simulation.
//!
//! `told_cost digest [key=value ...]` runs any configuration of full nodes
//! (the page's parameters) with the viewer, 16 ms of virtual time at a
//! time, and prints a digest of everything the viewer recorded: the trace,
//! each node's freshness, who told each node each origin it holds, and
//! every kept dissemination of every version made. Two versions of the
//! recording that print the same digests over many configurations record
//! the same.

use gossip::sim;
use gossip::sim::live::{FLIGHT_CAP, TRACE_CAP};
use gossip::sim::params::SimParams;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: told_cost record|plain|page|run [nodes] [seconds] | digest [key=value ...]";
    let mode = args.first().map(String::as_str);
    if mode == Some("digest") {
        digest(&args[1..]);
        return;
    }
    let record = match mode {
        Some("record") => true,
        Some("plain") => false,
        Some("page" | "run") => false,
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let number = |k: usize, default: u64| match args.get(k) {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("not a number: {s:?}\n{usage}");
            std::process::exit(2);
        }),
    };
    let (nodes, seconds) = (number(1, 1000) as u32, number(2, 20));
    // the page's "1,000 nodes, movies, events, 1x" (tests/e2e/bench.mjs), through the page's parameters
    let nodes_s = nodes.to_string();
    let pairs = [("nodes", nodes_s.as_str()), ("scenario", "movies"), ("model", "events"), ("duration_s", "600")];
    let cfg = SimParams::from_pairs(pairs).and_then(|p| p.to_config()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    if mode == Some("page") || mode == Some("run") {
        let secs = seconds.to_string();
        let pairs =
            [("nodes", nodes_s.as_str()), ("scenario", "movies"), ("model", "events"), ("duration_s", secs.as_str())];
        let cfg = SimParams::from_pairs(pairs).and_then(|p| p.to_config()).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2);
        });
        let (events, kept) = if mode == Some("run") {
            (
                sim::run_threads(&cfg, 1, &mut |_| {}).map(|r| r.events).unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(2);
                }),
                0,
            )
        } else {
            let mut live = sim::live::Live::new(&cfg).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(2);
            });
            // bounded: each call does at least one event or reaches the end
            for _ in 0..10_000_000u64 {
                if live.stopped().is_some() {
                    break;
                }
                live.advance(u64::MAX, 1_000_000);
            }
            (live.report().events, live.spread_log().points().len())
        };
        println!("mode={} nodes={nodes} events={events} spread_points={kept}", mode.unwrap_or_default());
        return;
    }
    let mut pop = sim::full_population(&cfg);
    if record {
        pop.track_for_viewer(TRACE_CAP);
    }
    let mut r = sim::runner(&cfg, pop);
    r.w.log_flights(FLIGHT_CAP);
    let end = seconds * 1000;
    let mut flights = 0usize;
    let mut t = 0;
    while t < end && r.stopped().is_none() {
        t = (t + 16).min(end);
        r.advance(t, u64::MAX, &mut |_| {});
        flights += r.w.drain_flights().0.len();
    }
    // a digest of what was recorded of each origin's latest update (FNV-1a),
    // so that two versions of the recording can be seen to record the same
    let pop = &r.w.pop;
    let (mut digest, mut kept) = (0xcbf2_9ce4_8422_2325u64, 0usize);
    for origin in 0..nodes {
        let Some(edges) = pop.latest(origin).and_then(|v| pop.dissemination(origin, v)) else { continue };
        kept += edges.len();
        for e in edges {
            for x in [e.t, u64::from(e.from), u64::from(e.to), u64::from(e.hop), u64::from(e.duplicate)] {
                digest = (digest ^ x).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    println!(
        "record={record} nodes={nodes} t={}ms events={} flights={flights} deliveries_dropped={} kept={kept} digest={digest:016x}",
        r.now(),
        r.w.metrics.events,
        pop.deliveries_dropped()
    );
}

/// FNV-1a over 64-bit words.
struct Fnv(u64);

impl Fnv {
    fn add(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x100_0000_01b3);
    }
}

/// `told_cost digest [key=value ...]`: see the module header.
fn digest(pairs: &[String]) {
    let mut kv: Vec<(&str, &str)> = vec![("scenario", "movies"), ("model", "events")];
    for p in pairs {
        let Some((k, v)) = p.split_once('=') else {
            eprintln!("not key=value: {p:?}");
            std::process::exit(2);
        };
        kv.retain(|(key, _)| *key != k);
        kv.push((k, v));
    }
    let seconds: u64 = kv.iter().find(|(k, _)| *k == "duration_s").map_or(20, |(_, v)| v.parse().unwrap_or(20));
    let cfg = SimParams::from_pairs(kv.iter().copied()).and_then(|p| p.to_config()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let mut pop = sim::full_population(&cfg);
    pop.track_for_viewer(TRACE_CAP);
    let mut r = sim::runner(&cfg, pop);
    let end = seconds * 1000;
    let mut t = 0;
    while t < end && r.stopped().is_none() {
        t = (t + 16).min(end);
        r.advance(t, u64::MAX, &mut |_| {});
    }
    let pop = &r.w.pop;
    let n = pop.nodes().len() as u32;
    let (trace, dropped) = pop.trace();
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for e in &trace {
        for x in [e.t, e.node.into(), e.origin.into(), e.epoch.into(), e.counter, e.kind.len() as u64] {
            h.add(x);
        }
        h.add(e.from.map_or(u64::MAX, u64::from));
        h.add(e.hop.map_or(u64::MAX, u64::from));
    }
    h.add(dropped);
    let trace_digest = h.0;
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    // origins: the nodes and any broadcast keys past them
    let origins = n + 4096;
    for i in 0..n {
        let (behind, of) = pop.staleness(i).unwrap_or((u32::MAX, u32::MAX));
        h.add(behind.into());
        h.add(of.into());
        for o in 0..origins {
            if let Some(told) = pop.told(i, o) {
                h.add(o.into());
                h.add(told.from.into());
                h.add(told.hop.into());
            }
        }
    }
    let told_digest = h.0;
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    let mut kept = 0usize;
    for o in 0..origins {
        let Some(latest) = pop.latest(o) else { continue };
        for epoch in 0..=latest.epoch {
            for counter in 0..=latest.counter.min(1 << 16) {
                let Some(edges) = pop.dissemination(o, gossip::core::Version::new(epoch, counter)) else { continue };
                kept += edges.len();
                h.add(o.into());
                h.add(epoch.into());
                h.add(counter);
                for e in edges {
                    for x in [e.t, e.from.into(), e.to.into(), e.hop.into(), e.duplicate.into()] {
                        h.add(x);
                    }
                }
            }
        }
    }
    println!(
        "t={}ms events={} trace={} dropped={dropped} trace_digest={trace_digest:016x} told_digest={told_digest:016x} kept={kept} deliveries_dropped={} deliveries_digest={:016x}",
        r.now(),
        r.w.metrics.events,
        trace.len(),
        pop.deliveries_dropped(),
        h.0
    );
}
