//! SWIM failure detection in the native node (`--failure-detector swim`,
//! the default): the core's sans-IO [`Swim`] member driven over HTTP.
//!
//! The core decides everything SWIM decides (whom to probe, when to ask
//! helpers, what to suspect, when to declare, what to piggyback); this
//! driver only moves its messages and its clock:
//!
//! * its timers become one tokio task ([`swim_loop`]) sleeping until
//!   [`Membership::poll_timeout`], woken early when a message moved a
//!   deadline (a ping-req to relay, a suspicion heard);
//! * its messages become `POST {member}/swim/` requests ([`dispatch`]); the
//!   messages a member produces for the sender while handling a request
//!   (the `ack` of a `ping`) ride back in the answer ([`handle`]);
//! * members are base URLs. The core starts from an empty baseline
//!   ([`Listed`]); the driver introduces the peers of the node's peer table
//!   as `Alive` at incarnation 0, and peers SWIM learns join the table.
//!
//! Three rules are the driver's, not the core's (SWIM as the paper states
//! it assumes every member speaks it):
//!
//! * **Course nodes.** A member that answers `/swim/` with 404 (or 405)
//!   does not speak SWIM: it is *plain*. Any HTTP answer to a `ping` proves
//!   the process runs, so it counts as the `ack`. A plain member cannot
//!   refute a suspicion, so members vouch for it: an answered `ping`, an
//!   answered `POST /gossip/` exchange or a request from it, while it is
//!   held suspect or dead at incarnation `i`, makes this member apply (and
//!   gossip) `Alive` at `i + 1`. A course node is never declared dead while
//!   it answers.
//! * **Telling a suspect.** A request from a member held suspect (or dead)
//!   at `i` gets that suspicion (or declaration) piggybacked on its answer,
//!   so that the member refutes it at once (the buddy system, extended to
//!   answers: a member that was paused or restarted learns of it on its
//!   first ping). A member told of an incarnation it already refuted
//!   gossips its current `Alive` again: after a pause, its first
//!   refutation may have ridden on answers to requests whose senders had
//!   given up.
//! * **Hostile input.** A `ping_req` for a member this node does not know
//!   (or for itself, or for the sender) is not relayed; `alive` updates
//!   about unknown members are dropped once the node knows `--peer-cap`
//!   members. The wire format bounds everything else
//!   ([`crate::wire::swim`]).
//!
//! The peer table follows SWIM: members held suspect or dead are suspect in
//! the table (not listed by `GET /peers/`, removed after
//! `--remove-after-ms`), members held alive are not. A failed `/gossip/`
//! exchange no longer makes a peer suspect.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::Instrument;

use super::client::{fetch, OutError};
use super::error::{Reason, Rejection};
use super::metrics::NodeMetrics;
use super::state::NodeState;
use crate::core::membership::swim::{Entry, Gossip, Listed, State as MState, Swim, SwimConfig, SwimMsg};
use crate::core::{MemberEvent, MemberOut, Membership, PeerTable};
use crate::rng::Rng;
use crate::wire::swim::{self as swire, MAX_SWIM_BODY};
use crate::wire::{self, Id};

/// SWIM messages to send, grouped by destination: one request each.
pub type SwimSends = Vec<(Id, Vec<SwimMsg<Id>>)>;

/// What the driver counts beyond the core's [`crate::core::membership::swim::SwimCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriverCounters {
    /// Members this node declared dead (or learned were declared).
    pub declared_dead: u64,
    /// Times this node vouched for a plain member that answered.
    pub vouched: u64,
    /// `POST /swim/` requests answered with 200.
    pub requests_ok: u64,
    /// `POST /swim/` requests answered 404/405: the member is plain.
    pub requests_plain: u64,
    /// `POST /swim/` requests that got no usable answer (no connection,
    /// timeout, another status, a bad body).
    pub requests_failed: u64,
}

/// One member as `GET /state` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// Its base URL.
    pub url: String,
    /// `alive`, `suspect` or `dead`.
    pub status: String,
    /// The incarnation this node holds for it.
    pub incarnation: u32,
    /// When this node last changed what it holds about it, ms since this
    /// node started (0: learned alive and unchanged since).
    pub since_ms: u64,
    /// Whether it answered `/swim/` with 404: a course node (or a native
    /// node with `--failure-detector simple`), probed by its HTTP answers.
    pub plain: bool,
}

/// The gauges and counters `/metrics` shows for SWIM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwimGauges {
    /// Members held alive, suspect and dead (this node not included).
    pub alive: u64,
    /// Members held suspect.
    pub suspect: u64,
    /// Members held dead.
    pub dead: u64,
    /// This node's own incarnation.
    pub incarnation: u32,
    /// Lifeguard's local health score (0: healthy).
    pub health: u8,
    /// The core's counters.
    pub core: crate::core::membership::swim::SwimCounters,
    /// The driver's counters.
    pub driver: DriverCounters,
}

fn status_name(s: MState) -> &'static str {
    match s {
        MState::Alive => "alive",
        MState::Suspect => "suspect",
        MState::Dead => "dead",
    }
}

/// The node's SWIM member and what the driver keeps beside it. No IO: the
/// node's state holds it behind its mutex and does the IO outside.
pub struct SwimSide {
    member: Swim<Id, Listed<Id>>,
    me: Id,
    rng: Rng,
    out: MemberOut<Id, SwimMsg<Id>>,
    /// Members that answered `/swim/` with 404 or 405.
    plain: HashSet<Id>,
    /// Most members known.
    cap: u32,
    /// The driver's counters.
    pub counters: DriverCounters,
}

impl SwimSide {
    /// The member at base URL `me` with configuration `cfg`, its first
    /// period starting at `start` (ms, the node's clock), knowing at most
    /// `cap` members.
    pub fn new(cfg: Arc<SwimConfig>, me: Id, rng: Rng, start: u64, cap: usize) -> Self {
        let member = Swim::new(cfg, Listed::new(Vec::new()), me.clone(), start);
        SwimSide {
            member,
            me,
            rng,
            out: MemberOut::default(),
            plain: HashSet::new(),
            cap: cap.min(u32::MAX as usize) as u32,
            counters: DriverCounters::default(),
        }
    }

    /// The core member.
    pub fn member(&self) -> &Swim<Id, Listed<Id>> {
        &self.member
    }

    /// What it holds about `id`.
    pub fn entry(&self, id: &Id) -> Option<Entry> {
        self.member.entry(id)
    }

    /// When its timer is next due (node's clock, ms).
    pub fn poll_timeout(&self) -> u64 {
        self.member.poll_timeout()
    }

    /// Make `id` a member (alive at incarnation 0) if it is a base URL,
    /// not this node, not known yet, and the cap leaves room.
    pub fn introduce(&mut self, now: u64, id: &Id) {
        if *id == self.me || self.member.entry(id).is_some() || self.member.known() >= self.cap {
            return;
        }
        if wire::is_base_url(id) {
            self.member.apply(Gossip::Alive { id: id.clone(), inc: 0 }, now, &mut self.out);
        }
    }

    /// Run the core's timer if it is due at `now`.
    pub fn tick(&mut self, now: u64) {
        if now >= self.member.poll_timeout() {
            let me = self.me.clone();
            self.member.on_timer(&me, now, &mut self.rng, &mut self.out);
        }
    }

    /// Drop what a member must not act on (see the module documentation).
    fn admit(&self, from: &Id, msg: SwimMsg<Id>) -> Option<SwimMsg<Id>> {
        let room = self.member.known() < self.cap;
        let keep = |g: &Gossip<Id>| room || !matches!(g, Gossip::Alive { .. }) || self.member.entry(g.id()).is_some();
        Some(match msg {
            SwimMsg::PingReq { target, .. }
                if target == self.me || target == *from || self.member.entry(&target).is_none() =>
            {
                return None
            }
            SwimMsg::Ping { seq, mut gossip } => {
                gossip.retain(keep);
                SwimMsg::Ping { seq, gossip }
            }
            SwimMsg::PingReq { seq, target, mut gossip } => {
                gossip.retain(keep);
                SwimMsg::PingReq { seq, target, gossip }
            }
            SwimMsg::Ack { seq, mut gossip } => {
                gossip.retain(keep);
                SwimMsg::Ack { seq, gossip }
            }
            n @ SwimMsg::Nack { .. } => n,
        })
    }

    fn deliver(&mut self, now: u64, from: &Id, msgs: Vec<SwimMsg<Id>>) {
        let me = self.me.clone();
        // a suspicion or declaration of an incarnation this member already
        // refuted: its refutation did not reach the sender (it may have
        // ridden on answers nobody read, after a pause): gossip it again
        let mine = self.member.incarnation();
        let stale = msgs.iter().flat_map(SwimMsg::gossip).any(|g| match g {
            Gossip::Suspect { id, inc, .. } | Gossip::Dead { id, inc, .. } => *id == me && *inc < mine,
            Gossip::Alive { .. } => false,
        });
        if stale {
            self.member.announce();
        }
        for m in msgs {
            if let Some(m) = self.admit(from, m) {
                self.member.on_message(&me, now, from.clone(), m, &mut self.rng, &mut self.out);
            }
        }
    }

    /// A request from `from` (a base URL other than this node's) carrying
    /// `msgs`: handle them; returns the messages for `from` (the answer),
    /// the sender's suspicion or declaration piggybacked on the first one
    /// that carries updates. Other sends stay queued ([`SwimSide::take`]).
    pub fn receive(&mut self, now: u64, from: &Id, msgs: Vec<SwimMsg<Id>>) -> Vec<SwimMsg<Id>> {
        self.plain.remove(from); // it speaks SWIM
        self.introduce(now, from);
        self.deliver(now, from, msgs);
        let mut replies = Vec::new();
        self.out.sends.retain_mut(|(to, m)| {
            if to == from {
                replies.push(std::mem::replace(m, SwimMsg::Nack { seq: 0 }));
                false
            } else {
                true
            }
        });
        let tell = self.member.entry(from).and_then(|e| match e.state {
            MState::Suspect => Some(Gossip::Suspect { id: from.clone(), inc: e.inc, from: self.me.clone() }),
            MState::Dead => Some(Gossip::Dead { id: from.clone(), inc: e.inc, from: self.me.clone() }),
            MState::Alive => None,
        });
        if let Some(t) = tell {
            let carrier = replies.iter_mut().find_map(|m| match m {
                SwimMsg::Ping { gossip, .. } | SwimMsg::PingReq { gossip, .. } | SwimMsg::Ack { gossip, .. } => {
                    Some(gossip)
                }
                SwimMsg::Nack { .. } => None,
            });
            if let Some(g) = carrier {
                g.insert(0, t);
            }
        }
        replies
    }

    /// The answer of `from` (the member this node dialed) to a request.
    pub fn answered(&mut self, now: u64, from: &Id, msgs: Vec<SwimMsg<Id>>) {
        self.plain.remove(from);
        self.deliver(now, from, msgs);
    }

    /// `to` answered the request carrying `sent` with a status that is not
    /// a success: it runs, so each `ping` in `sent` is acked; with `plain`
    /// (404, 405) it does not speak SWIM, and this member vouches for it.
    pub fn refused(&mut self, now: u64, to: &Id, sent: &[SwimMsg<Id>], plain: bool) {
        let me = self.me.clone();
        for m in sent {
            if let SwimMsg::Ping { seq, .. } = m {
                let ack = SwimMsg::Ack { seq: *seq, gossip: Vec::new() };
                self.member.on_message(&me, now, to.clone(), ack, &mut self.rng, &mut self.out);
            }
        }
        if plain {
            self.plain.insert(to.clone());
            self.vouch(now, to);
        }
    }

    /// `peer` answered or called (a `/gossip/` exchange, an HTTP answer):
    /// if it is plain and held suspect or dead at `i`, take it back as
    /// alive at `i + 1` and gossip that. Returns whether it did.
    pub fn vouch(&mut self, now: u64, peer: &Id) -> bool {
        if !self.plain.contains(peer) {
            return false;
        }
        let Some(e) = self.member.entry(peer).filter(|e| e.state != MState::Alive) else { return false };
        if e.inc >= swire::MAX_INCARNATION {
            return false;
        }
        self.counters.vouched += 1;
        self.member.apply(Gossip::Alive { id: peer.clone(), inc: e.inc + 1 }, now, &mut self.out)
    }

    /// The sends queued, grouped by destination, and the events (members up
    /// and down) since the last call.
    pub fn take(&mut self) -> (SwimSends, Vec<MemberEvent<Id>>) {
        let mut sends: SwimSends = Vec::new();
        for (to, m) in self.out.sends.drain(..) {
            match sends.iter_mut().find(|(t, _)| *t == to) {
                Some((_, ms)) => ms.push(m),
                None => sends.push((to, vec![m])),
            }
        }
        let events: Vec<MemberEvent<Id>> = self.out.events.drain(..).collect();
        for e in &events {
            if matches!(e, MemberEvent::Down(_)) {
                self.counters.declared_dead += 1;
            }
        }
        (sends, events)
    }

    /// Make the peer table agree with SWIM at `now`: members held suspect or
    /// dead are suspect there, members held alive are not. Returns how many
    /// peers turned suspect.
    pub fn sync_table(&self, peers: &mut PeerTable<Id>, now: u64) -> usize {
        let ids: Vec<Id> = peers.peers().to_vec();
        let mut suspected = 0;
        for p in &ids {
            match self.member.entry(p).map(|e| e.state) {
                Some(MState::Suspect | MState::Dead) => {
                    suspected += usize::from(peers.failed(p, now));
                }
                Some(MState::Alive) => {
                    peers.heard_from(p);
                }
                None => {}
            }
        }
        suspected
    }

    /// Every member, for `GET /state`.
    pub fn view(&self) -> Vec<MemberView> {
        self.member
            .members()
            .map(|(id, e)| MemberView {
                plain: self.plain.contains(&id),
                url: id.to_string(),
                status: status_name(e.state).to_string(),
                incarnation: e.inc,
                since_ms: e.since,
            })
            .collect()
    }

    /// Gauges and counters for `/metrics`.
    pub fn gauges(&self) -> SwimGauges {
        let mut g = SwimGauges {
            incarnation: self.member.incarnation(),
            health: self.member.health(),
            core: self.member.counters(),
            driver: self.counters,
            ..SwimGauges::default()
        };
        for (_, e) in self.member.members() {
            match e.state {
                MState::Alive => g.alive += 1,
                MState::Suspect => g.suspect += 1,
                MState::Dead => g.dead += 1,
            }
        }
        g
    }
}

// ---- IO ----

/// Drive the SWIM member's timer until `stop` turns true.
pub async fn swim_loop(state: Arc<NodeState>, mut stop: watch::Receiver<bool>) {
    loop {
        let (sends, next) = state.swim_tick();
        dispatch(&state, sends);
        let Some(next) = next else { return };
        tokio::select! {
            _ = tokio::time::sleep_until(state.instant_at(next)) => {}
            _ = state.swim_wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Send each destination's messages as one `POST {to}/swim/`, each in its
/// own task (bounded by the node's in-flight limit, like exchanges).
pub fn dispatch(state: &Arc<NodeState>, sends: SwimSends) {
    for (to, msgs) in sends {
        if !wire::is_base_url(&to) {
            NodeMetrics::add(&state.metrics.dials_refused, 1);
            continue;
        }
        let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
            NodeMetrics::add(&state.metrics.exchanges_out_dropped, 1);
            continue;
        };
        let st = state.clone();
        tokio::spawn(
            async move {
                send(&st, to, msgs).await;
                drop(permit);
            }
            .in_current_span(),
        );
    }
}

async fn send(state: &Arc<NodeState>, to: Id, msgs: Vec<SwimMsg<Id>>) {
    let body = swire::encode(&state.url, &msgs);
    NodeMetrics::add(&state.metrics.bytes_out, body.len());
    // an answer later than a period is of no use to the member
    let period = state.opts.swim.as_ref().map_or(1_000, |c| c.probe_interval_ms);
    let req = state
        .client
        .post(format!("{to}/swim/"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .timeout(Duration::from_millis(period.clamp(50, state.opts.request_timeout_ms.max(50))))
        .body(body);
    let answer = fetch(state, &to, req, MAX_SWIM_BODY).await.and_then(|bytes| {
        NodeMetrics::add(&state.metrics.bytes_in, bytes.len());
        swire::decode(&bytes, &state.opts.limits).map_err(OutError::Body)
    });
    let next = match answer {
        Ok(env) => state.swim_answered(&to, env.messages),
        Err(OutError::Status(s)) => {
            let plain = s == reqwest::StatusCode::NOT_FOUND || s == reqwest::StatusCode::METHOD_NOT_ALLOWED;
            if !plain {
                tracing::debug!(peer = %to, "POST /swim/ answered {s}");
            }
            state.swim_refused(&to, &msgs, plain)
        }
        Err(e) => {
            tracing::debug!(peer = %to, "POST /swim/ failed: {e}");
            state.swim_failed();
            return;
        }
    };
    dispatch(state, next);
}

/// `POST /swim/`: SWIM's messages from another member; the answer carries
/// the messages for it (see the module documentation).
pub async fn handle(State(s): State<Arc<NodeState>>, req: Request) -> Response {
    match handle_in(&s, req).await {
        Ok(r) => r,
        Err(e) => super::routes::reject(&s, e),
    }
}

async fn handle_in(s: &Arc<NodeState>, req: Request) -> Result<Response, Rejection> {
    let bytes = super::routes::read_json_body(s, req, MAX_SWIM_BODY).await?;
    let env = swire::decode(&bytes, &s.opts.limits)?;
    if env.from == s.url || env.from == s.id {
        return Err(Rejection::new(Reason::InvalidField, "from is this node's own URL"));
    }
    if s.is_dropped(&env.from) {
        return Err(Rejection::new(Reason::Partitioned, "partitioned from the sender by fault injection"));
    }
    NodeMetrics::add(&s.metrics.bytes_in, bytes.len());
    let (replies, sends) = s.swim_in(&env.from, env.messages);
    dispatch(s, sends);
    let out = swire::encode(&s.url, &replies);
    NodeMetrics::add(&s.metrics.bytes_out, out.len());
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], out).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(p: u16) -> Id {
        Arc::from(format!("http://127.0.0.1:{p}").as_str())
    }

    fn side(p: u16, cfg: SwimConfig) -> SwimSide {
        SwimSide::new(Arc::new(cfg), id(p), Rng::new(u64::from(p)), 0, 16)
    }

    /// Run `sides` (by index) for `until` ms over a perfect network,
    /// delivering each request and its answer at once; `down` never
    /// answers, `plain` answers every request with 404.
    fn run(sides: &mut [SwimSide], until: u64, down: Option<usize>, plain: Option<usize>) {
        let url = |i: usize| id(7000 + i as u16);
        let n = sides.len();
        let index = |u: &Id| (0..n).find(|&i| url(i) == *u).unwrap();
        let mut now = 0;
        while now < until {
            for i in 0..sides.len() {
                if Some(i) == down || Some(i) == plain {
                    continue;
                }
                sides[i].tick(now);
                let mut queue: Vec<(usize, SwimSends)> = vec![(i, sides[i].take().0)];
                let mut hops = 0;
                while let Some((from, sends)) = queue.pop() {
                    hops += 1;
                    assert!(hops < 10_000, "bounded");
                    for (to, msgs) in sends {
                        let t = index(&to);
                        if Some(t) == down {
                            continue;
                        }
                        if Some(t) == plain {
                            sides[from].refused(now, &to, &msgs, true);
                        } else {
                            let replies = sides[t].receive(now, &url(from), msgs);
                            queue.push((t, sides[t].take().0));
                            sides[from].answered(now, &to, replies);
                        }
                        queue.push((from, sides[from].take().0));
                    }
                }
            }
            now += 10;
        }
    }

    fn cluster(n: usize, cfg: SwimConfig) -> Vec<SwimSide> {
        let mut sides: Vec<SwimSide> = (0..n).map(|i| side(7000 + i as u16, cfg.clone())).collect();
        for s in sides.iter_mut() {
            for j in 0..n {
                s.introduce(0, &id(7000 + j as u16));
            }
        }
        sides
    }

    #[test]
    fn a_silent_member_is_declared_dead_by_every_other_and_nobody_else_is() {
        let mut sides = cluster(5, SwimConfig::paper());
        run(&mut sides, 30_000, Some(3), None);
        for (i, s) in sides.iter().enumerate().filter(|(i, _)| *i != 3) {
            for (j, e) in (0..5).filter(|&j| j != i).map(|j| (j, s.entry(&id(7000 + j as u16)).unwrap())) {
                let want = if j == 3 { MState::Dead } else { MState::Alive };
                assert_eq!(e.state, want, "member {i} about {j}");
            }
        }
    }

    #[test]
    fn a_plain_member_that_answers_with_404_is_never_declared_dead() {
        let mut sides = cluster(4, SwimConfig::paper());
        // a suspicion of the plain member, as a lost probe would raise
        let mut out = MemberOut::default();
        sides[0].member.apply(Gossip::Suspect { id: id(7003), inc: 0, from: id(7001) }, 0, &mut out);
        run(&mut sides, 30_000, None, Some(3));
        for s in &sides[..3] {
            let e = s.entry(&id(7003)).unwrap();
            assert_eq!(e.state, MState::Alive, "{e:?}");
            assert!(s.view().iter().any(|m| m.url == *id(7003) && m.plain), "seen as plain");
        }
        assert!(sides[0].counters.vouched >= 1);
        assert!(sides[1..3].iter().all(|s| s.entry(&id(7003)).unwrap().inc >= 1), "the vouch spread");
    }

    #[test]
    fn a_member_held_suspect_is_told_in_the_answer_to_its_ping_and_refutes() {
        let mut a = side(7000, SwimConfig::paper());
        let mut b = side(7001, SwimConfig::paper());
        a.introduce(0, &id(7001));
        b.introduce(0, &id(7000));
        let mut out = MemberOut::default();
        a.member.apply(Gossip::Dead { id: id(7001), inc: 0, from: id(7002) }, 0, &mut out);
        let replies = a.receive(5, &id(7001), vec![SwimMsg::Ping { seq: 1, gossip: vec![] }]);
        assert_eq!(replies.len(), 1);
        assert!(replies[0].gossip().contains(&Gossip::Dead { id: id(7001), inc: 0, from: id(7000) }), "{replies:?}");
        b.answered(6, &id(7000), replies);
        assert_eq!(b.member().incarnation(), 1, "refuted");
        // its next ping carries the refutation: a takes it back
        b.tick(b.poll_timeout());
        let (sends, _) = b.take();
        let (to, msgs) = sends.into_iter().next().expect("a ping");
        assert_eq!(to, id(7000));
        a.receive(b.poll_timeout(), &id(7001), msgs);
        assert_eq!(a.entry(&id(7001)).map(|e| (e.state, e.inc)), Some((MState::Alive, 1)));
    }

    #[test]
    fn hostile_ping_reqs_are_not_relayed_and_unknown_members_stop_at_the_cap() {
        let mut a = SwimSide::new(Arc::new(SwimConfig::paper()), id(7000), Rng::new(1), 0, 2);
        for target in [id(7000), id(7001), id(9999)] {
            a.receive(1, &id(7001), vec![SwimMsg::PingReq { seq: 1, target, gossip: vec![] }]);
            assert!(a.take().0.is_empty(), "not relayed");
        }
        let flood: Vec<Gossip<Id>> = (0..50).map(|p| Gossip::Alive { id: id(8000 + p), inc: 0 }).collect();
        a.receive(2, &id(7002), vec![SwimMsg::Ping { seq: 2, gossip: flood }]);
        assert_eq!(a.member().known(), 2, "the cap holds");
    }
}
