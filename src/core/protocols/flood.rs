//! Flooding: the course exercise's literal protocol.
//!
//! A node that learns a fresh update (or makes a new version of its own)
//! pushes it at once to every peer it knows, except the one it came from
//! and its origin, with its TTL one lower at each hop ([`super::hop`]);
//! nothing happens on the gossip timer. Duplicates are dropped by the
//! store's seen cache. It needs no rounds, but every update costs about
//! n x (peers) messages, and an update lost to the network or a partition
//! is lost for good: it does not converge by itself.
//!
//! Messages: it sends `Push` (and `Delta`, the store's answer to a digest)
//! and accepts the store's state messages; a pushed update is merged by
//! the store's rule and flooded on if fresh ([`super::Fresh::All`]).

use super::{Cx, Dissemination, Fresh, Info, MeanFieldRule, Out, Peers, Registered, Speaks};
use crate::core::config::Config;
use crate::core::message::{Kinds, MessageKind, NodeId};
use crate::core::view::View;

/// Flooding; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flood;

impl Dissemination for Flood {
    fn from_config(_cfg: &Config) -> Self {
        Flood
    }

    fn on_round<Id: NodeId>(self, _cx: &mut Cx<'_, Id>, _now: u64, _peers: &impl Peers<Id>, _out: &mut Out<Id>) {}

    /// Sends pushes (and deltas: the answer to a digest); accepts the
    /// store's state messages, pushes to flood on.
    fn speaks(self) -> Speaks {
        Speaks { sends: Kinds::NONE.with(MessageKind::Push).with(MessageKind::Delta), accepts: Kinds::STATE }
    }

    fn fresh(self) -> Fresh {
        Fresh::All
    }

    fn busy<Id: NodeId>(self, _view: &View<Id>) -> bool {
        false
    }
}

impl Registered for Flood {
    const INFO: Info = Info {
        name: "flood",
        aliases: &[],
        summary: "the course's literal protocol: forward every fresh update to all known peers while TTL lasts",
        // `targets`: its backup exchange's partner (it floods every peer
        // itself, so `fanout` is not read and round-robin needs the backup)
        params: &["anti_entropy_ms", "targets"],
        no_eager: Some("it already pushes every fresh update to every peer"),
        converges: false,
        compact: false,
        overlay: false,
        // no rounds: every informed node pushes to every peer, one hop later
        mean_field: Some(MeanFieldRule { parts: &[], residue: super::no_residue, floods: true }),
    };
}
