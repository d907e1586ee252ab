//! What nodes say to each other.
//!
//! An [`Update`] is the course's message: a UUID for deduplication, the
//! originating node, a version, a TTL and the payload (a movie title). A
//! [`Message`] is one transmission between two nodes; its variants cover
//! every protocol the lab runs:
//!
//! | variant    | used by | meaning |
//! |------------|---------|---------|
//! | `Push`     | flood, eager push, rumor | forwarded updates (TTL already decremented) |
//! | `Feedback` | rumor with feedback | "I already knew these" |
//! | `Digest`   | pull, push-pull | `origin -> version` summary of the sender's view |
//! | `Delta`    | push, pull, push-pull | anti-entropy state transfer, plus what the sender wants back |
//!
//! Which of them a protocol sends and accepts is its own declaration
//! ([`Speaks`](super::protocols::Speaks), over [`Kinds`]); a node refuses,
//! and counts, a message of a kind its protocol does not accept.
//!
//! Anti-entropy (`Delta`) is state transfer, not forwarding: it carries the
//! TTL unchanged and never triggers further pushes, which is what makes it
//! reach every node even when TTLs run out.

use std::borrow::Cow;
use std::sync::Arc;

use super::auth::Seal;
use super::version::{Cell, Version};

/// An update's UUID: the `uuid` crate's (16 bytes, big-endian); its text
/// form, lower-case and hyphenated, is the wire's ([`fmt_uuid_into`],
/// [`parse_uuid`]).
pub use uuid::Uuid;

/// Identities of nodes. The simulator uses `u32` indices; native and browser
/// nodes use strings (a base URL or a key).
pub trait NodeId: Clone + Eq + Ord + std::hash::Hash + std::fmt::Debug {
    /// Bytes this identity takes inside a JSON string of the wire format
    /// (escapes included, the quotes not).
    fn wire_len(&self) -> usize;

    /// Append the identity as a seal signs it (its UTF-8 text).
    fn write_signed(&self, buf: &mut Vec<u8>);

    /// The identity's dense index, for identities that are small integers
    /// (the simulator's): views keep such origins in an array indexed by it
    /// instead of a hash map. Either every identity of a type has one or
    /// none has, and the indices follow the identities' order (`a < b` if
    /// and only if `a.dense() < b.dense()`).
    #[inline]
    fn dense(&self) -> Option<usize> {
        None
    }

    /// The identity whose dense index is `i` (the inverse of [`NodeId::dense`]).
    #[inline]
    fn from_dense(_i: usize) -> Option<Self> {
        None
    }
}

impl NodeId for u32 {
    fn wire_len(&self) -> usize {
        // simulated identities are written "n<index>"
        1 + decimal_len(*self as u64)
    }

    fn write_signed(&self, buf: &mut Vec<u8>) {
        buf.push(b'n');
        buf.extend_from_slice(self.to_string().as_bytes());
    }

    #[inline]
    fn dense(&self) -> Option<usize> {
        Some(*self as usize)
    }

    #[inline]
    fn from_dense(i: usize) -> Option<Self> {
        u32::try_from(i).ok()
    }
}

impl NodeId for String {
    fn wire_len(&self) -> usize {
        json_str_len(self)
    }

    fn write_signed(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.as_bytes());
    }
}

impl NodeId for Arc<str> {
    fn wire_len(&self) -> usize {
        json_str_len(self)
    }

    fn write_signed(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.as_bytes());
    }
}

/// Bytes `s` takes inside a JSON string as `serde_json` writes it: quotes,
/// backslashes and control characters are escaped, everything else is copied.
pub fn json_str_len(s: &str) -> usize {
    // the common case, nothing to escape: a title is a few words, so test
    // eight bytes at a time in a plain register (SWAR) rather than set up
    // a vector loop for twenty bytes
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // a byte of `x` below `n` (n <= 128) sets its high bit in the result
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * n as u64) & !x & HIGH;
    let special8 = |x: u64| below(x, 0x20) | below(x ^ (ONES * b'"' as u64), 1) | below(x ^ (ONES * b'\\' as u64), 1);
    let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut any = chunks.by_ref().any(|c| special8(u64::from_ne_bytes(c.try_into().expect("8 bytes"))) != 0);
    any = any || chunks.remainder().iter().any(|&b| special(b));
    if !any {
        return s.len();
    }
    s.len()
        + s.bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\x08' | b'\x0c' | b'\n' | b'\r' | b'\t' => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

/// Number of decimal digits of `v`. Branch-free (it runs for every entry of
/// every digest the simulator counts): the bit length gives the digit count
/// to within one, and one comparison with a power of ten settles it.
#[inline]
pub fn decimal_len(v: u64) -> usize {
    const POW10: [u64; 20] = {
        let mut p = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    // 0 has one digit, like 1 (and `| 1` never crosses a power of ten)
    let v = v | 1;
    let bits = 64 - v.leading_zeros() as usize;
    // 1233 / 4096 ~ log10(2)
    let t = (bits * 1233) >> 12;
    t + 1 - (v < POW10[t]) as usize
}

/// A payload: a movie title. Titles from the built-in list are borrowed
/// (free to copy around a million-node simulation); titles from the network
/// are shared, immutable strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Payload {
    /// A title from the built-in `movies.txt`.
    Static(&'static str),
    /// A title received from elsewhere.
    Shared(Arc<str>),
}

impl Payload {
    /// The title.
    pub fn as_str(&self) -> &str {
        match self {
            Payload::Static(s) => s,
            Payload::Shared(s) => s,
        }
    }
}

impl From<&'static str> for Payload {
    fn from(s: &'static str) -> Self {
        Payload::Static(s)
    }
}

impl From<String> for Payload {
    fn from(s: String) -> Self {
        Payload::Shared(s.into())
    }
}

/// One version of an origin's favorite, as the origin made it: the part of
/// an update that is the same at every node. It is immutable and shared
/// (behind an `Arc`) by every view entry and every message that holds that
/// version, so that a network of n nodes that all know it keeps one copy,
/// not n, and passing it on copies a pointer. [`Update`] and
/// [`Entry`](super::Entry) read as one (they dereference to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Identifies the update (not the hop): the same at every node, used to drop duplicates.
    pub uuid: Uuid,
    /// The origin's version of it.
    pub version: Version,
    /// The favorite movie.
    pub payload: Payload,
    /// The origin's signature over everything but the TTL, if it signed.
    pub seal: Option<Arc<Seal>>,
    /// What these fields add to an update's size on the wire (computed once).
    wire: u32,
}

impl Record {
    /// A record of these fields.
    pub fn new(uuid: Uuid, version: Version, payload: Payload, seal: Option<Arc<Seal>>) -> Self {
        let mut r = Record { uuid, version, payload, seal, wire: 0 };
        r.wire = r.measure();
        r
    }

    /// Its fields' share of the wire size: the update's size minus its
    /// origin and TTL.
    fn measure(&self) -> u32 {
        const FIXED: usize = 9 + 36 + 12 + 10 + 11 + 7 + 12 + 2;
        let len = FIXED
            + if self.seal.is_some() { SEAL_WIRE_LEN } else { 0 }
            + decimal_len(self.version.epoch as u64)
            + decimal_len(self.version.counter)
            + json_str_len(self.payload.as_str());
        // a payload past 4 GB cannot be sent anyway; saturate rather than wrap
        u32::try_from(len).unwrap_or(u32::MAX)
    }
}

/// One origin's update, as it travels: the origin's [`Record`] (read its
/// fields through the update: `u.uuid`, `u.version`, `u.payload`,
/// `u.seal`), plus the origin and this hop's TTL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update<Id> {
    /// The node whose favorite this is.
    pub origin: Id,
    /// Remaining hops it may be forwarded by push; anti-entropy ignores it.
    pub ttl: u32,
    /// What the origin made, shared.
    rec: Arc<Record>,
}

impl<Id> std::ops::Deref for Update<Id> {
    type Target = Record;
    fn deref(&self) -> &Record {
        &self.rec
    }
}

/// Bytes a seal adds on the wire: `,"key":"<43>","sig":"<86>"` (base64url).
pub const SEAL_WIRE_LEN: usize = 8 + 43 + 1 + 8 + 86 + 1;

impl<Id> Update<Id> {
    /// A new update (a new record: see [`Update::of`] to share one).
    pub fn new(uuid: Uuid, origin: Id, version: Version, ttl: u32, payload: Payload, seal: Option<Arc<Seal>>) -> Self {
        Update { origin, ttl, rec: Arc::new(Record::new(uuid, version, payload, seal)) }
    }

    /// `origin`'s update holding `rec`, with `ttl`.
    pub fn of(origin: Id, ttl: u32, rec: Arc<Record>) -> Self {
        Update { origin, ttl, rec }
    }

    /// The shared record.
    pub fn record(&self) -> &Arc<Record> {
        &self.rec
    }

    /// The record, to keep.
    pub fn into_record(self) -> Arc<Record> {
        self.rec
    }

    /// Change the record's fields (a copy of it, if it is shared): for
    /// drivers that translate updates, and for tests that forge them.
    pub fn edit(&mut self, f: impl FnOnce(&mut Record)) {
        let r = Arc::make_mut(&mut self.rec);
        f(r);
        r.wire = r.measure();
    }
}

impl<Id: NodeId> Update<Id> {
    /// Its size in bytes in the JSON wire format of `PROTOCOL.md` (exact):
    /// `{"uuid":"<36>","origin":"..","epoch":E,"version":V,"ttl":T,"payload":"..","key":"..","sig":".."}`.
    #[inline]
    pub fn wire_len(&self) -> usize {
        self.rec.wire as usize + self.origin.wire_len() + decimal_len(self.ttl as u64)
    }
}

/// A `origin -> version` summary of a view, sorted by origin when a node
/// made it, which knows its size on the wire: every node sends a digest of
/// its whole view each round, and the view keeps that size up to date, so
/// that counting a digest's bytes does not walk it again
/// ([`Message::wire_len`]). Build it from a `Vec` or an iterator of pairs;
/// read it with [`Digest::iter`] or [`Digest::pairs`].
///
/// A view whose origins have dense indices ([`NodeId::dense`]: the
/// simulator's integer identities) makes its digest as a copy of its array
/// of versions by index: a plain copy to make, a walk of two arrays side by
/// side to compare, 8 bytes an origin and no origin stored. The pairs it
/// lists are those of that column, in index order (which is origin order),
/// followed by the others.
#[derive(Clone, Debug)]
pub struct Digest<Id> {
    /// The versions of the origins with dense indices `0..column.len()`, by
    /// index (empty cells are not listed).
    column: Vec<Cell>,
    /// The other pairs (every origin of theirs past the column's).
    entries: Vec<(Id, Version)>,
    /// How many pairs are listed.
    len: usize,
    /// `map_sum` of the pairs.
    sum: usize,
}

/// What one `"origin":[epoch,version],` entry adds to a JSON map's size.
#[inline]
pub fn map_entry_len<Id: NodeId>(origin: &Id, v: Version) -> usize {
    7 + origin.wire_len() + version_len(v)
}

/// The digits of a version's epoch and counter.
#[inline]
pub(crate) fn version_len(v: Version) -> usize {
    decimal_len(v.epoch as u64) + decimal_len(v.counter)
}

/// The sum of [`map_entry_len`] over `entries`.
fn map_sum<Id: NodeId>(entries: &[(Id, Version)]) -> usize {
    // a plain loop: this runs for every entry of every list counted
    let mut sum = 0;
    for (o, v) in entries {
        sum += map_entry_len(o, *v);
    }
    sum
}

impl<Id: NodeId> Digest<Id> {
    /// A digest listing `entries`.
    pub fn new(entries: Vec<(Id, Version)>) -> Self {
        let sum = map_sum(&entries);
        Digest { column: Vec::new(), len: entries.len(), entries, sum }
    }

    /// A view's digest: the `column` of its dense origins (the first
    /// `present` of its cells not empty), then `entries`, whose
    /// [`map_entry_len`] sum the view kept. Checked in debug builds.
    pub(crate) fn from_parts(column: Vec<Cell>, present: usize, entries: Vec<(Id, Version)>, sum: usize) -> Self {
        let d = Digest { column, len: present + entries.len(), entries, sum };
        debug_assert_eq!(present, d.column.iter().filter(|c| c.is_present()).count());
        debug_assert!(!d.column.iter().any(|c| c.is_wide()), "a column says its versions");
        debug_assert_eq!(sum, d.iter().map(|(o, v)| map_entry_len(&o, v)).sum::<usize>(), "digest size out of step");
        debug_assert!(d.entries.iter().all(|(o, _)| o.dense().is_none_or(|i| i >= d.column.len())));
        d
    }

    /// Every `(origin, version)` listed, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Id, Version)> + '_ {
        let column = self.column.iter().enumerate().filter_map(|(i, c)| Some((Id::from_dense(i)?, c.get()?)));
        column.chain(self.entries.iter().cloned())
    }

    /// The pairs as a slice: borrowed, unless the digest holds a column
    /// (a simulated view's), which is spelt out.
    pub fn pairs(&self) -> Cow<'_, [(Id, Version)]> {
        if self.column.is_empty() {
            Cow::Borrowed(&self.entries)
        } else {
            Cow::Owned(self.iter().collect())
        }
    }

    /// The pairs, to own.
    pub fn into_vec(self) -> Vec<(Id, Version)> {
        if self.column.is_empty() {
            self.entries
        } else {
            self.iter().collect()
        }
    }

    /// Its buffers, to reuse: the column (empty if it has none) and the
    /// list of the other pairs.
    pub(crate) fn into_parts(self) -> (Vec<Cell>, Vec<(Id, Version)>) {
        (self.column, self.entries)
    }

    /// The column of versions by dense index, and the pairs after it.
    pub(crate) fn parts(&self) -> (&[Cell], &[(Id, Version)]) {
        (&self.column, &self.entries)
    }
}

impl<Id> Digest<Id> {
    /// Number of pairs listed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it lists nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<Id> Default for Digest<Id> {
    fn default() -> Self {
        Digest { column: Vec::new(), entries: Vec::new(), len: 0, sum: 0 }
    }
}

impl<Id: NodeId> PartialEq for Digest<Id> {
    /// The same pairs, however they are stored.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<Id: NodeId> Eq for Digest<Id> {}

impl<Id: NodeId> PartialEq<Vec<(Id, Version)>> for Digest<Id> {
    fn eq(&self, other: &Vec<(Id, Version)>) -> bool {
        self.len == other.len() && self.iter().eq(other.iter().cloned())
    }
}

impl<Id: NodeId> From<Vec<(Id, Version)>> for Digest<Id> {
    fn from(entries: Vec<(Id, Version)>) -> Self {
        Digest::new(entries)
    }
}

impl<Id: NodeId> FromIterator<(Id, Version)> for Digest<Id> {
    fn from_iter<I: IntoIterator<Item = (Id, Version)>>(iter: I) -> Self {
        Digest::new(iter.into_iter().collect())
    }
}

/// What kind of [`Message`] one is, without its contents: what a protocol
/// declares it sends and accepts ([`Kinds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// [`Message::Push`].
    Push,
    /// [`Message::Feedback`].
    Feedback,
    /// [`Message::Digest`].
    Digest,
    /// [`Message::Delta`].
    Delta,
}

impl MessageKind {
    /// Every kind, in the order of [`Message`]'s variants.
    pub const ALL: [MessageKind; 4] =
        [MessageKind::Push, MessageKind::Feedback, MessageKind::Digest, MessageKind::Delta];

    /// Its name in `PROTOCOL.md`'s table and in logs.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Push => "push",
            MessageKind::Feedback => "feedback",
            MessageKind::Digest => "digest",
            MessageKind::Delta => "delta",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`MessageKind`]s, one bit each (a protocol's
/// [`Speaks`](super::protocols::Speaks)): copied and tested in one
/// instruction, so checking a message against it costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Kinds(u8);

impl Kinds {
    /// No kind.
    pub const NONE: Kinds = Kinds(0);
    /// The kinds the store's shared rules handle for any protocol: a push
    /// or a delta is merged by version, a digest is answered with what its
    /// sender lacks (and, push-pull, asked for what it has).
    pub const STATE: Kinds = Kinds::NONE.with(MessageKind::Push).with(MessageKind::Digest).with(MessageKind::Delta);

    /// This set and `k`.
    pub const fn with(self, k: MessageKind) -> Kinds {
        Kinds(self.0 | k.bit())
    }

    /// This set and `k` if `on`.
    pub const fn with_if(self, k: MessageKind, on: bool) -> Kinds {
        if on {
            self.with(k)
        } else {
            self
        }
    }

    /// Every kind in either set.
    pub const fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// Whether `k` is in the set.
    #[inline]
    pub const fn has(self, k: MessageKind) -> bool {
        self.0 & k.bit() != 0
    }

    /// Whether every kind of `other` is in the set.
    pub const fn covers(self, other: Kinds) -> bool {
        other.0 & !self.0 == 0
    }

    /// The kinds in the set, in [`MessageKind::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = MessageKind> {
        MessageKind::ALL.into_iter().filter(move |&k| self.has(k))
    }
}

impl std::fmt::Display for Kinds {
    /// `push, digest, delta`, or `nothing`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.iter().map(MessageKind::name).collect();
        f.write_str(if names.is_empty() { "nothing".to_owned() } else { names.join(", ") }.as_str())
    }
}

/// One transmission between two nodes.
#[derive(Clone, Debug)]
pub enum Message<Id> {
    /// Forwarded updates (flood, eager push, rumor mongering). TTL already decremented.
    Push(Vec<Update<Id>>),
    /// Rumor mongering with feedback: the pushed updates the receiver already knew.
    Feedback(Vec<(Id, Version)>),
    /// Anti-entropy request: the sender's digest. The receiver answers with a
    /// `Delta` holding what the sender lacks and, when `push_pull`, asking for
    /// what the receiver itself lacks.
    Digest { digest: Digest<Id>, push_pull: bool },
    /// Anti-entropy state transfer: `updates` the receiver lacks, and
    /// `request`, the origins (with the sender's version) the sender wants.
    Delta { updates: Vec<Update<Id>>, request: Digest<Id> },
}

impl<Id: NodeId> PartialEq for Message<Id> {
    fn eq(&self, other: &Self) -> bool {
        use Message::*;
        match (self, other) {
            (Push(a), Push(b)) => a == b,
            (Feedback(a), Feedback(b)) => a == b,
            (Digest { digest: a, push_pull: p }, Digest { digest: b, push_pull: q }) => a == b && p == q,
            (Delta { updates: a, request: r }, Delta { updates: b, request: s }) => a == b && r == s,
            _ => false,
        }
    }
}

impl<Id: NodeId> Eq for Message<Id> {}

impl<Id: NodeId> Message<Id> {
    /// Its size in bytes in the JSON wire format of `PROTOCOL.md`: the
    /// request body `{"from":"..", ...}` that carries this message alone,
    /// except the sender's identity (add `from.wire_len()` for the exact size).
    pub fn wire_len(&self) -> usize {
        // `"origin":[epoch,version]` entries, comma-separated, in braces
        let map_len = |sum: usize| 1 + sum.max(1);
        let list_len = |u: &[Update<Id>]| 1 + u.iter().map(|u| u.wire_len() + 1).sum::<usize>().max(1);
        // a field is left out when empty
        let field = |name: usize, present: bool, len: usize| if present { name + len } else { 0 };
        // `{"from":"` .. `"}`
        11 + match self {
            Message::Push(u) => field(11, !u.is_empty(), list_len(u)),
            Message::Feedback(k) => field(9, !k.is_empty(), map_len(map_sum(k))),
            Message::Digest { digest, push_pull } => 10 + map_len(digest.sum) + if *push_pull { 0 } else { 17 },
            Message::Delta { updates, request } => {
                field(9, !updates.is_empty(), list_len(updates)) + field(8, !request.is_empty(), map_len(request.sum))
            }
        }
    }

    /// Its kind.
    #[inline]
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Push(_) => MessageKind::Push,
            Message::Feedback(_) => MessageKind::Feedback,
            Message::Digest { .. } => MessageKind::Digest,
            Message::Delta { .. } => MessageKind::Delta,
        }
    }

    /// Whether this message answers another one (part of an exchange in progress).
    pub fn is_reply(&self) -> bool {
        matches!(self, Message::Feedback(_) | Message::Delta { .. })
    }

    /// Number of updates carried.
    pub fn update_count(&self) -> usize {
        match self {
            Message::Push(u) | Message::Delta { updates: u, .. } => u.len(),
            _ => 0,
        }
    }
}

/// Format a UUID in its canonical 8-4-4-4-12 lower-case hex form into
/// `buf`, without allocating (as its `Display` does).
pub fn fmt_uuid_into(u: Uuid, buf: &mut [u8; 36]) -> &str {
    u.hyphenated().encode_lower(buf)
}

/// Parse a UUID as the wire takes it: hex, any case, hyphenated (36
/// characters) or not (32); not braced and not a URN, which the crate's
/// parser would also take.
pub fn parse_uuid(s: &str) -> Option<Uuid> {
    matches!(s.len(), 32 | 36).then(|| Uuid::try_parse(s).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_text_round_trips() {
        let u = Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef);
        let s = fmt_uuid_into(u, &mut [0; 36]).to_owned();
        assert_eq!(s, "01234567-89ab-4def-8123-456789abcdef");
        assert_eq!(u.to_string(), s);
        assert_eq!(parse_uuid(&s), Some(u));
        assert_eq!(parse_uuid(&s.to_uppercase()), Some(u));
        assert_eq!(parse_uuid("0123456789AB4def8123456789abcdef"), Some(u));
        assert_eq!(parse_uuid("not-a-uuid"), None);
        assert_eq!(parse_uuid("01234567-89ab-4def-8123-456789abcdeg"), None);
        assert_eq!(parse_uuid("01234567-89ab-4def-8123-456789abcdé"), None);
        assert_eq!(parse_uuid("0123456789ab-4def8123-456789abcdef"), None);
        // what the crate's parser takes beside, the wire does not
        assert_eq!(parse_uuid(&format!("{{{s}}}")), None);
        assert_eq!(parse_uuid(&format!("urn:uuid:{s}")), None);
    }

    #[test]
    fn wire_len_grows_with_content() {
        let u = Update::new(Uuid::from_u128(1), 7u32, Version::new(0, 1), 3, "Up".into(), None);
        let one = Message::Push(vec![u.clone()]).wire_len();
        let two = Message::Push(vec![u.clone(), u]).wire_len();
        assert!(two > one && one > 60, "{one} {two}");
    }

    #[test]
    fn json_str_len_matches_serde_json_for_every_kind_of_byte_at_every_position() {
        let mut rng = crate::rng::Rng::new(7);
        let pool = ['a', ' ', '"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', '€', '😀', '/', '~'];
        for len in 0..40 {
            for _ in 0..50 {
                let s: String = (0..len).map(|_| pool[rng.below(pool.len() as u64) as usize]).collect();
                let want = serde_json::to_string(&s).expect("a string serializes").len() - 2;
                assert_eq!(json_str_len(&s), want, "{s:?}");
            }
            // one special byte at each position of an otherwise plain string
            for at in 0..len {
                for c in ['"', '\\', '\u{0}', '\u{1f}'] {
                    let s: String = (0..len).map(|i| if i == at { c } else { 'x' }).collect();
                    let want = serde_json::to_string(&s).expect("a string serializes").len() - 2;
                    assert_eq!(json_str_len(&s), want, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn decimal_len_counts_digits() {
        assert_eq!(decimal_len(0), 1);
        assert_eq!(decimal_len(9), 1);
        assert_eq!(decimal_len(10), 2);
        assert_eq!(decimal_len(u64::MAX), 20);
        for d in 0..20u32 {
            let p = 10u64.pow(d);
            for v in [p - 1, p, p + 1, p.saturating_mul(5), p.saturating_mul(10).saturating_sub(1)] {
                assert_eq!(decimal_len(v), v.to_string().len(), "{v}");
            }
        }
        for s in 0..64 {
            let v = 1u64 << s;
            for v in [v - 1, v, v + 1] {
                assert_eq!(decimal_len(v), v.to_string().len(), "{v}");
            }
        }
    }
}
