//! What recording who told whom costs the simulator, for callgrind.
//!
//! `cargo run --release --example told_cost -- record|plain [nodes] [seconds]`
//! runs the page's movies run of full core nodes in the events model (its
//! parameters, 1,000 nodes and 20 s of virtual time by default) the way
//! the page's live run does:
//! advanced 16 ms of virtual time at a time (a frame at 1x), draining the
//! flights log each frame. `record` keeps what the viewer keeps (the
//! senders, hops and every delivery, `FullPopulation::track_for_viewer`);
//! `plain` keeps none of it. Measure with
//! `valgrind --tool=callgrind target/release/examples/told_cost record`
//! (instruction counts repeat exactly; wall times on a shared machine do
//! not). It prints the run's counters, so two versions of the recording
//! can be checked to run the same simulation.

use gossip::sim;
use gossip::sim::live::{FLIGHT_CAP, TRACE_CAP};
use gossip::sim::params::SimParams;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: told_cost record|plain [nodes] [seconds]";
    let record = match args.first().map(String::as_str) {
        Some("record") => true,
        Some("plain") => false,
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
