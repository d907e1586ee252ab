//! Eager push: a wrapper that pushes fresh updates at once, over any
//! protocol that accepts it.
//!
//! A node running a periodic protocol (push-pull, say) waits for its next
//! round to pass on what it learned. Wrapped in [`Eager`], it also pushes
//! every fresh update (its own new versions, and updates learned by push)
//! to `fanout` random peers the moment it has them, with the TTL one lower
//! at each hop ([`super::hop`]); the periodic protocol still runs and
//! repairs what the pushes miss. This is what the course app does. It
//! makes no sense over a protocol that already pushes fresh updates
//! (flooding, rumor mongering): their registry line says why
//! ([`super::Info::no_eager`]), and drivers refuse the combination.
//!
//! Messages: `P`'s, every handler `P`'s, and `Push` sent and accepted.

use super::{Cx, Dissemination, Fresh, Out, Peers, Speaks};
use crate::core::config::Config;
use crate::core::message::{Digest, Kinds, MessageKind, NodeId, Update};
use crate::core::version::Version;
use crate::core::view::View;

/// `P` with eager push of fresh updates; everything else is `P`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eager<P>(pub P);

impl<P: Dissemination> Dissemination for Eager<P> {
    fn from_config(cfg: &Config) -> Self {
        Eager(P::from_config(cfg))
    }

    #[inline]
    fn on_round<Id: NodeId>(self, cx: &mut Cx<'_, Id>, now: u64, peers: &impl Peers<Id>, out: &mut Out<Id>) {
        self.0.on_round(cx, now, peers, out)
    }

    fn fresh(self) -> Fresh {
        Fresh::Fanout
    }

    /// `P`'s, and pushes both ways (it sends them, so its peers, running
    /// the same, must take them).
    fn speaks(self) -> Speaks {
        let push = Kinds::NONE.with(MessageKind::Push);
        self.0.speaks().union(Speaks { sends: push, accepts: push })
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
        self.0.on_push(cx, now, from, updates, peers, out)
    }

    #[inline]
    fn on_digest<Id: NodeId>(
        self,
        cx: &mut Cx<'_, Id>,
        from: Id,
        digest: Digest<Id>,
        push_pull: bool,
        out: &mut Out<Id>,
    ) {
        self.0.on_digest(cx, from, digest, push_pull, out)
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
        self.0.on_delta(cx, now, from, updates, request, peers, out)
    }

    fn on_feedback<Id: NodeId>(self, cx: &mut Cx<'_, Id>, known: &[(Id, Version)]) {
        self.0.on_feedback(cx, known)
    }

    fn busy<Id: NodeId>(self, view: &View<Id>) -> bool {
        self.0.busy(view)
    }
}
