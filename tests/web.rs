//! The wasm bindings in a real browser (`wasm-pack test --headless --chrome
//! -- --test web`): the handle the page drives, its errors, and replays.
#![cfg(target_arch = "wasm32")]

use gossip::wasm::{Flight, Kind, Lab, Status};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn params(pairs: &[(&str, &str)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).expect("settable");
    }
    o.into()
}

fn run_to_end(lab: &mut Lab) {
    for _ in 0..100_000 {
        if lab.stopped().is_some() {
            return;
        }
        lab.advance(lab.now() + 500.0, 5_000.0);
    }
    panic!("the run did not end");
}

#[wasm_bindgen_test]
fn a_seeded_movies_run_converges_in_the_browser() {
    let mut lab =
        Lab::new(params(&[("nodes", "40"), ("scenario", "movies"), ("model", "events"), ("duration_s", "10")]))
            .expect("valid");
    assert_eq!(lab.len(), 40);
    assert_eq!(lab.status().len(), 40);
    run_to_end(&mut lab);
    assert_eq!(lab.stopped().as_deref(), Some("converged"));
    assert!(lab.converged());
    assert!(lab.status().iter().all(|&s| s == Status::Current as u32), "every node up to date");
    assert!(lab.kinds().iter().all(|&k| k == Kind::Virtual as u8), "no real nodes");
    let report: serde_json::Value = serde_json::from_str(&lab.report_json().expect("json")).expect("parses");
    assert_eq!(report["informed"], 40);
    assert!(report["updates"].as_u64().expect("number") >= 40);
}

#[wasm_bindgen_test]
fn bad_parameters_are_errors_with_a_message() {
    for (k, v, expect) in [
        ("nodes", "0", "nodes must be between 2"),
        ("nodes", "1000000000", "nodes must be between 2"),
        ("loss", "-0.5", "loss must be between 0 and 1"),
        ("protocol", "telepathy", "protocol: expected one of"),
        ("faults", "soon:crash:1", "bad time"),
        ("colour", "red", "unknown parameter"),
    ] {
        let e = Lab::new(params(&[(k, v)])).err().expect("refused");
        let msg = e.as_string().expect("a string");
        assert!(msg.contains(expect), "{k}={v}: {msg}");
        assert_eq!(Lab::check(params(&[(k, v)])).as_deref(), Some(msg.as_str()));
    }
    assert!(Lab::new(JsValue::from_str("nodes=5")).is_err(), "not an object");
    assert_eq!(Lab::check(params(&[("nodes", "10")])), None);
}

#[wasm_bindgen_test]
fn a_parameter_the_protocol_does_not_read_is_refused_not_ignored() {
    let given = params(&[("protocol", "push-pull"), ("counter", "3")]);
    let msg = Lab::check(given).expect("refused");
    assert!(msg.starts_with("counter applies to rumor only, not to push-pull"), "{msg}");
    assert_eq!(Lab::check(params(&[("protocol", "rumor"), ("counter", "3")])), None);
}

#[wasm_bindgen_test]
fn faults_clicked_during_a_run_replay_from_its_scenario() {
    let p =
        params(&[("nodes", "30"), ("scenario", "movies"), ("model", "events"), ("duration_s", "12"), ("seed", "9")]);
    let mut lab = Lab::new(p).expect("valid");
    lab.advance(2_000.0, f64::INFINITY);
    lab.fault("crash:4").expect("valid");
    lab.advance(3_500.0, f64::INFINITY);
    lab.fault("partition:2").expect("valid");
    lab.advance(6_000.0, f64::INFINITY);
    lab.fault("heal").expect("valid");
    lab.fault("restart-fresh:4").expect("valid");
    assert!(lab.fault("crash:99").is_err());
    assert!(lab.fault("explode").is_err());
    run_to_end(&mut lab);
    let mut replay = Lab::new(lab.scenario().expect("pairs")).expect("the scenario is valid");
    run_to_end(&mut replay);
    assert_eq!(replay.report_json().expect("json"), lab.report_json().expect("json"));
}

#[wasm_bindgen_test]
fn flights_are_flat_records_of_five_numbers() {
    let mut lab = Lab::new(params(&[("nodes", "20"), ("model", "events")])).expect("valid");
    lab.advance(3_000.0, f64::INFINITY);
    let f = lab.flights();
    assert!(!f.is_empty());
    assert_eq!(Flight::Len as usize, 5);
    assert_eq!(f.len() % 5, 0);
    let at = |m: &[f64], p: Flight| m[p as usize];
    for m in f.chunks(5) {
        assert!(at(m, Flight::From) < 20.0 && at(m, Flight::To) < 20.0);
        assert!(at(m, Flight::Arrives) > at(m, Flight::Sent), "arrives after it is sent (no loss here)");
        assert!(at(m, Flight::Updates) == 0.0 || at(m, Flight::Updates) == 1.0);
    }
    assert!(lab.flights().is_empty(), "drained");
}

#[wasm_bindgen_test]
fn a_crashed_node_is_down_in_the_status_codes() {
    let mut lab = Lab::new(params(&[("nodes", "10"), ("model", "events")])).expect("valid");
    lab.advance(1_000.0, f64::INFINITY);
    lab.fault("crash:3").expect("valid");
    lab.advance(1_500.0, f64::INFINITY);
    let s = lab.status();
    assert_eq!(s[3], Status::Down as u32);
    assert!(s.iter().enumerate().all(|(i, &c)| i == 3 || c >= Status::Current as u32), "{s:?}");
}

#[wasm_bindgen_test]
fn connect_options_are_checked_before_anything_is_sent() {
    let mut lab = Lab::new(params(&[("nodes", "10")])).expect("valid");
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &JsValue::from_str("allow_unsigned"), &JsValue::from_str("maybe")).expect("settable");
    let e = lab.connect("http://127.0.0.1:9", opts.into()).expect_err("refused");
    assert!(e.as_string().expect("a message").contains("allow_unsigned must be true or false"));
    assert!(!lab.connected());
}

/// Ed25519 in the browser: how long one seal takes to make and to check
/// (printed; the native numbers come from `cargo test --lib seal_timings`).
#[wasm_bindgen_test]
fn sealing_and_verifying_in_the_browser() {
    use gossip::core::auth::{verify, Signer};
    use gossip::core::{Uuid, Version};
    use std::sync::Arc;
    let u = |n: usize| Uuid::from_u128(n as u128);
    let now = || web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now());
    let origin: Arc<str> = Arc::from("browser-0badf00d-17");
    let v = Version::new(0, 3);
    let n = 300;
    // warm up (the engine compiles hot wasm functions again, optimised)
    for k in 0..50u8 {
        let s = Signer::from_seed([k; 32]);
        let seal = s.seal(u(0), &origin, v, "Alien");
        assert!(verify(&seal, u(0), &origin, v, "Alien", &mut Vec::new()));
    }
    let t0 = now();
    let mut keys = Vec::with_capacity(n);
    for k in 0..n {
        keys.push(Signer::from_seed([k as u8; 32]));
    }
    let keygen = (now() - t0) * 1000.0 / n as f64;
    let s = &keys[1];
    let t0 = now();
    let mut seal = s.seal(u(0), &origin, v, "Alien");
    for k in 0..n {
        seal = s.seal(u(k), &origin, v, "Alien");
    }
    let sign = (now() - t0) * 1000.0 / n as f64;
    let mut buf = Vec::new();
    let t0 = now();
    for _ in 0..n {
        assert!(verify(&seal, u(n - 1), &origin, v, "Alien", &mut buf));
    }
    let verify_us = (now() - t0) * 1000.0 / n as f64;
    assert!(!verify(&seal, u(0), &origin, v, "Alien", &mut buf));
    console_log!("wasm: sign {sign:.1} µs, verify {verify_us:.1} µs, key pair {keygen:.1} µs");
}

/// A body of `tests/hostile/`, by name.
macro_rules! hostile {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("hostile/", $name)))),*]
    };
}

#[wasm_bindgen_test]
fn the_browsers_json_parse_reads_answers_as_the_nodes_decoder_does() {
    use gossip::wire::doc::{Doc, MAX_DEPTH};
    use gossip::wire::{self, Limits, WireError};
    let lim = Limits::default();
    // what the node accepts, the page reads the same; what it refuses, the page refuses
    for (name, body) in hostile!(
        "01-truncated-object.json",
        "05-trailing-garbage.json",
        "08-single-quotes.json",
        "10-nan-version.json",
        "11-infinity-epoch.json",
        "12-bom-prefix.json",
        "24-deep-array-10k.json",
        "26-deep-in-digest.json",
        "28-top-array.json",
        "32-from-number.json",
        "41-version-float.json",
        "43-version-2pow53.json",
        "44-version-huge.json",
        "46-epoch-over-u32.json",
        "48-ttl-negative.json",
        "49-ttl-float.json",
        "51-digest-pair-three.json",
        "53-digest-as-array.json",
        "64-updates-null-entry.json",
        "66-url-javascript.json",
        "77-unsigned-update.json",
        "81-sig-too-long.json",
        "86-version-zero.json",
    ) {
        let node = wire::decode(body.as_bytes(), &lim);
        let page = wire::decode_text(body, &lim);
        assert_eq!(node.is_ok(), page.is_ok(), "{name}: node {node:?}, page {page:?}");
        if let (Ok(n), Ok(p)) = (node, page) {
            assert_eq!(n, p, "{name}");
        }
    }
    // where JSON.parse decides: the last of a field given twice, `1e3` a whole number
    let dup = wire::decode_text(r#"{"from":"a","from":"b"}"#, &lim).unwrap();
    assert_eq!(&*dup.from, "b");
    let d = Doc::parse(r#"{"v":1e3,"s":"\ud800","k":{"b":1,"a":2}}"#).unwrap();
    assert_eq!(d.get("v"), Some(&Doc::Num(1000.0)));
    assert_eq!(d.get("s"), Some(&Doc::Str("\u{fffd}".into())), "a lone surrogate becomes U+FFFD");
    assert_eq!(d.get("k"), Some(&Doc::Obj(vec![("b".into(), Doc::Num(1.0)), ("a".into(), Doc::Num(2.0))])));
    // deep values are kept shallow, and what is not JSON is malformed
    let deep = format!(r#"{{"from":"a","x":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let d = Doc::parse(&deep).unwrap();
    let (mut v, mut depth) = (d.get("x").unwrap(), 1);
    while let Doc::Arr(a) = v {
        v = &a[0];
        depth += 1;
    }
    assert_eq!((v, depth), (&Doc::Deep, MAX_DEPTH));
    assert!(wire::decode_text(&deep, &lim).unwrap().messages.is_empty());
    for bad in ["", "{", "{} {}", "NaN", "[1,]"] {
        assert!(matches!(Doc::parse(bad), Err(WireError::Malformed(_))), "{bad:?}");
    }
}
