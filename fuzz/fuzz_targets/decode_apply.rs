//! Fuzz target: a body that `wire::decode` accepts is fed, as an incoming
//! exchange, to core nodes (`Node::handle_exchange`, several rounds, two
//! signing nodes with a `PeerList`; the protocol and the seal policy picked
//! by the input's length; the envelope's key bound as a dialed peer's would
//! be); every reply and every message the nodes want sent is encoded with
//! `wire::encode`, must decode again, and is delivered to the other node.
//! Nothing may panic: not the decoder, not the core, not the encoder.
#![no_main]

use std::sync::Arc;

use gossip::core::{Config, Message, Node, Out, PeerList, Policy, Protocol, PublicKey, Signer};
use gossip::rng::Rng;
use gossip::wire::{self, Id, Limits};
use libfuzzer_sys::fuzz_target;

/// Epochs of the two nodes; node 1 refuses epochs more than a day above its own.
const EPOCH: u32 = 1_763_700_000;

/// Encode `msgs` as sent by `from` (with its key), decode them again: the
/// messages a real peer would receive. A node's output that does not decode
/// is a bug.
fn over_the_wire(from: &Id, key: Option<PublicKey>, msgs: &[Message<Id>], lim: &Limits) -> Vec<Message<Id>> {
    let body = wire::encode(from, Some(from), key.as_ref(), msgs);
    match wire::decode(&body, lim) {
        Ok(env) => env.messages,
        Err(e) => panic!("a node's own output does not decode: {e}\n{}", String::from_utf8_lossy(&body)),
    }
}

fuzz_target!(|data: &[u8]| {
    let lim = Limits::default();
    let Ok(env) = wire::decode(data, &lim) else { return };
    let ids: [Id; 2] = [Id::from("http://127.0.0.1:7000"), Id::from("http://127.0.0.1:7001")];
    let sender = env.url.clone().unwrap_or_else(|| env.from.clone());
    let peers = PeerList(vec![ids[0].clone(), ids[1].clone(), sender.clone()]);
    let protocol = Protocol::ALL[data.len() % Protocol::ALL.len()];
    let auth = [Policy::Welcome, Policy::Required, Policy::Off][data.len() / 5 % 3];
    let cfg = Config { protocol, auth, resample_ms: None, interval_ms: 10, ..Config::default() };
    let mut nodes: Vec<Node<Id>> = (0..2)
        .map(|i| {
            let mut n = Node::new(ids[i].clone(), cfg.clone(), EPOCH + i as u32, Rng::new(i as u64), 0);
            n.set_signer(Arc::new(Signer::from_seed([i as u8 + 1; 32])));
            n
        })
        .collect();
    nodes[1].set_epoch_limit(EPOCH + 86_400);
    if let Some(k) = env.key {
        // as a native node does when the URL it dialed answers with a key
        nodes[1].bind_key(env.from.clone(), k);
    }
    let keys: Vec<Option<PublicKey>> = nodes.iter().map(|n| n.public_key()).collect();
    let mut out = Out::default();
    nodes[0].set_favorite(0, "Alien".into(), &peers, &mut out);
    nodes[1].set_favorite(0, "Heat".into(), &peers, &mut out);
    out.clear();
    for round in 0..3u64 {
        let now = 1 + round * 10;
        // the fuzzed exchange, to node 0 then node 1 (twice each: duplicates)
        for i in [0, 1, 0] {
            let replies = nodes[i].handle_exchange(now, sender.clone(), env.messages.clone(), &peers, &mut out);
            let _ = over_the_wire(&ids[i], keys[i], &replies, &lim);
        }
        nodes[0].handle_timer(now + 5, &peers, &mut out);
        nodes[1].handle_timer(now + 5, &peers, &mut out);
        // deliver what the nodes want sent, a few hops, as exchanges with replies
        for _ in 0..4 {
            let sends = std::mem::take(&mut out.sends);
            if sends.is_empty() {
                break;
            }
            for t in sends {
                let Some(to) = ids.iter().position(|i| *i == t.to) else { continue }; // the fuzzed sender
                let from = ids[1 - to].clone();
                let msgs = over_the_wire(&from, keys[1 - to], &[t.msg], &lim);
                let replies = nodes[to].handle_exchange(now + 6, from.clone(), msgs, &peers, &mut out);
                for m in over_the_wire(&ids[to], keys[to], &replies, &lim) {
                    nodes[1 - to].handle_message(now + 7, ids[to].clone(), m, &peers, &mut out);
                }
            }
        }
        out.events.clear();
    }
    // the nodes' own state still encodes and decodes
    for (n, k) in nodes.iter().zip(&keys) {
        let d = Message::Digest { digest: n.digest(), push_pull: true };
        let _ = over_the_wire(n.id(), *k, &[d], &lim);
    }
});
