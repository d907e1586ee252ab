//! Every `gossip sim` flag is honoured or refused, never silently ignored.
//!
//! The flags come from `gossip sim --help`, so a new flag fails here until
//! it has a row in [`ROWS`]: a non-default value and a base configuration
//! in which it should matter. With the default engine, the report of the
//! base plus the flag must differ from the base's (wall-clock fields, the
//! echoed `config` and the `engine` name aside: a flag that only moves a
//! run to the other population has not been honoured), or the command must
//! exit non-zero with a message on stderr that names the flag. Flags that
//! change only the output, or must not change the result, have their own
//! tests below.

#![cfg(not(target_arch = "wasm32"))] // runs the native binary
use std::process::{Command, Output};

use gossip::core::Protocol;
use gossip::sim::params::SimParams;
use gossip::sim::table;
use serde_json::Value;

fn gossip(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gossip")).arg("sim").args(args).output().expect("the binary runs")
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// The long flags `gossip sim --help` lists (`--quiet` for `-q, --quiet`).
fn help_flags() -> Vec<String> {
    let out = gossip(&["--help"]);
    assert!(out.status.success(), "sim --help fails: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8 help");
    let flags: Vec<String> = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().map(|w| w.trim_end_matches(',')).find(|w| w.starts_with("--")))
        .map(str::to_owned)
        .collect();
    assert!(flags.len() >= 20, "too few flags parsed from --help:\n{text}");
    flags
}

/// A report as JSON, without what may differ while the result does not:
/// wall-clock fields, the echoed configuration and the population's name.
fn result_of(args: &[&str]) -> Result<Value, Output> {
    let mut full = args.to_vec();
    full.extend(["--json", "-q"]);
    let out = gossip(&full);
    if !out.status.success() {
        return Err(out);
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let m = v.as_object_mut().expect("a JSON object");
    m.retain(|k, _| !k.starts_with("wall") && k != "config" && k != "engine");
    Ok(v)
}

/// `(flag, value, base)`: the flag with `value` (empty for a switch) should
/// change the result of `gossip sim BASE`. Several rows may test one flag
/// on different bases (each population, each protocol family).
const ROWS: &[(&str, &str, &str)] = &[
    ("--nodes", "300", "--nodes 200"),
    ("--seed", "2", "--nodes 200"),
    ("--model", "events", "--nodes 200"),
    ("--protocol", "push", "--nodes 200"),
    ("--protocol", "flood", "--nodes 200"),
    ("--fanout", "2", "--nodes 200"),
    ("--fanout", "2", "--nodes 200 --protocol rumor"),
    ("--ttl", "2", "--nodes 200 --protocol rumor"),
    ("--ttl", "2", "--nodes 200 --protocol flood"),
    ("--interval-ms", "500", "--nodes 200"),
    ("--latency-ms", "100", "--nodes 200 --model events"),
    ("--jitter-ms", "0", "--nodes 200 --model events"),
    // (the rounds model reads no latency: refused there, not ignored)
    ("--latency-ms", "100", "--nodes 200"),
    ("--jitter-ms", "0", "--nodes 200"),
    ("--link-spread", "0.5", "--nodes 200 --model events"),
    ("--link-spread", "0.5", "--nodes 200"),
    ("--loss", "0.1", "--nodes 200"),
    ("--scenario", "movies", "--nodes 50"),
    ("--scenario", "broadcast", "--nodes 50"),
    ("--rate", "50", "--nodes 50 --scenario broadcast --duration-s 3"),
    // a workload parameter of another scenario: refused
    ("--rate", "5", "--nodes 50 --scenario movies --duration-s 10"),
    ("--resample-ms", "3000", "--nodes 200"),
    ("--settle-s", "1", "--nodes 200"),
    ("--anti-entropy-ms", "500", "--nodes 200"),
    ("--anti-entropy-ms", "500", "--nodes 200 --protocol push"),
    ("--anti-entropy-ms", "2000", "--nodes 200 --protocol rumor"),
    ("--anti-entropy-ms", "2000", "--nodes 200 --protocol rumor --model events"),
    ("--anti-entropy-ms", "500", "--nodes 50 --scenario movies --duration-s 10 --model events"),
    ("--targets", "round-robin", "--nodes 200"),
    ("--targets", "round-robin", "--nodes 200 --protocol rumor"),
    ("--targets", "round-robin", "--nodes 200 --protocol pull --model events"),
    ("--targets", "round-robin", "--nodes 50 --scenario movies --duration-s 10"),
    ("--preset", "glomers", "--nodes 200"),
    ("--partition", "", "--nodes 200"),
    ("--duration-s", "5", "--nodes 200"),
    ("--settle-s", "1", "--nodes 50 --scenario movies --duration-s 10 --loss 0.3"),
    ("--settle-s", "1", "--nodes 50 --scenario broadcast --duration-s 3 --loss 0.3"),
    ("--resample-ms", "3000", "--nodes 50 --scenario movies --duration-s 10"),
    ("--stop", "blind", "--nodes 200 --protocol rumor"),
    ("--counter", "2", "--nodes 200 --protocol rumor"),
    ("--coin", "2", "--nodes 200 --protocol rumor"),
    ("--eager", "on", "--nodes 200"),
    // eager push over a protocol that already pushes every fresh update: refused
    ("--eager", "on", "--nodes 200 --protocol rumor"),
    ("--eager", "on", "--nodes 200 --protocol flood"),
    // flood sends to every peer: no fanout, and round-robin only for its backup exchange
    ("--fanout", "2", "--nodes 200 --protocol flood"),
    ("--targets", "round-robin", "--nodes 200 --protocol flood"),
    ("--targets", "round-robin", "--nodes 200 --protocol flood --ttl 1 --loss 0.5 --anti-entropy-ms 300 --model events"),
    ("--eager", "off", "--nodes 50 --scenario movies --duration-s 10"),
    ("--fault", "3s:crash:3", "--nodes 200"),
    ("--fault", "1s:loss:0.5", "--nodes 200 --protocol rumor"),
    ("--membership", "bootstrap", "--nodes 200"),
    ("--membership", "bootstrap", "--nodes 200 --protocol rumor --model events"),
    // overlays: HyParView or a static topology, with plumtree or flood
    ("--membership", "ring", "--nodes 100 --protocol flood"),
    ("--membership", "hyparview", "--nodes 100 --protocol flood --scenario broadcast --duration-s 3"),
    ("--protocol", "plumtree", "--nodes 100"),
    ("--degree", "6", OVERLAY),
    ("--degree", "6", "--nodes 100"),
    ("--rewire", "0.5", "--nodes 100 --membership watts-strogatz --protocol plumtree --scenario broadcast --warmup-cycles 0 --duration-s 3"),
    ("--rewire", "0.5", OVERLAY),
    ("--ihave-timeout-ms", "100", OVERLAY_EVENTS),
    ("--graft-timeout-ms", "20", OVERLAY_EVENTS),
    ("--optimization", "1", OVERLAY_EVENTS),
    ("--senders", "1", OVERLAY),
    ("--warmup-cycles", "2", OVERLAY),
    ("--fanout", "2", OVERLAY),
    ("--membership", "swim", "--nodes 200 --model events"),
    ("--latency-dist", "uniform", "--nodes 200 --model events"),
    ("--latency-dist", "uniform", "--nodes 200"),
    ("--latency-dist", "lognormal", "--nodes 200 --model events --jitter-ms 30"),
    ("--swim-formulas", "memberlist", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--lifeguard", "on", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--lifeguard", "health", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--suspicion", "off", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--probe-interval-ms", "800", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--probe-timeout-ms", "300", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--indirect-k", "1", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--suspicion-mult", "1", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--suspicion-max-mult", "2", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3 --lifeguard on --suspicion-mult 1"),
    ("--retransmit-mult", "1", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--awareness-max", "2", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3 --lifeguard on"),
    ("--phase", "aligned", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    // Lifeguard's flags without its part, the suspicion timeouts without suspicion: refused
    ("--awareness-max", "2", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
    ("--suspicion-max-mult", "2", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3 --lifeguard health"),
    ("--suspicion-mult", "1", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3 --suspicion off"),
    // SWIM's flags without SWIM, and dissemination flags with it: refused
    ("--indirect-k", "1", "--nodes 200 --model events"),
    ("--fanout", "2", "--preset swim-paper --nodes 50 --duration-s 30 --loss 0.1 --fault 5s:crash:3"),
];

/// A static overlay run with Plumtree.
const OVERLAY: &str =
    "--nodes 100 --membership ring --protocol plumtree --scenario broadcast --warmup-cycles 0 --duration-s 3";
/// The same in the events model, with losses and crashes for the timers to act on.
const OVERLAY_EVENTS: &str = "--nodes 100 --membership k-out --degree 3 --protocol plumtree --scenario broadcast \
    --warmup-cycles 0 --duration-s 5 --model events --jitter-ms 40 --loss 0.2 --fault 1s:crash:3 --fault 1s:crash:7";

/// Flags with a test of their own below.
const OWN_TESTS: &[&str] = &["--engine", "--threads", "--json", "--quiet", "--help"];

#[test]
fn every_flag_in_the_help_has_a_row() {
    let missing: Vec<String> = help_flags()
        .into_iter()
        .filter(|f| !OWN_TESTS.contains(&f.as_str()) && !ROWS.iter().any(|r| r.0 == f))
        .collect();
    assert!(
        missing.is_empty(),
        "gossip sim --help lists flags with no row in tests/suite/cli_flags.rs ROWS: {missing:?}"
    );
}

#[test]
fn every_flag_changes_the_result_or_is_refused_by_name() {
    let mut ignored = Vec::new();
    for &(flag, value, base) in ROWS {
        let base_args = words(base);
        let mut with = base_args.clone();
        with.push(flag);
        with.extend(words(value));
        let before = result_of(&base_args)
            .unwrap_or_else(|o| panic!("the base `gossip sim {base}` fails: {}", String::from_utf8_lossy(&o.stderr)));
        match result_of(&with) {
            Ok(after) if after != before => {}
            Ok(_) => ignored.push(format!("`{flag} {value}` on `{base}`: the same result as without it")),
            Err(out) => {
                let err = String::from_utf8_lossy(&out.stderr);
                if !err.contains(flag) {
                    ignored.push(format!(
                        "`{flag} {value}` on `{base}`: refused ({}) without naming {flag}: {}",
                        out.status,
                        err.trim()
                    ));
                }
            }
        }
    }
    assert!(ignored.is_empty(), "flags silently ignored:\n{}", ignored.join("\n"));
}

#[test]
fn engine_full_gives_the_compact_result_and_compact_refuses_what_it_cannot_run() {
    let base = words("--nodes 300 --protocol rumor --counter 2 --fault 2s:crash:4 --loss 0.1");
    let auto = result_of(&base).expect("runs");
    let mut full = base.clone();
    full.extend(["--engine", "full"]);
    assert_eq!(result_of(&full).expect("runs"), auto, "both populations give the same result");
    full.extend(["--json", "-q"]);
    let out = gossip(&full);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["engine"], "full");
    // the compact engine names what it cannot run
    for (extra, needle) in [
        ("--anti-entropy-ms 500", "--anti-entropy-ms"),
        ("--targets round-robin", "--targets round-robin"),
        ("--scenario movies", "--scenario movies"),
        ("--membership bootstrap", "--membership bootstrap"),
        ("--protocol flood", "--protocol flood"),
        ("--eager on", "--eager on"),
    ] {
        let mut args = words("--nodes 100 --engine compact -q");
        args.extend(words(extra));
        let out = gossip(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra}: {err}");
        assert!(err.contains("--engine") && err.contains(needle), "{extra}: {err}");
    }
    // every obstacle at once, each named
    let out = gossip(&words("--nodes 100 --engine compact --anti-entropy-ms 500 --targets round-robin -q"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--anti-entropy-ms") && err.contains("--targets round-robin"), "{err}");
}

#[test]
fn threads_never_change_the_report_and_a_run_that_cannot_use_them_says_so() {
    for base in
        ["--nodes 500 --model events --engine full", "--nodes 60 --scenario movies --model events --duration-s 10"]
    {
        let run = |threads: &str| {
            let mut args = words(base);
            args.extend(["--threads", threads, "--json", "-q"]);
            let out = gossip(&args);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        let one = run("1");
        assert_eq!(one, run("2"), "{base}: --threads 2");
        assert_eq!(one, run("3"), "{base}: --threads 3");
    }
    // a run that cannot use the threads asked says so (and still runs)
    for (base, note) in [
        ("--nodes 50 --membership swim --model events --duration-s 3", "SWIM"),
        ("--nodes 60 --membership hyparview --protocol plumtree --scenario broadcast --duration-s 3", "HyParView"),
        ("--nodes 500", "fewer than 65536 nodes"),
        ("--nodes 500 --model events", "compact population"),
        ("--nodes 500 --engine full", "rounds model"),
        ("--nodes 100 --model events --protocol flood --ttl 3", "flood"),
    ] {
        let out = gossip(&[words(base), words("--threads 2 -q")].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{base}: {err}");
        assert!(err.contains("note: --threads 2") && err.contains(note), "{base}: {err}");
        let out = gossip(&[words(base), words("--threads 1 -q")].concat());
        assert!(out.stderr.is_empty(), "{base} --threads 1: {}", String::from_utf8_lossy(&out.stderr));
    }
    for base in
        ["--nodes 500 --model events --engine full", "--nodes 60 --scenario movies --model events --duration-s 3"]
    {
        let out = gossip(&[words(base), words("--threads 2 -q")].concat());
        assert!(out.status.success() && out.stderr.is_empty(), "{base}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = gossip(&words("--nodes 50 --threads 0"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads"));
}

#[test]
fn json_prints_one_object_and_the_summary_otherwise() {
    let out = gossip(&words("--nodes 100 --json -q"));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(serde_json::from_str::<Value>(&text).expect("JSON").is_object());
    let out = gossip(&words("--nodes 100 -q"));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(serde_json::from_str::<Value>(&text).is_err() && text.starts_with("gossip sim: 100 nodes"), "{text}");
}

#[test]
fn quiet_removes_the_timing_line_and_nothing_else() {
    for json in [true, false] {
        let mut args = words("--nodes 100");
        if json {
            args.push("--json");
        }
        let loud = gossip(&args);
        args.push("-q");
        let quiet = gossip(&args);
        let loud_err = String::from_utf8_lossy(&loud.stderr);
        assert!(loud_err.starts_with("ran in ") && loud_err.lines().count() == 1, "{loud_err}");
        assert!(quiet.stderr.is_empty(), "{}", String::from_utf8_lossy(&quiet.stderr));
        assert_eq!(loud.stdout, quiet.stdout, "-q changes only stderr");
        args.pop();
        args.push("--quiet");
        assert_eq!(gossip(&args).stderr, quiet.stderr, "--quiet is -q");
    }
}

#[test]
fn help_prints_the_usage() {
    let out = gossip(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
}

#[test]
fn anti_entropy_runs_end_as_converged_once_everyone_knows() {
    // backup anti-entropy under rumor mongering and flooding: the run ends
    // when every live node knows the update, not at the time limit
    for args in [
        "--nodes 200 --protocol rumor --anti-entropy-ms 2000 --model events",
        "--nodes 200 --protocol rumor --anti-entropy-ms 2000",
        "--nodes 200 --protocol rumor --counter 1 --loss 0.3 --anti-entropy-ms 1500 --model events",
        "--nodes 200 --protocol flood --ttl 1 --loss 0.5 --anti-entropy-ms 1000 --model events",
    ] {
        let mut a = words(args);
        a.extend(["--json", "-q"]);
        let out = gossip(&a);
        assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["stop_reason"], "converged", "{args}");
        assert_eq!(v["informed"], v["live"], "{args}");
        assert!(v["time_ms"].as_u64().expect("time") < 100_000, "{args}: {}", v["time_ms"]);
    }
}

#[test]
fn every_protocol_of_the_registry_reaches_every_interface() {
    let help = String::from_utf8(gossip(&["--help"]).stdout).expect("UTF-8 help");
    let unknown = gossip(&words("--protocol telepathy"));
    assert_eq!(unknown.status.code(), Some(2));
    let unknown = String::from_utf8_lossy(&unknown.stderr).into_owned();
    let refused = SimParams::default().set("protocol", "telepathy").expect_err("unknown").to_string();
    // the page's table (what `Lab.table()` hands the page)
    let page: Value = serde_json::from_str(&table::table_json()).expect("JSON");
    let field = page["params"].as_array().expect("params").iter().find(|p| p["name"] == "protocol").expect("a field");
    let options: Vec<(&str, &str)> = field["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .map(|c| (c["value"].as_str().expect("value"), c["help"].as_str().expect("help")))
        .collect();
    let listed: Vec<&str> =
        page["protocols"].as_array().expect("protocols").iter().map(|p| p["name"].as_str().expect("name")).collect();
    assert_eq!(options.len(), Protocol::ALL.len(), "the page lists the registry, no more");
    for p in Protocol::ALL {
        let (name, summary) = (p.name(), p.info().summary);
        let in_help = |l: &str| l.trim_start().starts_with(&format!("- {name}:")) && l.ends_with(summary);
        assert!(help.lines().any(in_help), "gossip sim --help lacks {name} and its summary:\n{help}");
        let mut s = SimParams::default();
        s.set("protocol", name).unwrap_or_else(|e| panic!("{name}: {e}"));
        if p.info().overlay {
            s.set("membership", "ring").expect("an overlay");
        }
        assert_eq!(s.to_config().expect("valid").node.protocol, *p);
        assert!(options.contains(&(name, summary)), "the page's protocol field lacks {name}: {options:?}");
        assert!(listed.contains(&name), "the page's registry lacks {name}");
        assert!(unknown.contains(name), "`--protocol telepathy` does not list {name}: {unknown}");
        assert!(refused.contains(name), "set(\"protocol\", \"telepathy\") does not list {name}: {refused}");
    }
}
