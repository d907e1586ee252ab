//! The compact population: one rumor, a few bytes per node.
//!
//! For the `single` scenario the whole view of a node is "do I know the
//! rumor, since when, is it hot, how many counted contacts, what TTL". This
//! population keeps exactly that (28 bytes a node, its RNG included, as struct-of-arrays) and
//! applies the core's rules to it: the merge rule, the rumor stop rule
//! ([`RumorState::count_contact`]), the same peer sampling with the same
//! per-node random streams, the same message sizes. It is not a model of
//! the protocol but the protocol specialised to one update: a test runs it
//! side by side with [`FullPopulation`](super::population::FullPopulation)
//! and requires identical results, message for message.
//!
//! It covers `push`, `pull`, `push-pull` and `rumor` without eager push;
//! anything else runs on full nodes.

use super::metrics::{Knowledge, Metrics};
use super::population::{node_rng, rumor_payload, Ctx, Population};
use crate::core::{Config, Message, Payload, Peers, Protocol, RumorState, Update, Version};
use crate::rng::Rng;

const UNKNOWN: u64 = u64::MAX;

/// Messages between compact nodes: the shapes the full protocol takes when
/// views hold at most the one rumor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CMsg {
    /// Anti-entropy request; `knows`: the digest holds the rumor.
    Digest { knows: bool, push_pull: bool },
    /// State transfer: the rumor (with its TTL) and/or a request for it.
    Delta { update: Option<u8>, request: bool },
    /// Rumor push with TTL.
    Push { ttl: u8 },
    /// "I already knew it."
    Feedback,
}

/// Node state as struct-of-arrays: the checks on the delivery path
/// ("does the receiver know?") touch one bit in a bitset that stays in
/// cache, not a whole record per node.
#[derive(Clone, Debug, Default)]
struct Nodes {
    rng: Vec<Rng>,
    next_gossip: Vec<u64>,
    learned_at: Vec<u64>,
    informed: Vec<u64>,
    rumor: Vec<RumorState>,
    ttl: Vec<u8>,
}

impl Nodes {
    fn len(&self) -> usize {
        self.rng.len()
    }

    /// Node `i`, fresh at `now`: the same draws, in the same order, as `Node::new`.
    fn init(&mut self, i: usize, cfg: &Config, mut rng: Rng, now: u64) {
        rng.next_u64();
        rng.next_u64();
        let interval = cfg.interval_ms.max(1);
        let next_gossip = if cfg.random_phase { now + 1 + rng.below(interval) } else { now + interval };
        if i == self.len() {
            self.rng.push(rng);
            self.next_gossip.push(next_gossip);
            self.learned_at.push(UNKNOWN);
            self.rumor.push(RumorState::default());
            self.ttl.push(0);
            if self.informed.len() * 64 < self.len() {
                self.informed.push(0);
            }
        } else {
            self.rng[i] = rng;
            self.next_gossip[i] = next_gossip;
            self.learned_at[i] = UNKNOWN;
            self.rumor[i] = RumorState::default();
            self.ttl[i] = 0;
            self.informed[i / 64] &= !(1 << (i % 64));
        }
    }

    #[inline]
    fn informed(&self, i: usize) -> bool {
        self.informed[i / 64] & (1 << (i % 64)) != 0
    }

    fn set_informed(&mut self, i: usize, now: u64) {
        self.learned_at[i] = now;
        self.informed[i / 64] |= 1 << (i % 64);
    }

    #[inline]
    fn spreading(&self, i: usize) -> bool {
        self.informed(i) && self.rumor[i].hot && self.ttl[i] > 0
    }
}

/// Message sizes, computed once from real core messages so that byte counts
/// match the full population exactly.
struct Sizes {
    digest: [[usize; 2]; 2],
    delta_update: Vec<usize>,
    delta_request: usize,
    push: Vec<usize>,
    feedback: usize,
}

impl Sizes {
    fn new(origin: u32, version: Version) -> Self {
        let upd =
            |ttl: u32| Update { uuid: 0, origin, version, ttl, payload: Payload::Static(rumor_payload()), seal: None };
        let digest = |knows: bool, push_pull: bool| {
            let digest = if knows { vec![(origin, version)] } else { vec![] };
            Message::Digest { digest, push_pull }.wire_len()
        };
        Sizes {
            digest: [[digest(false, false), digest(false, true)], [digest(true, false), digest(true, true)]],
            delta_update: (0..=255)
                .map(|t| Message::Delta { updates: vec![upd(t)], request: vec![] }.wire_len())
                .collect(),
            delta_request: Message::<u32>::Delta { updates: vec![], request: vec![(origin, Version::default())] }
                .wire_len(),
            push: (0..=255).map(|t| Message::Push(vec![upd(t)]).wire_len()).collect(),
            feedback: Message::<u32>::Feedback(vec![(origin, version)]).wire_len(),
        }
    }
}

/// A single rumor over many nodes, at a few bytes per node.
pub struct CompactPopulation {
    nodes: Nodes,
    cfg: Config,
    seed: u64,
    origin: u32,
    version: Version,
    sizes: Sizes,
    spreading: u64,
    duplicates: u64,
    scratch: Vec<u32>,
}

impl CompactPopulation {
    /// Whether a configuration can run compact (else use full nodes).
    pub fn supports(cfg: &Config) -> bool {
        matches!(cfg.protocol, Protocol::Push | Protocol::Pull | Protocol::PushPull | Protocol::Rumor)
            && !(cfg.eager_push && cfg.protocol != Protocol::Rumor)
            && cfg.ttl <= 255
            && cfg.max_ttl <= 255
            && cfg.resample_ms.is_none()
    }

    /// `n` nodes created at time 0; the rumor will start at `origin`.
    pub fn new(n: u32, cfg: Config, seed: u64, origin: u32) -> Self {
        let mut nodes = Nodes::default();
        for i in 0..n {
            nodes.init(i as usize, &cfg, node_rng(seed, i, 0), 0);
        }
        let version = Version::new(0, 1);
        let sizes = Sizes::new(origin, version);
        CompactPopulation { nodes, cfg, seed, origin, version, sizes, spreading: 0, duplicates: 0, scratch: Vec::new() }
    }

    fn send(&self, from: u32, to: u32, msg: CMsg, ctx: &mut Ctx<CMsg>) {
        ctx.outbox.push((from, to, msg));
    }

    fn sample(&mut self, i: u32, members: &super::membership::Membership) -> Vec<u32> {
        let mut v = std::mem::take(&mut self.scratch);
        v.clear();
        members.sample(&mut self.nodes.rng[i as usize], &i, self.cfg.fanout as usize, &mut v);
        v
    }

    fn count_contact(&mut self, i: u32) {
        let kind = self.cfg.stop.kind;
        let i = i as usize;
        let n = &mut self.nodes;
        if n.informed(i) {
            let was = n.spreading(i);
            let rng = &mut n.rng[i];
            n.rumor[i].count_contact(kind, |p| rng.chance(p));
            if was && !n.spreading(i) {
                self.spreading -= 1;
            }
        }
    }

    /// Apply the rumor arriving with `ttl`; returns whether it was new.
    fn learn(&mut self, i: u32, ttl: u8, now: u64, metrics: &mut Metrics) -> bool {
        let max_ttl = self.cfg.max_ttl.min(255) as u8;
        let (n, j) = (&mut self.nodes, i as usize);
        if n.informed(j) {
            self.duplicates += 1;
            return false;
        }
        n.set_informed(j, now);
        n.rumor[j] = RumorState::HOT;
        n.ttl[j] = ttl.min(max_ttl);
        if n.spreading(j) {
            self.spreading += 1;
        }
        metrics.learned(i, self.origin, None, self.version, now);
        true
    }
}

impl Knowledge for CompactPopulation {
    fn known(&self, i: u32, origin: u32) -> Option<Version> {
        (origin == self.origin && (i as usize) < self.nodes.len() && self.nodes.informed(i as usize))
            .then_some(self.version)
    }
}

impl Population for CompactPopulation {
    type Msg = CMsg;

    fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<CMsg>) {
        let interval = self.cfg.interval_ms.max(1);
        let j = i as usize;
        let next = &mut self.nodes.next_gossip[j];
        if now < *next {
            return;
        }
        *next += ((now - *next) / interval + 1) * interval;
        let n = &self.nodes;
        match self.cfg.protocol {
            Protocol::Push => {
                if n.informed(j) {
                    let ttl = n.ttl[j];
                    let targets = self.sample(i, ctx.members);
                    for &t in &targets {
                        self.send(i, t, CMsg::Delta { update: Some(ttl), request: false }, ctx);
                    }
                    self.scratch = targets;
                }
            }
            Protocol::Pull | Protocol::PushPull => {
                let knows = n.informed(j);
                let push_pull = self.cfg.protocol == Protocol::PushPull;
                let targets = self.sample(i, ctx.members);
                for &t in &targets {
                    self.send(i, t, CMsg::Digest { knows, push_pull }, ctx);
                }
                self.scratch = targets;
            }
            Protocol::Rumor => {
                if n.spreading(j) {
                    let ttl = n.ttl[j] - 1;
                    let targets = self.sample(i, ctx.members);
                    for &t in &targets {
                        self.send(i, t, CMsg::Push { ttl }, ctx);
                        if !self.cfg.stop.feedback {
                            self.count_contact(i);
                        }
                    }
                    self.scratch = targets;
                }
            }
            Protocol::Flood => {}
        }
    }

    fn deliver(&mut self, to: u32, from: u32, msg: CMsg, now: u64, ctx: &mut Ctx<CMsg>) {
        match msg {
            CMsg::Digest { knows, push_pull } => {
                let informed = self.nodes.informed(to as usize);
                if informed && !knows {
                    let ttl = self.nodes.ttl[to as usize];
                    self.send(to, from, CMsg::Delta { update: Some(ttl), request: false }, ctx);
                } else if knows && !informed && push_pull {
                    self.send(to, from, CMsg::Delta { update: None, request: true }, ctx);
                }
            }
            CMsg::Delta { update, request } => {
                if let Some(ttl) = update {
                    self.learn(to, ttl, now, ctx.metrics);
                }
                if request && self.nodes.informed(to as usize) {
                    let ttl = self.nodes.ttl[to as usize];
                    self.send(to, from, CMsg::Delta { update: Some(ttl), request: false }, ctx);
                }
            }
            CMsg::Push { ttl } => {
                let knew_before = self.nodes.informed(to as usize) && self.nodes.learned_at[to as usize] < now;
                let feedback = self.cfg.protocol == Protocol::Rumor && self.cfg.stop.feedback;
                if !self.learn(to, ttl, now, ctx.metrics) && feedback && knew_before {
                    self.send(to, from, CMsg::Feedback, ctx);
                }
            }
            CMsg::Feedback => {
                if self.cfg.protocol == Protocol::Rumor && self.cfg.stop.feedback {
                    self.count_contact(to);
                }
            }
        }
    }

    fn next_timeout(&self, i: u32) -> u64 {
        self.nodes.next_gossip[i as usize]
    }

    fn inject(&mut self, i: u32, now: u64, ctx: &mut Ctx<CMsg>) {
        let ttl = self.cfg.ttl.min(255) as u8;
        let (n, j) = (&mut self.nodes, i as usize);
        n.rng[j].uuid(); // the draws `set_favorite` makes for the update's UUID
        let was = n.spreading(j);
        n.set_informed(j, now);
        n.rumor[j] = RumorState::HOT;
        n.ttl[j] = ttl;
        if !was && n.spreading(j) {
            self.spreading += 1;
        }
        ctx.metrics.originated(i, self.version, now);
        ctx.metrics.learned(i, i, None, self.version, now);
    }

    fn reset(&mut self, i: u32, epoch: u32, now: u64) {
        if self.nodes.spreading(i as usize) {
            self.spreading -= 1;
        }
        self.nodes.init(i as usize, &self.cfg, node_rng(self.seed, i, epoch), now);
    }

    fn add(&mut self, now: u64) -> u32 {
        let i = self.nodes.len();
        self.nodes.init(i, &self.cfg, node_rng(self.seed, i as u32, 0), now);
        i as u32
    }

    fn stop_resampling(&mut self) {}

    fn active(&self) -> bool {
        match self.cfg.protocol {
            Protocol::Rumor => self.spreading > 0,
            _ => true,
        }
    }

    fn msg_info(&self, msg: &CMsg) -> (usize, usize, bool) {
        let s = &self.sizes;
        match *msg {
            CMsg::Digest { knows, push_pull } => (s.digest[knows as usize][push_pull as usize], 0, false),
            CMsg::Delta { update: Some(t), .. } => (s.delta_update[t as usize], 1, true),
            CMsg::Delta { update: None, .. } => (s.delta_request, 0, true),
            CMsg::Push { ttl } => (s.push[ttl as usize], 1, false),
            CMsg::Feedback => (s.feedback, 0, true),
        }
    }

    fn duplicates(&self) -> u64 {
        self.duplicates
    }

    fn engine_name(&self) -> &'static str {
        "compact"
    }

    #[inline]
    fn prefetch(&self, i: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(t) = self.nodes.ttl.get(i as usize) {
            // SAFETY: prefetching is only a hint to the cache; it reads nothing.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((t as *const u8).cast()) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }
}
