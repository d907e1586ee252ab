//! Populations: how the simulator holds its nodes.
//!
//! The engines (rounds and events), the network and the fault timeline are
//! written once against [`Population`]. [`FullPopulation`] runs real
//! [`Node`]s of the core, one per simulated node. The compact population in
//! `compact.rs` holds a single rumor in a few bytes per node for
//! million-node experiments, applying the same rules; a test checks that the
//! two produce identical runs.

use super::membership::Roster;
use super::metrics::{Knowledge, Metrics};
use super::network::Network;
use super::nodeset::NodeSet;
use crate::core::protocols::{Dissemination, Fresh, Rules};
use crate::core::{Config, Event, Membership, Message, Node, Out, Payload, PeerTable, Version};
use crate::rng::Rng;

use super::viewer::Viewer;
pub use super::viewer::{Deliveries, Delivery, Told, TraceEntry, DELIVERY_CAP};

/// What a population's node may touch while it acts.
pub struct Ctx<'a, M> {
    /// Who it may talk to.
    pub members: &'a Roster,
    /// Where its messages go: `(from, to, message)`.
    pub outbox: &'a mut Vec<(u32, u32, M)>,
    /// What it reports to.
    pub metrics: &'a mut Metrics,
}

/// What a population may touch when it runs a whole round of the rounds
/// model itself (see [`Population::round`]).
pub struct RoundCtx<'a> {
    /// Who its nodes may talk to.
    pub members: &'a Roster,
    /// The network every message goes through, in the engine's order.
    pub net: &'a mut Network,
    /// What it reports to.
    pub metrics: &'a mut Metrics,
    /// Which nodes are running (no fault changes it within a round).
    pub up: &'a NodeSet,
}

/// Where a node's effects go as it acts: straight to the metrics and the
/// outbox ([`Ctx`]), or into a [`PartLog`] that the engine replays in event
/// order (a part run on its own thread).
pub trait Sink<M> {
    /// A hint: the metrics are about to hear that these origins were learned.
    fn warm(&self, origins: impl Iterator<Item = u32> + Clone);
    /// Node `origin` made `version` of its own update at `now`.
    fn originated(&mut self, origin: u32, version: Version, now: u64);
    /// Node `node` moved its view of `origin` from `previous` to `version` at `now`.
    fn learned(&mut self, node: u32, origin: u32, previous: Option<Version>, version: Version, now: u64);
    /// Node `from` sends `msg` to `to`.
    fn send(&mut self, from: u32, to: u32, msg: M);
}

impl<M> Sink<M> for Ctx<'_, M> {
    #[inline]
    fn warm(&self, origins: impl Iterator<Item = u32> + Clone) {
        self.metrics.warm(origins);
    }
    #[inline]
    fn originated(&mut self, origin: u32, version: Version, now: u64) {
        self.metrics.originated(origin, version, now);
    }
    #[inline(always)]
    fn learned(&mut self, node: u32, origin: u32, previous: Option<Version>, version: Version, now: u64) {
        self.metrics.learned(node, origin, previous, version, now);
    }
    #[inline]
    fn send(&mut self, from: u32, to: u32, msg: M) {
        self.outbox.push((from, to, msg));
    }
}

/// A call on the metrics, recorded by a part for the engine to make later
/// (at the time of the event that recorded it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricOp {
    /// [`Metrics::originated`].
    Originated { origin: u32, version: Version },
    /// [`Metrics::learned`].
    Learned { node: u32, origin: u32, previous: Option<Version>, version: Version },
}

/// `(approximate bytes, updates carried, is a reply)` of a message: see
/// [`Population::msg_info`].
pub type MsgInfo = (usize, usize, bool);

/// What a part's events did, in the order it ran them: the engine replays
/// it, interleaved with the other parts' logs in the global event order.
#[derive(Debug)]
pub struct PartLog<M> {
    /// Messages sent, in order, with their [`Population::msg_info`] (the
    /// part works it out, [`Part::msg_info`]).
    pub sends: Vec<(u32, u32, M, MsgInfo)>,
    /// Metric calls, in order, with the times of the events that made them.
    pub ops: Vec<(u64, MetricOp)>,
}

impl<M> Default for PartLog<M> {
    fn default() -> Self {
        PartLog { sends: Vec::new(), ops: Vec::new() }
    }
}

impl<M> Sink<M> for PartLog<M> {
    #[inline]
    fn warm(&self, _origins: impl Iterator<Item = u32> + Clone) {}
    #[inline]
    fn originated(&mut self, origin: u32, version: Version, now: u64) {
        self.ops.push((now, MetricOp::Originated { origin, version }));
    }
    #[inline]
    fn learned(&mut self, node: u32, origin: u32, previous: Option<Version>, version: Version, now: u64) {
        self.ops.push((now, MetricOp::Learned { node, origin, previous, version }));
    }
    #[inline]
    fn send(&mut self, from: u32, to: u32, msg: M) {
        self.sends.push((from, to, msg, (0, 0, false)));
    }
}

/// Some of a population's nodes (a contiguous range of indices), which one
/// thread may run by itself while other threads run the other parts: in a
/// window of the events model shorter than the smallest link latency, no
/// message sent inside the window arrives inside it, so nodes of different
/// parts cannot affect one another there. Everything a part does beyond its
/// own nodes goes into its [`PartLog`].
pub trait Part<M>: Send {
    /// [`Population::tick`] for one of its nodes.
    fn tick(&mut self, i: u32, now: u64, log: &mut PartLog<M>);
    /// [`Population::deliver`] to one of its nodes.
    fn deliver(&mut self, to: u32, from: u32, msg: M, now: u64, log: &mut PartLog<M>);
    /// [`Population::next_timeout`] of one of its nodes.
    fn next_timeout(&self, i: u32) -> u64;
    /// [`Population::msg_info`].
    fn msg_info(&self, msg: &M) -> MsgInfo;
}

/// What a fault did to a node, as [`Population::node_fault`] hears it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeFault {
    /// It stopped (crash, leave).
    Down,
    /// It runs again (restart).
    Up,
    /// It handles received messages this late from now on, ms (0: on time again).
    Slow(u64),
}

/// A set of simulated nodes the engines can drive.
/// [`Population::rumor_bits`]: a single rumor's holders as bits.
#[derive(Clone, Copy, Debug)]
pub struct RumorBits<'a> {
    /// Whether the rumor was made (before, every node holds every update
    /// made, none, and no bit is set).
    pub made: bool,
    /// Node `i` holds the rumor at bit `i % 64` of word `i / 64`; the bits
    /// past the last node are clear.
    pub holders: &'a [u64],
}

pub trait Population: Knowledge {
    /// The message type between its nodes.
    type Msg: Send;
    /// Number of nodes ever created (crashed and departed included).
    fn len(&self) -> u32;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A message `from` sent could not be delivered: `to` was down when it
    /// arrived at `now` (a refused connection). Populations with a failure
    /// detector (HyParView's) react; by default nothing happens.
    fn undeliverable(&mut self, _from: u32, _to: u32, _msg: Self::Msg, _now: u64, _ctx: &mut Ctx<Self::Msg>) {}
    /// After a delivery to node `i` (or a failed send of `i`'s) in the
    /// events model: `Some(at)` if the node now needs its timer earlier than
    /// it last said ([`Population::next_timeout`]), because the message armed
    /// a timer (Plumtree's `IHAVE` timeout). The engine moves the node's
    /// next tick there. By default never: periodic timers need no moving.
    fn retime(&mut self, _i: u32) -> Option<u64> {
        None
    }
    /// Node `i`'s timer input at `now`.
    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>);
    /// Deliver `msg` from `from` to `to` at `now`.
    fn deliver(&mut self, to: u32, from: u32, msg: Self::Msg, now: u64, ctx: &mut Ctx<Self::Msg>);
    /// When node `i` next needs `tick`.
    fn next_timeout(&self, i: u32) -> u64;
    /// Node `i` originates the scenario's single update at `now`.
    fn inject(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>);
    /// Node `i` receives a client's request to spread value `key` at `now`
    /// (the broadcast workload). Populations that hold a single update
    /// ignore it: that scenario never runs on them.
    fn broadcast(&mut self, _i: u32, _key: u32, _now: u64, _ctx: &mut Ctx<Self::Msg>) {}
    /// Node `i` lost its state and restarts in incarnation `epoch` at `now`.
    fn reset(&mut self, i: u32, epoch: u32, now: u64);
    /// A new node joins at `now`; returns its index.
    fn add(&mut self, now: u64) -> u32;
    /// A mirror of a node outside the run (see `remote.rs`); by default an
    /// ordinary node that is never run.
    fn add_mirror(&mut self, now: u64) -> u32 {
        self.add(now)
    }
    /// A fault changed node `i` at `now` (no behaviour by default: the
    /// engine already stops and starts nodes; a population that measures
    /// failure detection listens).
    fn node_fault(&mut self, _i: u32, _what: NodeFault, _now: u64) {}
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
    /// For a population of one rumor that keeps who holds it as a bitset
    /// (the compact one): whether it was made, and its holders, so that
    /// the questions asked of every node (reports, the stop rule, the
    /// page's status read) go a word at a time. `None` (the default): ask
    /// each node.
    fn rumor_bits(&self) -> Option<RumorBits<'_>> {
        None
    }
    /// A hint that node `i` is about to receive a message (lets large
    /// populations start fetching it from memory early). No behaviour.
    #[inline]
    fn prefetch(&self, _i: u32) {}
    /// A hint that `msg` is about to be delivered to node `i`, some
    /// messages after [`Population::prefetch`] for it (its state is near
    /// by now): start loading what the delivery will look up. No behaviour.
    #[inline]
    fn prefetch_msg(&self, _i: u32, _msg: &Self::Msg) {}
    /// A hint that node `i`'s timer is about to fire ([`Population::tick`]).
    /// No behaviour.
    #[inline]
    fn prefetch_tick(&self, _i: u32) {}
    /// A hint, some events before [`Population::prefetch_tick`], that node
    /// `i`'s timer is about to fire: start loading what `prefetch_tick`
    /// reads to decide what to fetch. No behaviour.
    #[inline]
    fn prefetch_timer(&self, _i: u32) {}
    /// Run round `now` of the rounds model in one go: every running node's
    /// timer, then the waves of messages it causes, exactly as the engine's
    /// generic loop would (same random draws in the same order, same
    /// counters, same results). The engine calls it only when nothing is
    /// deferred from the previous round, no remote node exists and no
    /// flight is logged. Returns false, having done nothing, when the
    /// population has no such path for its configuration.
    fn round(&mut self, _now: u64, _ctx: &mut RoundCtx) -> bool {
        false
    }
    /// Cut the nodes into parts that threads may run at once within a
    /// window of the events model: part `p` holds nodes
    /// `bounds[p]..bounds[p + 1]` (`bounds` rises from 0 to [`Population::len`]).
    /// `None` when the population has no such path (the default), or not
    /// now (a viewer watches every node).
    fn split<'a>(&'a mut self, _members: &'a Roster, _bounds: &[u32]) -> Option<Vec<Box<dyn Part<Self::Msg> + 'a>>> {
        None
    }
}

/// The payload of the single-rumor scenario.
pub fn rumor_payload() -> &'static str {
    crate::movies::all()[0]
}

/// The RNG of node `i` in incarnation `epoch` of a run seeded with `seed`.
pub fn node_rng(seed: u64, i: u32, epoch: u32) -> Rng {
    Rng::derive(seed, (epoch as u64) << 32 | i as u64)
}

/// The identity of mirror nodes (the population's stand-ins for remote
/// nodes, see `remote.rs`): no origin has it.
pub const MIRROR_ID: u32 = u32::MAX;

/// Most peers a node's own table holds in `bootstrap` membership.
pub const PEER_CAP: usize = 1024;

/// Real core nodes, one per simulated node.
pub struct FullPopulation<R: Dissemination = Rules> {
    nodes: Vec<Node<u32, R>>,
    cfg: Config,
    seed: u64,
    out: Out<u32>,
    /// Output buffers of the parts of a parallel window ([`Population::split`]).
    part_outs: Vec<super::window::Padded<Out<u32>>>,
    /// Per-node peer tables (`bootstrap` membership), or empty: everyone
    /// samples the shared membership.
    tables: Vec<PeerTable<u32>>,
    /// What a viewer needs beyond the metrics (off by default: it costs
    /// O(n) per update).
    pub(super) viewer: Option<Viewer>,
}

/// What a view of simulated nodes takes at least for each origin it lists:
/// its version cell, its entry and its place in the learn order.
pub const VIEW_BYTES_PER_ORIGIN: usize =
    std::mem::size_of::<crate::core::version::Cell>() + std::mem::size_of::<Option<(u32, crate::core::Entry)>>() + 4;

/// The course's bootstrap: node 0 starts alone (`-b` to itself), every
/// other node knows node 0 only.
fn bootstrap_table(i: u32) -> PeerTable<u32> {
    PeerTable::new((i != 0).then_some(0), PEER_CAP)
}

impl FullPopulation {
    /// `n` nodes created at time 0 running the registry's protocol their
    /// `cfg` names, sampling the shared membership.
    pub fn new(n: u32, cfg: Config, seed: u64) -> Self {
        Self::running(n, cfg, seed)
    }

    /// [`FullPopulation::new`], with nodes that each start knowing one peer
    /// and learn the rest from who talks to them and from the origins of
    /// what they learn (the course's bootstrap membership).
    pub fn with_bootstrap(n: u32, cfg: Config, seed: u64) -> Self {
        Self::running(n, cfg, seed).bootstrapped()
    }
}

impl<R: Dissemination> FullPopulation<R> {
    /// `n` nodes created at time 0 running the protocol `R` (any
    /// [`Dissemination`], one defined outside the registry too), sampling
    /// the shared membership.
    pub fn running(n: u32, cfg: Config, seed: u64) -> Self {
        let nodes = (0..n).map(|i| Node::running(i, cfg.clone(), 0, node_rng(seed, i, 0), 0)).collect();
        let mut out = Out::default();
        // about a digest per node between two of its own (see `Out::keep_spares`)
        out.keep_spares(n as usize);
        FullPopulation { nodes, cfg, seed, out, part_outs: Vec::new(), tables: Vec::new(), viewer: None }
    }

    /// The same nodes with the course's bootstrap membership instead (see
    /// [`FullPopulation::with_bootstrap`]).
    pub fn bootstrapped(mut self) -> Self {
        self.tables = (0..self.nodes.len() as u32).map(bootstrap_table).collect();
        self
    }

    /// Size every node's view for all `n` origins now (see
    /// [`Node::reserve_view`]): for runs where every node has a favorite,
    /// so that every view ends up holding every origin. The views then do
    /// not grow, move and reallocate, on whichever thread runs their node,
    /// while the run spreads the first favorites.
    pub fn reserve_views(&mut self) {
        let n = self.nodes.len();
        for node in &mut self.nodes {
            node.reserve_view(n);
        }
    }

    /// Keep what a viewer needs: per-node freshness and a trace of at most
    /// `trace_cap` events. Call before the run starts.
    pub fn track_for_viewer(&mut self, trace_cap: usize) {
        self.viewer = Some(Viewer::new(self.nodes.len(), trace_cap));
    }

    /// With [`FullPopulation::track_for_viewer`]: how many origins' latest
    /// update node `i` lacks, out of how many origins.
    pub fn staleness(&self, i: u32) -> Option<(u32, u32)> {
        self.viewer.as_ref()?.staleness(i)
    }

    /// With [`FullPopulation::track_for_viewer`]: the latest version of `origin`.
    pub fn latest(&self, origin: u32) -> Option<Version> {
        self.viewer.as_ref()?.latest(origin)
    }

    /// With [`FullPopulation::track_for_viewer`]: who told node `i` the
    /// version of `origin` it holds, and at what hop (`None` if it holds
    /// none, or nothing is tracked).
    pub fn told(&self, i: u32, origin: u32) -> Option<Told> {
        let v = self.viewer.as_ref()?;
        self.nodes.get(i as usize)?.known(&origin)?;
        Some(v.told(i, origin))
    }

    /// With [`FullPopulation::track_for_viewer`]: every delivery of
    /// `version` of `origin` so far (first ones and duplicates, in time
    /// order), or `None` if no such update was made or its record was
    /// dropped to stay within [`DELIVERY_CAP`].
    pub fn dissemination(&self, origin: u32, version: Version) -> Option<&[Delivery]> {
        self.viewer.as_ref()?.dissemination(origin, version)
    }

    /// Deliveries not kept for [`FullPopulation::dissemination`] (past [`DELIVERY_CAP`]).
    pub fn deliveries_dropped(&self) -> u64 {
        self.viewer.as_ref().map_or(0, Viewer::deliveries_dropped)
    }

    /// The trace so far, and how many events did not fit in it.
    pub fn trace(&self) -> (Vec<TraceEntry>, u64) {
        self.viewer.as_ref().map_or((Vec::new(), 0), Viewer::trace)
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Node<u32, R>] {
        &self.nodes
    }

    /// Node `i`'s own peer table (`bootstrap` membership only).
    pub fn peer_table(&self, i: u32) -> Option<&PeerTable<u32>> {
        self.tables.get(i as usize)
    }

    /// A remote origin (node `i`) made `version`, as far as this run can
    /// tell: the freshness of every node is now judged against it. Older or
    /// equal versions change nothing. Returns whether it was newer.
    pub fn remote_originated(&mut self, i: u32, version: Version) -> bool {
        let Some(v) = &mut self.viewer else { return false };
        v.remote_originated(i, version, &self.nodes)
    }

    /// Show mirror `i` (a remote node) what the real node it stands for
    /// knows: the updates are applied to the mirror's view (for freshness
    /// and the inspector), without sending anything or counting coverage.
    pub fn mirror_apply(&mut self, i: u32, updates: Vec<crate::core::Update<u32>>, now: u64) {
        let Some(node) = self.nodes.get_mut(i as usize) else { return };
        let msg = Message::Delta { updates, request: Default::default() };
        node.handle_message(now, MIRROR_ID, msg, &crate::core::NoPeers, &mut self.out);
        if let Some(v) = &mut self.viewer {
            v.mirrored(i, now, &self.out.events, &self.nodes);
        }
        self.out.clear();
    }

    /// All the nodes, borrowed to act on the engine's thread (with the viewer).
    fn whole<'a>(&'a mut self, members: &'a Roster) -> FullPart<'a, R> {
        FullPart {
            first: 0,
            ids: self.nodes.len() as u32,
            nodes: &mut self.nodes,
            tables: &mut self.tables,
            members,
            out: &mut self.out,
            viewer: self.viewer.as_mut(),
        }
    }
}

/// Nodes `first..first + nodes.len()` of a [`FullPopulation`], borrowed to
/// act: all of them (with the viewer) on the engine's thread, or one part of
/// a parallel window on a thread of its own.
struct FullPart<'a, R: Dissemination> {
    first: u32,
    /// The node identities are `0..ids` (the whole population's size, not
    /// this part's): an origin at or above it is a broadcast value's key
    /// (see [`SimConfig::broadcast_key`](super::SimConfig::broadcast_key)),
    /// not a peer a table may learn.
    ids: u32,
    nodes: &'a mut [Node<u32, R>],
    /// Their peer tables (`bootstrap` membership), or empty.
    tables: &'a mut [PeerTable<u32>],
    members: &'a Roster,
    out: &'a mut Out<u32>,
    /// Only when the part is the whole population.
    viewer: Option<&'a mut Viewer>,
}

impl<R: Dissemination> FullPart<'_, R> {
    /// Node `i`'s timer at `now`.
    #[inline]
    fn timer<S: Sink<Message<u32>>>(&mut self, i: u32, now: u64, sink: &mut S) {
        let k = (i - self.first) as usize;
        let node = &mut self.nodes[k];
        match self.tables.get(k) {
            Some(t) => node.handle_timer(now, t, self.out),
            None => node.handle_timer(now, self.members, self.out),
        }
        self.drain(i, now, sink);
    }

    /// `msg` from `from` arrives at node `to` at `now`.
    #[inline]
    fn message<S: Sink<Message<u32>>>(&mut self, to: u32, from: u32, msg: Message<u32>, now: u64, sink: &mut S) {
        if let Some(v) = &mut self.viewer {
            v.carry(from, &msg);
        }
        let k = (to - self.first) as usize;
        let node = &mut self.nodes[k];
        match self.tables.get_mut(k) {
            Some(t) => {
                t.on_contact(now, &from);
                node.handle_message(now, from, msg, &*t, self.out)
            }
            None => node.handle_message(now, from, msg, self.members, self.out),
        }
        self.drain(to, now, sink);
    }

    /// Hand node `i`'s output to `sink`, after what only it needs (its peer
    /// table, the viewer).
    fn drain<S: Sink<Message<u32>>>(&mut self, i: u32, now: u64, sink: &mut S) {
        if let Some(v) = &mut self.viewer {
            v.observe(i, now, &self.out.events, self.nodes);
        }
        let learned = |ev: &Event<u32>| match ev {
            Event::Learned { origin, .. } => Some(*origin),
            Event::Originated { .. } => None,
        };
        sink.warm(self.out.events.iter().filter_map(learned));
        let mut table = self.tables.get_mut((i - self.first) as usize);
        for ev in self.out.events.drain(..) {
            match ev {
                Event::Originated { version } => sink.originated(i, version, now),
                Event::Learned { origin, previous, version, .. } => {
                    if let Some(t) = table.as_deref_mut() {
                        // a broadcast value is keyed by itself, not by the
                        // node it was handed to: learning its key as a peer
                        // would send to nobody and crowd real peers out
                        if origin != i && origin < self.ids {
                            t.on_origin(&origin);
                        }
                    }
                    sink.learned(i, origin, previous, version, now)
                }
            }
        }
        for t in self.out.sends.drain(..) {
            sink.send(i, t.to, t.msg);
        }
    }
}

impl<R: Dissemination + Send> Part<Message<u32>> for FullPart<'_, R> {
    fn tick(&mut self, i: u32, now: u64, log: &mut PartLog<Message<u32>>) {
        self.timer(i, now, log);
    }
    fn deliver(&mut self, to: u32, from: u32, msg: Message<u32>, now: u64, log: &mut PartLog<Message<u32>>) {
        self.message(to, from, msg, now, log);
    }
    fn next_timeout(&self, i: u32) -> u64 {
        self.nodes[(i - self.first) as usize].poll_timeout()
    }
    fn msg_info(&self, msg: &Message<u32>) -> MsgInfo {
        full_msg_info(msg)
    }
}

/// [`Population::msg_info`] of real core nodes.
fn full_msg_info(msg: &Message<u32>) -> MsgInfo {
    (msg.wire_len(), msg.update_count(), msg.is_reply())
}

impl<R: Dissemination> Knowledge for FullPopulation<R> {
    fn known(&self, i: u32, origin: u32) -> Option<Version> {
        self.nodes.get(i as usize).and_then(|n| n.known(&origin))
    }
}

impl<R: Dissemination + Send + Sync> Population for FullPopulation<R> {
    type Msg = Message<u32>;

    fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>) {
        let members = ctx.members;
        self.whole(members).timer(i, now, ctx);
    }

    fn deliver(&mut self, to: u32, from: u32, msg: Self::Msg, now: u64, ctx: &mut Ctx<Self::Msg>) {
        let members = ctx.members;
        self.whole(members).message(to, from, msg, now, ctx);
    }

    fn next_timeout(&self, i: u32) -> u64 {
        self.nodes[i as usize].poll_timeout()
    }

    fn inject(&mut self, i: u32, now: u64, ctx: &mut Ctx<Self::Msg>) {
        self.nodes[i as usize].set_favorite(now, Payload::Static(rumor_payload()), ctx.members, &mut self.out);
        let members = ctx.members;
        self.whole(members).drain(i, now, ctx);
    }

    fn broadcast(&mut self, i: u32, key: u32, now: u64, ctx: &mut Ctx<Self::Msg>) {
        let version = Version::new(0, 1);
        let update = crate::core::Update::new(
            // the value's UUID, the same wherever it travels
            Rng::derive(self.seed ^ 0xb0ad_ca57, key as u64).uuid(),
            key,
            version,
            self.cfg.ttl,
            Payload::from(key.to_string()),
            None,
        );
        ctx.metrics.originated(key, version, now);
        if let Some(v) = &mut self.viewer {
            v.originated(key, version);
        }
        let node = &mut self.nodes[i as usize];
        match self.tables.get(i as usize) {
            Some(t) => node.handle_broadcast(now, update, t, &mut self.out),
            None => node.handle_broadcast(now, update, ctx.members, &mut self.out),
        };
        let members = ctx.members;
        self.whole(members).drain(i, now, ctx);
    }

    fn reset(&mut self, i: u32, epoch: u32, now: u64) {
        self.nodes[i as usize] = Node::running(i, self.cfg.clone(), epoch, node_rng(self.seed, i, epoch), now);
        if let Some(v) = &mut self.viewer {
            v.node_reset(i);
        }
    }

    fn add(&mut self, now: u64) -> u32 {
        let i = self.nodes.len() as u32;
        self.nodes.push(Node::running(i, self.cfg.clone(), 0, node_rng(self.seed, i, 0), now));
        self.out.keep_spares(self.nodes.len());
        if let Some(v) = &mut self.viewer {
            v.node_added();
        }
        if !self.tables.is_empty() {
            self.tables.push(bootstrap_table(i));
        }
        i
    }

    fn add_mirror(&mut self, now: u64) -> u32 {
        let i = self.nodes.len() as u32;
        let cfg = Config { resample_ms: None, ..self.cfg.clone() };
        // named MIRROR_ID, not `i`: updates about `i` are not about itself
        self.nodes.push(Node::running(MIRROR_ID, cfg, 0, node_rng(self.seed, i, 0), now));
        self.out.keep_spares(self.nodes.len());
        if let Some(v) = &mut self.viewer {
            v.node_added();
        }
        if !self.tables.is_empty() {
            self.tables.push(PeerTable::new(None, 0));
        }
        i
    }

    fn stop_resampling(&mut self) {
        self.cfg.resample_ms = None;
        for n in &mut self.nodes {
            n.stop_resampling();
        }
    }

    fn active(&self) -> bool {
        self.nodes.iter().any(|n| n.busy())
    }

    fn msg_info(&self, msg: &Self::Msg) -> (usize, usize, bool) {
        full_msg_info(msg)
    }

    fn duplicates(&self) -> u64 {
        self.nodes.iter().filter(|n| *n.id() != MIRROR_ID).map(|n| n.stats().duplicates).sum()
    }

    fn engine_name(&self) -> &'static str {
        "full"
    }

    fn split<'a>(&'a mut self, members: &'a Roster, bounds: &[u32]) -> Option<Vec<Box<dyn Part<Self::Msg> + 'a>>> {
        // a protocol that forwards each update to every peer at once
        // (flooding): replaying those messages in order costs more than the
        // parts save
        let floods = R::from_config(&self.cfg).fresh() == Fresh::All;
        if self.viewer.is_some() || floods || bounds.len() < 2 {
            return None;
        }
        let k = bounds.len() - 1;
        if self.part_outs.len() < k {
            self.part_outs.resize_with(k, Default::default);
        }
        let ids = self.nodes.len() as u32;
        let (mut nodes, mut tables, mut outs) = (&mut self.nodes[..], &mut self.tables[..], &mut self.part_outs[..]);
        let per_node_tables = !tables.is_empty();
        let mut parts: Vec<Box<dyn Part<Self::Msg> + 'a>> = Vec::with_capacity(k);
        for w in bounds.windows(2) {
            let len = (w[1] - w[0]) as usize;
            let (mine, rest) = std::mem::take(&mut nodes).split_at_mut(len);
            nodes = rest;
            let (my_tables, rest) = std::mem::take(&mut tables).split_at_mut(if per_node_tables { len } else { 0 });
            tables = rest;
            let (out, rest) = std::mem::take(&mut outs).split_first_mut()?;
            let out = &mut out.0;
            // about a digest per node between two of its own (see `Out::keep_spares`)
            out.keep_spares(len);
            outs = rest;
            parts.push(Box::new(FullPart {
                first: w[0],
                ids,
                nodes: mine,
                tables: my_tables,
                members,
                out,
                viewer: None,
            }));
        }
        Some(parts)
    }
}
