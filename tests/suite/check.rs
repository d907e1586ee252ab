//! `gossip check`, run as a user runs it: the planted weakness (rumor
//! mongering without anti-entropy under partitions) is caught within 100
//! seeds and shrunk to at most two faults, and the printed `gossip sim`
//! command really breaks the property; push-pull with anti-entropy passes
//! 100 seeds; bad input gets one line and exit status 2, as does a flag
//! the check would not read (`--shrink-runs` with `--shrink 0`).
//!
//! Timing model: the simulator's events model (virtual milliseconds), the
//! check's defaults or the glomers preset (100 ms links); every run is
//! deterministic, so the counts below are exact for these seeds.

use std::process::{Command, Output};

use serde_json::Value;

fn gossip(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gossip")).args(args).output().expect("the binary runs")
}

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("one JSON object ({e}): {text}"))
}

/// The planted weakness: Gossip Glomers' batched rumor mongering with its
/// backup anti-entropy turned off, a fifth of the preset's load.
const WEAK: &[&str] =
    &["check", "--preset", "glomers", "--anti-entropy-ms", "off", "--rate", "20", "--faults", "partition,one-way"];

#[test]
fn rumor_mongering_without_anti_entropy_is_caught_shrunk_to_two_faults_and_replayed() {
    let mut args = WEAK.to_vec();
    args.extend(["--seeds", "100", "--shrink", "2", "--json", "-q"]);
    let out = gossip(&args);
    assert_eq!(out.status.code(), Some(1), "a property failed: {}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    assert_eq!(r["ok"], false);
    let failing = r["failing"].as_array().expect("failing seeds");
    assert!(!failing.is_empty() && failing.len() <= 100);
    assert_eq!(r["passed"].as_u64().unwrap() + failing.len() as u64, 100);
    let examples = r["counterexamples"].as_array().expect("counterexamples");
    assert_eq!(examples.len(), 2, "the first two failing seeds are shrunk");
    for c in examples {
        let faults = c["schedule"].as_array().expect("the shrunk schedule");
        assert!(!faults.is_empty() && faults.len() <= 2, "at most two faults: {c}");
        assert!(c["faults_before"].as_u64().unwrap() >= faults.len() as u64);
        for f in faults {
            assert!(["partition", "one-way"].contains(&f["kind"].as_str().unwrap()), "{f}");
        }
        assert_eq!(c["violations"][0]["property"], "no-lost-update", "{c}");
        // the printed command, run, loses updates: the failure is real and replays
        let command = c["command"].as_str().expect("a command");
        let words: Vec<String> = command
            .strip_prefix("gossip ")
            .expect("a gossip command")
            .split(' ')
            .map(|w| w.trim_matches('\'').to_owned())
            .collect();
        assert!(words.iter().any(|w| w == "--seed"), "{command}");
        let mut replay: Vec<&str> = words.iter().map(String::as_str).collect();
        replay.extend(["--json", "-q"]);
        let sim = gossip(&replay);
        assert!(sim.status.success(), "{command}: {}", String::from_utf8_lossy(&sim.stderr));
        let s = json(&sim);
        let (lost, live, informed) =
            (s["lost_updates"].as_u64().unwrap(), s["live"].as_u64().unwrap(), s["informed"].as_u64().unwrap());
        assert!(lost > 0 || informed < live, "{command}: lost {lost}, informed {informed} of {live}");
        assert_eq!(s["config"]["faults"].as_array().unwrap().len(), 2 * faults.len(), "each fault and its heal");
        // the lab link carries the same parameters
        let lab = c["lab"].as_str().expect("a lab link");
        assert!(lab.starts_with("http://127.0.0.1:8080/#preset=glomers&"), "{lab}");
        assert!(lab.contains(&format!("seed={}", c["seed"])) && lab.contains("faults="), "{lab}");
    }
}

#[test]
fn the_same_check_gives_the_same_report_on_one_worker_or_many() {
    let mut args = WEAK.to_vec();
    args.extend(["--seeds", "12", "--shrink", "1", "--json", "-q"]);
    let one = gossip(&[&args[..], &["--jobs", "1"]].concat());
    let many = gossip(&[&args[..], &["--jobs", "3"]].concat());
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(json(&one), json(&many));
    // and without the weakness's cause, the same seeds and faults pass
    let fixed: Vec<&str> = WEAK.iter().copied().filter(|a| !["--anti-entropy-ms", "off"].contains(a)).collect();
    let out = gossip(&[&fixed[..], &["--seeds", "12", "-q"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn push_pull_with_anti_entropy_passes_a_hundred_seeds_of_every_fault() {
    let out =
        gossip(&["check", "--protocol", "push-pull", "--anti-entropy-ms", "1000", "--seeds", "100", "--json", "-q"]);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert_eq!((r["ok"].as_bool(), r["passed"].as_u64()), (Some(true), Some(100)));
    assert_eq!(r["kinds"].as_array().unwrap().len(), 6, "every kind of fault was drawn from");
}

#[test]
fn bad_input_gets_one_line_and_exit_status_2() {
    for (args, needle) in [
        (&["--colour", "red"][..], "--colour"),
        (&["--seeds", "0"], "--seeds"),
        (&["--seeds", "many"], "--seeds"),
        (&["--faults", "crash,meteor"], "meteor"),
        (&["--mean-interval", "soon"], "--mean-interval"),
        (&["--converge-within", "0"], "--converge-within"),
        (&["--nodes", "0"], "nodes"),
        (&["--scenario", "single"], "--scenario single"),
        (&["--membership", "swim"], "--membership swim"),
        (&["--fault", "1s:crash:1"], "--fault"),
        (&["--partition"], "--partition"),
        (&["--threads", "2"], "--threads"),
        (&["--settle-s", "5"], "--settle-s"),
        (&["--protocol", "push-pull", "--counter", "3"], "--counter"),
        (&["--model", "rounds"], "slow"),
        (&["--budget", "-1"], "--budget"),
    ] {
        let out = gossip(&[&["check"][..], args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("gossip check: ") && err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_shrinking_flag_with_shrink_0_is_refused_by_name_and_read_otherwise() {
    // --shrink 0 shrinks no failure: nothing reads how long a shrink may take, nor links a shrunk schedule
    for (args, needle) in [
        (&["--shrink", "0", "--shrink-runs", "5"][..], "--shrink-runs"),
        (&["--shrink", "0", "--lab-url", "http://lab.example/"], "--lab-url"),
    ] {
        let out = gossip(&[&["check", "--seeds", "1", "-q"][..], args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(&format!("gossip check: {needle} applies to shrunk failures only")), "{args:?}: {err}");
        assert!(err.contains("--shrink above 0"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // read where a failure may be shrunk, and --shrink 0 alone still runs
    const PASSING: [&str; 9] =
        ["check", "--protocol", "push-pull", "--anti-entropy-ms", "1000", "--seeds", "1", "--json", "-q"];
    for args in [&["--shrink", "1", "--shrink-runs", "5", "--lab-url", "http://lab.example/"][..], &["--shrink", "0"]] {
        let out = gossip(&[&PASSING[..], args].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(json(&out)["ok"], true, "{args:?}");
    }
}

#[test]
fn a_message_budget_below_what_the_protocol_sends_fails_and_names_the_budget() {
    let base = ["check", "--protocol", "push-pull", "--anti-entropy-ms", "1000", "--seeds", "3", "--json", "-q"];
    let out = gossip(&[&base[..], &["--budget", "1"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    assert_eq!(r["failing"].as_array().unwrap().len(), 3);
    let v = &r["counterexamples"][0]["violations"];
    assert_eq!(v[0]["property"], "budget", "{v}");
    assert!(v[0]["detail"].as_str().unwrap().contains("over the budget of 1"), "{v}");
    // the same runs within a generous budget pass
    let out = gossip(&[&base[..], &["--budget", "100000"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_movies_scenario_is_checked_without_the_broadcast_rate() {
    let out = gossip(&["check", "--scenario", "movies", "--protocol", "push-pull", "--seeds", "4", "--json", "-q"]);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(0), "{r}");
    let system = r["system"].as_str().unwrap();
    assert!(system.contains("--scenario movies") && !system.contains("--rate"), "{system}");
}
