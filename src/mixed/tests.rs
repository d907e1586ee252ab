//! The bridge as a whole, driven frame by frame against scripted answers (no
//! network): backoff, hostile answers, the request rate, and authenticity end
//! to end (refusals, seals out and in, key changes, the verification budget).

use std::collections::HashSet;
use std::sync::Arc;

use super::identities::node_seed;
use super::seals::VERIFY_PER_PUMP;
use super::*;
use crate::core::auth::{self, PublicKey, Signer};
use crate::core::{Message, Payload, Update, Uuid, Version};
use crate::sim::live::{Live, NodeKind};
use crate::sim::params::SimParams;
use crate::wire::{self, Id, Limits};

const URL: &str = "http://127.0.0.1:7000";

fn setup(opts: BridgeOptions) -> (Live, Bridge) {
    let mut p = SimParams::default();
    for (k, v) in [("nodes", "10"), ("scenario", "movies"), ("model", "events"), ("seed", "2")] {
        p.set(k, v).unwrap();
    }
    let live = Live::new(&p.to_config().unwrap()).unwrap();
    (live, Bridge::new(opts, 10, [1, 2, 3], [7; 32]).unwrap())
}

fn requests(b: &mut Bridge) -> Vec<HttpRequest> {
    std::iter::from_fn(|| b.poll_request()).collect()
}

fn state_body(id: &str, movie: &str) -> String {
    serde_json::json!({"id": id, "movie": movie, "version": 1, "epoch": 7,
        "view": {id: {"movie": movie, "version": 1, "epoch": 7, "ttl": 6,
                      "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}}})
    .to_string()
}

#[test]
fn a_node_that_stops_answering_is_noticed_once_and_probed_with_growing_backoff() {
    let (mut live, mut b) = setup(BridgeOptions::default());
    b.connect(URL, &mut live, 0.0).unwrap();
    b.pump(&mut live, 0.0);
    let first = requests(&mut b);
    assert_eq!(first.len(), 1, "one /state probe first: {first:?}");
    assert_eq!(first[0].url, format!("{URL}/state"));
    let mut probes = vec![0.0];
    let mut pending = first[0].id;
    let mut t = 0.0;
    while t < 40_000.0 {
        b.handle_response(pending, t, Err("network error".into()));
        loop {
            t += 10.0;
            b.pump(&mut live, t);
            if let Some(r) = b.poll_request() {
                pending = r.id;
                probes.push(t);
                break;
            }
        }
    }
    let gaps: Vec<f64> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    // 1 s doubling to 30 s, each within ±25 % jitter
    for (k, g) in gaps.iter().enumerate() {
        let base = (1_000.0 * 2f64.powi(k as i32)).min(30_000.0);
        assert!(*g >= base * 0.75 - 10.0 && *g <= base * 1.25 + 20.0, "gap {k}: {g} ms, {gaps:?}");
    }
    let notices = b.drain_notices();
    assert_eq!(notices.iter().filter(|n| n.level == "warn").count(), 1, "{notices:?}");
    assert_eq!(b.natives()[0].status, Reach::Unreachable);
    assert!(b.stats().failed as usize == probes.len() - 1);
}

#[test]
fn hostile_answers_are_dropped_and_counted_without_harm() {
    let (mut live, mut b) = setup(BridgeOptions { max_natives: 8, ..Default::default() });
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let junk_peers: Vec<String> = (0..5_000)
        .map(|i| match i % 4 {
            0 => format!("http://10.0.0.{}:{}", i % 250, 1000 + i),
            1 => "javascript:alert(1)".into(),
            2 => "browser-abc-1".into(),
            _ => format!("http://x/{i}/path"),
        })
        .collect();
    let bodies = [
        "not json".to_string(),
        "[1, 2, 3]".to_string(),
        "{\"id\": \"\"}".to_string(),
        serde_json::json!({"id": "x".repeat(300)}).to_string(),
        serde_json::json!({"id": URL, "movie": "m".repeat(600), "view": {URL: {"movie": "m".repeat(600), "version": 1}}}).to_string(),
        serde_json::json!({"id": URL, "view": {URL: {"movie": "A", "version": 9007199254740993u64}}}).to_string(),
        serde_json::to_string(&junk_peers).unwrap(),
        state_body(URL, "Alien"),
    ];
    for body in bodies.iter().cycle().take(40) {
        t += 100.0;
        live.advance(t as u64, u64::MAX);
        b.pump(&mut live, t);
        for r in requests(&mut b) {
            let answer = if r.url.ends_with("/peers/") {
                serde_json::to_string(&junk_peers).unwrap()
            } else if r.url.ends_with("/gossip/") {
                // a node claiming to be one of the page's own nodes
                serde_json::json!({"from": b.name_of_virtual(3), "delta": []}).to_string()
            } else {
                body.clone()
            };
            b.handle_response(r.id, t + 5.0, Ok((200, answer)));
        }
    }
    // then an honest answer is used
    for _ in 0..100 {
        t += 100.0;
        b.pump(&mut live, t);
        for r in requests(&mut b) {
            let answer = if r.url == format!("{URL}/state") { state_body(URL, "Alien") } else { "[]".into() };
            b.handle_response(r.id, t + 5.0, Ok((200, answer)));
        }
    }
    b.pump(&mut live, t + 10.0);
    let natives = b.natives();
    assert!(natives.len() <= 8, "bounded: {}", natives.len());
    assert!(natives.iter().all(|n| n.url.starts_with("http://") && !n.url.contains("/path")), "{natives:?}");
    assert!(b.stats().bad_answers > 0, "{:?}", b.stats());
    let real = natives.iter().find(|n| n.url == URL).unwrap();
    assert_eq!(real.movie.as_deref(), Some("Alien"), "the one good answer was used");
    assert_eq!(live.kind(real.slot.unwrap()), NodeKind::Native);
    let notices = b.drain_notices();
    assert!(notices.len() < 30, "not a flood: {}", notices.len());
}

#[test]
fn the_page_never_exceeds_its_request_rate_even_with_many_nodes_answering_at_once() {
    let (mut live, mut b) =
        setup(BridgeOptions { max_rps: 5.0, exchange_ms: 100, state_poll_ms: 100, ..Default::default() });
    b.connect(URL, &mut live, 0.0).unwrap();
    let peers: Vec<String> = (1..30).map(|i| format!("http://127.0.0.1:{}", 7000 + i)).collect();
    let mut sent = Vec::new();
    let mut t = 0.0;
    while t < 20_000.0 {
        t += 16.0;
        live.advance(t as u64, u64::MAX);
        b.pump(&mut live, t);
        for r in requests(&mut b) {
            sent.push(t);
            let answer = if r.url.ends_with("/peers/") {
                serde_json::to_string(&peers).unwrap()
            } else if r.url.ends_with("/state") {
                let base = r.url.trim_end_matches("/state");
                state_body(base, "Heat")
            } else {
                let from = r.url.trim_end_matches("/gossip/");
                serde_json::json!({"from": from, "url": from}).to_string()
            };
            b.handle_response(r.id, t + 1.0, Ok((200, answer)));
        }
    }
    assert!(b.natives().len() >= 20, "{}", b.natives().len());
    // at most one second's burst plus the rate, in any second
    for (i, &t0) in sent.iter().enumerate() {
        let n = sent[i..].iter().take_while(|&&u| u < t0 + 1_000.0).count();
        assert!(n <= 10, "{n} requests in the second from {t0} ms");
    }
    assert!(sent.len() as f64 <= 5.0 * 20.0 + 5.0, "{} requests in 20 s", sent.len());
    assert!(b.stats().rate_limited > 0);
}

// ----- authenticity -----

fn signer(b: u8) -> Signer {
    Signer::from_seed([b; 32])
}

/// `origin`'s update sealed by `by`, its UUID `uuid`'s 128 bits.
fn sealed(by: &Signer, origin: &str, version: Version, payload: &str, uuid: u128) -> Update<Id> {
    let (origin, uuid) = (Id::from(origin), Uuid::from_u128(uuid));
    let seal = by.seal(uuid, &origin, version, payload);
    Update::new(uuid, origin, version, 5, Payload::from(payload.to_string()), Some(seal))
}

fn unsigned(origin: &str, version: Version, payload: &str, uuid: u128) -> Update<Id> {
    let mut u = sealed(&signer(0), origin, version, payload, uuid);
    u.edit(|r| r.seal = None);
    u
}

/// An answer to `POST /gossip/` from `from` (reachable there, with `key`).
fn answer(from: &str, key: Option<&PublicKey>, msgs: &[Message<Id>]) -> String {
    String::from_utf8(wire::encode(from, Some(from), key, msgs)).unwrap()
}

fn delta(updates: Vec<Update<Id>>) -> Message<Id> {
    Message::Delta { updates, request: Default::default() }
}

/// `GET /state` of a node `id` with key `key` whose favorite is `movie`, sealed.
fn state_with_key(id: &str, movie: &str, key: &PublicKey) -> String {
    let k = wire::key_text(key);
    serde_json::json!({"id": id, "movie": movie, "version": 1, "epoch": 7, "key": k,
        "view": {id: {"movie": movie, "version": 1, "epoch": 7, "ttl": 6, "key": k,
                      "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e"}}})
    .to_string()
}

/// `frames` frames of 100 ms: the run advances, the bridge pumps, and
/// every request is answered by `reply` (200).
fn drive(
    live: &mut Live,
    b: &mut Bridge,
    t: &mut f64,
    frames: usize,
    mut reply: impl FnMut(&mut Bridge, &HttpRequest) -> String,
) {
    for _ in 0..frames {
        *t += 100.0;
        live.advance(*t as u64, u64::MAX);
        b.pump(live, *t);
        for r in requests(b) {
            let body = reply(b, &r);
            b.handle_response(r.id, *t + 5.0, Ok((200, body)));
        }
    }
    *t += 10.0;
    b.pump(live, *t);
}

/// Which virtual nodes hold an entry for `origin`.
fn holders(live: &Live, origin: u32) -> Vec<u32> {
    (0..live.len()).filter(|&i| !live.is_remote(i) && live.entry(i, origin).is_some()).collect()
}

#[test]
fn forged_unsigned_and_wrongly_keyed_updates_from_a_native_are_refused_and_counted() {
    let (mut live, mut b) = setup(BridgeOptions { allow_unsigned: false, ..Default::default() });
    let (a, other) = (signer(1), signer(2));
    let v = Version::new(7, 1);
    let mut bad_sig = sealed(&a, "http://127.0.0.1:7001", v, "Heat", 2);
    bad_sig.edit(|r| {
        if let Some(s) = &mut r.seal {
            Arc::make_mut(s).sig[5] ^= 1;
        }
    });
    let own = b.name_of_virtual(3);
    let forged = answer(
        URL,
        Some(&a.public()),
        &[delta(vec![
            sealed(&a, URL, v, "Alien", 1),                       // good: taken, binds URL to a
            bad_sig,                                              // bad signature
            sealed(&other, URL, v.next(), "Ran", 3),              // valid, but by another key than URL's
            unsigned("http://127.0.0.1:7002", v, "Up", 4),        // unsigned
            sealed(&other, &own, Version::new(0, 99), "Evil", 5), // a page node's update by another key
            unsigned(&own, Version::new(0, 98), "Evil", 6),       // and unsigned
        ])],
    );
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let mut exchanges = 0;
    drive(&mut live, &mut b, &mut t, 50, |_, r| {
        if r.url.ends_with("/state") {
            state_with_key(URL, "Alien", &a.public())
        } else if r.url.ends_with("/gossip/") {
            exchanges += 1;
            forged.clone()
        } else {
            "[]".into()
        }
    });
    assert!(exchanges >= 3, "{exchanges} exchanges");
    let st = b.stats();
    let n = exchanges as u64;
    // 7002 is unsigned where seals are required; the page's own node is bound to its key
    assert_eq!((st.unsigned, st.bound_unsigned, st.bad_signature, st.key_mismatch), (n, n, n, 2 * n), "{st:?}");
    assert_eq!(st.verified, 1 + n, "the good seal is verified once, the bad one every time: {st:?}");
    let slot = b.natives()[0].slot.unwrap();
    assert_eq!(b.bound_key(slot), Some(a.public()));
    assert_eq!(b.natives()[0].key.as_deref(), Some(wire::key_text(&a.public()).as_str()));
    // the good update spread; nothing refused entered the run
    live.advance(live.now() + 5_000, u64::MAX);
    let h = holders(&live, slot);
    assert!(h.len() >= 9, "the native's update spread: {h:?}");
    for i in h {
        let e = live.entry(i, slot).unwrap();
        assert_eq!((e.payload.as_str(), e.version), ("Alien", v), "node {i}");
    }
    assert!(
        b.natives().iter().all(|n| !n.url.ends_with(":7001") && !n.url.ends_with(":7002")),
        "no slots for forgeries"
    );
    assert!((0..live.len()).all(|i| live.node(i).unwrap().movie.as_deref() != Some("Evil")));
    assert!(live.node(3).unwrap().version < 98, "no claim about a page node got in");
    // said once, not once per answer
    let notices = b.drain_notices();
    let said: Vec<_> = notices.iter().filter(|n| n.text.contains("refused")).collect();
    assert_eq!(said.len(), 1, "{notices:?}");
    assert!(said[0].text.contains(URL) && said[0].text.contains("unsigned"), "{said:?}");
}

#[test]
fn unsigned_updates_are_welcome_by_default_but_never_for_a_signed_origin() {
    let (mut live, mut b) = setup(BridgeOptions::default());
    let a = signer(1);
    let body = answer(
        URL,
        Some(&a.public()),
        &[delta(vec![
            unsigned("browser-0badf00d-2", Version::new(3, 1), "Up", 4), // taken
            unsigned(URL, Version::new(7, 2), "Ran", 5),                 // URL is bound to a: refused
            unsigned(&b.name_of_virtual(2), Version::new(0, 50), "Evil", 6), // the page's nodes always sign
        ])],
    );
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let mut exchanges = 0;
    drive(&mut live, &mut b, &mut t, 30, |_, r| {
        if r.url.ends_with("/state") {
            state_with_key(URL, "Alien", &a.public())
        } else if r.url.ends_with("/gossip/") {
            exchanges += 1;
            body.clone()
        } else {
            "[]".into()
        }
    });
    assert!(exchanges > 0);
    assert_eq!((b.stats().unsigned, b.stats().bound_unsigned), (0, 2 * exchanges), "{:?}", b.stats());
    let other = *b.names.get("browser-0badf00d-2").expect("a slot");
    assert!(b.is_unverified(other), "an unsigned origin is shown as unverified");
    let native = b.natives()[0].slot.unwrap();
    assert!(!b.is_unverified(native), "a native whose updates are sealed is verified");
    live.advance(live.now() + 5_000, u64::MAX);
    assert!(holders(&live, other).len() >= 9, "{:?} {:?} {:?}", holders(&live, other), b.stats(), b.natives());
    assert!((0..live.len()).all(|i| live.node(i).unwrap().movie.as_deref() != Some("Evil")));
}

#[test]
fn virtual_nodes_updates_leave_sealed_over_their_wire_form_each_signed_once() {
    let (mut live, mut b) = setup(BridgeOptions::default());
    let a = signer(1);
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let mut bodies = Vec::new();
    drive(&mut live, &mut b, &mut t, 60, |b, r| {
        if r.url.ends_with("/state") {
            return state_with_key(URL, "Alien", &a.public());
        }
        if !r.url.ends_with("/gossip/") {
            return "[]".into();
        }
        bodies.push(r.body.clone().unwrap());
        if !r.body.as_ref().is_some_and(|b| b.contains("\"digest\"")) {
            return answer(URL, Some(&a.public()), &[]); // a follow-up delta
        }
        // ask for every page node's favorite, as a native that lacks them would
        let want: crate::core::Digest<Id> =
            (0..10).map(|i| (Id::from(b.name_of_virtual(i)), Version::new(0, 0))).collect();
        answer(URL, Some(&a.public()), &[Message::Delta { updates: vec![], request: want }])
    });
    let mut checked = HashSet::new();
    let mut buf = Vec::new();
    for body in &bodies {
        let env = wire::decode(body.as_bytes(), &Limits::default()).unwrap();
        let g: u32 = env.from.strip_prefix(b.prefix.as_str()).unwrap().parse().unwrap();
        assert!(b.gateways().contains(&g));
        assert_eq!(env.key, Some(b.virtual_key(g)), "a gateway's request carries its own key");
        for m in env.messages {
            let (Message::Delta { updates, .. } | Message::Push(updates)) = m else { continue };
            for u in updates {
                let i: u32 = u.origin.strip_prefix(b.prefix.as_str()).unwrap().parse().unwrap();
                let seal = u.seal.as_ref().expect("sealed");
                assert_eq!(seal.key, b.virtual_key(i), "by node {i}'s own key");
                assert!(auth::verify(seal, u.uuid, &u.origin, u.version, u.payload.as_str(), &mut buf));
                // over the wire UUID, not the run's
                let run_uuid = Uuid::from_u128(u.uuid.as_u128() ^ b.key);
                assert!(!auth::verify(seal, run_uuid, &u.origin, u.version, u.payload.as_str(), &mut buf));
                checked.insert((i, u.version));
            }
        }
    }
    assert!(checked.len() >= 10, "every node's update went out: {checked:?}");
    let st = b.stats();
    assert_eq!(st.sealed, checked.len() as u64, "each update sealed once, however often sent: {st:?}");
    assert!(st.updates_out > 2 * st.sealed, "{st:?}");
    assert!(b.signers.len() <= 10 && b.seals.len() == checked.len(), "made lazily, kept bounded");
    // keys: one per node, from the page's secret
    assert_ne!(b.virtual_key(1), b.virtual_key(2));
    let mut twin = Bridge::new(BridgeOptions::default(), 10, [1, 2, 3], [7; 32]).unwrap();
    let mut stranger = Bridge::new(BridgeOptions::default(), 10, [1, 2, 3], [8; 32]).unwrap();
    assert_eq!(twin.virtual_key(4), b.virtual_key(4));
    assert_ne!(stranger.virtual_key(4), b.virtual_key(4));
}

/// A native's update and another page's virtual node's update enter at
/// one gateway, spread through the simulated network, and leave through
/// every gateway with their original seals.
fn remote_seals_survive(model: &str) {
    let mut p = SimParams::default();
    for (k, v) in [("nodes", "10"), ("scenario", "movies"), ("model", model), ("seed", "2")] {
        p.set(k, v).unwrap();
    }
    let mut live = Live::new(&p.to_config().unwrap()).unwrap();
    let mut b = Bridge::new(BridgeOptions::default(), 10, [1, 2, 3], [7; 32]).unwrap();
    let (a, c) = (signer(1), signer(3));
    let stranger = "browser-0badf00d-5";
    let originals =
        [sealed(&a, URL, Version::new(7, 2), "Alien", 0xabc), sealed(&c, stranger, Version::new(0, 4), "Heat", 0xdef)];
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let mut delivered = false;
    drive(&mut live, &mut b, &mut t, 40, |_, r| {
        if r.url.ends_with("/state") {
            state_with_key(URL, "Alien", &a.public())
        } else if r.url.ends_with("/gossip/") && !delivered {
            delivered = true;
            answer(URL, Some(&a.public()), &[delta(originals.to_vec())])
        } else if r.url.ends_with("/gossip/") {
            answer(URL, Some(&a.public()), &[])
        } else {
            "[]".into()
        }
    });
    assert!(delivered);
    live.advance(live.now() + 10_000, u64::MAX);
    let slots: Vec<u32> = originals.iter().map(|u| *b.names.get(&u.origin).unwrap()).collect();
    for (u, &s) in originals.iter().zip(&slots) {
        let h = holders(&live, s);
        assert_eq!(h.len(), 10, "{model}: every virtual node learned {}: {h:?}", u.origin);
        for i in h {
            assert_eq!(live.entry(i, s).unwrap().seal, u.seal, "{model}: node {i} keeps the seal of {}", u.origin);
        }
    }
    // every gateway passes them on, sealed as they came
    let want: crate::core::Digest<Id> = originals.iter().map(|u| (u.origin.clone(), Version::new(0, 0))).collect();
    let mut out = Vec::new();
    drive(&mut live, &mut b, &mut t, 80, |_, r| {
        if let Some(body) = r.body.as_ref() {
            out.push(body.clone());
        }
        let exchange = r.body.as_ref().is_some_and(|b| b.contains("\"digest\""));
        if exchange {
            answer(URL, Some(&a.public()), &[Message::Delta { updates: vec![], request: want.clone() }])
        } else if r.url.ends_with("/gossip/") {
            answer(URL, Some(&a.public()), &[])
        } else if r.url.ends_with("/state") {
            state_with_key(URL, "Alien", &a.public())
        } else {
            "[]".into()
        }
    });
    let mut seen = HashSet::new();
    for body in out {
        let env = wire::decode(body.as_bytes(), &Limits::default()).unwrap();
        for m in env.messages {
            let (Message::Delta { updates, .. } | Message::Push(updates)) = m else { continue };
            for u in updates.into_iter().filter(|u| !u.origin.starts_with(b.prefix.as_str())) {
                let orig = originals.iter().find(|o| o.origin == u.origin).expect("one of the two");
                assert_eq!(
                    (u.uuid, u.version, &u.payload, &u.seal),
                    (orig.uuid, orig.version, &orig.payload, &orig.seal)
                );
                seen.insert((u.origin.clone(), env.from.clone()));
            }
        }
    }
    assert_eq!(seen.len(), 2 * b.gateways().len(), "{model}: {seen:?}");
    assert_eq!(b.stats().withheld, 0);
}

#[test]
fn seals_of_remote_origins_survive_the_round_trip_through_the_events_model() {
    remote_seals_survive("events");
}

#[test]
fn seals_of_remote_origins_survive_the_round_trip_through_the_rounds_model() {
    remote_seals_survive("rounds");
}

#[test]
fn a_native_that_answers_with_a_new_key_is_bound_to_it_and_its_old_updates_stay_in_the_page() {
    let (mut live, mut b) = setup(BridgeOptions::default());
    let (old, new) = (signer(1), signer(2));
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let mut key = old.public();
    let mut first = true;
    let before = sealed(&old, URL, Version::new(7, 1), "Alien", 1);
    drive(&mut live, &mut b, &mut t, 30, |_, r| {
        if r.url.ends_with("/state") {
            state_with_key(URL, "Alien", &key)
        } else if r.url.ends_with("/gossip/") && first {
            first = false;
            answer(URL, Some(&key), &[delta(vec![before.clone()])])
        } else if r.url.ends_with("/gossip/") {
            answer(URL, Some(&key), &[])
        } else {
            "[]".into()
        }
    });
    let slot = b.natives()[0].slot.unwrap();
    live.advance(live.now() + 5_000, u64::MAX);
    assert_eq!(holders(&live, slot).len(), 10);
    // the node restarts with a new key; an answer from its own URL says so
    key = new.public();
    let stale = sealed(&old, URL, Version::new(8, 1), "Forged", 9);
    let fresh = sealed(&new, URL, Version::new(8, 1), "Ran", 10);
    let mut sent = 0;
    let mut outgoing = Vec::new();
    drive(&mut live, &mut b, &mut t, 30, |_, r| {
        if let Some(body) = &r.body {
            outgoing.push(body.clone());
        }
        if r.url.ends_with("/state") {
            return state_with_key(URL, "Ran", &key);
        }
        if !r.url.ends_with("/gossip/") {
            return "[]".into();
        }
        sent += 1;
        match sent {
            1 => answer(URL, Some(&key), &[delta(vec![stale.clone()])]),
            // it asks for its own entry back: the page holds it under the old key
            2 => answer(
                URL,
                Some(&key),
                &[Message::Delta { updates: vec![], request: vec![(Id::from(URL), Version::new(0, 0))].into() }],
            ),
            3 => answer(URL, Some(&key), &[delta(vec![fresh.clone()])]),
            _ => answer(URL, Some(&key), &[]),
        }
    });
    assert_eq!(b.bound_key(slot), Some(new.public()));
    let st = b.stats();
    assert_eq!(st.key_mismatch, 1, "{st:?}");
    assert!(st.withheld >= 1, "the entry sealed by the old key is not passed on: {st:?}");
    for body in &outgoing {
        let env = wire::decode(body.as_bytes(), &Limits::default()).unwrap();
        for m in env.messages {
            let (Message::Delta { updates, .. } | Message::Push(updates)) = m else { continue };
            assert!(updates.iter().all(|u| &*u.origin != URL || u.seal == fresh.seal), "{updates:?}");
        }
    }
    live.advance(live.now() + 5_000, u64::MAX);
    assert!(holders(&live, slot).iter().all(|&i| live.entry(i, slot).unwrap().payload.as_str() == "Ran"));
    let notices = b.drain_notices();
    assert!(notices.iter().any(|n| n.text.contains("new key")), "{notices:?}");
}

#[test]
fn a_flood_of_new_seals_is_verified_a_frame_s_budget_at_a_time() {
    let (mut live, mut b) = setup(BridgeOptions::default());
    let a = signer(1);
    let many: Vec<Update<Id>> = (0..600u32)
        .map(|i| {
            let by = Signer::from_seed(node_seed(&[3; 32], i));
            sealed(&by, &format!("browser-0badf00d-{i}"), Version::new(0, 1), "Up", 1_000 + i as u128)
        })
        .collect();
    let body = answer(URL, Some(&a.public()), &[delta(many)]);
    b.connect(URL, &mut live, 0.0).unwrap();
    let mut t = 0.0;
    let mut most = 0;
    for _ in 0..30 {
        let before = b.stats().verified;
        drive(&mut live, &mut b, &mut t, 1, |_, r| {
            if r.url.ends_with("/state") {
                state_with_key(URL, "Alien", &a.public())
            } else if r.url.ends_with("/gossip/") {
                body.clone()
            } else {
                "[]".into()
            }
        });
        most = most.max(b.stats().verified - before);
    }
    let st = b.stats();
    assert!(most <= 2 * VERIFY_PER_PUMP as u64, "{most} in one frame (two pumps)");
    assert!(st.deferred > 0, "{st:?}");
    assert_eq!(st.verified, 600, "each seal once: {st:?}");
    assert_eq!(st.refused_updates(), 0);
    assert!((0..600).all(|i| b.names.contains_key(format!("browser-0badf00d-{i}").as_str())));
}

/// Sign and verify timings, natively (`--nocapture` shows them); the
/// browser's are measured in `tests/web.rs`.
#[test]
fn seal_timings() {
    let s = signer(1);
    let origin = Id::from("browser-0badf00d-17");
    let v = Version::new(0, 3);
    let n = 200;
    let t0 = std::time::Instant::now();
    let mut seal = s.seal(Uuid::from_u128(1), &origin, v, "Alien");
    for k in 0..n {
        seal = s.seal(Uuid::from_u128(k), &origin, v, "Alien");
    }
    let sign = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    let mut buf = Vec::new();
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        assert!(auth::verify(&seal, Uuid::from_u128(n - 1), &origin, v, "Alien", &mut buf));
    }
    let verify = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    let t0 = std::time::Instant::now();
    for k in 0..n {
        std::hint::black_box(Signer::from_seed(node_seed(&[7; 32], k as u32)));
    }
    let keygen = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    eprintln!("native: sign {sign:.1} µs, verify {verify:.1} µs, key pair {keygen:.1} µs");
}

#[test]
fn bad_options_and_urls_are_refused_naming_the_value_and_options_wait_for_a_disconnect() {
    let bad = BridgeOptions { gateways: 0, ..BridgeOptions::default() };
    assert_eq!(bad.validate(), Err(BridgeError::Option { name: "gateways", expected: "1 to 1000", got: "0".into() }));
    let slow = BridgeOptions { backoff_min_ms: 500, backoff_max_ms: 100, ..BridgeOptions::default() };
    assert_eq!(
        slow.validate().unwrap_err().to_string(),
        "longest backoff (ms) must be at least the first backoff, got 100"
    );
    let poll = BridgeOptions { state_poll_ms: 99, ..BridgeOptions::default() };
    assert!(matches!(poll.validate(), Err(BridgeError::Option { name: "state poll period (ms)", .. })));
    assert!(Bridge::new(bad, 10, [1, 2, 3], [7; 32]).is_err(), "a bridge is never made with bad options");

    let (mut live, mut b) = setup(BridgeOptions::default());
    assert_eq!(
        b.connect("http://127.0.0.1:7000/gossip/", &mut live, 0.0),
        Err(BridgeError::Url(UrlError::HasPath("http://127.0.0.1:7000/gossip/".into())))
    );
    assert!(!b.is_connected(), "a refused URL does not connect");
    b.connect(URL, &mut live, 0.0).unwrap();
    assert_eq!(b.set_options(BridgeOptions::default(), 10), Err(BridgeError::Connected));
    b.disconnect(&mut live);
    assert_eq!(b.set_options(BridgeOptions { gateways: 3, ..BridgeOptions::default() }, 10), Ok(()));
    assert_eq!(b.gateways().len(), 3);
}

#[test]
fn an_answer_claiming_one_of_the_pages_own_names_is_a_bad_answer_not_a_new_node() {
    let (mut live, mut b) = setup(BridgeOptions::default());
    b.connect(URL, &mut live, 0.0).unwrap();
    let own = b.name_of_virtual(3);
    b.pump(&mut live, 0.0);
    let reqs = requests(&mut b);
    let state = reqs.iter().find(|r| r.url.ends_with("/state")).expect("the first poll asks /state");
    b.handle_response(state.id, 10.0, Ok((200, state_body(&own, "Heat"))));
    b.pump(&mut live, 20.0);
    assert_eq!(b.stats().bad_answers, 1, "{:?}", b.stats());
    let said: Vec<String> = b.drain_notices().into_iter().map(|n| n.text).collect();
    assert!(said.iter().any(|t| t.contains("claims to be one of this page's nodes")), "{said:?}");
    assert!(b.natives().iter().all(|n| n.slot.is_none()), "no slot for a name of the page's own");
}

#[test]
fn a_fetch_failure_is_typed_and_reaches_the_page_in_the_transports_words() {
    for (err, text) in [
        (FetchError::Timeout(3000), "no answer within 3000 ms"),
        (
            FetchError::TooLarge { declared: 9_000_000, limit: 1_048_576 },
            "answer of 9000000 bytes, over the 1048576-byte limit",
        ),
        (
            FetchError::from("network error: no connection, or refused by CORS"),
            "network error: no connection, or refused by CORS",
        ),
    ] {
        assert_eq!(err.to_string(), text);
        let (mut live, mut b) = setup(BridgeOptions::default());
        b.connect(URL, &mut live, 0.0).unwrap();
        b.pump(&mut live, 0.0);
        let probe = requests(&mut b);
        b.handle_response(probe[0].id, 5.0, Err(err));
        b.pump(&mut live, 10.0);
        assert_eq!((b.stats().failed, b.natives()[0].status), (1, Reach::Unreachable));
        assert_eq!(b.natives()[0].last_error.as_deref(), Some(text));
        let notices = b.drain_notices();
        assert!(notices.iter().any(|n| n.level == "warn" && n.text.contains(&format!("({text})"))), "{notices:?}");
    }
}
