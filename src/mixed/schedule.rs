//! Scheduling: what the bridge sends when, within its rate limits.
//!
//! Once a pump, `Bridge::schedule` decides which requests go out: follow-up
//! deltas first (they finish exchanges in progress), then each native's
//! polls (`GET /state`, which is also the probe of an unreachable node after
//! its backoff, and `GET /peers/`), then each gateway's exchange when it is
//! due. No request goes without a token from both the page's bucket and the
//! node's own, nor beyond two in flight to one node; each in flight is
//! remembered ([`Pending`]) so that its answer is read for what it asked.
//! (When an unreachable node is probed again is set where it is marked
//! unreachable, in `registry.rs`.) Kept apart because this is what keeps the
//! page from ever flooding a real node: every request leaves through
//! `Bridge::issue`, here.

use super::registry::Reach;
use super::{Bridge, HttpRequest};
use crate::core::Message;
use crate::sim::engine::Flight;
use crate::sim::live::Live;
use crate::wire::{self, Id};

/// What a request asks, so that its answer is read for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Exchange { gateway: u32 },
    FollowUp { gateway: u32 },
    State,
    Peers,
}

/// A request in flight.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    pub(super) native: usize,
    pub(super) purpose: Purpose,
    pub(super) sent_at: f64,
    /// Virtual time it left, for drawing the answer.
    pub(super) sent_virtual: u64,
}

/// A token bucket: `rate` tokens a second, at most `rate` (one second's worth) stored.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bucket {
    rate: f64,
    tokens: f64,
    at: f64,
}

impl Bucket {
    pub(super) fn new(rate: f64, now: f64) -> Self {
        Bucket { rate, tokens: rate.max(1.0), at: now }
    }

    fn refill(&mut self, now: f64) {
        if now > self.at {
            self.tokens = (self.tokens + (now - self.at) / 1000.0 * self.rate).min(self.rate.max(1.0));
            self.at = now;
        }
    }

    pub(super) fn has(&mut self, now: f64) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    pub(super) fn take(&mut self) {
        self.tokens -= 1.0;
    }
}

/// Most follow-up deltas waiting for the rate limit.
pub(super) const FOLLOW_UP_CAP: usize = 64;
/// Most requests in flight to one node.
const IN_FLIGHT_PER_NODE: u32 = 2;

impl Bridge {
    /// Hand the driver what is due now and allowed by the limits (see the
    /// module documentation).
    pub(super) fn schedule(&mut self, live: &mut Live, now: f64) {
        // follow-ups first: they finish exchanges in progress
        while let Some((gateway, to, _)) = self.follow_ups.front() {
            let (gateway, to) = (*gateway, *to);
            let Some(ni) = self.native_of_slot(to) else {
                self.follow_ups.pop_front();
                self.stats.dropped += 1;
                continue;
            };
            if !self.can_send(ni, now, true) {
                break;
            }
            let (_, _, msg) = self.follow_ups.pop_front().expect("front was Some");
            self.stats.follow_ups += 1;
            self.post(live, ni, gateway, msg, Purpose::FollowUp { gateway }, now);
        }
        // polls (bounded: one per node per period): /state, which is also the
        // probe of an unreachable node, and /peers/
        for ni in 0..self.natives.len() {
            let n = &self.natives[ni];
            if n.polling {
                continue;
            }
            let probe = n.status == Reach::Unreachable;
            if (probe && n.retry_at <= now) || (!probe && n.next_state <= now) {
                if !self.can_send(ni, now, false) {
                    continue;
                }
                let url = format!("{}/state", self.natives[ni].url);
                self.natives[ni].next_state = now + self.opts.state_poll_ms as f64;
                if probe {
                    self.natives[ni].retry_at = f64::INFINITY; // until this probe's outcome
                }
                self.get(ni, url, Purpose::State, live.now(), now);
            } else if !probe && n.status == Reach::Reachable && n.next_peers <= now {
                if !self.can_send(ni, now, false) {
                    continue;
                }
                let url = format!("{}/peers/", self.natives[ni].url);
                self.natives[ni].next_peers = now + self.opts.peers_poll_ms as f64;
                self.get(ni, url, Purpose::Peers, live.now(), now);
            }
        }
        // each gateway's exchange
        for g in 0..self.gateways.len() {
            if self.next_exchange[g] > now {
                continue;
            }
            let gateway = self.gateways[g];
            let Some(digest) = live.digest(gateway) else {
                self.next_exchange[g] = now + self.opts.exchange_ms as f64;
                continue;
            };
            let candidates: Vec<usize> = (0..self.natives.len())
                .filter(|&i| self.natives[i].status != Reach::Unreachable && self.natives[i].slot.is_some())
                .collect();
            if candidates.is_empty() {
                self.next_exchange[g] = now + self.opts.exchange_ms as f64 / 4.0;
                continue;
            }
            let ni = candidates[self.rng.below(candidates.len() as u64) as usize];
            if !self.can_send(ni, now, true) {
                continue; // stays due
            }
            let jitter = self.rng.below(self.opts.exchange_ms / 10 + 1) as f64;
            self.next_exchange[g] = now + self.opts.exchange_ms as f64 + jitter;
            self.stats.exchanges += 1;
            let digest = Message::Digest { digest, push_pull: true };
            let beats = self.heartbeats(live);
            let msgs = if beats.is_empty() { vec![digest] } else { vec![Message::Push(beats), digest] };
            self.post_all(live, ni, gateway, msgs, Purpose::Exchange { gateway }, now);
        }
    }

    /// Whether a request to native `ni` may go now (rate limits, in-flight
    /// bound, backoff); counts a rate-limited wait.
    fn can_send(&mut self, ni: usize, now: f64, needs_answering: bool) -> bool {
        let n = &mut self.natives[ni];
        if n.in_flight >= IN_FLIGHT_PER_NODE || (needs_answering && n.status == Reach::Unreachable) {
            return false;
        }
        if !self.bucket.has(now) || !n.bucket.has(now) {
            self.stats.rate_limited += 1;
            return false;
        }
        true
    }

    /// Hand a request to the driver: `what` is `(method, url, body)`.
    fn issue(&mut self, ni: usize, what: (&'static str, String, Option<String>), p: Purpose, vnow: u64, now: f64) {
        self.bucket.take();
        let n = &mut self.natives[ni];
        n.bucket.take();
        n.in_flight += 1;
        n.requests += 1;
        let id = self.next_id;
        self.next_id += 1;
        self.stats.requests += 1;
        let (method, url, body) = what;
        self.stats.bytes_out += body.as_ref().map_or(0, |b| b.len() as u64);
        self.pending.insert(id, Pending { native: ni, purpose: p, sent_at: now, sent_virtual: vnow });
        self.ready.push_back(HttpRequest { id, method, url, body, timeout_ms: self.opts.timeout_ms });
    }

    fn get(&mut self, ni: usize, url: String, p: Purpose, vnow: u64, now: f64) {
        self.natives[ni].polling = true;
        self.issue(ni, ("GET", url, None), p, vnow, now);
    }

    /// The own updates of the next [`HEARTBEATS_PER_EXCHANGE`] virtual
    /// nodes, in turn: re-announced with a gateway's exchange, at the
    /// version they hold, so that native nodes hear of every node of an
    /// open page even when its favorite stays (they forget origins that
    /// fall silent, `--forget-after`). Natives take them for duplicates.
    fn heartbeats(&mut self, live: &Live) -> Vec<crate::core::Update<u32>> {
        let n = live.len();
        let mut out = Vec::new();
        for _ in 0..n {
            if out.len() >= HEARTBEATS_PER_EXCHANGE {
                break;
            }
            let i = self.heartbeat_at % n.max(1);
            self.heartbeat_at = (i + 1) % n.max(1);
            if live.is_remote(i) {
                continue;
            }
            if let Some(e) = live.entry(i, i) {
                out.push(crate::core::Update::of(i, 0, e.record().clone()));
            }
        }
        out
    }

    /// `POST /gossip/` from `gateway` carrying `msg`.
    fn post(&mut self, live: &mut Live, ni: usize, gateway: u32, msg: Message<u32>, p: Purpose, now: f64) {
        self.post_all(live, ni, gateway, vec![msg], p, now);
    }

    /// `POST /gossip/` from `gateway` carrying `msgs`.
    fn post_all(&mut self, live: &mut Live, ni: usize, gateway: u32, msgs: Vec<Message<u32>>, p: Purpose, now: f64) {
        let wire_msgs: Vec<Message<Id>> = msgs.into_iter().map(|m| self.onto_wire(m)).collect();
        let updates: usize = wire_msgs.iter().map(|m| m.update_count()).sum();
        self.stats.updates_out += updates as u64;
        let key = self.virtual_key(gateway);
        let body = wire::encode(&self.name_of_virtual(gateway), None, Some(&key), &wire_msgs);
        // JSON from strings and integers only
        let body = String::from_utf8(body).expect("serde_json writes UTF-8");
        let url = format!("{}/gossip/", self.natives[ni].url);
        if let Some(slot) = self.natives[ni].slot {
            let half = self.natives[ni].rtt_avg_ms.unwrap_or(20.0) / 2.0;
            let vnow = live.now();
            live.log_flight(Flight {
                from: gateway,
                to: slot,
                sent: vnow,
                arrives: Some(vnow + half.round() as u64),
                updates: updates > 0,
            });
        }
        self.issue(ni, ("POST", url, Some(body)), p, live.now(), now);
    }
}

/// How many of the page's own nodes a gateway's exchange re-announces (see
/// `Bridge::heartbeats`): 3 gateways at one exchange a second reach every
/// node of a 1,000-node page in under a minute.
pub(super) const HEARTBEATS_PER_EXCHANGE: usize = 8;

/// `k` gateways spread evenly over `n` virtual nodes.
pub(super) fn spread(k: u32, n: u32) -> Vec<u32> {
    let k = k.min(n.max(1));
    (0..k).map(|j| (j as u64 * n as u64 / k as u64) as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_second_of_burst_then_the_rate() {
        let mut b = Bucket::new(4.0, 0.0);
        let mut sent = 0;
        for _ in 0..10 {
            if b.has(0.0) {
                b.take();
                sent += 1;
            }
        }
        assert_eq!(sent, 4);
        assert!(!b.has(100.0));
        assert!(b.has(250.0));
    }
}
