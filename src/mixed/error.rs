//! The bridge's errors, typed by what went wrong: [`BridgeError`] for what
//! the page asks of it (options, a URL to connect to), [`FetchError`] for a
//! request the driver could not get answered, [`AnswerError`] for an answer
//! from a real node the run cannot use. The page shows the first to the
//! person who typed the value; the others are counted and noticed once per
//! node, never fatal.

use std::fmt;

use crate::wire::{Id, WireError};

/// A base URL that is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// It has a path after the host (`http://h:1/gossip/`).
    HasPath(String),
    /// Not `http(s)://host[:port]`, or too long.
    NotBase(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::HasPath(u) => {
                write!(f, "{u:?} has a path: give the node's base URL (like http://127.0.0.1:7000)")
            }
            UrlError::NotBase(u) => write!(f, "{u:?} is not the base URL of a node (like http://127.0.0.1:7000)"),
        }
    }
}

impl std::error::Error for UrlError {}

/// What the page asked of the bridge that it cannot do.
#[derive(Clone, Debug, PartialEq)]
pub enum BridgeError {
    /// An option out of its range: which, the range, the value given.
    Option {
        /// The option's name as the page's form calls it.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What was given.
        got: String,
    },
    /// Options change only while disconnected.
    Connected,
    /// The URL to connect to is not a node's base URL.
    Url(UrlError),
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BridgeError::Option { name, expected, got } => write!(f, "{name} must be {expected}, got {got}"),
            BridgeError::Connected => f.write_str("disconnect before changing how the page talks to real nodes"),
            BridgeError::Url(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BridgeError {}

impl From<UrlError> for BridgeError {
    fn from(e: UrlError) -> Self {
        BridgeError::Url(e)
    }
}

/// Why a request to a real node got no answer: what the driver's transport
/// (the browser's `fetch`, a test's HTTP client) hands back in an
/// [`Outcome`](super::Outcome). The bridge counts it in `failed`, backs
/// off and says why once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// No answer came, in the transport's words: no connection, a DNS
    /// failure, a refusal by CORS (browsers do not tell these apart).
    Network(String),
    /// No answer within the request's timeout, ms.
    Timeout(u64),
    /// The answer declared a body over the limit.
    TooLarge {
        /// The bytes it declared.
        declared: usize,
        /// The limit, bytes.
        limit: usize,
    },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Network(why) => f.write_str(why),
            FetchError::Timeout(ms) => write!(f, "no answer within {ms} ms"),
            FetchError::TooLarge { declared, limit } => {
                write!(f, "answer of {declared} bytes, over the {limit}-byte limit")
            }
        }
    }
}

impl std::error::Error for FetchError {}

impl From<String> for FetchError {
    /// A transport's own description of a failure.
    fn from(why: String) -> Self {
        FetchError::Network(why)
    }
}

impl From<&str> for FetchError {
    fn from(why: &str) -> Self {
        FetchError::Network(why.to_owned())
    }
}

/// Why an answer from a real node cannot be used (it is counted in
/// `bad_answers` and noticed once).
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerError {
    /// The body of `route`'s answer is not what the protocol says.
    Body {
        /// `POST /gossip/`, `GET /state` or `GET /peers/`.
        route: &'static str,
        /// What the decoder said.
        why: String,
    },
    /// The exchange's envelope does not decode.
    Wire(WireError),
    /// `/state` names no identity, or one too long.
    BadId,
    /// It claims to be one of this page's own nodes.
    ClaimsPageNode(Id),
    /// The table of identities from outside the page is full.
    TooManyIdentities,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Body { route, why } => write!(f, "{route}: {why}"),
            AnswerError::Wire(e) => e.fmt(f),
            AnswerError::BadId => f.write_str("GET /state: id missing or too long"),
            AnswerError::ClaimsPageNode(name) => write!(f, "it claims to be one of this page's nodes ({name})"),
            AnswerError::TooManyIdentities => f.write_str("too many identities from outside the page"),
        }
    }
}

impl std::error::Error for AnswerError {}
