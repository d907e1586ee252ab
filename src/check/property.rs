//! The properties `gossip check` states, and what a run shows of them.
//!
//! Three properties, each with its bound from the command line:
//!
//! * **no lost update**: when the run ends (a quiet period after the last
//!   heal, [`super::Plan::quiet_ms`]), every update some live node holds is
//!   held by every live node. An update no node holds any more was
//!   *destroyed*: every node that had it restarted without its state
//!   (`restart` faults) before passing it on, which no protocol can undo;
//!   destroyed updates are counted in the details, never as failures;
//! * **convergence within a bound**: every update (destroyed ones aside)
//!   reached every live node within `--converge-within` ms of the later of
//!   its creation and the last heal;
//! * **a message budget per update** (`--budget`, off unless given): the
//!   run's messages divided by its updates, as `gossip sim` reports them.
//!
//! A run is observed through the simulator's own report and its per-update
//! records, on the same population `gossip sim` uses for the configuration,
//! so a printed `gossip sim` command shows the same run (its
//! `lost_updates` counts lost and destroyed updates alike).

use serde::Serialize;

use crate::sim::metrics::Knowledge;
use crate::sim::population::Population;
use crate::sim::{self, ParamError, SimConfig};

/// The property bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bounds {
    /// Every update at every live node within this long after the later of
    /// its creation and the last heal, ms.
    pub converge_within_ms: u64,
    /// At most this many messages per update (none: no budget).
    pub budget: Option<f64>,
}

/// A property of [`Bounds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    /// No update lost after every fault healed.
    NoLostUpdate,
    /// Convergence within the bound after the last heal.
    ConvergeWithin,
    /// The message budget per update.
    Budget,
}

impl Property {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Property::NoLostUpdate => "no-lost-update",
            Property::ConvergeWithin => "converge-within",
            Property::Budget => "budget",
        }
    }
}

/// A property a run broke, and how.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// Which.
    pub property: Property,
    /// What the run showed, in words with numbers.
    pub detail: String,
}

/// One update as the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// When it was made, virtual ms.
    pub created_ms: u64,
    /// When it had reached every live node, if it did.
    pub done_ms: Option<u64>,
    /// Live nodes that hold it (or a newer version of its origin) at the end.
    pub holders: u32,
}

/// What the properties look at in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// Every update.
    pub updates: Vec<Update>,
    /// Live nodes at the end.
    pub live: u32,
    /// The report's messages per update.
    pub messages_per_update: f64,
    /// When the run ended, virtual ms.
    pub end_ms: u64,
}

/// Run `cfg` (valid, a dissemination run on full nodes: [`super::Plan`]
/// refuses the others) on one thread and observe it.
pub fn observe(cfg: &SimConfig) -> Result<Observed, ParamError> {
    cfg.validate()?;
    let mut r = sim::runner(cfg, sim::full_population(cfg));
    let (reason, end_ms) = r.run(&mut |_| {});
    let w = &r.w;
    let live: Vec<u32> = (0..w.pop.len()).filter(|&i| w.up.get(i as usize)).collect();
    let updates = w
        .metrics
        .updates()
        .map(|(origin, version, created_ms, done_ms)| Update {
            created_ms,
            done_ms,
            holders: live.iter().filter(|&&i| w.pop.known(i, origin).is_some_and(|k| k >= version)).count() as u32,
        })
        .collect();
    let rep = sim::report(cfg, w, reason, end_ms);
    Ok(Observed { updates, live: rep.live, messages_per_update: rep.messages_per_update, end_ms })
}

/// The properties `run` broke, in the order of [`Property`], for a
/// schedule whose last fault healed at `last_heal_ms`.
pub fn evaluate(run: &Observed, last_heal_ms: u64, bounds: &Bounds) -> Vec<Violation> {
    let mut out = Vec::new();
    let total = run.updates.len();
    let destroyed = run.updates.iter().filter(|u| u.holders == 0).count();
    let aside = if destroyed > 0 {
        format!(" ({destroyed} more destroyed: every holder restarted without its state)")
    } else {
        String::new()
    };
    let partial = run.updates.iter().filter(|u| u.holders > 0 && u.holders < run.live).count();
    if partial > 0 {
        let fewest = run.updates.iter().filter(|u| u.holders > 0).map(|u| u.holders).min().unwrap_or(0);
        out.push(Violation {
            property: Property::NoLostUpdate,
            detail: format!(
                "{partial} of {total} updates are held by some live nodes but not all at the end ({} ms, {} ms \
                 after the last heal; fewest holders {fewest} of {}){aside}",
                run.end_ms,
                run.end_ms.saturating_sub(last_heal_ms),
                run.live
            ),
        });
    }
    let b = bounds.converge_within_ms;
    let lateness = |u: &Update| {
        let deadline = u.created_ms.max(last_heal_ms) + b;
        match u.done_ms {
            _ if u.holders == 0 => None,
            Some(d) if d <= deadline => None,
            Some(d) => Some(d - deadline),
            None => Some(u64::MAX),
        }
    };
    let late: Vec<u64> = run.updates.iter().filter_map(lateness).collect();
    if !late.is_empty() {
        let worst = late.iter().max().copied().unwrap_or(0);
        out.push(Violation {
            property: Property::ConvergeWithin,
            detail: format!(
                "{} of {total} updates reached every live node later than {b} ms after the later of their creation \
                 and the last heal ({last_heal_ms} ms); worst: {}{aside}",
                late.len(),
                if worst == u64::MAX { "never".to_owned() } else { format!("{worst} ms late") }
            ),
        });
    }
    if let Some(budget) = bounds.budget {
        if run.messages_per_update > budget {
            out.push(Violation {
                property: Property::Budget,
                detail: format!("{:.1} messages per update, over the budget of {budget}", run.messages_per_update),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of 10 live nodes; each update `(created, done)` is held by
    /// all of them when done, by 3 when not.
    fn run(updates: Vec<(u64, Option<u64>)>) -> Observed {
        let updates = updates
            .into_iter()
            .map(|(created_ms, done_ms)| Update {
                created_ms,
                done_ms,
                holders: if done_ms.is_some() { 10 } else { 3 },
            })
            .collect();
        Observed { updates, live: 10, messages_per_update: 20.0, end_ms: 9_000 }
    }

    const BOUNDS: Bounds = Bounds { converge_within_ms: 1_000, budget: None };

    fn broken(r: &Observed, heal: u64, b: &Bounds) -> Vec<Property> {
        evaluate(r, heal, b).into_iter().map(|v| v.property).collect()
    }

    #[test]
    fn updates_count_against_the_later_of_their_creation_and_the_last_heal() {
        // made at 100, healed at 2000: due by 3000
        assert!(broken(&run(vec![(100, Some(3_000))]), 2_000, &BOUNDS).is_empty());
        assert_eq!(broken(&run(vec![(100, Some(3_001))]), 2_000, &BOUNDS), [Property::ConvergeWithin]);
        // made after the heal: due 1000 ms after it was made
        assert!(broken(&run(vec![(5_000, Some(6_000))]), 2_000, &BOUNDS).is_empty());
        assert_eq!(broken(&run(vec![(5_000, Some(6_500))]), 2_000, &BOUNDS), [Property::ConvergeWithin]);
    }

    #[test]
    fn an_update_some_nodes_miss_breaks_both() {
        let lost = run(vec![(100, Some(200)), (300, None)]);
        let v = evaluate(&lost, 0, &BOUNDS);
        assert_eq!(
            v.iter().map(|v| v.property).collect::<Vec<_>>(),
            [Property::NoLostUpdate, Property::ConvergeWithin]
        );
        assert!(v[0].detail.starts_with("1 of 2 updates are held by some"), "{}", v[0].detail);
        assert!(v[0].detail.contains("fewest holders 3 of 10"), "{}", v[0].detail);
        assert!(v[1].detail.ends_with("worst: never"), "{}", v[1].detail);
    }

    #[test]
    fn an_update_no_node_holds_was_destroyed_by_restarts_and_breaks_nothing() {
        let mut r = run(vec![(100, Some(200)), (300, None)]);
        r.updates[1].holders = 0;
        assert!(evaluate(&r, 0, &BOUNDS).is_empty());
        // but it is told beside another failure
        r.updates[0].done_ms = Some(5_000);
        let v = evaluate(&r, 0, &BOUNDS);
        assert_eq!(v.len(), 1);
        assert!(
            v[0].detail.ends_with("(1 more destroyed: every holder restarted without its state)"),
            "{}",
            v[0].detail
        );
    }

    #[test]
    fn the_budget_counts_only_when_given() {
        let r = run(vec![(100, Some(200))]);
        assert!(broken(&r, 0, &Bounds { budget: Some(20.0), ..BOUNDS }).is_empty());
        assert_eq!(broken(&r, 0, &Bounds { budget: Some(19.5), ..BOUNDS }), [Property::Budget]);
    }
}
