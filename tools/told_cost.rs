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

use gossip::sim;
use gossip::sim::live::{FLIGHT_CAP, TRACE_CAP};
use gossip::sim::params::SimParams;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: told_cost record|plain|page|run [nodes] [seconds]";
    let mode = args.first().map(String::as_str);
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
