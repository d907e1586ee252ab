//! The committed regression suite: a few protocols x sizes x 8 seeds (the
//! events model with 5 % loss), run by `gossip sweep --baseline` against
//! `tests/baseline/suite.csv`. It fails on a significant (Welch's t, 5 %)
//! rise of lost updates, residue, convergence time or failing runs; a
//! planted slowdown in a copy of the baseline shows that it would.
//!
//! Re-record the baseline when a change is *meant* to change these runs
//! (or adds a metric, which adds a column), and say why in the commit:
//! `scripts/sweep-baseline.sh`.

#![cfg(not(target_arch = "wasm32"))] // runs the native binary
use std::path::PathBuf;
use std::process::{Command, Output};

/// The suite's flags (scripts/sweep-baseline.sh has the same).
const SUITE: &[&str] = &[
    "sweep",
    "--vary",
    "protocol=push,push-pull,rumor",
    "--vary",
    "nodes=1000,10000",
    "--model",
    "events",
    "--loss",
    "0.05",
    "--seeds",
    "8",
    "-q",
];

fn baseline() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/baseline/suite.csv")
}

fn run_suite(old: &str, name: &str) -> Output {
    let dir = std::env::temp_dir().join(format!("gossip-suite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("suite.csv");
    let mut args = SUITE.to_vec();
    args.extend(["--baseline", old, "-o", out.to_str().unwrap()]);
    Command::new(env!("CARGO_BIN_EXE_gossip")).args(&args).output().expect("the binary runs")
}

#[test]
fn the_suite_shows_no_significant_regression_against_the_committed_baseline() {
    let start = std::time::Instant::now();
    let o = run_suite(baseline().to_str().unwrap(), "clean");
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("baseline: no significant regression"), "{text}");
    // every configuration was found in the baseline
    assert!(!text.contains("not in the baseline"), "{text}");
    assert!(start.elapsed().as_secs() < 60, "the suite must stay under 60 s");
}

#[test]
fn a_planted_slowdown_is_reported_as_a_regression_with_exit_status_1() {
    // the baseline as if push-pull at 1,000 nodes had converged 30 % sooner
    let text = std::fs::read_to_string(baseline()).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (t, p, n) = (col("t_last_ms"), col("protocol"), col("nodes"));
    let mut planted = 0;
    for line in lines.iter_mut().skip(1) {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if cells[p] == "push-pull" && cells[n] == "1000" {
            let v: f64 = cells[t].parse().unwrap();
            cells[t] = format!("{}", (v * 0.7).round());
            planted += 1;
        }
        *line = cells.join(",");
    }
    assert_eq!(planted, 8);
    let old = std::env::temp_dir().join(format!("gossip-suite-planted-{}.csv", std::process::id()));
    std::fs::write(&old, lines.join("\n") + "\n").unwrap();
    let o = run_suite(old.to_str().unwrap(), "planted");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("baseline: significant regression in nodes=1000 protocol=push-pull t_last_ms"), "{out}");
    let line = out.lines().find(|l| l.trim_start().starts_with("t_last_ms") && l.contains("REGRESSION")).unwrap();
    assert!(line.contains("+42.") || line.contains("+43."), "about 1/0.7 - 1: {line}");
}
