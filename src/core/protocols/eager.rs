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

use super::{Cx, Dissemination, Fresh, Out, Peers};
use crate::core::config::Config;
use crate::core::message::NodeId;
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

    fn feedback(self) -> bool {
        self.0.feedback()
    }

    fn on_feedback<Id: NodeId>(self, cx: &mut Cx<'_, Id>, known: &[(Id, Version)]) {
        self.0.on_feedback(cx, known)
    }

    fn busy<Id: NodeId>(self, view: &View<Id>) -> bool {
        self.0.busy(view)
    }
}
