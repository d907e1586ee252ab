//! How the harness talks to a node, theirs or ours: `GET /peers/`, `POST
//! /gossip/` with updates it makes up (sealed or not), reading a node's view
//! through an empty digest (what every node that answers digests must
//! support: `PROTOCOL.md`, "`POST /gossip/`: one exchange"), and `GET
//! /state` of the reference nodes. Every request has a time bound; every
//! answer is checked, never trusted.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::core::{Message, Payload, Signer, Update, Uuid, Version};
use crate::wire::{self, Id, Limits};

/// The identity the harness uses when it reads a node's view.
pub const HARNESS_ID: &str = "gossip-test-node";

/// Why talking to a node failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// No answer: refused, reset, timed out.
    Unreachable(String),
    /// An answer with another status than 200.
    Status(u16, String),
    /// A 200 answer whose body is not what the protocol says.
    Garbage(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Unreachable(e) => write!(f, "no answer ({e})"),
            ProbeError::Status(s, body) => write!(f, "answered {s}: {body}"),
            ProbeError::Garbage(e) => write!(f, "answered 200 with {e}"),
        }
    }
}

impl std::error::Error for ProbeError {}

/// At most this much of a body, quoted in a message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
    if body.len() > 120 {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// One entry of a node's view, as it sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// `(epoch, version)`.
    pub version: Version,
    /// The update's UUID.
    pub uuid: Uuid,
    /// The favorite.
    pub payload: String,
    /// Whether it carried a seal, and which.
    pub seal: Option<(String, String)>,
}

impl Held {
    /// What an update says, as a view entry.
    pub fn of_update(u: &Update<Id>) -> Held {
        let seal = u.seal.as_ref().map(|s| (crate::wire::b64::encode(&s.key), crate::wire::b64::encode(&s.sig)));
        Held { version: u.version, uuid: u.uuid, payload: u.payload.as_str().to_owned(), seal }
    }
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (epoch {}, version {})", self.payload, self.version.epoch, self.version.counter)
    }
}

/// A view: origin -> what is held.
pub type View = BTreeMap<String, Held>;

/// A blocking-free HTTP client with short timeouts.
#[derive(Clone)]
pub struct Probe {
    http: reqwest::Client,
}

impl Probe {
    /// A client whose requests each take at most `timeout`.
    pub fn new(timeout: Duration) -> Probe {
        let http = crate::server::tls::client_builder(None)
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(0)
            .build()
            .expect("a client with a preconfigured rustls config and no proxies always builds");
        Probe { http }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), ProbeError> {
        let r = req.send().await.map_err(|e| ProbeError::Unreachable(error_chain(&e)))?;
        let status = r.status().as_u16();
        let body = r.bytes().await.map_err(|e| ProbeError::Unreachable(error_chain(&e)))?;
        Ok((status, body.to_vec()))
    }

    /// `GET base/path`: status and body.
    pub async fn get(&self, base: &str, path: &str) -> Result<(u16, Vec<u8>), ProbeError> {
        self.send(self.http.get(format!("{base}{path}"))).await
    }

    /// `POST base/path` with `body` as JSON: status and body.
    pub async fn post(&self, base: &str, path: &str, body: Vec<u8>) -> Result<(u16, Vec<u8>), ProbeError> {
        self.send(self.http.post(format!("{base}{path}")).header("content-type", "application/json").body(body)).await
    }

    /// `POST base/gossip/`, requiring a 200 with a valid envelope.
    pub async fn exchange(&self, base: &str, body: Vec<u8>) -> Result<wire::Envelope, ProbeError> {
        match self.post(base, "/gossip/", body).await? {
            (200, b) => wire::decode(&b, &Limits::default()).map_err(|e| {
                ProbeError::Garbage(format!("a body that is not a valid envelope ({e}): {}", snippet(&b)))
            }),
            (s, b) => Err(ProbeError::Status(s, snippet(&b))),
        }
    }

    /// `GET base/peers/`: the list, which must be a JSON array of strings.
    pub async fn peers(&self, base: &str) -> Result<Vec<String>, ProbeError> {
        match self.get(base, "/peers/").await? {
            (200, b) => serde_json::from_slice::<Vec<String>>(&b).map_err(|_| {
                ProbeError::Garbage(format!("a body that is not a JSON array of strings: {}", snippet(&b)))
            }),
            (s, b) => Err(ProbeError::Status(s, snippet(&b))),
        }
    }

    /// A node's whole view, read by sending it an empty digest (pull only):
    /// the answer's `delta` is everything it holds.
    pub async fn view(&self, base: &str) -> Result<View, ProbeError> {
        let body =
            wire::encode(HARNESS_ID, None, None, &[Message::Digest { digest: Default::default(), push_pull: false }]);
        let env = self.exchange(base, body).await?;
        let mut view = View::new();
        for m in &env.messages {
            if let Message::Delta { updates, .. } = m {
                for u in updates {
                    let h = Held::of_update(u);
                    match view.get(&*u.origin) {
                        Some(old) if old.version >= h.version => {}
                        _ => {
                            view.insert(u.origin.to_string(), h);
                        }
                    }
                }
            }
        }
        Ok(view)
    }

    /// A reference node's `GET /state`.
    pub async fn state(&self, base: &str) -> Result<crate::server::state::StateView, ProbeError> {
        match self.get(base, "/state").await? {
            (200, b) => serde_json::from_slice(&b).map_err(|e| ProbeError::Garbage(format!("bad /state: {e}"))),
            (s, b) => Err(ProbeError::Status(s, snippet(&b))),
        }
    }
}

/// An error and its causes, on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// A fresh random (version 4) UUID.
pub fn fresh_uuid() -> Uuid {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        b = t.to_le_bytes();
    }
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// A made-up update of `origin`, sealed by `signer` if given.
pub fn update(origin: &str, version: Version, ttl: u32, payload: &str, signer: Option<&Signer>) -> Update<Id> {
    let uuid = fresh_uuid();
    let origin: Id = Arc::from(origin);
    let seal = signer.map(|s| s.seal(uuid, &origin, version, payload));
    Update::new(uuid, origin, version, ttl, Payload::Shared(Arc::from(payload)), seal)
}

/// The body of a push of `updates` from `from` (dialable at `url`).
pub fn push_body(from: &str, url: Option<&str>, updates: Vec<Update<Id>>) -> Vec<u8> {
    wire::encode(from, url, None, &[Message::Push(updates)])
}
