//! Golden reports: every configuration named in `tests/golden/configs.txt`
//! (`NAME: ARGS`, one a line) run through the freshly built `gossip sim ARGS
//! --json -q` must print, wall-clock fields aside, exactly the bytes stored
//! in `tests/golden/NAME.json`. A refactoring that changes any simulated
//! result fails here, naming the configuration and the first key that
//! differs. A deliberate change is recorded with `scripts/golden.sh`.

#![cfg(not(target_arch = "wasm32"))] // runs the native binary
use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// `(name, args)` of every configuration line; blank lines and `#`
/// comments are skipped. Panics on a malformed line or a repeated name.
fn configs() -> Vec<(String, Vec<String>)> {
    let path = golden_dir().join("configs.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, args) =
            line.split_once(':').unwrap_or_else(|| panic!("configs.txt line {}: not NAME: ARGS: {line}", i + 1));
        let name = name.trim();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "configs.txt line {}: bad name {name:?}",
            i + 1
        );
        assert!(out.iter().all(|(n, _)| n != name), "configs.txt line {}: {name} appears twice", i + 1);
        out.push((name.to_owned(), args.split_whitespace().map(str::to_owned).collect()));
    }
    out
}

/// The report without wall-clock fields: every `"wall...` up to and
/// including the next comma, as `scripts/ab.sh` and `scripts/golden.sh`
/// remove them (`sed 's/"wall[^,]*,//g'`).
fn strip_wall(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\"wall") {
        out.push_str(&rest[..at]);
        match rest[at..].find(',') {
            Some(comma) => rest = &rest[at + comma + 1..],
            None => {
                // no comma after it: sed leaves the line alone from here
                out.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The path (`config.node.fanout`, `coverage[3]`) of the JSON value that
/// byte `pos` of `text` lies in; a key starting at `pos` counts as reached.
fn path_at(text: &str, pos: usize) -> String {
    enum Frame {
        Obj { key: Option<String>, expect_key: bool },
        Arr(usize),
    }
    let b = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() && i <= pos {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Obj { key, expect_key: e @ true }) = stack.last_mut() {
                    *key = Some(text[start..j.min(b.len())].to_owned());
                    *e = false;
                }
                i = j + 1;
                continue;
            }
            _ if i == pos => break,
            b'{' => stack.push(Frame::Obj { key: None, expect_key: true }),
            b'[' => stack.push(Frame::Arr(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Obj { expect_key, .. }) => *expect_key = true,
                Some(Frame::Arr(n)) => *n += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for f in &stack {
        match f {
            Frame::Obj { key: Some(k), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Obj { key: None, .. } => {}
            Frame::Arr(n) => path.push_str(&format!("[{n}]")),
        }
    }
    if path.is_empty() {
        "(top level)".into()
    } else {
        path
    }
}

/// Up to 60 bytes of `s` either side of `pos`, on char boundaries.
fn around(s: &str, pos: usize) -> &str {
    let mut a = pos.saturating_sub(60).min(s.len());
    let mut b = (pos + 60).min(s.len());
    while !s.is_char_boundary(a) {
        a -= 1;
    }
    while !s.is_char_boundary(b) {
        b += 1;
    }
    &s[a..b]
}

/// Why `got` is not `want`, naming the first key that differs.
fn difference(want: &str, got: &str) -> String {
    let pos = want.bytes().zip(got.bytes()).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
    let (pw, pg) = (path_at(want, pos), path_at(got, pos));
    let key = if pw == pg { format!("key `{pw}`") } else { format!("key `{pw}` (the new report has `{pg}` there)") };
    format!(
        "first difference at {key}, byte {pos}\n    stored: ...{}...\n    now:    ...{}...",
        around(want, pos),
        around(got, pos)
    )
}

#[test]
fn every_golden_configuration_prints_its_stored_report() {
    let dir = golden_dir();
    let configs = configs();
    assert!(configs.len() >= 34, "configs.txt holds {} configurations; keep at least 34", configs.len());
    let mut failures = Vec::new();
    for (name, args) in &configs {
        let stored = dir.join(format!("{name}.json"));
        let Ok(want) = std::fs::read_to_string(&stored) else {
            failures.push(format!(
                "{name}: no stored report {} (record it: scripts/golden.sh target/release/gossip {name})",
                stored.display()
            ));
            continue;
        };
        let out = Command::new(env!("CARGO_BIN_EXE_gossip"))
            .arg("sim")
            .args(args)
            .args(["--json", "-q"])
            .output()
            .expect("the binary runs");
        if !out.status.success() {
            failures.push(format!(
                "{name}: `gossip sim {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            continue;
        }
        let got = strip_wall(&String::from_utf8_lossy(&out.stdout));
        if got != want {
            failures.push(format!("{name}: `gossip sim {}`: {}", args.join(" "), difference(&want, &got)));
        }
    }
    // a stored report whose configuration is gone would silently stop being checked
    for entry in std::fs::read_dir(&dir).expect("tests/golden is readable") {
        let path = entry.expect("a directory entry").path();
        if let Some(stem) = path.file_name().and_then(|f| f.to_str()).and_then(|f| f.strip_suffix(".json")) {
            if !configs.iter().any(|(n, _)| n == stem) {
                failures
                    .push(format!("{}: no line in configs.txt names it; delete it or add its line", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden configurations fail (a deliberate change: scripts/golden.sh target/release/gossip):\n{}",
        failures.len(),
        configs.len(),
        failures.join("\n")
    );
}

#[test]
fn the_first_difference_is_named_by_its_key() {
    let want = r#"{"a":1,"config":{"node":{"fanout":1,"ttl":32}},"coverage":[[0,0.1],[1000,0.5]]}"#;
    let got = want.replace("\"ttl\":32", "\"ttl\":33");
    assert!(difference(want, &got).contains("key `config.node.ttl`"), "{}", difference(want, &got));
    let got = want.replace("0.5", "0.6");
    assert!(difference(want, &got).contains("key `coverage[1][1]`"), "{}", difference(want, &got));
    let got = want.replace("\"a\":1,", "");
    assert!(
        difference(want, &got).contains("key `a` (the new report has `config` there)"),
        "{}",
        difference(want, &got)
    );
    assert_eq!(strip_wall(r#"{"x":1,"wall_ms":12.5,"y":2}"#), r#"{"x":1,"y":2}"#);
}
