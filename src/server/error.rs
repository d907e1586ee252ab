//! Rejections: why a request was refused, as an HTTP status, a JSON body
//! `{"error": "<what went wrong>", "reason": "<code>"}` and a metrics counter
//! labelled with the same code.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::limits::Throttle;
use crate::wire::WireError;

/// Why a request was rejected; each has its own status and counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The body is not JSON.
    MalformedJson,
    /// The body is not UTF-8.
    InvalidUtf8,
    /// A field is missing, of the wrong type or out of range.
    InvalidField,
    /// The `Content-Type` is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the limit.
    TooLarge,
    /// The client was too slow to send its body.
    Timeout,
    /// The body could not be read (the client went away mid-body).
    BodyRead,
    /// No such path.
    NotFound,
    /// The path exists, the method does not.
    MethodNotAllowed,
    /// Updates whose seals are missing, do not verify, or are by another key
    /// than the origin's: forgeries, or an unsigned course implementation
    /// talking to a node that requires signatures.
    Unauthenticated,
    /// Too many connections at once (the connection is closed unanswered;
    /// the status is for completeness).
    Overloaded,
    /// Too many requests in progress at once (`--max-concurrent`).
    Busy,
    /// The client sent more than its rate (`--client-rps`), or holds its
    /// share of the requests in progress already.
    RateLimited,
    /// The client has too many connections open (`--client-conns`): the new
    /// one is closed unanswered; the status is for completeness.
    ClientConnections,
    /// The client stopped reading its answers: the connection was closed
    /// after the read timeout; the status is for completeness.
    Stalled,
    /// Fault injection (`POST /faults`) partitions this node from the sender.
    Partitioned,
    /// An HTTPS client failed the TLS handshake or did not finish it within
    /// the read timeout: the connection is closed unanswered; the status is
    /// for completeness.
    TlsHandshake,
}

impl Reason {
    /// Every reason, in the order metrics list them.
    pub const ALL: [Reason; 17] = [
        Reason::MalformedJson,
        Reason::InvalidUtf8,
        Reason::InvalidField,
        Reason::UnsupportedMediaType,
        Reason::TooLarge,
        Reason::Timeout,
        Reason::BodyRead,
        Reason::NotFound,
        Reason::MethodNotAllowed,
        Reason::Unauthenticated,
        Reason::Overloaded,
        Reason::Busy,
        Reason::RateLimited,
        Reason::ClientConnections,
        Reason::Stalled,
        Reason::Partitioned,
        Reason::TlsHandshake,
    ];

    /// The code in JSON bodies and metrics labels.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MalformedJson => "malformed_json",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::InvalidField => "invalid_field",
            Reason::UnsupportedMediaType => "unsupported_media_type",
            Reason::TooLarge => "too_large",
            Reason::Timeout => "timeout",
            Reason::BodyRead => "body_read",
            Reason::NotFound => "not_found",
            Reason::MethodNotAllowed => "method_not_allowed",
            Reason::Unauthenticated => "unauthenticated",
            Reason::Overloaded => "overloaded",
            Reason::Busy => "busy",
            Reason::RateLimited => "rate_limited",
            Reason::ClientConnections => "client_connections",
            Reason::Stalled => "stalled",
            Reason::Partitioned => "partitioned",
            Reason::TlsHandshake => "tls_handshake",
        }
    }

    /// The HTTP status it answers with.
    pub fn status(self) -> StatusCode {
        match self {
            Reason::MalformedJson
            | Reason::InvalidUtf8
            | Reason::InvalidField
            | Reason::BodyRead
            | Reason::TlsHandshake => StatusCode::BAD_REQUEST,
            Reason::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Reason::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Reason::Timeout | Reason::Stalled => StatusCode::REQUEST_TIMEOUT,
            Reason::NotFound => StatusCode::NOT_FOUND,
            Reason::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Reason::Unauthenticated => StatusCode::FORBIDDEN,
            Reason::Overloaded | Reason::Busy | Reason::Partitioned => StatusCode::SERVICE_UNAVAILABLE,
            Reason::RateLimited | Reason::ClientConnections => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The `Retry-After` it answers with, in seconds: the load refusals say
    /// when to come back.
    pub fn retry_after_secs(self) -> Option<u32> {
        match self {
            Reason::Busy | Reason::RateLimited => Some(1),
            _ => None,
        }
    }

    /// Its index in [`Reason::ALL`].
    pub fn index(self) -> usize {
        Reason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// A rejected request: the reason and a message for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The reason (status, code, counter).
    pub reason: Reason,
    /// What went wrong, for people.
    pub message: String,
}

impl Rejection {
    /// A rejection for `reason` saying `message`.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Rejection { reason, message: message.into() }
    }
}

impl From<WireError> for Rejection {
    fn from(e: WireError) -> Self {
        let reason = match e {
            WireError::Malformed(_) => Reason::MalformedJson,
            WireError::Utf8 => Reason::InvalidUtf8,
            WireError::Invalid(_) => Reason::InvalidField,
        };
        Rejection::new(reason, e.to_string())
    }
}

impl From<Throttle> for Rejection {
    fn from(r: Throttle) -> Self {
        let reason = match r {
            Throttle::Busy { .. } => Reason::Busy,
            Throttle::ClientBusy { .. } | Throttle::RateLimited { .. } => Reason::RateLimited,
        };
        Rejection::new(reason, r.to_string())
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "reason": self.reason.code() }).to_string();
        let mut resp = (self.reason.status(), [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(secs) = self.reason.retry_after_secs() {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}
