//! `gossip test-node`'s report: readable text (one line per step, the
//! detail and the hint under each failure, a verdict) or, with `--json`,
//! one JSON object for machines.

use serde_json::{json, Value};

use super::steps::{Outcome, Status};

/// What the whole run found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The node under test: its base URL.
    pub node: String,
    /// The command that started it (none with `--url`).
    pub command: Option<String>,
    /// Each step's outcome, in order.
    pub outcomes: Vec<Outcome>,
    /// The lab's URL, with `--lab`.
    pub lab: Option<String>,
}

impl Report {
    /// Whether every required step passed (a skipped required step counts
    /// as passed only when it does not apply, which the runner marks as not
    /// required).
    pub fn passed(&self) -> bool {
        !self.outcomes.iter().any(|o| o.fails_the_test() || (o.required && o.status == Status::Skip))
    }

    /// The readable report.
    pub fn text(&self) -> String {
        let mut s = String::new();
        match &self.command {
            Some(c) => s.push_str(&format!("gossip test-node: {c}\n  node under test: {}\n\n", self.node)),
            None => s.push_str(&format!("gossip test-node: {}\n\n", self.node)),
        }
        for o in &self.outcomes {
            let tag = match (o.status, o.required) {
                (Status::Pass, _) => "PASS",
                (Status::Fail, true) => "FAIL",
                (Status::Fail, false) => "WARN",
                (Status::Skip, _) => "SKIP",
            };
            s.push_str(&format!("{tag}  {:<17} {} ({:.1} s)\n", o.step.name, o.step.title, o.duration.as_secs_f64()));
            if !o.detail.is_empty() {
                s.push_str(&format!("      {}\n", o.detail));
            }
            if o.status == Status::Fail {
                s.push_str(&format!("      hint: {}\n", o.step.hint()));
            }
        }
        let count = |st: Status| self.outcomes.iter().filter(|o| o.status == st).count();
        let failed_required = self.outcomes.iter().filter(|o| o.fails_the_test()).count();
        s.push_str(&format!(
            "\n{} passed, {} failed ({} required), {} skipped: {}\n",
            count(Status::Pass),
            count(Status::Fail),
            failed_required,
            count(Status::Skip),
            if self.passed() { "PASS" } else { "FAIL" }
        ));
        if let Some(lab) = &self.lab {
            s.push_str(&format!("lab: {lab}\n"));
        }
        s
    }

    /// The machine-readable report.
    pub fn json(&self) -> Value {
        json!({
            "node": self.node,
            "command": self.command,
            "passed": self.passed(),
            "lab": self.lab,
            "steps": self.outcomes.iter().map(|o| json!({
                "name": o.step.name,
                "title": o.step.title,
                "required": o.required,
                "status": o.status.as_str(),
                "duration_ms": o.duration.as_millis() as u64,
                "detail": o.detail,
                "section": o.step.section,
                "hint": if o.status == Status::Fail { Value::from(o.step.hint()) } else { Value::Null },
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::steps::{DEDUP, STARTS, TTL};
    use super::*;
    use std::time::Duration;

    fn outcome(step: super::super::steps::Step, required: bool, status: Status) -> Outcome {
        Outcome { step, required, status, duration: Duration::from_millis(1500), detail: "seen".into() }
    }

    #[test]
    fn the_verdict_fails_on_a_required_failure_only_and_hints_show_under_failures() {
        let mut r = Report {
            node: "http://127.0.0.1:7001".into(),
            command: Some("python3 n.py".into()),
            outcomes: vec![outcome(STARTS, true, Status::Pass), outcome(TTL, false, Status::Fail)],
            lab: None,
        };
        assert!(r.passed(), "an advisory failure does not fail the test");
        assert!(r.text().contains("WARN  ttl"), "{}", r.text());
        r.outcomes.push(outcome(DEDUP, true, Status::Fail));
        assert!(!r.passed());
        let text = r.text();
        assert!(text.contains("FAIL  dedup") && text.contains("section \"Deduplication\""), "{text}");
        assert!(text.trim_end().ends_with("FAIL"), "{text}");
        let j = r.json();
        assert_eq!(j["passed"], false);
        assert_eq!(j["steps"][2]["name"], "dedup");
        assert_eq!(j["steps"][2]["status"], "fail");
        assert_eq!(j["steps"][2]["duration_ms"], 1500);
        assert!(j["steps"][2]["hint"].as_str().unwrap().contains("Deduplication"));
        assert!(j["steps"][0]["hint"].is_null(), "no hint on a pass");
        r.outcomes[2].status = Status::Skip;
        assert!(!r.passed(), "a required step that was skipped is not a pass");
    }
}
