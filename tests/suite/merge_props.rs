//! Property tests of the merge rule: whatever order, duplication or mix of
//! push and anti-entropy the network delivers updates in, a node ends with
//! the newest version of every origin, and nothing else.

#![cfg(not(target_arch = "wasm32"))] // proptest is a native dev-dependency
use gossip::core::{Config, Message, NoPeers, Node, Out, Protocol, Update, Uuid, Version};
use gossip::rng::Rng;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn update(origin: u32, epoch: u32, counter: u64) -> Update<u32> {
    // one UUID per (origin, version), as honest origins do
    let uuid = Uuid::from_u128(((origin as u128) << 96) | ((epoch as u128) << 64) | counter as u128);
    Update::new(uuid, origin, Version::new(epoch, counter), 3, format!("movie {origin}/{epoch}/{counter}").into(), None)
}

fn node() -> Node<u32> {
    let cfg = Config {
        protocol: Protocol::PushPull,
        resample_ms: None,
        eager_push: false,
        auth: gossip::core::Policy::Off,
        ..Config::default()
    };
    Node::new(0, cfg, 0, Rng::new(1), 0)
}

proptest! {
    #[test]
    fn any_delivery_order_gives_the_same_view(
        updates in prop::collection::vec((1u32..6, 0u32..3, 1u64..20), 1..60),
        order in prop::collection::vec(any::<prop::sample::Index>(), 1..200),
        as_delta in prop::collection::vec(any::<bool>(), 200),
    ) {
        let mut expected: BTreeMap<u32, Version> = BTreeMap::new();
        for &(o, e, c) in &updates {
            let v = Version::new(e, c);
            let slot = expected.entry(o).or_insert(v);
            *slot = (*slot).max(v);
        }
        let mut a = node();
        let mut out = Out::default();
        // deliver every update once, then an arbitrary sequence of repeats
        let mut seq: Vec<usize> = (0..updates.len()).collect();
        seq.extend(order.iter().map(|i| i.index(updates.len())));
        for (t, &k) in seq.iter().enumerate() {
            let (o, e, c) = updates[k];
            let msg = if as_delta[t % as_delta.len()] {
                Message::Delta { updates: vec![update(o, e, c)], request: Default::default() }
            } else {
                Message::Push(vec![update(o, e, c)])
            };
            a.handle_message(t as u64, 99, msg, &NoPeers, &mut out);
            out.clear();
        }
        let got: BTreeMap<u32, Version> = a.view().map(|(o, e)| (*o, e.version)).collect();
        prop_assert_eq!(&got, &expected);
        for (o, e) in a.view() {
            let want = update(*o, e.version.epoch, e.version.counter);
            prop_assert_eq!(e.payload.as_str(), want.payload.as_str());
        }
        // shuffled order on a second node: same view
        let mut b = node();
        let mut rev = seq.clone();
        rev.reverse();
        for (t, &k) in rev.iter().enumerate() {
            let (o, e, c) = updates[k];
            b.handle_message(t as u64, 98, Message::Push(vec![update(o, e, c)]), &NoPeers, &mut out);
            out.clear();
        }
        let got_b: BTreeMap<u32, Version> = b.view().map(|(o, e)| (*o, e.version)).collect();
        prop_assert_eq!(got_b, expected);
    }

    #[test]
    fn hostile_updates_never_panic_and_are_counted(
        updates in prop::collection::vec((any::<u32>(), any::<u32>(), any::<u64>(), any::<u32>(), 0usize..2000), 0..50),
    ) {
        let mut a = node();
        let mut out = Out::default();
        let batch: Vec<_> = updates.iter().map(|&(o, e, c, ttl, len)| Update::new(Uuid::from_u64_pair(o as u64, c), o, Version::new(e, c), ttl, "x".repeat(len).into(), None)).collect();
        a.handle_message(1, 7, Message::Push(batch.clone()), &NoPeers, &mut out);
        a.handle_message(2, 7, Message::Delta { updates: batch, request: vec![(3, Version::new(u32::MAX, u64::MAX))].into() }, &NoPeers, &mut out);
        let s = a.stats();
        prop_assert_eq!(s.updates_in, 2 * updates.len() as u64);
        prop_assert_eq!(s.fresh + s.duplicates + s.invalid + s.view_full, s.updates_in);
        for (_, e) in a.view() {
            prop_assert!(e.version.is_valid());
            prop_assert!(e.ttl <= a.config().max_ttl);
            prop_assert!(e.payload.as_str().len() <= a.config().max_payload);
        }
    }
}
