//! The workloads: what a run asks of its nodes from outside, and when.
//!
//! A workload is what the clients of a gossip system do: originate one
//! rumor (`single`), keep changing every node's favorite movie (`movies`,
//! the course app), or hand values to nodes at a steady rate (`broadcast`,
//! the Gossip Glomers workload, and one broadcast per cycle over an
//! overlay for Plumtree). Each is a [`Workload`]: what it injects at the
//! start, the next time it has requests to hand over and what it does
//! then, when it has finished injecting, how a run of it ends, and what it
//! contributes to the report. [`AnyWorkload`] holds one of them (static
//! dispatch: a `match`, nothing per event).
//!
//! The engine never asks a workload directly: it consults the run's one
//! external timeline (`timeline.rs`), the faults and the workload together.
//! A workload is crash-free: it never stops or starts a node (that is the
//! fault timeline's part); a request to a node that is down fails.
//!
//! Where a workload's steps fall against the nodes' own events (fixed so
//! that every report stays what it was):
//! * the start comes before time 0's timers;
//! * requests due at `t` come after the faults due at `t` and before every
//!   timer and message of `t` (in rounds: at the start of the round, before
//!   its timers);
//! * the end of the updates is ordered among the timers: in the events
//!   model it is a queued event, pushed after the first timers, so a timer
//!   armed later for the same millisecond runs after it; in rounds it comes
//!   at the start of the first round at or after it, before the faults.

use super::nodeset::NodeSet;
use super::population::{Ctx, Population};
use super::{Fault, MembershipMode, Scenario, SimConfig};
use crate::core::Version;
use crate::rng::Rng;

/// One update as the metrics hold it: `(origin, version, created_ms, completed_ms)`.
pub type UpdateRecord = (u32, Version, u64, Option<u64>);

/// How a run of a workload ends, once the fault timeline is done (every
/// run also ends at its time limit, or by the livelock guard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopRule {
    /// Converged once every update is complete and every live node holds
    /// every origin's latest version, from `after` ms on.
    Current {
        /// Not before this time (the end of the updates).
        after: u64,
    },
    /// Quiescent once no node's timer would send news and nothing is in flight.
    Quiet,
}

/// What a run asks of its nodes from outside.
pub trait Workload {
    /// What it injects at time 0, before the first timers.
    fn start<P: Population>(&mut self, pop: &mut P, ctx: &mut Ctx<'_, P::Msg>);
    /// The next time it has requests to hand over, if any.
    fn next_at(&self) -> Option<u64>;
    /// Hand every request due at or before `now` to its node; a request to
    /// a node that is not `up` fails (it is no update). Each request taken
    /// counts as an event.
    fn inject_until<P: Population>(&mut self, now: u64, pop: &mut P, ctx: &mut Ctx<'_, P::Msg>, up: &NodeSet);
    /// When it has finished injecting, ms: no node originates anything
    /// after it.
    fn end_ms(&self) -> u64;
    /// What changes at [`Workload::end_ms`] (the course app's nodes stop
    /// re-sampling their favorites).
    fn end<P: Population>(&mut self, pop: &mut P);
    /// How a run of it ends; `anti_entropy`: the nodes run anti-entropy
    /// (which is never quiet, and repairs what rumors miss). By default:
    /// once every live node knows every origin's latest, after the end.
    fn stop_rule(&self, _anti_entropy: bool) -> StopRule {
        StopRule::Current { after: self.end_ms() }
    }
    /// The report's `informed`: how many of the `live` nodes hold what the
    /// workload spread (`updates`: every update made). By default: those
    /// that hold every origin's latest version.
    fn informed<P: Population>(&self, pop: &P, live: &[u32], updates: &[UpdateRecord]) -> u32 {
        knows_every_latest(pop, live, updates)
    }
    /// The report's `rounds_full`: rounds until every node knew, for a
    /// workload of one update that completed (`None` by default).
    fn rounds_full(&self, _updates: &[UpdateRecord], _interval: u64) -> Option<u64> {
        None
    }
}

/// One rumor, originated by one node at time 0 (`--scenario single`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleRumor {
    /// The node that originates it (none: a run that spreads nothing, SWIM's).
    pub origin: Option<u32>,
}

/// The course app (`--scenario movies`): every node picks a favorite at its
/// first timer and re-samples it until the updates end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movies {
    /// When the nodes stop re-sampling, ms.
    pub end_ms: u64,
}

/// Client requests (`--scenario broadcast`): each hands a new value to a
/// node, and every value must reach every node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    /// `(time_ms, node, key)` in time order.
    requests: Vec<(u64, u32, u32)>,
    /// How many were handed over.
    next: usize,
    /// When the requests end, ms.
    end_ms: u64,
}

impl Broadcast {
    /// Requests `(time_ms, node, key)` in time order, ending at `end_ms`.
    pub fn new(requests: Vec<(u64, u32, u32)>, end_ms: u64) -> Self {
        debug_assert!(requests.windows(2).all(|w| w[0].0 <= w[1].0), "requests in time order");
        Broadcast { requests, next: 0, end_ms }
    }
}

/// One of the workloads (static dispatch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyWorkload {
    /// See [`SingleRumor`].
    Single(SingleRumor),
    /// See [`Movies`].
    Movies(Movies),
    /// See [`Broadcast`].
    Broadcast(Broadcast),
}

impl AnyWorkload {
    /// The workload `cfg` runs (its `scenario`).
    pub fn of(cfg: &SimConfig) -> AnyWorkload {
        match cfg.scenario {
            // a SWIM run spreads nothing: its members only watch each other
            Scenario::Single => {
                AnyWorkload::Single(SingleRumor { origin: (cfg.membership != MembershipMode::Swim).then_some(0) })
            }
            Scenario::Movies => AnyWorkload::Movies(Movies { end_ms: cfg.updates_end_ms() }),
            Scenario::Broadcast => {
                let requests = requests(cfg).into_iter().enumerate().map(|(k, (t, i))| (t, i, key(cfg, k))).collect();
                AnyWorkload::Broadcast(Broadcast::new(requests, cfg.updates_end_ms()))
            }
        }
    }
}

/// Call `$body` with `$w` bound to the workload inside `$self`.
macro_rules! each {
    ($self:expr, $w:ident => $body:expr) => {
        match $self {
            AnyWorkload::Single($w) => $body,
            AnyWorkload::Movies($w) => $body,
            AnyWorkload::Broadcast($w) => $body,
        }
    };
}

impl Workload for AnyWorkload {
    fn start<P: Population>(&mut self, pop: &mut P, ctx: &mut Ctx<'_, P::Msg>) {
        each!(self, w => w.start(pop, ctx))
    }
    #[inline]
    fn next_at(&self) -> Option<u64> {
        each!(self, w => w.next_at())
    }
    fn inject_until<P: Population>(&mut self, now: u64, pop: &mut P, ctx: &mut Ctx<'_, P::Msg>, up: &NodeSet) {
        each!(self, w => w.inject_until(now, pop, ctx, up))
    }
    fn end_ms(&self) -> u64 {
        each!(self, w => w.end_ms())
    }
    fn end<P: Population>(&mut self, pop: &mut P) {
        each!(self, w => w.end(pop))
    }
    fn stop_rule(&self, anti_entropy: bool) -> StopRule {
        each!(self, w => w.stop_rule(anti_entropy))
    }
    fn informed<P: Population>(&self, pop: &P, live: &[u32], updates: &[UpdateRecord]) -> u32 {
        each!(self, w => w.informed(pop, live, updates))
    }
    fn rounds_full(&self, updates: &[UpdateRecord], interval: u64) -> Option<u64> {
        each!(self, w => w.rounds_full(updates, interval))
    }
}

impl Workload for SingleRumor {
    fn start<P: Population>(&mut self, pop: &mut P, ctx: &mut Ctx<'_, P::Msg>) {
        if let Some(o) = self.origin {
            pop.inject(o, 0, ctx);
        }
    }
    fn next_at(&self) -> Option<u64> {
        None
    }
    fn inject_until<P: Population>(&mut self, _: u64, _: &mut P, _: &mut Ctx<'_, P::Msg>, _: &NodeSet) {}
    fn end_ms(&self) -> u64 {
        0
    }
    fn end<P: Population>(&mut self, _: &mut P) {}
    fn stop_rule(&self, anti_entropy: bool) -> StopRule {
        // without anti-entropy a rumor can die out before it reached everyone:
        // the run ends when it has gone quiet
        if anti_entropy {
            StopRule::Current { after: 0 }
        } else {
            StopRule::Quiet
        }
    }
    fn informed<P: Population>(&self, pop: &P, live: &[u32], _: &[UpdateRecord]) -> u32 {
        if let Some(r) = pop.rumor_bits() {
            let bits = r.holders;
            let mut k = 0; // (a `while`: iterator adapters are calls in the page's wasm)
            let mut count = 0;
            while k < live.len() {
                let i = live[k] as usize;
                count += bits.get(i / 64).map_or(0, |w| (w >> (i % 64) & 1) as u32);
                k += 1;
            }
            return count;
        }
        live.iter().filter(|&&i| pop.known(i, 0).is_some()).count() as u32
    }
    fn rounds_full(&self, updates: &[UpdateRecord], interval: u64) -> Option<u64> {
        match updates.first() {
            Some(&(_, _, created, Some(done))) => Some((done - created).div_ceil(interval)),
            _ => None,
        }
    }
}

impl Workload for Movies {
    // the nodes pick their first favorites at their first timers
    fn start<P: Population>(&mut self, _: &mut P, _: &mut Ctx<'_, P::Msg>) {}
    fn next_at(&self) -> Option<u64> {
        None
    }
    fn inject_until<P: Population>(&mut self, _: u64, _: &mut P, _: &mut Ctx<'_, P::Msg>, _: &NodeSet) {}
    fn end_ms(&self) -> u64 {
        self.end_ms
    }
    fn end<P: Population>(&mut self, pop: &mut P) {
        pop.stop_resampling();
    }
}

impl Workload for Broadcast {
    fn start<P: Population>(&mut self, _: &mut P, _: &mut Ctx<'_, P::Msg>) {}
    #[inline]
    fn next_at(&self) -> Option<u64> {
        self.requests.get(self.next).map(|b| b.0)
    }
    fn inject_until<P: Population>(&mut self, now: u64, pop: &mut P, ctx: &mut Ctx<'_, P::Msg>, up: &NodeSet) {
        while let Some(&(t, node, key)) = self.requests.get(self.next) {
            if t > now {
                break;
            }
            self.next += 1;
            if up.get(node as usize) {
                ctx.metrics.events += 1;
                pop.broadcast(node, key, now, ctx);
            }
        }
    }
    fn end_ms(&self) -> u64 {
        self.end_ms
    }
    fn end<P: Population>(&mut self, _: &mut P) {}
}

/// How many of the `live` nodes hold every origin's latest version.
fn knows_every_latest<P: Population>(pop: &P, live: &[u32], updates: &[UpdateRecord]) -> u32 {
    let latest: Vec<(u32, Version)> = {
        let mut l: std::collections::BTreeMap<u32, Version> = Default::default();
        for &(o, v, _, _) in updates {
            l.insert(o, v);
        }
        l.into_iter().collect()
    };
    live.iter().filter(|&&i| latest.iter().all(|&(o, v)| pop.known(i, o).is_some_and(|k| k >= v))).count() as u32
}

/// `broadcast`: the clients' requests, `(time_ms, node)` in time order (see
/// [`SimConfig::broadcasts`]); empty for the other scenarios.
pub fn requests(cfg: &SimConfig) -> Vec<(u64, u32)> {
    if cfg.scenario != Scenario::Broadcast {
        return Vec::new();
    }
    if cfg.membership.is_overlay() {
        return overlay_requests(cfg, cfg.updates_end_ms());
    }
    let mut rng = Rng::derive(cfg.seed, u64::MAX - 1);
    let per_ms = cfg.rate / 1000.0;
    let (whole, frac) = (per_ms.floor() as u64, per_ms.fract());
    let mut out = Vec::new();
    for t in 1..=cfg.updates_end_ms() {
        let count = whole + u64::from(rng.chance(frac));
        for _ in 0..count {
            if out.len() >= 1_000_000 {
                return out;
            }
            out.push((t, rng.below(cfg.nodes as u64) as u32));
        }
    }
    out
}

/// The broadcast workload of an overlay run: one request per cycle,
/// mid-cycle, from the end of the warm-up until the updates end, each from
/// a sender drawn from the run's senders (`(time_ms, node)`).
fn overlay_requests(cfg: &SimConfig, updates_end: u64) -> Vec<(u64, u32)> {
    let o = cfg.overlay.clone().unwrap_or_default();
    let interval = cfg.node.interval_ms.max(1);
    let mut rng = Rng::derive(cfg.seed, u64::MAX - 3);
    let n = cfg.nodes;
    let senders: Vec<u32> = match o.senders {
        Some(s) if s < n => {
            let mut idx = Vec::new();
            crate::rng::sample_indices(&mut rng, n as usize, None, s as usize, &mut idx);
            idx.into_iter().map(|i| i as u32).collect()
        }
        _ => (0..n).collect(),
    };
    let mut out = Vec::new();
    let mut cycle = u64::from(o.warmup_cycles);
    while cycle * interval + interval / 2 < updates_end && out.len() < 1_000_000 {
        // (`updates_end` counts the warm-up: see `SimConfig::limit_ms`)
        out.push((cycle * interval + interval / 2, senders[rng.below(senders.len() as u64) as usize]));
        cycle += 1;
    }
    out
}

/// The key (origin) the `k`-th value of the broadcast workload has in the
/// views: above every node index, joiners included.
pub fn key(cfg: &SimConfig, k: usize) -> u32 {
    let joins: u32 = cfg.faults.iter().map(|f| if let Fault::Join { count } = f.fault { count } else { 0 }).sum();
    cfg.nodes.saturating_add(joins).saturating_add(k as u32)
}
