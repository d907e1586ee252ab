//! SWIM members as a simulator population (`gossip sim --membership swim`).
//!
//! Each simulated node runs the core's [`Swim`] (with Lifeguard's parts as
//! its configuration says) over the engine's network, fault timeline and
//! event queue, like any other [`Population`]. The workload is membership
//! alone: failure detection. No rumor is spread (the report's dissemination
//! fields stay empty); what is measured is [`SwimReport`]: how long crashed
//! members take to be declared failed, live members declared failed (false
//! positives), suspicions, refutations and the message load.
//!
//! Timing model: the events model only (a SWIM period holds a timeout and
//! an indirect round trip, which the rounds model cannot express). Members
//! start their periods at a random phase in `[0, T′)` drawn from their own
//! RNG, or all at time 0 with `aligned` phases (the paper's analysis, in
//! which protocol periods are synchronous). A message can move a member's
//! next deadline earlier (a suspicion heard, a ping-req to relay): the
//! population keeps the time of each member's queued tick and tells the
//! engine when a delivery moved it earlier ([`Population::retime`]).
//!
//! Speed: the population also keeps each member's next deadline (`next`,
//! updated after everything that can move it), so that the engine's
//! questions about timers, and the ticks that find nothing due (a probe's
//! timeout after its ack came: one tick a period for most members), are
//! answered from one dense array without touching the member's state. A
//! member's heap blocks are prefetched whole some events ahead, and so are
//! the updates a message carries ([`Population::prefetch_msg`]).
//!
//! Memory: the updates members piggyback are held once, in a table shared
//! by the population ([`Circulating`], the [`Board`] the rules call), each
//! with a count of the members holding it; a member's queue holds 4-byte
//! handles and, in 4 more bytes, its send counts and insertion stamps, and
//! its entries are 8-byte records (the core's `Rec`). At the peak of a run (every member holding
//! the same suspicions and declarations) that is one copy of each update
//! instead of one per member, found by an index of 4-byte handles (not a
//! map holding each update a second time).
//!
//! The membership baseline every member starts from is the roster at the
//! start (`0..nodes`, all alive at incarnation 0); members that join later
//! announce themselves, and a member restarted without its state comes
//! back at an incarnation above any it had, announcing itself.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::engine::World;
use super::metrics::Knowledge;
use super::population::{node_rng, Ctx, NodeFault, Population};
use crate::core::membership::swim::{Board, Gossip, Span, State, Swim, SwimConfig, SwimCounters, SwimMsg};
use crate::core::{MemberEvent, MemberOut, Version};
use crate::rng::{mix64, Rng};

/// How a SWIM run is set up: the members' configuration and their phases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwimRun {
    /// Every member's configuration.
    pub config: SwimConfig,
    /// All members start their periods at time 0 (the paper's synchronous
    /// periods) instead of at random phases.
    #[serde(default)]
    pub aligned: bool,
}

/// The updates in circulation among a population's members: each held once
/// with the number of members holding it (its handle is its slot; a slot is
/// reused once nobody holds it). Which slot an update gets changes nothing
/// in a run: the rules only read the update behind a handle.
///
/// The updates are found by an open-addressing table of 4-byte handles
/// (linear probing, at most three quarters full, backward-shift deletion)
/// that reads the keys from the slots: at 100,000 members a few hundred
/// thousand distinct updates circulate (every member that times a
/// suspicion out declares the member failed in its own name), and a
/// `HashMap` from update to handle held each update a second time.
#[derive(Debug, Default)]
pub struct Circulating {
    slots: Vec<(Gossip<u32>, u32)>,
    /// Handles by hash (`EMPTY`: none); a power of two long, or empty.
    index: Vec<u32>,
    /// Distinct updates held.
    held: usize,
    free: Vec<u32>,
    /// Emptied lists of delivered messages, for the next messages' updates
    /// ([`Board::list`]; at most [`LISTS_KEPT`]): a message's list was
    /// allocated when sent and freed when delivered.
    lists: Vec<Vec<Gossip<u32>>>,
}

/// Most emptied message lists [`Circulating`] keeps.
const LISTS_KEPT: usize = 1024;

/// An empty place of [`Circulating`]'s index.
const EMPTY: u32 = u32::MAX;

/// Where an update's search in [`Circulating`]'s index starts.
fn hash(g: &Gossip<u32>) -> u64 {
    let (tag, id, inc, from) = match *g {
        Gossip::Alive { id, inc } => (0u64, id, inc, 0),
        Gossip::Suspect { id, inc, from } => (1, id, inc, from),
        Gossip::Dead { id, inc, from } => (2, id, inc, from),
    };
    mix64((u64::from(id) << 32 | u64::from(inc)) ^ mix64(u64::from(from) << 2 | tag))
}

impl Circulating {
    /// Distinct updates held by some member.
    pub fn len(&self) -> usize {
        self.held
    }

    /// Whether no member holds any update.
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// The handle of `g` if held, or else the empty place where it goes.
    fn find(&self, g: &Gossip<u32>) -> Result<u32, usize> {
        let mask = self.index.len() - 1;
        let mut i = hash(g) as usize & mask;
        loop {
            match self.index[i] {
                EMPTY => return Err(i),
                h if self.slots[h as usize].0 == *g => return Ok(h),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Twice the index (at least 64 places), every handle placed again.
    fn grow(&mut self) {
        let size = (self.index.len() * 2).max(64);
        let old = std::mem::replace(&mut self.index, vec![EMPTY; size]);
        let mask = size - 1;
        for h in old.into_iter().filter(|&h| h != EMPTY) {
            let mut i = hash(&self.slots[h as usize].0) as usize & mask;
            while self.index[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.index[i] = h;
        }
    }
}

impl Board<u32> for Circulating {
    type Handle = u32;

    fn hold(&mut self, g: Gossip<u32>) -> u32 {
        if (self.held + 1) * 4 > self.index.len() * 3 {
            self.grow();
        }
        let at = match self.find(&g) {
            Ok(h) => {
                self.slots[h as usize].1 += 1;
                return h;
            }
            Err(at) => at,
        };
        let h = match self.free.pop() {
            Some(h) => {
                self.slots[h as usize] = (g, 1);
                h
            }
            None => {
                self.slots.push((g, 1));
                self.slots.len() as u32 - 1
            }
        };
        self.index[at] = h;
        self.held += 1;
        h
    }

    #[inline]
    fn get<'a>(&'a self, h: &'a u32) -> &'a Gossip<u32> {
        &self.slots[*h as usize].0
    }

    fn release(&mut self, h: u32) {
        let slot = &mut self.slots[h as usize];
        slot.1 -= 1;
        if slot.1 > 0 {
            return;
        }
        // take its place out of the index, moving back the handles after it
        // that probed past it (backward-shift deletion)
        let mask = self.index.len() - 1;
        let mut i = hash(&self.slots[h as usize].0) as usize & mask;
        while self.index[i] != h {
            i = (i + 1) & mask;
        }
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let next = self.index[j];
            if next == EMPTY {
                break;
            }
            let home = hash(&self.slots[next as usize].0) as usize & mask;
            // `next` stays if its home lies cyclically in (i, j]
            let stays = if i <= j { i < home && home <= j } else { i < home || home <= j };
            if !stays {
                self.index[i] = next;
                i = j;
            }
        }
        self.index[i] = EMPTY;
        self.held -= 1;
        self.free.push(h);
    }

    #[inline]
    fn list(&mut self) -> Vec<Gossip<u32>> {
        self.lists.pop().unwrap_or_default()
    }

    #[inline]
    fn recycle(&mut self, mut list: Vec<Gossip<u32>>) {
        if list.capacity() > 0 && self.lists.len() < LISTS_KEPT {
            list.clear();
            self.lists.push(list);
        }
    }
}

/// A simulated member: its updates on the population's [`Circulating`].
pub type Member = Swim<u32, Span, Circulating>;

/// SWIM members, one per simulated node.
pub struct SwimPopulation {
    cfg: Arc<SwimConfig>,
    members: Vec<Member>,
    /// The updates the members piggyback, shared.
    board: Circulating,
    rngs: Vec<Rng>,
    base: u32,
    seed: u64,
    aligned: bool,
    down: Vec<bool>,
    slow: Vec<bool>,
    /// Member `i`'s next deadline and when its tick is queued, side by
    /// side: a tick reads both, from one cache line.
    timers: Vec<Timer>,
    out: MemberOut<u32, SwimMsg<u32>>,
    false_positives: u64,
    false_positives_healthy: u64,
    false_positives_of_healthy: u64,
    /// The members last prefetched, newest at `ahead.1` (see [`Population::prefetch`]).
    ahead: (Cell<[u32; STAGE]>, Cell<usize>),
}

/// A member's next deadline (its `next_deadline()`, kept after everything
/// that can move it) and when its tick is queued (see [`Population::retime`]).
#[derive(Clone, Copy, Debug)]
struct Timer {
    next: u64,
    due: u64,
}

/// How many prefetches after a member's struct its heap blocks are
/// prefetched (by then its struct, which points to them, is in cache).
const STAGE: usize = 8;

impl SwimPopulation {
    /// `n` members of run `run`, seeded with `seed`.
    pub fn new(n: u32, run: &SwimRun, seed: u64) -> Self {
        let mut p = SwimPopulation {
            cfg: Arc::new(run.config.clone()),
            members: Vec::with_capacity(n as usize),
            board: Circulating::default(),
            rngs: Vec::with_capacity(n as usize),
            base: n,
            seed,
            aligned: run.aligned,
            down: Vec::with_capacity(n as usize),
            slow: Vec::with_capacity(n as usize),
            timers: Vec::with_capacity(n as usize),
            out: MemberOut::default(),
            false_positives: 0,
            false_positives_healthy: 0,
            false_positives_of_healthy: 0,
            ahead: (Cell::new([u32::MAX; STAGE]), Cell::new(0)),
        };
        for _ in 0..n {
            p.add(0);
        }
        p
    }

    /// Member `i` as it stands.
    pub fn member(&self, i: u32) -> &Member {
        &self.members[i as usize]
    }

    /// The updates in circulation.
    pub fn board(&self) -> &Circulating {
        &self.board
    }

    fn fresh(&mut self, i: u32, epoch: u32, now: u64) -> (Member, Rng) {
        let mut rng = node_rng(self.seed, i, epoch);
        let phase = if self.aligned { 0 } else { rng.below(self.cfg.probe_interval_ms) };
        (Swim::new_on(&mut self.board, Arc::clone(&self.cfg), Span(self.base), i, now + phase), rng)
    }

    /// Pass what member `i` did to the engine and count its declarations.
    fn emit(&mut self, i: u32, ctx: &mut Ctx<SwimMsg<u32>>) {
        // (an ack received sends nothing: no drain set up for it)
        if !self.out.sends.is_empty() {
            ctx.outbox.extend(self.out.sends.drain(..).map(|(to, msg)| (i, to, msg)));
        }
        if self.out.events.is_empty() {
            return;
        }
        for ev in self.out.events.drain(..) {
            if let MemberEvent::Down(target) = ev {
                if !self.down.get(target as usize).copied().unwrap_or(true) {
                    self.false_positives += 1;
                    if !self.slow[i as usize] {
                        self.false_positives_healthy += 1;
                    }
                    if !self.slow[target as usize] {
                        self.false_positives_of_healthy += 1;
                    }
                }
            }
        }
    }

    /// Every member's counters, summed.
    pub fn counters(&self) -> SwimCounters {
        let mut c = SwimCounters::default();
        for m in &self.members {
            let k = m.counters();
            c.probes += k.probes;
            c.failed_probes += k.failed_probes;
            c.suspicions += k.suspicions;
            c.refutations += k.refutations;
            c.pings += k.pings;
            c.acks += k.acks;
            c.ping_reqs += k.ping_reqs;
            c.nacks += k.nacks;
        }
        c
    }
}

impl Knowledge for SwimPopulation {
    fn known(&self, _i: u32, _origin: u32) -> Option<Version> {
        None
    }
}

impl Population for SwimPopulation {
    type Msg = SwimMsg<u32>;

    fn len(&self) -> u32 {
        self.members.len() as u32
    }

    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>) {
        // nothing due (a deadline moved later since the tick was queued):
        // `on_timer` would do nothing, so the member is not touched
        if self.timers[i as usize].next <= now {
            let m = &mut self.members[i as usize];
            m.on_timer_on(&mut self.board, now, &mut self.rngs[i as usize], &mut self.out);
            self.timers[i as usize].next = m.next_deadline();
            self.emit(i, ctx);
        }
        let t = &mut self.timers[i as usize];
        t.due = t.next.max(now + 1);
    }

    fn retime(&mut self, i: u32) -> Option<u64> {
        let next = self.next_timeout(i);
        (next < self.timers[i as usize].due).then(|| {
            self.timers[i as usize].due = next;
            next
        })
    }

    fn deliver(&mut self, to: u32, from: u32, msg: Self::Msg, now: u64, ctx: &mut Ctx<Self::Msg>) {
        let m = &mut self.members[to as usize];
        m.on_message_on(&mut self.board, now, from, msg, &mut self.out);
        self.timers[to as usize].next = m.next_deadline();
        self.emit(to, ctx);
    }

    fn next_timeout(&self, i: u32) -> u64 {
        self.timers[i as usize].next
    }

    /// No rumor in a SWIM run.
    fn inject(&mut self, _i: u32, _now: u64, _ctx: &mut Ctx<Self::Msg>) {}

    fn reset(&mut self, i: u32, epoch: u32, now: u64) {
        let last = self.members[i as usize].incarnation();
        self.members[i as usize].release_on(&mut self.board);
        let (m, rng) = self.fresh(i, epoch, now);
        self.members[i as usize] = m.restarted_on(&mut self.board, last + 1);
        self.rngs[i as usize] = rng;
        let next = self.members[i as usize].next_deadline();
        self.timers[i as usize] = Timer { next, due: next.max(now) };
    }

    fn add(&mut self, now: u64) -> u32 {
        let i = self.members.len() as u32;
        let (m, rng) = self.fresh(i, 0, now);
        self.timers.push(Timer { next: m.next_deadline(), due: m.next_deadline().max(now) });
        self.members.push(m);
        self.rngs.push(rng);
        self.down.push(false);
        self.slow.push(false);
        i
    }

    fn node_fault(&mut self, i: u32, what: NodeFault, _now: u64) {
        match what {
            NodeFault::Down => self.down[i as usize] = true,
            NodeFault::Up => self.down[i as usize] = false,
            NodeFault::Slow(ms) => self.slow[i as usize] = ms > 0,
        }
    }

    fn stop_resampling(&mut self) {}

    /// Members probe for as long as the run lasts.
    fn active(&self) -> bool {
        true
    }

    fn msg_info(&self, msg: &Self::Msg) -> (usize, usize, bool) {
        // about 20 bytes of header and 12 per update, as a compact encoding
        let n = msg.gossip().len();
        (20 + 12 * n + usize::from(matches!(msg, SwimMsg::PingReq { .. })) * 4, n, matches!(msg, SwimMsg::Ack { .. }))
    }

    fn duplicates(&self) -> u64 {
        0
    }

    /// Two stages: member `i`'s struct (and its RNG and due time) now, and
    /// the heap blocks of the member prefetched `STAGE` calls ago, whose
    /// struct, holding the pointers to them, should have arrived by now.
    #[inline]
    fn prefetch(&self, i: u32) {
        if !crate::hint::ENABLED {
            return;
        }
        let Some(m) = self.members.get(i as usize) else { return };
        crate::hint::prefetch_lines(m);
        crate::hint::prefetch(&self.rngs[i as usize]);
        crate::hint::prefetch(&self.timers[i as usize]);
        let (mut ring, at) = (self.ahead.0.get(), self.ahead.1.get());
        if let Some(old) = self.members.get(ring[at] as usize) {
            old.prefetch_heap();
        }
        ring[at] = i;
        self.ahead.0.set(ring);
        self.ahead.1.set((at + 1) % STAGE);
    }

    /// The updates the message carries (a buffer the sender filled long
    /// ago: the delivery's first read of them missed the cache).
    #[inline]
    fn prefetch_msg(&self, _i: u32, msg: &Self::Msg) {
        crate::hint::prefetch_slice(msg.gossip(), 4);
    }

    /// Only for a tick that will find something due (its member's next
    /// deadline is not later than the tick, queued at `due`).
    #[inline]
    fn prefetch_tick(&self, i: u32) {
        if self.timers.get(i as usize).is_some_and(|t| t.next <= t.due) {
            self.prefetch(i);
        }
    }

    /// The member's timers, which [`Population::prefetch_tick`] reads.
    #[inline]
    fn prefetch_timer(&self, i: u32) {
        if let Some(t) = self.timers.get(i as usize) {
            crate::hint::prefetch(t);
        }
    }

    fn engine_name(&self) -> &'static str {
        "swim"
    }
}

/// `{mean, median, p99, max}` of a sample, ms (all `null` when empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// 99th percentile (nearest rank).
    pub p99: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

impl Spread {
    /// The spread of `samples`.
    pub fn of(samples: &mut [u64]) -> Spread {
        let l = super::Latency::of(samples);
        let mean = (!samples.is_empty()).then(|| samples.iter().sum::<u64>() as f64 / samples.len() as f64);
        Spread { mean, median: l.median, p99: l.p99, max: l.max }
    }
}

/// Failure detection of the members that crashed and stayed down.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Crashes measured.
    pub crashed: u32,
    /// From a crash to the first member declaring it failed, ms.
    pub first_ms: Spread,
    /// From a crash to every live member having declared it failed, ms
    /// (over the crashes every live member declared).
    pub full_ms: Spread,
    /// Crashes no member declared by the end.
    pub undetected: u32,
    /// Crashes some live member had not declared by the end.
    pub not_full: u32,
}

/// What a SWIM run measured (the keys `gossip sim --json` adds for it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SwimReport {
    /// Detection times of real crashes.
    pub detection: Detection,
    /// Declarations, by any member, of a member that was running.
    pub false_positives: u64,
    /// Of those, made by members that were not slow themselves.
    pub false_positives_healthy: u64,
    /// Of those, about members that were not slow (the victims Lifeguard's
    /// paper counts: a slow member declared failed is slow, not healthy).
    pub false_positives_of_healthy: u64,
    /// Failed probes that raised (or confirmed) a suspicion.
    pub suspicions: u64,
    /// Members refuting a suspicion or declaration of themselves.
    pub refutations: u64,
    /// Messages sent per member per protocol period (every initial member,
    /// the whole run).
    pub messages_per_member_per_period: f64,
    /// Probes started.
    pub probes: u64,
    /// Probes that got no ack at all.
    pub failed_probes: u64,
    /// Pings sent (direct and for others).
    pub pings: u64,
    /// Acks sent (answers and forwarded).
    pub acks: u64,
    /// Ping-reqs sent.
    pub ping_reqs: u64,
    /// Nacks sent (Lifeguard).
    pub nacks: u64,
}

/// The SWIM measurements of a run that reached `time_ms`.
pub fn report(w: &World<SwimPopulation>, nodes: u32, time_ms: u64) -> SwimReport {
    let pop = &w.pop;
    // the crashes that stayed down: the last crash of each node that is down
    let mut at: HashMap<u32, u64> = HashMap::new();
    for &(node, t) in &w.crashes {
        if !w.up.get(node as usize) {
            at.insert(node, t);
        }
    }
    // per crashed member: first declaration, last by a live member, live declarers
    let mut seen: HashMap<u32, (u64, u64, u32)> = at.keys().map(|&c| (c, (u64::MAX, 0, 0))).collect();
    for i in 0..pop.len() {
        let live = w.up.get(i as usize) && w.members.contains(i);
        for (id, e) in pop.member(i).changed() {
            if e.state != State::Dead {
                continue;
            }
            if let (Some(&crash), Some(s)) = (at.get(id), seen.get_mut(id)) {
                let t = e.since.max(crash) - crash;
                s.0 = s.0.min(t);
                if live {
                    s.1 = s.1.max(t);
                    s.2 += 1;
                }
            }
        }
    }
    let live = (0..pop.len()).filter(|&i| w.up.get(i as usize) && w.members.contains(i)).count() as u32;
    let (mut first, mut full) = (Vec::new(), Vec::new());
    let mut d = Detection { crashed: at.len() as u32, ..Detection::default() };
    let mut crashed: Vec<u32> = at.keys().copied().collect();
    crashed.sort_unstable();
    for c in crashed {
        let (f, last, declarers) = seen[&c];
        if f == u64::MAX {
            d.undetected += 1;
        } else {
            first.push(f);
        }
        if declarers == live {
            full.push(last);
        } else {
            d.not_full += 1;
        }
    }
    d.first_ms = Spread::of(&mut first);
    d.full_ms = Spread::of(&mut full);
    let c = pop.counters();
    let periods = time_ms as f64 / pop.cfg.probe_interval_ms as f64;
    SwimReport {
        detection: d,
        false_positives: pop.false_positives,
        false_positives_healthy: pop.false_positives_healthy,
        false_positives_of_healthy: pop.false_positives_of_healthy,
        suspicions: c.suspicions,
        refutations: c.refutations,
        messages_per_member_per_period: if periods > 0.0 {
            w.metrics.messages as f64 / nodes as f64 / periods
        } else {
            0.0
        },
        probes: c.probes,
        failed_probes: c.failed_probes,
        pings: c.pings,
        acks: c.acks,
        ping_reqs: c.ping_reqs,
        nacks: c.nacks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::membership::swim::Gossip;
    use crate::core::Membership;

    fn about(g: &Gossip<u32>, id: u32) -> bool {
        *g.id() == id
    }

    #[test]
    fn the_shared_table_finds_each_update_held_and_forgets_it_when_nobody_holds_it() {
        // random holds and releases of a few hundred updates (the index
        // grows several times and deletions shift probe runs back), checked
        // against a map from update to (handle, holders)
        let mut board = Circulating::default();
        let mut model: HashMap<Gossip<u32>, (u32, u32)> = HashMap::new();
        let mut rng = Rng::new(7);
        for step in 0..40_000u32 {
            let (id, inc, from) = (rng.below(40) as u32, rng.below(3) as u32, rng.below(8) as u32);
            let g = match rng.below(3) {
                0 => Gossip::Alive { id, inc },
                1 => Gossip::Suspect { id, inc, from },
                _ => Gossip::Dead { id, inc, from },
            };
            let release = step > 20_000 || rng.below(2) == 0;
            if let (true, Some(&(h, n))) = (release, model.get(&g)) {
                board.release(h);
                if n == 1 {
                    model.remove(&g);
                } else {
                    model.insert(g, (h, n - 1));
                }
            } else if !release {
                let h = board.hold(g.clone());
                let e = model.entry(g.clone()).or_insert((h, 0));
                assert_eq!(e.0, h, "an update held twice has one handle");
                e.1 += 1;
            }
            assert_eq!(board.len(), model.len());
            if step % 97 == 0 {
                for (g, &(h, n)) in &model {
                    assert_eq!(board.get(&h), g);
                    assert_eq!(board.find(g), Ok(h));
                    assert_eq!(board.slots[h as usize].1, n);
                }
            }
        }
        for (_, (h, n)) in model.drain() {
            (0..n).for_each(|_| board.release(h));
        }
        assert!(board.is_empty());
        assert!(board.index.iter().all(|&h| h == EMPTY), "no handle left in the index");
    }

    #[test]
    fn the_shared_table_hands_back_emptied_message_lists_and_keeps_a_bounded_number() {
        let mut board = Circulating::default();
        assert_eq!(board.list().capacity(), 0, "nothing kept yet: a new list");
        let mut l = Vec::with_capacity(5);
        l.push(Gossip::Alive { id: 3, inc: 1 });
        let at = l.as_ptr();
        board.recycle(l);
        let back = board.list();
        assert!(back.is_empty() && back.capacity() == 5 && back.as_ptr() == at, "the same list, emptied");
        board.recycle(Vec::new());
        assert!(board.lists.is_empty(), "a list without capacity is not kept");
        for _ in 0..LISTS_KEPT + 10 {
            board.recycle(Vec::with_capacity(1));
        }
        assert_eq!(board.lists.len(), LISTS_KEPT);
    }

    #[test]
    fn a_simulated_member_fits_in_four_cache_lines() {
        // 100,000 of them in one vector: the counters are 32-bit, the
        // suspicions and relays boxed slices, the entries one vector of
        // records (336 bytes before, then 256)
        assert!(std::mem::size_of::<Member>() <= 232, "{} bytes", std::mem::size_of::<Member>());
    }

    #[test]
    fn members_on_the_shared_board_act_exactly_as_members_holding_their_own_updates() {
        // twelve Lifeguard members twice, each on its own copies and on one
        // shared table, driven alike: messages arrive 7 ms later, every
        // fifth is lost, member 3 never answers, member 8 restarts
        let cfg = Arc::new(SwimConfig::lifeguard());
        let n = 12u32;
        let mut own: Vec<Swim<u32>> =
            (0..n).map(|i| Swim::new(Arc::clone(&cfg), Span(n), i, u64::from(i) * 83)).collect();
        let mut board = Circulating::default();
        let mut shared: Vec<Member> =
            (0..n).map(|i| Swim::new_on(&mut board, Arc::clone(&cfg), Span(n), i, u64::from(i) * 83)).collect();
        let mut rngs: Vec<(Rng, Rng)> = (0..n).map(|i| (Rng::new(u64::from(i)), Rng::new(u64::from(i)))).collect();
        let mut wire: Vec<(u64, u32, u32, SwimMsg<u32>)> = Vec::new();
        let (mut sent, mut shared_seen) = (0u64, false);
        for step in 0..6_000 {
            let (i, t) =
                (0..n).filter(|&i| i != 3).map(|i| (i, own[i as usize].next_deadline())).min_by_key(|x| x.1).unwrap();
            let first = wire.iter().enumerate().min_by_key(|(_, m)| m.0).map(|(k, m)| (k, m.0));
            let (mut a, mut b) = (MemberOut::default(), MemberOut::default());
            let (now, who) = match first {
                Some((k, at)) if at <= t => {
                    let (at, from, to, msg) = wire.remove(k);
                    if to != 3 {
                        own[to as usize].on_message(&to, at, from, msg.clone(), &mut rngs[to as usize].0, &mut a);
                        shared[to as usize].on_message_on(&mut board, at, from, msg, &mut b);
                    }
                    (at, to)
                }
                _ => {
                    let (ra, rb) = &mut rngs[i as usize];
                    own[i as usize].on_timer(&i, t, ra, &mut a);
                    shared[i as usize].on_timer_on(&mut board, t, rb, &mut b);
                    (t, i)
                }
            };
            if step == 3_000 {
                let inc = own[8].incarnation() + 1;
                own[8] = Swim::new(Arc::clone(&cfg), Span(n), 8, now).restarted(inc);
                shared[8].release_on(&mut board);
                shared[8] = Swim::new_on(&mut board, Arc::clone(&cfg), Span(n), 8, now).restarted_on(&mut board, inc);
            }
            assert_eq!(a.sends, b.sends, "member {who} at {now}");
            assert_eq!(a.events, b.events, "member {who} at {now}");
            for k in 0..n as usize {
                assert_eq!(own[k].next_deadline(), shared[k].next_deadline());
                assert_eq!(own[k].pending_gossip(), shared[k].pending_gossip());
            }
            // the table holds each update once, counting its holders
            let held: usize = shared.iter().map(|m| m.pending_gossip()).sum();
            assert_eq!(board.slots.iter().map(|s| s.1 as usize).sum::<usize>(), held);
            assert_eq!(board.free.len() + board.len(), board.slots.len());
            shared_seen |= board.len() < held;
            for (to, msg) in b.sends {
                sent += 1;
                if sent % 5 != 0 {
                    wire.push((now + 7, who, to, msg));
                }
            }
        }
        assert!(shared_seen, "members held the same updates at once");
        assert!(shared.iter().map(|m| m.counters().suspicions).sum::<u64>() > 0, "member 3 was suspected");
        for m in &mut shared {
            m.release_on(&mut board);
        }
        assert!(board.is_empty(), "nothing held once every member let go");
    }

    #[test]
    fn the_kept_deadlines_follow_the_members_through_ticks_and_deliveries() {
        // a small group run by hand: the earliest deadline ticks, messages
        // arrive 7 ms later, every fifth is lost and member 3 is down
        let run = SwimRun { config: SwimConfig::lifeguard(), aligned: false };
        let mut p = SwimPopulation::new(12, &run, 4);
        let mut metrics = super::super::metrics::Metrics::new(12);
        let roster = super::super::membership::Roster::new(12);
        let mut wire: Vec<(u64, u32, u32, SwimMsg<u32>)> = Vec::new();
        let (mut sent, mut ticks_skipped) = (0u64, 0u32);
        for _ in 0..4_000 {
            let (i, t) =
                (0..12).filter(|&i| i != 3).map(|i| (i, p.timers[i as usize].due)).min_by_key(|x| x.1).unwrap();
            let first_msg = wire.iter().enumerate().min_by_key(|(_, m)| m.0).map(|(k, m)| (k, m.0));
            let mut out = Vec::new();
            let mut ctx = Ctx { members: &roster, outbox: &mut out, metrics: &mut metrics };
            let now = match first_msg {
                Some((k, at)) if at <= t => {
                    let (at, from, to, msg) = wire.remove(k);
                    if to != 3 {
                        p.deliver(to, from, msg, at, &mut ctx);
                        if let Some(earlier) = p.retime(to) {
                            assert_eq!(p.timers[to as usize].due, earlier, "the tick moved earlier");
                        }
                    }
                    at
                }
                _ => {
                    ticks_skipped += u32::from(p.timers[i as usize].next > t);
                    p.tick(i, t, &mut ctx);
                    t
                }
            };
            for (from, to, msg) in out {
                sent += 1;
                if sent % 5 != 0 {
                    wire.push((now + 7, from, to, msg));
                }
            }
            for k in 0..12 {
                assert_eq!(p.next_timeout(k), p.member(k).next_deadline(), "member {k} at {now}");
            }
        }
        assert!(ticks_skipped > 0, "some ticks found nothing due");
        assert!(p.counters().suspicions > 0, "member 3 was suspected");
    }

    #[test]
    fn a_member_restarted_without_state_comes_back_above_its_old_incarnation() {
        let run = SwimRun { config: SwimConfig::paper(), aligned: false };
        let mut p = SwimPopulation::new(5, &run, 1);
        p.reset(2, 1, 5_000);
        let m = p.member(2);
        assert_eq!(m.incarnation(), 1);
        assert!(m.next_deadline() >= 5_000);
        let mut out = Vec::new();
        let mut metrics = super::super::metrics::Metrics::new(5);
        let roster = super::super::membership::Roster::new(5);
        let mut ctx = Ctx { members: &roster, outbox: &mut out, metrics: &mut metrics };
        let t = p.next_timeout(2);
        p.tick(2, t, &mut ctx);
        let (_, _, ping) = &out[0];
        assert!(ping.gossip().iter().any(|g| about(g, 2) && matches!(g, Gossip::Alive { inc: 1, .. })), "{ping:?}");
    }
}
