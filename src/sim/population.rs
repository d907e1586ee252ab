//! Populations: how the simulator holds its nodes.
//!
//! The engines (rounds and events), the network and the fault timeline are
//! written once against [`Population`]. [`FullPopulation`] runs real
//! [`Node`]s of the core, one per simulated node. The compact population in
//! `compact.rs` holds a single rumor in a few bytes per node for
//! million-node experiments, applying the same rules; a test checks that the
//! two produce identical runs.

use super::membership::Membership;
use super::metrics::{Knowledge, Metrics};
use crate::core::{Config, Event, Message, Node, Out, Payload, PeerTable, Protocol, Version};
use crate::rng::Rng;

/// What a population's node may touch while it acts.
pub struct Ctx<'a, M> {
    /// Who it may talk to.
    pub members: &'a Membership,
    /// Where its messages go: `(from, to, message)`.
    pub outbox: &'a mut Vec<(u32, u32, M)>,
    /// What it reports to.
    pub metrics: &'a mut Metrics,
}

/// A set of simulated nodes the engines can drive.
pub trait Population: Knowledge {
    /// The message type between its nodes.
    type Msg;
    /// Number of nodes ever created (crashed and departed included).
    fn len(&self) -> u32;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Node `i`'s timer input at `now`.
    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>);
    /// Deliver `msg` from `from` to `to` at `now`.
    fn deliver(&mut self, to: u32, from: u32, msg: Self::Msg, now: u64, ctx: &mut Ctx<Self::Msg>);
    /// When node `i` next needs `tick`.
    fn next_timeout(&self, i: u32) -> u64;
    /// Node `i` originates the scenario's single update at `now`.
    fn inject(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>);
    /// Node `i` lost its state and restarts in incarnation `epoch` at `now`.
    fn reset(&mut self, i: u32, epoch: u32, now: u64);
    /// A new node joins at `now`; returns its index.
    fn add(&mut self, now: u64) -> u32;
    /// Stop every node's re-sampling (end of a `movies` run).
    fn stop_resampling(&mut self);
    /// Whether any node's timer would still send news (false once rumors are cold).
    fn active(&self) -> bool;
    /// `(approximate bytes, updates carried, is a reply)` of a message.
    fn msg_info(&self, msg: &Self::Msg) -> (usize, usize, bool);
    /// Received updates that changed nothing, summed over nodes.
    fn duplicates(&self) -> u64;
    /// A short name for reports.
    fn engine_name(&self) -> &'static str;
    /// A hint that node `i` is about to receive a message (lets large
    /// populations start fetching it from memory early). No behaviour.
    #[inline]
    fn prefetch(&self, _i: u32) {}
}

/// The payload of the single-rumor scenario.
pub fn rumor_payload() -> &'static str {
    crate::movies::all()[0]
}

/// The RNG of node `i` in incarnation `epoch` of a run seeded with `seed`.
pub fn node_rng(seed: u64, i: u32, epoch: u32) -> Rng {
    Rng::derive(seed, (epoch as u64) << 32 | i as u64)
}

/// Most peers a node's own table holds in `bootstrap` membership.
pub const PEER_CAP: usize = 1024;

/// Real core nodes, one per simulated node.
pub struct FullPopulation {
    nodes: Vec<Node<u32>>,
    cfg: Config,
    seed: u64,
    out: Out<u32>,
    /// Per-node peer tables (`bootstrap` membership), or empty: everyone
    /// samples the shared membership.
    tables: Vec<PeerTable<u32>>,
}

/// The course's bootstrap: node 0 starts alone (`-b` to itself), every
/// other node knows node 0 only.
fn bootstrap_table(i: u32) -> PeerTable<u32> {
    PeerTable::new((i != 0).then_some(0), PEER_CAP)
}

impl FullPopulation {
    /// `n` nodes created at time 0, sampling the shared membership.
    pub fn new(n: u32, cfg: Config, seed: u64) -> Self {
        let nodes = (0..n).map(|i| Node::new(i, cfg.clone(), 0, node_rng(seed, i, 0), 0)).collect();
        FullPopulation { nodes, cfg, seed, out: Out::default(), tables: Vec::new() }
    }

    /// `n` nodes that each start knowing one peer and learn the rest from
    /// who talks to them and from the origins of what they learn.
    pub fn with_bootstrap(n: u32, cfg: Config, seed: u64) -> Self {
        let mut p = Self::new(n, cfg, seed);
        p.tables = (0..n).map(bootstrap_table).collect();
        p
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Node<u32>] {
        &self.nodes
    }

    /// Node `i`'s own peer table (`bootstrap` membership only).
    pub fn peer_table(&self, i: u32) -> Option<&PeerTable<u32>> {
        self.tables.get(i as usize)
    }

    fn drain(&mut self, i: u32, now: u64, ctx: &mut Ctx<Message<u32>>) {
        for ev in self.out.events.drain(..) {
            match ev {
                Event::Originated { version } => ctx.metrics.originated(i, version, now),
                Event::Learned { origin, previous, version, .. } => {
                    if let Some(t) = self.tables.get_mut(i as usize) {
                        if origin != i {
                            t.learn(origin);
                        }
                    }
                    ctx.metrics.learned(i, origin, previous, version, now)
                }
            }
        }
        for t in self.out.sends.drain(..) {
            ctx.outbox.push((i, t.to, t.msg));
        }
    }
}

impl Knowledge for FullPopulation {
    fn known(&self, i: u32, origin: u32) -> Option<Version> {
        self.nodes.get(i as usize).and_then(|n| n.known(&origin))
    }
}

impl Population for FullPopulation {
    type Msg = Message<u32>;

    fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>) {
        let node = &mut self.nodes[i as usize];
        match self.tables.get(i as usize) {
            Some(t) => node.handle_timer(now, t, &mut self.out),
            None => node.handle_timer(now, ctx.members, &mut self.out),
        }
        self.drain(i, now, ctx);
    }

    fn deliver(&mut self, to: u32, from: u32, msg: Self::Msg, now: u64, ctx: &mut Ctx<Self::Msg>) {
        let node = &mut self.nodes[to as usize];
        match self.tables.get_mut(to as usize) {
            Some(t) => {
                t.learn(from);
                node.handle_message(now, from, msg, &*t, &mut self.out)
            }
            None => node.handle_message(now, from, msg, ctx.members, &mut self.out),
        }
        self.drain(to, now, ctx);
    }

    fn next_timeout(&self, i: u32) -> u64 {
        self.nodes[i as usize].poll_timeout()
    }

    fn inject(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>) {
        self.nodes[i as usize].set_favorite(now, Payload::Static(rumor_payload()), ctx.members, &mut self.out);
        self.drain(i, now, ctx);
    }

    fn reset(&mut self, i: u32, epoch: u32, now: u64) {
        self.nodes[i as usize] = Node::new(i, self.cfg.clone(), epoch, node_rng(self.seed, i, epoch), now);
    }

    fn add(&mut self, now: u64) -> u32 {
        let i = self.nodes.len() as u32;
        self.nodes.push(Node::new(i, self.cfg.clone(), 0, node_rng(self.seed, i, 0), now));
        i
    }

    fn stop_resampling(&mut self) {
        self.cfg.resample_ms = None;
        for n in &mut self.nodes {
            n.stop_resampling();
        }
    }

    fn active(&self) -> bool {
        match self.cfg.protocol {
            Protocol::Flood => false,
            Protocol::Rumor => self.nodes.iter().any(|n| n.view().any(|(_, e)| e.rumor.hot && e.ttl > 0)),
            _ => true,
        }
    }

    fn msg_info(&self, msg: &Self::Msg) -> (usize, usize, bool) {
        (msg.wire_len(), msg.update_count(), msg.is_reply())
    }

    fn duplicates(&self) -> u64 {
        self.nodes.iter().map(|n| n.stats().duplicates).sum()
    }

    fn engine_name(&self) -> &'static str {
        "full"
    }
}
