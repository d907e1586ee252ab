//! SWIM membership and failure detection (Das, Gupta, Motivala, DSN 2002),
//! with Lifeguard's three refinements as options (Dadgar, Phillips,
//! Currey 2018), as one sans-IO unit: its messages ([`SwimMsg`], with the
//! piggybacked [`Gossip`]), its timers ([`SwimTimer`]), its configuration
//! ([`SwimConfig`]: [`SwimConfig::paper`], [`SwimConfig::memberlist_lan`])
//! and its rules ([`Swim`], a [`Membership`]).
//!
//! Rules, as the paper states them:
//!
//! * Each protocol period a member pings one member. Without an ack within
//!   the probe timeout it asks `k` random members to `PingReq` the target;
//!   a helper pings the target and forwards its ack. Without any ack by the
//!   end of the period the target is suspected (with suspicion on) or
//!   declared failed (basic SWIM).
//! * Targets are taken round-robin over a shuffled list, reshuffled after
//!   each pass. The list is not stored: a pass is a keyed pseudo-random
//!   permutation of member indices `[0, m)` (a four-round Feistel network on
//!   the smallest even bit width covering `m`, cycle-walking values `>= m`
//!   back into range), keyed from the member's RNG at the start of each
//!   pass. Walking it visits every index exactly once, which is what a
//!   shuffled list gives; members believed dead and the member itself are
//!   skipped. A member learned during a pass (a joiner) is inserted at a
//!   pseudo-random position among the probes left in the pass (as the
//!   paper inserts it at a random position of the list), and belongs to
//!   the permutation from the next pass on.
//! * Updates (`Alive`, `Suspect`, `Dead` = the paper's Confirm, each with an
//!   incarnation number) ride on pings, ping-reqs and acks, each at most
//!   `λ·log n` times, fewest-sent first (newest first among equals).
//! * Precedence: `Alive(i)` beats `Suspect(j)` and `Alive(j)` when `i > j`;
//!   `Suspect(i)` beats `Suspect(j)` when `i > j` and `Alive(j)` when
//!   `i >= j`. Only a member raises its own incarnation, to refute a
//!   `Suspect` or `Dead` about itself. The paper lets `Dead` (its Confirm)
//!   beat both at any incarnation and makes a confirmed member rejoin under
//!   a new identity; here, as in memberlist, `Dead(i)` beats `Alive(j)` and
//!   `Suspect(j)` when `i >= j`, and an `Alive` with a higher incarnation
//!   than a `Dead` revives the member. A confirmation of an incarnation
//!   the member already refuted is stale: under the paper's rule a single
//!   late confirmation (from a member whose suspicion timed out before the
//!   refutation reached it) re-kills a member everyone else had taken back.
//!
//! Lifeguard (each part on its own switch):
//!
//! * local health multiplier ([`SwimConfig::lhm`]): a saturating score in
//!   `[0, lhm_max]`, +1 for a failed probe, +1 for a probe whose helpers'
//!   nacks went missing, +1 for refuting a suspicion about oneself, −1 for a
//!   successful probe; the probe interval (and, as in the paper but not in
//!   memberlist, the probe timeout) is multiplied by `score + 1`. Helpers
//!   that get no ack from the target send a `Nack` at 80 % of the timeout.
//! * local-health-aware suspicion ([`SwimConfig::lha_suspicion`]): a
//!   suspicion starts at `Max` and shrinks with each independent
//!   confirmation `C` to `max(Min, Max − (Max − Min)·log(C+1)/log(K+1))`.
//! * the buddy system ([`SwimConfig::buddy`]): a ping to a member held as
//!   suspect carries that suspicion, so the member can refute at once.
//!
//! Logarithms ([`Scale`]): the paper uses `⌈ln(n+1)⌉` for the piggyback
//! limit and the suspicion timeout; memberlist uses `⌈log10(n+1)⌉` for the
//! retransmit limit and `max(1, log10 n)` for the suspicion minimum (its
//! comments say `log(N+1)`). `n` is the number of members the member
//! believes alive. The float logarithms are of whole numbers and end up
//! rounded to milliseconds.
//!
//! Memory: a member does not hold the membership list. Everyone starts from
//! a shared baseline ([`Roll`]: in the simulator the roster at the start,
//! [`Span`]), all alive at incarnation 0; a member keeps only the entries it
//! changed (suspect, dead, a higher incarnation, a member learned later),
//! the updates it is still piggybacking, and its open suspicions and probes.
//! The updates it piggybacks are held on a [`Board`]: its own copies
//! ([`Owned`], the native node), or handles into a table that a driver
//! running many members shares among them (the simulator). A suspicion
//! keeps only its timeout (32-bit) beside the suspect's entry (which holds
//! its incarnation and start). An entry is stored with its id in one
//! record, 8 bytes for 4-byte ids ([`Entry`] packed in 4: time,
//! incarnation and state; one that does not fit is held whole aside); the
//! records and the
//! piggyback queue grow four at a time (every member's grow alike as an
//! update spreads: grown one at a time, the blocks they outgrew were left
//! as allocator holes), suspicions and relays are boxed slices exactly as
//! long as they hold, and the counters are kept 32-bit (a simulator holds
//! 100,000 members: each is at most 256 bytes). The
//! methods ending in `_on` take the board; the others are those of a
//! member on [`Owned`].

use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::{MemberEvent, MemberOut, Membership};
use crate::core::peers::Peers;
use crate::rng::{mix64, Rng};

/// The shared baseline membership every member starts from (everyone alive
/// at incarnation 0).
pub trait Roll<Id> {
    /// How many members it lists.
    fn len(&self) -> u32;
    /// Whether it lists none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Member `i` (`i < len`).
    fn get(&self, i: u32) -> Id;
    /// The index of `id`, if listed.
    fn position(&self, id: &Id) -> Option<u32>;
}

/// Members `0..n` (the simulator's roster at the start of a run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span(pub u32);

impl Roll<u32> for Span {
    #[inline]
    fn len(&self) -> u32 {
        self.0
    }
    #[inline]
    fn get(&self, i: u32) -> u32 {
        i
    }
    #[inline]
    fn position(&self, id: &u32) -> Option<u32> {
        (*id < self.0).then_some(*id)
    }
}

/// A shared sorted list of members (for drivers whose ids are not indices).
#[derive(Clone, Debug)]
pub struct Listed<Id>(pub Arc<[Id]>);

impl<Id: Clone + Ord> Listed<Id> {
    /// The list of `ids`, sorted and without repeats.
    pub fn new(mut ids: Vec<Id>) -> Self {
        ids.sort();
        ids.dedup();
        Listed(ids.into())
    }
}

impl<Id: Clone + Ord> Roll<Id> for Listed<Id> {
    fn len(&self) -> u32 {
        self.0.len() as u32
    }
    fn get(&self, i: u32) -> Id {
        self.0[i as usize].clone()
    }
    fn position(&self, id: &Id) -> Option<u32> {
        self.0.binary_search(id).ok().map(|i| i as u32)
    }
}

/// Which logarithm the formulas use (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// The paper: `⌈ln(n+1)⌉` for both.
    Paper,
    /// memberlist: `⌈log10(n+1)⌉` retransmits, `max(1, log10 n)` suspicion.
    Memberlist,
}

impl Scale {
    /// `⌈log(n+1)⌉` for the retransmit limit.
    fn log_retransmit(self, n: u32) -> f64 {
        match self {
            Scale::Paper => (f64::from(n) + 1.0).ln().ceil(),
            Scale::Memberlist => (f64::from(n) + 1.0).log10().ceil(),
        }
    }

    /// Where `Scale::log_retransmit` steps up: the `k`-th value is the
    /// least `n` whose logarithm is `k + 1` (23 steps for `ln` up to 2^32
    /// members, 10 for `log10`), found once by bisecting the formula
    /// itself, so that the retransmit limit is the number of steps at or
    /// below `n` and equals the formula's for every `n`.
    pub fn retransmit_steps(self) -> &'static [u32] {
        static PAPER: OnceLock<Vec<u32>> = OnceLock::new();
        static MEMBERLIST: OnceLock<Vec<u32>> = OnceLock::new();
        let cell = match self {
            Scale::Paper => &PAPER,
            Scale::Memberlist => &MEMBERLIST,
        };
        cell.get_or_init(|| {
            let top = self.log_retransmit(u32::MAX) as u32;
            (1..=top)
                .map(|k| {
                    // the least n in [0, u32::MAX] with log(n) >= k (32 halvings)
                    let (mut lo, mut hi) = (0u64, u64::from(u32::MAX));
                    while lo < hi {
                        let mid = (lo + hi) / 2;
                        if self.log_retransmit(mid as u32) >= f64::from(k) {
                            hi = mid;
                        } else {
                            lo = mid + 1;
                        }
                    }
                    lo as u32
                })
                .collect()
        })
    }
}

/// SWIM's parameters (and Lifeguard's switches).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwimConfig {
    /// The protocol period T′, ms.
    pub probe_interval_ms: u64,
    /// How long to wait for a direct ack before asking helpers, ms.
    pub probe_timeout_ms: u64,
    /// `k`: helpers asked to ping a target that did not ack.
    pub indirect_checks: u32,
    /// Suspect before declaring failed (false: basic SWIM declares at once).
    pub suspicion: bool,
    /// Suspicion timeout (the minimum with Lifeguard) = `suspicion_mult ×
    /// log(n) × probe interval`.
    pub suspicion_mult: u32,
    /// Lifeguard's maximum suspicion timeout = `suspicion_max_mult × minimum`.
    pub suspicion_max_mult: u32,
    /// Lifeguard's `K`: independent confirmations that bring the timeout to
    /// its minimum.
    pub suspicion_k: u32,
    /// λ: each update is piggybacked at most `λ × log(n)` times.
    pub retransmit_mult: u32,
    /// Most updates one message carries.
    pub max_piggyback: usize,
    /// Which logarithms.
    pub scale: Scale,
    /// Lifeguard: the local health multiplier (and nacks).
    pub lhm: bool,
    /// The local health score's ceiling S.
    pub lhm_max: u8,
    /// Lifeguard (paper): scale the probe timeout with the health too
    /// (memberlist scales only the interval).
    pub lhm_scales_timeout: bool,
    /// Lifeguard: local-health-aware suspicion (shrinking timeouts).
    pub lha_suspicion: bool,
    /// Lifeguard: the buddy system.
    pub buddy: bool,
}

impl SwimConfig {
    /// The paper's SWIM with suspicion, as in its experiments: T′ = 1 s
    /// here (the paper's 2 s scaled to the lab's default interval), ping
    /// timeout 500 ms, k = 3, piggyback limit and suspicion timeout
    /// `3⌈ln(n+1)⌉`, no Lifeguard.
    pub fn paper() -> Self {
        SwimConfig {
            probe_interval_ms: 1000,
            probe_timeout_ms: 500,
            indirect_checks: 3,
            suspicion: true,
            suspicion_mult: 3,
            suspicion_max_mult: 6,
            suspicion_k: 3,
            retransmit_mult: 3,
            max_piggyback: 16,
            scale: Scale::Paper,
            lhm: false,
            lhm_max: 8,
            lhm_scales_timeout: true,
            lha_suspicion: false,
            buddy: false,
        }
    }

    /// The paper's SWIM with all three Lifeguard parts, the paper's
    /// parameters (S = 8, K = 3, β = 6, timeout scaled).
    pub fn lifeguard() -> Self {
        SwimConfig { lhm: true, lha_suspicion: true, buddy: true, ..SwimConfig::paper() }
    }

    /// hashicorp/memberlist's `DefaultLANConfig`: probe 1 s, timeout 500 ms,
    /// 3 indirect checks, RetransmitMult 4, SuspicionMult 4,
    /// SuspicionMaxTimeoutMult 6, AwarenessMaxMultiplier 8 (score ≤ 7),
    /// K = SuspicionMult − 2, log10 formulas, the timeout not scaled by
    /// health, Lifeguard on. (Its gossip every 200 ms to 3 members and its
    /// 30 s push-pull are not modelled: updates ride on probes only.)
    pub fn memberlist_lan() -> Self {
        SwimConfig {
            probe_interval_ms: 1000,
            probe_timeout_ms: 500,
            indirect_checks: 3,
            suspicion: true,
            suspicion_mult: 4,
            suspicion_max_mult: 6,
            suspicion_k: 2,
            retransmit_mult: 4,
            max_piggyback: 16,
            scale: Scale::Memberlist,
            lhm: true,
            lhm_max: 7,
            lhm_scales_timeout: false,
            lha_suspicion: true,
            buddy: true,
        }
    }

    /// Check the parameters; the error names the one that is wrong.
    pub fn check(&self) -> Result<(), SwimConfigError> {
        let bad = |name: &'static str, why: &'static str| Err(SwimConfigError { param: name, reason: why });
        if self.probe_interval_ms == 0 {
            return bad("probe_interval_ms", "must be at least 1");
        }
        if self.probe_timeout_ms == 0 || self.probe_timeout_ms >= self.probe_interval_ms {
            return bad("probe_timeout_ms", "must be at least 1 and shorter than the probe interval");
        }
        if self.suspicion && self.suspicion_mult == 0 {
            return bad("suspicion_mult", "must be at least 1");
        }
        if self.lha_suspicion && self.suspicion_max_mult == 0 {
            return bad("suspicion_max_mult", "must be at least 1");
        }
        if self.retransmit_mult == 0 || self.retransmit_mult > 100 {
            // (a member counts an update's sends in 12 bits: at most
            // 100 x 23, the logarithm of 2^32 members, fit)
            return bad("retransmit_mult", "must be between 1 and 100");
        }
        if self.lha_suspicion && !self.suspicion {
            return bad("lifeguard", "local-health-aware suspicion needs suspicion on");
        }
        Ok(())
    }

    /// `log(n)` for the suspicion timeout.
    fn log_suspicion(&self, n: u32) -> f64 {
        match self.scale {
            Scale::Paper => (f64::from(n) + 1.0).ln().ceil(),
            Scale::Memberlist => f64::from(n.max(1)).log10().max(1.0),
        }
    }

    /// How many times an update is piggybacked in a group of `n` (asked at
    /// every send: the logarithm is read off [`Scale::retransmit_steps`]).
    pub fn retransmit_limit(&self, n: u32) -> u32 {
        let log = self.scale.retransmit_steps().partition_point(|&first| first <= n);
        self.retransmit_mult.saturating_mul(log as u32).max(1)
    }

    /// The suspicion timeout in a group of `n` after `confirmations`
    /// independent confirmations, ms.
    pub fn suspicion_timeout(&self, n: u32, confirmations: u32) -> u64 {
        let min = f64::from(self.suspicion_mult) * self.log_suspicion(n) * self.probe_interval_ms as f64;
        if !self.lha_suspicion || self.suspicion_k == 0 {
            return min.round() as u64;
        }
        let max = f64::from(self.suspicion_max_mult) * min;
        let c = f64::from(confirmations.min(self.suspicion_k));
        let frac = (c + 1.0).ln() / (f64::from(self.suspicion_k) + 1.0).ln();
        (max - (max - min) * frac).max(min).round() as u64
    }
}

/// A SWIM parameter that is out of its range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwimConfigError {
    /// The parameter.
    pub param: &'static str,
    /// Why.
    pub reason: &'static str,
}

impl std::fmt::Display for SwimConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.param, self.reason)
    }
}

impl std::error::Error for SwimConfigError {}

/// A membership update, piggybacked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Gossip<Id> {
    /// `id` is alive at `inc`.
    Alive { id: Id, inc: u32 },
    /// `from` suspects `id` at `inc`.
    Suspect { id: Id, inc: u32, from: Id },
    /// `from` declared `id` failed (the paper's Confirm).
    Dead { id: Id, inc: u32, from: Id },
}

impl<Id> Gossip<Id> {
    /// The member it is about.
    pub fn id(&self) -> &Id {
        match self {
            Gossip::Alive { id, .. } | Gossip::Suspect { id, .. } | Gossip::Dead { id, .. } => id,
        }
    }
}

/// SWIM's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwimMsg<Id> {
    /// Are you alive? Answer `Ack(seq)` to the sender.
    Ping { seq: u32, gossip: Vec<Gossip<Id>> },
    /// Ping `target` for me and forward its ack as `Ack(seq)`.
    PingReq { seq: u32, target: Id, gossip: Vec<Gossip<Id>> },
    /// The answer to `Ping(seq)` (or a helper forwarding one).
    Ack { seq: u32, gossip: Vec<Gossip<Id>> },
    /// Lifeguard: a helper got no ack for `PingReq(seq)` in time.
    Nack { seq: u32 },
}

impl<Id> SwimMsg<Id> {
    /// The updates it carries.
    pub fn gossip(&self) -> &[Gossip<Id>] {
        match self {
            SwimMsg::Ping { gossip, .. } | SwimMsg::PingReq { gossip, .. } | SwimMsg::Ack { gossip, .. } => gossip,
            SwimMsg::Nack { .. } => &[],
        }
    }
}

/// Where the updates a member is piggybacking are held. The rules keep
/// handles in the member's queue (with their send counts) and call the
/// board for the update behind one: [`Owned`] is each member holding its
/// own copies (the native node); a driver running many members in one
/// process can share one table among them (the simulator's
/// `sim::swim::Circulating`: most members hold the same few updates, and a
/// handle is 4 bytes where an update is 16 or more).
pub trait Board<Id> {
    /// What a member's queue holds for one update.
    type Handle: Clone + Debug;
    /// Hold `g` once more; its handle.
    fn hold(&mut self, g: Gossip<Id>) -> Self::Handle;
    /// The update behind `h`.
    fn get<'a>(&'a self, h: &'a Self::Handle) -> &'a Gossip<Id>;
    /// Hold `h` once less (a member let it go).
    fn release(&mut self, h: Self::Handle);
    /// An empty list for the updates a message will carry: a new one, or
    /// one [`Board::recycle`] kept (its capacity changes nothing).
    #[inline]
    fn list(&mut self) -> Vec<Gossip<Id>> {
        Vec::new()
    }
    /// The list of a message whose updates were taken: the board may keep
    /// it for [`Board::list`] (dropped by default).
    #[inline]
    fn recycle(&mut self, _list: Vec<Gossip<Id>>) {}
}

/// Each member holds its own updates (the handle is the update).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owned;

impl<Id: Clone + Debug> Board<Id> for Owned {
    type Handle = Gossip<Id>;
    #[inline]
    fn hold(&mut self, g: Gossip<Id>) -> Gossip<Id> {
        g
    }
    #[inline]
    fn get<'a>(&'a self, h: &'a Gossip<Id>) -> &'a Gossip<Id> {
        h
    }
    #[inline]
    fn release(&mut self, _h: Gossip<Id>) {}
}

/// A member's state as another member holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Believed alive.
    Alive,
    /// Suspected.
    Suspect,
    /// Declared failed.
    Dead,
}

/// What a member holds about another one that differs from the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its state.
    pub state: State,
    /// Its incarnation.
    pub inc: u32,
    /// When this member last changed it, ms.
    pub since: u64,
}

/// An [`Entry`] as a member stores it, beside its id, packed in 32 bits
/// (a record of a 4-byte id is 8 bytes): the time in the low 27 bits (37
/// hours of milliseconds), the incarnation in the next 3, the state in the
/// top two. An entry whose time or incarnation does not fit (a time from
/// 2^27 ms, an incarnation from 8) is marked wide (state bits `3`) and held
/// whole in the member's rare parts, sorted by id, so that every entry
/// reads back exactly (a time beyond `2^62` ms is held at that, as
/// before). A member holds one record per entry that differs from the
/// baseline: at 100,000 members about 22 each at the peak of a run, with
/// times of at most 100 s and incarnations 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rec<Id> {
    id: Id,
    v: u32,
}

impl<Id> Rec<Id> {
    /// The latest time an entry holds, ms.
    const MAX_SINCE: u64 = (1 << 62) - 1;
    /// Bits of the time in a packed entry.
    const SINCE_BITS: u32 = 27;
    /// Bits of the incarnation in a packed entry.
    const INC_BITS: u32 = 3;
    /// The packed value of an entry held whole in the rare parts.
    const WIDE: u32 = 3 << 30;

    /// `e` packed, or `None` if it does not fit (see [`Rec`]).
    fn pack(e: &Entry) -> Option<u32> {
        let since = e.since.min(Self::MAX_SINCE);
        if since >> Self::SINCE_BITS != 0 || e.inc >> Self::INC_BITS != 0 {
            return None;
        }
        let state: u32 = match e.state {
            State::Alive => 0,
            State::Suspect => 1,
            State::Dead => 2,
        };
        Some(state << 30 | e.inc << Self::SINCE_BITS | since as u32)
    }

    /// Whether the entry is held whole in the rare parts.
    #[inline]
    fn is_wide(&self) -> bool {
        self.v >> 30 == 3
    }

    /// The entry, if packed here (`None`: wide).
    #[inline]
    fn unpack(&self) -> Option<Entry> {
        let state = match self.v >> 30 {
            0 => State::Alive,
            1 => State::Suspect,
            2 => State::Dead,
            _ => return None,
        };
        let inc = self.v >> Self::SINCE_BITS & ((1 << Self::INC_BITS) - 1);
        Some(Entry { state, inc, since: u64::from(self.v & ((1 << Self::SINCE_BITS) - 1)) })
    }
}

/// SWIM's timers, in the order they are handled when several are due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwimTimer {
    /// The direct ping's timeout: ask helpers.
    Indirect,
    /// A helper's nack deadline or the end of its relay.
    Relay,
    /// A suspicion's timeout.
    Suspicion,
    /// The end of the protocol period: judge the probe, start the next.
    Probe,
}

/// Counters of one member (the simulator sums them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwimCounters {
    /// Probes started.
    pub probes: u64,
    /// Probes that ended without any ack.
    pub failed_probes: u64,
    /// Failed probes that made this member suspect (or confirm a suspicion
    /// of) the target.
    pub suspicions: u64,
    /// Times this member refuted a suspicion or confirmation of itself.
    pub refutations: u64,
    /// Pings sent (direct and on behalf of others).
    pub pings: u64,
    /// Acks sent (answers and forwarded ones).
    pub acks: u64,
    /// PingReqs sent.
    pub ping_reqs: u64,
    /// Nacks sent.
    pub nacks: u64,
}

/// [`SwimCounters`] as a member keeps them: 32 bits each, which a member's
/// counts fit for over a hundred years of one-second periods, and 32 bytes
/// less per member where a simulator holds 100,000 of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    probes: u32,
    failed_probes: u32,
    suspicions: u32,
    refutations: u32,
    pings: u32,
    acks: u32,
    ping_reqs: u32,
    nacks: u32,
}

impl From<Counts> for SwimCounters {
    fn from(c: Counts) -> Self {
        SwimCounters {
            probes: c.probes.into(),
            failed_probes: c.failed_probes.into(),
            suspicions: c.suspicions.into(),
            refutations: c.refutations.into(),
            pings: c.pings.into(),
            acks: c.acks.into(),
            ping_reqs: c.ping_reqs.into(),
            nacks: c.nacks.into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Probe<Id> {
    target: Id,
    seq: u32,
    timeout_at: u64,
    acked: bool,
    indirect: bool,
    nacks_expected: u32,
    nacks: u32,
}

#[derive(Clone, Debug)]
struct Relay<Id> {
    seq: u32,
    origin: Id,
    origin_seq: u32,
    /// When to nack (`u64::MAX`: done or off).
    nack_at: u64,
    expires: u64,
}

/// An open suspicion: its incarnation and start are the suspect's entry's
/// (`inc`, `since`: the entry is set when the suspicion opens and any later
/// change of the entry closes it), so only its timeout is kept here, as
/// 32-bit milliseconds: its deadline is the entry's `since + wait` (8 bytes
/// for 4-byte ids; a timeout beyond `u32::MAX` ms, 49.7 days, is held at
/// that).
#[derive(Clone, Debug)]
struct Suspicion<Id> {
    id: Id,
    wait: u32,
}

impl<Id> Suspicion<Id> {
    /// The suspicion of `id` opened with `timeout`.
    fn new(id: Id, timeout: u64) -> Self {
        Suspicion { id, wait: u32::try_from(timeout).unwrap_or(u32::MAX) }
    }
}

/// What few members hold, behind one pointer that stays null until used:
/// members learned after the start, joiners waiting in the current pass,
/// and Lifeguard's confirmers.
#[derive(Clone, Debug)]
struct Rare<Id> {
    /// Members beyond the baseline, in the order learned.
    extra: Vec<Id>,
    /// Members learned during the current pass, and how many more probes of
    /// the pass come before theirs.
    joining: Vec<(Id, u32)>,
    /// Lifeguard: per open suspicion, the members whose suspicion counted
    /// (the first suspector included).
    confirmers: Vec<(Id, Vec<Id>)>,
    /// Entries whose time or incarnation does not fit a record (see
    /// [`Rec`]), sorted by id.
    wide: Vec<(Id, Entry)>,
}

impl<Id> Default for Rare<Id> {
    fn default() -> Self {
        Rare { extra: Vec::new(), joining: Vec::new(), confirmers: Vec::new(), wide: Vec::new() }
    }
}

/// An update waiting to be piggybacked: its handle and, in one 32-bit key,
/// how many times it was sent (the top [`SENT_BITS`]) and its insertion
/// order (the low [`STAMP_BITS`], counted down: a newer update has a
/// smaller key), so that the queue's order, fewest-sent first and newest
/// first among equals, is the keys' order (8 bytes a queued update on a
/// shared board, 12 before).
#[derive(Clone, Debug)]
struct Queued<H> {
    /// The update, on the member's [`Board`].
    h: H,
    key: u32,
}

/// Bits of a [`Queued`] key that count sends (at most 4,095: the retransmit
/// limit is kept under it, see [`SwimConfig::check`]; a count there stays).
const SENT_BITS: u32 = 12;
/// Bits of a [`Queued`] key that hold its insertion stamp.
const STAMP_BITS: u32 = 32 - SENT_BITS;
/// The largest stamp (a member's stamps are renumbered before it).
const STAMP_MAX: u32 = (1 << STAMP_BITS) - 1;

impl<H> Queued<H> {
    /// Sent so far.
    #[inline]
    fn sent(&self) -> u32 {
        self.key >> STAMP_BITS
    }

    /// Its insertion stamp.
    #[inline]
    fn stamp(&self) -> u32 {
        STAMP_MAX - (self.key & STAMP_MAX)
    }

    /// Count one more send (held at the most the key counts).
    #[inline]
    fn count_send(&mut self) {
        if self.sent() < (1 << SENT_BITS) - 1 {
            self.key += 1 << STAMP_BITS;
        }
    }
}

/// A pass over `[0, size)` in a keyed pseudo-random order (see the module
/// documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    key: u64,
    pos: u32,
    size: u32,
    half: u32,
}

impl Pass {
    /// A new pass over `[0, size)` keyed by `key`.
    pub fn new(size: u32, key: u64) -> Self {
        let bits = 32 - size.saturating_sub(1).leading_zeros();
        let half = bits.div_ceil(2).max(1);
        Pass { key, pos: 0, size, half }
    }

    /// The permutation's image of `x` (`x < size`).
    pub fn permute(&self, x: u32) -> u32 {
        let mask = (1u64 << self.half) - 1;
        let mut v = u64::from(x);
        loop {
            let (mut l, mut r) = (v >> self.half, v & mask);
            for round in 0..4u64 {
                let f = mix64(self.key ^ (round << 56) ^ r) & mask;
                (l, r) = (r, l ^ f);
            }
            v = l << self.half | r;
            if v < u64::from(self.size) {
                return v as u32;
            }
        }
    }
}

/// The indices of the pass, in its order; `None` when it is over.
impl Iterator for Pass {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.pos >= self.size {
            return None;
        }
        self.pos += 1;
        Some(self.permute(self.pos - 1))
    }
}

/// Change a boxed slice as a vector, growing it by exactly what is added
/// (a member's suspicions and relays are boxed slices exactly as long as
/// they hold: 8 bytes less per member than a vector's header, no spare
/// room, and an emptied one holds no memory).
fn edit<T, R>(b: &mut Box<[T]>, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
    let mut v = std::mem::take(b).into_vec();
    let r = f(&mut v);
    *b = v.into_boxed_slice();
    r
}

/// How many elements a member's changed entries and piggyback queue grow by
/// at a time.
const STEP: usize = 4;

/// Make room in `v` for one more element, growing it to the next multiple
/// of [`STEP`]. Every member's entries and queue grow alike as updates
/// spread: grown one at a time, each step leaves the block it outgrew
/// behind (freed, but rarely of a size asked for again: allocator holes);
/// grown by four, a quarter as many steps, at most three spare.
fn room_for_one<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() {
        v.reserve_exact(STEP - v.len() % STEP);
    }
}

/// Most cache lines of each heap block [`Swim::prefetch_heap`] asks for.
const HEAP_LINES: usize = 8;

/// One SWIM member; see the module documentation. `B` is where its
/// piggybacked updates are held ([`Board`]): the methods without a board
/// argument are those of a member holding its own ([`Owned`]).
#[derive(Clone, Debug)]
pub struct Swim<Id, R = Span, B: Board<Id> = Owned> {
    cfg: Arc<SwimConfig>,
    roll: R,
    me: Id,
    incarnation: u32,
    /// The entries that differ from the baseline, sorted by id, each with
    /// its id in one record (8 bytes for 4-byte ids; grown four at a
    /// time: see [`room_for_one`]).
    recs: Vec<Rec<Id>>,
    /// Joiners, joining, confirmers and wide entries (`None` while all are
    /// empty).
    rare: Option<Box<Rare<Id>>>,
    /// Entries in state `Dead`.
    dead: u32,
    queue: Vec<Queued<B::Handle>>,
    board: PhantomData<fn(B)>,
    stamp: u32,
    suspicions: Box<[Suspicion<Id>]>,
    /// The earliest deadline of `suspicions` (kept with them: the driver
    /// asks for the next timeout after every event; `u64::MAX`: none).
    suspicion_due: u64,
    relays: Box<[Relay<Id>]>,
    probe: Option<Probe<Id>>,
    pass: Pass,
    next_probe: u64,
    seq: u32,
    lhm: u8,
    /// Its counters, 32-bit (see [`Counts`]).
    counts: Counts,
}

impl<Id: Clone + Ord + Debug, R: Roll<Id>> Swim<Id, R, Owned> {
    /// Member `me` of baseline `roll`, its first period starting at `start`
    /// (a driver spreads members' phases by drawing `start`). A member not
    /// in the baseline (a joiner) announces itself on its first messages.
    pub fn new(cfg: Arc<SwimConfig>, roll: R, me: Id, start: u64) -> Self {
        Self::new_on(&mut Owned, cfg, roll, me, start)
    }

    /// The same member restarted without its state at incarnation `inc`
    /// (above any it had): it announces itself, so that members holding it
    /// suspect or dead take it back.
    pub fn restarted(self, inc: u32) -> Self {
        self.restarted_on(&mut Owned, inc)
    }

    /// Gossip `Alive` about itself at its current incarnation again, for a
    /// driver that learned some member still holds an older suspicion or
    /// declaration of it (the refutation it sent may have been lost).
    pub fn announce(&mut self) {
        self.announce_on(&mut Owned);
    }

    /// Apply an update heard (or made) at `now`; returns whether it changed
    /// what this member holds.
    pub fn apply(&mut self, g: Gossip<Id>, now: u64, out: &mut MemberOut<Id, SwimMsg<Id>>) -> bool {
        self.apply_on(&mut Owned, g, now, out)
    }
}

impl<Id: Clone + Ord, R: Roll<Id>, B: Board<Id>> Swim<Id, R, B> {
    /// [`Swim::new`] with its updates on board `b`.
    pub fn new_on(b: &mut B, cfg: Arc<SwimConfig>, roll: R, me: Id, start: u64) -> Self {
        let mut s = Swim {
            cfg,
            roll,
            me: me.clone(),
            incarnation: 0,
            recs: Vec::new(),
            rare: None,
            dead: 0,
            queue: Vec::new(),
            board: PhantomData,
            stamp: 0,
            suspicions: Box::default(),
            suspicion_due: u64::MAX,
            relays: Box::default(),
            probe: None,
            pass: Pass::default(),
            next_probe: start,
            seq: 0,
            lhm: 0,
            counts: Counts::default(),
        };
        if s.roll.position(&me).is_none() {
            s.enqueue(b, Gossip::Alive { id: me, inc: 0 });
        }
        s
    }

    /// [`Swim::restarted`] with its updates on board `b`.
    pub fn restarted_on(mut self, b: &mut B, inc: u32) -> Self {
        self.incarnation = inc;
        self.enqueue(b, Gossip::Alive { id: self.me.clone(), inc });
        self
    }

    /// [`Swim::announce`] with its updates on board `b`.
    pub fn announce_on(&mut self, b: &mut B) {
        self.enqueue(b, Gossip::Alive { id: self.me.clone(), inc: self.incarnation });
    }

    /// Let go of every update it holds on board `b` (before a driver drops
    /// or replaces a member whose board is shared).
    pub fn release_on(&mut self, b: &mut B) {
        for q in std::mem::take(&mut self.queue) {
            b.release(q.h);
        }
    }

    /// Its id.
    pub fn id(&self) -> &Id {
        &self.me
    }

    /// Its own incarnation.
    pub fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// Its counters.
    pub fn counters(&self) -> SwimCounters {
        self.counts.into()
    }

    /// Its local health score (0: healthy).
    pub fn health(&self) -> u8 {
        self.lhm
    }

    /// What it holds about `id` (`None`: a member it does not know).
    pub fn entry(&self, id: &Id) -> Option<Entry> {
        match self.recs.binary_search_by(|r| r.id.cmp(id)) {
            Ok(at) => Some(self.read(&self.recs[at])),
            Err(_) => self.roll.position(id).map(|_| Entry { state: State::Alive, inc: 0, since: 0 }),
        }
    }

    /// The entries that differ from the baseline.
    pub fn changed(&self) -> impl Iterator<Item = (&Id, Entry)> {
        self.recs.iter().map(|r| (&r.id, self.read(r)))
    }

    /// The entry of record `r` (from the rare parts if wide).
    #[inline]
    fn read(&self, r: &Rec<Id>) -> Entry {
        r.unpack().unwrap_or_else(|| self.wide(&r.id))
    }

    /// The wide entry of `id` (see [`Rec`]).
    #[cold]
    fn wide(&self, id: &Id) -> Entry {
        let wide = self.rare.as_deref().map_or(&[][..], |r| &r.wide[..]);
        let at = wide.binary_search_by(|w| w.0.cmp(id));
        at.map_or(Entry { state: State::Alive, inc: 0, since: 0 }, |at| wide[at].1)
    }

    /// Members it believes alive or suspect, itself included.
    pub fn believed_alive(&self) -> u32 {
        self.size().saturating_sub(self.dead).max(1)
    }

    /// A cache hint for drivers that hold many members: start loading the
    /// heap blocks its next event is likely to read (its changed entries,
    /// piggyback queue and suspicions). No behaviour.
    #[inline]
    pub fn prefetch_heap(&self) {
        // whole blocks (a few lines each): an update heard is looked up by
        // a binary search over the ids, then read from any line of the
        // entries, which missed more often than any other load of a run
        crate::hint::prefetch_slice(&self.recs, HEAP_LINES);
        crate::hint::prefetch_slice(&self.queue, HEAP_LINES);
        crate::hint::prefetch_slice(&self.suspicions, HEAP_LINES);
    }

    /// How many members it knows: the baseline (itself included if listed
    /// there) and those learned since, those believed dead included.
    pub fn known(&self) -> u32 {
        self.size()
    }

    /// Every member it knows other than itself, with what it holds about
    /// each, baseline first then in the order learned (a driver's view for
    /// people: the native node's `/state`).
    pub fn members(&self) -> impl Iterator<Item = (Id, Entry)> + '_ {
        (0..self.size()).map(|i| self.member(i)).filter(|id| *id != self.me).filter_map(|id| {
            let e = self.entry(&id)?;
            Some((id, e))
        })
    }

    /// Updates waiting to be piggybacked.
    pub fn pending_gossip(&self) -> usize {
        self.queue.len()
    }

    fn size(&self) -> u32 {
        self.roll.len() + self.extra().len() as u32
    }

    /// Members beyond the baseline, in the order learned.
    fn extra(&self) -> &[Id] {
        self.rare.as_deref().map_or(&[], |r| &r.extra)
    }

    /// The rare parts, made on first use.
    fn rare(&mut self) -> &mut Rare<Id> {
        self.rare.get_or_insert_with(Box::default)
    }

    fn member(&self, i: u32) -> Id {
        let base = self.roll.len();
        if i < base {
            self.roll.get(i)
        } else {
            self.extra()[(i - base) as usize].clone()
        }
    }

    fn state_of(&self, id: &Id) -> Option<State> {
        self.entry(id).map(|e| e.state)
    }

    fn multiplier(&self) -> u64 {
        if self.cfg.lhm {
            u64::from(self.lhm) + 1
        } else {
            1
        }
    }

    fn health_up(&mut self) {
        if self.cfg.lhm {
            self.lhm = (self.lhm + 1).min(self.cfg.lhm_max);
        }
    }

    fn health_down(&mut self) {
        self.lhm = self.lhm.saturating_sub(1);
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// When the timer `t` is next due (`None`: not armed).
    pub fn due(&self, t: SwimTimer) -> Option<u64> {
        match t {
            SwimTimer::Probe => Some(self.next_probe),
            SwimTimer::Indirect => self.probe.as_ref().filter(|p| !p.acked && !p.indirect).map(|p| p.timeout_at),
            SwimTimer::Relay => self.relays.iter().map(|r| r.nack_at.min(r.expires)).min(),
            SwimTimer::Suspicion => (self.suspicion_due != u64::MAX).then_some(self.suspicion_due),
        }
    }

    // ---- dissemination ----

    fn enqueue(&mut self, b: &mut B, g: Gossip<Id>) {
        self.queue.retain(|q| {
            let keep = b.get(&q.h).id() != g.id();
            if !keep {
                b.release(q.h.clone());
            }
            keep
        });
        if self.stamp >= STAMP_MAX {
            self.renumber();
        }
        self.stamp += 1;
        room_for_one(&mut self.queue);
        self.queue.push(Queued { h: b.hold(g), key: STAMP_MAX - self.stamp });
    }

    /// Stamp the queued updates `1..=len` in their order of insertion (a
    /// member's stamps have run out: once in a million updates queued).
    #[cold]
    fn renumber(&mut self) {
        let mut order: Vec<(u32, usize)> = self.queue.iter().enumerate().map(|(k, q)| (q.stamp(), k)).collect();
        order.sort_unstable();
        for (rank, (_, k)) in order.into_iter().enumerate() {
            let q = &mut self.queue[k];
            let stamp = (rank as u32 + 1).min(STAMP_MAX);
            q.key = q.sent() << STAMP_BITS | (STAMP_MAX - stamp);
        }
        self.stamp = (self.queue.len() as u32).min(STAMP_MAX - 1);
    }

    /// Up to `max_piggyback` updates, fewest-sent first (newest first among
    /// equals), each counted; updates sent `λ·log n` times leave the queue.
    fn piggyback(&mut self, b: &mut B, out: &mut Vec<Gossip<Id>>) {
        if self.queue.is_empty() {
            return;
        }
        let limit = self.cfg.retransmit_limit(self.believed_alive());
        let room = self.cfg.max_piggyback.saturating_sub(out.len());
        if self.queue.len() > room {
            // fewest-sent first, newest first among equals (keys are distinct)
            self.queue.sort_unstable_by_key(|q| q.key);
        }
        if out.capacity() == 0 {
            *out = b.list();
        }
        out.reserve_exact(room.min(self.queue.len()));
        for q in self.queue.iter_mut().take(room) {
            q.count_send();
            out.push(b.get(&q.h).clone());
        }
        self.queue.retain(|q| {
            let keep = q.sent() < limit;
            if !keep {
                b.release(q.h.clone());
            }
            keep
        });
        if self.queue.is_empty() {
            self.queue = Vec::new(); // a burst's buffer is not kept
        }
    }

    fn send(&mut self, b: &mut B, to: Id, mut msg: SwimMsg<Id>, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        match &mut msg {
            SwimMsg::Ping { gossip, .. } => {
                self.counts.pings += 1;
                self.piggyback(b, gossip);
            }
            SwimMsg::PingReq { gossip, .. } => {
                self.counts.ping_reqs += 1;
                self.piggyback(b, gossip);
            }
            SwimMsg::Ack { gossip, .. } => {
                self.counts.acks += 1;
                self.piggyback(b, gossip);
            }
            SwimMsg::Nack { .. } => self.counts.nacks += 1,
        }
        out.sends.push((to, msg));
    }

    // ---- the rules of precedence ----

    fn drop_suspicion(&mut self, id: &Id) {
        edit(&mut self.suspicions, |v| v.retain(|s| s.id != *id));
        if let Some(r) = self.rare.as_deref_mut() {
            r.confirmers.retain(|c| c.0 != *id);
        }
        self.suspicions_changed();
    }

    /// After any change to `suspicions`: the earliest deadline is recomputed.
    fn suspicions_changed(&mut self) {
        self.suspicion_due = self.suspicions.iter().map(|s| self.deadline(s)).min().unwrap_or(u64::MAX);
    }

    /// When suspicion `s` times out: its start (the suspect's entry's
    /// `since`) plus its timeout.
    fn deadline(&self, s: &Suspicion<Id>) -> u64 {
        self.entry(&s.id).map_or(u64::MAX, |e| e.since.saturating_add(u64::from(s.wait)))
    }

    fn set(&mut self, id: &Id, state: State, inc: u32, now: u64) {
        let was = self.state_of(id);
        if was == Some(State::Dead) && state != State::Dead {
            self.dead -= 1;
        }
        if was != Some(State::Dead) && state == State::Dead {
            self.dead += 1;
        }
        let e = Entry { state, inc, since: now.min(Rec::<Id>::MAX_SINCE) };
        let packed = Rec::<Id>::pack(&e);
        let at = match self.recs.binary_search_by(|r| r.id.cmp(id)) {
            Ok(at) => {
                if self.recs[at].is_wide() && packed.is_some() {
                    if let Some(r) = self.rare.as_deref_mut() {
                        r.wide.retain(|w| w.0 != *id);
                    }
                }
                at
            }
            Err(at) => {
                // most members hold a handful of entries
                room_for_one(&mut self.recs);
                self.recs.insert(at, Rec { id: id.clone(), v: 0 });
                at
            }
        };
        self.recs[at].v = packed.unwrap_or(Rec::<Id>::WIDE);
        if packed.is_none() {
            let wide = &mut self.rare().wide;
            match wide.binary_search_by(|w| w.0.cmp(id)) {
                Ok(k) => wide[k].1 = e,
                Err(k) => wide.insert(k, (id.clone(), e)),
            }
        }
    }

    /// [`Swim::apply`] with its updates on board `b`.
    pub fn apply_on(&mut self, b: &mut B, g: Gossip<Id>, now: u64, out: &mut MemberOut<Id, SwimMsg<Id>>) -> bool {
        if *g.id() == self.me {
            return self.about_me(b, g);
        }
        let cur = self.entry(g.id());
        match g {
            Gossip::Alive { id, inc } => match cur {
                None => {
                    self.set(&id, State::Alive, inc, now);
                    let (key, left) = (self.pass.key, self.pass.size.saturating_sub(self.pass.pos));
                    let r = self.rare();
                    r.extra.push(id.clone());
                    // into the current pass, at a position drawn from its key
                    let at = mix64(key ^ r.extra.len() as u64) % (u64::from(left) + 1);
                    r.joining.push((id.clone(), at as u32));
                    out.events.push(MemberEvent::Up(id.clone()));
                    self.enqueue(b, Gossip::Alive { id, inc });
                    true
                }
                Some(e) if inc > e.inc => {
                    self.drop_suspicion(&id);
                    self.set(&id, State::Alive, inc, now);
                    if e.state == State::Dead {
                        out.events.push(MemberEvent::Up(id.clone()));
                    }
                    self.enqueue(b, Gossip::Alive { id, inc });
                    true
                }
                Some(_) => false,
            },
            Gossip::Suspect { id, inc, from } => match cur {
                None => false,
                Some(e) if e.state == State::Dead => false,
                Some(e) if (e.state == State::Alive && inc >= e.inc) || inc > e.inc => {
                    self.set(&id, State::Suspect, inc, now);
                    self.drop_suspicion(&id);
                    let timeout = self.cfg.suspicion_timeout(self.believed_alive(), 0);
                    // only Lifeguard's suspicion counts confirmations
                    if self.cfg.lha_suspicion {
                        self.rare().confirmers.push((id.clone(), vec![from.clone()]));
                    }
                    // grow by one: a member holds a few suspicions at a time
                    edit(&mut self.suspicions, |v| {
                        v.reserve_exact(1);
                        v.push(Suspicion::new(id.clone(), timeout))
                    });
                    self.suspicions_changed();
                    self.enqueue(b, Gossip::Suspect { id, inc, from });
                    true
                }
                Some(e) if e.state == State::Suspect && inc == e.inc && self.cfg.lha_suspicion => {
                    // an independent confirmation shrinks the timeout
                    // (the suspicion started when the entry was set: `since`)
                    let n = self.believed_alive();
                    let k = self.cfg.suspicion_k as usize;
                    let Some(r) = self.rare.as_deref_mut() else { return false };
                    let Some((_, by)) = r.confirmers.iter_mut().find(|c| c.0 == id) else { return false };
                    if by.contains(&from) || by.len() > k {
                        return false;
                    }
                    by.push(from.clone());
                    let timeout = self.cfg.suspicion_timeout(n, by.len() as u32 - 1);
                    let Some(s) = self.suspicions.iter_mut().find(|s| s.id == id) else { return false };
                    *s = Suspicion::new(id.clone(), timeout);
                    self.suspicions_changed();
                    self.enqueue(b, Gossip::Suspect { id, inc, from });
                    true
                }
                Some(_) => false,
            },
            Gossip::Dead { id, inc, from } => match cur {
                None => false,
                Some(e) if e.state == State::Dead || inc < e.inc => false,
                Some(_) => {
                    self.drop_suspicion(&id);
                    self.set(&id, State::Dead, inc, now);
                    out.events.push(MemberEvent::Down(id.clone()));
                    self.enqueue(b, Gossip::Dead { id, inc, from });
                    true
                }
            },
        }
    }

    /// An update about this member itself: refute a suspicion or a
    /// confirmation of its current (or a later) incarnation.
    fn about_me(&mut self, b: &mut B, g: Gossip<Id>) -> bool {
        let inc = match g {
            Gossip::Suspect { inc, .. } | Gossip::Dead { inc, .. } if inc >= self.incarnation => inc,
            // someone holds a later incarnation of me (I restarted): go past it
            Gossip::Alive { inc, .. } if inc > self.incarnation => inc,
            _ => return false,
        };
        if !matches!(g, Gossip::Alive { .. }) {
            self.counts.refutations += 1;
            self.health_up();
        }
        self.incarnation = inc + 1;
        self.enqueue(b, Gossip::Alive { id: self.me.clone(), inc: self.incarnation });
        true
    }

    fn take_gossip(&mut self, b: &mut B, mut gossip: Vec<Gossip<Id>>, now: u64, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        for g in gossip.drain(..) {
            self.apply_on(b, g, now, out);
        }
        b.recycle(gossip);
    }

    // ---- probing ----

    /// The next member to probe: the next index of the pass that is
    /// neither this member nor believed dead, starting a new pass (keyed
    /// from `rng`) when one ends. `None` if nobody can be probed.
    fn next_target(&mut self, rng: &mut Rng) -> Option<Id> {
        while let Some(at) = self.rare.as_deref().and_then(|r| r.joining.iter().position(|j| j.1 == 0)) {
            let (id, _) = self.rare().joining.remove(at);
            if self.state_of(&id) != Some(State::Dead) {
                return Some(id);
            }
        }
        let mut fresh = 0;
        loop {
            match self.pass.next() {
                Some(i) => {
                    let id = self.member(i);
                    if id != self.me && self.state_of(&id) != Some(State::Dead) {
                        if let Some(r) = self.rare.as_deref_mut() {
                            for j in &mut r.joining {
                                j.1 = j.1.saturating_sub(1);
                            }
                        }
                        return Some(id);
                    }
                }
                None => {
                    fresh += 1;
                    if fresh > 1 {
                        return None; // a whole pass found nobody
                    }
                    // the joiners not probed yet are in the new pass
                    if let Some(r) = self.rare.as_deref_mut() {
                        r.joining = Vec::new();
                    }
                    self.pass = Pass::new(self.size(), rng.next_u64());
                }
            }
        }
    }

    /// Up to `k` distinct members believed alive, other than this member
    /// and `not`, drawn at random (bounded tries).
    fn helpers(&self, rng: &mut Rng, k: usize, not: &Id, out: &mut Vec<Id>) {
        let size = self.size();
        let mut tries = 8 * k + 16;
        while out.len() < k && tries > 0 {
            tries -= 1;
            let id = self.member(rng.below(u64::from(size)) as u32);
            if id != self.me && id != *not && self.state_of(&id) == Some(State::Alive) && !out.contains(&id) {
                out.push(id);
            }
        }
    }

    /// The end of a probe: judge it.
    fn finish_probe(&mut self, b: &mut B, now: u64, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        let Some(p) = self.probe.take() else { return };
        if p.acked {
            self.health_down();
            return;
        }
        self.counts.failed_probes += 1;
        self.health_up();
        if p.nacks < p.nacks_expected {
            self.health_up();
        }
        let Some(e) = self.entry(&p.target) else { return };
        if e.state == State::Dead {
            return;
        }
        let me = self.me.clone();
        if self.cfg.suspicion {
            self.counts.suspicions += 1;
            self.apply_on(b, Gossip::Suspect { id: p.target, inc: e.inc, from: me }, now, out);
        } else {
            self.apply_on(b, Gossip::Dead { id: p.target, inc: e.inc, from: me }, now, out);
        }
    }

    fn start_probe(&mut self, b: &mut B, now: u64, rng: &mut Rng, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        let mult = self.multiplier();
        self.next_probe = now + self.cfg.probe_interval_ms * mult;
        let Some(target) = self.next_target(rng) else { return };
        let seq = self.next_seq();
        let timeout = self.cfg.probe_timeout_ms * if self.cfg.lhm_scales_timeout { mult } else { 1 };
        // the period bounds the timeout (a scaled timeout with a scaled period)
        let timeout = timeout.min(self.cfg.probe_interval_ms * mult - 1);
        self.counts.probes += 1;
        self.probe = Some(Probe {
            target: target.clone(),
            seq,
            timeout_at: now + timeout,
            acked: false,
            indirect: false,
            nacks_expected: 0,
            nacks: 0,
        });
        let mut gossip = Vec::new();
        if self.cfg.buddy {
            if let Some(e) = self.entry(&target).filter(|e| e.state == State::Suspect) {
                let from = self.me.clone();
                gossip.push(Gossip::Suspect { id: target.clone(), inc: e.inc, from });
            }
        }
        self.send(b, target, SwimMsg::Ping { seq, gossip }, out);
    }

    fn ask_helpers(&mut self, b: &mut B, rng: &mut Rng, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        let Some(p) = self.probe.as_mut() else { return };
        p.indirect = true;
        let (target, seq) = (p.target.clone(), p.seq);
        let mut helpers = Vec::new();
        self.helpers(rng, self.cfg.indirect_checks as usize, &target, &mut helpers);
        if self.cfg.lhm {
            if let Some(p) = self.probe.as_mut() {
                p.nacks_expected = helpers.len() as u32;
            }
        }
        for h in helpers {
            self.send(b, h, SwimMsg::PingReq { seq, target: target.clone(), gossip: Vec::new() }, out);
        }
    }
}

impl<Id: Clone + Ord, R: Roll<Id>, B: Board<Id>> Peers<Id> for Swim<Id, R, B> {
    /// Up to `k` distinct members believed alive or suspect, other than `me`.
    fn sample(&self, rng: &mut Rng, me: &Id, k: usize, out: &mut Vec<Id>) {
        let size = self.size();
        let start = out.len();
        let mut tries = 8 * k + 16;
        while out.len() - start < k && tries > 0 {
            tries -= 1;
            let id = self.member(rng.below(u64::from(size)) as u32);
            if id != *me && self.state_of(&id) != Some(State::Dead) && !out[start..].contains(&id) {
                out.push(id);
            }
        }
    }

    /// Every member believed alive or suspect, other than `me`.
    fn all(&self, me: &Id, out: &mut Vec<Id>) {
        for i in 0..self.size() {
            let id = self.member(i);
            if id != *me && self.state_of(&id) != Some(State::Dead) {
                out.push(id);
            }
        }
    }
}

impl<Id: Clone + Ord + Debug, R: Roll<Id>> Membership<Id> for Swim<Id, R, Owned> {
    type Msg = SwimMsg<Id>;

    fn poll_timeout(&self) -> u64 {
        self.next_deadline()
    }

    fn on_timer(&mut self, _me: &Id, now: u64, rng: &mut Rng, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        self.on_timer_on(&mut Owned, now, rng, out);
    }

    fn on_message(
        &mut self,
        _me: &Id,
        now: u64,
        from: Id,
        msg: SwimMsg<Id>,
        _rng: &mut Rng,
        out: &mut MemberOut<Id, SwimMsg<Id>>,
    ) {
        self.on_message_on(&mut Owned, now, from, msg, out);
    }
}

impl<Id: Clone + Ord, R: Roll<Id>, B: Board<Id>> Swim<Id, R, B> {
    /// Its next deadline ([`Membership::poll_timeout`]).
    pub fn next_deadline(&self) -> u64 {
        [SwimTimer::Indirect, SwimTimer::Relay, SwimTimer::Suspicion, SwimTimer::Probe]
            .into_iter()
            .filter_map(|t| self.due(t))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// [`Membership::on_timer`] with its updates on board `b`.
    pub fn on_timer_on(&mut self, b: &mut B, now: u64, rng: &mut Rng, out: &mut MemberOut<Id, SwimMsg<Id>>) {
        if self.due(SwimTimer::Indirect).is_some_and(|t| t <= now) {
            self.ask_helpers(b, rng, out);
        }
        if self.due(SwimTimer::Relay).is_some_and(|t| t <= now) {
            let mut nacks = Vec::new();
            for r in self.relays.iter_mut() {
                if r.nack_at <= now {
                    nacks.push((r.origin.clone(), r.origin_seq));
                    r.nack_at = u64::MAX;
                }
            }
            edit(&mut self.relays, |v| v.retain(|r| r.expires > now));
            for (to, seq) in nacks {
                self.send(b, to, SwimMsg::Nack { seq }, out);
            }
        }
        if self.due(SwimTimer::Suspicion).is_some_and(|t| t <= now) {
            // (a suspicion's incarnation is its suspect's entry's)
            let expired: Vec<(Id, u32)> = self
                .suspicions
                .iter()
                .filter(|s| self.deadline(s) <= now)
                .filter_map(|s| Some((s.id.clone(), self.entry(&s.id)?.inc)))
                .collect();
            let mut open = std::mem::take(&mut self.suspicions).into_vec();
            open.retain(|s| self.deadline(s) > now);
            self.suspicions = open.into_boxed_slice();
            if let Some(r) = self.rare.as_deref_mut() {
                r.confirmers.retain(|c| !expired.iter().any(|x| x.0 == c.0));
            }
            self.suspicions_changed();
            let me = self.me.clone();
            for (id, inc) in expired {
                self.apply_on(b, Gossip::Dead { id, inc, from: me.clone() }, now, out);
            }
        }
        if self.next_probe <= now {
            self.finish_probe(b, now, out);
            self.start_probe(b, now, rng, out);
        }
    }

    /// [`Membership::on_message`] with its updates on board `b`.
    pub fn on_message_on(
        &mut self,
        b: &mut B,
        now: u64,
        from: Id,
        msg: SwimMsg<Id>,
        out: &mut MemberOut<Id, SwimMsg<Id>>,
    ) {
        match msg {
            SwimMsg::Ping { seq, gossip } => {
                self.take_gossip(b, gossip, now, out);
                self.send(b, from, SwimMsg::Ack { seq, gossip: Vec::new() }, out);
            }
            SwimMsg::PingReq { seq, target, gossip } => {
                self.take_gossip(b, gossip, now, out);
                let mine = self.next_seq();
                let timeout = self.cfg.probe_timeout_ms;
                let nack_at = if self.cfg.lhm { now + timeout * 4 / 5 } else { u64::MAX };
                let relay = Relay {
                    seq: mine,
                    origin: from,
                    origin_seq: seq,
                    nack_at,
                    expires: now + self.cfg.probe_interval_ms,
                };
                edit(&mut self.relays, |v| {
                    v.reserve_exact(1);
                    v.push(relay)
                });
                self.send(b, target, SwimMsg::Ping { seq: mine, gossip: Vec::new() }, out);
            }
            SwimMsg::Ack { seq, gossip } => {
                self.take_gossip(b, gossip, now, out);
                if let Some(p) = self.probe.as_mut().filter(|p| p.seq == seq) {
                    p.acked = true;
                    return;
                }
                if let Some(at) = self.relays.iter().position(|r| r.seq == seq) {
                    let r = edit(&mut self.relays, |v| v.swap_remove(at));
                    self.send(b, r.origin, SwimMsg::Ack { seq: r.origin_seq, gossip: Vec::new() }, out);
                }
            }
            SwimMsg::Nack { seq } => {
                if let Some(p) = self.probe.as_mut().filter(|p| p.seq == seq) {
                    p.nacks += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Out = MemberOut<u32, SwimMsg<u32>>;

    fn member(cfg: SwimConfig, n: u32, me: u32) -> Swim<u32> {
        Swim::new(Arc::new(cfg), Span(n), me, 0)
    }

    #[test]
    fn a_pass_visits_every_index_exactly_once() {
        for size in [1u32, 2, 3, 5, 16, 17, 100, 1000, 4097] {
            for key in 0..5u64 {
                let p = Pass::new(size, mix64(key));
                let mut seen = vec![false; size as usize];
                for i in p {
                    assert!(!seen[i as usize], "size {size}: {i} twice");
                    seen[i as usize] = true;
                }
                assert!(seen.iter().all(|&s| s), "size {size}: every index");
            }
        }
        let order = |k| Pass::new(50, k).collect::<Vec<_>>();
        assert_ne!(order(1), order(2), "another key, another order");
    }

    #[test]
    fn round_robin_probes_every_other_member_once_per_pass() {
        let n = 40;
        let mut m = member(SwimConfig::paper(), n, 7);
        let mut rng = Rng::new(3);
        let mut out = Out::default();
        let mut targets = Vec::new();
        let mut now = 0;
        for _ in 0..2 * (n - 1) {
            m.on_timer(&7, now, &mut rng, &mut out);
            let (to, msg) = out.sends.pop().expect("a ping");
            assert!(matches!(msg, SwimMsg::Ping { .. }));
            targets.push(to);
            // ack it, so that nobody is suspected
            let seq = m.probe.as_ref().unwrap().seq;
            m.on_message(&7, now + 1, to, SwimMsg::Ack { seq, gossip: vec![] }, &mut rng, &mut out);
            now += 1000;
            out.sends.clear();
        }
        for pass in targets.chunks(n as usize - 1) {
            let mut p = pass.to_vec();
            p.sort();
            let expected: Vec<u32> = (0..n).filter(|&i| i != 7).collect();
            assert_eq!(p, expected, "each pass pings every other member once");
        }
        assert_ne!(targets[..n as usize - 1], targets[n as usize - 1..], "reshuffled after a pass");
    }

    #[test]
    fn precedence_follows_the_paper_with_memberlists_stale_confirmations() {
        let mut m = member(SwimConfig::paper(), 10, 0);
        let mut out = Out::default();
        let st = |m: &Swim<u32>| m.entry(&3).map(|e| (e.state, e.inc));
        assert_eq!(st(&m), Some((State::Alive, 0)));
        // Suspect(i) beats Alive(j) when i >= j
        assert!(m.apply(Gossip::Suspect { id: 3, inc: 0, from: 1 }, 10, &mut out));
        assert_eq!(st(&m), Some((State::Suspect, 0)));
        // Alive(j) does not beat Suspect(j) at the same incarnation
        assert!(!m.apply(Gossip::Alive { id: 3, inc: 0 }, 11, &mut out));
        // Alive(i) beats Suspect(j) when i > j
        assert!(m.apply(Gossip::Alive { id: 3, inc: 1 }, 12, &mut out));
        assert_eq!(st(&m), Some((State::Alive, 1)));
        // an older suspicion is stale
        assert!(!m.apply(Gossip::Suspect { id: 3, inc: 0, from: 1 }, 13, &mut out));
        // Suspect(i) beats Suspect(j) when i > j
        assert!(m.apply(Gossip::Suspect { id: 3, inc: 1, from: 1 }, 14, &mut out));
        assert!(m.apply(Gossip::Suspect { id: 3, inc: 2, from: 1 }, 15, &mut out));
        assert_eq!(st(&m), Some((State::Suspect, 2)));
        assert!(out.events.is_empty(), "suspicion is not failure");
        // a confirmation of a refuted incarnation is stale; Dead(i) beats Suspect(j) when i >= j
        assert!(!m.apply(Gossip::Dead { id: 3, inc: 1, from: 1 }, 16, &mut out));
        assert!(m.apply(Gossip::Dead { id: 3, inc: 2, from: 1 }, 16, &mut out));
        assert_eq!(st(&m), Some((State::Dead, 2)));
        assert_eq!(out.events, vec![MemberEvent::Down(3)]);
        // nothing but a later Alive moves a dead member
        assert!(!m.apply(Gossip::Suspect { id: 3, inc: 9, from: 1 }, 17, &mut out));
        assert!(!m.apply(Gossip::Alive { id: 3, inc: 2 }, 17, &mut out));
        assert!(m.apply(Gossip::Alive { id: 3, inc: 3 }, 18, &mut out));
        assert_eq!(out.events, vec![MemberEvent::Down(3), MemberEvent::Up(3)]);
        // unknown members: Alive teaches them, the others do not
        assert!(!m.apply(Gossip::Suspect { id: 50, inc: 0, from: 1 }, 19, &mut out));
        assert!(m.apply(Gossip::Alive { id: 50, inc: 0 }, 19, &mut out));
        assert_eq!(m.believed_alive(), 11);
    }

    #[test]
    fn a_member_refutes_a_suspicion_of_itself_with_a_higher_incarnation() {
        let mut m = member(SwimConfig::lifeguard(), 10, 4);
        let mut out = Out::default();
        assert!(!m.apply(Gossip::Alive { id: 4, inc: 0 }, 1, &mut out));
        assert!(m.apply(Gossip::Suspect { id: 4, inc: 0, from: 2 }, 1, &mut out));
        assert_eq!((m.incarnation(), m.counters().refutations, m.health()), (1, 1, 1));
        assert!(!m.apply(Gossip::Suspect { id: 4, inc: 0, from: 3 }, 2, &mut out), "already refuted");
        assert!(m.apply(Gossip::Dead { id: 4, inc: 1, from: 3 }, 3, &mut out));
        assert_eq!(m.incarnation(), 2);
        // the refutation is piggybacked on the next message
        m.on_message(&4, 5, 9, SwimMsg::Ping { seq: 1, gossip: vec![] }, &mut Rng::new(1), &mut out);
        let (_, ack) = out.sends.pop().unwrap();
        assert_eq!(ack.gossip(), &[Gossip::Alive { id: 4, inc: 2 }]);
    }

    #[test]
    fn an_unanswered_probe_goes_indirect_then_suspects_then_confirms() {
        let cfg = SwimConfig::paper();
        let timeout = cfg.suspicion_timeout(10, 0);
        assert_eq!(timeout, 3 * 3 * 1000, "3 ceil(ln 11) periods");
        let mut m = member(cfg, 10, 0);
        let mut rng = Rng::new(9);
        let mut out = Out::default();
        m.on_timer(&0, 0, &mut rng, &mut out);
        let target = out.sends[0].0;
        assert_eq!(m.poll_timeout(), 500, "the ping's timeout");
        m.on_timer(&0, 500, &mut rng, &mut out);
        let reqs: Vec<_> = out.sends[1..].iter().filter(|(_, m)| matches!(m, SwimMsg::PingReq { .. })).collect();
        assert_eq!(reqs.len(), 3, "k = 3 helpers");
        assert!(reqs.iter().all(|(h, _)| *h != target && *h != 0));
        assert_eq!(m.poll_timeout(), 1000);
        m.on_timer(&0, 1000, &mut rng, &mut out);
        assert_eq!(m.entry(&target).unwrap().state, State::Suspect);
        assert_eq!(m.counters().suspicions, 1);
        // the suspicion rides on the next ping
        assert!(out.sends.last().unwrap().1.gossip().contains(&Gossip::Suspect { id: target, inc: 0, from: 0 }));
        let mut t = 1000;
        while m.entry(&target).unwrap().state != State::Dead {
            t = m.poll_timeout();
            m.on_timer(&0, t, &mut rng, &mut out);
            // everyone else answers
            let mut replies = Vec::new();
            for (to, msg) in out.sends.drain(..) {
                if let SwimMsg::Ping { seq, .. } = msg {
                    if to != target {
                        replies.push((to, seq));
                    }
                }
            }
            for (to, seq) in replies {
                m.on_message(&0, t, to, SwimMsg::Ack { seq, gossip: vec![] }, &mut rng, &mut out);
            }
        }
        assert_eq!(t, 1000 + timeout, "confirmed when the suspicion times out");
        assert!(out.events.contains(&MemberEvent::Down(target)));
    }

    #[test]
    fn a_member_without_a_baseline_learns_members_from_alive_updates_and_lists_them() {
        let mut m: Swim<u32, Listed<u32>> = Swim::new(Arc::new(SwimConfig::paper()), Listed::new(vec![]), 5, 0);
        let mut out = Out::default();
        assert_eq!((m.known(), m.members().count()), (0, 0));
        assert_eq!(m.pending_gossip(), 1, "a member outside the baseline announces itself");
        assert!(m.apply(Gossip::Alive { id: 9, inc: 0 }, 1, &mut out));
        assert!(m.apply(Gossip::Alive { id: 2, inc: 0 }, 2, &mut out));
        assert!(!m.apply(Gossip::Alive { id: 9, inc: 0 }, 3, &mut out), "known already");
        assert!(m.apply(Gossip::Suspect { id: 2, inc: 0, from: 9 }, 4, &mut out));
        let listed: Vec<(u32, State, u32)> = m.members().map(|(id, e)| (id, e.state, e.inc)).collect();
        assert_eq!(listed, vec![(9, State::Alive, 0), (2, State::Suspect, 0)], "in the order learned");
        assert_eq!(m.known(), 2);
        assert_eq!(out.events, vec![MemberEvent::Up(9), MemberEvent::Up(2)]);
    }

    #[test]
    fn an_entry_is_stored_with_its_id_in_eight_bytes_and_read_back_unchanged() {
        assert_eq!(std::mem::size_of::<Rec<u32>>(), 8);
        assert_eq!(std::mem::size_of::<Suspicion<u32>>(), 8);
        // packed in the record, or held whole when the time or the
        // incarnation does not fit, and read back through the member
        let mut m = member(SwimConfig::paper(), 10, 0);
        let mut out = Out::default();
        let times = [0, 1, 36_000, (1 << 27) - 1, 1 << 27, u64::from(u32::MAX) + 1, 1 << 44, Rec::<u32>::MAX_SINCE];
        let mut wide_seen = false;
        for (k, since) in times.into_iter().enumerate() {
            for inc in [0, 1, 7, 8, 1 << 18, u32::MAX - 1] {
                for state in [State::Alive, State::Suspect, State::Dead] {
                    let id = 1 + (k as u32 % 9);
                    m.set(&id, state, inc, since);
                    let e = Entry { state, inc, since };
                    assert_eq!(m.entry(&id), Some(e));
                    assert_eq!(m.changed().find(|c| *c.0 == id).map(|c| c.1), Some(e));
                    wide_seen |= m.recs.iter().any(|r| r.is_wide());
                }
            }
        }
        assert!(wide_seen, "some entries were held whole");
        // a wide entry made narrow again leaves the rare parts
        m.set(&3, State::Alive, 7, 100);
        assert!(m.rare.as_deref().is_none_or(|r| r.wide.iter().all(|w| w.0 != 3)));
        // an update at a wide incarnation is judged on the whole entry
        assert!(m.apply(Gossip::Alive { id: 6, inc: u32::MAX }, 9, &mut out));
        assert!(!m.apply(Gossip::Suspect { id: 6, inc: u32::MAX - 1, from: 5 }, 10, &mut out));
        assert_eq!(m.entry(&6).map(|e| (e.state, e.inc, e.since)), Some((State::Alive, u32::MAX, 9)));
        // a time past the range is held at its end, the state kept
        m.set(&2, State::Dead, 3, u64::MAX);
        assert_eq!(m.entry(&2), Some(Entry { state: State::Dead, inc: 3, since: Rec::<u32>::MAX_SINCE }));
    }

    #[test]
    fn a_suspicion_times_out_at_its_entrys_start_plus_its_timeout() {
        let cfg = Arc::new(SwimConfig::paper());
        let mut m: Swim<u32> = Swim::new(cfg.clone(), Span(10), 0, 0);
        let mut out = MemberOut::default();
        assert!(m.apply(Gossip::Suspect { id: 4, inc: 0, from: 2 }, 5_000, &mut out));
        let timeout = cfg.suspicion_timeout(m.believed_alive(), 0);
        assert_eq!(m.due(SwimTimer::Suspicion), Some(5_000 + timeout));
        assert_eq!(m.entry(&4).map(|e| (e.state, e.since)), Some((State::Suspect, 5_000)));
        // a timeout too long for 32 bits is held at 2^32 - 1 ms
        let s = Suspicion::new(4u32, u64::MAX);
        assert_eq!(m.deadline(&s), 5_000 + u64::from(u32::MAX));
    }

    #[test]
    fn a_helper_relays_the_ack_or_nacks_in_time() {
        let mut h = member(SwimConfig::lifeguard(), 10, 1);
        let mut rng = Rng::new(1);
        let mut out = Out::default();
        h.on_message(&1, 100, 0, SwimMsg::PingReq { seq: 77, target: 5, gossip: vec![] }, &mut rng, &mut out);
        let (to, ping) = out.sends.pop().unwrap();
        let SwimMsg::Ping { seq, .. } = ping else { panic!("{ping:?}") };
        assert_eq!(to, 5);
        h.on_message(&1, 150, 5, SwimMsg::Ack { seq, gossip: vec![] }, &mut rng, &mut out);
        assert_eq!(out.sends.pop().unwrap(), (0, SwimMsg::Ack { seq: 77, gossip: vec![] }));
        // no answer this time: a nack at 80 % of the timeout
        h.on_message(&1, 2000, 0, SwimMsg::PingReq { seq: 78, target: 6, gossip: vec![] }, &mut rng, &mut out);
        out.sends.clear();
        assert_eq!(h.due(SwimTimer::Relay), Some(2400));
        h.on_timer(&1, 2400, &mut rng, &mut out);
        assert!(out.sends.contains(&(0, SwimMsg::Nack { seq: 78 })));
    }

    #[test]
    fn lifeguard_suspicion_shrinks_with_independent_confirmations() {
        let cfg = SwimConfig::memberlist_lan();
        let n = 100;
        let min = cfg.suspicion_timeout(n, cfg.suspicion_k);
        assert_eq!(min, 4 * 2 * 1000, "SuspicionMult x log10(100) x interval");
        assert_eq!(cfg.suspicion_timeout(n, 0), 6 * min, "starts at the maximum");
        assert!(cfg.suspicion_timeout(n, 1) < 6 * min && cfg.suspicion_timeout(n, 1) > min);
        assert_eq!(cfg.retransmit_limit(n), 4 * 3, "4 ceil(log10 101)");
        let mut m = member(cfg, n, 0);
        let mut out = Out::default();
        m.apply(Gossip::Suspect { id: 9, inc: 0, from: 1 }, 0, &mut out);
        assert_eq!(m.due(SwimTimer::Suspicion), Some(6 * min));
        assert!(!m.apply(Gossip::Suspect { id: 9, inc: 0, from: 1 }, 10, &mut out), "the same suspector twice");
        assert!(m.apply(Gossip::Suspect { id: 9, inc: 0, from: 2 }, 10, &mut out));
        assert!(m.apply(Gossip::Suspect { id: 9, inc: 0, from: 3 }, 20, &mut out));
        assert_eq!(m.due(SwimTimer::Suspicion), Some(min), "K = 2 confirmations: the minimum");
    }

    #[test]
    fn the_buddy_system_tells_a_suspect_at_once() {
        let mut m = member(SwimConfig::lifeguard(), 3, 0);
        let mut rng = Rng::new(2);
        let mut out = Out::default();
        m.apply(Gossip::Suspect { id: 1, inc: 0, from: 2 }, 0, &mut out);
        m.apply(Gossip::Suspect { id: 2, inc: 0, from: 1 }, 0, &mut out);
        m.queue.clear();
        m.on_timer(&0, 0, &mut rng, &mut out);
        let (to, ping) = out.sends.pop().unwrap();
        assert!(ping.gossip().contains(&Gossip::Suspect { id: to, inc: 0, from: 0 }), "{ping:?}");
    }

    #[test]
    fn local_health_stretches_the_period_and_recovers() {
        let mut m = member(SwimConfig::lifeguard(), 5, 0);
        let mut rng = Rng::new(4);
        let mut out = Out::default();
        let mut now = 0;
        for _ in 0..3 {
            m.on_timer(&0, now, &mut rng, &mut out);
            now = m.poll_timeout();
            m.on_timer(&0, now, &mut rng, &mut out); // helpers asked, nobody answers
            now = m.poll_timeout();
            while now < m.due(SwimTimer::Probe).unwrap() {
                m.on_timer(&0, now, &mut rng, &mut out);
                now = m.poll_timeout();
            }
        }
        // failed probes and missed nacks: the score climbs, the period grows
        assert!(m.health() >= 4, "{}", m.health());
        m.on_timer(&0, now, &mut rng, &mut out);
        let before = m.health();
        let period = m.due(SwimTimer::Probe).unwrap() - now;
        assert_eq!(period, 1000 * (u64::from(before) + 1));
        let seq = m.probe.as_ref().unwrap().seq;
        m.on_message(&0, now + 1, 1, SwimMsg::Ack { seq, gossip: vec![] }, &mut rng, &mut out);
        m.on_timer(&0, now + period, &mut rng, &mut out);
        assert_eq!(m.health(), before - 1, "an answered probe lowers it");
    }

    #[test]
    fn updates_are_piggybacked_a_bounded_number_of_times_fewest_sent_first() {
        let mut cfg = SwimConfig::paper();
        cfg.max_piggyback = 2;
        let limit = cfg.retransmit_limit(10);
        let mut m = member(cfg, 10, 0);
        let mut out = Out::default();
        m.apply(Gossip::Suspect { id: 1, inc: 0, from: 5 }, 0, &mut out);
        m.apply(Gossip::Suspect { id: 2, inc: 0, from: 5 }, 0, &mut out);
        m.apply(Gossip::Suspect { id: 3, inc: 0, from: 5 }, 0, &mut out);
        let mut counts = [0u32; 4];
        let mut rng = Rng::new(1);
        for s in 0..100 {
            m.on_message(&0, 1, 9, SwimMsg::Ping { seq: s, gossip: vec![] }, &mut rng, &mut out);
            let (_, ack) = out.sends.pop().unwrap();
            assert!(ack.gossip().len() <= 2);
            for g in ack.gossip() {
                counts[*g.id() as usize] += 1;
            }
            let spread = counts[1..].iter().max().unwrap() - counts[1..].iter().min().unwrap();
            assert!(spread <= 1 || m.pending_gossip() == 0, "fewest-sent first: {counts:?}");
        }
        assert_eq!(&counts[1..], &[limit; 3], "each exactly λ log n times");
    }

    #[test]
    fn the_queue_keeps_its_order_when_its_stamps_are_renumbered() {
        // two members fed alike, one with its stamps about to run out: the
        // updates they piggyback, and their order, are the same
        let mut cfg = SwimConfig::paper();
        cfg.max_piggyback = 3;
        let (mut a, mut b) = (member(cfg.clone(), 10, 0), member(cfg, 10, 0));
        b.stamp = STAMP_MAX - 4;
        let (mut out, mut rng) = (Out::default(), Rng::new(1));
        let mut renumbered = false;
        for s in 0..60u32 {
            let g = Gossip::Suspect { id: 1 + s % 9, inc: s / 9, from: 5 };
            a.apply(g.clone(), u64::from(s), &mut out);
            b.apply(g, u64::from(s), &mut out);
            renumbered |= b.stamp < 100;
            let mut acks = Vec::new();
            for m in [&mut a, &mut b] {
                m.on_message(&0, u64::from(s), 9, SwimMsg::Ping { seq: s, gossip: vec![] }, &mut rng, &mut out);
                acks.push(out.sends.pop().unwrap().1);
            }
            assert_eq!(acks[0], acks[1], "step {s}");
            assert_eq!(a.pending_gossip(), b.pending_gossip());
        }
        assert!(renumbered, "the stamps were renumbered");
        assert!(SwimConfig { retransmit_mult: 101, ..SwimConfig::paper() }.check().is_err());
        assert!(SwimConfig { retransmit_mult: 100, ..SwimConfig::paper() }.retransmit_limit(u32::MAX) < 1 << SENT_BITS);
    }

    #[test]
    fn the_retransmit_limit_read_off_its_steps_equals_the_formula_for_every_group_size_tried() {
        // both sides of every step, the ends, and a spread of sizes between
        for scale in [Scale::Paper, Scale::Memberlist] {
            let cfg = SwimConfig { scale, retransmit_mult: 3, ..SwimConfig::paper() };
            let formula = |n: u32| (3.0 * scale.log_retransmit(n)).max(1.0) as u32;
            let steps = scale.retransmit_steps();
            assert_eq!(steps.len(), if scale == Scale::Paper { 23 } else { 10 });
            let mut sizes: Vec<u32> = vec![0, 1, 2, 3, 9, 10, 11, 99, 100, u32::MAX - 1, u32::MAX];
            for &s in steps {
                sizes.extend([s.saturating_sub(2), s.saturating_sub(1), s, s.saturating_add(1)]);
            }
            let mut rng = Rng::new(11);
            sizes.extend((0..20_000).map(|_| (rng.next_u64() >> (32 + rng.below(32))) as u32));
            for n in sizes {
                assert_eq!(cfg.retransmit_limit(n), formula(n), "{scale:?}, n = {n}");
            }
        }
    }
}
