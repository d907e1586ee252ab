//! Anti-entropy: push, pull and push-pull (Demers et al. 1987; the
//! push-pull variant is Scuttlebutt's reconciliation, van Renesse et al.
//! 2008).
//!
//! Every gossip interval a node contacts `fanout` random peers:
//!
//! * **push** sends its whole view (a `Delta` of every update it holds);
//! * **pull** sends its digest (`origin -> version` for every entry); the
//!   peer answers with a `Delta` of what the digest lacks;
//! * **push-pull** sends its digest too, and the peer answers with what the
//!   digest lacks *and* a request for what the digest has that the peer
//!   lacks, which the first node answers in turn.
//!
//! The answer to a digest is one rule, [`answer`], applied origin by
//! origin by the store (`Store::answer_digest`) and by the simulator's
//! compact population alike. State is reconciled by version, so these
//! protocols converge by themselves: every live node ends up knowing every
//! update, whatever the network lost (Karp et al. 2000: push-pull informs n
//! nodes in about log3 n + O(log log n) rounds).
//!
//! Messages: push sends `Delta`s; pull and push-pull send `Digest`s and
//! answer them with `Delta`s ([`Cx::answer_digest`]), push-pull's carrying
//! a request that the first node answers in turn ([`Cx::merge_delta`]).
//! All three accept the store's state messages (a `Push` from a course
//! node is merged by version, and not forwarded unless eager push wraps
//! them).

use super::{Cx, Dissemination, Info, MeanFieldPart, MeanFieldRule, Out, Peers, Registered, Speaks, Starter};
use crate::core::config::Config;
use crate::core::message::{Digest, Kinds, Message, MessageKind, NodeId};
use crate::core::node::Transmit;

/// What a node does about one origin when it compares a peer's digest with
/// its own view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Nothing: both sides hold the same version (or neither cares).
    Nothing,
    /// Send its update: the digest's sender lacks it or holds an older one.
    Send,
    /// Ask for it (push-pull only): the sender holds a newer version.
    Request,
}

/// The digest reply rule for one origin. `ours_newer`: this node holds a
/// version the digest lacks or lists older; `theirs_newer`: the digest
/// lists a (valid) version this node lacks or holds older. What the sender
/// lacks always goes back; what it has is requested only in push-pull.
#[inline]
pub fn answer(ours_newer: bool, theirs_newer: bool, push_pull: bool) -> Answer {
    if ours_newer {
        Answer::Send
    } else if theirs_newer && push_pull {
        Answer::Request
    } else {
        Answer::Nothing
    }
}

/// Anti-entropy push; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Push;

/// Anti-entropy pull; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pull;

/// Push-pull (Scuttlebutt); see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushPull;

/// Push sends its view as deltas (and answers a digest with one).
const PUSH_SPEAKS: Speaks = Speaks { sends: Kinds::NONE.with(MessageKind::Delta), accepts: Kinds::STATE };

/// Pull and push-pull send digests and answer them with deltas.
const DIGEST_SPEAKS: Speaks =
    Speaks { sends: Kinds::NONE.with(MessageKind::Digest).with(MessageKind::Delta), accepts: Kinds::STATE };

impl Dissemination for Push {
    fn from_config(_cfg: &Config) -> Self {
        Push
    }

    fn speaks(self) -> Speaks {
        PUSH_SPEAKS
    }

    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, _now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        if cx.store().view().is_empty() {
            return;
        }
        let updates = cx.store().held_updates();
        let targets = cx.sample(peers, cx.fanout());
        for t in &targets {
            out.sends.push(Transmit {
                to: t.clone(),
                msg: Message::Delta { updates: updates.clone(), request: Digest::default() },
            });
        }
        cx.done(targets);
    }
}

/// A pull or push-pull round: the node's digest to `fanout` peers.
fn send_digests<Id: NodeId>(cx: &mut Cx<'_, Id>, push_pull: bool, peers: &impl Peers<Id>, out: &mut Out<Id>) {
    let targets = cx.sample(peers, cx.fanout());
    if let Some((last, rest)) = targets.split_last() {
        // n entries each: copied for all targets but the last, which takes it
        let digest = cx.digest(out);
        for t in rest {
            out.sends.push(Transmit { to: t.clone(), msg: Message::Digest { digest: digest.clone(), push_pull } });
        }
        out.sends.push(Transmit { to: last.clone(), msg: Message::Digest { digest, push_pull } });
    }
    cx.done(targets);
}

impl Dissemination for Pull {
    fn from_config(_cfg: &Config) -> Self {
        Pull
    }

    fn speaks(self) -> Speaks {
        DIGEST_SPEAKS
    }

    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, _now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        send_digests(cx, false, peers, out);
    }
}

impl Dissemination for PushPull {
    fn from_config(_cfg: &Config) -> Self {
        PushPull
    }

    fn speaks(self) -> Speaks {
        DIGEST_SPEAKS
    }

    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, _now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        send_digests(cx, true, peers, out);
    }
}

/// The push rule's one part (see [`Push`]'s `INFO`).
const PUSH: MeanFieldPart =
    MeanFieldPart { keep: |s, f, q| (-f * q * (1.0 - s)).exp(), legs: 1, starts: Starter::Informer };

/// The pull rule's one part, push-pull's first (see [`Pull`]'s `INFO`).
const PULL: MeanFieldPart =
    MeanFieldPart { keep: |s, f, q| (1.0 - (1.0 - s) * q * q).powf(f), legs: 1, starts: Starter::Learner { hops: 2 } };

/// Shared facts of the family.
const FAMILY: Info = Info {
    name: "",
    aliases: &[],
    summary: "",
    params: &["eager", "fanout", "targets", "anti_entropy_ms"],
    no_eager: None,
    converges: true,
    compact: true,
    overlay: false,
    mean_field: None,
};

impl Registered for Push {
    const INFO: Info = Info {
        name: "push",
        summary: "anti-entropy push: every interval, send your whole view to `fanout` random peers",
        // an informed node pushes to f peers, each push arriving with
        // probability q: s' = s exp(-f q i); in the events model a node
        // learns one leg (the push's flight) after its pusher knew
        mean_field: Some(MeanFieldRule { parts: &[PUSH], residue: super::no_residue, floods: false }),
        ..FAMILY
    };
}

impl Registered for Pull {
    const INFO: Info = Info {
        name: "pull",
        summary: "anti-entropy pull: every interval, send your digest; peers answer with what you lack",
        // an uninformed node asks f peers; an ask informs it when the peer
        // knows and both legs (digest, answer) arrive: s' = s (1 - i q^2)^f;
        // in the events model the peer must know when the ask lands, one
        // leg before the answer does
        mean_field: Some(MeanFieldRule { parts: &[PULL], residue: super::no_residue, floods: false }),
        ..FAMILY
    };
}

impl Registered for PushPull {
    const INFO: Info = Info {
        name: "push-pull",
        aliases: &["scuttlebutt"],
        summary: "Scuttlebutt push-pull: digest, then deltas both ways; only what the other side lacks travels",
        // both: pulling takes two legs (digest, deltas), pushing three
        // (digest, the peer's request, deltas): s' = s (1 - i q^2)^f exp(-f q^3 i).
        // In the events model the pull part reads the informed fraction one
        // hop back (as pull) and the push-back two: of the three legs from
        // the digest to the deltas' arrival, two fit the measured runs best
        // (docs/lab.md, "The theory line"); a node informed by its own pull
        // has just had its round, so it pushes back only from its next one
        mean_field: Some(MeanFieldRule {
            parts: &[
                PULL,
                MeanFieldPart {
                    keep: |s, f, q| (-f * q.powi(3) * (1.0 - s)).exp(),
                    legs: 2,
                    starts: Starter::Informer,
                },
            ],
            residue: super::no_residue,
            floods: false,
        }),
        ..FAMILY
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_sender_lacks_goes_back_and_what_it_has_is_requested_in_push_pull_only() {
        assert_eq!(answer(true, false, false), Answer::Send);
        assert_eq!(answer(true, false, true), Answer::Send);
        assert_eq!(answer(false, true, true), Answer::Request);
        assert_eq!(answer(false, true, false), Answer::Nothing);
        assert_eq!(answer(false, false, true), Answer::Nothing);
    }
}
