//! The overlay population: nodes that run a membership protocol with
//! messages of its own (HyParView) or a static overlay, and a broadcast
//! protocol over it (Plumtree, or eager flooding over the overlay's links).
//!
//! Why a population of its own: the full population runs store-based
//! protocols over a shared roster; Plumtree has its own messages and keeps
//! neighbours, which only an overlay's membership events give. This
//! population pairs the two state machines of the core
//! ([`HyParView`]/[`StaticOverlay`] and [`PlumtreeState`]) per node and
//! reuses everything else: the engines (rounds and events), the network,
//! the fault timeline, the metrics and the report.
//!
//! Timing models:
//! * **rounds**: a membership cycle is a round (the shuffle period is the
//!   interval). Every message is an answer in the engine's sense: a
//!   broadcast and everything it causes travel within its round, one wave
//!   per hop, in breadth-first order; timers (shuffles, Plumtree's
//!   timeouts) fire at round boundaries, so a `GRAFT` goes out in the next
//!   round. PeerSim's cycle-driven runs in the papers measure the same hops.
//! * **events**: every message takes a link's latency; nodes start (join)
//!   at random phases within the first interval.
//!
//! Failure detection is the paper's TCP: a message that reaches a crashed
//! node is reported to its sender ([`Population::undeliverable`]), whose
//! HyParView drops the peer and repairs from its passive view. Static
//! overlays have no detector: Plumtree's `IHAVE`s and `GRAFT`s route around
//! a dead tree link.
//!
//! Workload: one broadcast per cycle (mid-cycle), after `warmup_cycles`,
//! from a sender drawn uniformly from `senders` seeded nodes (all nodes by
//! default); or the single scenario's one broadcast from node 0 at time 0
//! (static overlays only: HyParView's overlay does not exist yet then).
//!
//! Measured per broadcast, into the report: relative message redundancy
//! (`rmr` = payload messages / (receivers − 1) − 1), last delivery hop
//! (`ldh`, the first hop counting 1) and `reliability` (the fraction of the
//! nodes live at the end that delivered it); and, for the overlay at the
//! end, view sizes, symmetry, connectivity, average shortest path and
//! clustering of the live nodes' active views.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use serde::{Deserialize, Serialize};

use super::metrics::Knowledge;
use super::population::{node_rng, Ctx, Deliveries, Delivery, Population, Sink, Told};
use super::table::ParamError;
use super::{engine, MembershipMode, Model, Progress, Report, RunError, Scenario, SimConfig, StopReason};
use crate::core::membership::hyparview::{self, HyParView, HyParViewConfig};
use crate::core::membership::topology::{Graph, StaticOverlay, Topology};
use crate::core::membership::{MemberOut, Membership};
use crate::core::protocols::plumtree::{self, PlumOut, PlumtreeConfig, PlumtreeState};
use crate::core::{Peers, Protocol, Version};
use crate::rng::Rng;

/// The parameters of an overlay run beyond the node's [`crate::core::Config`]
/// (present in a [`SimConfig`] exactly when its membership is an overlay).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverlayConfig {
    /// A static topology's degree: the ring lattice's and Watts–Strogatz's
    /// `k`, k-out's `k`, Barabási–Albert's `m`, the tree's arity.
    pub degree: u32,
    /// Watts–Strogatz's rewiring probability.
    pub rewire: f64,
    /// Plumtree's timeout1, ms.
    pub ihave_timeout_ms: u64,
    /// Plumtree's timeout2, ms.
    pub graft_timeout_ms: u64,
    /// Plumtree's optimization threshold (`None`: off).
    pub optimization: Option<u32>,
    /// Broadcast senders (`None`: every node).
    pub senders: Option<u32>,
    /// Membership cycles before the first broadcast.
    pub warmup_cycles: u32,
}

impl Default for OverlayConfig {
    fn default() -> Self {
        OverlayConfig {
            degree: 4,
            rewire: 0.1,
            ihave_timeout_ms: 1_000,
            graft_timeout_ms: 500,
            optimization: None,
            senders: None,
            warmup_cycles: 50,
        }
    }
}

/// `{mean, max}` or `{mean, min}` of a per-broadcast measure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// The mean over broadcasts.
    pub mean: f64,
    /// The largest (rmr, ldh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The smallest (reliability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
}

impl Stat {
    fn of(xs: &[f64], max: bool) -> Option<Stat> {
        if xs.is_empty() {
            return None;
        }
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let (hi, lo) = xs.iter().fold((f64::MIN, f64::MAX), |(h, l), &x| (h.max(x), l.min(x)));
        Some(if max { Stat { mean, max: Some(hi), min: None } } else { Stat { mean, max: None, min: Some(lo) } })
    }
}

/// The overlay formed by the live nodes' active views at the end of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverlayStats {
    /// Mean active-view size (neighbours, for static overlays).
    pub active_mean: f64,
    /// Fraction of live nodes whose view is full: HyParView's active size,
    /// or a static topology's nominal degree (ring, Watts–Strogatz and
    /// k-out: `degree`; Barabási–Albert: `degree`; grid 4, line 2, tree
    /// `degree + 1`).
    pub active_full_fraction: f64,
    /// Whether every live link `a → b` has its `b → a`.
    pub symmetric: bool,
    /// Links between live nodes without their reverse.
    pub asymmetric_links: u64,
    /// Whether every live node reaches every other along live links.
    pub connected: bool,
    /// Mean hops between live nodes (breadth-first search from 64 seeded sources).
    pub avg_shortest_path: f64,
    /// The longest of those shortest paths.
    pub max_shortest_path: u32,
    /// Mean local clustering coefficient.
    pub clustering: f64,
    /// Undirected links between live nodes.
    pub edges: u64,
}

/// What a run measured per broadcast, in the report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BroadcastStats {
    /// Relative message redundancy.
    pub rmr: Option<Stat>,
    /// Last delivery hop.
    pub ldh: Option<Stat>,
    /// Fraction of the live nodes that delivered.
    pub reliability: Option<Stat>,
    /// Messages that carried a payload.
    pub payload_messages: u64,
    /// Plumtree's control messages (IHAVE, GRAFT, PRUNE).
    pub control_messages: u64,
    /// The membership's own messages (HyParView's).
    pub membership_messages: u64,
}

/// One broadcast, as measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measured {
    /// Its key.
    pub key: u32,
    /// When it was made, ms.
    pub at: u64,
    /// Payload messages that carried it.
    pub payload: u64,
    /// `IHAVE`s that announced it.
    pub ihave: u64,
    /// `GRAFT`s that asked for it.
    pub graft: u64,
    /// Nodes that delivered it (its sender included).
    pub receivers: u64,
    /// The last delivery's hop.
    pub ldh: u32,
}

impl Measured {
    /// Its relative message redundancy (`None` with fewer than 2 receivers).
    pub fn rmr(&self) -> Option<f64> {
        (self.receivers >= 2).then(|| self.payload as f64 / (self.receivers - 1) as f64 - 1.0)
    }
}

/// A message between overlay nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum OMsg {
    /// HyParView's.
    Member(hyparview::Msg<u32>),
    /// Plumtree's (or flooding's): broadcast ids are keys, no payload bytes.
    Tree(plumtree::Msg<u32, ()>),
}

/// A node's membership: HyParView, or fixed neighbours.
// HyParView's views are inline on purpose (a node's state in its own
// memory, one prefetch away); boxing them would add a miss per message
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Member {
    /// HyParView.
    HyParView(HyParView<u32>),
    /// A static overlay.
    Static(StaticOverlay<u32>),
}

impl Member {
    /// Its current neighbours.
    pub fn neighbours(&self, me: u32, out: &mut Vec<u32>) {
        match self {
            Member::HyParView(h) => h.all(&me, out),
            Member::Static(s) => s.all(&me, out),
        }
    }

    fn poll_timeout(&self) -> u64 {
        match self {
            Member::HyParView(h) => h.poll_timeout(),
            Member::Static(_) => u64::MAX,
        }
    }
}

struct ONode {
    rng: Rng,
    member: Member,
    tree: PlumtreeState<u32, u32, ()>,
}

/// Nodes running a membership and a broadcast protocol; see the module
/// documentation.
pub struct OverlayPopulation {
    nodes: Vec<ONode>,
    hpv: Option<HyParViewConfig>,
    tree_cfg: PlumtreeConfig,
    seed: u64,
    bcasts: HashMap<u32, Measured, FixedState>,
    duplicates: u64,
    payload_messages: u64,
    control_messages: u64,
    membership_messages: u64,
    mout: MemberOut<u32, hyparview::Msg<u32>>,
    pout: PlumOut<u32, u32, ()>,
    /// When the engine will next tick each node (what it last heard from
    /// [`Population::next_timeout`] or [`Population::retime`]).
    due: Vec<u64>,
    /// Who delivered each broadcast to whom, for a viewer (off by default).
    told: Option<Box<Deliveries>>,
}

/// The topology a membership mode builds, if it is a static one.
pub fn topology(mode: MembershipMode, o: &OverlayConfig) -> Option<Topology> {
    Some(match mode {
        MembershipMode::Ring => Topology::Ring { k: o.degree },
        MembershipMode::KOut => Topology::KOut { k: o.degree },
        MembershipMode::WattsStrogatz => Topology::WattsStrogatz { k: o.degree, p: o.rewire },
        MembershipMode::BarabasiAlbert => Topology::BarabasiAlbert { m: o.degree },
        MembershipMode::Grid => Topology::Grid,
        MembershipMode::Line => Topology::Line,
        MembershipMode::Tree => Topology::Tree { arity: o.degree },
        MembershipMode::Full | MembershipMode::Bootstrap | MembershipMode::Swim | MembershipMode::HyParView => {
            return None
        }
    })
}

impl OverlayPopulation {
    /// The nodes of `cfg` (an overlay run: its membership is an overlay and
    /// its protocol flood or plumtree; [`SimConfig::check`] says so).
    pub fn new(cfg: &SimConfig) -> Result<OverlayPopulation, RunError> {
        let o = cfg.overlay.clone().unwrap_or_default();
        let tree_cfg = Self::tree_config(cfg);
        let n = cfg.nodes;
        let interval = cfg.node.interval_ms.max(1);
        let mut build = Rng::derive(cfg.seed, u64::MAX - 2);
        let (hpv, members): (_, Vec<Member>) = match topology(cfg.membership, &o) {
            Some(t) => {
                let g = t.build(n, &mut build)?;
                (None, g.adj.into_iter().map(|a| Member::Static(StaticOverlay::new(a))).collect())
            }
            None => {
                let h = HyParViewConfig { shuffle_ms: interval, ..HyParViewConfig::default() };
                let events = cfg.model == Model::Events;
                let members = (0..n)
                    .map(|i| {
                        let (cycle, contact) = join_schedule(i, &mut build);
                        let phase = if events { build.below(interval) } else { 0 };
                        Member::HyParView(HyParView::new(h, contact, u64::from(cycle) * interval + phase))
                    })
                    .collect();
                (Some(h), members)
            }
        };
        Ok(Self::of(cfg, hpv, tree_cfg, members))
    }

    /// Nodes of `cfg` on the fixed overlay `graph` (its links as static
    /// neighbours), whatever `cfg`'s membership: a snapshot of another run's
    /// overlay, for instance, to broadcast over it without any repair.
    pub fn with_graph(cfg: &SimConfig, graph: Graph) -> OverlayPopulation {
        let tree_cfg = Self::tree_config(cfg);
        let members = graph.adj.into_iter().map(|a| Member::Static(StaticOverlay::new(a))).collect();
        Self::of(cfg, None, tree_cfg, members)
    }

    fn tree_config(cfg: &SimConfig) -> PlumtreeConfig {
        let o = cfg.overlay.clone().unwrap_or_default();
        PlumtreeConfig {
            ihave_timeout_ms: o.ihave_timeout_ms,
            graft_timeout_ms: o.graft_timeout_ms,
            threshold: o.optimization,
            lazy: cfg.node.protocol == Protocol::Plumtree,
        }
    }

    fn of(cfg: &SimConfig, hpv: Option<HyParViewConfig>, tree_cfg: PlumtreeConfig, members: Vec<Member>) -> Self {
        let nodes = members
            .into_iter()
            .enumerate()
            .map(|(i, member)| {
                let mut nb = Vec::new();
                member.neighbours(i as u32, &mut nb);
                ONode { rng: node_rng(cfg.seed, i as u32, 0), member, tree: PlumtreeState::new(tree_cfg, nb) }
            })
            .collect::<Vec<ONode>>();
        let due = nodes.iter().map(|n| n.member.poll_timeout().min(n.tree.poll_timeout())).collect();
        OverlayPopulation {
            due,
            nodes,
            hpv,
            tree_cfg,
            seed: cfg.seed,
            bcasts: HashMap::default(),
            duplicates: 0,
            payload_messages: 0,
            control_messages: 0,
            membership_messages: 0,
            mout: MemberOut::default(),
            pout: PlumOut::default(),
            told: None,
        }
    }

    /// Keep who delivered each broadcast to whom (first deliveries with
    /// their hop, and duplicate payloads), for a viewer. Call before the run starts.
    pub fn track_deliveries(&mut self) {
        self.told = Some(Box::default());
    }

    /// With [`OverlayPopulation::track_deliveries`]: every delivery of
    /// broadcast `key` so far (see [`Deliveries::of`]).
    pub fn dissemination(&self, key: u32) -> Option<&[Delivery]> {
        self.told.as_ref()?.of(key, Version::new(0, 1))
    }

    /// Node `i`'s membership.
    pub fn member(&self, i: u32) -> &Member {
        &self.nodes[i as usize].member
    }

    /// Node `i`'s Plumtree state.
    pub fn tree(&self, i: u32) -> &PlumtreeState<u32, u32, ()> {
        &self.nodes[i as usize].tree
    }

    /// Every broadcast measured so far, in the order they were made.
    pub fn measured(&self) -> Vec<Measured> {
        let v: Vec<Measured> = self.bcasts.values().cloned().collect();
        super::order::sorted_by(v, |m| (m.at, u64::from(m.key)))
    }

    /// The live nodes' active views as a graph (`up` says who is live;
    /// links to down nodes are left out).
    pub fn graph(&self, up: impl Fn(u32) -> bool) -> Graph {
        let mut g = Graph::empty(self.len());
        let mut nb = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if up(i as u32) {
                nb.clear();
                node.member.neighbours(i as u32, &mut nb);
                g.adj[i] = nb.iter().copied().filter(|&j| up(j)).collect();
            }
        }
        g
    }

    fn apply_member(&mut self, i: u32, ctx: &mut Ctx<OMsg>) {
        let mut mout = std::mem::take(&mut self.mout);
        for (to, m) in mout.sends.drain(..) {
            self.membership_messages += 1;
            ctx.send(i, to, OMsg::Member(m));
        }
        let tree = &mut self.nodes[i as usize].tree;
        for ev in mout.events.drain(..) {
            tree.on_member(&ev);
        }
        self.mout = mout;
    }

    fn apply_tree(&mut self, i: u32, now: u64, ctx: &mut Ctx<OMsg>) {
        let mut pout = std::mem::take(&mut self.pout);
        for (to, m) in pout.sends.drain(..) {
            match &m {
                plumtree::Msg::Gossip { id, .. } => {
                    self.payload_messages += 1;
                    if let Some(b) = self.bcasts.get_mut(id) {
                        b.payload += 1;
                    }
                }
                plumtree::Msg::IHave { id, .. } | plumtree::Msg::Graft { id: Some(id), .. } => {
                    self.control_messages += 1;
                    if let Some(b) = self.bcasts.get_mut(id) {
                        if matches!(m, plumtree::Msg::IHave { .. }) {
                            b.ihave += 1;
                        } else {
                            b.graft += 1;
                        }
                    }
                }
                _ => self.control_messages += 1,
            }
            ctx.send(i, to, OMsg::Tree(m));
        }
        for d in pout.delivered.drain(..) {
            if let Some(b) = self.bcasts.get_mut(&d.id) {
                b.receivers += 1;
                b.ldh = b.ldh.max(d.hop);
            }
            if let Some(t) = &mut self.told {
                let hop = d.hop.min(u32::from(Told::UNKNOWN_HOP - 1)) as u16;
                t.push(d.id, Version::new(0, 1), Delivery { t: now, from: d.from, to: i, hop, duplicate: false });
            }
            ctx.metrics.learned(i, d.id, None, Version::new(0, 1), now);
        }
        self.pout = pout;
    }

    /// Membership timers due at `now`, then Plumtree's.
    fn timers(&mut self, i: u32, now: u64, ctx: &mut Ctx<OMsg>) {
        let node = &mut self.nodes[i as usize];
        if node.member.poll_timeout() <= now {
            if let Member::HyParView(h) = &mut node.member {
                h.on_timer(&i, now, &mut node.rng, &mut self.mout);
            }
            self.apply_member(i, ctx);
        }
        let node = &mut self.nodes[i as usize];
        if node.tree.poll_timeout() <= now {
            node.tree.on_timer(now, &mut self.pout);
            self.apply_tree(i, now, ctx);
        }
    }

    fn start_broadcast(&mut self, i: u32, key: u32, now: u64, ctx: &mut Ctx<OMsg>) {
        let v = Version::new(0, 1);
        ctx.metrics.originated(key, v, now);
        self.bcasts.insert(key, Measured { key, at: now, receivers: 1, ..Measured::default() });
        if let Some(t) = &mut self.told {
            t.open(key, v);
        }
        self.nodes[i as usize].tree.broadcast(key, (), &mut self.pout);
        ctx.metrics.learned(i, key, None, v, now);
        self.apply_tree(i, now, ctx);
    }

    fn fresh(&self, i: u32, epoch: u32) -> ONode {
        let member = match self.hpv {
            // a restarted node rejoins through node 0 (or, being node 0, waits)
            Some(h) => Member::HyParView(HyParView::new(h, (i != 0).then_some(0), 0)),
            None => Member::Static(StaticOverlay::new(Vec::new())),
        };
        ONode { rng: node_rng(self.seed, i, epoch), member, tree: PlumtreeState::new(self.tree_cfg, Vec::new()) }
    }
}

impl Knowledge for OverlayPopulation {
    fn known(&self, i: u32, origin: u32) -> Option<Version> {
        self.nodes.get(i as usize).filter(|n| n.tree.has(&origin)).map(|_| Version::new(0, 1))
    }
}

impl Population for OverlayPopulation {
    type Msg = OMsg;

    fn len(&self) -> u32 {
        self.nodes.len() as u32
    }

    fn undeliverable(&mut self, from: u32, to: u32, _msg: OMsg, now: u64, ctx: &mut Ctx<OMsg>) {
        if let Member::HyParView(h) = &mut self.nodes[from as usize].member {
            h.on_unreachable(now, &to);
        }
        self.timers(from, now, ctx);
    }

    fn tick(&mut self, i: u32, now: u64, ctx: &mut Ctx<OMsg>) {
        self.timers(i, now, ctx);
        self.due[i as usize] = self.next_timeout(i).max(now + 1);
    }

    fn retime(&mut self, i: u32) -> Option<u64> {
        let next = self.next_timeout(i);
        (next < self.due[i as usize]).then(|| {
            self.due[i as usize] = next;
            next
        })
    }

    fn deliver(&mut self, to: u32, from: u32, msg: OMsg, now: u64, ctx: &mut Ctx<OMsg>) {
        let node = &mut self.nodes[to as usize];
        match msg {
            OMsg::Member(m) => {
                if let Member::HyParView(h) = &mut node.member {
                    h.on_message(&to, now, from, m, &mut node.rng, &mut self.mout);
                    self.apply_member(to, ctx);
                }
            }
            OMsg::Tree(m) => {
                let dup = m.is_payload()
                    && node.tree.has(match &m {
                        plumtree::Msg::Gossip { id, .. } => id,
                        _ => unreachable!("a payload is a Gossip"),
                    });
                self.duplicates += u64::from(dup);
                if let (true, Some(t), plumtree::Msg::Gossip { id, round, .. }) = (dup, &mut self.told, &m) {
                    let hop = round.saturating_add(1).min(u32::from(Told::UNKNOWN_HOP - 1)) as u16;
                    t.push(*id, Version::new(0, 1), Delivery { t: now, from, to, hop, duplicate: true });
                }
                node.tree.on_message(now, from, m, &mut self.pout);
                self.apply_tree(to, now, ctx);
            }
        }
    }

    fn next_timeout(&self, i: u32) -> u64 {
        let n = &self.nodes[i as usize];
        n.member.poll_timeout().min(n.tree.poll_timeout())
    }

    fn inject(&mut self, i: u32, now: u64, ctx: &mut Ctx<OMsg>) {
        self.start_broadcast(i, i, now, ctx);
    }

    fn broadcast(&mut self, i: u32, key: u32, now: u64, ctx: &mut Ctx<OMsg>) {
        self.start_broadcast(i, key, now, ctx);
    }

    fn reset(&mut self, i: u32, epoch: u32, _now: u64) {
        self.nodes[i as usize] = self.fresh(i, epoch);
        self.due[i as usize] = self.next_timeout(i);
    }

    fn add(&mut self, _now: u64) -> u32 {
        let i = self.len();
        let node = self.fresh(i, 0);
        self.nodes.push(node);
        self.due.push(self.next_timeout(i));
        i
    }

    fn stop_resampling(&mut self) {}

    fn active(&self) -> bool {
        self.nodes.iter().any(|n| n.member.poll_timeout() != u64::MAX || n.tree.poll_timeout() != u64::MAX)
    }

    fn msg_info(&self, msg: &OMsg) -> (usize, usize, bool) {
        // approximate wire sizes: a small header, 8 bytes an id; every
        // message is an answer: it travels within its round (module docs)
        let bytes = match msg {
            OMsg::Member(m) => 16 + 8 * m.ids(),
            OMsg::Tree(plumtree::Msg::Gossip { .. }) => 32,
            OMsg::Tree(_) => 24,
        };
        (bytes, usize::from(matches!(msg, OMsg::Tree(plumtree::Msg::Gossip { .. }))), true)
    }

    fn duplicates(&self) -> u64 {
        self.duplicates
    }

    #[inline]
    fn prefetch(&self, i: u32) {
        // the node's views and lists are inline: its struct is its state
        if let Some(n) = self.nodes.get(i as usize) {
            crate::hint::prefetch_lines(n);
        }
    }

    #[inline]
    fn prefetch_tick(&self, i: u32) {
        self.prefetch(i);
    }

    #[inline]
    fn prefetch_msg(&self, i: u32, msg: &OMsg) {
        // the received set's cell of the broadcast a payload or IHAVE names
        if let (Some(n), OMsg::Tree(plumtree::Msg::Gossip { id, .. } | plumtree::Msg::IHave { id, .. })) =
            (self.nodes.get(i as usize), msg)
        {
            n.tree.prefetch(id);
        }
    }

    fn engine_name(&self) -> &'static str {
        "overlay"
    }
}

/// Why `cfg`, an overlay run or one naming Plumtree, cannot run, if it cannot.
pub fn check(cfg: &SimConfig) -> Result<(), ParamError> {
    let overlay = cfg.membership.is_overlay();
    let p = cfg.node.protocol;
    if p.info().overlay && !overlay {
        return Err(ParamError::rule(
            "protocol",
            format!(
                "{p} builds its tree over an overlay: choose --membership hyparview or a static topology \
                 (ring, k-out, watts-strogatz, barabasi-albert, grid, line, tree)"
            ),
        ));
    }
    if !overlay {
        return Ok(());
    }
    let m = cfg.membership.name();
    if !matches!(p, Protocol::Plumtree | Protocol::Flood) {
        return Err(ParamError::rule(
            "protocol",
            format!("over the {m} overlay the protocols are plumtree and flood (eager flooding), not {p}"),
        ));
    }
    match cfg.scenario {
        Scenario::Movies => {
            return Err(ParamError::rule(
                "scenario",
                format!("the {m} overlay runs the broadcast and single scenarios, not movies"),
            ))
        }
        Scenario::Single if cfg.membership == MembershipMode::HyParView => {
            return Err(ParamError::rule(
                "scenario",
                "hyparview forms its overlay over the first cycles, after time 0: use --scenario broadcast \
                 (one broadcast per cycle after the warm-up)",
            ))
        }
        _ => {}
    }
    if cfg.engine == super::EngineChoice::Compact {
        return Err(ParamError::rule("engine", "the compact engine cannot run an overlay; use --engine auto"));
    }
    if cfg.node.anti_entropy_ms.is_some() {
        return Err(ParamError::rule("anti_entropy_ms", format!("the {m} overlay runs no backup exchange")));
    }
    for f in &cfg.faults {
        if !matches!(
            f.fault,
            super::Fault::Crash { .. }
                | super::Fault::Partition { .. }
                | super::Fault::Heal
                | super::Fault::Loss { .. }
        ) {
            return Err(ParamError::rule(
                "faults",
                format!(
                    "overlay runs take crash, partition, heal and loss faults; the fault at {} ms is not one",
                    f.at_ms
                ),
            ));
        }
    }
    let o = cfg.overlay.clone().unwrap_or_default();
    if let Some(t) = topology(cfg.membership, &o) {
        t.check(cfg.nodes).map_err(|e| ParamError::rule("degree", e.to_string()))?;
    }
    if o.senders == Some(0) {
        return Err(ParamError::out_of_range("senders", "at least 1", 0));
    }
    Ok(())
}

/// Parameters that only overlay runs read, and those they do not: a flag
/// given where it does not apply is refused by name (`call` spells it).
pub fn refuse_given<'a>(
    given: impl IntoIterator<Item = &'a str>,
    cfg: &SimConfig,
    call: impl Fn(&str) -> String,
) -> Result<(), ParamError> {
    let mode = cfg.membership;
    for name in given {
        let why = if mode.is_overlay() {
            match name {
                "fanout" | "ttl" | "eager" | "stop" | "coin" | "counter" | "anti_entropy_ms" | "targets"
                | "resample_ms" | "rate" => Some(format!(
                    "{} does not apply over an overlay: a node sends to its overlay neighbours, \
                     one broadcast per cycle",
                    call(name)
                )),
                "degree"
                    if !matches!(
                        mode,
                        MembershipMode::Ring
                            | MembershipMode::KOut
                            | MembershipMode::WattsStrogatz
                            | MembershipMode::BarabasiAlbert
                            | MembershipMode::Tree
                    ) =>
                {
                    Some(format!("{} does not apply to the {} membership", call(name), mode.name()))
                }
                "rewire" if mode != MembershipMode::WattsStrogatz => {
                    Some(format!("{} applies to watts-strogatz only", call(name)))
                }
                "senders" | "warmup_cycles" if cfg.scenario != Scenario::Broadcast => {
                    Some(format!("{} applies to the broadcast scenario only", call(name)))
                }
                _ => None,
            }
        } else {
            matches!(name, "degree" | "rewire" | "senders" | "warmup_cycles").then(|| {
                format!("{} applies to overlay runs only (--membership hyparview or a static topology)", call(name))
            })
        };
        if let Some(why) = why {
            return Err(ParamError::rule(name, why));
        }
    }
    Ok(())
}

/// The overlay measures of the live nodes of `pop` (`up` says who is live),
/// against a full view of `full` members.
pub fn overlay_stats(pop: &OverlayPopulation, up: impl Fn(u32) -> bool + Copy, full: usize, seed: u64) -> OverlayStats {
    let g = pop.graph(up);
    let live: Vec<u32> = (0..pop.len()).filter(|&i| up(i)).collect();
    let mut views = 0u64;
    let mut nb = Vec::new();
    let mut full_count = 0u64;
    for &i in &live {
        nb.clear();
        pop.member(i).neighbours(i, &mut nb);
        views += nb.len() as u64;
        full_count += u64::from(nb.len() >= full);
    }
    let asym: u64 = live
        .iter()
        .map(|&i| g.adj[i as usize].iter().filter(|&&j| !g.adj[j as usize].contains(&i)).count() as u64)
        .sum();
    let (asp, max) = g.shortest_paths(up, 64, &mut Rng::derive(seed, u64::MAX - 4));
    let frac = |x: u64| if live.is_empty() { 0.0 } else { x as f64 / live.len() as f64 };
    OverlayStats {
        active_mean: frac(views),
        active_full_fraction: frac(full_count),
        symmetric: asym == 0,
        asymmetric_links: asym,
        connected: g.connected(up),
        avg_shortest_path: asp,
        max_shortest_path: max,
        clustering: g.clustering(up),
        edges: g.adj.iter().map(|a| a.len() as u64).sum::<u64>().div_ceil(2),
    }
}

/// A full view's size for `cfg`'s membership (see [`OverlayStats::active_full_fraction`]).
pub fn full_view(cfg: &SimConfig) -> usize {
    let d = cfg.overlay.as_ref().map_or(4, |o| o.degree) as usize;
    match cfg.membership {
        MembershipMode::HyParView => HyParViewConfig::default().active,
        MembershipMode::Grid => 4,
        MembershipMode::Line => 2,
        MembershipMode::Tree => d + 1,
        _ => d,
    }
}

/// The per-broadcast measures of `pop` (`up` says who is live at the end).
pub fn broadcast_stats(pop: &OverlayPopulation, up: impl Fn(u32) -> bool) -> BroadcastStats {
    let measured = pop.measured();
    let live: Vec<u32> = (0..pop.len()).filter(|&i| up(i)).collect();
    let rmr: Vec<f64> = measured.iter().filter_map(Measured::rmr).collect();
    let ldh: Vec<f64> = measured.iter().map(|m| f64::from(m.ldh)).collect();
    let rel: Vec<f64> = measured
        .iter()
        .map(|m| {
            let got = live.iter().filter(|&&i| pop.tree(i).has(&m.key)).count();
            if live.is_empty() {
                0.0
            } else {
                got as f64 / live.len() as f64
            }
        })
        .collect();
    BroadcastStats {
        rmr: Stat::of(&rmr, true),
        ldh: Stat::of(&ldh, true),
        reliability: Stat::of(&rel, false),
        payload_messages: pop.payload_messages,
        control_messages: pop.control_messages,
        membership_messages: pop.membership_messages,
    }
}

/// When HyParView node `i` joins, in cycles, and through which contact:
/// node `i` joins at cycle `ceil(log2(i + 1))` through a node drawn
/// uniformly from those that joined in earlier cycles. The overlay doubles
/// each cycle, every join lands in an overlay that exists (as the paper's
/// PeerSim runs add nodes one at a time), and 10,000 nodes are in after 14
/// cycles. (Joining everyone at once would end most random walks at once,
/// at nodes with a single link, and leave a clustered overlay.)
pub fn join_schedule(i: u32, rng: &mut Rng) -> (u32, Option<u32>) {
    let cycle = 32 - i.leading_zeros();
    let contact = (i > 0).then(|| rng.below(1u64 << (cycle - 1)) as u32);
    (cycle, contact)
}

/// A run of `cfg` (an overlay run), at time 0, ready to advance.
pub fn runner(cfg: &SimConfig) -> Result<engine::Runner<OverlayPopulation>, RunError> {
    Ok(super::runner(cfg, OverlayPopulation::new(cfg)?))
}

/// The report of an overlay run that ended for `reason` at `t`.
pub fn report(cfg: &SimConfig, r: &engine::Runner<OverlayPopulation>, reason: StopReason, t: u64) -> Report {
    let w = &r.w;
    let mut rep = super::report(cfg, w, reason, t);
    let up = |i: u32| w.up.get(i as usize);
    let b = broadcast_stats(&w.pop, up);
    rep.rmr = b.rmr;
    rep.ldh = b.ldh;
    rep.reliability = b.reliability;
    rep.payload_messages = Some(b.payload_messages);
    rep.control_messages = Some(b.control_messages);
    rep.membership_messages = Some(b.membership_messages);
    rep.overlay = Some(overlay_stats(&w.pop, up, full_view(cfg), cfg.seed));
    rep
}

/// Run an overlay experiment to the end.
pub fn run(cfg: &SimConfig, progress: &mut dyn FnMut(Progress)) -> Result<Report, RunError> {
    let mut r = runner(cfg)?;
    let (reason, t) = r.run(progress);
    Ok(report(cfg, &r, reason, t))
}
