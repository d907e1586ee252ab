//! Identities: who the page's virtual nodes are on the wire, and how names
//! and UUIDs cross between the run and the wire.
//!
//! Virtual node `i` is `browser-<tag>-<i>`, with a random tag per tab (kept
//! across reloads, see `crate::fetch::page_identity`); its
//! Ed25519 key pair derives from the page's secret and `i` (`node_seed`),
//! made when first needed and kept in a bounded cache. UUIDs of updates made
//! in the page are XORed with a random per-page key on the way out (and back
//! in), so two pages started with the same seed never send the same UUID for
//! different updates; views that carry no UUID get a stable made-up one
//! (`made_up_uuid`). Messages are translated here, both ways, leaving each
//! update's seal to `seals.rs`. Also [`normalize_url`]: a node's base URL
//! from what a person typed.

use std::sync::Arc;

use sha2::{Digest as _, Sha512};

use super::{Bridge, UrlError};
use crate::core::{Message, Refusals, Signer, Update, Uuid, Version};
use crate::sim::live::Live;
use crate::wire::{self, Id, Limits};

/// Most virtual nodes' key pairs kept (more are derived again when needed).
pub(super) const SIGNERS_CAP: usize = 4_096;

/// The secret seed of virtual node `i`'s key pair: the first 32 bytes of
/// SHA-512 over a domain tag, the page's secret and `i` (SHA-512 because
/// Ed25519 already brings it into the browser package; v1 was SHA-256).
pub(super) fn node_seed(secret: &[u8; 32], i: u32) -> [u8; 32] {
    let mut h = Sha512::new();
    h.update(b"gossip/browser-node-key/v2");
    h.update(secret);
    h.update(i.to_be_bytes());
    let d = h.finalize();
    d[..32].try_into().expect("SHA-512 has 64 bytes")
}

impl Bridge {
    /// A UUID crossing between the run and the wire, either way (XOR with
    /// the page's key is its own inverse).
    pub(super) fn cross_uuid(&self, uuid: Uuid) -> Uuid {
        Uuid::from_u128(uuid.as_u128() ^ self.key)
    }

    /// A message of the run on the wire: names for indices, wire UUIDs, and
    /// each update with the seal it leaves with (see `update_onto_wire`).
    pub(super) fn onto_wire(&mut self, m: Message<u32>) -> Message<Id> {
        let digest = |this: &Self, d: Vec<(u32, Version)>| d.into_iter().map(|(o, v)| (this.name_of(o), v)).collect();
        match m {
            Message::Push(us) => Message::Push(self.updates_onto_wire(us)),
            Message::Feedback(k) => Message::Feedback(digest(self, k)),
            Message::Digest { digest: d, push_pull } => {
                Message::Digest { digest: digest(self, d.into_vec()).into(), push_pull }
            }
            Message::Delta { updates, request } => {
                let updates = self.updates_onto_wire(updates);
                Message::Delta { updates, request: digest(self, request.into_vec()).into() }
            }
        }
    }

    fn updates_onto_wire(&mut self, us: Vec<Update<u32>>) -> Vec<Update<Id>> {
        us.into_iter().filter_map(|u| self.update_onto_wire(u)).collect()
    }

    /// Virtual node `i`'s key pair, derived from the page's secret when
    /// first needed.
    pub(super) fn signer_of(&mut self, i: u32) -> Arc<Signer> {
        if let Some(s) = self.signers.get(&i) {
            return s.clone();
        }
        let s = Arc::new(Signer::from_seed(node_seed(&self.secret, i)));
        self.signers.insert(i, s.clone());
        s
    }

    /// A message from the wire in the run's indices; identities that cannot
    /// be mapped are left out (and counted), updates whose seals fail are
    /// left out and counted in `refused`.
    pub(super) fn wire_to_run(
        &mut self,
        live: &mut Live,
        m: Message<Id>,
        refused: &mut Refusals,
    ) -> Option<Message<u32>> {
        let updates = |this: &mut Self, live: &mut Live, us: Vec<Update<Id>>, refused: &mut Refusals| {
            let mut out = Vec::with_capacity(us.len());
            for u in us {
                match this.admit(live, u) {
                    Ok(Some(u)) => out.push(u),
                    Ok(None) => {}
                    Err(r) => refused.add(r),
                }
            }
            out
        };
        let digest = |this: &mut Self, live: &mut Live, d: Vec<(Id, Version)>| -> Vec<(u32, Version)> {
            d.into_iter().filter_map(|(o, v)| Some((this.index_of(live, &o)?, v))).collect()
        };
        Some(match m {
            Message::Push(us) => Message::Push(updates(self, live, us, refused)),
            Message::Delta { updates: us, request } => {
                let us = updates(self, live, us, refused);
                Message::Delta { updates: us, request: digest(self, live, request.into_vec()).into() }
            }
            Message::Feedback(k) => Message::Feedback(digest(self, live, k)),
            // a native asking the gateway for its digest: not part of this exchange
            Message::Digest { .. } => return None,
        })
    }
}

/// `http://host:port` from what a person typed: trailing slashes dropped,
/// only `http` and `https`, a host required.
pub fn normalize_url(url: &str) -> Result<String, UrlError> {
    let u = url.trim().trim_end_matches('/');
    if u.contains("://") && u.splitn(4, '/').nth(3).is_some() {
        return Err(UrlError::HasPath(url.to_owned()));
    }
    if u.len() > Limits::default().max_url_len || !wire::is_base_url(u) {
        return Err(UrlError::NotBase(url.to_owned()));
    }
    Ok(u.to_owned())
}

/// A stable UUID for `origin` at `version`, for views that do not carry one.
pub(super) fn made_up_uuid(origin: &str, version: Version) -> Uuid {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in origin.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let a = crate::rng::mix64(h ^ version.counter);
    let b = crate::rng::mix64(a ^ (version.epoch as u64) << 1);
    Uuid::from_u64_pair(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized_and_checked() {
        assert_eq!(normalize_url(" http://127.0.0.1:7000/ ").unwrap(), "http://127.0.0.1:7000");
        assert_eq!(normalize_url("127.0.0.1:7000"), Err(UrlError::NotBase("127.0.0.1:7000".into())));
        assert_eq!(
            normalize_url("http://h:1/gossip/").unwrap_err().to_string(),
            "\"http://h:1/gossip/\" has a path: give the node's base URL (like http://127.0.0.1:7000)"
        );
        assert!(normalize_url("ftp://x").is_err());
        assert!(normalize_url("http://127.0.0.1:7000/gossip/").is_err());
        assert!(normalize_url("http://").is_err());
    }

    #[test]
    fn made_up_uuids_are_stable_and_differ_by_version() {
        let a = made_up_uuid("http://x:1", Version::new(1, 2));
        assert_eq!(a, made_up_uuid("http://x:1", Version::new(1, 2)));
        assert_ne!(a, made_up_uuid("http://x:1", Version::new(1, 3)));
        assert_ne!(a, made_up_uuid("http://x:2", Version::new(1, 2)));
        assert!(a.to_string().len() == 36);
    }
}
