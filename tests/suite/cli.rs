//! The `gossip sim` command as a user runs it: flags in, one JSON object
//! (or a readable summary) out, clear errors and exit code 2 for bad input.

#![cfg(not(target_arch = "wasm32"))] // runs the native binary
use std::process::Command;

fn gossip(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gossip")).args(args).output().expect("the binary runs")
}

#[test]
fn sim_json_prints_exactly_one_object_with_the_documented_keys() {
    let out = gossip(&["sim", "--nodes", "500", "--seed", "3", "--json", "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "one line of JSON: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    for key in [
        "nodes",
        "seed",
        "protocol",
        "model",
        "scenario",
        "informed",
        "residue",
        "rounds_full",
        "t_avg",
        "t_last",
        "messages",
        "messages_per_node",
        "updates",
        "lost_updates",
        "messages_per_update",
        "latency_ms",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["nodes"], 500);
    assert_eq!(v["protocol"], "push-pull");
    assert_eq!(v["residue"], 0.0);
    assert!(v["rounds_full"].as_u64().unwrap() >= 5);
    for k in ["median", "p99", "max"] {
        assert!(v["latency_ms"].get(k).is_some());
    }
}

#[test]
fn movies_json_reports_latency_and_lost_updates() {
    let out = gossip(&[
        "sim",
        "--nodes",
        "40",
        "--scenario",
        "movies",
        "--model",
        "events",
        "--duration-s",
        "20",
        "--json",
        "-q",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lost_updates"], 0);
    assert!(v["updates"].as_u64().unwrap() >= 80);
    assert!(v["latency_ms"]["median"].as_f64().unwrap() > 0.0);
    assert!(v["messages_per_update"].as_f64().unwrap() > 1.0);
}

#[test]
fn same_flags_same_output() {
    let args = ["sim", "--nodes", "300", "--model", "events", "--loss", "0.2", "--fault", "2s:crash:5", "--json", "-q"];
    assert_eq!(gossip(&args).stdout, gossip(&args).stdout);
}

#[test]
fn readable_summary_by_default() {
    let out = gossip(&["sim", "--nodes", "200", "--protocol", "rumor", "--counter", "2", "-q"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("residue") && text.contains("rumor"), "{text}");
}

#[test]
fn the_number_of_threads_does_not_change_the_report() {
    let run = |threads: &str| {
        let args = ["sim", "--nodes", "1200", "--scenario", "movies", "--model", "events", "--duration-s", "5"];
        let out = gossip(&[&args[..], &["--threads", threads, "--json", "-q"]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    for (args, needle) in [
        (vec!["sim", "--nodes", "0"], "nodes must be between"),
        (vec!["sim", "--loss", "-1"], "loss"),
        (vec!["sim", "--fault", "10s:explode"], "unknown kind"),
        (vec!["sim", "--protocol", "magic"], "magic"),
        (vec!["sim", "--threads", "0"], "--threads"),
        // 90,000^2 entries: hundreds of GB, refused before anything is allocated
        (vec!["sim", "--nodes", "90000", "--scenario", "movies"], "GB are available"),
    ] {
        let out = gossip(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
