//! Rumor mongering (Demers et al. 1987, section 1.4).
//!
//! A node that learns an update treats it as a *hot rumor*: every gossip
//! interval it pushes its hot rumors to `fanout` random peers, with the TTL
//! one lower at each hop ([`super::hop`]). Each contact may cool a rumor,
//! as the [`StopRule`] says: *feedback* counts only contacts that already
//! knew it (they answer a push with `Feedback`), *blind* counts every
//! contact; a *counter* cools it after `k` counted contacts, a *coin* with
//! probability `1/k` at each. Once no rumor is hot anywhere the run is
//! quiet, and some nodes may never have heard (Demers' *residue*: about
//! `s = exp(-(k+1)(1-s))` for the feedback coin). Rumor mongering does not
//! converge by itself; a backup anti-entropy exchange
//! (`Config::anti_entropy_ms`) repairs what it misses.
//!
//! Messages: it sends `Push`es of its hot rumors and, under the feedback
//! rule, answers a push of what it already knew with `Feedback`, which it
//! then accepts ([`Rumor::on_feedback`]); under the blind rule a
//! `Feedback` is refused. It accepts the store's state messages.

use super::{hop, Cx, Dissemination, Info, MeanFieldPart, MeanFieldRule, Out, Peers, Registered, Speaks, Starter};
use crate::core::config::Config;
use crate::core::message::{Kinds, Message, MessageKind, NodeId, Update};
use crate::core::node::Transmit;
use crate::core::version::Version;
use crate::core::view::View;

use serde::{Deserialize, Serialize};

/// When a rumor-mongering node loses interest in a rumor (Demers et al. 1987, section 1.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StopRule {
    /// `true`: only contacts that already knew the rumor count ("feedback");
    /// `false`: every contact counts ("blind").
    pub feedback: bool,
    /// How counted contacts cool a rumor.
    pub kind: StopKind,
}

/// Counter or coin, each with its parameter `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopKind {
    /// Lose interest after `k` counted contacts.
    Counter(u8),
    /// Lose interest with probability `1/k` at each counted contact.
    Coin(u8),
}

impl Default for StopRule {
    fn default() -> Self {
        StopRule { feedback: true, kind: StopKind::Coin(1) }
    }
}

impl StopRule {
    /// The rule as the command lines and the lab spell it: `stop` is
    /// `feedback` or `blind`, with a `counter` k or a `coin` 1/k (default
    /// coin 1). The error names what is wrong.
    pub fn from_flags(stop: &str, counter: Option<u8>, coin: Option<u8>) -> Result<StopRule, StopError> {
        let feedback = match stop {
            "feedback" => true,
            "blind" => false,
            s => return Err(StopError::Mode(s.to_owned())),
        };
        let kind = match (counter, coin) {
            (Some(_), Some(_)) => return Err(StopError::CounterAndCoin),
            (Some(0), _) => return Err(StopError::Zero("counter")),
            (_, Some(0)) => return Err(StopError::Zero("coin")),
            (Some(k), None) => StopKind::Counter(k),
            (None, Some(k)) => StopKind::Coin(k),
            (None, None) => StopKind::Coin(1),
        };
        Ok(StopRule { feedback, kind })
    }
}

/// Why the rumor stop rule's flags do not make a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopError {
    /// `stop` is neither `feedback` nor `blind` (what was given).
    Mode(String),
    /// Both a counter and a coin.
    CounterAndCoin,
    /// `counter` or `coin` (named) is 0.
    Zero(&'static str),
}

impl StopError {
    /// The parameter to mark: `stop`, `counter` or `coin`.
    pub fn param(&self) -> &'static str {
        match self {
            StopError::Mode(_) => "stop",
            StopError::CounterAndCoin => "counter",
            StopError::Zero(p) => p,
        }
    }
}

impl std::fmt::Display for StopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopError::Mode(s) => write!(f, "stop must be feedback or blind, got {s:?}"),
            StopError::CounterAndCoin => f.write_str("give the rumor stop rule a counter or a coin, not both"),
            StopError::Zero(p) => write!(f, "{p} must be at least 1"),
        }
    }
}

impl std::error::Error for StopError {}

impl std::fmt::Display for StopRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.feedback { "feedback" } else { "blind" };
        match self.kind {
            StopKind::Counter(k) => write!(f, "{mode}, counter k={k}"),
            StopKind::Coin(k) => write!(f, "{mode}, coin 1/{k}"),
        }
    }
}

/// Per-rumor state of a rumor-mongering node: hot (still spreading) and how
/// many counted contacts it has had. One byte each, so the simulator can keep
/// one per node for a million nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RumorState {
    /// Still spreading this rumor.
    pub hot: bool,
    /// Counted contacts so far (for the counter rule).
    pub count: u8,
}

impl RumorState {
    /// A freshly learned rumor: hot, nothing counted.
    pub const HOT: RumorState = RumorState { hot: true, count: 0 };

    /// Apply the stop rule after one counted contact. `coin` is drawn only for
    /// the coin rule, so the random stream is consumed identically by every
    /// implementation of the rule. Returns whether the rumor is still hot.
    pub fn count_contact(&mut self, kind: StopKind, coin: impl FnOnce(f64) -> bool) -> bool {
        if !self.hot {
            return false;
        }
        match kind {
            StopKind::Counter(k) => {
                self.count = self.count.saturating_add(1);
                if self.count >= k.max(1) {
                    self.hot = false;
                }
            }
            StopKind::Coin(k) => {
                if coin(1.0 / k.max(1) as f64) {
                    self.hot = false;
                }
            }
        }
        self.hot
    }
}

/// Rumor mongering with its stop rule; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rumor {
    /// When a node loses interest in a rumor.
    pub stop: StopRule,
}

impl Rumor {
    /// One counted contact for the rumor `(origin, version)`, if this node
    /// still holds exactly that version.
    fn count_contact<Id: NodeId>(self, cx: &mut Cx<'_, Id>, origin: &Id, version: Version) {
        let kind = self.stop.kind;
        cx.with_entry(origin, version, |e, rng| {
            e.rumor.count_contact(kind, |p| rng.chance(p));
        });
    }
}

/// Whether a push of a rumor the receiver already knew is answered with
/// `Feedback`: under the feedback rule, if it knew it before this instant
/// (in the rounds model: before the round began). The rule of full nodes
/// and of the compact population alike.
#[inline]
pub fn answers_feedback(stop: StopRule, knew_before: bool) -> bool {
    stop.feedback && knew_before
}

impl Dissemination for Rumor {
    fn from_config(cfg: &Config) -> Self {
        Rumor { stop: cfg.stop }
    }

    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, _now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        let store = cx.store();
        let hot: Vec<Update<Id>> = store
            .view()
            .iter()
            .filter(|(_, e)| e.rumor.hot)
            .filter_map(|(o, e)| store.update_of(o, hop(e.ttl)?))
            .collect();
        if hot.is_empty() {
            return;
        }
        let targets = cx.sample(peers, cx.fanout());
        for t in &targets {
            out.sends.push(Transmit { to: t.clone(), msg: Message::Push(hot.clone()) });
            if !self.stop.feedback {
                // blind: every contact counts
                for u in &hot {
                    self.count_contact(cx, &u.origin, u.version);
                }
            }
        }
        cx.done(targets);
    }

    fn speaks(self) -> Speaks {
        let feedback = Kinds::NONE.with_if(MessageKind::Feedback, self.stop.feedback);
        Speaks {
            sends: Kinds::NONE.with(MessageKind::Push).with(MessageKind::Delta).union(feedback),
            accepts: Kinds::STATE.union(feedback),
        }
    }

    /// The store's merge, answering with `Feedback` what was known before
    /// under the feedback rule.
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
        cx.merge_push(now, from, updates, self.stop.feedback, peers, out)
    }

    fn on_feedback<Id: NodeId>(self, cx: &mut Cx<'_, Id>, known: &[(Id, Version)]) {
        if !self.stop.feedback {
            return;
        }
        for (o, v) in known {
            self.count_contact(cx, o, *v);
        }
    }

    fn busy<Id: NodeId>(self, view: &View<Id>) -> bool {
        view.iter().any(|(_, e)| e.rumor.hot && hop(e.ttl).is_some())
    }
}

/// Demers' residue of the feedback coin with parameter `k`: the fixed
/// point of `s = exp(-(k+1)(1-s))` below 1.
fn residue(k: f64) -> f64 {
    let mut s = 0.2;
    for _ in 0..200 {
        s = (-(k + 1.0) * (1.0 - s)).exp();
    }
    s
}

impl Registered for Rumor {
    const INFO: Info = Info {
        name: "rumor",
        aliases: &["rumor-mongering"],
        summary: "rumor mongering (Demers et al. 1987): push hot rumors until the stop rule cools them",
        params: &["stop", "counter", "coin", "fanout", "targets", "anti_entropy_ms"],
        no_eager: Some("it already pushes fresh updates as hot rumors"),
        converges: false,
        compact: true,
        overlay: false,
        // pushes like push (one leg: the push's flight), levelling off at
        // the residue
        mean_field: Some(MeanFieldRule {
            parts: &[MeanFieldPart { keep: |s, f, q| (-f * q * (1.0 - s)).exp(), legs: 1, starts: Starter::Informer }],
            residue,
            floods: false,
        }),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_rules_from_flags_and_their_errors() {
        assert_eq!(StopRule::from_flags("feedback", None, None), Ok(StopRule::default()));
        assert_eq!(
            StopRule::from_flags("blind", Some(3), None),
            Ok(StopRule { feedback: false, kind: StopKind::Counter(3) })
        );
        let both = StopRule::from_flags("feedback", Some(2), Some(2)).unwrap_err();
        assert_eq!((both.param(), both.to_string().contains("not both")), ("counter", true));
        let zero = StopRule::from_flags("feedback", None, Some(0)).unwrap_err();
        assert_eq!((zero.param(), zero.to_string()), ("coin", "coin must be at least 1".to_string()));
        let loud = StopRule::from_flags("loud", None, None).unwrap_err();
        assert_eq!(loud, StopError::Mode("loud".into()));
        assert!(loud.to_string().starts_with("stop must be"), "{loud}");
    }

    #[test]
    fn counter_rule_cools_after_k_contacts() {
        let mut r = RumorState::HOT;
        assert!(r.count_contact(StopKind::Counter(3), |_| unreachable!()));
        assert!(r.count_contact(StopKind::Counter(3), |_| unreachable!()));
        assert!(!r.count_contact(StopKind::Counter(3), |_| unreachable!()));
        assert!(!r.hot);
    }

    #[test]
    fn coin_rule_uses_probability_one_over_k() {
        let mut asked = 0.0;
        let mut r = RumorState::HOT;
        assert!(r.count_contact(StopKind::Coin(4), |p| {
            asked = p;
            false
        }));
        assert_eq!(asked, 0.25);
        assert!(!r.count_contact(StopKind::Coin(4), |_| true));
    }

    #[test]
    fn only_the_feedback_rule_answers_and_only_for_what_was_known_before() {
        let feedback = StopRule::default();
        let blind = StopRule { feedback: false, ..feedback };
        assert!(answers_feedback(feedback, true));
        assert!(!answers_feedback(feedback, false));
        assert!(!answers_feedback(blind, true));
    }

    #[test]
    fn the_feedback_coin_residue_is_demers_fixed_point() {
        // Demers et al. Table 1: k=1: 0.18 (simulated, 1000 nodes); the fixed point is 0.203
        assert!((residue(1.0) - 0.2032).abs() < 1e-3, "{}", residue(1.0));
        assert!(residue(2.0) < residue(1.0) && residue(2.0) > 0.0);
    }
}
