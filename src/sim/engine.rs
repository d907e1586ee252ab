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
//! Both take what happens from outside the nodes (faults and the
//! workload's requests) from the run's one external timeline
//! ([`Timeline`]), count traffic and feed the coverage tracker. Every loop
//! is bounded: by the time limit, and by a guard that stops a run whose
//! messages would never let time advance.

use std::collections::{HashMap, VecDeque};

use super::faults::{Fault, TimedFault};
use super::membership::Roster;
use super::metrics::Metrics;
use super::network::{Block, Dropped, Network};
use super::nodeset::NodeSet;
#[cfg(not(target_arch = "wasm32"))]
use super::pool::Pool;
use super::population::{Ctx, MetricOp, NodeFault, PartLog, Population, RoundCtx};
use super::queue::{EventQueue, Item, Peek};
use super::remote::{NodeKind, Remotes};
use super::timeline::Timeline;
#[cfg(not(target_arch = "wasm32"))]
use super::window::{run_part, Job, Next, Order};
use super::window::{Done, Padded};
use super::workload::{StopRule, Workload};
use super::{Progress, StopReason};

/// Waves of replies one round may take before the run is declared livelocked.
const MAX_WAVES: usize = 10_000;
/// Events one millisecond may hold before the run is declared livelocked.
const MAX_EVENTS_PER_MS: u64 = 200_000_000;
/// How many events ahead the events engine prefetches a node's data.
const PREFETCH_AHEAD: usize = 16;
/// Fewest events a window should hold to be worth running on threads.
pub const MIN_WINDOW: usize = 256;
/// Most events a window takes: a burst (a flood) is cut into several
/// windows rather than held twice (taken, and in the logs).
#[cfg(not(target_arch = "wasm32"))]
const MAX_WINDOW: usize = 1 << 15;
/// A window whose events sent more messages than this each, on average, is
/// a burst (a flood): replaying its messages costs more than the parts
/// saved, so the next [`PAUSE`] events run one at a time.
#[cfg(not(target_arch = "wasm32"))]
const BURST: usize = 8;
/// See [`BURST`].
#[cfg(not(target_arch = "wasm32"))]
const PAUSE: u64 = 1 << 16;
/// Parts a window is cut into per thread.
#[cfg(not(target_arch = "wasm32"))]
const PARTS_PER_THREAD: usize = 16;

/// Everything a run holds besides the engine's own clockwork.
pub struct World<P: Population> {
    /// The nodes.
    pub pop: P,
    /// Who is in the network.
    pub members: Roster,
    /// The network model.
    pub net: Network,
    /// Measurements.
    pub metrics: Metrics,
    /// Which nodes are running.
    pub up: NodeSet,
    epochs: HashMap<u32, u32>,
    outbox: Vec<(u32, u32, P::Msg)>,
    /// The faults and the workload.
    timeline: Timeline,
    /// The nodes run anti-entropy (an anti-entropy protocol, or backup
    /// anti-entropy beside another): a single-update run ends as converged
    /// once every live node knows the update, and is never quiescent.
    anti_entropy: bool,
    /// Messages sent, for a viewer (off unless [`World::log_flights`] was called).
    flights: Option<FlightLog>,
    /// The nodes outside the run that have an index in it, and what was
    /// sent to them (see [`World::add_remote`]).
    pub remotes: Remotes<P::Msg>,
    /// `slow[i]`: how late node `i` handles the messages it receives, ms
    /// (the `slow` fault; its timers stay on time; empty while no node was
    /// ever slow).
    slow: Vec<u64>,
    /// The crashes so far, `(node, time_ms)`, in order (`crash`,
    /// `crash-random`): failure detection is measured against them.
    pub crashes: Vec<(u32, u64)>,
    /// A `drop` fault just applied: the senders and receivers whose
    /// messages in flight the events engine now dooms.
    drop_now: Option<((u32, u32), (u32, u32))>,
    /// Messages in flight a `drop` fault doomed: `(from, to, arrival)`, one
    /// entry a message (lost when it pops; empty in most runs).
    doomed: Vec<(u32, u32, u64)>,
}

/// One message on the wire, as a viewer draws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flight {
    /// Sender.
    pub from: u32,
    /// Receiver.
    pub to: u32,
    /// When it left, ms.
    pub sent: u64,
    /// When it arrives, ms (`sent` in the rounds model, where an exchange
    /// completes within its round); `None` if the network dropped it.
    pub arrives: Option<u64>,
    /// Whether it carried at least one update (otherwise a digest or feedback).
    pub updates: bool,
}

/// A bounded log of flights, drained by the viewer once a frame: the
/// latest `cap` kept (a ring), so that after a long replay or a stretch
/// at max speed without drains it holds the messages in flight now, not
/// the first ones sent after the last drain.
#[derive(Debug, Default)]
struct FlightLog {
    cap: usize,
    items: VecDeque<Flight>,
    skipped: u64,
}

/// What happened to a node because of a fault (the events engine schedules its timer).
enum Woke {
    None,
    Node(u32),
    Range(u32, u32),
}

impl<P: Population> World<P> {
    /// A world of `pop`, all nodes up and members, that the faults and
    /// the workload of `timeline` will happen to.
    pub fn new(pop: P, net: Network, timeline: Timeline, anti_entropy: bool) -> Self {
        let n = pop.len();
        World {
            pop,
            members: Roster::new(n),
            net,
            metrics: Metrics::new(n),
            up: NodeSet::new(n as usize, true),
            epochs: Default::default(),
            outbox: Vec::new(),
            timeline,
            anti_entropy,
            flights: None,
            remotes: Remotes::default(),
            slow: Vec::new(),
            crashes: Vec::new(),
            drop_now: None,
            doomed: Vec::new(),
        }
    }

    /// Whether a `drop` fault doomed the message `from` sent to `to` that
    /// arrives at `t` (taking it off the doomed list).
    fn take_doomed(&mut self, from: u32, to: u32, t: u64) -> bool {
        match self.doomed.iter().position(|&d| d == (from, to, t)) {
            Some(k) => {
                self.doomed.swap_remove(k);
                true
            }
            None => false,
        }
    }

    /// How late node `i` handles the messages it receives now, ms (0: on time).
    #[inline]
    pub fn slow_ms(&self, i: u32) -> u64 {
        if self.slow.is_empty() {
            0
        } else {
            self.slow.get(i as usize).copied().unwrap_or(0)
        }
    }

    /// Stop running node `node` at `now` (a crash, or part of a leave).
    fn crash(&mut self, node: u32, now: u64) {
        self.up.set(node as usize, false);
        self.metrics.node_down(node, &self.pop, now);
        self.crashes.push((node, now));
        self.pop.node_fault(node, NodeFault::Down, now);
    }

    /// The workload's start (before time 0's first timers).
    fn start_workload(&mut self) {
        let World { pop, members, outbox, metrics, timeline, .. } = self;
        timeline.workload.start(pop, &mut Ctx { members, outbox, metrics });
    }

    /// Hand every request of the workload due at or before `now` to its
    /// node (a request to a node that is down fails and is not an update).
    fn requests_until(&mut self, now: u64) {
        let World { pop, members, outbox, metrics, up, timeline, .. } = self;
        timeline.workload.inject_until(now, pop, &mut Ctx { members, outbox, metrics }, up);
    }

    /// The workload's end of updates (see [`Workload::end`]).
    fn end_workload(&mut self) {
        self.timeline.workload.end(&mut self.pop);
    }

    /// The run's external timeline: its faults and its workload.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Give a node of `kind` outside the run an index (see `remote.rs`):
    /// the population holds a mirror node for it that never runs, and
    /// whatever a simulated node sends to it is kept in
    /// [`World::remotes`] instead of entering the network.
    pub fn add_remote(&mut self, kind: NodeKind, now: u64) -> u32 {
        let i = self.pop.add_mirror(now);
        self.up.push(false);
        self.remotes.insert(i, kind);
        i
    }

    /// Log a flight a driver made outside the network model (an HTTP
    /// exchange with a remote node), for the viewer.
    pub fn log_flight(&mut self, f: Flight) {
        if let Some(log) = &mut self.flights {
            if log.items.len() >= log.cap {
                log.skipped += 1;
                if log.items.pop_front().is_none() {
                    return; // (a cap of 0 keeps nothing)
                }
            }
            log.items.push_back(f);
        }
    }

    /// Start logging flights, keeping at most `cap` between drains.
    pub fn log_flights(&mut self, cap: usize) {
        self.flights = Some(FlightLog { cap, ..Default::default() });
    }

    /// The latest flights logged since the last drain, oldest first (at
    /// most the cap), and how many older ones were dropped for them.
    pub fn drain_flights(&mut self) -> (Vec<Flight>, u64) {
        match &mut self.flights {
            Some(log) => (std::mem::take(&mut log.items).into(), std::mem::take(&mut log.skipped)),
            None => (Vec::new(), 0),
        }
    }

    /// Add a fault to the timeline. It must lie in the future of the run
    /// (the caller keeps it after the current time); same-time faults keep
    /// the order they were added in.
    pub fn add_fault(&mut self, f: TimedFault) {
        self.timeline.add_fault(f);
    }

    /// The whole fault timeline, applied and pending.
    pub fn faults(&self) -> &[TimedFault] {
        self.timeline.faults()
    }

    /// Take the next step of the external timeline, due at `now`: the next
    /// fault if one is due (the nodes it started go to `woke`), otherwise
    /// every request of the workload due. Each counts as an event.
    fn external_step(&mut self, now: u64, woke: &mut Vec<u32>) {
        match self.timeline.take_fault(now) {
            Some(f) => {
                self.metrics.events += 1;
                self.wake(f, now, woke);
            }
            None => self.requests_until(now),
        }
    }

    fn ctx(&mut self) -> (&mut P, Ctx<'_, P::Msg>) {
        (&mut self.pop, Ctx { members: &self.members, outbox: &mut self.outbox, metrics: &mut self.metrics })
    }

    /// Let the population run round `now` by itself ([`Population::round`]),
    /// when nothing the generic loop alone handles is in play: no remote
    /// node, no flight log (the caller checks that nothing was deferred).
    /// Returns whether it did.
    fn round_fast(&mut self, now: u64) -> bool {
        if self.remotes.any() || self.flights.is_some() {
            return false;
        }
        let mut ctx = RoundCtx { members: &self.members, net: &mut self.net, metrics: &mut self.metrics, up: &self.up };
        self.pop.round(now, &mut ctx)
    }

    fn apply_fault(&mut self, f: Fault, now: u64) -> Woke {
        let len = self.pop.len();
        match f {
            Fault::Partition { groups } => self.net.partition(len as usize, groups as usize),
            Fault::Heal => self.net.heal(),
            Fault::Loss { p } => self.net.set_loss(p),
            Fault::Crash { node } => {
                if node < len && self.up.get(node as usize) {
                    self.crash(node, now);
                }
            }
            Fault::CrashRandom { fraction } => {
                // the running members, then a partial Fisher-Yates shuffle
                let mut live: Vec<u32> =
                    (0..len).filter(|&i| self.up.get(i as usize) && self.members.contains(i)).collect();
                let count = ((live.len() as f64 * fraction).round() as usize).min(live.len());
                let mut rng = self.net.fault_rng(now);
                for k in 0..count {
                    let j = k + rng.below((live.len() - k) as u64) as usize;
                    live.swap(k, j);
                }
                let mut chosen = live[..count].to_vec();
                chosen.sort_unstable();
                for node in chosen {
                    self.crash(node, now);
                }
            }
            Fault::Slow { node, ms } => {
                if node < len {
                    if self.slow.len() < len as usize {
                        self.slow.resize(len as usize, 0);
                    }
                    self.slow[node as usize] = ms;
                    self.pop.node_fault(node, NodeFault::Slow(ms), now);
                }
            }
            Fault::Fast { node } => {
                if let Some(s) = self.slow.get_mut(node as usize) {
                    *s = 0;
                    self.pop.node_fault(node, NodeFault::Slow(0), now);
                }
            }
            Fault::Block { from, to } => self.net.block(Block { from, to }),
            Fault::Unblock { from, to } => self.net.unblock(Block { from, to }),
            // the events engine looks for them in its queue (rounds: nothing is in flight)
            Fault::Drop { from, to } => self.drop_now = Some((from, to)),
            Fault::Leave { node } => {
                if node < len && self.members.contains(node) {
                    if self.up.get(node as usize) {
                        self.up.set(node as usize, false);
                        self.metrics.node_down(node, &self.pop, now);
                        self.pop.node_fault(node, NodeFault::Down, now);
                    }
                    self.members.remove(node);
                }
            }
            Fault::Restart { node, keep_state } => {
                if node < len && self.members.contains(node) {
                    if self.up.get(node as usize) {
                        self.metrics.node_down(node, &self.pop, now);
                    }
                    if !keep_state {
                        let e = self.epochs.entry(node).or_insert(0);
                        *e += 1;
                        self.pop.reset(node, *e, now);
                    }
                    self.up.set(node as usize, true);
                    self.metrics.node_up(node, &self.pop, now);
                    self.pop.node_fault(node, NodeFault::Up, now);
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
        while let Some(f) = self.timeline.take_fault(now) {
            self.wake(f, now, woke);
        }
    }

    /// The start of a round of the rounds model at `now`: the workload's
    /// end if it is due, then the faults due, then the requests due.
    fn round_start(&mut self, now: u64, woke: &mut Vec<u32>) {
        if self.timeline.take_end(now) {
            self.end_workload();
        }
        self.faults_until(now, woke);
        self.requests_until(now);
    }

    fn wake(&mut self, f: Fault, now: u64, woke: &mut Vec<u32>) {
        match self.apply_fault(f, now) {
            Woke::None => {}
            Woke::Node(i) => woke.push(i),
            Woke::Range(a, b) => woke.extend(a..b),
        }
    }

    /// Count a message and ask the network whether it arrives: at what time
    /// (`timed`, the events model) or at all (the rounds model, time 0).
    #[inline]
    fn transmit(&mut self, from: u32, to: u32, bytes: usize, updates: usize, now: u64, timed: bool) -> Option<u64> {
        self.metrics.sent(bytes, updates);
        let fate = if timed { self.net.transit(from, to, now) } else { self.net.passes(from, to).map(|()| now) };
        self.log_flight(Flight { from, to, sent: now, arrives: fate.ok(), updates: updates > 0 });
        match fate {
            Ok(t) => Some(t),
            Err(Dropped::Loss) => {
                self.metrics.lost += 1;
                None
            }
            Err(Dropped::Partition) => {
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
        if let Some(r) = self.pop.rumor_bits() {
            return !r.made || self.up.count_common(r.holders) == self.up.count_ones();
        }
        let latest: Vec<_> = self.metrics.latest().collect();
        (0..self.pop.len())
            .filter(|&i| self.up.get(i as usize))
            .all(|i| latest.iter().all(|&(o, v)| self.pop.known(i, o).is_some_and(|k| k >= v)))
    }

    /// Whether the run ends now, and why, by its workload's stop rule
    /// ([`Workload::stop_rule`]); never while a fault is pending.
    fn should_stop(&mut self, now: u64, in_flight: usize) -> Option<StopReason> {
        if !self.timeline.faults_done() {
            return None;
        }
        match self.timeline.workload.stop_rule(self.anti_entropy) {
            StopRule::Current { after } => {
                (now >= after && self.metrics.all_done() && self.all_live_current()).then_some(StopReason::Converged)
            }
            StopRule::Quiet => (!self.pop.active() && in_flight == 0).then_some(StopReason::Quiescent),
        }
    }
}

/// How a run's time is cut, and when it ends at the latest (what it
/// injects and when is its workload's: see [`Timeline`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Gossip interval (one round), ms.
    pub interval: u64,
    /// Virtual-time limit, ms.
    pub limit_ms: u64,
}

/// A run in progress, advanced in slices of virtual time.
///
/// Calling contract: create it with [`Runner::new`] (that does everything
/// due at time 0), then call [`Runner::advance`] with increasing targets
/// until [`Runner::stopped`] says why the run ended. Slicing never changes
/// the result: any sequence of targets gives the same run as one call with
/// `u64::MAX`. Faults added with [`Runner::add_fault`] at a time after
/// [`Runner::now`] behave exactly as if they had been in the timeline from
/// the start, which is what lets a viewer record a user's clicks and replay
/// them.
pub struct Runner<P: Population> {
    /// The world being run.
    pub w: World<P>,
    s: Schedule,
    now: u64,
    stop: Option<StopReason>,
    clock: Clock<P::Msg>,
    open: bool,
}

#[allow(clippy::large_enum_variant)] // one per run: its size does not matter
enum Clock<M> {
    Rounds(Rounds<M>),
    Events(Events<M>),
}

struct Rounds<M> {
    round: u64,
    deferred: Vec<(u32, u32, M)>,
    wave: Vec<(u32, u32, M)>,
    next: Vec<(u32, u32, M)>,
    woke: Vec<u32>,
}

struct Events<M> {
    q: EventQueue<Ev<M>>,
    /// Nodes whose timer a fault restarted (a restart or a join), and the
    /// time of their one valid tick. A restarted node may still have the
    /// tick it had before in the queue; that one is stale and skipped. A
    /// node not in here has only ever had one chain of ticks, so its ticks
    /// are all valid and need no lookup.
    retimed: HashMap<u32, u64>,
    in_flight: usize,
    last_t: u64,
    same_t: u64,
    woke: Vec<u32>,
    par: Parallel<M>,
}

/// How the events engine uses threads (see `window.rs`).
struct Parallel<M> {
    /// Parts a window is cut into (1: no windows, one event at a time).
    threads: usize,
    /// Fewest events a window must hold to be run on threads.
    min_window: usize,
    /// Each part's log and list of events done, kept for the next window.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    logs: Vec<Padded<(PartLog<M>, Vec<Done>)>>,
    /// Each part's list of the window's events, kept (empty) for the next.
    #[cfg(not(target_arch = "wasm32"))]
    jobs: Vec<Vec<(u64, Job<M>)>>,
    /// Metric calls of the last window, not made yet.
    pending: Pending,
    /// Windows run on threads so far.
    windows: u64,
    /// Events still to run one at a time after a burst (see [`BURST`]).
    #[cfg(not(target_arch = "wasm32"))]
    pause: u64,
    /// The helper threads, `threads - 1`, started at the first window.
    #[cfg(not(target_arch = "wasm32"))]
    pool: Option<Pool>,
}

/// The metric calls of a window, made later (while the next window runs):
/// the parts' logs of calls, swapped out of the parts so that the next
/// window logs into the other buffers, and the order to make them in.
#[derive(Default)]
struct Pending {
    /// By part: its calls, with their times, in its order.
    ops: Vec<Vec<(u64, MetricOp)>>,
    /// Runs `(part, from, to)` of `ops`, in the order of the queue.
    order: Vec<(usize, usize, usize)>,
}

impl Pending {
    /// Whether no call waits.
    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Part `p`'s calls `from..to` come next.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    fn push(&mut self, p: usize, from: usize, to: usize) {
        match self.order.last_mut() {
            _ if from == to => {}
            Some(last) if last.0 == p && last.2 == from => last.2 = to,
            _ => self.order.push((p, from, to)),
        }
    }

    /// Make the calls, in order, and empty the lists.
    fn apply(&mut self, metrics: &mut Metrics) {
        let ops = &self.ops;
        apply_metric_ops(metrics, self.order.iter().flat_map(|&(p, from, to)| ops[p][from..to].iter().copied()));
        self.order.clear();
        for o in &mut self.ops {
            o.clear();
        }
    }
}

/// How a slice of [`Runner::advance`] ended.
enum Step {
    /// The run ended, for this reason, at this time.
    Ended(StopReason, u64),
    /// Everything due up to the target was done.
    Reached,
    /// The event budget ran out after time `t`.
    Budget(u64),
}

enum Ev<M> {
    Tick(u32),
    Msg(u32, u32, M),
    /// The workload's end of updates, ordered among the timers (queued at
    /// the start for every workload, even one whose end changes nothing:
    /// it counts as an event).
    EndUpdates,
    Sample,
}

/// The queue keeps ticks as node ids (see `queue.rs`).
impl<M> Item for Ev<M> {
    #[inline]
    fn as_tick(&self) -> Option<u32> {
        match self {
            Ev::Tick(i) => Some(*i),
            _ => None,
        }
    }
    #[inline]
    fn tick(id: u32) -> Self {
        Ev::Tick(id)
    }
}

impl<P: Population> Runner<P> {
    /// Start a run of `w` in the rounds model (`rounds`) or the events
    /// model, doing what is due at time 0.
    pub fn new(mut w: World<P>, s: Schedule, rounds: bool) -> Self {
        let clock = if rounds { Clock::Rounds(start_rounds(&mut w)) } else { Clock::Events(start_events(&mut w, s)) };
        Runner { w, s, now: 0, stop: None, clock, open: false }
    }

    /// Open-ended mode, for runs that real nodes take part in: while it is
    /// on, the run has no time limit and does not end when it converges or
    /// goes quiet (news can come from outside at any time). Turning it off
    /// restores the time limit, moved to now if the run is already past it.
    pub fn set_open(&mut self, open: bool) {
        if self.open && !open {
            self.s.limit_ms = self.s.limit_ms.max(self.now);
        }
        if open && matches!(self.stop, Some(StopReason::Converged | StopReason::Quiescent | StopReason::TimeLimit)) {
            self.stop = None;
        }
        self.open = open;
    }

    /// Whether the run is open-ended.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Run the events model on up to `threads` threads (1, the default:
    /// one event at a time), in windows of virtual time shorter than the
    /// least link latency, when the population can be cut into parts and
    /// a window holds at least `min_window` events. The run is the same
    /// whatever the number of threads; only a run to the end
    /// ([`Runner::run`], no event budget) uses them.
    pub fn set_threads(&mut self, threads: usize, min_window: usize) {
        if let Clock::Events(e) = &mut self.clock {
            e.par.min_window = min_window;
            // WebAssembly has no threads: one event at a time
            e.par.threads = if cfg!(target_arch = "wasm32") { 1 } else { threads.max(1) };
            // helpers for the new count, at the next window
            #[cfg(not(target_arch = "wasm32"))]
            {
                e.par.pool = None;
            }
        }
    }

    /// How many windows of the events model ran on threads so far (see
    /// [`Runner::set_threads`]).
    pub fn windows(&self) -> u64 {
        match &self.clock {
            Clock::Events(e) => e.par.windows,
            Clock::Rounds(_) => 0,
        }
    }

    /// Deliver `msg` to simulated node `to` now, as if it had arrived over
    /// the network from `from` (a remote node). What the node sends in
    /// answer goes through the network model like any other message
    /// (answers to remote nodes are diverted, see [`Remotes::drain`]).
    /// Nothing happens if `to` is down or is not a simulated node.
    pub fn deliver_remote(&mut self, to: u32, from: u32, msg: P::Msg) {
        if to >= self.w.pop.len() || !self.w.up.get(to as usize) || self.w.remotes.contains(to) {
            return;
        }
        let now = self.now;
        self.w.metrics.events += 1;
        let (pop, mut ctx) = self.w.ctx();
        pop.deliver(to, from, msg, now, &mut ctx);
        match &mut self.clock {
            // answers and pushes go out with the next round
            Clock::Rounds(r) => route(&mut self.w, now, &mut r.deferred, None),
            Clock::Events(e) => flush(&mut self.w, &mut e.q, &mut e.in_flight, now),
        }
    }

    /// Virtual time reached, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Call `f` with every message in flight: `(from, to, arrival ms,
    /// message)`, in no particular order (events model; in rounds nothing
    /// is in flight between rounds). Messages a `drop` fault doomed are left out.
    pub fn in_flight(&self, mut f: impl FnMut(u32, u32, u64, &P::Msg)) {
        if let Clock::Events(e) = &self.clock {
            let doomed = &self.w.doomed;
            e.q.scan(|at, ev| match ev {
                Peek::Other(Ev::Msg(from, to, msg)) if !doomed.contains(&(*from, *to, at)) => f(*from, *to, at, msg),
                _ => {}
            });
        }
    }

    /// Why the run ended, once it has.
    pub fn stopped(&self) -> Option<StopReason> {
        self.stop
    }

    /// The schedule it runs.
    pub fn schedule(&self) -> Schedule {
        self.s
    }

    /// Add a fault at `at_ms`, moved to just after the current time if it is
    /// not later. A run that had converged or gone quiet resumes. Returns
    /// the time it will apply at.
    pub fn add_fault(&mut self, at_ms: u64, fault: Fault) -> u64 {
        let at_ms = at_ms.max(self.now + 1);
        self.w.add_fault(TimedFault { at_ms, fault });
        if matches!(self.stop, Some(StopReason::Converged | StopReason::Quiescent)) {
            self.stop = None;
        }
        at_ms
    }

    /// Advance to virtual time `target` (inclusive), or until the run ends,
    /// or until `budget` more events have been processed, whichever comes
    /// first. Returns whether it got to `target` or to the end (false: the
    /// budget ran out first; call again).
    pub fn advance(&mut self, target: u64, budget: u64, progress: &mut dyn FnMut(Progress)) -> bool {
        if self.stop.is_some() {
            return true;
        }
        let until = self.w.metrics.events.saturating_add(budget);
        let s = if self.open { Schedule { limit_ms: u64::MAX, ..self.s } } else { self.s };
        loop {
            let before = self.w.metrics.events;
            let step = match &mut self.clock {
                Clock::Rounds(r) => rounds_until(&mut self.w, s, r, target, until, progress),
                Clock::Events(e) => {
                    let step = events_until(&mut self.w, s, e, target, until, progress);
                    // the last window's metric calls, before anyone reads the metrics
                    settle_metrics(&mut self.w.metrics, e);
                    step
                }
            };
            return match step {
                // open-ended: converged or quiet for now, but go on
                Step::Ended(StopReason::Converged | StopReason::Quiescent, t) if self.open => {
                    self.now = self.now.max(t.min(target));
                    if t < target && self.w.metrics.events > before {
                        continue;
                    }
                    self.now = self.now.max(target);
                    true
                }
                Step::Ended(reason, t) => {
                    self.stop = Some(reason);
                    self.now = t;
                    true
                }
                Step::Reached => {
                    self.now = self.now.max(target.min(s.limit_ms));
                    true
                }
                Step::Budget(t) => {
                    self.now = self.now.max(t);
                    false
                }
            };
        }
    }

    /// Run to the end; returns why it ended and when.
    pub fn run(&mut self, progress: &mut dyn FnMut(Progress)) -> (StopReason, u64) {
        self.advance(u64::MAX, u64::MAX, progress);
        (self.stop.unwrap_or(StopReason::TimeLimit), self.now)
    }
}

/// Run the rounds model to the end (see [`Runner`] to run it in slices).
pub fn run_rounds<P: Population>(
    w: World<P>,
    s: Schedule,
    progress: &mut dyn FnMut(Progress),
) -> (StopReason, u64, World<P>) {
    let mut r = Runner::new(w, s, true);
    let (reason, t) = r.run(progress);
    (reason, t, r.w)
}

/// Run the events model to the end (see [`Runner`] to run it in slices).
pub fn run_events<P: Population>(
    w: World<P>,
    s: Schedule,
    progress: &mut dyn FnMut(Progress),
) -> (StopReason, u64, World<P>) {
    let mut r = Runner::new(w, s, false);
    let (reason, t) = r.run(progress);
    (reason, t, r.w)
}

fn start_rounds<P: Population>(w: &mut World<P>) -> Rounds<P::Msg> {
    let mut woke = Vec::new();
    w.faults_until(0, &mut woke);
    w.start_workload();
    // time 0: first timers (a movies node picks its first favorite)
    for i in 0..w.pop.len() {
        if w.up.get(i as usize) {
            let (pop, mut ctx) = w.ctx();
            pop.tick(i, 0, &mut ctx);
        }
    }
    let mut deferred = Vec::new();
    route(w, 0, &mut deferred, None);
    w.metrics.sample(0);
    Rounds { round: 1, deferred, wave: Vec::new(), next: Vec::new(), woke }
}

/// Run rounds while their time is at most `target` and fewer than `until`
/// events were counted.
fn rounds_until<P: Population>(
    w: &mut World<P>,
    s: Schedule,
    r: &mut Rounds<P::Msg>,
    target: u64,
    until: u64,
    progress: &mut dyn FnMut(Progress),
) -> Step {
    let Schedule { interval, limit_ms } = s;
    loop {
        let last = r.round.saturating_sub(1) * interval;
        if r.round > limit_ms / interval.max(1) {
            return Step::Ended(StopReason::TimeLimit, last);
        }
        let now = r.round * interval;
        if now > target {
            return Step::Reached;
        }
        if w.metrics.events >= until {
            return Step::Budget(last);
        }
        r.round += 1;
        r.woke.clear();
        w.round_start(now, &mut r.woke);
        std::mem::swap(&mut r.wave, &mut r.deferred);
        let whole = r.wave.is_empty() && w.round_fast(now);
        if !whole && !round_generic(w, r, now) {
            return Step::Ended(StopReason::LivelockGuard, now);
        }
        w.metrics.sample(now);
        progress(Progress { time_ms: now, limit_ms, coverage: w.metrics.coverage.last().map_or(0.0, |c| c.1) });
        if let Some(reason) = w.should_stop(now, r.deferred.len()) {
            return Step::Ended(reason, now);
        }
    }
}

/// One round's timers and waves, message by message through the outbox
/// (`r.wave` holds what was deferred to this round). Returns false if the
/// round would not settle (livelock guard).
fn round_generic<P: Population>(w: &mut World<P>, r: &mut Rounds<P::Msg>, now: u64) -> bool {
    for i in 0..w.pop.len() {
        if w.up.get(i as usize) {
            let (pop, mut ctx) = w.ctx();
            pop.tick(i, now, &mut ctx);
            w.metrics.events += 1;
        }
    }
    route(w, now, &mut r.wave, None);
    let mut waves = 0;
    while !r.wave.is_empty() {
        waves += 1;
        if waves > MAX_WAVES {
            return false;
        }
        const AHEAD: usize = 64;
        // a message's own lookups, once the node's state is loaded
        const NEAR: usize = 16;
        for m in r.wave.iter().take(AHEAD) {
            w.pop.prefetch(m.1);
        }
        let mut it = r.wave.drain(..);
        #[allow(clippy::while_let_on_iterator)] // the loop peeks through `it`
        while let Some((from, to, msg)) = it.next() {
            if let Some(ahead) = it.as_slice().get(AHEAD) {
                w.pop.prefetch(ahead.1);
            }
            if let Some(near) = it.as_slice().get(NEAR) {
                w.pop.prefetch_msg(near.1, &near.2);
            }
            w.metrics.events += 1;
            if !w.up.get(to as usize) {
                w.metrics.to_down += 1;
                undeliverable(w, from, to, msg, now);
                if !w.outbox.is_empty() {
                    route(w, now, &mut r.next, Some(&mut r.deferred));
                }
                continue;
            }
            let (pop, mut ctx) = w.ctx();
            pop.deliver(to, from, msg, now, &mut ctx);
            route(w, now, &mut r.next, Some(&mut r.deferred));
        }
        drop(it);
        std::mem::swap(&mut r.wave, &mut r.next);
    }
    true
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
        if w.remotes.takes(to) {
            w.remotes.keep(from, to, msg);
            continue;
        }
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

fn start_events<P: Population>(w: &mut World<P>, s: Schedule) -> Events<P::Msg> {
    let interval = s.interval.max(1);
    let par = Parallel {
        threads: 1,
        min_window: MIN_WINDOW,
        logs: Vec::new(),
        #[cfg(not(target_arch = "wasm32"))]
        jobs: Vec::new(),
        pending: Pending::default(),
        windows: 0,
        #[cfg(not(target_arch = "wasm32"))]
        pause: 0,
        #[cfg(not(target_arch = "wasm32"))]
        pool: None,
    };
    let mut e = Events {
        q: EventQueue::new(),
        retimed: HashMap::new(),
        in_flight: 0,
        last_t: 0,
        same_t: 0,
        woke: Vec::new(),
        par,
    };
    w.start_workload();
    flush(w, &mut e.q, &mut e.in_flight, 0);
    for i in 0..w.pop.len() {
        e.q.push(w.pop.next_timeout(i), Ev::Tick(i));
    }
    // after the first timers: a timer armed later for the same time runs after it
    let end = w.timeline.workload.end_ms();
    if end < s.limit_ms {
        e.q.push(end, Ev::EndUpdates);
    }
    w.metrics.sample(0);
    e.q.push(interval, Ev::Sample);
    e
}

/// Process events due at or before `target` while fewer than `until` events
/// were counted. Faults come before any other event at their time. The
/// metric calls of a last window may be left pending ([`settle_metrics`]).
fn events_until<P: Population>(
    w: &mut World<P>,
    s: Schedule,
    e: &mut Events<P::Msg>,
    target: u64,
    until: u64,
    progress: &mut dyn FnMut(Progress),
) -> Step {
    let Schedule { interval, limit_ms } = s;
    let interval = interval.max(1);
    loop {
        if w.metrics.events >= until {
            return Step::Budget(e.last_t);
        }
        // the next fault or request: nothing else may run past it
        let external_at = w.timeline.next_at();
        let bound = external_at.unwrap_or(u64::MAX).min(target).min(limit_ms);
        let t = match e.q.peek_until(bound) {
            Some(t) => t,
            None => match external_at {
                Some(x) if x <= bound => x,
                _ if bound == limit_ms && limit_ms < target && (!e.q.is_empty() || external_at.is_some()) => {
                    return Step::Ended(StopReason::TimeLimit, limit_ms);
                }
                _ if e.q.is_empty() && external_at.is_none() => return Step::Ended(StopReason::Quiescent, e.last_t),
                _ => return Step::Reached,
            },
        };
        if t == e.last_t {
            e.same_t += 1;
            if e.same_t > MAX_EVENTS_PER_MS {
                return Step::Ended(StopReason::LivelockGuard, t);
            }
        } else {
            (e.last_t, e.same_t) = (t, 0);
        }
        if external_at.is_some_and(|x| x <= t) {
            // faults first, one at a time, then the requests due
            settle_metrics(&mut w.metrics, e);
            e.woke.clear();
            w.external_step(t, &mut e.woke);
            if let Some((a, b)) = w.drop_now.take() {
                let within = |(lo, hi): (u32, u32), i: u32| lo <= i && i <= hi;
                let doomed = &mut w.doomed;
                e.q.scan(|at, ev| match ev {
                    Peek::Other(Ev::Msg(from, to, _)) if within(a, *from) && within(b, *to) => {
                        doomed.push((*from, *to, at))
                    }
                    _ => {}
                });
            }
            for &i in &e.woke {
                let next = w.pop.next_timeout(i).max(t);
                e.retimed.insert(i, next);
                e.q.push(next, Ev::Tick(i));
            }
            // what the requests made the nodes send (a fault sends nothing)
            flush(w, &mut e.q, &mut e.in_flight, t);
            continue;
        }
        #[cfg(not(target_arch = "wasm32"))]
        if e.par.pause > 0 {
            e.par.pause -= 1;
        } else if e.par.threads > 1
            && until == u64::MAX
            && w.slow.is_empty()
            && w.doomed.is_empty()
            && matches!(e.q.ahead(0), Some(Peek::Tick(_) | Peek::Other(Ev::Msg(..))))
        {
            // no fault, request or limit inside the window, and no message
            // sent inside it arrives inside it
            let end = (t + w.net.min_latency()).min(bound.saturating_add(1));
            let end = external_at.map_or(end, |x| end.min(x));
            if e.q.due_before(end) >= e.par.min_window {
                if window(w, e, t, end) {
                    if e.same_t > MAX_EVENTS_PER_MS {
                        return Step::Ended(StopReason::LivelockGuard, e.last_t);
                    }
                    continue;
                }
                // the population cannot be cut into parts now (SWIM's never
                // can): the next events run one at a time without asking
                e.par.pause = PAUSE;
            }
        }
        settle_metrics(&mut w.metrics, e);
        let Some((t, ev)) = e.q.pop() else { continue };
        w.metrics.events += 1;
        // at a million nodes, what an event touches of its node is rarely
        // in cache: start fetching it for an event a few places ahead (and,
        // twice as far ahead, what deciding that for a tick reads)
        if let Some(Peek::Tick(i)) = e.q.ahead(2 * PREFETCH_AHEAD) {
            w.pop.prefetch_timer(i);
        }
        match e.q.ahead(PREFETCH_AHEAD) {
            Some(Peek::Tick(i)) => w.pop.prefetch_tick(i),
            Some(Peek::Other(Ev::Msg(_, to, _))) => w.pop.prefetch(*to),
            _ => {}
        }
        // and, half as far ahead, what a message's delivery will read of it
        if let Some(Peek::Other(Ev::Msg(_, to, msg))) = e.q.ahead(PREFETCH_AHEAD / 2) {
            w.pop.prefetch_msg(*to, msg);
        }
        match ev {
            Ev::Tick(i) => {
                // (most runs never retime a node: no lookup, no hashing, then)
                if !w.up.get(i as usize)
                    || (!e.retimed.is_empty() && e.retimed.get(&i).is_some_and(|&valid| valid != t))
                {
                    continue;
                }
                let (pop, mut ctx) = w.ctx();
                pop.tick(i, t, &mut ctx);
                flush(w, &mut e.q, &mut e.in_flight, t);
                let next = w.pop.next_timeout(i).max(t + 1);
                if let Some(valid) = (!e.retimed.is_empty()).then(|| e.retimed.get_mut(&i)).flatten() {
                    *valid = next;
                }
                e.q.push(next, Ev::Tick(i));
            }
            Ev::Msg(from, to, msg) => {
                e.in_flight -= 1;
                if !w.doomed.is_empty() && w.take_doomed(from, to, t) {
                    // a `drop` fault caught it in flight: lost on the way
                    w.metrics.lost += 1;
                    continue;
                }
                if !w.up.get(to as usize) {
                    w.metrics.to_down += 1;
                    undeliverable(w, from, to, msg, t);
                    if !w.outbox.is_empty() {
                        flush(w, &mut e.q, &mut e.in_flight, t);
                    }
                    retime(w, e, from, t);
                    continue;
                }
                let (pop, mut ctx) = w.ctx();
                pop.deliver(to, from, msg, t, &mut ctx);
                flush(w, &mut e.q, &mut e.in_flight, t);
                retime(w, e, to, t);
            }
            Ev::EndUpdates => {
                w.timeline.take_end(t);
                w.end_workload();
            }
            Ev::Sample => {
                w.metrics.sample(t);
                progress(Progress { time_ms: t, limit_ms, coverage: w.metrics.coverage.last().map_or(0.0, |c| c.1) });
                e.q.push(t + interval, Ev::Sample); // first: a resumed run keeps sampling
                if let Some(reason) = w.should_stop(t, e.in_flight) {
                    return Step::Ended(reason, t);
                }
            }
        }
    }
}

/// A message reached `to`, which is down: tell its sender, if it runs (the
/// failure detector of populations that have one, [`Population::undeliverable`]).
#[inline]
fn undeliverable<P: Population>(w: &mut World<P>, from: u32, to: u32, msg: P::Msg, now: u64) {
    if w.up.get(from as usize) && !w.remotes.contains(from) {
        let (pop, mut ctx) = w.ctx();
        pop.undeliverable(from, to, msg, now, &mut ctx);
    }
}

/// Move node `i`'s next tick earlier if a message armed a timer
/// ([`Population::retime`]): the tick queued before becomes stale.
#[inline]
fn retime<P: Population>(w: &mut World<P>, e: &mut Events<P::Msg>, i: u32, now: u64) {
    if let Some(at) = w.pop.retime(i) {
        let at = at.max(now);
        e.retimed.insert(i, at);
        e.q.push(at, Ev::Tick(i));
    }
}

fn flush<P: Population>(w: &mut World<P>, q: &mut EventQueue<Ev<P::Msg>>, in_flight: &mut usize, now: u64) {
    // (about half the events send nothing: a SWIM member's probe timeout
    // after its ack, an ack received; setting up and dropping a drain of
    // nothing was 3 % of a SWIM run's instructions)
    if w.outbox.is_empty() {
        return;
    }
    let mut out = std::mem::take(&mut w.outbox);
    for (from, to, msg) in out.drain(..) {
        let info = w.pop.msg_info(&msg);
        send(w, q, in_flight, now, from, to, msg, info);
    }
    w.outbox = out;
}

/// One message through the network into the queue (or to a remote node);
/// `info` is its [`Population::msg_info`].
#[inline]
#[allow(clippy::too_many_arguments)] // the engine's state, split for the borrow checker
fn send<P: Population>(
    w: &mut World<P>,
    q: &mut EventQueue<Ev<P::Msg>>,
    in_flight: &mut usize,
    now: u64,
    from: u32,
    to: u32,
    msg: P::Msg,
    (bytes, updates, _): (usize, usize, bool),
) {
    if w.remotes.takes(to) {
        w.remotes.keep(from, to, msg);
        return;
    }
    if let Some(at) = w.transmit(from, to, bytes, updates, now, true) {
        // a slow receiver handles it late
        let at = at + w.slow_ms(to);
        *in_flight += 1;
        q.push(at, Ev::Msg(from, to, msg));
    }
}

/// Run the events from `t0` up to (not including) `end` as one window on
/// threads (see `window.rs`), with exactly the effects of running them one
/// at a time. Returns false, having done nothing, when the population
/// cannot be cut into parts now. The caller makes sure that no fault,
/// request or time limit falls inside, and that `end - t0` is at most the
/// least link latency.
///
/// The metric calls of a window are made while the next window runs (by
/// this thread, beside its own part), or by [`settle_metrics`] before
/// anything reads the metrics: nothing inside a window reads them.
#[cfg(not(target_arch = "wasm32"))]
fn window<P: Population>(w: &mut World<P>, e: &mut Events<P::Msg>, t0: u64, mut end: u64) -> bool {
    let n = w.pop.len();
    let k = (e.par.threads * PARTS_PER_THREAD).min(n as usize);
    if e.par.threads < 2 || k < 2 || w.remotes.any() || end <= t0 {
        return false;
    }
    let bounds: Vec<u32> = (0..=k).map(|p| (n as u64 * p as u64 / k as u64) as u32).collect();
    let part_of = |i: u32| bounds[1..].partition_point(|&b| b <= i);
    let Some(mut parts) = w.pop.split(&w.members, &bounds) else { return false };
    // take the window's events off the queue, in order; a sample or the
    // end of re-sampling closes the window early (they read every node),
    // and so does a full window. Closing it at an event not taken, at time
    // `t`, keeps the order: a timer set for `t` or later goes into the
    // queue, after that event.
    // the lists of the last window, emptied by its parts
    let jobs = &mut e.par.jobs;
    jobs.resize_with(k, Vec::new);
    let mut taken: Vec<(u64, u32, bool)> = Vec::new();
    while let Some(t) = e.q.peek_until(end - 1) {
        let (i, is_msg) = match e.q.ahead(0) {
            Some(Peek::Tick(i)) if taken.len() < MAX_WINDOW => (i, false),
            Some(Peek::Other(Ev::Msg(_, to, _))) if taken.len() < MAX_WINDOW => (*to, true),
            _ => {
                end = t;
                break;
            }
        };
        let job = match e.q.pop() {
            Some((_, Ev::Tick(i))) => Job::Tick(i),
            Some((_, Ev::Msg(from, to, msg))) => Job::Msg(from, to, msg),
            _ => unreachable!("the event just looked at"),
        };
        jobs[part_of(i)].push((t, job));
        taken.push((t, i, is_msg));
    }
    debug_assert!(taken.first().is_some_and(|f| f.0 == t0));
    // run the parts on threads, each taking the next part
    // when done with one (the parts' loads differ from window to window)
    e.par.logs.resize_with(k, Default::default);
    let (up, retimed, metrics, pending) = (&w.up, &e.retimed, &mut w.metrics, &mut e.par.pending);
    let handoffs: Vec<_> = parts
        .drain(..)
        .zip(jobs.iter_mut())
        .zip(e.par.logs.iter_mut().map(|l| &mut l.0))
        .map(|w| std::sync::Mutex::new(Some(w)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // each thread takes the next part not taken until none is left
    let work = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(handoff) = handoffs.get(i) else { return };
        let taken = handoff.lock().map(|mut s| s.take()).unwrap_or(None);
        if let Some(((mut part, jobs), (log, done))) = taken {
            run_part(&mut *part, jobs, up, retimed.clone(), end, log, done);
        }
    };
    // helpers kept from window to window, in a rayon pool (if the system
    // refuses them, this thread runs every part)
    let pool = e.par.pool.get_or_insert_with(|| Pool::new(e.par.threads - 1));
    pool.run(&work, || {
        // this thread makes the previous window's metric calls first
        pending.apply(metrics);
        work();
    });
    drop(handoffs);
    drop(parts);
    // replay their effects in the order of the queue
    let mut logs = std::mem::take(&mut e.par.logs);
    if logs.iter().map(|l| l.0 .0.sends.len()).sum::<usize>() > BURST * taken.len() {
        e.par.pause = PAUSE;
    }
    let mut sends = Vec::with_capacity(k);
    let mut dones = Vec::with_capacity(k);
    for Padded((log, done)) in &mut logs {
        sends.push(log.sends.drain(..));
        dones.push(&done[..]);
    }
    // per part: events replayed, metric calls made, messages sent
    let mut at = vec![(0usize, 0usize, 0usize); k];
    let mut order = Order::default();
    let mut next_taken = taken.iter().peekable();
    loop {
        let (t, i, is_msg) = match order.next(next_taken.peek().map(|x| x.0)) {
            Next::Taken => *next_taken.next().expect("peeked"),
            Next::Timer(t, i) => (t, i, false),
            Next::End => break,
        };
        let p = part_of(i);
        let d = dones[p][at[p].0];
        debug_assert_eq!((d.node, d.t), (i, t), "the parts ran the window's events in its order");
        at[p].0 += 1;
        w.metrics.events += 1;
        if t == e.last_t {
            e.same_t += 1;
        } else {
            (e.last_t, e.same_t) = (t, 0);
        }
        if is_msg {
            e.in_flight -= 1;
        }
        if !d.ran {
            if is_msg {
                w.metrics.to_down += 1;
            }
            continue;
        }
        e.par.pending.push(p, at[p].1, d.ops);
        at[p].1 = d.ops;
        for (from, to, msg, info) in sends[p].by_ref().take(d.sends - at[p].2) {
            send(w, &mut e.q, &mut e.in_flight, t, from, to, msg, info);
        }
        at[p].2 = d.sends;
        if !is_msg {
            if let Some(valid) = e.retimed.get_mut(&i) {
                *valid = d.next;
            }
            if d.next < end {
                order.timer(d.next, i);
            } else {
                e.q.push(d.next, Ev::Tick(i));
            }
        }
    }
    debug_assert!(sends.iter().all(|s| s.len() == 0), "every message logged was sent");
    drop((sends, dones));
    // the calls go to `pending` as they are, and the parts log the next
    // window's into the buffers `pending` emptied at this window's start
    if e.par.pending.ops.len() < k {
        e.par.pending.ops.resize_with(k, Vec::new);
    }
    for (Padded((log, done)), pending) in logs.iter_mut().zip(&mut e.par.pending.ops) {
        debug_assert!(pending.is_empty(), "the last window's calls were made");
        std::mem::swap(&mut log.ops, pending);
        done.clear();
        // a burst's buffers are not kept
        log.sends.shrink_to(MAX_WINDOW);
        log.ops.shrink_to(MAX_WINDOW);
    }
    e.par.logs = logs;
    e.par.windows += 1;
    true
}

/// Make the metric calls windows left pending, in order.
fn settle_metrics<M>(metrics: &mut Metrics, e: &mut Events<M>) {
    // called before every fault and request: nothing is pending on one thread
    if !e.par.pending.is_empty() {
        e.par.pending.apply(metrics);
    }
}

/// Make metric calls recorded at their times, in order.
fn apply_metric_ops(metrics: &mut Metrics, ops: impl Iterator<Item = (u64, MetricOp)>) {
    // a batch at a time: the records of the next few are fetched together
    let mut ops = ops.peekable();
    let mut batch: Vec<(u64, MetricOp)> = Vec::with_capacity(16);
    while ops.peek().is_some() {
        batch.clear();
        batch.extend(ops.by_ref().take(16));
        metrics.warm(batch.iter().filter_map(|(_, op)| match op {
            MetricOp::Learned { origin, .. } => Some(*origin),
            MetricOp::Originated { .. } => None,
        }));
        for &(t, op) in &batch {
            match op {
                MetricOp::Originated { origin, version } => metrics.originated(origin, version, t),
                MetricOp::Learned { node, origin, previous, version } => {
                    metrics.learned(node, origin, previous, version, t)
                }
            }
        }
    }
}
