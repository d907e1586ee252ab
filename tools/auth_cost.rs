//! What origin authenticity costs, and request bodies to measure it with.
//!
//! `cargo run --release --example auth_cost` times Ed25519 sealing,
//! verification one by one and in batches of 64 (over the exact bytes a
//! node signs), and the core applying sealed updates with the checks on
//! against off.
//!
//! `cargo run --release --example auth_cost -- bodies DIR N` writes, for
//! `scripts/bench-http.sh`:
//! * `DIR/seed.json`, a body that teaches a node 100 origins, sealed;
//! * `DIR/dup.json`, the steady-state request: a 100-entry digest and 3
//!   sealed updates the node already has (no signature is checked);
//! * `DIR/fresh.txt`, N request bodies, one per line, each with 3 sealed
//!   updates the node has never seen (every one is verified).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use gossip::core::{auth, Config, Message, NoPeers, Node, Out, Payload, Policy, Signer, Update, Uuid, Version};
use gossip::rng::Rng;
use gossip::wire::{self, Id};

const EPOCH: u32 = 1_763_700_000;
const TITLE: &str = "The Grand Budapest Hotel";

fn origin(i: usize) -> Id {
    Arc::from(format!("node-127.0.0.1-{i:05}"))
}

fn signer(i: usize) -> Signer {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    Signer::from_seed(seed)
}

fn update(s: &Signer, i: usize, counter: u64) -> Update<Id> {
    let o = origin(i);
    let uuid = Uuid::from_u128((i as u128) << 64 | counter as u128 | 0x4000_8000_0000_0000_0000_0000_0000);
    let v = Version::new(EPOCH, counter);
    let seal = Some(s.seal(uuid, &o, v, TITLE));
    Update::new(uuid, o, v, 5, Payload::from(TITLE.to_string()), seal)
}

fn per_op(label: &str, n: usize, f: impl FnOnce()) {
    let t = Instant::now();
    f();
    let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("{label:<44} {us:>8.2} µs each ({:>7.0} per second)", 1e6 / us);
}

fn costs() {
    let n = 5_000;
    let signers: Vec<Signer> = (0..100).map(signer).collect();
    let mut sealed = Vec::with_capacity(n);
    per_op("seal (sign) one update", n, || {
        for k in 0..n {
            sealed.push(update(&signers[k % 100], k % 100, k as u64 + 1));
        }
    });
    let mut buf = Vec::new();
    per_op("verify one update (strict)", n, || {
        for u in &sealed {
            let s = u.seal.as_ref().expect("sealed");
            assert!(black_box(auth::verify(s, u.uuid, &u.origin, u.version, u.payload.as_str(), &mut buf)));
        }
    });
    let msgs: Vec<Vec<u8>> = sealed
        .iter()
        .map(|u| {
            let mut b = Vec::new();
            auth::signed_bytes(u.uuid, &u.origin, u.version, u.payload.as_str(), &mut b);
            b
        })
        .collect();
    per_op("verify in batches of 64", n / 64 * 64, || {
        for c in sealed.chunks_exact(64).zip(msgs.chunks_exact(64)) {
            let items: Vec<(&auth::Seal, &[u8])> =
                c.0.iter().zip(c.1).map(|(u, m)| (&**u.seal.as_ref().expect("sealed"), m.as_slice())).collect();
            assert!(black_box(auth::verify_batch(&items)));
        }
    });
    // the core applying fresh sealed updates, checks on and off
    for policy in [Policy::Off, Policy::Required] {
        let cfg = Config { resample_ms: None, eager_push: false, auth: policy, ..Config::default() };
        let mut node = Node::new(origin(1_000), cfg, EPOCH, Rng::new(1), 0);
        let mut out = Out::default();
        let batch: Vec<Message<Id>> = sealed.chunks(3).map(|c| Message::Push(c.to_vec())).collect();
        per_op(&format!("core applies a fresh sealed update ({policy:?})"), n, || {
            for (t, m) in batch.into_iter().enumerate() {
                node.handle_message(t as u64, origin(2_000), m, &NoPeers, &mut out);
                out.clear();
            }
        });
        assert_eq!(node.stats().fresh, n as u64, "every update is newer than the last of its origin");
    }
}

fn bodies(dir: &str, n: usize) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let signers: Vec<Signer> = (1..=100).map(signer).collect();
    let key = Signer::from_seed([200; 32]).public();
    let seed: Vec<Update<Id>> = (1..=100).map(|i| update(&signers[i - 1], i, 3)).collect();
    std::fs::write(
        format!("{dir}/seed.json"),
        wire::encode(
            "bench-seed",
            None,
            Some(&key),
            &[Message::Delta { updates: seed.clone(), request: Default::default() }],
        ),
    )?;
    let digest: gossip::core::Digest<Id> = (1..=100).map(|i| (origin(i), Version::new(EPOCH, 3))).collect();
    let dup = [Message::Push(seed[..3].to_vec()), Message::Digest { digest, push_pull: true }];
    std::fs::write(format!("{dir}/dup.json"), wire::encode("bench-client", None, Some(&key), &dup))?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(format!("{dir}/fresh.txt"))?);
    for r in 0..n {
        let updates: Vec<Update<Id>> =
            (0..3).map(|k| (r * 3 + k) % 100 + 1).map(|i| update(&signers[i - 1], i, 4 + r as u64)).collect();
        f.write_all(&wire::encode("bench-client", None, Some(&key), &[Message::Push(updates)]))?;
        f.write_all(b"\n")?;
    }
    f.flush()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => costs(),
        [b, dir, n] if b == "bodies" => {
            let n = n.parse().expect("N: a number of bodies");
            bodies(dir, n).expect("writable DIR");
        }
        _ => {
            eprintln!("usage: auth_cost [bodies DIR N]");
            std::process::exit(2);
        }
    }
}
