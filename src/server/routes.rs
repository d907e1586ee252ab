//! The HTTP API: `GET /peers/`, `POST /gossip/`, `GET /state`,
//! `GET /metrics`, `POST /swim/` (with SWIM on, [`super::swim`]) and the
//! page at `GET /`, each with and without the trailing slash, CORS open to every origin (Private Network Access
//! preflights included); `POST /faults` with `--allow-faults` (tests only).
//! Every request first passes admission control ([`super::limits`]).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_http::cors::{Any, CorsLayer};

use super::client::dispatch;
use super::error::{Reason, Rejection};
use super::limits::{client_key, ClientAddr};
use super::metrics::NodeMetrics;
use super::state::{NodeState, MAX_DROPS};
use crate::wire::{self, Id};

/// The node's router: every endpoint, the JSON 404 and 405, admission
/// control, and CORS (with `Access-Control-Allow-Private-Network` for
/// Chrome's preflights). `POST /faults` exists only with `allow_faults`.
pub fn app(state: Arc<NodeState>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        // Chrome's Private Network Access: a page on a public origin may call
        // a node on a private or loopback address once the preflight says so
        .allow_private_network(true)
        .max_age(Duration::from_secs(600));
    let mut router = Router::new()
        .route("/", get(page))
        .route("/peers", get(peers))
        .route("/peers/", get(peers))
        .route("/gossip", post(gossip))
        .route("/gossip/", post(gossip))
        .route("/state", get(node_state))
        .route("/state/", get(node_state))
        .route("/metrics", get(metrics));
    if state.opts.swim.is_some() {
        router = router.route("/swim", post(super::swim::handle)).route("/swim/", post(super::swim::handle));
    }
    if state.opts.allow_faults {
        router = router.route("/faults", post(faults)).route("/faults/", post(faults));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), admit))
        .layer(cors)
        .with_state(state)
}

/// Admission control: a request is handled only within the limits on
/// requests in progress and the client's rate ([`super::limits::Limiter`]);
/// otherwise it is answered at once with `503` or `429` and `Retry-After`.
async fn admit(State(s): State<Arc<NodeState>>, req: Request, next: Next) -> Response {
    let client = req.extensions().get::<ClientAddr>().map(|c| client_key(c.0.ip()));
    match s.limiter.admit(client, std::time::Instant::now()) {
        Ok(permit) => {
            let resp = next.run(req).await;
            drop(permit);
            resp
        }
        Err(refusal) => reject(&s, refusal.into()),
    }
}

pub(crate) fn reject(state: &NodeState, r: Rejection) -> Response {
    state.metrics.reject(r.reason);
    tracing::debug!(reason = r.reason.code(), "rejected: {}", r.message);
    r.into_response()
}

async fn not_found(State(s): State<Arc<NodeState>>, method: Method, uri: axum::http::Uri) -> Response {
    reject(&s, Rejection::new(Reason::NotFound, format!("no route for {method} {}", uri.path())))
}

async fn method_not_allowed(State(s): State<Arc<NodeState>>, method: Method, uri: axum::http::Uri) -> Response {
    reject(&s, Rejection::new(Reason::MethodNotAllowed, format!("{method} is not allowed on {}", uri.path())))
}

async fn page() -> Html<&'static str> {
    Html(include_str!("page.html"))
}

async fn peers(State(s): State<Arc<NodeState>>) -> Json<Vec<String>> {
    Json(s.alive_peers().iter().map(|p| p.to_string()).collect())
}

async fn node_state(State(s): State<Arc<NodeState>>) -> Json<super::state::StateView> {
    Json(s.state_json())
}

async fn metrics(State(s): State<Arc<NodeState>>) -> Response {
    let text = s.metrics.render(&s.gauges());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Read the whole body within `max` bytes and the read timeout.
async fn read_body(s: &NodeState, headers: &HeaderMap, body: Body, max: usize) -> Result<axum::body::Bytes, Rejection> {
    let too_large = || Rejection::new(Reason::TooLarge, format!("the body is larger than {max} bytes"));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let timeout = Duration::from_millis(s.opts.read_timeout_ms);
    match tokio::time::timeout(timeout, Limited::new(body, max).collect()).await {
        Err(_) => {
            Err(Rejection::new(Reason::Timeout, format!("the body did not arrive within {} ms", timeout.as_millis())))
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(Rejection::new(Reason::BodyRead, format!("could not read the body: {e}"))),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// The body of a request that must be JSON: refused with 415 when the
/// `Content-Type` says otherwise, then read as [`read_body`] does, at most
/// `max` bytes.
pub(crate) async fn read_json_body(s: &NodeState, req: Request, max: usize) -> Result<axum::body::Bytes, Rejection> {
    let (parts, body) = req.into_parts();
    if !is_json(&parts.headers) {
        return Err(Rejection::new(
            Reason::UnsupportedMediaType,
            "the body must be sent as Content-Type: application/json",
        ));
    }
    read_body(s, &parts.headers, body, max).await
}

/// `POST /gossip/`: one push-pull exchange.
async fn gossip(State(s): State<Arc<NodeState>>, req: Request) -> Response {
    match exchange(&s, req).await {
        Ok(r) => r,
        Err(e) => reject(&s, e),
    }
}

async fn exchange(s: &Arc<NodeState>, req: Request) -> Result<Response, Rejection> {
    let _timer = s.metrics.request_duration.timer(); // gossip_request_duration_seconds, every way out
    let bytes = read_json_body(s, req, s.opts.max_body_bytes).await?;
    let env = wire::decode(&bytes, &s.opts.limits)?;
    if env.from == s.id {
        return Err(Rejection::new(Reason::InvalidField, "from is this node's own identity"));
    }
    if s.is_dropped(&env.from) || env.url.as_deref().is_some_and(|u| s.is_dropped(u)) {
        return Err(Rejection::new(Reason::Partitioned, "partitioned from the sender by fault injection"));
    }
    let updates_in: usize = env.messages.iter().map(|m| m.update_count()).sum();
    let sender = env.url.clone().unwrap_or_else(|| env.from.clone());
    let (replies, sends, refused) = s.exchange_in(env);
    dispatch(s, sends);
    if let Some(why) = super::state::refusal_error(&refused) {
        s.log_refusals(&sender, &refused);
        // what was valid in the body is applied; the sender learns what was not
        return Err(Rejection::new(Reason::Unauthenticated, why));
    }
    let out = wire::encode(&s.id, Some(&s.url), Some(&s.key), &replies);
    let m = &s.metrics;
    NodeMetrics::add(&m.exchanges_in, 1);
    NodeMetrics::add(&m.updates_in, updates_in);
    NodeMetrics::add(&m.bytes_in, bytes.len());
    NodeMetrics::add(&m.updates_out, replies.iter().map(|r| r.update_count()).sum());
    NodeMetrics::add(&m.bytes_out, out.len());
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], out).into_response())
}

/// `POST /faults` (with `--allow-faults` only): `{"drop": ["<base URL>", ...]}`
/// replaces the drop list; the answer is the list now in force.
async fn faults(State(s): State<Arc<NodeState>>, req: Request) -> Response {
    match set_faults(&s, req).await {
        Ok(list) => Json(serde_json::json!({ "drop": list })).into_response(),
        Err(e) => reject(&s, e),
    }
}

async fn set_faults(s: &NodeState, req: Request) -> Result<Vec<String>, Rejection> {
    #[derive(serde::Deserialize)]
    struct Faults {
        drop: Vec<String>,
    }
    let bytes = read_json_body(s, req, s.opts.max_body_bytes).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Rejection::from(wire::WireError::Utf8))?;
    let f: Faults = serde_json::from_str(text).map_err(|e| {
        let reason = match e.classify() {
            serde_json::error::Category::Data => Reason::InvalidField,
            _ => Reason::MalformedJson,
        };
        Rejection::new(reason, format!("expected {{\"drop\": [\"<base URL>\", ...]}}: {e}"))
    })?;
    if f.drop.len() > MAX_DROPS {
        return Err(Rejection::new(Reason::InvalidField, format!("at most {MAX_DROPS} URLs may be dropped")));
    }
    let mut urls = Vec::with_capacity(f.drop.len());
    for (i, u) in f.drop.iter().enumerate() {
        if u.len() > s.opts.limits.max_url_len || !wire::is_base_url(u) {
            return Err(Rejection::new(Reason::InvalidField, format!("drop[{i}] is not a base URL")));
        }
        urls.push(Id::from(u.strip_suffix('/').unwrap_or(u)));
    }
    Ok(s.set_dropped(urls))
}
