//! Answers: what the real nodes said, read into the run.
//!
//! An outcome is matched to the request it answers. No answer marks the
//! node unreachable (with backoff); an answer marks it reachable, and is
//! read for what was asked: a `POST /gossip/` answer is delivered to its
//! gateway as if it came over the simulated network (every update through
//! the seal gate), `GET /state` gives the node's favorite and the view the
//! page draws for it, and `GET /peers/` the nodes to dial next. All of it is
//! bounded (body size, identities, peers read), and an answer that cannot be
//! used is counted and said once per node. Bodies are read as
//! [`Doc`]s (see `wire::doc`), the same natively and in the page.

use std::collections::BTreeMap;

use super::identities::{made_up_uuid, normalize_url};
use super::notices::refusal_text;
use super::schedule::{Pending, Purpose};
use super::{AnswerError, Bridge, Outcome};
use crate::core::message::parse_uuid;
use crate::core::{Message, Payload, Refusals, Update, Version, MAX_COUNTER};
use crate::sim::engine::Flight;
use crate::sim::live::Live;
use crate::wire::doc::Doc;
use crate::wire::{self, Id, Limits, WireError};

/// Most peers read from one `GET /peers/` answer.
const PEERS_READ: usize = 1_024;

/// `GET /state`, the parts the bridge reads.
struct StateDoc {
    id: String,
    movie: Option<String>,
    version: u64,
    epoch: u32,
    key: Option<String>,
    view: BTreeMap<String, StateEntry>,
}

/// One entry of its view.
struct StateEntry {
    movie: String,
    version: u64,
    epoch: u32,
    ttl: u32,
    uuid: Option<String>,
    key: Option<String>,
}

impl StateDoc {
    /// Read from the parsed answer (fields absent or `null` take their
    /// defaults; of an origin given twice in the view, the last counts).
    fn read(d: &Doc) -> Result<StateDoc, WireError> {
        let text = |name| d.str_field(name).map(|s| s.map(str::to_owned));
        let mut view = BTreeMap::new();
        for (origin, e) in d.obj_field("view")? {
            if !matches!(e, Doc::Obj(_)) {
                return Err(wire::doc::wrong("view", "an object of objects", e));
            }
            let text = |name| e.str_field(name).map(|s| s.map(str::to_owned));
            let entry = StateEntry {
                movie: e.required_str("movie")?.to_owned(),
                version: e.required_uint("version", u64::MAX)?,
                epoch: e.uint_field("epoch", u32::MAX as u64)?.unwrap_or(0) as u32,
                ttl: e.uint_field("ttl", u32::MAX as u64)?.unwrap_or(0) as u32,
                uuid: text("uuid")?,
                key: text("key")?,
            };
            view.insert(origin.clone(), entry);
        }
        Ok(StateDoc {
            id: d.required_str("id")?.to_owned(),
            movie: text("movie")?,
            version: d.uint_field("version", u64::MAX)?.unwrap_or(0),
            epoch: d.uint_field("epoch", u32::MAX as u64)?.unwrap_or(0) as u32,
            key: text("key")?,
            view,
        })
    }
}

impl Bridge {
    /// The outcome of request `p`, which came back at `now`.
    pub(super) fn answered(&mut self, live: &mut Live, p: Pending, now: f64, outcome: Outcome) {
        let ni = p.native;
        if ni >= self.natives.len() {
            return;
        }
        self.natives[ni].in_flight = self.natives[ni].in_flight.saturating_sub(1);
        if matches!(p.purpose, Purpose::State | Purpose::Peers) {
            self.natives[ni].polling = false;
        }
        let (status, body) = match outcome {
            Ok(answer) => answer,
            Err(why) => return self.failed(live, ni, now, why.to_string()),
        };
        self.alive(live, ni, now - p.sent_at);
        self.stats.bytes_in += body.len() as u64;
        if !(200..300).contains(&status) {
            self.stats.refused += 1;
            let what = refusal_text(&body);
            let url = self.natives[ni].url.clone();
            self.notice_once(format!("{url}#{status}"), "warn", format!("{url} answered {status}: {what}"));
            return;
        }
        self.stats.ok += 1;
        if body.len() > self.opts.max_body_bytes {
            return self.bad_answer(ni, format!("an answer of {} bytes, over the limit", body.len()));
        }
        let result = match p.purpose {
            Purpose::Exchange { gateway } | Purpose::FollowUp { gateway } => {
                self.exchange_answer(live, ni, gateway, &body, p.sent_virtual)
            }
            Purpose::State => self.state_answer(live, ni, &body),
            Purpose::Peers => self.peers_answer(&body, now),
        };
        if let Err(e) = result {
            self.bad_answer(ni, e.to_string());
        }
    }

    /// Native `ni` sent an answer that cannot be used: count it, say so once.
    fn bad_answer(&mut self, ni: usize, why: String) {
        self.stats.bad_answers += 1;
        let url = self.natives[ni].url.clone();
        self.notice_once(format!("{url}#bad"), "warn", format!("{url} sent an answer the lab cannot use: {why}"));
    }

    /// The answer to `gateway`'s `POST /gossip/` (sent at virtual time
    /// `sent`), delivered to it as if over the simulated network.
    fn exchange_answer(
        &mut self,
        live: &mut Live,
        ni: usize,
        gateway: u32,
        body: &str,
        sent: u64,
    ) -> Result<(), AnswerError> {
        let env = wire::decode_text(body, &Limits::default()).map_err(AnswerError::Wire)?;
        let slot = self.claim_name(live, ni, env.from.clone())?;
        // an answer from the URL dialed, naming that URL and its key: direct proof
        if let Some(k) = env.key.filter(|_| *env.from == *self.natives[ni].url) {
            self.bind_native(ni, slot, k);
        }
        let mut carried = 0;
        let mut refused = Refusals::default();
        for m in env.messages {
            let Some(m) = self.wire_to_run(live, m, &mut refused) else { continue };
            carried += m.update_count();
            if let Message::Delta { updates, .. } | Message::Push(updates) = &m {
                self.note_versions(live, slot, updates, updates);
            }
            live.deliver_remote(gateway, slot, m);
        }
        self.stats.updates_in += carried as u64;
        self.refusals(ni, refused);
        let vnow = live.now();
        live.log_flight(Flight {
            from: slot,
            to: gateway,
            sent: sent.min(vnow),
            arrives: Some(vnow),
            updates: carried > 0,
        });
        Ok(())
    }

    /// `GET /state`: the node's identity, key, favorite and view.
    fn state_answer(&mut self, live: &mut Live, ni: usize, body: &str) -> Result<(), AnswerError> {
        let doc = Doc::parse(body)
            .and_then(|d| StateDoc::read(&d))
            .map_err(|e| AnswerError::Body { route: "GET /state", why: e.to_string() })?;
        let lim = Limits::default();
        if doc.id.is_empty() || doc.id.len() > lim.max_id_len {
            return Err(AnswerError::BadId);
        }
        let slot = self.claim_name(live, ni, Id::from(doc.id.as_str()))?;
        // the node's own key, read from its own URL: direct proof, like an answer
        if let Some(k) = doc.key.as_deref().and_then(wire::parse_key).filter(|_| doc.id == self.natives[ni].url) {
            self.bind_native(ni, slot, k);
        }
        let n = &mut self.natives[ni];
        n.movie = doc.movie.filter(|m| m.len() <= lim.max_payload);
        n.version = Version::new(doc.epoch, doc.version.min(MAX_COUNTER));
        let mut updates = Vec::new();
        let mut trusted = Vec::new();
        for (origin, e) in doc.view.into_iter().take(self.opts.max_remote_origins) {
            if origin.is_empty() || origin.len() > lim.max_id_len || e.movie.len() > lim.max_payload {
                continue;
            }
            if e.version == 0 || e.version > MAX_COUNTER {
                continue;
            }
            let Some(o) = self.index_of(live, &origin) else { continue };
            let version = Version::new(e.epoch, e.version);
            let uuid = match e.uuid.as_deref().and_then(parse_uuid) {
                Some(u) => self.cross_uuid(u),
                // an older node without UUIDs in /state: one stable made-up UUID per version
                None => made_up_uuid(&origin, version),
            };
            let u = Update::new(uuid, o, version, e.ttl, Payload::from(e.movie), None);
            // `/state` carries no signatures: its entries are news for the
            // run only if sealed (as the node says) by the key the lab binds
            // their origin to, or unsigned where unsigned updates are allowed
            if self.sealed_as_bound(o, e.key.as_deref().and_then(wire::parse_key)) {
                trusted.push(u.clone());
            }
            if !origin.starts_with(self.prefix.as_str()) {
                self.note_seal(o, e.key.is_some());
            }
            updates.push(u);
        }
        // the updates go into this node's mirror there (as it said them)
        self.note_versions(live, slot, &updates, &trusted);
        Ok(())
    }

    /// `GET /peers/`: more nodes to dial.
    fn peers_answer(&mut self, body: &str, now: f64) -> Result<(), AnswerError> {
        let list = match Doc::parse(body) {
            Ok(Doc::Arr(list)) => list,
            Ok(d) => {
                return Err(AnswerError::Body {
                    route: "GET /peers/",
                    why: format!("an array expected, not {}", d.kind()),
                })
            }
            Err(e) => return Err(AnswerError::Body { route: "GET /peers/", why: e.to_string() }),
        };
        for v in list.iter().take(PEERS_READ) {
            if let Some(u) = v.as_str().and_then(|s| normalize_url(s).ok()) {
                self.add_native(&u, now);
            }
        }
        Ok(())
    }

    /// Record what remote origins' updates say of them: a newer version is
    /// news for the run, and each origin knows its own update (its mirror
    /// learns it), for the `trusted` ones; the native that sent them
    /// (`via`) knows them all.
    fn note_versions(&mut self, live: &mut Live, via: u32, updates: &[Update<u32>], trusted: &[Update<u32>]) {
        let mut own: BTreeMap<u32, Vec<Update<u32>>> = BTreeMap::new();
        for u in trusted {
            if live.is_remote(u.origin) {
                live.remote_originated(u.origin, u.version);
                if u.origin != via {
                    own.entry(u.origin).or_default().push(u.clone());
                }
            }
        }
        for (o, us) in own {
            live.mirror(o, us);
        }
        if !updates.is_empty() {
            live.mirror(via, updates.to_vec());
        }
    }
}
