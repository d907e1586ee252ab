//! Seals: the authenticity of the updates that cross between the page and
//! real nodes (see `core::auth`).
//!
//! Going out, a virtual node's update is sealed with its own key over its
//! wire form (wire UUID, wire name), once, then cached; another origin's
//! update leaves with the seal it came with, and only while that seal is by
//! the key its origin is bound to. Coming in, every update passes the seal
//! gate before it enters the run: unsigned ones are welcome (as the native
//! nodes' default policy has them) unless the page asked for seals,
//! the page's own nodes are bound to their own keys, and an outside origin
//! to the first key that sealed it (trust on first use), or to the key its
//! native answered with from its own URL (direct proof). The gate is the
//! core's own rule ([`auth::gate`]); the bridge brings its verification,
//! the costly part: each seal is verified once (its digest is remembered),
//! and at most `VERIFY_PER_PUMP` in a pump; updates beyond are deferred,
//! and come again in a later exchange.

use std::sync::Arc;

use sha2::{Digest as _, Sha512};

use super::Bridge;
use crate::core::auth::{self, short_key, Passage, Policy, PublicKey, Refusal, Refusals, Seal};
use crate::core::{Payload, Update, Uuid, Version};
use crate::sim::live::Live;
use crate::wire::Id;

/// Most seals of virtual nodes' updates kept.
pub(super) const SEALS_CAP: usize = 8_192;
/// Most verified seals remembered.
pub(super) const VERIFIED_CAP: usize = 16_384;
/// Most seals verified in one pump (a few tens of ms in a browser); updates
/// beyond are left out, and come again in a later exchange.
pub(super) const VERIFY_PER_PUMP: u32 = 256;

/// What names a verified seal in the cache: 128 bits of SHA-512 over the
/// signed bytes, the key and the signature (collision-resistant, so a
/// forgery cannot pass for a seal verified before). SHA-512 because
/// Ed25519 already brings it: a second hash would cost the browser package
/// its code.
fn seal_digest(signed: &[u8], seal: &Seal) -> u128 {
    let mut h = Sha512::new();
    h.update(signed);
    h.update(seal.key);
    h.update(seal.sig);
    let d = h.finalize();
    u128::from_le_bytes(d[..16].try_into().expect("SHA-512 has 64 bytes"))
}

impl Bridge {
    /// An update of the run on the wire: a virtual node's sealed with its
    /// key over the wire form; another origin's with the seal it came with,
    /// unless that is no longer by the key its origin is bound to (or it has
    /// none, where unsigned updates are not allowed): then it stays here.
    pub(super) fn update_onto_wire(&mut self, u: Update<u32>) -> Option<Update<Id>> {
        let origin = self.name_of(u.origin);
        let uuid = self.cross_uuid(u.uuid);
        let seal = if self.slot_names.contains_key(&u.origin) {
            if !self.sealed_as_bound(u.origin, u.seal.as_ref().map(|s| s.key)) {
                self.stats.withheld += 1;
                return None;
            }
            u.seal.clone()
        } else {
            Some(self.seal_virtual(u.origin, &origin, u.uuid, uuid, u.version, &u.payload))
        };
        Some(Update::new(uuid, origin, u.version, u.ttl, u.payload.clone(), seal))
    }

    /// Whether an update of origin `o` sealed by `key` (`None`: unsigned) is
    /// as the origin's binding wants it: by the key `o` is bound to, or
    /// unsigned where `o` is bound to none and unsigned updates are allowed.
    /// The rule for what the bridge passes on (verified when it came in) and
    /// for the `/state` entries it trusts (which carry no signatures).
    pub(super) fn sealed_as_bound(&self, o: u32, key: Option<PublicKey>) -> bool {
        match (self.bound.get(&o), key) {
            (Some(b), Some(k)) => *b == k,
            (None, None) => self.opts.allow_unsigned,
            _ => false,
        }
    }

    /// Virtual node `i`'s seal on its update (`run_uuid` in the run,
    /// `wire_uuid` and `name` on the wire), made once.
    fn seal_virtual(
        &mut self,
        i: u32,
        name: &Id,
        run_uuid: Uuid,
        wire_uuid: Uuid,
        version: Version,
        payload: &Payload,
    ) -> Arc<Seal> {
        let k = (i, version, run_uuid);
        if let Some((p, seal)) = self.seals.get(&k) {
            if p == payload {
                return seal.clone();
            }
        }
        let seal = self.signer_of(i).seal(wire_uuid, name, version, payload.as_str());
        self.stats.sealed += 1;
        // the page's own updates coming back need no verification
        auth::signed_bytes(wire_uuid, name, version, payload.as_str(), &mut self.sign_buf);
        self.verified.insert(seal_digest(&self.sign_buf, &seal), ());
        self.seals.insert(k, (payload.clone(), seal.clone()));
        seal
    }

    /// Whether `seal` is valid for `u` (as it is on the wire); each seal is
    /// verified once. `None`: not known, and no verification left in this pump
    /// (the seal gate then defers the update).
    fn verify(&mut self, u: &Update<Id>, seal: &Seal) -> Option<bool> {
        auth::signed_bytes(u.uuid, &u.origin, u.version, u.payload.as_str(), &mut self.sign_buf);
        let d = seal_digest(&self.sign_buf, seal);
        if self.verified.get(&d).is_some() {
            return Some(true);
        }
        if self.verify_budget == 0 {
            return None;
        }
        self.verify_budget -= 1;
        self.stats.verified += 1;
        if !auth::verify(seal, u.uuid, &u.origin, u.version, u.payload.as_str(), &mut self.sign_buf) {
            return Some(false);
        }
        self.verified.insert(d, ());
        Some(true)
    }

    /// Let an update from a real node into the run, in the run's indices, if
    /// its seal passes the seal gate ([`auth::gate`]): `Ok(None)` if its
    /// origin cannot be mapped or its seal not verified in this pump (left
    /// out), `Err` if refused. An outside origin not bound to a key yet is
    /// bound to the key of its first valid seal.
    pub(super) fn admit(&mut self, live: &mut Live, u: Update<Id>) -> Result<Option<Update<u32>>, Refusal> {
        let own = u.origin.starts_with(self.prefix.as_str());
        // the page's own nodes are bound to their own keys: an unsigned update
        // of one is refused whatever the policy, as one sealed by another key
        let (known, bound) = if own {
            let Some(i) = self.index_of(live, &u.origin) else { return Ok(None) };
            (Some(i), Some(self.virtual_key(i)))
        } else {
            match self.names.get(&u.origin) {
                Some(&s) => (Some(s), self.bound.get(&s).copied()),
                // no room for another outside identity: not worth a verification
                None if self.names.len() >= self.opts.max_remote_origins => {
                    self.stats.origins_dropped += 1;
                    return Ok(None);
                }
                None => (None, None),
            }
        };
        let policy = if self.opts.allow_unsigned { Policy::Welcome } else { Policy::Required };
        match auth::gate(policy, bound, u.seal.as_deref(), |seal| self.verify(&u, seal))? {
            Passage::Admit => {}
            // no verification left in this pump: it comes again
            Passage::Defer => {
                self.stats.deferred += 1;
                return Ok(None);
            }
        }
        let Some(origin) = known.or_else(|| self.index_of(live, &u.origin)) else { return Ok(None) };
        if !own {
            self.note_seal(origin, u.seal.is_some());
        }
        if let (Some(seal), None, false) = (&u.seal, bound, own) {
            if self.slot_names.contains_key(&origin) {
                self.bound.insert(origin, seal.key);
            }
        }
        Ok(Some(Update::new(self.cross_uuid(u.uuid), origin, u.version, u.ttl, u.payload.clone(), u.seal.clone())))
    }

    /// Native `ni` (in `slot`) proved it holds `key`: bind its identity to
    /// it. Its updates sealed by another key are refused from now on, and
    /// are not passed on.
    pub(super) fn bind_native(&mut self, ni: usize, slot: u32, key: PublicKey) {
        self.natives[ni].key = Some(key);
        if let Some(old) = self.bound.insert(slot, key).filter(|old| *old != key) {
            let url = self.natives[ni].url.clone();
            self.notice(
                "info",
                format!(
                    "{url} has a new key ({}, was {}): updates sealed by the old one are refused from now on",
                    short_key(&key),
                    short_key(&old)
                ),
            );
        }
    }

    /// Count what the checks refused of native `ni`'s answer; say so once per node.
    pub(super) fn refusals(&mut self, ni: usize, r: Refusals) {
        if r.total() == 0 {
            return;
        }
        self.stats.unsigned += r.unsigned;
        self.stats.bound_unsigned += r.bound_unsigned;
        self.stats.bad_signature += r.bad_signature;
        self.stats.key_mismatch += r.key_mismatch;
        let url = self.natives[ni].url.clone();
        self.notice_once(
            format!("{url}#refused"),
            "warn",
            format!(
                "{url} sent updates the lab refused: {} (counted in the bridge's stats)",
                r.describe().unwrap_or_default()
            ),
        );
    }
}
