//! The JSON wire format of `POST /gossip/` (see `PROTOCOL.md`).
//!
//! One body shape, the [`Envelope`], serves both directions: a request
//! carries the sender's identity, its pushed updates and its digest; the
//! response carries what the sender lacks. Each field maps onto one core
//! [`Message`]:
//!
//! | field | core message | meaning |
//! |---|---|---|
//! | `updates` | `Push` | fresh updates; the receiver may forward them while the TTL lasts |
//! | `digest` (+ `pull_only`) | `Digest` | "here is `origin -> [epoch, version]` of my view: send me what I lack" |
//! | `delta` (+ `want`) | `Delta` | state transfer (never forwarded); `want`: what the sender of the delta lacks |
//! | `known` | `Feedback` | rumor mongering: the pushed updates the receiver already knew |
//!
//! Decoding validates every field (lengths, ranges, UUIDs) and turns the
//! body into core messages; nothing here touches IO, so the same code serves
//! the native node and, compiled to wasm32, the browser.

pub mod b64;
pub mod doc;
pub mod swim;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::core::message::{fmt_uuid_into, parse_uuid};

use crate::core::{Digest, Message, Payload, PublicKey, Seal, Update, Version, MAX_COUNTER};

/// Identities on the wire: shared strings (a base URL, or a browser's key).
pub type Id = Arc<str>;

/// Bounds on what a body may hold, beyond its size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest identity (`from`, `origin`, digest keys), in bytes.
    pub max_id_len: usize,
    /// Longest `url`, in bytes.
    pub max_url_len: usize,
    /// Longest payload (movie title), in bytes.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_id_len: 256, max_url_len: 256, max_payload: crate::core::Config::default().max_payload }
    }
}

/// A decoded body: who sent it and the core messages it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The sender's identity.
    pub from: Id,
    /// Where the sender accepts requests (absent for peers that cannot be dialed).
    pub url: Option<Id>,
    /// The sender's public key, if it says (an answer from a URL we dialed
    /// binds that URL's identity to this key).
    pub key: Option<PublicKey>,
    /// The messages, in the order they are to be applied: delta, updates, known, digest.
    pub messages: Vec<Message<Id>>,
}

/// Why a body was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Not JSON (syntax error or truncated).
    Malformed(String),
    /// Not valid UTF-8.
    Utf8,
    /// JSON, but a field is missing, of the wrong type or out of range.
    Invalid(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Malformed(e) => write!(f, "malformed JSON: {e}"),
            WireError::Utf8 => f.write_str("the body is not valid UTF-8"),
            WireError::Invalid(e) => write!(f, "invalid field: {e}"),
        }
    }
}

impl std::error::Error for WireError {}

#[derive(Deserialize)]
struct EnvelopeIn<'a> {
    #[serde(borrow)]
    from: Cow<'a, str>,
    #[serde(default, borrow)]
    url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    updates: Vec<UpdateIn<'a>>,
    #[serde(default, borrow)]
    digest: Option<DigestIn<'a>>,
    #[serde(default)]
    pull_only: bool,
    #[serde(default, borrow)]
    delta: Vec<UpdateIn<'a>>,
    #[serde(default, borrow)]
    want: DigestIn<'a>,
    #[serde(default, borrow)]
    known: DigestIn<'a>,
}

#[derive(Deserialize)]
struct UpdateIn<'a> {
    #[serde(borrow)]
    uuid: Cow<'a, str>,
    #[serde(borrow)]
    origin: Cow<'a, str>,
    #[serde(default)]
    epoch: u32,
    version: u64,
    ttl: u64,
    #[serde(borrow)]
    payload: Cow<'a, str>,
    #[serde(default, borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    sig: Option<Cow<'a, str>>,
}

/// `{"origin": [epoch, version], ...}` kept in document order.
#[derive(Default)]
struct DigestIn<'a>(Vec<(Cow<'a, str>, (u32, u64))>);

impl<'de: 'a, 'a> Deserialize<'de> for DigestIn<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = DigestIn<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of origin: [epoch, version]")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(0).min(4096));
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    v.push((k, m.next_value::<Pair>()?.0));
                }
                Ok(DigestIn(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// `[epoch, version]`, exactly two numbers.
struct Pair((u32, u64));

impl<'de> Deserialize<'de> for Pair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pair;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[epoch, version]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Pair, A::Error> {
                let epoch = s.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let version = s.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if s.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(Pair((epoch, version)))
            }
        }
        d.deserialize_seq(V)
    }
}

fn invalid(what: impl fmt::Display) -> WireError {
    WireError::Invalid(what.to_string())
}

/// Field names for error messages are built only when there is an error.
fn check_id(s: &str, lim: &Limits, what: impl FnOnce() -> String) -> Result<(), WireError> {
    if s.is_empty() || s.len() > lim.max_id_len {
        return Err(invalid(format_args!("{} must be 1 to {} bytes long, got {}", what(), lim.max_id_len, s.len())));
    }
    Ok(())
}

fn check_version(counter: u64, what: impl FnOnce() -> String) -> Result<(), WireError> {
    if counter > MAX_COUNTER {
        return Err(invalid(format_args!(
            "{}: version {counter} is above 2^53-1, the largest exact JavaScript integer",
            what()
        )));
    }
    Ok(())
}

/// `N` bytes from unpadded base64url text of exactly the right length.
fn b64_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    b64::decode_exact(s.as_bytes())
}

/// A public key as the wire writes it: unpadded base64url, 43 characters.
pub fn key_text(key: &PublicKey) -> String {
    b64::encode(key)
}

/// A public key from its wire text.
pub fn parse_key(s: &str) -> Option<PublicKey> {
    b64_array(s)
}

/// Whether `url` is the base URL of a node: `http://` or `https://`, a host
/// (a DNS name, an IPv4 address or a bracketed IPv6 address), an optional
/// port from 1 to 65535 and at most one trailing slash. Anything else is
/// refused: userinfo (`user@`), a path, a query, a fragment, whitespace or
/// control characters, an empty host, a port of 0, above 65535 or not in
/// plain digits. Length is the caller's bound ([`Limits::max_url_len`]).
pub fn is_base_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else { return false };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else { return false };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => (addr, None),
            p => match p.strip_prefix(':') {
                Some(p) => (addr, Some(p)),
                None => return false,
            },
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host_ok = authority.starts_with('[') || is_host_name(host);
    let port_ok = port.is_none_or(|p| {
        (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    host_ok && port_ok
}

/// A DNS name or an IPv4 address: dot-separated labels of ASCII letters,
/// digits and inner hyphens, at most 253 bytes.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn updates_of(what: &str, list: Vec<UpdateIn<'_>>, lim: &Limits) -> Result<Vec<Update<Id>>, WireError> {
    list.into_iter()
        .enumerate()
        .map(|(i, u)| {
            let uuid = parse_uuid(&u.uuid).ok_or_else(|| invalid(format_args!("{what}[{i}].uuid is not a UUID")))?;
            check_id(&u.origin, lim, || format!("{what}[{i}].origin"))?;
            check_version(u.version, || format!("{what}[{i}]"))?;
            if u.version == 0 {
                return Err(invalid(format_args!(
                    "{what}[{i}].version is 0: versions count from 1 (0 means \"none\" in digest and want)"
                )));
            }
            if u.payload.len() > lim.max_payload {
                return Err(invalid(format_args!(
                    "{what}[{i}].payload is {} bytes, at most {} allowed",
                    u.payload.len(),
                    lim.max_payload
                )));
            }
            let seal = match (u.key, u.sig) {
                (None, None) => None,
                (Some(k), Some(s)) => Some(Arc::new(Seal {
                    key: b64_array(&k).ok_or_else(|| {
                        invalid(format_args!("{what}[{i}].key is not a base64url Ed25519 public key (43 characters)"))
                    })?,
                    sig: b64_array(&s).ok_or_else(|| {
                        invalid(format_args!("{what}[{i}].sig is not a base64url Ed25519 signature (86 characters)"))
                    })?,
                })),
                _ => return Err(invalid(format_args!("{what}[{i}] must carry both key and sig, or neither"))),
            };
            Ok(Update::new(
                uuid,
                Arc::from(u.origin.as_ref()),
                Version::new(u.epoch, u.version),
                // clamped again by the core to its own maximum (and counted there)
                u.ttl.min(u32::MAX as u64) as u32,
                Payload::Shared(Arc::from(u.payload.as_ref())),
                seal,
            ))
        })
        .collect()
}

fn digest_of(what: &str, d: DigestIn<'_>, lim: &Limits) -> Result<Digest<Id>, WireError> {
    d.0.into_iter()
        .map(|(o, (epoch, counter))| {
            check_id(&o, lim, || format!("{what} key"))?;
            check_version(counter, || format!("{what}[{o:?}]"))?;
            Ok((Arc::from(o.as_ref()), Version::new(epoch, counter)))
        })
        .collect()
}

/// Decode and validate a body. TTLs above `u32::MAX` are clamped (the core
/// clamps them further to its own maximum); everything else out of bounds is
/// an error.
pub fn decode(body: &[u8], lim: &Limits) -> Result<Envelope, WireError> {
    let text = std::str::from_utf8(body).map_err(|_| WireError::Utf8)?;
    let e: EnvelopeIn = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => WireError::Invalid(e.to_string()),
        _ => WireError::Malformed(e.to_string()),
    })?;
    checked(e, lim)
}

/// [`decode`] through a [`Doc`](doc::Doc): the browser's `JSON.parse` in
/// the page (no serde_json deserializer in its package), serde_json
/// natively. The mixed bridge reads real nodes' answers with it; it accepts
/// what [`decode`] accepts, with the same result, and refuses what it
/// refuses, except where `JSON.parse` decides otherwise (see [`doc`]: `1e3`
/// is a whole number, of a field given twice the last counts).
pub fn decode_text(text: &str, lim: &Limits) -> Result<Envelope, WireError> {
    let d = doc::Doc::parse(text)?;
    checked(envelope_in(&d)?, lim)
}

/// The envelope's fields, read from a document.
fn envelope_in(d: &doc::Doc) -> Result<EnvelopeIn<'_>, WireError> {
    if !matches!(d, doc::Doc::Obj(_)) {
        return Err(invalid(format_args!("the body must be a JSON object, not {}", d.kind())));
    }
    let updates = |name| d.arr_field(name)?.iter().map(update_in).collect::<Result<Vec<_>, _>>();
    Ok(EnvelopeIn {
        from: Cow::Borrowed(d.required_str("from")?),
        url: d.str_field("url")?.map(Cow::Borrowed),
        key: d.str_field("key")?.map(Cow::Borrowed),
        updates: updates("updates")?,
        digest: d.get("digest").map(|v| digest_in("digest", v)).transpose()?,
        pull_only: d.bool_field("pull_only")?.unwrap_or(false),
        delta: updates("delta")?,
        want: d.get("want").map_or(Ok(DigestIn::default()), |v| digest_in("want", v))?,
        known: d.get("known").map_or(Ok(DigestIn::default()), |v| digest_in("known", v))?,
    })
}

/// One update's fields, read from a document.
fn update_in(u: &doc::Doc) -> Result<UpdateIn<'_>, WireError> {
    if !matches!(u, doc::Doc::Obj(_)) {
        return Err(doc::wrong("updates", "an array of objects", u));
    }
    Ok(UpdateIn {
        uuid: Cow::Borrowed(u.required_str("uuid")?),
        origin: Cow::Borrowed(u.required_str("origin")?),
        epoch: u.uint_field("epoch", u32::MAX as u64)?.unwrap_or(0) as u32,
        version: u.required_uint("version", u64::MAX)?,
        ttl: u.required_uint("ttl", u64::MAX)?,
        payload: Cow::Borrowed(u.required_str("payload")?),
        key: u.str_field("key")?.map(Cow::Borrowed),
        sig: u.str_field("sig")?.map(Cow::Borrowed),
    })
}

/// `{"origin": [epoch, version], ...}` read from a document.
fn digest_in<'d>(name: &str, d: &'d doc::Doc) -> Result<DigestIn<'d>, WireError> {
    let doc::Doc::Obj(entries) = d else { return Err(doc::wrong(name, "an object of origin: [epoch, version]", d)) };
    entries
        .iter()
        .map(|(origin, pair)| match pair {
            doc::Doc::Arr(p) if p.len() == 2 => match (p[0].as_uint(u32::MAX as u64), p[1].as_uint(u64::MAX)) {
                (Some(epoch), Some(version)) => Ok((Cow::Borrowed(origin.as_str()), (epoch as u32, version))),
                _ => Err(doc::wrong(name, "an object of origin: [epoch, version] in whole numbers", pair)),
            },
            _ => Err(doc::wrong(name, "an object of origin: [epoch, version]", pair)),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(DigestIn)
}

/// Validate the fields read and turn them into core messages.
fn checked(e: EnvelopeIn<'_>, lim: &Limits) -> Result<Envelope, WireError> {
    check_id(&e.from, lim, || "from".into())?;
    let key = match e.key {
        None => None,
        Some(k) => {
            Some(parse_key(&k).ok_or_else(|| invalid("key is not a base64url Ed25519 public key (43 characters)"))?)
        }
    };
    let url = match e.url {
        None => None,
        Some(u) if u.len() <= lim.max_url_len && is_base_url(&u) => Some(Arc::from(u.trim_end_matches('/'))),
        Some(_) => {
            return Err(invalid(format_args!(
                "url must be an http:// or https:// base URL of at most {} bytes",
                lim.max_url_len
            )))
        }
    };
    let mut messages = Vec::with_capacity(2);
    let delta = updates_of("delta", e.delta, lim)?;
    let want = digest_of("want", e.want, lim)?;
    if !delta.is_empty() || !want.is_empty() {
        messages.push(Message::Delta { updates: delta, request: want });
    }
    let updates = updates_of("updates", e.updates, lim)?;
    if !updates.is_empty() {
        messages.push(Message::Push(updates));
    }
    let known = digest_of("known", e.known, lim)?;
    if !known.is_empty() {
        messages.push(Message::Feedback(known.into_vec()));
    }
    if let Some(d) = e.digest {
        messages.push(Message::Digest { digest: digest_of("digest", d, lim)?, push_pull: !e.pull_only });
    }
    Ok(Envelope { from: Arc::from(e.from.as_ref()), url, key, messages })
}

/// Serializes updates as a JSON array.
struct UpdatesOut<'a>(&'a [&'a [Update<Id>]]);

impl Serialize for UpdatesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.iter().map(|l| l.len()).sum()))?;
        let mut buf = [0u8; 36];
        for u in self.0.iter().flat_map(|l| l.iter()) {
            seq.serialize_element(&UpdateOut(u, fmt_uuid_into(u.uuid, &mut buf)))?;
        }
        seq.end()
    }
}

struct UpdateOut<'a>(&'a Update<Id>, &'a str);

impl Serialize for UpdateOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.0;
        let mut st = s.serialize_struct("Update", 8)?;
        st.serialize_field("uuid", self.1)?;
        st.serialize_field("origin", &*u.origin)?;
        st.serialize_field("epoch", &u.version.epoch)?;
        st.serialize_field("version", &u.version.counter)?;
        st.serialize_field("ttl", &u.ttl)?;
        st.serialize_field("payload", u.payload.as_str())?;
        if let Some(seal) = &u.seal {
            let mut key = [0u8; 43];
            let mut sig = [0u8; 86];
            // the buffers are exactly the encoded lengths
            b64::encode_into(&seal.key, &mut key);
            b64::encode_into(&seal.sig, &mut sig);
            st.serialize_field("key", std::str::from_utf8(&key).expect("base64 is ASCII"))?;
            st.serialize_field("sig", std::str::from_utf8(&sig).expect("base64 is ASCII"))?;
        }
        st.end()
    }
}

/// Serializes digests as `{"origin": [epoch, version]}`.
struct DigestOut<'a>(&'a [&'a [(Id, Version)]]);

impl Serialize for DigestOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.iter().map(|l| l.len()).sum()))?;
        for (o, v) in self.0.iter().flat_map(|l| l.iter()) {
            m.serialize_entry(&**o, &(v.epoch, v.counter))?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    from: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "is_empty_list")]
    updates: UpdatesOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<DigestOut<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pull_only: bool,
    #[serde(skip_serializing_if = "is_empty_list")]
    delta: UpdatesOut<'a>,
    #[serde(skip_serializing_if = "is_empty_map")]
    want: DigestOut<'a>,
    #[serde(skip_serializing_if = "is_empty_map")]
    known: DigestOut<'a>,
}

fn is_empty_list(u: &UpdatesOut<'_>) -> bool {
    u.0.iter().all(|l| l.is_empty())
}

fn is_empty_map(d: &DigestOut<'_>) -> bool {
    d.0.iter().all(|l| l.is_empty())
}

/// Encode `messages` from `from` (reachable at `url`, if it can be dialed;
/// with public key `key`, if it signs) as one body. Messages of the same
/// kind are merged into one field; of several digests, the last one counts.
pub fn encode(from: &str, url: Option<&str>, key: Option<&PublicKey>, messages: &[Message<Id>]) -> Vec<u8> {
    let mut updates = Vec::new();
    let mut delta = Vec::new();
    let mut want = Vec::new();
    let mut known = Vec::new();
    let mut digest = None;
    let mut pull_only = false;
    for m in messages {
        match m {
            Message::Push(u) => updates.push(u.as_slice()),
            Message::Feedback(k) => known.push(k.as_slice()),
            Message::Digest { digest: d, push_pull } => {
                digest = Some(d.pairs());
                pull_only = !push_pull;
            }
            Message::Delta { updates: u, request } => {
                delta.push(u.as_slice());
                want.push(request.pairs());
            }
        }
    }
    let digest_parts = digest.as_deref().map(|d| [d]);
    let want: Vec<&[(Id, Version)]> = want.iter().map(|w| &**w).collect();
    let out = EnvelopeOut {
        from,
        url,
        key: key.map(key_text),
        updates: UpdatesOut(&updates),
        digest: digest_parts.as_ref().map(|d| DigestOut(d)),
        pull_only: pull_only && digest.is_some(),
        delta: UpdatesOut(&delta),
        want: DigestOut(&want),
        known: DigestOut(&known),
    };
    // serializing plain strings and integers into a Vec cannot fail
    serde_json::to_vec(&out).expect("JSON encoding of owned strings and integers")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::NodeId;

    fn id(s: &str) -> Id {
        Arc::from(s)
    }

    fn upd(origin: &str, epoch: u32, counter: u64, payload: &str) -> Update<Id> {
        Update::new(
            crate::core::Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef ^ counter as u128),
            id(origin),
            Version::new(epoch, counter),
            5,
            Payload::Shared(id(payload)),
            None,
        )
    }

    fn samples() -> Vec<Message<Id>> {
        let a = "http://127.0.0.1:7001";
        let dig: Digest<Id> =
            vec![(id(a), Version::new(1_763_700_000, 12)), (id("browser-7f3a"), Version::new(0, 1))].into();
        vec![
            Message::Push(vec![upd(a, 1_763_700_000, 3, "Alien"), upd("b", 0, 9_007_199_254_740_991, "Up")]),
            Message::Push(vec![]),
            Message::Digest { digest: dig.clone(), push_pull: true },
            Message::Digest { digest: Default::default(), push_pull: false },
            Message::Delta { updates: vec![upd(a, 2, 1, "Heat")], request: dig.clone() },
            Message::Delta { updates: vec![], request: dig.clone() },
            Message::Delta { updates: vec![upd(a, 2, 1, "The \"Thing\"\\\n\u{1}\u{e9}")], request: Default::default() },
            Message::Feedback(dig.clone().into_vec()),
            Message::Feedback(vec![]),
        ]
    }

    #[test]
    fn wire_len_is_the_exact_encoded_size() {
        for from in ["http://127.0.0.1:7000", "a\"quoted\\id"] {
            for m in samples() {
                let body = encode(from, None, None, std::slice::from_ref(&m));
                assert_eq!(
                    m.wire_len() + from.to_string().wire_len(),
                    body.len(),
                    "{m:?}\n{}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }

    #[test]
    fn every_message_kind_round_trips() {
        for m in samples() {
            let body = encode("me", Some("http://127.0.0.1:7000"), None, std::slice::from_ref(&m));
            let e = decode(&body, &Limits::default()).unwrap();
            assert_eq!(&*e.from, "me");
            assert_eq!(e.url.as_deref(), Some("http://127.0.0.1:7000"));
            let empty = match &m {
                Message::Push(u) => u.is_empty(),
                Message::Feedback(k) => k.is_empty(),
                Message::Delta { updates, request } => updates.is_empty() && request.is_empty(),
                Message::Digest { .. } => false,
            };
            let expect = if empty { vec![] } else { vec![m.clone()] };
            assert_eq!(e.messages, expect);
        }
    }

    #[test]
    fn the_documented_example_decodes() {
        let body = br#"{
            "from": "http://127.0.0.1:7001",
            "url": "http://127.0.0.1:7001/",
            "updates": [{"uuid": "0f8fad5b-d9cb-469f-a165-70867728950e", "origin": "http://127.0.0.1:7001",
                         "epoch": 1763700000, "version": 3, "ttl": 6, "payload": "Alien"}],
            "digest": {"http://127.0.0.1:7001": [1763700000, 3], "http://127.0.0.1:7000": [1763699990, 7]},
            "extra": "ignored"
        }"#;
        let e = decode(body, &Limits::default()).unwrap();
        assert_eq!(e.url.as_deref(), Some("http://127.0.0.1:7001"), "trailing slash dropped");
        let [Message::Push(u), Message::Digest { digest, push_pull: true }] = &e.messages[..] else {
            panic!("{:?}", e.messages)
        };
        assert_eq!(u[0].version, Version::new(1_763_700_000, 3));
        assert_eq!(u[0].uuid.as_u128(), 0x0f8fad5b_d9cb_469f_a165_70867728950e);
        assert_eq!(digest.len(), 2);
    }

    #[test]
    fn deeply_nested_unknown_fields_are_skipped_without_recursion() {
        let deep = format!(r#"{{"from":"a","x":{}{}}}"#, "[".repeat(500_000), "]".repeat(500_000));
        assert!(decode(deep.as_bytes(), &Limits::default()).unwrap().messages.is_empty());
        let open = format!(r#"{{"from":"a","x":{}"#, "{\"k\":".repeat(200_000));
        assert!(matches!(decode(open.as_bytes(), &Limits::default()), Err(WireError::Malformed(_))));
    }

    #[test]
    fn a_course_style_update_without_epoch_is_epoch_zero() {
        let body = br#"{"from":"x","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"x",
            "version":1,"ttl":99999999999,"payload":"Up"}]}"#;
        let e = decode(body, &Limits::default()).unwrap();
        let [Message::Push(u)] = &e.messages[..] else { panic!() };
        assert_eq!(u[0].version, Version::new(0, 1));
        assert_eq!(u[0].ttl, u32::MAX, "huge TTLs are clamped, not refused");
    }

    #[test]
    fn base_urls_are_scheme_host_and_port_only() {
        for ok in [
            "http://127.0.0.1:7000",
            "http://127.0.0.1:7000/",
            "https://node.example.org",
            "http://localhost:1",
            "http://a-b.c:65535",
            "http://[::1]:7000",
            "http://[::1]",
            "http://[2001:db8::7]:80/",
        ] {
            assert!(is_base_url(ok), "{ok}");
        }
        for bad in [
            "",
            "http://",
            "http:///",
            "https://:80",
            "ftp://x",
            "javascript:alert(1)",
            "HTTP://x",
            "http//x",
            "x:7000",
            "http://user@127.0.0.1:7000",
            "http://user:pw@h:1",
            "http://h:1/path",
            "http://h:1//",
            "http://h/gossip/",
            "http://h:1?x=1",
            "http://h:1#f",
            "http://h:1/?",
            "http://h :1",
            "http://h:1 ",
            " http://h:1",
            "http://h\t:1",
            "http://h\n",
            "http://h\0",
            "http://h:0",
            "http://h:65536",
            "http://h:99999999999",
            "http://h:+80",
            "http://h:",
            "http://h:1:2",
            "http://h:0x50",
            "http://-h:1",
            "http://h..x:1",
            "http://h.:1",
            "http://h_x:1",
            "http://h\u{e9}:1",
            "http://[::1",
            "http://[::1]x",
            "http://[zz::1]:1",
            "http://[::1]:0",
            "http://::1:7000",
        ] {
            assert!(!is_base_url(bad), "{bad:?}");
        }
    }

    /// Every body of `tests/hostile/`, the bodies of the tests above and
    /// encoded envelopes of every kind of message.
    fn bodies() -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "bin"))
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
            .collect();
        out.sort();
        let sealed = Update::new(
            crate::core::Uuid::from_u128(0x0f8f_ad5b_d9cb_469f_a165_7086_7728_950e),
            id("http://127.0.0.1:7001"),
            Version::new(3, 9),
            u32::MAX,
            Payload::Shared(id("Alien \u{e9} \"q\"")),
            Some(Arc::new(Seal { key: [7; 32], sig: [9; 64] })),
        );
        let a = "http://127.0.0.1:7001";
        let digest: Digest<Id> =
            [(id(a), Version::new(1, 2)), (id("b"), Version::new(0, MAX_COUNTER))].into_iter().collect();
        let all = [
            Message::Push(vec![upd(a, 1, 1, "Up"), sealed.clone()]),
            Message::Digest { digest: digest.clone(), push_pull: false },
            Message::Delta { updates: vec![sealed], request: digest.clone() },
            Message::Feedback(vec![(id("c"), Version::new(4, 5))]),
        ];
        for i in 0..all.len() {
            out.push((format!("encoded {i}"), encode(a, Some(a), Some(&[1; 32]), &all[i..=i])));
            out.push((format!("encoded {i}.."), encode("x", None, None, &all[i..])));
        }
        for (i, b) in [
            &br#"{"from":"x","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"x","version":1,"ttl":99999999999,"payload":"Up"}]}"#[..],
            br#"{"from":"a","digest":null,"want":{},"known":{},"pull_only":true,"extra":[1,{"k":null}]}"#,
            br#"{"from":"a","digest":{"b":[1,-2]}}"#,
            br#"{"from":"a","digest":{"b":[4294967296,2]}}"#,
            br#"{"from":"a","digest":{"b":[1,2.5]}}"#,
            br#"{"from":"a","digest":{"b":"x"}}"#,
            br#"{"from":"a","pull_only":1}"#,
            br#"{"from":"a","key":7}"#,
            br#"{"from":"a","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":1,"ttl":1,"payload":7}]}"#,
            br#"{"from":"a","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","ttl":1,"payload":"x"}]}"#,
            br#"{"from":"a","delta":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":2,"ttl":1,"payload":"x","epoch":4294967295}]}"#,
            br#"{"from":"a","delta":{}}"#,
        ]
        .into_iter()
        .enumerate()
        {
            out.push((format!("listed {i}"), b.to_vec()));
        }
        out
    }

    #[test]
    fn the_pages_decoder_gives_the_nodes_results_except_where_json_parse_decides_otherwise() {
        let lim = Limits::default();
        let mut accepted = 0;
        for (name, body) in bodies() {
            let node = decode(&body, &lim);
            let Ok(text) = std::str::from_utf8(&body) else {
                assert_eq!(node, Err(WireError::Utf8), "{name}");
                continue;
            };
            let page = decode_text(text, &lim);
            match name.as_str() {
                // a field given twice: serde refuses, `JSON.parse` keeps the last
                "38-duplicate-from.json" => {
                    assert!(node.is_err());
                    assert_eq!(&*page.unwrap().from, "b");
                }
                "39-duplicate-updates.json" => {
                    assert!(node.is_err());
                    assert!(page.unwrap().messages.is_empty());
                }
                // `1e3` is a whole number to JavaScript
                "42-version-exponent.json" => {
                    assert!(node.is_err());
                    let page = page.unwrap();
                    let [Message::Push(u)] = &page.messages[..] else { panic!("{page:?}") };
                    assert_eq!(u[0].version.counter, 1000);
                }
                _ => {
                    assert_eq!(node.is_ok(), page.is_ok(), "{name}: node {node:?}, page {page:?}");
                    if let (Ok(n), Ok(p)) = (&node, &page) {
                        assert_eq!(n, p, "{name}");
                        accepted += 1;
                    }
                }
            }
        }
        assert!(accepted >= 12, "{accepted} bodies accepted: the corpus lost its valid bodies");
    }

    #[test]
    fn bad_bodies_are_refused_with_the_right_kind() {
        let lim = Limits::default();
        let long = "x".repeat(600);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), "malformed"),
            (b"not json".to_vec(), "malformed"),
            (b"{\"from\":\"a\"".to_vec(), "malformed"),
            (b"{\"from\":\"\xff\"}".to_vec(), "utf8"),
            (b"[]".to_vec(), "invalid"),
            (b"{}".to_vec(), "invalid"),
            (br#"{"from":""}"#.to_vec(), "invalid"),
            (br#"{"from":7}"#.to_vec(), "invalid"),
            (br#"{"from":"a","url":"ftp://x"}"#.to_vec(), "invalid"),
            (br#"{"from":"a","url":"http://"}"#.to_vec(), "invalid"),
            (br#"{"from":"a","digest":[1,2]}"#.to_vec(), "invalid"),
            (br#"{"from":"a","digest":{"b":[1,-2]}}"#.to_vec(), "invalid"),
            (br#"{"from":"a","digest":{"b":[1,2,3]}}"#.to_vec(), "invalid"),
            (br#"{"from":"a","digest":{"b":[1]}}"#.to_vec(), "invalid"),
            (br#"{"from":"a","digest":{"b":[0,9007199254740992]}}"#.to_vec(), "invalid"),
            (br#"{"from":"a","updates":[{"uuid":"nope","origin":"b","version":1,"ttl":1,"payload":"x"}]}"#.to_vec(), "invalid"),
            (br#"{"from":"a","delta":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":0,"ttl":1,"payload":"x"}]}"#.to_vec(), "invalid"),
            (br#"{"from":"a","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":"1","ttl":1,"payload":"x"}]}"#.to_vec(), "invalid"),
            (br#"{"from":"a","updates":[{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":1,"ttl":-1,"payload":"x"}]}"#.to_vec(), "invalid"),
            (format!(r#"{{"from":"a","updates":[{{"uuid":"0f8fad5bd9cb469fa16570867728950e","origin":"b","version":1,"ttl":1,"payload":"{long}"}}]}}"#).into_bytes(), "invalid"),
            (format!(r#"{{"from":"{long}"}}"#).into_bytes(), "invalid"),
            (format!("{}{}", "[".repeat(500_000), "]".repeat(500_000)).into_bytes(), "invalid"),
            (format!(r#"{{"from":"a","digest":{{"b":{}}}}}"#, "[".repeat(500_000)).into_bytes(), "invalid"),
        ];
        for (body, kind) in cases {
            let got = match decode(&body, &lim) {
                Err(WireError::Malformed(_)) => "malformed",
                Err(WireError::Utf8) => "utf8",
                Err(WireError::Invalid(_)) => "invalid",
                Ok(e) => panic!("accepted {}: {e:?}", String::from_utf8_lossy(&body)),
            };
            assert_eq!(got, kind, "{}", String::from_utf8_lossy(&body[..body.len().min(200)]));
            if let Ok(text) = std::str::from_utf8(&body) {
                assert!(
                    decode_text(text, &lim).is_err(),
                    "the page's decoder accepted {}",
                    &text[..text.len().min(200)]
                );
            }
        }
    }
}
