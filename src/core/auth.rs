//! Origin authenticity: Ed25519 seals on updates.
//!
//! Every node, native or virtual, has an Ed25519 key pair. When it makes a
//! new version of its favorite it *seals* the update: it signs
//! `(uuid, origin, epoch, version, payload)` — everything but the TTL, which
//! changes at every hop — and the [`Seal`] (public key and signature) travels
//! with the update wherever it goes, unchanged. Nodes check seals before they
//! apply or forward an update ([`Policy`]), and bind each origin to one key:
//! the first verified key for an origin is pinned (trust on first use), and
//! only the driver can re-pin it, when it has direct proof (an answer from
//! the origin's own URL, see [`super::Node::bind_key`]).
//!
//! Pure computation, no clock and no randomness: a [`Signer`] is made from a
//! 32-byte seed the driver provides (OS entropy, a state file, or the
//! simulator's seeded RNG), so this runs in the core, in native code and in
//! wasm alike.

use std::sync::Arc;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::message::{NodeId, Uuid};
use super::version::Version;

/// An Ed25519 public key, 32 bytes.
pub type PublicKey = [u8; 32];

/// What signs the bytes: a domain tag, so a seal can never be taken for a
/// signature over anything else.
const DOMAIN: &[u8] = b"gossip/update/v1";

/// The proof that an update comes from the holder of `key`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Seal {
    /// The origin's public key.
    pub key: PublicKey,
    /// Its Ed25519 signature over [`signed_bytes`].
    pub sig: [u8; 64],
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Seal(key {})", short_key(&self.key))
    }
}

/// The first bytes of a key in hex, to name it in logs.
pub fn short_key(key: &PublicKey) -> String {
    key[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether nodes ask for seals, and what they do without one.
///
/// What each mode defends is in `SECURITY.md` ("Seal policies").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// No checks at all (the simulator's experiments, where every node is honest).
    Off,
    /// Trust on first seal, the default: seals are checked when present, and
    /// an unsigned update is welcome for an origin that has never been seen
    /// signed (a course implementation that does not sign), shown as
    /// unverified. An origin once seen signed is bound to its key: it is
    /// never again accepted unsigned ([`Refusal::BoundUnsigned`]) or under
    /// another key ([`Refusal::KeyMismatch`]).
    #[default]
    Welcome,
    /// Every update must carry a valid seal from its origin's key
    /// (`--require-signed`): unsigned updates are refused ([`Refusal::Unsigned`]).
    Required,
}

impl Policy {
    /// Its name, as `/state` shows it (`welcome`, `required`, `off`).
    pub fn name(self) -> &'static str {
        match self {
            Policy::Off => "off",
            Policy::Welcome => "welcome",
            Policy::Required => "required",
        }
    }

    /// The policy in a few words, for a node's start-up line.
    pub fn describe(self) -> &'static str {
        match self {
            Policy::Off => "seals are not checked",
            Policy::Welcome => {
                "unsigned updates are welcome (shown as unverified) for origins never seen signed; \
                 an origin seen signed must stay signed by its key (--require-signed refuses every unsigned update)"
            }
            Policy::Required => "every update must carry its origin's Ed25519 seal (--require-signed)",
        }
    }
}

/// Why an update's seal was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No seal, and the policy wants one ([`Policy::Required`]).
    Unsigned,
    /// No seal, but the origin is bound to a key (it was seen signed): its
    /// updates must stay signed, whatever the policy. The usual cause is a
    /// node that forwards someone else's update without its `key` and `sig`.
    BoundUnsigned,
    /// A seal whose signature does not verify (or whose key is not a valid point).
    BadSignature,
    /// A valid seal, but by another key than the one bound to the origin.
    KeyMismatch,
}

/// What the seal gate made of an update that it let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passage {
    /// Admitted: no seal needed, or its seal verified.
    Admit,
    /// Its seal could not be verified now (the caller's budget ran out):
    /// neither taken nor refused, to be seen again later.
    Defer,
}

/// The seal gate: the one rule every holder of updates applies (the core's
/// nodes, the page's bridge to real nodes) before it takes an update of an
/// origin bound to `bound` that carries `seal`.
///
/// * `Policy::Off` admits everything, unchecked;
/// * without a seal: refused as [`Refusal::BoundUnsigned`] if the origin is
///   bound to a key (an origin once seen signed stays signed), else as
///   [`Refusal::Unsigned`] under `Policy::Required`, else (under
///   `Policy::Welcome`) admitted, unverified;
/// * with a seal by another key than the bound one: [`Refusal::KeyMismatch`];
/// * otherwise `verify` is asked (only then, as it is the costly part):
///   `Some(false)` refuses as [`Refusal::BadSignature`], `None` defers.
pub fn gate(
    policy: Policy,
    bound: Option<PublicKey>,
    seal: Option<&Seal>,
    verify: impl FnOnce(&Seal) -> Option<bool>,
) -> Result<Passage, Refusal> {
    match (seal, policy) {
        (_, Policy::Off) => Ok(Passage::Admit),
        (None, _) if bound.is_some() => Err(Refusal::BoundUnsigned),
        (None, Policy::Required) => Err(Refusal::Unsigned),
        (None, Policy::Welcome) => Ok(Passage::Admit),
        (Some(seal), _) => {
            if bound.is_some_and(|k| k != seal.key) {
                return Err(Refusal::KeyMismatch);
            }
            match verify(seal) {
                Some(true) => Ok(Passage::Admit),
                Some(false) => Err(Refusal::BadSignature),
                None => Ok(Passage::Defer),
            }
        }
    }
}

/// Updates refused by the authenticity and sanity checks, by reason: what
/// one exchange or one answer had refused, for the driver to report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refusals {
    /// No seal, and one is required.
    pub unsigned: u64,
    /// No seal, although the origin is bound to a key.
    pub bound_unsigned: u64,
    /// A seal that does not verify.
    pub bad_signature: u64,
    /// Sealed by another key than the origin's.
    pub key_mismatch: u64,
    /// An epoch past the driver's sanity bound.
    pub future_epoch: u64,
}

impl Refusals {
    /// Count one refusal.
    pub fn add(&mut self, r: Refusal) {
        match r {
            Refusal::Unsigned => self.unsigned += 1,
            Refusal::BoundUnsigned => self.bound_unsigned += 1,
            Refusal::BadSignature => self.bad_signature += 1,
            Refusal::KeyMismatch => self.key_mismatch += 1,
        }
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.unsigned + self.bound_unsigned + self.bad_signature + self.key_mismatch + self.future_epoch
    }

    /// What was refused since `earlier` (counters only grow).
    pub fn since(self, earlier: Refusals) -> Refusals {
        Refusals {
            unsigned: self.unsigned - earlier.unsigned,
            bound_unsigned: self.bound_unsigned - earlier.bound_unsigned,
            bad_signature: self.bad_signature - earlier.bad_signature,
            key_mismatch: self.key_mismatch - earlier.key_mismatch,
            future_epoch: self.future_epoch - earlier.future_epoch,
        }
    }

    /// Each reason with its count, its metric label (`outcome` of
    /// `gossip_updates_received_total`), what it means and how the sender
    /// fixes it: the one table behind every message about refusals.
    pub fn reasons(&self) -> [RefusalReason; 5] {
        [
            RefusalReason {
                count: self.unsigned,
                code: "unsigned",
                what: "unsigned",
                fix:
                    "this node runs with --require-signed: the sender must seal its updates (PROTOCOL.md, \"Seals\"), \
                      or this node must run without --require-signed",
            },
            RefusalReason {
                count: self.bound_unsigned,
                code: "bound_unsigned",
                what: "unsigned although their origin is bound to a key",
                fix: "that origin was seen signed, so its updates must stay signed: \
                      forward key and sig unchanged (only ttl changes)",
            },
            RefusalReason {
                count: self.bad_signature,
                code: "bad_signature",
                what: "with a signature that does not verify",
                fix: "sign exactly the bytes of PROTOCOL.md, \"Seals\", and forward updates unchanged except ttl",
            },
            RefusalReason {
                count: self.key_mismatch,
                code: "key_mismatch",
                what: "sealed by another key than their origin's",
                fix: "an origin keeps one key: keep it across restarts (--data-dir), \
                      and forward others' key and sig unchanged",
            },
            RefusalReason {
                count: self.future_epoch,
                code: "future_epoch",
                what: "with an epoch too far in the future",
                fix: "epoch must not be more than a day ahead of the receiver's clock: \
                      use wall-clock seconds at start (or 0)",
            },
        ]
    }

    /// What was refused, for a person (`2 unsigned, 1 with a signature that
    /// does not verify`); `None` if nothing was.
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> =
            self.reasons().iter().filter(|r| r.count > 0).map(|r| format!("{} {}", r.count, r.what)).collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// One reason updates were refused, with its count; see [`Refusals::reasons`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefusalReason {
    /// How many updates were refused for it.
    pub count: u64,
    /// Its name in metrics and logs (`bound_unsigned`).
    pub code: &'static str,
    /// What was refused, after a count ("unsigned although their origin is bound to a key").
    pub what: &'static str,
    /// What the sender (or this node's operator) does about it.
    pub fix: &'static str,
}

/// The bytes a seal signs: a domain tag, then the UUID, the origin (length
/// first), the epoch, the version counter and the payload (length first),
/// integers big-endian. `buf` is cleared first.
pub fn signed_bytes<Id: NodeId>(uuid: Uuid, origin: &Id, version: Version, payload: &str, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(DOMAIN);
    buf.extend_from_slice(uuid.as_bytes());
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    origin.write_signed(buf);
    let len = (buf.len() - at - 4) as u32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&version.epoch.to_be_bytes());
    buf.extend_from_slice(&version.counter.to_be_bytes());
    buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    buf.extend_from_slice(payload.as_bytes());
}

/// A node's signing key.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer(public {})", short_key(&self.public))
    }
}

impl Signer {
    /// The key pair whose secret is `seed` (32 bytes from the driver).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes();
        Signer { key, public }
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        self.public
    }

    /// Seal an update of `origin` (whose key this must be).
    pub fn seal<Id: NodeId>(&self, uuid: Uuid, origin: &Id, version: Version, payload: &str) -> Arc<Seal> {
        let mut buf = Vec::with_capacity(64 + payload.len());
        signed_bytes(uuid, origin, version, payload, &mut buf);
        Arc::new(Seal { key: self.public, sig: self.key.sign(&buf).to_bytes() })
    }
}

/// Whether `seal` is a valid signature of `(uuid, origin, version, payload)`
/// by `seal.key` (strict verification: no small-order keys, no malleable
/// signatures). `buf` is scratch space.
pub fn verify<Id: NodeId>(
    seal: &Seal,
    uuid: Uuid,
    origin: &Id,
    version: Version,
    payload: &str,
    buf: &mut Vec<u8>,
) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&seal.key) else { return false };
    signed_bytes(uuid, origin, version, payload, buf);
    key.verify_strict(buf, &Signature::from_bytes(&seal.sig)).is_ok()
}

/// Verify many seals at once (Ed25519 batch verification: about twice as
/// fast per signature as one by one). `true` only if every one is valid;
/// on `false`, verify one by one to find the culprits.
pub fn verify_batch(items: &[(&Seal, &[u8])]) -> bool {
    let mut keys = Vec::with_capacity(items.len());
    for (s, _) in items {
        match VerifyingKey::from_bytes(&s.key) {
            Ok(k) if !k.is_weak() => keys.push(k),
            _ => return false,
        }
    }
    let sigs: Vec<Signature> = items.iter().map(|(s, _)| Signature::from_bytes(&s.sig)).collect();
    let msgs: Vec<&[u8]> = items.iter().map(|(_, m)| *m).collect();
    ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn signer(b: u8) -> Signer {
        Signer::from_seed([b; 32])
    }

    /// The gate's verdict for a seal by `by` (or none) about an origin
    /// bound to `bound`, under `policy`; `verify` says whether the
    /// signature itself verifies.
    fn verdict(policy: Policy, bound: Option<u8>, by: Option<u8>, verifies: bool) -> Result<Passage, Refusal> {
        let seal = by.map(|b| Seal { key: signer(b).public(), sig: [0; 64] });
        gate(policy, bound.map(|b| signer(b).public()), seal.as_ref(), |_| Some(verifies))
    }

    #[test]
    fn the_default_policy_welcomes_unsigned_updates_of_origins_never_seen_signed() {
        assert_eq!(Policy::default(), Policy::Welcome);
        assert_eq!(verdict(Policy::Welcome, None, None, false), Ok(Passage::Admit));
        // a seal is still checked when present
        assert_eq!(verdict(Policy::Welcome, None, Some(1), true), Ok(Passage::Admit));
        assert_eq!(verdict(Policy::Welcome, None, Some(1), false), Err(Refusal::BadSignature));
    }

    #[test]
    fn a_bound_origin_is_never_accepted_unsigned_or_under_another_key_whatever_the_policy() {
        for policy in [Policy::Welcome, Policy::Required] {
            assert_eq!(verdict(policy, Some(1), None, true), Err(Refusal::BoundUnsigned), "{policy:?}");
            assert_eq!(verdict(policy, Some(1), Some(2), true), Err(Refusal::KeyMismatch), "{policy:?}");
            assert_eq!(verdict(policy, Some(1), Some(1), true), Ok(Passage::Admit), "{policy:?}");
            assert_eq!(verdict(policy, Some(1), Some(1), false), Err(Refusal::BadSignature), "{policy:?}");
        }
    }

    #[test]
    fn require_signed_refuses_every_unsigned_update_and_off_checks_nothing() {
        assert_eq!(verdict(Policy::Required, None, None, true), Err(Refusal::Unsigned));
        assert_eq!(verdict(Policy::Required, None, Some(1), true), Ok(Passage::Admit));
        assert_eq!(verdict(Policy::Off, Some(1), None, false), Ok(Passage::Admit));
        assert_eq!(verdict(Policy::Off, Some(1), Some(2), false), Ok(Passage::Admit));
    }

    #[test]
    fn refusals_describe_the_bound_origin_case_apart_from_plain_unsigned() {
        let mut r = Refusals::default();
        r.add(Refusal::BoundUnsigned);
        r.add(Refusal::Unsigned);
        assert_eq!((r.unsigned, r.bound_unsigned, r.total()), (1, 1, 2));
        let d = r.describe().unwrap();
        assert!(d.contains("1 unsigned, ") && d.contains("1 unsigned although their origin is bound to a key"), "{d}");
    }

    #[test]
    fn a_seal_verifies_and_any_change_breaks_it() {
        let s = signer(1);
        let origin = "http://127.0.0.1:7001".to_string();
        let v = Version::new(1_763_700_000, 3);
        let seal = s.seal(u(42), &origin, v, "Alien");
        let mut buf = Vec::new();
        assert!(verify(&seal, u(42), &origin, v, "Alien", &mut buf));
        assert!(!verify(&seal, u(43), &origin, v, "Alien", &mut buf), "uuid");
        assert!(!verify(&seal, u(42), &"http://127.0.0.1:7002".to_string(), v, "Alien", &mut buf), "origin");
        assert!(!verify(&seal, u(42), &origin, Version::new(1_763_700_001, 3), "Alien", &mut buf), "epoch");
        assert!(!verify(&seal, u(42), &origin, v.next(), "Alien", &mut buf), "version");
        assert!(!verify(&seal, u(42), &origin, v, "Aliens", &mut buf), "payload");
        let other = Seal { key: signer(2).public(), sig: seal.sig };
        assert!(!verify(&other, u(42), &origin, v, "Alien", &mut buf), "key");
        let mut flipped = (*seal).clone();
        flipped.sig[10] ^= 1;
        assert!(!verify(&flipped, u(42), &origin, v, "Alien", &mut buf), "signature");
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        // origin "ab" + payload "c" must not sign the same bytes as origin "a" + payload "bc"
        let (mut x, mut y) = (Vec::new(), Vec::new());
        signed_bytes(u(1), &"ab".to_string(), Version::new(0, 1), "c", &mut x);
        signed_bytes(u(1), &"a".to_string(), Version::new(0, 1), "bc", &mut y);
        assert_ne!(x, y);
    }

    #[test]
    fn invalid_and_small_order_keys_never_verify() {
        let origin = "o".to_string();
        let v = Version::new(0, 1);
        let mut buf = Vec::new();
        // the identity point (small order): every signature "verifies" non-strictly
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let forged = Seal { key: identity, sig: [0; 64] };
        assert!(!verify(&forged, u(1), &origin, v, "x", &mut buf));
        assert!(!verify_batch(&[(&forged, b"x".as_slice())]));
        let junk = Seal { key: [0xff; 32], sig: [7; 64] };
        assert!(!verify(&junk, u(1), &origin, v, "x", &mut buf));
    }

    #[test]
    fn batch_verification_agrees_with_one_by_one() {
        let origins: Vec<String> = (0..8).map(|i| format!("n{i}")).collect();
        let seals: Vec<_> = origins
            .iter()
            .enumerate()
            .map(|(i, o)| signer(i as u8).seal(u(i as u128), o, Version::new(0, 1), "x"))
            .collect();
        let msgs: Vec<Vec<u8>> = origins
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let mut b = Vec::new();
                signed_bytes(u(i as u128), o, Version::new(0, 1), "x", &mut b);
                b
            })
            .collect();
        let items: Vec<(&Seal, &[u8])> = seals.iter().map(|s| &**s).zip(msgs.iter().map(|m| m.as_slice())).collect();
        assert!(verify_batch(&items));
        let mut bad = (*seals[3]).clone();
        bad.sig[0] ^= 1;
        let mut items2 = items.clone();
        items2[3].0 = &bad;
        assert!(!verify_batch(&items2));
    }
}
