//! The fault timeline: what happens to the network and the nodes, and when.
//!
//! The vocabulary follows turmoil's: `partition`, `heal` (or `repair`),
//! `crash`, `restart` (or `bounce`), plus `join`, `leave` and `loss`. On the
//! command line a fault is written `TIME:KIND[:ARG]`, e.g. `10s:partition:2`,
//! `20s:heal`, `5000:crash:3`, `8s:restart:3`, `8s:restart-fresh:3`,
//! `12s:join:5`, `15s:leave:7`, `3s:loss:0.3`. TIME is ms, or seconds with `s`.
//!
//! Faults for failure detectors (the events model):
//!
//! * `TIME:slow:NODE:MS`: the node handles every message it receives `MS`
//!   late from then on, as a CPU-starved process whose receive queue backs
//!   up (its answers leave that late too), while its timers fire on time:
//!   its own timeouts expire before it has read the acks waiting for it, the
//!   effect Lifeguard's benchmarks inject. `TIME:fast:NODE` ends it.
//! * `TIME:crash-random:FRACTION`: that fraction of the running members
//!   (rounded to the nearest whole number) crash at once, chosen from the
//!   run's seed (a stream of their own).
//! * `TIME:block:A>B` and `TIME:unblock:A>B`: a one-way partition; every
//!   message from a node of `A` to a node of `B` is dropped, where `A` and `B`
//!   are a node (`3`) or an inclusive range (`0-9`). `heal` lifts blocks too.
//! * `TIME:drop:A>B`: every message from `A` to `B` (nodes or ranges, as
//!   `block`) that is in flight at `TIME` is lost on arrival; later ones
//!   pass. The lab records a click on a message in flight this way, so
//!   the link replays it (events model only: in rounds an exchange
//!   completes within its round, nothing is in flight between rounds).
//!
//! The engines take faults from the run's one external timeline
//! (`timeline.rs`), together with the workload's requests: at the same
//! millisecond, faults come first.

use serde::{Deserialize, Serialize};

/// One fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Fault {
    /// Split the current nodes into `groups` contiguous groups.
    Partition { groups: u16 },
    /// Remove the partition.
    Heal,
    /// Stop `node`: it neither acts nor receives until restarted.
    Crash { node: u32 },
    /// Start `node` again; `keep_state: false` means it lost its memory and
    /// comes back in a new epoch.
    Restart { node: u32, keep_state: bool },
    /// Add `count` new nodes.
    Join { count: u32 },
    /// Remove `node` for good.
    Leave { node: u32 },
    /// Set the loss probability.
    Loss { p: f64 },
    /// `node` handles every message it receives `ms` late (CPU-starved).
    Slow { node: u32, ms: u64 },
    /// `node` is no longer slow.
    Fast { node: u32 },
    /// A random `fraction` of the running members crash at once.
    CrashRandom { fraction: f64 },
    /// Drop every message from nodes `from` to nodes `to` (inclusive ranges).
    Block { from: (u32, u32), to: (u32, u32) },
    /// Lift a block.
    Unblock { from: (u32, u32), to: (u32, u32) },
    /// Lose every message from nodes `from` to nodes `to` in flight now.
    Drop { from: (u32, u32), to: (u32, u32) },
}

/// A fault at a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedFault {
    /// Virtual time, ms.
    pub at_ms: u64,
    /// What happens.
    #[serde(flatten)]
    pub fault: Fault,
}

/// Why a fault's text was refused: the text as given and what is wrong with
/// it (which part, what it takes). Reads `fault "10s:partition:1": a
/// partition needs 2 to 1000 groups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultError {
    /// The fault as written (`10s:partition:1`).
    pub text: String,
    /// What is wrong, naming the part (`bad time "10x" (use ms, or seconds with 's')`).
    pub problem: String,
}

impl std::fmt::Display for FaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fault {:?}: {}", self.text, self.problem)
    }
}

impl std::error::Error for FaultError {}

/// Parse `TIME:KIND[:ARG]`.
pub fn parse_fault(s: &str) -> Result<TimedFault, FaultError> {
    let err = |problem: String| FaultError { text: s.into(), problem };
    let parts: Vec<&str> = s.trim().split(':').collect();
    let four = parts.get(1).is_some_and(|k| k.eq_ignore_ascii_case("slow"));
    if parts.len() < 2 || parts.len() > 3 + usize::from(four) {
        return Err(err("expected TIME:KIND[:ARG], e.g. 10s:partition:2".into()));
    }
    let at_ms =
        parse_time(parts[0]).ok_or_else(|| err(format!("bad time {:?} (use ms, or seconds with 's')", parts[0])))?;
    let arg = parts.get(2).copied();
    let need =
        |what: &str| -> Result<&str, FaultError> { arg.ok_or_else(|| err(format!("{} needs {what}", parts[1]))) };
    let num = |what: &str| -> Result<u64, FaultError> {
        need(what)?.parse::<u64>().map_err(|_| err(format!("{what} must be a whole number")))
    };
    let node = || -> Result<u32, FaultError> {
        let n = num("a node index")?;
        u32::try_from(n).map_err(|_| err("node index too large".into()))
    };
    let fault = match parts[1].to_ascii_lowercase().as_str() {
        "partition" => {
            let g = if arg.is_some() { num("a number of groups")? } else { 2 };
            if !(2..=1000).contains(&g) {
                return Err(err("a partition needs 2 to 1000 groups".into()));
            }
            Fault::Partition { groups: g as u16 }
        }
        "heal" | "repair" => Fault::Heal,
        "crash" | "kill" => Fault::Crash { node: node()? },
        "restart" | "bounce" => Fault::Restart { node: node()?, keep_state: true },
        "restart-fresh" | "restart-clean" => Fault::Restart { node: node()?, keep_state: false },
        "join" => {
            let c = if arg.is_some() { num("a count")? } else { 1 };
            if !(1..=1_000_000).contains(&c) {
                return Err(err("join 1 to 1000000 nodes".into()));
            }
            Fault::Join { count: c as u32 }
        }
        "leave" => Fault::Leave { node: node()? },
        "slow" => {
            let ms = parts.get(3).ok_or_else(|| err("slow needs NODE:MS".into()))?;
            let ms = ms.parse::<u64>().map_err(|_| err("MS must be a whole number".into()))?;
            if ms == 0 || ms > 3_600_000 {
                return Err(err("a slow member is 1 to 3600000 ms late".into()));
            }
            Fault::Slow { node: node()?, ms }
        }
        "fast" => Fault::Fast { node: node()? },
        "crash-random" => {
            let f: f64 = need("a fraction")?.parse().map_err(|_| err("the fraction must be a number".into()))?;
            if !(0.0..=1.0).contains(&f) {
                return Err(err("the fraction must be between 0 and 1".into()));
            }
            Fault::CrashRandom { fraction: f }
        }
        "block" | "unblock" | "drop" => {
            let arg = need("A>B (nodes or ranges, e.g. 0-9>10-19)")?;
            let (a, b) = arg.split_once('>').ok_or_else(|| err("expected A>B, e.g. 0-9>10-19".into()))?;
            let (from, to) = (range(s, a)?, range(s, b)?);
            match parts[1].to_ascii_lowercase().as_str() {
                "block" => Fault::Block { from, to },
                "unblock" => Fault::Unblock { from, to },
                _ => Fault::Drop { from, to },
            }
        }
        "loss" => {
            let p: f64 = need("a probability")?.parse().map_err(|_| err("loss must be a number".into()))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(err("loss must be between 0 and 1".into()));
            }
            Fault::Loss { p }
        }
        other => {
            return Err(err(format!(
                "unknown kind {other:?} (partition, heal, crash, restart, restart-fresh, join, leave, loss, \
             slow, fast, crash-random, block, unblock, drop)"
            )))
        }
    };
    Ok(TimedFault { at_ms, fault })
}

/// A node or an inclusive range of nodes, `3` or `0-9`.
fn range(s: &str, t: &str) -> Result<(u32, u32), FaultError> {
    let err = |problem: String| FaultError { text: s.into(), problem };
    let num = |x: &str| x.trim().parse::<u32>().map_err(|_| err(format!("{x:?} is not a node index")));
    let (lo, hi) = match t.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(t)?, num(t)?),
    };
    if lo > hi {
        return Err(err(format!("range {t:?} runs backwards")));
    }
    Ok((lo, hi))
}

/// A range as [`range`] reads it.
fn fmt_range((lo, hi): (u32, u32)) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// Write a fault as [`parse_fault`] reads it back (`TIME_MS:KIND[:ARG]`).
pub fn format_fault(f: &TimedFault) -> String {
    let t = f.at_ms;
    match f.fault {
        Fault::Partition { groups } => format!("{t}:partition:{groups}"),
        Fault::Heal => format!("{t}:heal"),
        Fault::Crash { node } => format!("{t}:crash:{node}"),
        Fault::Restart { node, keep_state: true } => format!("{t}:restart:{node}"),
        Fault::Restart { node, keep_state: false } => format!("{t}:restart-fresh:{node}"),
        Fault::Join { count } => format!("{t}:join:{count}"),
        Fault::Leave { node } => format!("{t}:leave:{node}"),
        Fault::Loss { p } => format!("{t}:loss:{p}"),
        Fault::Slow { node, ms } => format!("{t}:slow:{node}:{ms}"),
        Fault::Fast { node } => format!("{t}:fast:{node}"),
        Fault::CrashRandom { fraction } => format!("{t}:crash-random:{fraction}"),
        Fault::Block { from, to } => format!("{t}:block:{}>{}", fmt_range(from), fmt_range(to)),
        Fault::Unblock { from, to } => format!("{t}:unblock:{}>{}", fmt_range(from), fmt_range(to)),
        Fault::Drop { from, to } => format!("{t}:drop:{}>{}", fmt_range(from), fmt_range(to)),
    }
}

/// Parse a time: `1500` (ms), `1.5s`, `250ms`.
pub fn parse_time(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, scale) = if let Some(v) = s.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0 && v * scale < 1e15).then(|| (v * scale).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_whole_vocabulary() {
        let f = |s| parse_fault(s).unwrap();
        assert_eq!(f("10s:partition:3"), TimedFault { at_ms: 10_000, fault: Fault::Partition { groups: 3 } });
        assert_eq!(f("20s:heal").fault, Fault::Heal);
        assert_eq!(f("20s:repair").fault, Fault::Heal);
        assert_eq!(f("5000:crash:3"), TimedFault { at_ms: 5000, fault: Fault::Crash { node: 3 } });
        assert_eq!(f("8s:bounce:3").fault, Fault::Restart { node: 3, keep_state: true });
        assert_eq!(f("8s:restart-fresh:3").fault, Fault::Restart { node: 3, keep_state: false });
        assert_eq!(f("1.5s:join:4"), TimedFault { at_ms: 1500, fault: Fault::Join { count: 4 } });
        assert_eq!(f("250ms:loss:0.5").fault, Fault::Loss { p: 0.5 });
        assert_eq!(f("2s:slow:4:1500").fault, Fault::Slow { node: 4, ms: 1500 });
        assert_eq!(f("3s:fast:4").fault, Fault::Fast { node: 4 });
        assert_eq!(f("1s:crash-random:0.1").fault, Fault::CrashRandom { fraction: 0.1 });
        assert_eq!(f("1s:block:0-9>10-19").fault, Fault::Block { from: (0, 9), to: (10, 19) });
        assert_eq!(f("1s:unblock:3>5").fault, Fault::Unblock { from: (3, 3), to: (5, 5) });
        assert_eq!(f("1234:drop:3>7"), TimedFault { at_ms: 1234, fault: Fault::Drop { from: (3, 3), to: (7, 7) } });
    }

    #[test]
    fn formatted_faults_parse_back() {
        for s in [
            "10s:partition:3",
            "20s:heal",
            "5001:crash:3",
            "8s:bounce:3",
            "8s:restart-fresh:3",
            "1.5s:join:4",
            "2s:slow:4:1500",
            "3s:fast:4",
            "1s:crash-random:0.25",
            "1s:block:0-9>12",
            "1s:unblock:3>5-6",
            "1201:drop:3>7",
            "5s:drop:0-4>9",
        ] {
            let f = parse_fault(s).unwrap();
            assert_eq!(parse_fault(&format_fault(&f)).unwrap(), f, "{s}");
        }
        let f = parse_fault("3:loss:0.123456789").unwrap();
        assert_eq!(parse_fault(&format_fault(&f)).unwrap(), f, "floats round-trip exactly");
    }

    #[test]
    fn rejects_bad_faults_with_a_reason() {
        for bad in [
            "",
            "10s",
            "x:crash:1",
            "10s:explode",
            "10s:crash",
            "10s:crash:-1",
            "1s:loss:2",
            "1s:partition:1",
            "-5:heal",
            "1s:slow:3",
            "1s:slow:3:0",
            "1s:loss:0.1:2",
            "1s:crash-random:1.5",
            "1s:block:3",
            "1s:block:9-3>1",
            "1s:block:a>b",
            "1s:drop",
            "1s:drop:3",
            "1s:drop:7-3>1",
        ] {
            let e = parse_fault(bad).unwrap_err();
            assert_eq!(e.text, bad, "{e}");
            assert!(!e.problem.is_empty() && e.to_string().starts_with("fault"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_refused_fault_names_its_text_and_the_part_that_is_wrong() {
        let e = parse_fault("1s:partition:1").unwrap_err();
        assert_eq!(
            e,
            FaultError { text: "1s:partition:1".into(), problem: "a partition needs 2 to 1000 groups".into() }
        );
        assert_eq!(e.to_string(), r#"fault "1s:partition:1": a partition needs 2 to 1000 groups"#);
        let e = parse_fault("1s:block:9-3>1").unwrap_err();
        assert_eq!(e.problem, r#"range "9-3" runs backwards"#);
        let e = parse_fault("10x:heal").unwrap_err();
        assert_eq!(e.problem, r#"bad time "10x" (use ms, or seconds with 's')"#);
    }
}
