//! The JSON wire format of `POST /swim/`: SWIM's messages between native
//! nodes (see `PROTOCOL.md`, *Failure detection: SWIM*).
//!
//! One body shape serves both directions: `{"from": URL, "messages": [...]}`.
//! A request carries messages from `from` to the node called; the answer
//! carries the messages that node's SWIM member produced for `from` while
//! handling them (the `ack` of a `ping`). Each message is one core
//! [`SwimMsg`], each piggybacked update one [`Gossip`]:
//!
//! | `type` | fields | core message |
//! |---|---|---|
//! | `ping` | `seq`, `gossip` | `Ping` |
//! | `ping_req` | `seq`, `target`, `gossip` | `PingReq` |
//! | `ack` | `seq`, `gossip` | `Ack` |
//! | `nack` | `seq` | `Nack` |
//!
//! An update is `{"state": "alive"|"suspect"|"dead", "id": URL, "inc": N}`,
//! plus `"from": URL` (who suspected or declared) for `suspect` and `dead`.
//!
//! Members are base URLs: decoding refuses any other identity, bodies with
//! more than [`MAX_MESSAGES`] messages or a message with more than
//! [`MAX_GOSSIP`] updates, and incarnations above [`MAX_INCARNATION`] (so
//! that refuting one, `inc + 1`, never overflows). Nothing here touches IO.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{is_base_url, Id, Limits, WireError};
use crate::core::membership::swim::{Gossip, SwimMsg};

/// Most messages in one body.
pub const MAX_MESSAGES: usize = 16;
/// Most piggybacked updates in one message.
pub const MAX_GOSSIP: usize = 64;
/// Largest incarnation accepted (2^31 − 1).
pub const MAX_INCARNATION: u32 = i32::MAX as u32;
/// Largest `POST /swim/` body a node reads, and answer it takes, bytes.
pub const MAX_SWIM_BODY: usize = 64 * 1024;

/// A decoded `POST /swim/` body: who sent it and its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwimEnvelope {
    /// The sender's base URL, without a trailing slash: its SWIM identity.
    pub from: Id,
    /// The messages, in order.
    pub messages: Vec<SwimMsg<Id>>,
}

#[derive(Serialize, Deserialize)]
struct EnvelopeWire {
    from: String,
    #[serde(default)]
    messages: Vec<MsgWire>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum MsgWire {
    Ping {
        seq: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gossip: Vec<GossipWire>,
    },
    PingReq {
        seq: u32,
        target: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gossip: Vec<GossipWire>,
    },
    Ack {
        seq: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gossip: Vec<GossipWire>,
    },
    Nack {
        seq: u32,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum GossipWire {
    Alive { id: String, inc: u32 },
    Suspect { id: String, inc: u32, from: String },
    Dead { id: String, inc: u32, from: String },
}

fn invalid(what: impl std::fmt::Display) -> WireError {
    WireError::Invalid(what.to_string())
}

/// A member's identity: a base URL of at most `max_url_len` bytes, stored
/// without its trailing slash.
fn member(s: &str, lim: &Limits, what: impl FnOnce() -> String) -> Result<Id, WireError> {
    if s.len() > lim.max_url_len || !is_base_url(s) {
        return Err(invalid(format_args!(
            "{} must be an http:// or https:// base URL of at most {} bytes",
            what(),
            lim.max_url_len
        )));
    }
    Ok(Arc::from(s.strip_suffix('/').unwrap_or(s)))
}

fn gossip_of(at: usize, list: Vec<GossipWire>, lim: &Limits) -> Result<Vec<Gossip<Id>>, WireError> {
    if list.len() > MAX_GOSSIP {
        return Err(invalid(format_args!("messages[{at}].gossip has more than {MAX_GOSSIP} updates")));
    }
    let inc_ok = |i: usize, inc: u32| {
        if inc > MAX_INCARNATION {
            return Err(invalid(format_args!("messages[{at}].gossip[{i}].inc is above {MAX_INCARNATION}")));
        }
        Ok(inc)
    };
    list.into_iter()
        .enumerate()
        .map(|(i, g)| {
            let name = |f: &'static str| move || format!("messages[{at}].gossip[{i}].{f}");
            Ok(match g {
                GossipWire::Alive { id, inc } => {
                    Gossip::Alive { id: member(&id, lim, name("id"))?, inc: inc_ok(i, inc)? }
                }
                GossipWire::Suspect { id, inc, from } => Gossip::Suspect {
                    id: member(&id, lim, name("id"))?,
                    inc: inc_ok(i, inc)?,
                    from: member(&from, lim, name("from"))?,
                },
                GossipWire::Dead { id, inc, from } => Gossip::Dead {
                    id: member(&id, lim, name("id"))?,
                    inc: inc_ok(i, inc)?,
                    from: member(&from, lim, name("from"))?,
                },
            })
        })
        .collect()
}

/// Decode and validate a `POST /swim/` body (request or answer).
pub fn decode(body: &[u8], lim: &Limits) -> Result<SwimEnvelope, WireError> {
    let text = std::str::from_utf8(body).map_err(|_| WireError::Utf8)?;
    let e: EnvelopeWire = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => WireError::Invalid(e.to_string()),
        _ => WireError::Malformed(e.to_string()),
    })?;
    let from = member(&e.from, lim, || "from".into())?;
    if e.messages.len() > MAX_MESSAGES {
        return Err(invalid(format_args!("more than {MAX_MESSAGES} messages")));
    }
    let messages = e
        .messages
        .into_iter()
        .enumerate()
        .map(|(at, m)| {
            Ok(match m {
                MsgWire::Ping { seq, gossip } => SwimMsg::Ping { seq, gossip: gossip_of(at, gossip, lim)? },
                MsgWire::PingReq { seq, target, gossip } => SwimMsg::PingReq {
                    seq,
                    target: member(&target, lim, || format!("messages[{at}].target"))?,
                    gossip: gossip_of(at, gossip, lim)?,
                },
                MsgWire::Ack { seq, gossip } => SwimMsg::Ack { seq, gossip: gossip_of(at, gossip, lim)? },
                MsgWire::Nack { seq } => SwimMsg::Nack { seq },
            })
        })
        .collect::<Result<_, WireError>>()?;
    Ok(SwimEnvelope { from, messages })
}

fn gossip_out(list: &[Gossip<Id>]) -> Vec<GossipWire> {
    list.iter()
        .map(|g| match g {
            Gossip::Alive { id, inc } => GossipWire::Alive { id: id.to_string(), inc: *inc },
            Gossip::Suspect { id, inc, from } => {
                GossipWire::Suspect { id: id.to_string(), inc: *inc, from: from.to_string() }
            }
            Gossip::Dead { id, inc, from } => {
                GossipWire::Dead { id: id.to_string(), inc: *inc, from: from.to_string() }
            }
        })
        .collect()
}

/// Encode `messages` from the member at `from` as one body.
pub fn encode(from: &str, messages: &[SwimMsg<Id>]) -> Vec<u8> {
    let messages = messages
        .iter()
        .map(|m| match m {
            SwimMsg::Ping { seq, gossip } => MsgWire::Ping { seq: *seq, gossip: gossip_out(gossip) },
            SwimMsg::PingReq { seq, target, gossip } => {
                MsgWire::PingReq { seq: *seq, target: target.to_string(), gossip: gossip_out(gossip) }
            }
            SwimMsg::Ack { seq, gossip } => MsgWire::Ack { seq: *seq, gossip: gossip_out(gossip) },
            SwimMsg::Nack { seq } => MsgWire::Nack { seq: *seq },
        })
        .collect();
    // plain strings and integers always serialize
    serde_json::to_vec(&EnvelopeWire { from: from.to_string(), messages })
        .expect("JSON encoding of strings and integers")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "http://127.0.0.1:7000";
    const B: &str = "http://127.0.0.1:7001";

    fn id(s: &str) -> Id {
        Arc::from(s)
    }

    #[test]
    fn every_message_and_update_round_trips() {
        let msgs = vec![
            SwimMsg::Ping { seq: 1, gossip: vec![Gossip::Alive { id: id(B), inc: 3 }] },
            SwimMsg::PingReq {
                seq: 2,
                target: id(B),
                gossip: vec![Gossip::Suspect { id: id(B), inc: 0, from: id(A) }],
            },
            SwimMsg::Ack { seq: u32::MAX, gossip: vec![Gossip::Dead { id: id(B), inc: 7, from: id(A) }] },
            SwimMsg::Nack { seq: 4 },
        ];
        let body = encode(A, &msgs);
        let back = decode(&body, &Limits::default()).unwrap();
        assert_eq!(back, SwimEnvelope { from: id(A), messages: msgs });
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains(
                r#"{"type":"ping_req","seq":2,"target":"http://127.0.0.1:7001","gossip":[{"state":"suspect""#
            ),
            "{text}"
        );
        assert!(text.contains(r#"{"type":"nack","seq":4}"#), "{text}");
    }

    #[test]
    fn a_trailing_slash_is_dropped_and_missing_lists_are_empty() {
        let body = format!(r#"{{"from":"{A}/","messages":[{{"type":"ping","seq":9}}]}}"#);
        let e = decode(body.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(e.from, id(A));
        assert_eq!(e.messages, vec![SwimMsg::Ping { seq: 9, gossip: vec![] }]);
        let e = decode(format!(r#"{{"from":"{A}"}}"#).as_bytes(), &Limits::default()).unwrap();
        assert!(e.messages.is_empty());
    }

    #[test]
    fn hostile_bodies_are_refused_with_the_field_named() {
        let lim = Limits::default();
        let ping =
            |extra: &str| format!(r#"{{"from":"{A}","messages":[{{"type":"ping","seq":1,"gossip":[{extra}]}}]}}"#);
        let many = format!(r#"{{"from":"{A}","messages":[{}]}}"#, vec![r#"{"type":"nack","seq":1}"#; 17].join(","));
        let lots = vec![format!(r#"{{"state":"alive","id":"{B}","inc":1}}"#); 65].join(",");
        let long = format!("http://{}.example", "a".repeat(300));
        for (body, err) in [
            ("{".to_string(), WireError::Malformed(String::new())),
            (r#"{"messages":[]}"#.to_string(), WireError::Invalid(String::new())),
            (r#"{"from":"browser-1"}"#.to_string(), WireError::Invalid("from must be".into())),
            (format!(r#"{{"from":"{long}"}}"#), WireError::Invalid("from must be".into())),
            (many, WireError::Invalid("more than 16 messages".into())),
            (ping(&lots), WireError::Invalid("more than 64 updates".into())),
            (format!(r#"{{"from":"{A}","messages":[{{"type":"shout","seq":1}}]}}"#), WireError::Invalid(String::new())),
            (format!(r#"{{"from":"{A}","messages":[{{"type":"ping","seq":-1}}]}}"#), WireError::Invalid(String::new())),
            (
                format!(r#"{{"from":"{A}","messages":[{{"type":"ping_req","seq":1,"target":"x"}}]}}"#),
                WireError::Invalid("messages[0].target".into()),
            ),
            (
                ping(&format!(r#"{{"state":"alive","id":"{B}","inc":2147483648}}"#)),
                WireError::Invalid("messages[0].gossip[0].inc is above".into()),
            ),
            (ping(&format!(r#"{{"state":"dead","id":"{B}","inc":1}}"#)), WireError::Invalid(String::new())),
            (
                ping(&format!(r#"{{"state":"suspect","id":"{B}","inc":1,"from":"me"}}"#)),
                WireError::Invalid("messages[0].gossip[0].from".into()),
            ),
            (ping(&format!(r#"{{"state":"zombie","id":"{B}","inc":1}}"#)), WireError::Invalid(String::new())),
        ] {
            let got = decode(body.as_bytes(), &lim).unwrap_err();
            match (&got, &err) {
                (WireError::Malformed(_), WireError::Malformed(_)) => {}
                (WireError::Invalid(g), WireError::Invalid(want)) => assert!(g.contains(want.as_str()), "{body}: {g}"),
                _ => panic!("{body}: {got:?}, expected {err:?}"),
            }
        }
        assert_eq!(decode(&[0xff, 0xfe], &lim).unwrap_err(), WireError::Utf8);
    }
}
