//! The native node as real processes on loopback: the course's
//! `gossip -p PORT -b PORT` form, convergence of five nodes, a killed node
//! forgotten and a restarted one winning with its new favorite, clean
//! shutdown on SIGTERM and Ctrl-C, `gossip cluster` (with the lab's site),
//! a browser's updates spreading with no node ever dialing the browser, and
//! hostile input against a running node. Every child is killed by a guard,
//! even on failure.
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gossip::core::{Message, Signer, Update, Uuid, Version};
use gossip::wire;

use support::{free_port_range, free_ports, get, post_json, raw, request, state, wait_until, Proc};

/// Whether every node's `/state` shows every node's current movie and version.
fn converged(ports: &[u16]) -> bool {
    let states: Vec<_> = ports.iter().map(|p| state(*p)).collect();
    let Some(states) = states.into_iter().collect::<Option<Vec<_>>>() else { return false };
    states.iter().all(|s| {
        states.iter().all(|o| {
            s.view
                .get(&o.id)
                .is_some_and(|e| Some(&e.movie) == o.movie.as_ref() && e.version == o.version && e.epoch == o.epoch)
        })
    })
}

const FAST: [&str; 6] = ["--interval-ms", "200", "--remove-after-ms", "1500", "--change-ms", "0"];

#[test]
fn course_nodes_converge_forget_a_killed_node_and_take_its_new_favorite_after_a_restart() {
    let ports = free_ports(5);
    let boot = ports[0];
    let mut nodes: Vec<Option<Proc>> = ports.iter().map(|&p| Some(Proc::node(p, boot, &FAST))).collect();

    let took = wait_until("5 nodes converge", Duration::from_secs(20), || converged(&ports));
    eprintln!("converged in {took:?}");
    for &p in &ports {
        let s = state(p).unwrap();
        assert_eq!(s.view.len(), 5, "{s:?}");
        assert_eq!(s.id, format!("http://127.0.0.1:{p}"), "the identity is the URL, which embeds the port");
    }
    // /peers/ lists the peers that answered or called: all four, once each has exchanged with each
    wait_until("every node lists the 4 others in /peers/", Duration::from_secs(10), || {
        ports.iter().all(|&p| get(p, "/peers/").is_ok_and(|r| r.json().as_array().is_some_and(|a| a.len() == 4)))
    });

    // kill one node: the others stop listing it within the configured time
    let victim = ports[3];
    let url = format!("http://127.0.0.1:{victim}");
    let before = state(victim).unwrap();
    nodes[3] = None;
    let others: Vec<u16> = ports.iter().copied().filter(|&p| p != victim).collect();
    let gone = wait_until("the killed node leaves every peer table", Duration::from_secs(10), || {
        others.iter().all(|&p| {
            let s = state(p).unwrap();
            !s.peers.contains(&url) && !s.suspect.contains(&url)
        })
    });
    eprintln!("removed in {gone:?} (remove-after 1.5 s)");
    for &p in &others {
        assert!(!get(p, "/peers/").unwrap().text().contains(&url));
    }

    // restart it on the same port with a new favorite: its counter starts at
    // 1 again, its new epoch makes it win everywhere
    let title = if before.movie.as_deref() == Some("Alien") { "Heat" } else { "Alien" };
    nodes[3] = Some(Proc::node(victim, boot, &[&FAST[..], &["--movie", title]].concat()));
    let after = state(victim).unwrap();
    assert_eq!((after.version, after.movie.as_deref()), (1, Some(title)));
    assert!(after.epoch > before.epoch, "{} > {}", after.epoch, before.epoch);
    let took = wait_until("the restarted node's favorite reaches everyone", Duration::from_secs(20), || {
        others.iter().all(|&p| {
            state(p).is_some_and(|s| s.view.get(&url).is_some_and(|e| e.movie == title && e.epoch == after.epoch))
        })
    });
    eprintln!("new favorite everywhere in {took:?}");
    wait_until("all five converge again", Duration::from_secs(20), || converged(&ports));

    // kill and restart at once, usually within the same second, so in the
    // same epoch: it hears of its previous self from its bootstrap and
    // announces its favorite above it
    nodes[3] = None;
    nodes[3] = Some(Proc::node(victim, boot, &[&FAST[..], &["--movie", "Up"]].concat()));
    wait_until("the quickly restarted node's favorite reaches everyone", Duration::from_secs(20), || {
        let Some(me) = state(victim) else { return false };
        me.movie.as_deref() == Some("Up")
            && others.iter().all(|&p| {
                state(p).is_some_and(|s| {
                    s.view.get(&url).is_some_and(|e| e.movie == "Up" && (e.epoch, e.version) == (me.epoch, me.version))
                })
            })
    });
    let me = state(victim).unwrap();
    eprintln!("quick restart: epoch {} (first restart {}), version {}", me.epoch, after.epoch, me.version);
}

/// The samples of `gossip_requests_out_total` in a `/metrics` text: `(peer, count)`.
fn requests_out(metrics: &str) -> Vec<(String, u64)> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("gossip_requests_out_total{peer=\""))
        .filter_map(|l| {
            let (peer, count) = l.rsplit_once("\"} ")?;
            Some((peer.to_string(), count.parse().ok()?))
        })
        .collect()
}

/// The value of an unlabelled sample `name` in a `/metrics` text.
fn sample(metrics: &str, name: &str) -> Option<u64> {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn updates_from_a_browser_spread_without_any_node_dialing_the_browser() {
    let ports = free_ports(2);
    let (a, b) = (ports[0], ports[1]);
    let _na = Proc::node(a, a, &FAST);
    let _nb = Proc::node(b, a, &FAST);
    let urls = [format!("http://127.0.0.1:{a}"), format!("http://127.0.0.1:{b}")];
    wait_until("the two nodes know each other", Duration::from_secs(10), || converged(&ports));

    // a page: no url; fresh updates of its own, sealed with its key, in the
    // first request of each exchange (with its digest), then the follow-up
    // delta if it is asked for one
    let browser = "browser-test-1";
    let key = Signer::from_seed([9; 32]);
    let origin: wire::Id = Arc::from(browser);
    for version in 1..=3u64 {
        let (uuid, v, payload) = (
            Uuid::from_u128(0x0f8fad5b_d9cb_469f_a165_708677289500 + version as u128),
            Version::new(0, version),
            format!("Film {version}"),
        );
        let seal = Some(key.seal(uuid, &origin, v, &payload));
        let update = Update::new(uuid, origin.clone(), v, 6, payload.into(), seal);
        let msgs = [
            Message::Push(vec![update]),
            Message::Digest { digest: vec![(origin.clone(), v)].into(), push_pull: true },
        ];
        let body = wire::encode(browser, None, Some(&key.public()), &msgs);
        let r = post_json(a, "/gossip/", &body).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let delta =
            format!(r#"{{"from":"{browser}","delta":[],"digest":{{"{browser}":[0,{version}]}},"pull_only":true}}"#);
        assert_eq!(post_json(a, "/gossip/", delta.as_bytes()).unwrap().status, 200);
    }
    wait_until("the browser's favorite reaches the other node", Duration::from_secs(10), || {
        state(b).is_some_and(|s| s.view.get(browser).is_some_and(|e| e.version == 3 && e.movie == "Film 3"))
    });
    // let a few more gossip rounds (200 ms) run with the browser in every view
    std::thread::sleep(Duration::from_millis(800));

    for (port, other) in [(a, &urls[1]), (b, &urls[0])] {
        let metrics = get(port, "/metrics").unwrap().text();
        let counted = requests_out(&metrics);
        for (peer, _) in &counted {
            assert!(urls.contains(peer), "port {port} counted a request to {peer:?}:\n{metrics}");
        }
        let to_other = counted.iter().find(|(p, _)| p == other).map_or(0, |(_, n)| *n);
        assert!(to_other > 0, "port {port} sent requests to {other}:\n{metrics}");
        assert_eq!(sample(&metrics, "gossip_dials_refused_total"), Some(0), "port {port}:\n{metrics}");
    }
}

#[test]
fn sigterm_and_ctrl_c_shut_a_node_down_cleanly() {
    for sig in ["TERM", "INT"] {
        let port = free_ports(1)[0];
        let mut n = Proc::node(port, port, &[]);
        let t = Instant::now();
        let status = n.signal_and_wait(sig, Duration::from_secs(5)).expect("exits within 5 s");
        assert!(status.success(), "SIG{sig}: {status:?}");
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(n.log().contains("stopped"), "{}", n.log());
        assert!(get(port, "/state").is_err(), "the port is closed");
    }
}

/// A free port outside `base..base + n`.
fn free_port_besides(base: u16, n: u16) -> u16 {
    loop {
        let p = free_ports(1)[0];
        if !(base..base + n).contains(&p) {
            return p;
        }
    }
}

#[test]
fn cluster_command_starts_nodes_that_converge_serves_the_lab_and_stops_together() {
    let base = free_port_range(3);
    let www_port = free_port_besides(base, 3);
    let (b, w) = (base.to_string(), www_port.to_string());
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/www");
    let args = ["cluster", "--nodes", "3", "--base-port", &b, "--interval-ms", "200", "--change-ms", "0"];
    let mut c = Proc::spawn(base, &[&args[..], &["--www", www, "--www-port", &w]].concat());
    c.wait_ready();
    let ports = [base, base + 1, base + 2];
    wait_until("the cluster converges", Duration::from_secs(20), || converged(&ports));

    // the lab's own site, pointed at the cluster
    let config = get(www_port, "/lab-config.json").unwrap();
    assert_eq!(config.status, 200, "{}", config.text());
    let urls: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    assert_eq!(config.json(), serde_json::json!({"connect": urls[0], "nodes": urls}));
    let page = get(www_port, "/").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{:?}", page.headers);
    assert_eq!(get(www_port, "/no-such-file.js").unwrap().status, 404);

    assert!(c.signal_and_wait("TERM", Duration::from_secs(5)).expect("exits").success());
    for p in ports.into_iter().chain([www_port]) {
        assert!(get(p, "/state").is_err(), "port {p} closed");
    }
}

#[test]
fn bad_command_lines_exit_2_with_one_clear_line() {
    for (args, needle) in [
        (vec!["-p", "7001", "-b", "0"], "-b must be"),
        (vec!["-p", "7001", "--bootstrap", "ftp://x"], "--bootstrap must be an http://"),
        (vec!["-p", "7001", "--interval-ms", "0"], "--interval-ms"),
        (vec!["cluster", "--nodes", "0"], "--nodes"),
        (vec!["cluster", "--www", "/no/such/dir"], "--www must be a directory"),
        (vec!["-p", "99999"], "99999"),
        (vec!["-p", "7001", "--forget-after", "10"], "no unit"),
        (vec!["-p", "7001", "--forget-after", "10d"], "the unit must be"),
        (vec!["-p", "7001", "--forget-after", "100ms"], "out of range"),
        (vec!["cluster", "--forget-after", "soon"], "--forget-after"),
        (vec!["-p", "7001", "--require-signed", "--allow-unsigned"], "--require-signed"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gossip")).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().next().unwrap_or("").contains(needle), "{args:?}: {err}");
    }
    // a port already taken: a clear message, a failure exit, nothing left running
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gossip")).args(["-p", &port]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"), "{out:?}");
    // the lab's port taken: the cluster does not start, and says which port
    let base = free_port_range(1).to_string();
    let www = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gossip"))
        .args(["cluster", "--nodes", "1", "--base-port", &base, "--www", www, "--www-port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot serve the lab on port {port}")), "{err}");
}

fn assert_rejected(r: &support::Resp, status: u16, reason: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let j = r.json();
    assert_eq!(j["reason"], reason, "{j}");
    assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()), "{j}");
}

#[test]
fn hostile_input_gets_4xx_with_json_and_the_node_keeps_serving() {
    let port = free_ports(1)[0];
    // course-style unsigned bodies: the parsing and bounds are under test here
    let mut n = Proc::node(
        port,
        port,
        &["--max-body-bytes", "4096", "--read-timeout-ms", "500", "--change-ms", "0", "--allow-unsigned"],
    );
    let p = "/gossip/";
    let upd = |version: &str, ttl: &str, payload: &str| {
        format!(
            r#"{{"from":"evil","updates":[{{"uuid":"0f8fad5b-d9cb-469f-a165-70867728950e","origin":"o","version":{version},"ttl":{ttl},"payload":"{payload}"}}]}}"#
        )
    };
    // malformed
    for body in ["{", "", "nope", "{\"from\":\"a\",}", "{\"from\":\"a\"}{"] {
        assert_rejected(&post_json(port, p, body.as_bytes()).unwrap(), 400, "malformed_json");
    }
    // wrong content type, or none
    assert_rejected(&request(port, "POST", p, Some("text/plain"), b"{}").unwrap(), 415, "unsupported_media_type");
    assert_rejected(&request(port, "POST", p, None, b"{}").unwrap(), 415, "unsupported_media_type");
    assert_rejected(
        &request(port, "POST", p, Some("application/jsonx"), b"{}").unwrap(),
        415,
        "unsupported_media_type",
    );
    // too large: declared, and chunked without a Content-Length
    let head =
        format!("POST {p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n");
    assert_rejected(&raw(port, head.as_bytes()).unwrap(), 413, "too_large");
    let mut chunked =
        format!("POST {p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    for _ in 0..5 {
        chunked.extend_from_slice(format!("3e8\r\n{}\r\n", " ".repeat(1000)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_rejected(&raw(port, &chunked).unwrap(), 413, "too_large");
    // wrong types and out-of-range values
    for body in [
        "[]".to_string(),
        "null".into(),
        "{}".into(),
        r#"{"from":7}"#.into(),
        r#"{"from":""}"#.into(),
        format!(r#"{{"from":"{}"}}"#, "x".repeat(300)),
        r#"{"from":"a","url":"javascript:alert(1)"}"#.into(),
        r#"{"from":"a","digest":[["b",1]]}"#.into(),
        r#"{"from":"a","digest":{"b":[1,2,3]}}"#.into(),
        upd("\"1\"", "1", "x"),
        upd("-1", "1", "x"),
        upd("1.5", "1", "x"),
        upd("9007199254740992", "1", "x"),
        upd("1", "-3", "x"),
        upd("1", "1", &"x".repeat(600)),
        upd("1", "1", "x").replace("0f8fad5b-", "0f8fad5b+"),
    ] {
        assert_rejected(&post_json(port, p, body.as_bytes()).unwrap(), 400, "invalid_field");
    }
    // not UTF-8
    assert_rejected(&post_json(port, p, b"{\"from\":\"\xc3\x28\"}").unwrap(), 400, "invalid_utf8");
    // deep nesting inside the limit
    assert_rejected(&post_json(port, p, "[".repeat(4000).as_bytes()).unwrap(), 400, "invalid_field");
    // a body that never finishes: 408 after the read timeout
    let mut s = support::connect(port).unwrap();
    s.write_all(
        format!(
            "POST {p} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"from\""
        )
        .as_bytes(),
    )
    .unwrap();
    let t = Instant::now();
    assert_rejected(&support::read_response(&mut s).unwrap(), 408, "timeout");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // a request head that never finishes: the connection is closed
    let mut s = support::connect(port).unwrap();
    s.write_all(b"POST /gossip/ HTTP/1.1\r\nHost: x\r\n").unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(t.elapsed() < Duration::from_secs(3), "cut off after {:?}", t.elapsed());
    // clamped, not refused: a huge TTL
    let ok = post_json(port, p, upd("1", "4294967295999", "Up").as_bytes()).unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
    // unknown paths and methods
    assert_rejected(&get(port, "/nope").unwrap(), 404, "not_found");
    assert_rejected(&request(port, "DELETE", "/state", None, b"").unwrap(), 405, "method_not_allowed");

    // still serving, counted by reason
    assert!(n.running(), "{}", n.log());
    let s = state(port).expect("still answers");
    assert_eq!(s.view["o"].ttl, 64, "TTL clamped to the maximum");
    let metrics = get(port, "/metrics").unwrap().text();
    for (reason, at_least) in [
        ("malformed_json", 5),
        ("unsupported_media_type", 3),
        ("too_large", 2),
        ("invalid_field", 17),
        ("invalid_utf8", 1),
        ("timeout", 1),
        ("not_found", 1),
        ("method_not_allowed", 1),
    ] {
        let line = format!("gossip_rejected_requests_total{{reason=\"{reason}\"}} ");
        let v: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{line} missing:\n{metrics}"));
        assert!(v >= at_least, "{reason}: {v} < {at_least}");
    }
    assert!(!n.log().contains("panicked"), "{}", n.log());
}

#[test]
fn a_data_dir_keeps_every_restart_in_a_newer_epoch_and_a_corrupt_one_exits_2() {
    let dir = std::env::temp_dir().join(format!("gossip-data-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let port = free_ports(1)[0];
    let file = dir.join("node.json");
    let mut epochs = Vec::new();
    for _ in 0..3 {
        // killed and restarted at once, usually within one second
        let n = Proc::node(port, port, &["--data-dir", d, "--change-ms", "0"]);
        let s = state(port).unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(stored["epoch"], s.epoch, "written before serving: {stored}");
        assert_eq!(stored["key_seed"].as_str().map(str::len), Some(64), "{stored}");
        epochs.push(s.epoch);
        drop(n);
    }
    assert!(epochs.windows(2).all(|w| w[1] > w[0]), "every restart in a newer epoch: {epochs:?}");
    // a corrupt file: exit 2, one line, the file left as it was
    std::fs::write(&file, b"{\"epoch\": 12, \"key_se").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gossip"))
        .args(["-p", &port.to_string(), "--data-dir", d])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--data-dir") && err.contains("node.json") && err.contains("corrupt"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"{\"epoch\": 12, \"key_se", "never overwritten");
    assert!(get(port, "/state").is_err(), "nothing serves");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_course_node_is_welcome_with_the_course_command_line_and_the_log_says_the_policy_and_each_refusal_once() {
    let port = free_ports(1)[0];
    let node = Proc::node(port, port, &["--change-ms", "0"]);
    // an unsigned course node's update: welcome, unverified
    let course = r#"{"from":"http://127.0.0.1:9","url":"http://127.0.0.1:9","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"http://127.0.0.1:9","epoch":1,"version":1,"ttl":2,"payload":"Up"}]}"#;
    let r = post_json(port, "/gossip/", course.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let s = state(port).unwrap();
    assert_eq!((s.seals.as_str(), s.view["http://127.0.0.1:9"].verified), ("welcome", false));
    // a relay passing on the course node's next update (it never signs): welcome too
    let relayed = course
        .replace("0f8fad5bd9cb469fa16570867728950e", "2f8fad5bd9cb469fa16570867728950e")
        .replace(r#""version":1"#, r#""version":2"#);
    let relayed = relayed.replace("127.0.0.1:9\",\"url", "127.0.0.1:8\",\"url").replacen(
        "\"url\":\"http://127.0.0.1:9\"",
        "\"url\":\"http://127.0.0.1:8\"",
        1,
    );
    assert_eq!(post_json(port, "/gossip/", relayed.as_bytes()).unwrap().status, 200);
    assert_eq!(state(port).unwrap().view["http://127.0.0.1:9"].version, 2);
    // an origin seen signed, then a relay that strips its seal: refused, with the true cause, twice
    let key = Signer::from_seed([5; 32]);
    let origin: wire::Id = Arc::from("http://127.0.0.1:7");
    let (uuid, v) = (Uuid::from_u128(7), Version::new(1, 1));
    let sealed = Update::new(uuid, origin.clone(), v, 2, "Heat".into(), Some(key.seal(uuid, &origin, v, "Heat")));
    let body = wire::encode("http://127.0.0.1:7", None, None, &[Message::Push(vec![sealed])]);
    assert_eq!(post_json(port, "/gossip/", &body).unwrap().status, 200);
    let strip = r#"{"from":"http://127.0.0.1:8","updates":[{"uuid":"1f8fad5bd9cb469fa16570867728950e","origin":"http://127.0.0.1:7","epoch":1,"version":2,"ttl":2,"payload":"Up"}]}"#;
    for _ in 0..2 {
        let r = post_json(port, "/gossip/", strip.as_bytes()).unwrap();
        assert_eq!(r.status, 403);
        assert!(r.text().contains("forward key and sig unchanged"), "{}", r.text());
    }
    let log = node.log();
    let start = log.lines().find(|l| l.contains("listening on")).unwrap_or_else(|| panic!("{log}"));
    assert!(start.contains("seals: unsigned updates are welcome"), "the start-up line states the policy: {start}");
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("bound_unsigned")).collect();
    assert_eq!(refusals.len(), 1, "once per peer and reason: {log}");
    assert!(
        refusals[0].contains("forward key and sig unchanged") && refusals[0].contains("127.0.0.1:8"),
        "{}",
        refusals[0]
    );
}
