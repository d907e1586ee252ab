//! The membership seam: where a node's partners come from, as a protocol.
//!
//! Dissemination protocols ask for partners through [`Peers`] (`sample`,
//! `all`). Who those partners are is a protocol of its own: a
//! [`Membership`] sees what the node hears (a message from a peer, an
//! update of an origin, a peer that could not be reached) and may keep
//! state, run timers and exchange messages of its own. The first
//! implementations need no messages:
//!
//! * uniform membership over everyone (the theory's model: the
//!   simulator's shared `Roster`, or a fixed [`PeerList`]);
//! * the course's bootstrap membership and the native node's peer table
//!   ([`PeerTable`]): start from the bootstrap peers, learn whoever talks to
//!   you and the origins of what you learn, suspect a peer that does not
//!   answer and forget it after a while.
//!
//! A membership protocol with messages and timers (SWIM's probes,
//! HyParView's joins and shuffles) implements the same trait with its
//! [`Membership::Msg`], [`Membership::poll_timeout`],
//! [`Membership::on_timer`] and [`Membership::on_message`] ([`swim`]:
//! SWIM with Lifeguard); it reports
//! partners that come and go as [`MemberEvent`]s, which protocols that keep
//! neighbours (Plumtree) need. The hooks are sans-IO like the rest of the
//! core: time and randomness come in, messages and events go out as data.

pub mod hyparview;
pub mod swim;
pub mod topology;

use super::peers::{NoPeers, PeerList, PeerTable, Peers};
use crate::rng::Rng;

/// A message type with no values: the membership of a protocol that sends none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoMsg {}

/// Partners that came or went, as a membership protocol decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberEvent<Id> {
    /// `Id` is a partner now.
    Up(Id),
    /// `Id` is no longer a partner (failed, left, or dropped from a view).
    Down(Id),
}

/// What a membership asks the driver to do: messages to send, events to report.
#[derive(Clone, Debug)]
pub struct MemberOut<Id, M> {
    /// Messages to send, `(to, message)`, in order.
    pub sends: Vec<(Id, M)>,
    /// Partners that came or went, in order.
    pub events: Vec<MemberEvent<Id>>,
}

impl<Id, M> Default for MemberOut<Id, M> {
    fn default() -> Self {
        MemberOut { sends: Vec::new(), events: Vec::new() }
    }
}

/// Where a node's partners come from; see the module documentation. Every
/// hook has a default that does nothing, so a membership implements only
/// what it uses.
pub trait Membership<Id>: Peers<Id> {
    /// Its own messages ([`NoMsg`] if it sends none).
    type Msg;

    /// A message of any kind arrived from `from` at `now`: it is alive and
    /// reachable (the course's membership learns it as a peer).
    fn on_contact(&mut self, _now: u64, _from: &Id) {}

    /// The node learned an update made by `origin`, another node (the
    /// course's membership learns origins as peers).
    fn on_origin(&mut self, _origin: &Id) {}

    /// A message to `peer` could not be delivered at `now` (the driver
    /// knows: a refused connection, a timeout).
    fn on_unreachable(&mut self, _now: u64, _peer: &Id) {}

    /// When [`Membership::on_timer`] must next be called (`u64::MAX`: never).
    fn poll_timeout(&self) -> u64 {
        u64::MAX
    }

    /// Its timer fired at `now`.
    fn on_timer(&mut self, _me: &Id, _now: u64, _rng: &mut Rng, _out: &mut MemberOut<Id, Self::Msg>) {}

    /// One of its messages arrived from `from` at `now`.
    fn on_message(
        &mut self,
        _me: &Id,
        _now: u64,
        _from: Id,
        _msg: Self::Msg,
        _rng: &mut Rng,
        _out: &mut MemberOut<Id, Self::Msg>,
    ) {
    }
}

/// Uniform over a fixed list: nothing to learn.
impl<Id: Clone + PartialEq> Membership<Id> for PeerList<Id> {
    type Msg = NoMsg;
}

/// Nobody, ever.
impl<Id> Membership<Id> for NoPeers {
    type Msg = NoMsg;
}

/// The course's membership: learn whoever talks to us and the origins of
/// what we learn (never past the table's cap), suspect a peer that could
/// not be reached, and (with [`PeerTable::expire_after`]) forget one
/// suspect for too long.
impl<Id: Clone + PartialEq> Membership<Id> for PeerTable<Id> {
    type Msg = NoMsg;

    fn on_contact(&mut self, _now: u64, from: &Id) {
        self.contact(from);
    }

    fn on_origin(&mut self, origin: &Id) {
        self.learn(origin.clone());
    }

    fn on_unreachable(&mut self, now: u64, peer: &Id) {
        self.failed(peer, now);
    }

    fn poll_timeout(&self) -> u64 {
        self.next_expiry()
    }

    fn on_timer(&mut self, _me: &Id, now: u64, _rng: &mut Rng, out: &mut MemberOut<Id, NoMsg>) {
        let mut removed = Vec::new();
        self.expire_due(now, &mut removed);
        out.events.extend(removed.into_iter().map(MemberEvent::Down));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_membership_learns_contacts_and_origins_and_forgets_the_silent() {
        let mut t = PeerTable::new([0u32], 10).expire_after(1_000);
        t.on_contact(5, &3);
        t.on_origin(&4);
        t.on_origin(&4);
        assert_eq!(t.peers(), &[0, 3, 4]);
        assert_eq!(t.poll_timeout(), u64::MAX, "nobody suspect: no timer");
        t.on_unreachable(100, &3);
        t.on_unreachable(200, &0);
        assert_eq!(t.poll_timeout(), 1_100, "the first suspect's deadline");
        let mut out = MemberOut::default();
        t.on_timer(&9, 1_099, &mut Rng::new(1), &mut out);
        assert!(out.events.is_empty());
        t.on_timer(&9, 1_100, &mut Rng::new(1), &mut out);
        assert_eq!(out.events, vec![MemberEvent::Down(3)]);
        assert_eq!(t.peers(), &[0, 4], "the pinned bootstrap peer stays");
        t.on_contact(1_200, &0);
        assert!(!t.is_suspect(&0), "a contact clears a suspicion");
        assert_eq!(t.poll_timeout(), u64::MAX);
    }
}
