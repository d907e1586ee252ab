//! Peer-list poisoning against a native node in process: a fake bootstrap
//! peer on loopback answers `GET /peers/` with thousands of entries, junk
//! of every kind, the node's own URL and browser identities, and answers
//! exchanges with updates from junk origins. The node's peer table stays
//! within its cap and the per-answer bound, its bootstrap peer stays
//! pinned, and it never dials anything but base URLs it was given. Every
//! dialable URL in the lists is a closed port on a 127.0.0.0/8 address.
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::Duration;

use gossip::core::Config;
use gossip::server::NodeOptions;
use support::fake::Fake;
use support::{metric, state, wait_until, InProc};

/// A loopback URL nothing listens on (port 9 of a 127.0.0.0/8 address): dialing it is refused at once.
fn closed(i: usize) -> String {
    format!("http://127.{}.{}.{}:9", 1 + i / 65_536, (i / 256) % 256, i % 256)
}

/// Entries no node may take as a peer (none of them dialable, all on loopback if misread).
fn junk(own: &str) -> Vec<serde_json::Value> {
    use serde_json::json;
    let long = format!("http://127.0.0.1:9/{}", "a".repeat(300));
    let long_host = format!("http://{}.x:9", "a".repeat(260));
    vec![
        json!(1),
        json!(null),
        json!(true),
        json!({"url": "http://127.0.0.1:9"}),
        json!(["http://127.0.0.1:9"]),
        json!([[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]),
        json!(""),
        json!("javascript:alert(1)"),
        json!("data:text/html,<script>alert(1)</script>"),
        json!("file:///etc/passwd"),
        json!("ftp://127.0.0.1:9"),
        json!("HTTP://127.0.0.1:9"),
        json!("http:/127.0.0.1:9"),
        json!("http://"),
        json!("http://evil@127.0.0.1:9"),
        json!("http://user:pass@127.0.0.1:9"),
        json!("http://127.0.0.1:9/path"),
        json!("http://127.0.0.1:9/gossip/"),
        json!("http://127.0.0.1:9//"),
        json!("http://127.0.0.1:9?x=1"),
        json!("http://127.0.0.1:9#frag"),
        json!(" http://127.0.0.1:9"),
        json!("http://127.0.0.1:9 "),
        json!("http://127.0.0.1:9\n"),
        json!("http://127.0.0.1 :9"),
        json!("http://127.0.0.1:0"),
        json!("http://127.0.0.1:65536"),
        json!("http://127.0.0.1:99999999999999999999"),
        json!("http://127.0.0.1:-1"),
        json!("http://127.0.0.1:+9"),
        json!("http://127.0.0.1:9:9"),
        json!("http://[::1"),
        json!("http://127.0.0.1\u{0}:9"),
        json!(long),
        json!(long_host),
        json!("browser-xyz-3"),
        json!("browser-abc-0"),
        json!(own),
        json!(format!("{own}/")),
    ]
}

fn quiet(bootstrap: &str) -> NodeOptions {
    NodeOptions {
        // the fake peer answers with course-style (unsigned) updates from junk origins
        core: Config { resample_ms: None, interval_ms: 200, auth: gossip::core::Policy::Welcome, ..Config::default() },
        movie: Some("Alien".into()),
        bootstrap: vec![bootstrap.to_string()],
        ..NodeOptions::default()
    }
}

/// Every `peer` label of `gossip_requests_out_total`.
fn dialed(metrics: &str) -> Vec<String> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("gossip_requests_out_total{peer=\""))
        .filter_map(|l| l.rsplit_once("\"} ").map(|(p, _)| p.to_string()))
        .collect()
}

#[test]
fn a_poisoned_peer_list_never_grows_the_table_past_its_bounds_nor_gets_junk_dialed() {
    // the nodes' ports are bound first, so the list can hold their own URLs
    let (wide_l, narrow_l) = (TcpListener::bind("127.0.0.1:0").unwrap(), TcpListener::bind("127.0.0.1:0").unwrap());
    let own = [wide_l.local_addr().unwrap().port(), narrow_l.local_addr().unwrap().port()]
        .map(|p| format!("http://127.0.0.1:{p}"));
    let valid: Vec<String> = (0..1_500).map(closed).collect();
    // junk and the nodes' own URLs first, then valid entries interleaved with more junk
    let mut list: Vec<serde_json::Value> = Vec::new();
    list.extend(junk(&own[0]));
    list.extend(junk(&own[1]));
    for (i, v) in valid.iter().enumerate() {
        list.push(v.clone().into());
        if i % 150 == 0 {
            list.extend(junk(&own[i / 150 % 2]));
        }
    }
    let entries = list.len();
    let peers = serde_json::Value::Array(list).to_string();
    assert!(peers.len() < 64 * 1024, "within the answer bound: {}", peers.len());
    eprintln!("a poisoned list of {entries} entries, {} bytes", peers.len());
    // exchanges are answered with updates from junk origins and one valid one
    let origins =
        ["browser-xyz-3", "http://evil@127.0.0.1:9", "http://127.0.0.1:9/x", "javascript:x", "http://127.200.0.1:9"];
    let delta: Vec<serde_json::Value> = origins
        .iter()
        .enumerate()
        .map(|(i, o)| {
            serde_json::json!({"uuid": format!("0f8fad5b-d9cb-469f-a165-7086772895{i:02}"), "origin": o,
                               "epoch": 1, "version": 1, "ttl": 3, "payload": "Junk"})
        })
        .collect();
    let fake = Fake::start(peers, serde_json::json!({"from": "fake", "delta": delta}).to_string());
    let boot = fake.url();

    let wide = InProc::start_on(wide_l, quiet(&boot));
    let narrow = InProc::start_on(narrow_l, NodeOptions { peer_cap: 16, ..quiet(&boot) });
    wait_until("both nodes asked for the list", Duration::from_secs(10), || fake.peers_asked() >= 2);
    // a few gossip rounds: every learned peer gets dialed
    std::thread::sleep(Duration::from_millis(1_500));

    let mut allowed: BTreeSet<String> = valid.iter().cloned().collect();
    allowed.insert(boot.clone());
    allowed.insert("http://127.200.0.1:9".into()); // the valid origin
    allowed.extend(own.iter().cloned()); // each may learn the other
                                         // bootstrap + 64 from the answer + the valid origin + the other node calling
    for (node, cap) in [(&wide, 1 + 64 + 2), (&narrow, 16)] {
        let s = state(node.port).expect("the node answers");
        let table: Vec<&String> = s.peers.iter().chain(&s.suspect).collect();
        assert!(table.len() <= cap, "{} peers (cap {cap}): {table:?}", table.len());
        assert!(table.contains(&&boot), "the bootstrap peer stays pinned: {table:?}");
        for p in &table {
            assert!(allowed.contains(*p) && **p != node.url(), "took {p:?} as a peer");
        }
        let m = node.metrics();
        let out = dialed(&m);
        assert!(out.len() > 1, "it dialed the peers it took: {out:?}");
        for p in &out {
            assert!(allowed.contains(p), "dialed {p:?}:\n{m}");
        }
        assert_eq!(metric(&m, "gossip_dials_refused_total"), Some(0), "{m}");
        let alive = metric(&m, "gossip_peers{state=\"alive\"}").unwrap();
        let suspect = metric(&m, "gossip_peers{state=\"suspect\"}").unwrap();
        assert!((alive + suspect) as usize <= cap, "{m}");
        // the junk origins are in the view (updates are data), not in the table
        assert!(s.view.contains_key("browser-xyz-3"), "{:?}", s.view.keys());
    }
    // `/state` lists only peers that answered or called (the closed ports never do),
    // so the table's size is read from the gauges, which count every peer held
    let m = wide.metrics();
    let held =
        metric(&m, "gossip_peers{state=\"alive\"}").unwrap() + metric(&m, "gossip_peers{state=\"suspect\"}").unwrap();
    assert!(held > 16, "the wide node took more than the narrow cap: {held}\n{m}");
}

#[test]
fn an_oversized_peer_list_is_refused_whole_and_the_bootstrap_stays_pinned() {
    let huge: Vec<String> = (0..20_000).map(closed).collect();
    let peers = serde_json::to_string(&huge).unwrap();
    assert!(peers.len() > 64 * 1024);
    let fake = Fake::start(peers, r#"{"from":"fake"}"#.into());
    let boot = fake.url();
    let node = InProc::start(quiet(&boot));
    wait_until("the node asked for the list twice", Duration::from_secs(10), || fake.peers_asked() >= 2);
    let s = state(node.port).unwrap();
    assert_eq!(s.peers.iter().chain(&s.suspect).collect::<Vec<_>>(), vec![&boot], "nothing learned");
    let m = node.metrics();
    assert_eq!(dialed(&m), vec![boot.clone()], "{m}");
}
