//! Replays every request body in `tests/hostile/` against a live node in
//! process: each must be refused with a 4xx answer and a JSON error body,
//! whether sent as `application/json` with a length, with a wrong content
//! type, or chunked; afterwards the node still answers and has counted every
//! refusal. Data-driven: adding a file to the directory adds a case.
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::path::PathBuf;

use gossip::core::{Config, Policy};
use gossip::server::NodeOptions;
use support::{get, send_body, state, InProc, Resp};

/// Every `.json` and `.bin` file of `tests/hostile/`, sorted by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "bin"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// The sum of `gossip_rejected_requests_total` over every reason.
fn rejections(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("gossip_rejected_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}

/// The answer is a 4xx with `{"error": "...", "reason": "..."}`; returns the reason.
fn refused(what: &str, r: &Resp) -> String {
    assert!((400..500).contains(&r.status), "{what}: {} {}", r.status, r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
    let j: serde_json::Value =
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", r.text()));
    assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}: {j}");
    j["reason"].as_str().unwrap_or_else(|| panic!("{what}: no reason in {j}")).to_string()
}

#[test]
fn every_hostile_body_is_refused_with_a_json_4xx_and_the_node_keeps_serving() {
    let files = corpus();
    assert!(files.len() >= 50, "the corpus has {} files", files.len());
    // --require-signed: the corpus holds an unsigned update (77), which the
    // default policy would welcome from a course node
    let node = InProc::start(NodeOptions {
        core: Config { resample_ms: None, auth: Policy::Required, ..Config::default() },
        movie: Some("Alien".into()),
        ..NodeOptions::default()
    });
    let port = node.port;
    let before = rejections(&node.metrics());
    let head = |ct: &str, len: Option<usize>| {
        let len = len.map_or("Transfer-Encoding: chunked\r\n".to_string(), |n| format!("Content-Length: {n}\r\n"));
        format!("POST /gossip/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ct}\r\n{len}\r\n")
    };
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for (name, body) in &files {
        let r = send_body(port, &head("application/json", Some(body.len())), body, None).unwrap();
        let reason = refused(name, &r);
        let chunked = send_body(port, &head("application/json", None), body, Some(1000)).unwrap();
        assert_eq!(refused(&format!("{name} (chunked)"), &chunked), reason, "{name}: the same refusal chunked");
        let wrong = send_body(port, &head("text/plain", Some(body.len())), body, None).unwrap();
        assert_eq!(refused(&format!("{name} (text/plain)"), &wrong), "unsupported_media_type", "{name}");
        *reasons.entry(reason).or_default() += 1;
    }
    eprintln!("{} files refused: {reasons:?}", files.len());
    assert_eq!(get(port, "/state").unwrap().status, 200);
    assert!(state(port).is_some_and(|s| s.view.len() == 1), "nothing of the corpus was applied");
    let after = rejections(&node.metrics());
    assert_eq!(after - before, 3 * files.len() as u64, "every refusal counted");
}
