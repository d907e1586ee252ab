//! `gossip test-node` end to end, on loopback: the worked example
//! `examples/course_node.py` passes every step; each deliberately broken
//! variant of it (`--break WHAT`) fails the step about its bug, with the
//! hint naming the right `PROTOCOL.md` section; and bad input to the
//! harness (a command that does not start, one that never listens, a port
//! in use, a `--url` that answers garbage or nothing, a bad template) gets
//! a clear message and a non-zero exit within a bound, never a hang.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const NODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/course_node.py");

/// The course node's command template, with fast intervals and one rule broken (or none).
fn course_cmd(broken: Option<&str>) -> String {
    let b = broken.map_or(String::new(), |b| format!(" --break {b}"));
    format!("python3 {NODE} -p {{port}} -b {{bootstrap}} --interval-ms 200 --change-ms 0{b}")
}

/// Run `gossip test-node ARGS` to the end; its output and how long it took.
fn test_node(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_gossip"))
        .arg("test-node")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("gossip runs");
    (out, t.elapsed())
}

/// Run it with `--json`: the exit code and the report.
fn json_run(args: &[&str]) -> (Option<i32>, Value, Duration) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (out, took) = test_node(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("not one JSON object ({e}): {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code(), report, took)
}

fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no step {name}"))
}

fn python_present() {
    let ok = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "these tests run examples/course_node.py: python3 must be on PATH");
}

#[test]
fn the_course_node_passes_every_step() {
    python_present();
    let cmd = course_cmd(None);
    let (code, report, took) = json_run(&["--cmd", &cmd]);
    let steps = report["steps"].as_array().unwrap();
    let failed: Vec<&Value> = steps.iter().filter(|s| s["status"] != "pass").collect();
    assert!(failed.is_empty(), "took {took:?}; not passed: {failed:#?}");
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["passed"], true);
    assert_eq!(steps.len(), 18, "every step ran");
    for s in steps {
        assert_eq!(s["required"], s["name"] != "rejects", "{s}");
        assert!(s["duration_ms"].is_u64() && s["hint"].is_null() && s["section"].is_string(), "{s}");
    }
    assert!(report["command"].as_str().unwrap().contains("course_node.py -p "), "{report}");
    assert!(took < Duration::from_secs(40), "{took:?}");
}

/// Each bug, the step that must catch it, and the section its hint names.
const BREAKS: [(&str, &str, &str); 5] = [
    ("dedup", "dedup", "Deduplication"),
    ("ttl", "ttl", "TTL"),
    ("epoch", "restart", "Restarts: epochs"),
    ("version0", "own-update", "Updates (the course's message)"),
    ("seals", "seals", "Seals: origin authenticity"),
];

fn broken_variant_fails_its_step(broken: &str) {
    python_present();
    let (_, expected, section) = BREAKS.iter().find(|b| b.0 == broken).copied().unwrap();
    let cmd = course_cmd(Some(broken));
    let (code, report, took) = json_run(&["--cmd", &cmd]);
    assert_eq!(code, Some(1), "--break {broken}: {report:#}");
    assert_eq!(report["passed"], false);
    let s = step(&report, expected);
    assert_eq!(s["status"], "fail", "--break {broken} must fail step {expected}: {report:#}");
    assert_eq!(s["required"], true);
    let hint = s["hint"].as_str().unwrap();
    assert!(hint.contains(&format!("PROTOCOL.md, section \"{section}\"")), "{hint}");
    assert!(!s["detail"].as_str().unwrap().is_empty());
    // the bug is caught by its own step, not only by a later one it breaks
    let first = report["steps"].as_array().unwrap().iter().find(|s| s["status"] == "fail").unwrap();
    assert_eq!(first["name"], expected, "--break {broken}: the first failure is {first:#}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn without_dedup_the_dedup_step_fails() {
    broken_variant_fails_its_step("dedup");
}

#[test]
fn ignoring_ttl_fails_the_ttl_step() {
    broken_variant_fails_its_step("ttl");
}

#[test]
fn without_epochs_the_restart_step_fails() {
    broken_variant_fails_its_step("epoch");
}

#[test]
fn versions_from_0_fail_the_own_update_step() {
    broken_variant_fails_its_step("version0");
}

#[test]
fn dropping_seals_fails_the_seals_step() {
    broken_variant_fails_its_step("seals");
}

#[test]
fn the_readable_report_names_each_failure_with_its_hint() {
    python_present();
    let cmd = course_cmd(Some("ttl"));
    let (out, _) = test_node(&["--cmd", &cmd]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("PASS  dedup") && text.contains("FAIL  ttl"), "{text}");
    assert!(text.contains("hint: read PROTOCOL.md, section \"TTL\""), "{text}");
    assert!(text.trim_end().ends_with("FAIL"), "{text}");
}

#[test]
fn a_command_that_does_not_start_fails_at_once_with_its_output() {
    let (code, report, took) = json_run(&["--cmd", "no-such-command-5x7 -p {port} -b {bootstrap}"]);
    assert_eq!(code, Some(1));
    let s = step(&report, "starts");
    assert_eq!(s["status"], "fail");
    let detail = s["detail"].as_str().unwrap();
    assert!(detail.contains("exited") && detail.contains("no-such-command-5x7"), "{detail}");
    let others = &report["steps"].as_array().unwrap()[1..];
    assert!(others.iter().all(|s| s["status"] == "skip"), "{report:#}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_command_that_never_listens_is_given_up_on_and_killed() {
    let marker = format!("sleep 31.{}", std::process::id());
    let cmd = format!("{marker} # {{port}} {{bootstrap}}");
    let (code, report, took) = json_run(&["--cmd", &cmd, "--start-ms", "1000"]);
    assert_eq!(code, Some(1));
    let detail = step(&report, "starts")["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("nothing listens"), "{detail}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&ps.stdout).contains(&marker), "the child was killed");
}

#[test]
fn a_port_in_use_is_refused_with_a_clear_message() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (out, took) = test_node(&["--cmd", "python3 n.py -p {port} -b {bootstrap}", "--port", &port]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("--port {port}")) && err.contains("in use"), "{err}");
    assert!(took < Duration::from_secs(5));
}

#[test]
fn bad_templates_and_urls_are_refused_with_a_clear_message() {
    for (args, needle) in [
        (vec!["--cmd", "python3 n.py -b {bootstrap}"], "{port}"),
        (vec!["--cmd", "python3 n.py -p {port}"], "{bootstrap}"),
        (vec!["--cmd", "n -p {port} -b {bootstrap} {host}"], "{host}"),
        (vec!["--url", "localhost:7000"], "--url"),
        (vec!["--url", "http://127.0.0.1:7000", "--cmd", "x {port} {bootstrap}"], "cannot be used with"),
        (vec!["--cmd", "x {port} {bootstrap}", "--converge-ms", "0"], "--converge-ms"),
        (vec!["--cmd", "x {port} {bootstrap}", "--lab", "--www", "/no/such/dir"], "--www"),
        // the harness starts no --url node: nothing would read how long it may take
        (vec!["--url", "http://127.0.0.1:1", "--start-ms", "1000"], "--start-ms applies to --cmd only"),
    ] {
        let (out, _) = test_node(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// A server that answers every request with 200 and a body that is not
/// JSON; it serves until the test process ends.
fn garbage_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n<garbage>");
            });
        }
    });
    port
}

#[test]
fn a_url_that_answers_garbage_fails_with_what_it_answered_within_a_bound() {
    let port = garbage_server();
    let url = format!("http://127.0.0.1:{port}");
    let (code, report, took) = json_run(&["--url", &url, "--converge-ms", "1000", "--watch-ms", "200"]);
    assert_eq!(code, Some(1), "{report:#}");
    let detail = step(&report, "peers")["detail"].as_str().unwrap();
    assert!(detail.contains("not a JSON array") && detail.contains("<garbage>"), "{detail}");
    assert_eq!(step(&report, "order")["status"], "fail");
    assert_eq!(step(&report, "restart")["status"], "skip", "a --url node is not restarted");
    assert_eq!(step(&report, "restart")["required"], false);
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn a_url_where_nothing_listens_fails_the_first_step_at_once() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, report, took) = json_run(&["--url", &format!("http://127.0.0.1:{port}")]);
    assert_eq!(code, Some(1));
    assert_eq!(step(&report, "starts")["status"], "fail");
    assert!(step(&report, "starts")["detail"].as_str().unwrap().contains("no answer"), "{report:#}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_running_course_node_passes_the_url_mode() {
    python_present();
    // a node bootstrapped from nobody, started here and killed at the end
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _node = Kill(
        Command::new("python3")
            .args([NODE, "-p", &port.to_string(), "--interval-ms", "200", "--change-ms", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "the node did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, report, _) = json_run(&["--url", &url]);
    assert_eq!(code, Some(0), "{report:#}");
    for name in ["joins", "bootstrap-ours", "restart"] {
        assert_eq!(step(&report, name)["status"], "skip", "{name}");
    }
    for name in ["converge", "partition", "order", "malformed"] {
        assert_eq!(step(&report, name)["status"], "pass", "{name}: {report:#}");
    }
}

#[test]
fn lab_serves_the_page_joined_to_the_nodes_under_test_until_sigterm() {
    python_present();
    use std::io::BufRead;
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/www");
    let cmd = course_cmd(None);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gossip"))
        .args(["test-node", "--cmd", &cmd, "--lab", "--www", www])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("kill").args(["-KILL", &self.0.to_string()]).stderr(Stdio::null()).status();
        }
    }
    let guard = Kill(child.id());
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let stdout = child.stdout.take().unwrap();
    let (out_tx, out_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with("lab: ");
            text.push_str(&line);
            text.push('\n');
            if done {
                let _ = out_tx.send(text.clone());
            }
        }
    });
    let lab = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the lab's URL on stderr");
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_owned();
        }
    };
    let report = out_rx.recv_timeout(Duration::from_secs(60)).expect("the report");
    assert!(report.contains(&format!("lab: {lab}")), "{report}");
    assert!(report.trim_end().ends_with(&format!("PASS\nlab: {lab}")), "{report}");
    // after the report, the lab and the nodes keep running
    let authority = lab.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(&authority).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        text
    };
    let config = get("/lab-config.json");
    let body: Value = serde_json::from_str(config.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let nodes = body["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "two reference nodes and the node under test: {body}");
    assert_eq!(body["connect"], nodes[0]);
    let theirs = nodes[2].as_str().unwrap().trim_start_matches("http://").to_owned();
    assert!(std::net::TcpStream::connect(&theirs).is_ok(), "the node under test still runs");
    assert!(get("/").starts_with("HTTP/1.1 200"), "the page itself");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "SIGTERM stops it");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(guard);
    assert_eq!(status.code(), Some(0), "the report's verdict, once the lab is closed");
    std::thread::sleep(Duration::from_millis(200));
    assert!(std::net::TcpStream::connect(&theirs).is_err(), "the node under test was killed with it");
}
