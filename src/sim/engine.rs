//! The two simulation engines, written once for any [`Population`].
//!
//! * **rounds**: synchronous cycles, as in the theory papers and PeerSim's
//!   cycle engine. In round `r` (time `r * interval`) every live node acts
//!   once; the messages of an exchange (request, reply, reply to the reply)
//!   complete within the round, in waves; pushes a node makes *because* it
//!   learned something go out at the start of the next round. A node judges
//!   "did I already know this" by what it knew when the round began.
//! * **events**: discrete events in virtual milliseconds, with per-link
//!   latency and jitter, from a calendar queue that breaks ties by insertion
//!   order.
//!
//! Both apply the fault timeline, count traffic and feed the coverage
//! tracker. Every loop is bounded: by the time limit, and by a guard that
//! stops a run whose messages would never let time advance.

use super::faults::{Fault, TimedFault};
use super::membership::Membership;
use super::metrics::Metrics;
use super::network::{Drop, Network};
use super::population::{Ctx, Population};
use super::queue::EventQueue;
use super::{Progress, Scenario, StopReason};

/// Waves of replies one round may take before the run is declared livelocked.
const MAX_WAVES: usize = 10_000;
/// Events one millisecond may hold before the run is declared livelocked.
const MAX_EVENTS_PER_MS: u64 = 200_000_000;

/// Everything a run holds besides the engine's own clockwork.
pub struct World<P: Population> {
    /// The nodes.
    pub pop: P,
    /// Who is in the network.
    pub members: Membership,
    /// The network model.
    pub net: Network,
    /// Measurements.
    pub metrics: Metrics,
    /// Which nodes are running.
    pub up: Vec<bool>,
    epochs: std::collections::HashMap<u32, u32>,
    outbox: Vec<(u32, u32, P::Msg)>,
    faults: Vec<TimedFault>,
    next_fault: usize,
    scenario: Scenario,
    anti_entropy: bool,
}

/// What happened to a node because of a fault (the events engine schedules its timer).
enum Woke {
    None,
    Node(u32),
    Range(u32, u32),
}

impl<P: Population> World<P> {
    /// A world of `pop`, all nodes up and members.
    pub fn new(pop: P, net: Network, mut faults: Vec<TimedFault>, scenario: Scenario, anti_entropy: bool) -> Self {
        let n = pop.len();
        faults.sort_by_key(|f| f.at_ms); // stable: same-time faults keep their order
        World {
            pop,
            members: Membership::new(n),
            net,
            metrics: Metrics::new(n),
            up: vec![true; n as usize],
            epochs: Default::default(),
            outbox: Vec::new(),
            faults,
            next_fault: 0,
            scenario,
            anti_entropy,
        }
    }

    fn faults_done(&self) -> bool {
        self.next_fault >= self.faults.len()
    }

    fn ctx(&mut self) -> (&mut P, Ctx<'_, P::Msg>) {
        (&mut self.pop, Ctx { members: &self.members, outbox: &mut self.outbox, metrics: &mut self.metrics })
    }

    fn apply_fault(&mut self, f: Fault, now: u64) -> Woke {
        let len = self.pop.len();
        match f {
            Fault::Partition { groups } => self.net.partition(len as usize, groups as usize),
            Fault::Heal => self.net.heal(),
            Fault::Loss { p } => self.net.set_loss(p),
            Fault::Crash { node } => {
                if node < len && self.up[node as usize] {
                    self.up[node as usize] = false;
                    self.metrics.node_down(node, &self.pop, now);
                }
            }
            Fault::Leave { node } => {
                if node < len && self.members.contains(node) {
                    if self.up[node as usize] {
                        self.up[node as usize] = false;
                        self.metrics.node_down(node, &self.pop, now);
                    }
                    self.members.remove(node);
                }
            }
            Fault::Restart { node, keep_state } => {
                if node < len && self.members.contains(node) {
                    if self.up[node as usize] {
                        self.metrics.node_down(node, &self.pop, now);
                    }
                    if !keep_state {
                        let e = self.epochs.entry(node).or_insert(0);
                        *e += 1;
                        self.pop.reset(node, *e, now);
                    }
                    self.up[node as usize] = true;
                    self.metrics.node_up(node, &self.pop, now);
                    return Woke::Node(node);
                }
            }
            Fault::Join { count } => {
                let first = self.pop.len();
                for _ in 0..count {
                    let i = self.pop.add(now);
                    self.members.add(i);
                    self.up.push(true);
                    self.metrics.node_up(i, &self.pop, now);
                }
                return Woke::Range(first, first + count);
            }
        }
        Woke::None
    }

    /// Faults due at or before `now`, applied in order.
    fn faults_until(&mut self, now: u64, woke: &mut Vec<u32>) {
        while let Some(f) = self.faults.get(self.next_fault).filter(|f| f.at_ms <= now).cloned() {
            self.next_fault += 1;
            match self.apply_fault(f.fault, now) {
                Woke::None => {}
                Woke::Node(i) => woke.push(i),
                Woke::Range(a, b) => woke.extend(a..b),
            }
        }
    }

    /// Count a message and ask the network whether it arrives: at what time
    /// (`timed`, the events model) or at all (the rounds model, time 0).
    #[inline]
    fn transmit(&mut self, from: u32, to: u32, bytes: usize, updates: usize, now: u64, timed: bool) -> Option<u64> {
        self.metrics.sent(bytes, updates);
        let fate = if timed { self.net.transit(from, to, now) } else { self.net.passes(from, to).map(|()| now) };
        match fate {
            Ok(t) => Some(t),
            Err(Drop::Loss) => {
                self.metrics.lost += 1;
                None
            }
            Err(Drop::Partition) => {
                self.metrics.partitioned += 1;
                None
            }
        }
    }

    /// Whether every live node holds every origin's latest version now (an
    /// update that completed once can be forgotten by a node that restarts
    /// without its state). O(nodes x origins): call it only when
    /// `metrics.all_done()`.
    pub fn all_live_current(&self) -> bool {
        let latest: Vec<_> = self.metrics.latest().collect();
        (0..self.pop.len())
            .filter(|&i| self.up[i as usize])
            .all(|i| latest.iter().all(|&(o, v)| self.pop.known(i, o).is_some_and(|k| k >= v)))
    }

    fn should_stop(&mut self, now: u64, in_flight: usize, updates_end: u64) -> Option<StopReason> {
        if !self.faults_done() {
            return None;
        }
        match self.scenario {
            Scenario::Single => {
                if self.anti_entropy && self.metrics.all_done() && self.all_live_current() {
                    Some(StopReason::Converged)
                } else if !self.pop.active() && in_flight == 0 {
                    Some(StopReason::Quiescent)
                } else {
                    None
                }
            }
            Scenario::Movies => (now >= updates_end && self.metrics.all_done() && self.all_live_current())
                .then_some(StopReason::Converged),
        }
    }
}

/// When a run starts its update, how its time is cut, and when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Gossip interval (one round), ms.
    pub interval: u64,
    /// Virtual-time limit, ms.
    pub limit_ms: u64,
    /// When `movies` nodes stop re-sampling, ms.
    pub updates_end: u64,
    /// The node that injects the single update at time 0, if any.
    pub origin: Option<u32>,
}

/// Run the rounds model.
pub fn run_rounds<P: Population>(
    w: &mut World<P>,
    s: Schedule,
    progress: &mut dyn FnMut(Progress),
) -> (StopReason, u64) {
    let Schedule { interval, limit_ms, updates_end, origin } = s;
    let mut woke = Vec::new();
    w.faults_until(0, &mut woke);
    if let Some(o) = origin {
        let (pop, mut ctx) = w.ctx();
        pop.inject(o, 0, &mut ctx);
    }
    // time 0: first timers (a movies node picks its first favorite)
    for i in 0..w.pop.len() {
        if w.up[i as usize] {
            let (pop, mut ctx) = w.ctx();
            pop.tick(i, 0, &mut ctx);
        }
    }
    let mut deferred = Vec::new();
    let mut wave = Vec::new();
    let mut next = Vec::new();
    route(w, 0, &mut deferred, None);
    w.metrics.sample(0);
    let max_rounds = limit_ms / interval.max(1);
    let mut stopped_updates = false;
    let mut reason = StopReason::TimeLimit;
    let mut now = 0;
    for r in 1..=max_rounds {
        now = r * interval;
        if !stopped_updates && now >= updates_end {
            w.pop.stop_resampling();
            stopped_updates = true;
        }
        woke.clear();
        w.faults_until(now, &mut woke);
        std::mem::swap(&mut wave, &mut deferred);
        for i in 0..w.pop.len() {
            if w.up[i as usize] {
                let (pop, mut ctx) = w.ctx();
                pop.tick(i, now, &mut ctx);
                w.metrics.events += 1;
            }
        }
        route(w, now, &mut wave, None);
        let mut waves = 0;
        while !wave.is_empty() {
            waves += 1;
            if waves > MAX_WAVES {
                return (StopReason::LivelockGuard, now);
            }
            const AHEAD: usize = 64;
            for m in wave.iter().take(AHEAD) {
                w.pop.prefetch(m.1);
            }
            let mut it = wave.drain(..);
            #[allow(clippy::while_let_on_iterator)] // the loop peeks through `it`
            while let Some((from, to, msg)) = it.next() {
                if let Some(ahead) = it.as_slice().get(AHEAD) {
                    w.pop.prefetch(ahead.1);
                }
                w.metrics.events += 1;
                if !w.up[to as usize] {
                    w.metrics.to_down += 1;
                    continue;
                }
                let (pop, mut ctx) = w.ctx();
                pop.deliver(to, from, msg, now, &mut ctx);
                route(w, now, &mut next, Some(&mut deferred));
            }
            drop(it);
            std::mem::swap(&mut wave, &mut next);
        }
        w.metrics.sample(now);
        progress(Progress { time_ms: now, limit_ms, coverage: w.metrics.coverage.last().map_or(0.0, |c| c.1) });
        if let Some(s) = w.should_stop(now, deferred.len(), updates_end) {
            reason = s;
            break;
        }
    }
    (reason, now)
}

/// Move the outbox through the network into `now_wave`; with `later`,
/// only replies go there and other messages (pushes caused by learning)
/// wait for the next round. Lost ones are counted and dropped.
fn route<P: Population>(
    w: &mut World<P>,
    now: u64,
    now_wave: &mut Vec<(u32, u32, P::Msg)>,
    mut later: Option<&mut Vec<(u32, u32, P::Msg)>>,
) {
    let mut out = std::mem::take(&mut w.outbox);
    for (from, to, msg) in out.drain(..) {
        let (bytes, updates, reply) = w.pop.msg_info(&msg);
        if w.transmit(from, to, bytes, updates, now, false).is_some() {
            match later.as_deref_mut() {
                Some(l) if !reply => l.push((from, to, msg)),
                _ => now_wave.push((from, to, msg)),
            }
        }
    }
    w.outbox = out;
}

enum Ev<M> {
    Tick(u32),
    Msg(u32, u32, M),
    Fault,
    EndUpdates,
    Sample,
}

/// Run the events model.
pub fn run_events<P: Population>(
    w: &mut World<P>,
    s: Schedule,
    progress: &mut dyn FnMut(Progress),
) -> (StopReason, u64) {
    let Schedule { interval, limit_ms, updates_end, origin } = s;
    let interval = interval.max(1);
    let mut q: EventQueue<Ev<P::Msg>> = EventQueue::new();
    let mut scheduled: Vec<u64> = Vec::with_capacity(w.pop.len() as usize);
    let mut in_flight = 0usize;
    for f in &w.faults {
        q.push(f.at_ms, Ev::Fault);
    }
    if let Some(o) = origin {
        let (pop, mut ctx) = w.ctx();
        pop.inject(o, 0, &mut ctx);
        flush(w, &mut q, &mut in_flight, 0);
    }
    for i in 0..w.pop.len() {
        let t = w.pop.next_timeout(i);
        scheduled.push(t);
        q.push(t, Ev::Tick(i));
    }
    if updates_end < limit_ms {
        q.push(updates_end, Ev::EndUpdates);
    }
    w.metrics.sample(0);
    q.push(interval, Ev::Sample);
    let mut woke = Vec::new();
    let (mut last_t, mut same_t) = (0, 0u64);
    while let Some((t, ev)) = q.pop() {
        if t > limit_ms {
            return (StopReason::TimeLimit, limit_ms);
        }
        if t == last_t {
            same_t += 1;
            if same_t > MAX_EVENTS_PER_MS {
                return (StopReason::LivelockGuard, t);
            }
        } else {
            (last_t, same_t) = (t, 0);
        }
        w.metrics.events += 1;
        match ev {
            Ev::Tick(i) => {
                if !w.up[i as usize] || scheduled[i as usize] != t {
                    continue;
                }
                let (pop, mut ctx) = w.ctx();
                pop.tick(i, t, &mut ctx);
                flush(w, &mut q, &mut in_flight, t);
                let next = w.pop.next_timeout(i).max(t + 1);
                scheduled[i as usize] = next;
                q.push(next, Ev::Tick(i));
            }
            Ev::Msg(from, to, msg) => {
                in_flight -= 1;
                if !w.up[to as usize] {
                    w.metrics.to_down += 1;
                    continue;
                }
                let (pop, mut ctx) = w.ctx();
                pop.deliver(to, from, msg, t, &mut ctx);
                flush(w, &mut q, &mut in_flight, t);
            }
            Ev::Fault => {
                woke.clear();
                w.faults_until(t, &mut woke);
                for &i in &woke {
                    if scheduled.len() <= i as usize {
                        scheduled.resize(i as usize + 1, u64::MAX);
                    }
                    let next = w.pop.next_timeout(i).max(t);
                    scheduled[i as usize] = next;
                    q.push(next, Ev::Tick(i));
                }
            }
            Ev::EndUpdates => w.pop.stop_resampling(),
            Ev::Sample => {
                w.metrics.sample(t);
                progress(Progress { time_ms: t, limit_ms, coverage: w.metrics.coverage.last().map_or(0.0, |c| c.1) });
                if let Some(s) = w.should_stop(t, in_flight, updates_end) {
                    return (s, t);
                }
                q.push(t + interval, Ev::Sample);
            }
        }
    }
    (StopReason::Quiescent, last_t)
}

fn flush<P: Population>(w: &mut World<P>, q: &mut EventQueue<Ev<P::Msg>>, in_flight: &mut usize, now: u64) {
    let mut out = std::mem::take(&mut w.outbox);
    for (from, to, msg) in out.drain(..) {
        let (bytes, updates, _) = w.pop.msg_info(&msg);
        if let Some(at) = w.transmit(from, to, bytes, updates, now, true) {
            *in_flight += 1;
            q.push(at, Ev::Msg(from, to, msg));
        }
    }
    w.outbox = out;
}
