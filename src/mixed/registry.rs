//! The registry: the real nodes the page dials, and the slots of every
//! identity from outside the page.
//!
//! An outside identity (a native node, or a virtual node of another page)
//! gets a slot in the run on first sight ([`Live::add_remote`]), within
//! `max_remote_origins`; `names` and `slot_names` map identities to slots
//! and back, and stay when the page disconnects. The natives (at most
//! `max_natives`, by base URL, found from the node connected to, `/peers/`
//! answers and update origins) hold what the page shows of them
//! ([`NativeView`]: whether they answer ([`Reach`]), round-trip times, their
//! favorite) and what the scheduler needs (backoff, next polls, requests in
//! flight, their token bucket). Kept apart because it is where a real node
//! claims an identity, and so where one that poses as the page's own nodes
//! is turned away.

use serde::Serialize;

use super::identities::normalize_url;
use super::schedule::Bucket;
use super::{AnswerError, Bridge};
use crate::core::{PublicKey, Version};
use crate::sim::live::{Live, NodeKind};
use crate::wire::{self, Id};

/// Whether a native node answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// Not heard from yet.
    Connecting,
    /// Its last request was answered.
    Reachable,
    /// Its last request failed; retried after a backoff.
    Unreachable,
}

/// A native node, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NativeView {
    /// Its base URL.
    pub url: String,
    /// Its identity (from its answers; usually the URL).
    pub name: Option<String>,
    /// Its index in the run, once it has one.
    pub slot: Option<u32>,
    /// Whether it answers.
    pub status: Reach,
    /// Last measured round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// Smoothed round-trip time, ms.
    pub rtt_avg_ms: Option<f64>,
    /// Its favorite, as its last `/state` said.
    pub movie: Option<String>,
    /// Its version counter.
    pub version: u64,
    /// Its epoch.
    pub epoch: u32,
    /// Failures in a row.
    pub failures: u32,
    /// Why the last request failed.
    pub last_error: Option<String>,
    /// Requests sent to it.
    pub requests: u64,
    /// Its Ed25519 public key (base64url), once it answered with it.
    pub key: Option<String>,
}

/// A real node the page dials: what the page shows of it, and what the
/// scheduler needs.
#[derive(Clone, Debug)]
pub(super) struct Native {
    pub(super) url: String,
    pub(super) name: Option<Id>,
    pub(super) slot: Option<u32>,
    pub(super) status: Reach,
    pub(super) rtt_ms: Option<f64>,
    pub(super) rtt_avg_ms: Option<f64>,
    pub(super) movie: Option<String>,
    pub(super) version: Version,
    pub(super) failures: u32,
    pub(super) last_error: Option<String>,
    pub(super) retry_at: f64,
    pub(super) next_state: f64,
    pub(super) next_peers: f64,
    pub(super) in_flight: u32,
    /// A `GET` (state or peers) is in flight.
    pub(super) polling: bool,
    pub(super) requests: u64,
    pub(super) bucket: Bucket,
    /// The key it answered with from its own URL.
    pub(super) key: Option<PublicKey>,
}

impl Native {
    /// What the page shows of it.
    pub(super) fn view(&self) -> NativeView {
        NativeView {
            url: self.url.clone(),
            name: self.name.as_deref().map(str::to_owned),
            slot: self.slot,
            status: self.status,
            rtt_ms: self.rtt_ms,
            rtt_avg_ms: self.rtt_avg_ms,
            movie: self.movie.clone(),
            version: self.version.counter,
            epoch: self.version.epoch,
            failures: self.failures,
            last_error: self.last_error.clone(),
            requests: self.requests,
            key: self.key.as_ref().map(wire::key_text),
        }
    }
}

impl Bridge {
    /// Native `ni` answered, `rtt` ms after the request left: reachable.
    pub(super) fn alive(&mut self, live: &mut Live, ni: usize, rtt: f64) {
        let n = &mut self.natives[ni];
        let rtt = rtt.max(0.0);
        n.rtt_ms = Some(rtt);
        n.rtt_avg_ms = Some(n.rtt_avg_ms.map_or(rtt, |a| 0.8 * a + 0.2 * rtt));
        n.failures = 0;
        n.last_error = None;
        n.retry_at = 0.0;
        if n.status != Reach::Reachable {
            let was = n.status;
            n.status = Reach::Reachable;
            let url = n.url.clone();
            if let Some(s) = n.slot {
                live.set_reachable(s, true);
            }
            let text = if was == Reach::Unreachable {
                format!("{url} answers again")
            } else {
                format!("{url} answered in {} ms", rtt.round() as u64)
            };
            self.notice("info", text);
        }
    }

    /// Native `ni` did not answer: unreachable, and probed again after an
    /// exponential backoff with jitter.
    pub(super) fn failed(&mut self, live: &mut Live, ni: usize, now: f64, why: String) {
        self.stats.failed += 1;
        let (min, max) = (self.opts.backoff_min_ms as f64, self.opts.backoff_max_ms as f64);
        let jitter = 0.75 + 0.5 * self.rng.unit();
        let n = &mut self.natives[ni];
        n.failures = n.failures.saturating_add(1);
        let delay = (min * 2f64.powi(n.failures.saturating_sub(1).min(30) as i32)).min(max) * jitter;
        n.retry_at = now + delay;
        n.last_error = Some(why.clone());
        if n.status != Reach::Unreachable {
            n.status = Reach::Unreachable;
            let url = n.url.clone();
            if let Some(s) = n.slot {
                live.set_reachable(s, false);
            }
            self.notice(
                "warn",
                format!("{url} is not answering ({why}); retrying with backoff. Network error, node down, or CORS"),
            );
        }
    }

    /// Native `ni` says its identity is `name`: give it (or find) its slot.
    pub(super) fn claim_name(&mut self, live: &mut Live, ni: usize, name: Id) -> Result<u32, AnswerError> {
        if let Some(s) = self.natives[ni].slot {
            if self.natives[ni].name.as_ref() == Some(&name) {
                return Ok(s);
            }
        }
        if name.starts_with(self.prefix.as_str()) {
            return Err(AnswerError::ClaimsPageNode(name));
        }
        let slot = match self.names.get(&name) {
            Some(&s) => s,
            None => {
                if self.names.len() >= self.opts.max_remote_origins {
                    self.stats.origins_dropped += 1;
                    return Err(AnswerError::TooManyIdentities);
                }
                self.intern(live, name.clone(), NodeKind::Native)
            }
        };
        let n = &mut self.natives[ni];
        n.name = Some(name);
        n.slot = Some(slot);
        live.set_reachable(slot, n.status == Reach::Reachable);
        Ok(slot)
    }

    fn intern(&mut self, live: &mut Live, name: Id, kind: NodeKind) -> u32 {
        let s = live.add_remote(kind);
        self.names.insert(name.clone(), s);
        self.slot_names.insert(s, name);
        s
    }

    /// The run's index for identity `id`: a virtual node of this page, or
    /// a slot (made on first sight, within the cap). `None`: drop it.
    pub(super) fn index_of(&mut self, live: &mut Live, id: &str) -> Option<u32> {
        if let Some(rest) = id.strip_prefix(self.prefix.as_str()) {
            let i: u32 = rest.parse().ok()?;
            // only canonical decimal names of existing simulated nodes
            return (i.to_string() == rest && i < live.len() && !live.is_remote(i)).then_some(i);
        }
        if let Some(&s) = self.names.get(id) {
            return Some(s);
        }
        if self.names.len() >= self.opts.max_remote_origins {
            self.stats.origins_dropped += 1;
            return None;
        }
        let native = wire::is_base_url(id);
        let s = self.intern(live, Id::from(id), if native { NodeKind::Native } else { NodeKind::RemoteVirtual });
        if native {
            if let Ok(u) = normalize_url(id) {
                // a real node learned from gossip: dial it too
                if let Some(ni) = self.add_native(&u, 0.0) {
                    if self.natives[ni].slot.is_none() && u == id {
                        self.natives[ni].slot = Some(s);
                        self.natives[ni].name = Some(Id::from(id));
                    }
                }
            }
        }
        Some(s)
    }

    pub(super) fn add_native(&mut self, url: &str, now: f64) -> Option<usize> {
        if let Some(&i) = self.by_url.get(url) {
            return Some(i);
        }
        if self.natives.len() >= self.opts.max_natives {
            self.notice_once(
                "natives-cap".into(),
                "warn",
                format!("more than {} real nodes: the rest are ignored", self.opts.max_natives),
            );
            return None;
        }
        let i = self.natives.len();
        // a slot that gossip already made for this identity
        let slot = self.names.get(url).copied();
        self.natives.push(Native {
            url: url.to_owned(),
            name: slot.map(|_| Id::from(url)),
            slot,
            status: Reach::Connecting,
            rtt_ms: None,
            rtt_avg_ms: None,
            movie: None,
            version: Version::new(0, 0),
            failures: 0,
            last_error: None,
            retry_at: 0.0,
            next_state: now,
            next_peers: now,
            in_flight: 0,
            polling: false,
            requests: 0,
            bucket: Bucket::new(self.opts.per_node_rps, now),
            key: None,
        });
        self.by_url.insert(url.to_owned(), i);
        Some(i)
    }

    pub(super) fn native_of_slot(&self, slot: u32) -> Option<usize> {
        self.natives.iter().position(|n| n.slot == Some(slot))
    }
}
