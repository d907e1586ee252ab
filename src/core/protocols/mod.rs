//! Dissemination protocols: one file each, one line each in the registry.
//!
//! A protocol decides *what to send to whom and when*; everything a node
//! knows, and the rules that change it (the merge rule, the seen cache, the
//! view's cap, the seal gate, self-claims, the answer to a digest), are the
//! shared [`Store`](super::store::Store)'s. A protocol is a [`Dissemination`]:
//!
//! * [`Dissemination::on_round`]: the node's gossip timer fired;
//! * [`Dissemination::speaks`]: the [`Message`](super::message::Message) kinds it sends and accepts;
//! * [`Dissemination::on_push`], [`Dissemination::on_digest`],
//!   [`Dissemination::on_delta`] and [`Dissemination::on_feedback`]: what it
//!   does with a message of each kind it accepts. The defaults are the
//!   store's shared rules, which a protocol's own handler calls too:
//!   [`Cx::merge_push`] (merge by version; forward what is fresh as
//!   [`Dissemination::fresh`] says; optionally answer with `Feedback` what
//!   was known before), [`Cx::answer_digest`] (the digest reply rule,
//!   [`anti_entropy::answer`]) and [`Cx::merge_delta`] (merge, then answer
//!   the delta's request); `Feedback` does nothing by default;
//! * [`Dissemination::fresh`]: where an update goes the moment the store
//!   has learned it by push (or made it: the node's own new version);
//! * [`Dissemination::busy`]: whether the node still has something to spread
//!   on its own (a run in which no node is busy and nothing is in flight is
//!   quiet);
//! * and, in its registry [`Info`], its name and help, the parameters it
//!   reads, whether it converges by itself, whether eager push may wrap it,
//!   whether the simulator's compact population runs it, and its mean-field
//!   rule for the lab's theory curve ([`mean_field`]).
//!
//! The `registry!` line of each protocol generates the [`Protocol`] enum
//! (the name on command lines, in JSON and in URLs), [`Protocol::ALL`] from
//! which every interface lists the protocols, and the static dispatch of
//! [`Rules`] (a configured protocol, possibly wrapped in [`eager::Eager`]):
//! a `match`, no trait object, nothing in the hot loops. Adding a protocol
//! is one file here and one line in the registry.
//!
//! # Message contract
//!
//! The node ([`super::node::Node::handle_message`]) calls a protocol's
//! handler only for a kind its [`Speaks::accepts`] lists (with the node's
//! backup anti-entropy, `Config::anti_entropy_ms`, digests and deltas are
//! accepted whatever the protocol). Any other message is refused: dropped
//! before it touches the store, counted in `NodeStats::unspoken`, and
//! nothing is sent; it is never handed to a handler that was not written
//! for it. A handler appends only kinds its [`Speaks::sends`] lists (a
//! test runs every protocol and checks both sides of every message).
//!
//! Most protocols accept [`Kinds::STATE`] (push, digest, delta): state is
//! reconciled by version whoever sends it, so a push-pull node merges what
//! a course node floods to it, and a flooding node answers the digest of a
//! node running anti-entropy. `Feedback` is rumor mongering's own (with
//! the feedback stop rule); a protocol with messages of its own (Plumtree)
//! accepts none of the node's.
//!
//! Handlers run inside one call of the node's calling contract (see
//! [`super::node`]): they take the message by value (its buffers may be
//! given back through `out`), draw randomness only from [`Cx::rng`], and
//! append what they send to `out.sends`. They must not panic on what the
//! network sends.
//!
//! Files: [`flood`] (the course's literal protocol), [`anti_entropy`]
//! (push, pull and push-pull, with the digest reply rule), [`rumor`]
//! (rumor mongering and its stop rules), [`eager`] (eager push of fresh
//! updates, over any protocol that accepts it), [`plumtree`] (epidemic
//! broadcast trees: its own messages and state machine, over an overlay
//! membership; in the registry for its name, parameters and refusals).

pub mod anti_entropy;
pub mod eager;
pub mod flood;
pub mod plumtree;
pub mod rumor;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::config::{Config, ConfigError};
use super::message::{Digest, Kinds, NodeId, Update};
use super::node::{Cx, Out};
use super::peers::Peers;
use super::version::Version;
use super::view::View;
use eager::Eager;
pub use rumor::{RumorState, StopError, StopKind, StopRule};

/// Where an update goes the moment a node has it fresh (learned by push,
/// handed by a client, or made: the node's own new version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fresh {
    /// Nowhere at once: it travels in the protocol's rounds.
    Hold,
    /// Pushed to `fanout` peers (eager push).
    Fanout,
    /// Pushed to every known peer (flooding).
    All,
}

/// What the registry knows of a protocol: the one source of its name, help
/// and capabilities for the command lines, the parameter table, the page,
/// the error texts and the simulator's choice of population. Serialized
/// (without the mean-field rule) for the page's parameter table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Info {
    /// Its name on command lines, in JSON and in URLs (kebab-case).
    pub name: &'static str,
    /// Other spellings accepted when parsing.
    pub aliases: &'static [&'static str],
    /// One line: what it does (help texts, the page's list).
    pub summary: &'static str,
    /// The parameters of the parameter table (`src/sim/table.rs`) it reads
    /// beyond the shared ones (`ttl`, `interval_ms`): `eager` exactly when
    /// eager push may wrap it, `fanout` when it picks that many partners
    /// each round, `targets` when it picks partners at all (a protocol
    /// that lists `targets` without `fanout` picks one only for the backup
    /// exchange, so round-robin needs `anti_entropy_ms` there), and its
    /// own. The page shows their fields only for protocols that list them.
    pub params: &'static [&'static str],
    /// Why eager push (`--eager on`) does not apply to it, if it does not:
    /// such a combination is refused with this reason. `None`: eager push
    /// may wrap it.
    pub no_eager: Option<&'static str>,
    /// Whether it reconciles state by itself, so that every live node is
    /// expected to end up knowing every update (a run stops as converged).
    pub converges: bool,
    /// Whether the simulator's compact population (one rumor, bytes per
    /// node) implements it.
    pub compact: bool,
    /// Whether it runs only over an overlay membership (`gossip sim
    /// --membership hyparview` or a static topology), in the simulator's
    /// overlay population: it keeps neighbours, which only an overlay's
    /// membership events give. Every other driver refuses it.
    pub overlay: bool,
    /// Its mean-field rule, if it has one.
    #[serde(skip)]
    pub mean_field: Option<MeanFieldRule>,
}

/// A protocol's rule in the mean-field model of one update (Demers et al.
/// 1987, Karp et al. 2000): `s` is the fraction of nodes that do not know
/// it yet.
#[derive(Clone, Copy, Debug)]
pub struct MeanFieldRule {
    /// How one round informs, part by part (push-pull: its pull and its
    /// push-back); a round keeps the product of the parts' `keep`.
    pub parts: &'static [MeanFieldPart],
    /// The residue it levels off at, given the stop rule's `k` (0: none).
    pub residue: fn(k: f64) -> f64,
    /// Every informed node pushes to every peer at once (flooding).
    pub floods: bool,
}

/// One way a round informs nodes, in [`MeanFieldRule::parts`].
#[derive(Clone, Copy, Debug)]
pub struct MeanFieldPart {
    /// The fraction of the uninformed that stay uninformed over one whole
    /// round, given `s`, the fanout `f` and the probability `q` that one
    /// message arrives (1 - loss) (push: `exp(-f q i)` with `i = 1 - s`).
    pub keep: fn(s: f64, f: f64, q: f64) -> f64,
    /// In the events model, how many one-way hops old the `s` it reads is:
    /// a node learns now from what its partner knew `legs` hops ago (push:
    /// 1, the push's flight). The rounds model reads the `s` of the round.
    pub legs: u32,
    /// Whose round starts the exchange by which it informs (the events
    /// model tells them apart; the rounds model does not).
    pub starts: Starter,
}

/// Who starts an exchange, in a [`MeanFieldPart`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Starter {
    /// The informed node, in its round (push, push-pull's push-back).
    Informer,
    /// The uninformed node, in its round, learning `hops` one-way hops
    /// later (pull: 2, the ask and the answer). In the events model a node
    /// that learned so has just had its round: until its next one, an
    /// interval after the ask, it starts nothing, so the parts its
    /// [`Starter::Informer`] do not count it yet. A rule has at most one
    /// such part (the integration reads the first one's `hops`).
    Learner {
        /// Hops from the learner's round to its learning.
        hops: u32,
    },
}

/// A dissemination protocol's rules; see the module documentation. The
/// methods take the protocol by value: a protocol is its configuration, a
/// few bytes, and its state lives in the node's store.
pub trait Dissemination: Copy {
    /// It, configured as the node's `cfg` says (the registry's protocols
    /// read their parameters from it; [`Rules`] picks the protocol it names).
    fn from_config(cfg: &Config) -> Self;

    /// The gossip timer fired at `now`: run one round.
    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>);

    /// Where a fresh update goes at once (default: nowhere; it waits for
    /// the rounds).
    fn fresh(self) -> Fresh {
        Fresh::Hold
    }

    /// The message kinds it sends and accepts (the contract of the module
    /// documentation): the node refuses, and counts, a message of a kind
    /// not accepted.
    fn speaks(self) -> Speaks;

    /// Pushed `updates` arrived from `from` (default: the store's rule,
    /// [`Cx::merge_push`], without feedback).
    #[inline]
    fn on_push<Id: NodeId>(
        self,
        cx: &mut Cx<'_, Id>,
        now: u64,
        from: Id,
        updates: Vec<Update<Id>>,
        peers: &impl Peers<Id>,
        out: &mut Out<Id>,
    ) {
        cx.merge_push(now, from, updates, false, peers, out)
    }

    /// `from` sent its digest (default: the store's digest reply rule,
    /// [`Cx::answer_digest`]).
    #[inline]
    fn on_digest<Id: NodeId>(
        self,
        cx: &mut Cx<'_, Id>,
        from: Id,
        digest: Digest<Id>,
        push_pull: bool,
        out: &mut Out<Id>,
    ) {
        cx.answer_digest(from, digest, push_pull, out)
    }

    /// `from` sent state: `updates`, and the origins it `request`s
    /// (default: [`Cx::merge_delta`]).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn on_delta<Id: NodeId>(
        self,
        cx: &mut Cx<'_, Id>,
        now: u64,
        from: Id,
        updates: Vec<Update<Id>>,
        request: Digest<Id>,
        peers: &impl Peers<Id>,
        out: &mut Out<Id>,
    ) {
        cx.merge_delta(now, from, updates, request, peers, out)
    }

    /// `Feedback` arrived: the peer already knew `known`, which this node
    /// pushed to it (default: nothing to do).
    fn on_feedback<Id: NodeId>(self, _cx: &mut Cx<'_, Id>, _known: &[(Id, Version)]) {}

    /// Whether the node, whose knowledge is `view`, still has something to
    /// spread on its own (default: yes, a periodic protocol always has).
    fn busy<Id: NodeId>(self, _view: &View<Id>) -> bool {
        true
    }
}

/// The [`Message`] kinds a protocol sends and accepts
/// ([`Dissemination::speaks`]).
///
/// [`Message`]: super::message::Message
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Speaks {
    /// What its handlers and rounds may append to `out.sends`.
    pub sends: Kinds,
    /// What the node hands to its handlers; anything else is refused.
    pub accepts: Kinds,
}

impl Speaks {
    /// Nothing of the node's wire (a protocol with messages of its own).
    pub const NOTHING: Speaks = Speaks { sends: Kinds::NONE, accepts: Kinds::NONE };

    /// Both sets of `self` and of `other`.
    pub const fn union(self, other: Speaks) -> Speaks {
        Speaks { sends: self.sends.union(other.sends), accepts: self.accepts.union(other.accepts) }
    }
}

/// A protocol with a registry line: its [`Info`].
pub trait Registered: Dissemination {
    /// Its registry facts.
    const INFO: Info;
}

/// The TTL an update travels with on its next hop, if it may travel on:
/// a pushed update is forwarded only while its TTL is above 0, one less at
/// each hop (the course's rule, and rumor mongering's).
#[inline]
pub fn hop(ttl: u32) -> Option<u32> {
    ttl.checked_sub(1)
}

/// Match a [`Rules`] to its protocol, wrapped in [`Eager`] when eager push
/// is on, and run `$body` with it bound to `$p` (static dispatch).
macro_rules! dispatch {
    ($rules:expr, [$($variant:ident),*], $p:ident => $body:expr) => {{
        let r: Rules = $rules;
        match r.kind {
            $(Kind::$variant(inner) => {
                if r.eager {
                    let $p = Eager(inner);
                    $body
                } else {
                    let $p = inner;
                    $body
                }
            })*
        }
    }};
}

/// The registry: one line per protocol, `Variant => Type`. It generates
/// [`Protocol`], its list, names and parsing, and [`Rules`] with its
/// static dispatch.
macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident => $ty:ty ),* $(,)?) => {
        /// Which dissemination protocol a node runs: one variant per line
        /// of the registry ([`Protocol::info`] says the rest).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Protocol {
            $( $(#[$doc])* $variant, )*
        }

        impl Protocol {
            /// Every protocol, in the order the interfaces list them.
            pub const ALL: &'static [Protocol] = &[$(Protocol::$variant),*];

            /// Its registry facts.
            pub fn info(self) -> &'static Info {
                match self {
                    $(Protocol::$variant => &<$ty as Registered>::INFO,)*
                }
            }
        }

        #[derive(Clone, Copy, Debug, PartialEq)]
        enum Kind {
            $($variant($ty),)*
        }

        impl Rules {
            /// The protocol `cfg` names, configured by it. Eager push wraps
            /// it only if `cfg.eager_push` is set and the protocol accepts
            /// it (drivers refuse the other combinations up front, see
            /// [`Config::check`]).
            pub fn new(cfg: &Config) -> Rules {
                let kind = match cfg.protocol {
                    $(Protocol::$variant => Kind::$variant(<$ty as Dissemination>::from_config(cfg)),)*
                };
                Rules { kind, eager: cfg.eager_push && cfg.protocol.info().no_eager.is_none() }
            }
        }

        impl Dissemination for Rules {
            fn from_config(cfg: &Config) -> Self {
                Rules::new(cfg)
            }
            #[inline]
            fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
                dispatch!(self, [$($variant),*], p => p.on_round(cx, now, peers, out))
            }
            #[inline]
            fn fresh(self) -> Fresh {
                dispatch!(self, [$($variant),*], p => p.fresh())
            }
            #[inline]
            fn speaks(self) -> Speaks {
                dispatch!(self, [$($variant),*], p => p.speaks())
            }
            #[inline]
            fn on_push<Id: NodeId>(
                self,
                cx: &mut Cx<'_, Id>,
                now: u64,
                from: Id,
                updates: Vec<Update<Id>>,
                peers: &impl Peers<Id>,
                out: &mut Out<Id>,
            ) {
                dispatch!(self, [$($variant),*], p => p.on_push(cx, now, from, updates, peers, out))
            }
            #[inline]
            fn on_digest<Id: NodeId>(self, cx: &mut Cx<'_, Id>, from: Id, digest: Digest<Id>, push_pull: bool, out: &mut Out<Id>) {
                dispatch!(self, [$($variant),*], p => p.on_digest(cx, from, digest, push_pull, out))
            }
            #[inline]
            fn on_delta<Id: NodeId>(
                self,
                cx: &mut Cx<'_, Id>,
                now: u64,
                from: Id,
                updates: Vec<Update<Id>>,
                request: Digest<Id>,
                peers: &impl Peers<Id>,
                out: &mut Out<Id>,
            ) {
                dispatch!(self, [$($variant),*], p => p.on_delta(cx, now, from, updates, request, peers, out))
            }
            #[inline]
            fn on_feedback<Id: NodeId>(self, cx: &mut Cx<'_, Id>, known: &[(Id, Version)]) {
                dispatch!(self, [$($variant),*], p => p.on_feedback(cx, known))
            }
            #[inline]
            fn busy<Id: NodeId>(self, view: &View<Id>) -> bool {
                dispatch!(self, [$($variant),*], p => p.busy(view))
            }
        }
    };
}

registry! {
    /// The course's literal version: forward every fresh update to all known peers while TTL lasts.
    Flood => flood::Flood,
    /// Anti-entropy push: every interval, send your whole view to `fanout` random peers.
    Push => anti_entropy::Push,
    /// Anti-entropy pull: every interval, send your digest; peers answer with what you lack.
    Pull => anti_entropy::Pull,
    /// Scuttlebutt push-pull: digest, then deltas both ways; only what the other side lacks travels.
    PushPull => anti_entropy::PushPull,
    /// Rumor mongering (Demers et al. 1987): push hot rumors until the stop rule cools them.
    Rumor => rumor::Rumor,
    /// Epidemic broadcast trees (Leitão et al. 2007): a spanning tree of eager links, IHAVE on the others.
    Plumtree => plumtree::Plumtree,
}

/// A protocol configured for one node: its rules and parameters, and
/// whether eager push wraps it. Made once from the node's [`Config`]
/// ([`Rules::new`]); dispatches statically to the protocol's file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rules {
    kind: Kind,
    eager: bool,
}

impl Rules {
    /// Whether eager push wraps the protocol.
    pub fn eager(self) -> bool {
        self.eager
    }
}

impl Protocol {
    /// The name used on command lines, in JSON and in URLs.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Parse a protocol name, its aliases, and the same without dashes or
    /// with underscores (`push_pull` and `pushpull` are accepted too).
    pub fn parse(s: &str) -> Option<Protocol> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Protocol::ALL.iter().copied().find(|p| {
            let i = p.info();
            i.name == norm || i.name.replace('-', "") == norm || i.aliases.contains(&norm.as_str())
        })
    }

    /// Every protocol's name, as a person reads a list of them:
    /// `flood, push, pull, push-pull, rumor or plumtree`.
    pub fn names_or() -> String {
        let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }

    /// Why `self` cannot run with the options of `cfg`, if it cannot (a
    /// combination that makes no sense is refused, never silently dropped).
    pub fn check(self, cfg: &Config) -> Result<(), ConfigError> {
        let info = self.info();
        if let (Some(why), true) = (info.no_eager, cfg.eager_push) {
            return Err(ConfigError::EagerDoesNotApply { protocol: info.name, why });
        }
        // round-robin over partners a protocol never picks: flood sends to
        // every peer, and only its backup exchange takes one partner
        let picks = info.params.contains(&"fanout") || cfg.anti_entropy_ms.is_some();
        if cfg.round_robin && info.params.contains(&"targets") && !picks {
            return Err(ConfigError::NoPartnersToTake { protocol: info.name });
        }
        Ok(())
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Protocol::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown protocol {s:?}: {}", Protocol::names_or())))
    }
}

/// What the mean-field curve of one update depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanField {
    /// The protocol.
    pub protocol: Protocol,
    /// Whether eager push wraps it.
    pub eager: bool,
    /// Nodes.
    pub nodes: u32,
    /// Peers per round (and per eager push).
    pub fanout: u32,
    /// Hops a pushed update may travel.
    pub ttl: u32,
    /// The rumor stop rule's `k`.
    pub k: u32,
    /// Gossip interval, ms.
    pub interval_ms: u64,
    /// `Some(one hop, ms)` in the events model (latency plus half the
    /// jitter); `None` in the rounds model, where a hop is a round.
    pub hop_ms: Option<f64>,
    /// Probability that one message is lost (each leg of an exchange).
    pub loss: f64,
}

impl MeanField {
    /// The curve's name, as the page's chart key shows it: `mean-field
    /// push-pull + eager push, n=50`.
    pub fn name(&self) -> String {
        let eager = if self.eager { " + eager push" } else { "" };
        let loss = if self.loss > 0.0 { format!(", loss {}", self.loss) } else { String::new() };
        format!("mean-field {}{eager}, n={}{loss}", self.protocol.name(), self.nodes)
    }
}

/// The longest sub-step of the events model's delayed integration, ms (one
/// hop at a time overshoots: a part's delay is then read a whole hop off).
const SUB_STEP_MS: f64 = 10.0;

/// The most sub-steps one curve integrates (a bound, far above any chart's).
const MAX_SUB_STEPS: usize = 2_000_000;

/// The mean-field curve of the fraction of nodes that know one update, as
/// `(age in ms, fraction)` points up to `max_age_ms`. `None` for a protocol
/// without a rule.
///
/// * Rounds model (`hop_ms: None`): one step per round, every part of the
///   rule reading the `s` of the round's start; with eager push (or
///   flooding) the nodes informed by a push in the last round push once more, up to
///   `ttl` hops.
/// * Events model (`hop_ms: Some(hop)`): a delay equation. Time advances
///   in sub-steps of at most `SUB_STEP_MS` (a whole number of them per
///   hop); per sub-step a node's round comes with probability `step /
///   interval` (random phases), and each part of the rule reads the
///   uninformed fraction its [`MeanFieldPart::legs`] hops earlier (none
///   informed before age 0); a part its informer starts does not count the
///   nodes a [`Starter::Learner`] part informed until their next round.
///   Eager pushes (and a flood) arrive one hop after
///   their sender learned, up to `ttl + 1` hops after the update was made.
///
/// In both models only the nodes that learned by a push push on (the
/// origin first): a node informed in an exchange of the rounds keeps the
/// update for its rounds.
///   Points are written once per hop.
pub fn mean_field(p: &MeanField, max_age_ms: f64) -> Option<Vec<(f64, f64)>> {
    let rule = p.protocol.info().mean_field?;
    let c = Curve {
        rule,
        n: f64::from(p.nodes.max(2)),
        f: f64::from(p.fanout.max(1)),
        q: (1.0 - p.loss).clamp(0.0, 1.0),
        interval: p.interval_ms.max(1) as f64,
        floor: (rule.residue)(f64::from(p.k.max(1))),
        pushes: p.eager || rule.floods,
        ttl: p.ttl,
    };
    Some(match p.hop_ms {
        // a round is one step, every part reading the round's start
        None => c.integrate(c.interval, false, max_age_ms),
        Some(hop) => c.integrate(hop.max(1.0), true, max_age_ms),
    })
}

/// What [`mean_field`] integrates.
struct Curve {
    rule: MeanFieldRule,
    n: f64,
    f: f64,
    q: f64,
    interval: f64,
    floor: f64,
    pushes: bool,
    ttl: u32,
}

impl Curve {
    /// Integrate in steps of one `hop` (the rounds model: one round, no
    /// delays), each of a whole number of sub-steps; `delays`: each part
    /// reads `s` its legs' hops back (the events model).
    fn integrate(&self, hop: f64, delays: bool, max_age_ms: f64) -> Vec<(f64, f64)> {
        let (n, f, q) = (self.n, self.f, self.q);
        let parts = self.rule.parts;
        let m = if delays { (hop / SUB_STEP_MS).ceil().max(1.0) as usize } else { 1 };
        let dt = hop / m as f64;
        let share = dt / self.interval;
        // hist[k]: s at age k dt; before age 0 nobody knew (s = 1)
        let mut hist = vec![1.0 - 1.0 / n];
        let at = |hist: &[f64], k: usize, back: usize| if k < back { 1.0 } else { hist[k - back] };
        // the fraction informed by age k dt by the part its learner starts
        // (cumulative), and for how many sub-steps such a learner is silent
        let mut pulled = vec![0.0];
        let silent = parts.iter().find_map(|p| match p.starts {
            Starter::Learner { hops } => Some(((self.interval - f64::from(hops) * hop) / dt).round().max(0.0) as usize),
            Starter::Informer => None,
        });
        let eager_until = (self.ttl as usize + 1) * m;
        // pushed[k]: the fraction that learned by an eager push in sub-step
        // k; only they push on (a node that learned in an exchange of the
        // rounds holds the update for its rounds, as `Fresh` says)
        let mut pushed = vec![0.0];
        let mut pts = vec![(0.0, 1.0 / n)];
        let mut k = 1usize;
        while ((k - 1) as f64) * dt < max_age_ms && k < MAX_SUB_STEPS && (delays || k < 20_000) {
            let s = hist[k - 1];
            // keep, and the learners' share that learned by their own round
            let (mut keep, mut by_learner, mut by_any) = (1.0, 0.0, 0.0);
            for part in parts {
                let back = if delays { part.legs as usize * m } else { 0 };
                let mut seen = at(&hist, k - 1, back);
                match (part.starts, silent) {
                    (Starter::Informer, Some(w)) if k > back => {
                        // learners that have not had their next round yet
                        // start nothing: as informers they count as uninformed
                        let u = k - 1 - back;
                        seen += pulled[u] - pulled[u.saturating_sub(w)];
                    }
                    _ => {}
                }
                let kp = (part.keep)(seen.min(1.0), f, q).powf(share);
                // over a short sub-step 1 - keep is the part's rate
                if part.starts != Starter::Informer {
                    by_learner += 1.0 - kp;
                }
                by_any += 1.0 - kp;
                keep *= kp;
            }
            let push = if !self.pushes || k > eager_until {
                1.0
            } else if self.rule.floods {
                if k == m {
                    0.0
                } else {
                    1.0
                }
            } else {
                // the nodes that learned by a push in the sub-step one hop
                // ago push now (the first: the origin, at age 0)
                let fresh = match k.cmp(&m) {
                    std::cmp::Ordering::Less => 0.0,
                    std::cmp::Ordering::Equal => 1.0 / n,
                    std::cmp::Ordering::Greater => pushed[k - m],
                };
                (-f * q * fresh).exp()
            };
            let next = self.level(s, s * keep * push);
            // who learned in this sub-step, shared among the parts by rate
            by_any += 1.0 - push;
            let by = if by_learner > 0.0 { (s - next) * by_learner / by_any } else { 0.0 };
            pulled.push(pulled[k - 1] + by);
            pushed.push(if by_any > 0.0 { (s - next) * (1.0 - push) / by_any } else { 0.0 });
            hist.push(next);
            let done = next * n < 0.5;
            if k.is_multiple_of(m) {
                pts.push((((k / m) as u32) as f64 * hop, 1.0 - next));
            } else if done {
                pts.push((k as f64 * dt, 1.0 - next));
            }
            if done {
                let t = pts.last().map_or(0.0, |p| p.0);
                pts.push((t.max(max_age_ms), 1.0));
                break;
            }
            k += 1;
        }
        pts
    }

    /// `next` held at the residue (a stop rule's level), never below it
    /// unless `s` already was.
    fn level(&self, s: f64, next: f64) -> f64 {
        if self.floor > 0.0 {
            next.max(s.min(self.floor))
        } else {
            next
        }
    }
}

/// No residue.
fn no_residue(_k: f64) -> f64 {
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_round_trip() {
        for &p in Protocol::ALL {
            assert_eq!(Protocol::parse(p.name()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<Protocol>(&json).unwrap(), p);
        }
        assert_eq!(Protocol::parse("push_pull"), Some(Protocol::PushPull));
        assert_eq!(Protocol::parse("PushPull"), Some(Protocol::PushPull));
        assert_eq!(Protocol::parse("gossip"), None);
        let err = serde_json::from_str::<Protocol>("\"gossip\"").unwrap_err().to_string();
        assert!(err.contains("flood, push, pull, push-pull, rumor or plumtree"), "{err}");
    }

    #[test]
    fn eager_push_is_refused_where_it_means_nothing() {
        let cfg = |protocol| Config { protocol, eager_push: true, ..Config::default() };
        assert!(Protocol::PushPull.check(&cfg(Protocol::PushPull)).is_ok());
        let flood = Protocol::Flood.check(&cfg(Protocol::Flood)).unwrap_err();
        assert_eq!(flood.param(), "eager");
        let flood = flood.to_string();
        assert!(flood.contains("flood") && flood.contains("every peer"), "{flood}");
        let rumor = Protocol::Rumor.check(&cfg(Protocol::Rumor)).unwrap_err().to_string();
        assert!(rumor.contains("rumor") && rumor.contains("hot rumors"), "{rumor}");
        assert!(!Rules::new(&cfg(Protocol::Rumor)).eager(), "never wraps a protocol that refuses it");
    }

    #[test]
    fn the_hop_rule_forwards_only_while_ttl_lasts() {
        assert_eq!(hop(3), Some(2));
        assert_eq!(hop(1), Some(0));
        assert_eq!(hop(0), None);
    }

    fn curve(protocol: Protocol, eager: bool, hop_ms: Option<f64>) -> Vec<(f64, f64)> {
        let p =
            MeanField { protocol, eager, nodes: 1000, fanout: 1, ttl: 32, k: 1, interval_ms: 1000, hop_ms, loss: 0.0 };
        mean_field(&p, 60_000.0).expect("a rule")
    }

    /// Rounds until the curve first reaches `frac`.
    fn rounds_to(c: &[(f64, f64)], frac: f64) -> f64 {
        c.iter().find(|p| p.1 >= frac).expect("reaches it").0 / 1000.0
    }

    #[test]
    fn mean_field_curves_order_the_protocols_as_the_literature_does() {
        // Karp et al.: push-pull is faster than push and pull; all reach everyone.
        let (push, pull, pp) = (
            curve(Protocol::Push, false, None),
            curve(Protocol::Pull, false, None),
            curve(Protocol::PushPull, false, None),
        );
        let (tp, tl, tpp) = (rounds_to(&push, 0.999), rounds_to(&pull, 0.999), rounds_to(&pp, 0.999));
        assert!(tpp < tp && tpp < tl, "push-pull {tpp}, push {tp}, pull {tl}");
        // push: about log2 n + ln n rounds (Pittel: 10 + 6.9 = 16.9 for 1000 nodes)
        assert!((12.0..=20.0).contains(&tp), "push {tp}");
        // rumor with coin k=1 levels off at Demers' residue s = exp(-2(1-s)), about 0.203
        let rumor = curve(Protocol::Rumor, false, None);
        let last = rumor.last().unwrap().1;
        assert!((0.78..=0.81).contains(&last), "rumor reaches {last}");
        // flooding informs everyone one hop later
        let flood = curve(Protocol::Flood, false, Some(60.0));
        assert_eq!(rounds_to(&flood, 0.999) * 1000.0, 60.0);
        // eager push makes push-pull faster in the events model
        let ev = curve(Protocol::PushPull, false, Some(60.0));
        let eager = curve(Protocol::PushPull, true, Some(60.0));
        assert!(rounds_to(&eager, 0.99) < rounds_to(&ev, 0.99));
    }
}
