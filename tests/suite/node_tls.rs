//! TLS on the native node, on loopback with a CA made inside each test
//! ([`support::pki`]): an HTTPS cluster of real processes converges; a node
//! refuses a peer whose certificate its CA did not sign (the exchange fails,
//! is counted and logged); a client that never finishes the handshake is
//! cut after the read timeout and counted; every bad TLS flag exits 2 with
//! one clear line, never hangs. Every child is killed by a guard.
#![cfg(not(target_arch = "wasm32"))] // the native node

use crate::support;

use std::path::Path;
use std::time::Duration;

use gossip::server::state::StateView;
use gossip::server::{tls, NodeOptions};

use support::pki::Pki;
use support::{free_ports, metric, wait_until, InProc, Proc};

/// A blocking HTTPS client trusting the given CAs (and the system's roots).
struct Https {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Https {
    fn trusting(cas: &[&Path]) -> Https {
        let cas: Vec<_> = cas.iter().map(|p| p.to_path_buf()).collect();
        let config = tls::client_config(&cas).expect("the test CA loads");
        // no pooling: a node with a short read timeout closes idle connections under a reused one
        let client = tls::client_builder(Some(&config))
            .timeout(Duration::from_secs(3))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Https { rt, client }
    }

    /// `GET https://127.0.0.1:PORT{path}`: the status and body, or why not.
    fn get(&self, port: u16, path: &str) -> Result<(u16, String), String> {
        self.rt.block_on(async {
            let r = self.client.get(format!("https://127.0.0.1:{port}{path}")).send().await;
            let r = r.map_err(|e| format!("{e:?}"))?;
            let status = r.status().as_u16();
            Ok((status, r.text().await.map_err(|e| e.to_string())?))
        })
    }

    fn state(&self, port: u16) -> Option<StateView> {
        let (status, body) = self.get(port, "/state").ok()?;
        (status == 200).then(|| serde_json::from_str(&body).ok()).flatten()
    }

    fn metrics(&self, port: u16) -> String {
        self.get(port, "/metrics").expect("metrics over HTTPS").1
    }
}

const FAST: [&str; 6] = ["--interval-ms", "200", "--remove-after-ms", "1500", "--change-ms", "0"];

/// `gossip -p PORT -b BOOT FAST TLS...` (bootstrapping over HTTPS), waited
/// for until it answers `GET /state` over HTTPS.
fn https_node(https: &Https, port: u16, boot: u16, tls: &[&str]) -> Proc {
    let (p, b) = (port.to_string(), boot.to_string());
    let args: Vec<&str> = [&["-p", &p, "-b", &b][..], &FAST, tls].concat();
    let n = Proc::spawn(port, &args);
    wait_until("the node answers over HTTPS", Duration::from_secs(10), || https.state(port).is_some());
    n
}

fn rejected_handshakes(metrics: &str) -> u64 {
    metric(metrics, r#"gossip_rejected_requests_total{reason="tls_handshake"}"#).expect("a tls_handshake counter")
}

#[test]
fn an_https_cluster_of_three_processes_converges_and_refuses_plain_http() {
    let pki = Pki::new("cluster");
    let leaf = pki.leaf("node");
    let (cert, key, ca) = (leaf.cert.to_str().unwrap(), leaf.key.to_str().unwrap(), pki.ca_pem.to_str().unwrap());
    let tls_flags = ["--tls-cert", cert, "--tls-key", key, "--tls-ca", ca];
    let https = Https::trusting(&[&pki.ca_pem]);
    let ports = free_ports(3);
    let _nodes: Vec<Proc> = ports.iter().map(|&p| https_node(&https, p, ports[0], &tls_flags)).collect();

    let took = wait_until("3 HTTPS nodes converge", Duration::from_secs(20), || {
        let Some(states) = ports.iter().map(|&p| https.state(p)).collect::<Option<Vec<_>>>() else { return false };
        states.iter().all(|s| {
            s.view.len() == 3
                && states.iter().all(|o| s.view.get(&o.id).is_some_and(|e| Some(&e.movie) == o.movie.as_ref()))
        })
    });
    eprintln!("HTTPS cluster converged in {took:?}");
    // `/state` lists a peer once it answered or called: the two others, as
    // https:// URLs, within a few gossip intervals of converging (the views
    // may converge through the bootstrap node alone)
    let others = |p: u16| -> Vec<String> {
        ports.iter().filter(|&&o| o != p).map(|o| format!("https://127.0.0.1:{o}")).collect()
    };
    let listed = |p: u16| -> Vec<String> {
        let mut peers = https.state(p).map(|s| s.peers).unwrap_or_default();
        peers.sort();
        peers
    };
    let _ = wait_until("every node lists the two others", Duration::from_secs(10), || {
        ports.iter().all(|&p| listed(p) == others(p))
    });
    for &p in &ports {
        let s = https.state(p).unwrap();
        assert_eq!(s.url, format!("https://127.0.0.1:{p}"), "a TLS node advertises https://");
        assert_eq!(listed(p), others(p), "`-b PORT` means https:// for a TLS node");
        let m = https.metrics(p);
        assert!(metric(&m, r#"gossip_exchanges_total{direction="out",result="ok"}"#).unwrap() > 0, "{m}");
    }

    // plain HTTP to an HTTPS port: no answer, the connection is closed and counted
    let before = rejected_handshakes(&https.metrics(ports[1]));
    let plain = support::get(ports[1], "/state");
    assert!(plain.is_err(), "plain HTTP gets no HTTP answer from an HTTPS node: {:?}", plain.map(|r| r.status));
    wait_until("the failed handshake is counted", Duration::from_secs(5), || {
        rejected_handshakes(&https.metrics(ports[1])) > before
    });
}

#[test]
fn a_node_refuses_a_peer_whose_certificate_its_ca_did_not_sign() {
    let (trusted, rogue) = (Pki::new("trusted"), Pki::new("rogue"));
    let (good, bad) = (trusted.leaf("good"), rogue.leaf("bad"));
    let ca = trusted.ca_pem.to_str().unwrap();
    let https = Https::trusting(&[&trusted.ca_pem, &rogue.ca_pem]);
    let [a, b] = free_ports(2)[..] else { unreachable!() };
    let flags = |leaf: &support::pki::Leaf| {
        let (c, k) = (leaf.cert.to_str().unwrap().to_string(), leaf.key.to_str().unwrap().to_string());
        vec!["--tls-cert".to_string(), c, "--tls-key".into(), k, "--tls-ca".into(), ca.into()]
    };
    let (fa, fb) = (flags(&good), flags(&bad));
    let node_a = https_node(&https, a, a, &fa.iter().map(String::as_str).collect::<Vec<_>>());
    // b trusts a's CA, so it bootstraps from a and gossips to it; a must not trust b
    let _node_b = https_node(&https, b, a, &fb.iter().map(String::as_str).collect::<Vec<_>>());
    let b_url = format!("https://127.0.0.1:{b}");

    wait_until("a's exchanges with b fail and are counted", Duration::from_secs(15), || {
        metric(&https.metrics(a), r#"gossip_exchanges_total{direction="out",result="failed"}"#).unwrap() > 0
    });
    wait_until("b counts the handshakes a aborted", Duration::from_secs(5), || {
        rejected_handshakes(&https.metrics(b)) > 0
    });
    wait_until("a logs why", Duration::from_secs(5), || node_a.log().contains("UnknownIssuer"));
    let log = node_a.log();
    let line = log.lines().find(|l| l.contains("UnknownIssuer")).unwrap();
    assert!(line.contains(&b_url) && line.contains("certificate"), "{line}");
    // b's own exchanges with a go through: the refusal is a's certificate check, not a broken b
    let mb = https.metrics(b);
    assert!(metric(&mb, r#"gossip_exchanges_total{direction="out",result="ok"}"#).unwrap() > 0, "{mb}");
}

#[test]
fn a_client_that_never_finishes_the_handshake_is_cut_after_the_read_timeout_and_counted() {
    let pki = Pki::new("slow");
    let leaf = pki.leaf("node");
    let node = InProc::start(NodeOptions {
        read_timeout_ms: 500,
        tls_server: Some(tls::server_config(&leaf.cert, &leaf.key).unwrap()),
        bootstrap: Vec::new(),
        ..NodeOptions::default()
    });
    let https = Https::trusting(&[&pki.ca_pem]);
    wait_until("the node answers over HTTPS", Duration::from_secs(5), || https.state(node.port).is_some());
    let mut silent = support::connect(node.port).unwrap();
    let (took, got) = support::wait_closed(&mut silent, Duration::from_secs(5)).expect("the server closes it");
    assert!(got.is_empty(), "nothing is sent to a client that never said hello");
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(3), "{took:?}");
    assert!(rejected_handshakes(&https.metrics(node.port)) >= 1);
    // a client that sends garbage instead of a ClientHello is cut at once
    let garbage = support::raw(node.port, b"GET /state HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(garbage.is_err() || garbage.as_ref().is_ok_and(|r| r.status == 0), "{:?}", garbage.map(|r| r.status));
    wait_until("both are counted", Duration::from_secs(3), || rejected_handshakes(&https.metrics(node.port)) >= 2);
}

/// `gossip ARGS`, which must exit within 10 s: its exit code and stderr.
fn gossip_fails(args: &[&str]) -> (Option<i32>, String) {
    let mut p = Proc::spawn(0, args);
    let status = p.wait_exit(Duration::from_secs(10)).unwrap_or_else(|| panic!("gossip {args:?} hangs"));
    (status.code(), p.log())
}

#[test]
fn bad_tls_flags_exit_2_with_a_clear_message_and_never_hang() {
    let pki = Pki::new("flags");
    let (one, two) = (pki.leaf("one"), pki.leaf("two"));
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (cert, key, other_key, ca) = (s(&one.cert), s(&one.key), s(&two.key), s(&pki.ca_pem));
    let garbage = s(&pki.file("garbage.pem", b"hello, this is not PEM\n"));
    let broken = s(&pki.file("broken.pem", b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"));
    let not_der =
        s(&pki.file("notder.pem", b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n"));
    let missing = s(&pki.dir().join("missing.pem"));
    let dir = s(pki.dir());
    for (args, needles) in [
        (vec!["--tls-cert", &cert], vec!["--tls-key"]),
        (vec!["--tls-key", &key], vec!["--tls-cert"]),
        (vec!["--tls-cert", &missing, "--tls-key", &key], vec!["--tls-cert", "missing.pem", "cannot read"]),
        (vec!["--tls-cert", &cert, "--tls-key", &missing], vec!["--tls-key", "missing.pem", "cannot read"]),
        (vec!["--tls-cert", &dir, "--tls-key", &key], vec!["--tls-cert", "cannot read"]),
        (vec!["--tls-cert", &cert, "--tls-key", &other_key], vec!["--tls-key", "does not match", "one.pem"]),
        (vec!["--tls-cert", &garbage, "--tls-key", &key], vec!["--tls-cert", "garbage.pem", "no CERTIFICATE"]),
        (vec!["--tls-cert", &broken, "--tls-key", &key], vec!["--tls-cert", "broken.pem", "not valid PEM"]),
        (vec!["--tls-cert", &not_der, "--tls-key", &key], vec!["--tls-cert", "notder.pem", "unusable"]),
        (vec!["--tls-cert", &cert, "--tls-key", &garbage], vec!["--tls-key", "no PRIVATE KEY"]),
        (vec!["--tls-cert", &cert, "--tls-key", &cert], vec!["--tls-key", "one.pem", "no PRIVATE KEY"]),
        (vec!["--tls-ca", &missing], vec!["--tls-ca", "missing.pem", "cannot read"]),
        (vec!["--tls-ca", &ca, "--tls-ca", &garbage], vec!["--tls-ca", "garbage.pem", "no CERTIFICATE"]),
        (vec!["--tls-ca", &broken], vec!["--tls-ca", "broken.pem", "not valid PEM"]),
        (vec!["--tls-ca", &not_der], vec!["--tls-ca", "notder.pem", "not a usable CA certificate"]),
        (vec!["--tls-cert", &cert, "--tls-key", &key, "--advertise", "http://127.0.0.1:7000"], vec!["--advertise"]),
    ] {
        for cmd in [vec!["node", "-p", "0"], vec!["cluster", "--nodes", "2", "--base-port", "1"]] {
            if cmd[0] == "cluster" && args.contains(&"--advertise") {
                continue; // a cluster has no --advertise
            }
            let full = [&cmd[..], &args[..]].concat();
            let (code, err) = gossip_fails(&full);
            assert_eq!(code, Some(2), "gossip {full:?}: {err}");
            for n in &needles {
                assert!(err.contains(n), "gossip {full:?}: {n:?} not in {err}");
            }
            assert!(err.lines().count() <= 8, "a short message (clap's has a usage line): {err}");
        }
    }
}

#[test]
fn tls_ca_without_https_peers_is_fine_and_the_node_serves_plain_http() {
    let pki = Pki::new("plain");
    let port = free_ports(1)[0];
    let node = Proc::node(port, port, &["--tls-ca", pki.ca_pem.to_str().unwrap()]);
    let s = support::state(node.port).expect("plain HTTP /state");
    assert_eq!(s.url, format!("http://127.0.0.1:{port}"));
}

#[test]
fn shutdown_does_not_wait_for_a_handshake_in_progress() {
    let pki = Pki::new("shutdown");
    let leaf = pki.leaf("node");
    let node = InProc::start(NodeOptions {
        read_timeout_ms: 10_000,
        tls_server: Some(tls::server_config(&leaf.cert, &leaf.key).unwrap()),
        ..NodeOptions::default()
    });
    let https = Https::trusting(&[&pki.ca_pem]);
    wait_until("the node answers over HTTPS", Duration::from_secs(5), || https.state(node.port).is_some());
    let mut silent = support::connect(node.port).unwrap();
    std::thread::sleep(Duration::from_millis(200)); // accepted, handshake waiting for a ClientHello
    let start = std::time::Instant::now();
    drop(node); // stops the node and joins its thread
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "stopped in {took:?}, not after the 10 s handshake timeout or the 3 s grace"
    );
    assert!(support::wait_closed(&mut silent, Duration::from_secs(2)).is_some(), "the half-open connection is closed");
}
