//! Criterion benchmarks of the hot paths: the core's digest exchange and
//! merge (what the course app at scale spends its time on), and whole
//! simulator runs of the single-rumor population. `cargo bench --bench core`;
//! these measure, they assert nothing (the figures go in BENCHMARKS.md).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use gossip::core::{Config, Message, NoPeers, Node, Out, Payload, Policy, Protocol, Update, Uuid, Version};
use gossip::rng::Rng;
use gossip::sim::{self, Model, SimConfig};

fn cfg() -> Config {
    Config { protocol: Protocol::PushPull, resample_ms: None, auth: Policy::Off, ..Config::default() }
}

/// A node (id `id`) whose view holds `n` origins; with `behind`, every
/// twentieth origin is one version older than in the other nodes.
fn node_with_view(id: u32, n: u32, behind: bool) -> Node<u32> {
    let mut node = Node::new(id, cfg(), 0, Rng::new(id as u64 + 1), 0);
    let updates: Vec<Update<u32>> = (0..n)
        .filter(|&o| o != id)
        .map(|o| {
            let counter = if behind && o % 20 == 0 { 1 } else { 2 };
            Update::new(
                Uuid::from_u64_pair(o as u64, counter),
                o,
                Version::new(0, counter),
                0,
                Payload::Static("Alien"),
                None,
            )
        })
        .collect();
    let mut out = Out::default();
    node.handle_message(1, n + 1, Message::Delta { updates, request: Default::default() }, &NoPeers, &mut out);
    node
}

fn digest_exchange(c: &mut Criterion) {
    let mut g = c.benchmark_group("digest_exchange");
    for n in [200u32, 1_000, 2_000] {
        let a = node_with_view(0, n, false);
        let b = node_with_view(1, n, true);
        let digest = b.digest();
        // a answers b's digest: what b lacks (n/20 updates) and what it lacks itself (nothing)
        g.bench_with_input(BenchmarkId::new("answer", n), &n, |bench, _| {
            let mut a = a.clone();
            let mut out = Out::default();
            bench.iter_batched(
                || digest.clone(),
                |d| {
                    a.handle_message(2, 1, Message::Digest { digest: d, push_pull: true }, &NoPeers, &mut out);
                    black_box(out.sends.len());
                    out.clear();
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_with_input(BenchmarkId::new("make_digest", n), &n, |bench, _| bench.iter(|| black_box(a.digest())));
        let msg: Message<u32> = Message::Digest { digest: digest.clone(), push_pull: true };
        g.bench_with_input(BenchmarkId::new("wire_len", n), &n, |bench, _| bench.iter(|| black_box(msg.wire_len())));
    }
    g.finish();
}

fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("merge");
    for n in [200u32, 2_000] {
        let base = node_with_view(0, n, true);
        // the n/20 newer versions b's delta brings, applied to a fresh copy each time
        let fresh: Vec<Update<u32>> = (0..n)
            .filter(|o| o % 20 == 0 && *o != 0)
            .map(|o| {
                Update::new(Uuid::from_u64_pair(o as u64, 2), o, Version::new(0, 2), 0, Payload::Static("Alien"), None)
            })
            .collect();
        g.bench_with_input(BenchmarkId::new("apply_delta", n), &n, |bench, _| {
            let mut out = Out::default();
            bench.iter_batched(
                || (base.clone(), fresh.clone()),
                |(mut node, updates)| {
                    node.handle_message(
                        2,
                        1,
                        Message::Delta { updates, request: Default::default() },
                        &NoPeers,
                        &mut out,
                    );
                    out.clear();
                    node
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn simulator(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    for (name, model) in [("push_pull_rounds_100k", Model::Rounds), ("push_pull_events_100k", Model::Events)] {
        let cfg = SimConfig { nodes: 100_000, model, ..SimConfig::default() };
        g.bench_function(name, |bench| bench.iter(|| black_box(sim::run(&cfg, &mut |_| {}).expect("valid").events)));
    }
    g.finish();
}

criterion_group!(benches, digest_exchange, merge, simulator);
criterion_main!(benches);
