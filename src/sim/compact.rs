//! The compact population: one rumor, a few bytes per node.
//!
//! For the `single` scenario the whole view of a node is "do I know the
//! rumor, since when, is it hot, how many counted contacts, what TTL". This
//! population keeps exactly that (20 bytes a node, 28 for `rumor`, its RNG included, as struct-of-arrays) and
//! applies the core's rules to it: the merge rule, the rumor stop rule
//! ([`RumorState::count_contact`]), the same peer sampling with the same
//! per-node random streams, the same message sizes. It is not a model of
//! the protocol but the protocol specialised to one update: a test runs it
//! side by side with [`FullPopulation`](super::population::FullPopulation)
//! and requires identical results, message for message.
//!
//! It covers `push`, `pull`, `push-pull` and `rumor` without eager push,
//! backup anti-entropy or round-robin partners; anything else runs on full
//! nodes ([`CompactPopulation::unsupported`] says what).
//!
//! In the rounds model it runs a whole round of `push`, `pull` or
//! `push-pull` itself ([`Population::round`]): timers, digests answered as
//! they are sent, replies queued and sent in the generic loop's order, the
//! first wave on up to two threads natively (`--threads`). Tests compare it with the engine's
//! message-by-message loop and with full nodes.

use super::metrics::{Knowledge, Metrics};
use super::network::{Dropped, Network};
use super::nodeset::NodeSet;
use super::population::{node_rng, rumor_payload, Ctx, Population, RoundCtx};
use crate::core::node::FirstDraws;
use crate::core::protocols::anti_entropy::{answer, Answer};
use crate::core::protocols::hop;
use crate::core::protocols::rumor::answers_feedback;
use crate::core::timer::next_after;
use crate::core::{Config, Message, Payload, Peers, Protocol, RumorState, Update, Uuid, Version};
use crate::hint::prefetch;
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
    /// When each node learned the rumor and its rumor state (hot, contacts
    /// counted), kept only where rules read them (`rumor_rules`: `rumor`'s
    /// stop rule, and its feedback, which answers whether the receiver knew
    /// before this millisecond); empty otherwise, so that the other
    /// protocols' million-node runs do not write 10 MB they never read.
    learned_at: Vec<u64>,
    rumor: Vec<RumorState>,
    rumor_rules: bool,
    informed: Vec<u64>,
    ttl: Vec<u8>,
}

/// Whether a population of `cfg` keeps when each node learned and its
/// rumor state: only `rumor`, whose stop and feedback rules read them.
fn rumor_rules(cfg: &Config) -> bool {
    cfg.protocol == Protocol::Rumor
}

impl Nodes {
    fn len(&self) -> usize {
        self.rng.len()
    }

    /// `n` nodes created at time 0, node `i` with the random stream
    /// `node_rng(seed, i, 0)`: what [`Nodes::init`] of each would make, in
    /// a pass per vector (in the page's size-optimised wasm a push per
    /// vector per node was a call each, and the timer table of
    /// [`FirstDraws::new`] another few: a tenth of a million-node run).
    fn created(n: u32, cfg: &Config, seed: u64) -> Self {
        let mut rng: Vec<Rng> = (0..n).map(|i| node_rng(seed, i, 0)).collect();
        let next_gossip = rng.iter_mut().map(|r| FirstDraws::gossip(cfg, r, 0)).collect();
        let n = n as usize;
        let rumor_rules = rumor_rules(cfg);
        let kept = if rumor_rules { n } else { 0 };
        Nodes {
            rng,
            next_gossip,
            learned_at: vec![UNKNOWN; kept],
            rumor: vec![RumorState::default(); kept],
            rumor_rules,
            informed: vec![0; n.div_ceil(64)],
            ttl: vec![0; n],
        }
    }

    /// Node `i`, fresh at `now`: the same draws, in the same order, as
    /// `Node::new` ([`FirstDraws`]; only the gossip timer is kept).
    fn init(&mut self, i: usize, cfg: &Config, mut rng: Rng, now: u64) {
        let next_gossip = FirstDraws::gossip(cfg, &mut rng, now);
        if i == self.len() {
            self.rng.push(rng);
            self.next_gossip.push(next_gossip);
            if self.rumor_rules {
                self.learned_at.push(UNKNOWN);
                self.rumor.push(RumorState::default());
            }
            self.ttl.push(0);
            if self.informed.len() * 64 < self.len() {
                self.informed.push(0);
            }
        } else {
            self.rng[i] = rng;
            self.next_gossip[i] = next_gossip;
            if self.rumor_rules {
                self.learned_at[i] = UNKNOWN;
                self.rumor[i] = RumorState::default();
            }
            self.ttl[i] = 0;
            self.informed[i / 64] &= !(1 << (i % 64));
        }
    }

    // (the hot accessors index slices, not the vectors: a `Vec`'s `Index`
    // is a call per index in the page's size-optimised wasm, never inlined
    // there, where a slice's is a bounds check in place)
    #[inline(always)]
    fn informed(&self, i: usize) -> bool {
        self.informed.as_slice()[i / 64] & (1 << (i % 64)) != 0
    }

    /// Node `i` learned the rumor at `now`, hot (the rumor state where kept).
    #[inline(always)]
    fn set_informed(&mut self, i: usize, now: u64) {
        if self.rumor_rules {
            self.learned_at.as_mut_slice()[i] = now;
            self.rumor.as_mut_slice()[i] = RumorState::HOT;
        }
        self.informed.as_mut_slice()[i / 64] |= 1 << (i % 64);
    }

    /// Start fetching what [`CompactPopulation::learn`] touches of node `i`.
    #[inline(always)]
    fn prefetch_learner(&self, i: u32) {
        if !crate::hint::ENABLED {
            return; // (the lookups alone would cost, in wasm)
        }
        let i = i as usize;
        prefetch(&self.informed[i / 64]);
        if self.rumor_rules {
            prefetch(&self.learned_at[i]);
            prefetch(&self.rumor[i]);
        }
    }

    /// Whether node `i` spreads the rumor (`rumor`'s stop rule: never
    /// asked of the other protocols, whose rumor state is not kept).
    #[inline(always)]
    fn spreading(&self, i: usize) -> bool {
        self.rumor_rules
            && self.informed(i)
            && self.rumor.as_slice()[i].hot
            && hop(u32::from(self.ttl.as_slice()[i])).is_some()
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
        let upd = |ttl: u32| Update::new(Uuid::nil(), origin, version, ttl, Payload::Static(rumor_payload()), None);
        let digest = |knows: bool, push_pull: bool| {
            let digest = if knows { vec![(origin, version)] } else { vec![] };
            Message::Digest { digest: digest.into(), push_pull }.wire_len()
        };
        Sizes {
            digest: [[digest(false, false), digest(false, true)], [digest(true, false), digest(true, true)]],
            delta_update: (0..=255)
                .map(|t| Message::Delta { updates: vec![upd(t)], request: Default::default() }.wire_len())
                .collect(),
            delta_request: Message::<u32>::Delta {
                updates: vec![],
                request: vec![(origin, Version::default())].into(),
            }
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
    /// Run whole rounds with [`Population::round`] (on unless a test compares).
    fast_rounds: bool,
    /// Rounds run that way so far.
    fast_rounds_run: u64,
    /// Replies of a fast round's first wave, in the order they are sent.
    wave1: Vec<Reply>,
    /// Replies to those replies (push-pull's answers to requests).
    wave2: Vec<Reply>,
    /// First-wave replies of the blocks that other threads ran.
    parts: Vec<Vec<Reply>>,
    /// `push` rounds: nodes that learned this round (they push from the next one).
    fresh: Vec<u64>,
    /// Whether the rumor was made yet (see [`CompactPopulation::rumor_made`]).
    made: bool,
    /// The most threads a fast round's first wave may use (`--threads`;
    /// natively only: in wasm, where there is one, the field alone cost
    /// 469 bytes of the page's gzipped package).
    #[cfg(not(target_arch = "wasm32"))]
    max_threads: usize,
}

/// A reply in a fast round: `Delta { update: Some(ttl) }` or, as a
/// request, `Delta { update: None, request: true }`; 8 bytes (a
/// 1,000,000-node round holds up to two waves of a reply a node, and in
/// the page each megabyte of fresh memory is about a millisecond): the
/// receiver's index holds the request flag in its top bit, and the update's
/// TTL is not kept but read off its sender when it leaves and again when
/// it arrives: a node sends the update only if it knew it when the round
/// began, and a delivery changes only the TTL of a node that did not.
#[derive(Clone, Copy, Debug)]
struct Reply {
    from: u32,
    to_request: u32,
}

/// The request flag of [`Reply::to_request`].
const REQUEST: u32 = 1 << 31;
const _: () = assert!(super::MAX_NODES <= REQUEST, "node indices leave the top bit free");

impl Reply {
    #[inline(always)]
    fn new(from: u32, to: u32, request: bool) -> Self {
        Reply { from, to_request: to | u32::from(request) << 31 }
    }

    #[inline(always)]
    fn to(self) -> u32 {
        self.to_request & !REQUEST
    }

    #[inline(always)]
    fn request(self) -> bool {
        self.to_request & REQUEST != 0
    }
}

/// `Some(up)` if a node is down (deliveries must check), `None` if all are up.
fn some_down(up: &NodeSet) -> Option<&NodeSet> {
    (!up.is_full()).then_some(up)
}

/// Whether bit `i` of bitset `b` is set.
#[inline(always)]
fn bit(b: &[u64], i: u32) -> bool {
    b[i as usize / 64] >> (i % 64) & 1 != 0
}

/// Whether a timer due at `*next` fires at `now`; if so it moves to its
/// next period after `now` (the core's one catch-up rule, [`next_after`]).
#[inline(always)]
fn due(next: &mut u64, now: u64, interval: u64) -> bool {
    if now < *next {
        return false;
    }
    *next = next_after(*next, now, interval);
    true
}

/// The first wave of a fast pull round: digests, delivered as they are
/// sent, their replies queued.
struct Digests<'a> {
    informed: &'a [u64],
    up: Option<&'a NodeSet>,
    net: &'a mut Network,
    /// The network drops nothing and draws nothing ([`Network::is_clear`]).
    clear: bool,
    /// `digest[knows]` bytes.
    sizes: [usize; 2],
    push_pull: bool,
    tally: Tally,
    replies: &'a mut Vec<Reply>,
}

impl Digests<'_> {
    /// Node `i`, knowing the rumor or not, sends its digest to `t`; `t`
    /// answers what the protocol says from what it knew at the round's start.
    #[inline(always)]
    fn digest(&mut self, i: u32, t: u32, knows: bool) {
        let bytes = self.sizes[knows as usize];
        if self.clear {
            self.tally.messages += 1;
            self.tally.bytes += bytes as u64;
        } else if !self.tally.send(self.net, i, t, bytes, false) {
            return;
        }
        if !self.tally.arrives(self.up, t) {
            return;
        }
        let informed = bit(self.informed, t);
        match answer(informed && !knows, knows && !informed, self.push_pull) {
            Answer::Send => self.replies.push(Reply::new(t, i, false)),
            Answer::Request => self.replies.push(Reply::new(t, i, true)),
            Answer::Nothing => {}
        }
    }
}

/// The first wave of a fast pull round in the common case (fanout 1,
/// every node up, membership the identity over all `rng.len()` nodes, a
/// network that drops nothing): nodes `base..` (whose RNGs and timers are
/// `rng` and `next`) send their digests, the receivers' replies are
/// appended to `replies`. Returns how many digests were sent without and
/// with the rumor. The same draws and decisions as [`Digests::digest`].
#[allow(clippy::too_many_arguments)]
fn digest_block(
    base: u32,
    n: u32,
    rng: &mut [Rng],
    next: &mut [u64],
    informed: &[u64],
    now: u64,
    interval: u64,
    push_pull: bool,
    replies: &mut Vec<Reply>,
) -> [u64; 2] {
    let others = n as u64 - 1; // every node but the sender
    let mut sent = [0u64; 2];
    // a block's replies, appended to `replies` at once (in wasm at
    // opt-level "z" a `push` is a call per reply)
    let mut block = [Reply::new(0, 0, false); BLOCK];
    for (b, (rng, next)) in rng.chunks_mut(BLOCK).zip(next.chunks_mut(BLOCK)).enumerate() {
        let first = base + (b * BLOCK) as u32;
        let mut made = 0;
        // (the bitset is small enough to stay in cache: no fetching ahead)
        for (k, (rng, next)) in rng.iter_mut().zip(next.iter_mut()).enumerate() {
            if !due(next, now, interval) {
                continue;
            }
            let i = first + k as u32;
            let r = rng.below_inlined(others) as u32;
            let t = r + u32::from(r >= i);
            let knows = bit(informed, i);
            sent[knows as usize] += 1;
            let told = bit(informed, t);
            let request = match answer(told && !knows, knows && !told, push_pull) {
                Answer::Send => false,
                Answer::Request => true,
                Answer::Nothing => continue,
            };
            block[made] = Reply::new(t, i, request);
            made += 1;
        }
        replies.extend_from_slice(&block[..made]);
    }
    sent
}

/// The first wave of a fast pull round in the common case, all nodes: as
/// [`digest_block`] over everyone, cut in `threads` blocks run at the same
/// time (one thread in wasm). Every node draws from its own RNG and only
/// reads what others knew when the round began, and the blocks' replies
/// are put end to end in node order, so the result does not depend on the
/// number of threads or their timing (a test checks it).
#[allow(clippy::too_many_arguments)]
fn digests(
    rng: &mut [Rng],
    next: &mut [u64],
    informed: &[u64],
    now: u64,
    interval: u64,
    push_pull: bool,
    replies: &mut Vec<Reply>,
    parts: &mut Vec<Vec<Reply>>,
    threads: usize,
) -> [u64; 2] {
    let n = rng.len() as u32;
    #[cfg(not(target_arch = "wasm32"))]
    if threads > 1 && n > 0 {
        let per = rng.len().div_ceil(threads).next_multiple_of(64);
        let mut blocks = rng.chunks_mut(per).zip(next.chunks_mut(per));
        let (rng0, next0) = blocks.next().expect("n > 0");
        parts.resize_with(blocks.len(), Vec::new);
        let sent = std::thread::scope(|s| {
            let others: Vec<_> = blocks
                .zip(parts.iter_mut())
                .enumerate()
                .map(|(k, ((rng, next), part))| {
                    let base = ((k + 1) * per) as u32;
                    part.clear();
                    s.spawn(move || digest_block(base, n, rng, next, informed, now, interval, push_pull, part))
                })
                .collect();
            let mut sent = digest_block(0, n, rng0, next0, informed, now, interval, push_pull, replies);
            for h in others {
                let [a, b] = h.join().expect("a digest thread panicked");
                sent[0] += a;
                sent[1] += b;
            }
            sent
        });
        for part in parts.iter_mut() {
            replies.append(part);
        }
        return sent;
    }
    let _ = (parts, threads);
    digest_block(0, n, rng, next, informed, now, interval, push_pull, replies)
}

/// How many threads a fast round's first wave (`digests`) uses for `n`
/// nodes when allowed `max`: one for small runs (under [`FIRST_WAVE_THREADS_FROM`]:
/// a thread costs more than it saves) and in wasm, else up to two, as the
/// cores and `max` allow.
pub fn first_wave_threads(n: usize, max: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    if n >= FIRST_WAVE_THREADS_FROM {
        return std::thread::available_parallelism().map_or(1, |t| t.get()).min(2).min(max.max(1));
    }
    let _ = (n, max);
    1
}

/// The fewest nodes whose fast rounds run their first wave on threads.
pub const FIRST_WAVE_THREADS_FROM: usize = 1 << 16;

/// Nodes per block of [`digest_block`]: its replies are appended a block
/// at a time.
const BLOCK: usize = 64;
/// Replies looked at ahead of their delivery, to fetch their nodes' state.
const AHEAD: usize = 32;

/// Message counters of a fast round, added to the metrics at its end.
#[derive(Default)]
struct Tally {
    messages: u64,
    bytes: u64,
    update_messages: u64,
    events: u64,
    to_down: u64,
    lost: u64,
    partitioned: u64,
}

impl Tally {
    /// Count a message sent from `a` to `b` and ask the network whether it
    /// arrives (the engine's `transmit` for the rounds model).
    #[inline(always)]
    fn send(&mut self, net: &mut Network, a: u32, b: u32, bytes: usize, update: bool) -> bool {
        self.messages += 1;
        self.bytes += bytes as u64;
        self.update_messages += u64::from(update);
        match net.passes(a, b) {
            Ok(()) => true,
            Err(Dropped::Loss) => {
                self.lost += 1;
                false
            }
            Err(Dropped::Partition) => {
                self.partitioned += 1;
                false
            }
        }
    }

    /// Count a delivery to `to`; whether `to` is running.
    #[inline(always)]
    fn arrives(&mut self, up: Option<&NodeSet>, to: u32) -> bool {
        self.events += 1;
        // (a match: `is_none_or` is a call per delivery in the page's wasm)
        let running = match up {
            None => true,
            Some(u) => u.get(to as usize),
        };
        self.to_down += u64::from(!running);
        running
    }

    fn add_to(&self, m: &mut Metrics) {
        m.messages += self.messages;
        m.bytes += self.bytes;
        m.update_messages += self.update_messages;
        m.events += self.events;
        m.to_down += self.to_down;
        m.lost += self.lost;
        m.partitioned += self.partitioned;
    }
}

impl CompactPopulation {
    /// Whether a configuration can run compact (else use full nodes).
    pub fn supports(cfg: &Config) -> bool {
        Self::unsupported(cfg).is_empty()
    }

    /// What in `cfg` this population cannot run, each as `gossip sim`
    /// spells it (empty: all of it can run compact). It holds one rumor
    /// and runs only the protocol's rounds: no backup anti-entropy, no
    /// round-robin partners.
    pub fn unsupported(cfg: &Config) -> Vec<String> {
        let mut out = Vec::new();
        if !cfg.protocol.info().compact {
            out.push(format!("--protocol {}", cfg.protocol.name()));
        }
        if cfg.eager_push {
            out.push("--eager on".into());
        }
        if cfg.ttl > 255 {
            out.push(format!("--ttl {} (at most 255)", cfg.ttl));
        }
        if cfg.max_ttl > 255 {
            out.push(format!("a max_ttl of {} (at most 255)", cfg.max_ttl));
        }
        if cfg.resample_ms.is_some() {
            out.push("re-sampling (--resample-ms)".into());
        }
        if cfg.anti_entropy_ms.is_some() {
            out.push("--anti-entropy-ms".into());
        }
        if cfg.round_robin {
            out.push("--targets round-robin".into());
        }
        out
    }

    /// `n` nodes created at time 0; the rumor will start at `origin`.
    pub fn new(n: u32, cfg: Config, seed: u64, origin: u32) -> Self {
        let nodes = Nodes::created(n, &cfg, seed);
        let version = Version::new(0, 1);
        let sizes = Sizes::new(origin, version);
        CompactPopulation {
            nodes,
            cfg,
            seed,
            origin,
            version,
            sizes,
            spreading: 0,
            duplicates: 0,
            scratch: Vec::new(),
            fast_rounds: true,
            fast_rounds_run: 0,
            wave1: Vec::new(),
            wave2: Vec::new(),
            parts: Vec::new(),
            fresh: Vec::new(),
            made: false,
            #[cfg(not(target_arch = "wasm32"))]
            max_threads: usize::MAX,
        }
    }

    /// Let a fast round's first wave use at most `threads` threads (at
    /// least one; by default as many as [`first_wave_threads`] allows).
    pub fn set_threads(&mut self, threads: usize) {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.max_threads = threads.max(1);
        }
        let _ = threads;
    }

    /// The most threads a fast round's first wave may use.
    fn max_threads(&self) -> usize {
        #[cfg(not(target_arch = "wasm32"))]
        return self.max_threads;
        #[cfg(target_arch = "wasm32")]
        1
    }

    /// Whether the rumor was made (its origin injected it): from then on a
    /// live node that does not know it is one update behind.
    pub fn rumor_made(&self) -> bool {
        self.made
    }

    /// How many of the nodes in `up` know the rumor, or all of them while
    /// it is not made yet: the nodes up to date, counted a word at a time
    /// (the informed bits past the last node are always clear).
    pub fn up_to_date(&self, up: &NodeSet) -> u32 {
        if self.made {
            up.count_common(&self.nodes.informed) as u32
        } else {
            up.count_ones() as u32
        }
    }

    /// Whether rounds run whole in [`Population::round`] (the default) or
    /// message by message through the engine's generic loop, which gives
    /// the same run, slower (tests compare the two).
    pub fn set_fast_rounds(&mut self, on: bool) {
        self.fast_rounds = on;
    }

    /// How many rounds ran whole in [`Population::round`].
    pub fn fast_rounds_run(&self) -> u64 {
        self.fast_rounds_run
    }

    /// A fast `pull` or `push-pull` round. The first wave (digests) is
    /// delivered as each node's timer fires: digests change no state, so
    /// every receiver answers from what it knew when the round began,
    /// exactly as when all timers fire first. Their replies, which do
    /// change state, wait in `wave1` and are sent, in order, after all
    /// digests, then delivered; push-pull's answers to requests follow in
    /// `wave2`. The network sees the messages in the generic loop's order.
    fn round_pull(&mut self, now: u64, ctx: &mut RoundCtx) {
        let push_pull = self.cfg.protocol == Protocol::PushPull;
        let (interval, fanout) = (self.cfg.interval_ms.max(1), self.cfg.fanout as usize);
        let up = some_down(ctx.up);
        let mut wave1 = std::mem::take(&mut self.wave1);
        let mut wave2 = std::mem::take(&mut self.wave2);
        let mut scratch = std::mem::take(&mut self.scratch);
        wave1.clear();
        wave2.clear();
        let n = self.nodes.len();
        // room for a reply a node in each wave at once (with fanout 1, as
        // many as a wave can hold), not grown by doubling: each doubling
        // is a copy, and fresh memory touched twice; room never written
        // costs no memory
        wave1.reserve(n);
        wave2.reserve(n);
        let simple = fanout == 1
            && up.is_none()
            && ctx.net.is_clear()
            && n >= 2
            && ctx.members.is_identity()
            && ctx.members.len() == n;
        let limit = self.max_threads();
        let Nodes { rng, next_gossip, informed, .. } = &mut self.nodes;
        if simple {
            let parts = &mut self.parts;
            let threads = first_wave_threads(n, limit);
            let sent = digests(rng, next_gossip, informed, now, interval, push_pull, &mut wave1, parts, threads);
            let mut tally = Tally { events: n as u64, ..Tally::default() };
            for (knows, &k) in sent.iter().enumerate() {
                tally.messages += k;
                tally.events += k;
                tally.bytes += k * self.sizes.digest[knows][push_pull as usize] as u64;
            }
            self.scratch = scratch;
            self.reply_waves(now, ctx, up, tally, wave1, wave2);
            return;
        }
        let mut w = Digests {
            informed,
            up,
            clear: ctx.net.is_clear(),
            net: ctx.net,
            sizes: [self.sizes.digest[0][push_pull as usize], self.sizes.digest[1][push_pull as usize]],
            push_pull,
            tally: Tally::default(),
            replies: &mut wave1,
        };
        for (i, (rng, next)) in rng.iter_mut().zip(next_gossip.iter_mut()).enumerate() {
            if up.is_some_and(|u| !u.get(i)) {
                continue;
            }
            w.tally.events += 1;
            if !due(next, now, interval) {
                continue;
            }
            let i = i as u32;
            let knows = bit(w.informed, i);
            if fanout == 1 {
                if let Some(t) = ctx.members.sample_one(rng, i) {
                    w.digest(i, t, knows);
                }
            } else {
                scratch.clear();
                ctx.members.sample(rng, &i, fanout, &mut scratch);
                for &t in &scratch {
                    w.digest(i, t, knows);
                }
            }
        }
        let tally = w.tally;
        self.scratch = scratch;
        self.reply_waves(now, ctx, up, tally, wave1, wave2);
    }

    /// The second and third waves of a fast pull round: the digests'
    /// replies (`wave1`, in the order they were made) go through the
    /// network and are delivered; answers to push-pull requests follow.
    fn reply_waves(
        &mut self,
        now: u64,
        ctx: &mut RoundCtx,
        up: Option<&NodeSet>,
        mut tally: Tally,
        mut wave1: Vec<Reply>,
        mut wave2: Vec<Reply>,
    ) {
        // wave 1's replies leave, in order; a reply carries its sender's
        // TTL, which no delivery of this round can have changed
        let s = &self.sizes;
        let ttl = self.nodes.ttl.as_slice();
        let mut kept = 0;
        let replies = wave1.as_mut_slice();
        for k in 0..replies.len() {
            if crate::hint::ENABLED {
                if let Some(ahead) = replies.get(k + AHEAD) {
                    prefetch(&ttl[ahead.from as usize]);
                }
            }
            let r = replies[k];
            let bytes =
                if r.request() { s.delta_request } else { s.delta_update.as_slice()[ttl[r.from as usize] as usize] };
            if tally.send(ctx.net, r.from, r.to(), bytes, !r.request()) {
                replies[kept] = r;
                kept += 1;
            }
        }
        wave1.truncate(kept);
        for r in &wave1 {
            let to = r.to();
            if !tally.arrives(up, to) {
                continue;
            }
            if !r.request() {
                let ttl = self.nodes.ttl.as_slice()[r.from as usize];
                self.learn(to, ttl, now, ctx.metrics);
            } else if self.nodes.informed(to as usize) {
                let ttl = self.nodes.ttl.as_slice()[to as usize];
                if tally.send(ctx.net, to, r.from, self.sizes.delta_update.as_slice()[ttl as usize], true) {
                    wave2.push(Reply::new(to, r.from, false));
                }
            }
        }
        for (k, r) in wave2.iter().enumerate() {
            if let Some(ahead) = wave2.get(k + AHEAD) {
                self.nodes.prefetch_learner(ahead.to());
            }
            if tally.arrives(up, r.to()) {
                let ttl = self.nodes.ttl.as_slice()[r.from as usize];
                self.learn(r.to(), ttl, now, ctx.metrics);
            }
        }
        tally.add_to(ctx.metrics);
        self.wave1 = wave1;
        self.wave2 = wave2;
    }

    /// A fast `push` round. Each push is delivered as it is sent; a node
    /// that learns this round is marked fresh and does not push until the
    /// next one, exactly as when all timers fire before any delivery.
    fn round_push(&mut self, now: u64, ctx: &mut RoundCtx) {
        let (interval, fanout) = (self.cfg.interval_ms.max(1), self.cfg.fanout as usize);
        let up = some_down(ctx.up);
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        fresh.resize(self.nodes.informed.len(), 0);
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut tally = Tally::default();
        for i in 0..self.nodes.len() as u32 {
            let j = i as usize;
            if up.is_some_and(|u| !u.get(j)) {
                continue;
            }
            tally.events += 1;
            if !due(&mut self.nodes.next_gossip.as_mut_slice()[j], now, interval)
                || !self.nodes.informed(j)
                || bit(&fresh, i)
            {
                continue;
            }
            let ttl = self.nodes.ttl.as_slice()[j];
            scratch.clear();
            ctx.members.sample(&mut self.nodes.rng.as_mut_slice()[j], &i, fanout, &mut scratch);
            let bytes = self.sizes.delta_update.as_slice()[ttl as usize];
            for &t in scratch.as_slice() {
                if tally.send(ctx.net, i, t, bytes, true)
                    && tally.arrives(up, t)
                    && self.learn(t, ttl, now, ctx.metrics)
                {
                    fresh.as_mut_slice()[t as usize / 64] |= 1 << (t % 64);
                }
            }
        }
        self.scratch = scratch;
        tally.add_to(ctx.metrics);
        self.fresh = fresh;
    }

    fn send(&self, from: u32, to: u32, msg: CMsg, ctx: &mut Ctx<CMsg>) {
        ctx.outbox.push((from, to, msg));
    }

    fn sample(&mut self, i: u32, members: &super::membership::Roster) -> Vec<u32> {
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
        n.ttl.as_mut_slice()[j] = ttl.min(max_ttl);
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
        if !due(&mut self.nodes.next_gossip[j], now, interval) {
            return;
        }
        let n = &self.nodes;
        match self.cfg.protocol {
            Protocol::Push if n.informed(j) => {
                let ttl = n.ttl[j];
                let targets = self.sample(i, ctx.members);
                for &t in &targets {
                    self.send(i, t, CMsg::Delta { update: Some(ttl), request: false }, ctx);
                }
                self.scratch = targets;
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
            Protocol::Rumor if n.spreading(j) => {
                let ttl = hop(u32::from(n.ttl[j])).expect("a spreading rumor has hops left") as u8;
                let targets = self.sample(i, ctx.members);
                for &t in &targets {
                    self.send(i, t, CMsg::Push { ttl }, ctx);
                    if !self.cfg.stop.feedback {
                        self.count_contact(i);
                    }
                }
                self.scratch = targets;
            }
            // an uninformed or cold node, or a protocol the compact
            // population does not run (`Info::compact`)
            _ => {}
        }
    }

    fn deliver(&mut self, to: u32, from: u32, msg: CMsg, now: u64, ctx: &mut Ctx<CMsg>) {
        match msg {
            CMsg::Digest { knows, push_pull } => {
                let informed = self.nodes.informed(to as usize);
                match answer(informed && !knows, knows && !informed, push_pull) {
                    Answer::Send => {
                        let ttl = self.nodes.ttl[to as usize];
                        self.send(to, from, CMsg::Delta { update: Some(ttl), request: false }, ctx);
                    }
                    Answer::Request => self.send(to, from, CMsg::Delta { update: None, request: true }, ctx),
                    Answer::Nothing => {}
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
                let n = &self.nodes;
                let feedback = n.rumor_rules && {
                    let knew_before = n.informed(to as usize) && n.learned_at[to as usize] < now;
                    answers_feedback(self.cfg.stop, knew_before)
                };
                if !self.learn(to, ttl, now, ctx.metrics) && feedback {
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
        n.ttl[j] = ttl;
        if !was && n.spreading(j) {
            self.spreading += 1;
        }
        self.made = true;
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

    fn round(&mut self, now: u64, ctx: &mut RoundCtx) -> bool {
        if !self.fast_rounds {
            return false;
        }
        match self.cfg.protocol {
            Protocol::Pull | Protocol::PushPull => self.round_pull(now, ctx),
            Protocol::Push => self.round_push(now, ctx),
            _ => return false,
        }
        self.fast_rounds_run += 1;
        true
    }

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

    /// The informed bits.
    fn rumor_bits(&self) -> Option<super::population::RumorBits<'_>> {
        Some(super::population::RumorBits { made: self.made, holders: &self.nodes.informed })
    }

    #[inline]
    fn prefetch(&self, i: u32) {
        if let Some(t) = self.nodes.ttl.get(i as usize) {
            prefetch(t);
        }
    }

    #[inline]
    fn prefetch_tick(&self, i: u32) {
        // its timer, and the RNG it samples a partner with
        if let (Some(next), Some(rng)) = (self.nodes.next_gossip.get(i as usize), self.nodes.rng.get(i as usize)) {
            prefetch(next);
            prefetch(rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{full_population, parse_fault, report, runner, EngineChoice, Model, SimConfig};

    fn config(n: u32, protocol: Protocol, fanout: u32, loss: f64, faults: &[&str]) -> SimConfig {
        let mut c = SimConfig { nodes: n, seed: 7, model: Model::Rounds, ..SimConfig::default() };
        c.node.protocol = protocol;
        c.node.fanout = fanout;
        c.node.ttl = 12;
        c.net.loss = loss;
        c.duration_ms = Some(60_000);
        c.faults = faults.iter().map(|f| parse_fault(f).expect("valid fault")).collect();
        c
    }

    /// The report of `c` on compact nodes, whole rounds on or off, as JSON
    /// (engine named `full` so that it compares with full nodes), and how
    /// many rounds ran whole.
    fn compact(c: &SimConfig, fast: bool) -> (String, u64) {
        let mut pop = CompactPopulation::new(c.nodes, c.node_config(), c.seed, 0);
        pop.set_fast_rounds(fast);
        let mut r = runner(c, pop);
        let (reason, t) = r.run(&mut |_| {});
        let mut rep = report(c, &r.w, reason, t);
        rep.engine = "full".into();
        (serde_json::to_string(&rep).expect("serialisable"), r.w.pop.fast_rounds_run())
    }

    fn full(c: &SimConfig) -> String {
        let mut c = c.clone();
        c.engine = EngineChoice::Full;
        let mut r = runner(&c, full_population(&c));
        let (reason, t) = r.run(&mut |_| {});
        let mut rep = report(&c, &r.w, reason, t);
        rep.config.engine = EngineChoice::Auto;
        serde_json::to_string(&rep).expect("serialisable")
    }

    #[test]
    fn whole_rounds_match_the_generic_loop_and_full_nodes() {
        // Every branch of the fast rounds: the simple first wave (fanout 1,
        // all up, clear network) and the general one (fanout > 1, loss,
        // nodes down, partitions, joins and leaves), for each protocol.
        let faults = [
            "1500:crash:3",
            "2500:restart:3",
            "3s:crash:4",
            "6s:restart-fresh:4",
            "2s:partition:3",
            "7s:heal",
            "4s:join:5",
            "5s:leave:9",
            "5s:leave:304",
            "8s:loss:0.2",
            "9s:loss:0",
        ];
        for protocol in [Protocol::PushPull, Protocol::Pull, Protocol::Push] {
            for (fanout, loss, faults) in
                [(1, 0.0, &[][..]), (1, 0.0, &faults[..]), (2, 0.1, &faults[..]), (3, 0.0, &[][..])]
            {
                let c = config(300, protocol, fanout, loss, faults);
                let (fast, whole) = compact(&c, true);
                let (generic, none) = compact(&c, false);
                assert!(whole > 0 && none == 0, "{protocol:?}: {whole} whole rounds");
                assert_eq!(fast, generic, "{protocol:?} fanout {fanout} loss {loss} faults {}", faults.len());
                assert_eq!(fast, full(&c), "{protocol:?} fanout {fanout} loss {loss} faults {}", faults.len());
            }
        }
    }

    #[test]
    fn whole_rounds_match_the_generic_loop_at_scale() {
        // Large enough for the first wave to run on threads where there are cores.
        for protocol in [Protocol::PushPull, Protocol::Pull] {
            let c = config(70_000, protocol, 1, 0.0, &[]);
            let (fast, whole) = compact(&c, true);
            assert!(whole > 10);
            assert_eq!(fast, compact(&c, false).0, "{protocol:?}");
        }
    }

    #[test]
    fn a_thread_limit_of_one_keeps_the_first_wave_on_the_calling_thread() {
        // `parts` holds the replies of the blocks other threads ran: it
        // stays empty when the first wave runs on the calling thread alone
        let c = config(FIRST_WAVE_THREADS_FROM as u32, Protocol::PushPull, 1, 0.0, &[]);
        let run = |limit: Option<usize>| {
            let mut pop = CompactPopulation::new(c.nodes, c.node_config(), c.seed, 0);
            if let Some(t) = limit {
                pop.set_threads(t);
            }
            let mut r = runner(&c, pop);
            let (reason, t) = r.run(&mut |_| {});
            assert!(r.w.pop.fast_rounds_run() > 10);
            (serde_json::to_string(&report(&c, &r.w, reason, t)).expect("serialisable"), r.w.pop.parts.len())
        };
        let (one, parts) = run(Some(1));
        assert_eq!(parts, 0, "--threads 1 ran blocks on other threads");
        let cores = std::thread::available_parallelism().map_or(1, |t| t.get());
        let (default, parts) = run(None);
        assert_eq!(parts, cores.min(2) - 1, "{cores} cores");
        assert_eq!(one, default);
        assert_eq!(first_wave_threads(FIRST_WAVE_THREADS_FROM - 1, 8), 1);
    }

    #[test]
    fn first_wave_does_not_depend_on_threads() {
        let n = 10_000;
        let mut pop = CompactPopulation::new(n, config(n, Protocol::PushPull, 1, 0.0, &[]).node_config(), 3, 0);
        for i in (0..n as usize).step_by(3) {
            pop.nodes.set_informed(i, 0);
        }
        let run = |threads: usize| {
            let mut nodes = pop.nodes.clone();
            let (mut replies, mut parts) = (Vec::new(), Vec::new());
            let sent = digests(
                &mut nodes.rng,
                &mut nodes.next_gossip,
                &nodes.informed,
                1000,
                1000,
                true,
                &mut replies,
                &mut parts,
                threads,
            );
            let replies: Vec<_> = replies.iter().map(|r| (r.from, r.to(), r.request())).collect();
            (sent, replies, nodes.rng, nodes.next_gossip)
        };
        let one = run(1);
        assert!(one.1.len() > 1000, "{} replies", one.1.len());
        for threads in [2, 3, 7] {
            assert!(run(threads) == one, "{threads} threads");
        }
    }
}
