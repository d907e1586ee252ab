//! The outgoing side: the gossip loop that drives the core's timer, and the
//! exchanges this node starts (`POST {peer}/gossip/` with `reqwest`, connect
//! and total timeouts, bounded answers), plus the bootstrap `GET /peers/`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument;

use super::metrics::NodeMetrics;
use super::state::{NodeState, Sends};
use crate::core::Message;
use crate::wire::{self, Id};

/// Start one exchange per destination in `sends`, each in its own task.
/// Destinations that are not base URLs are never dialed (and counted); when
/// too many exchanges are in flight, new ones are dropped and counted.
pub fn dispatch(state: &Arc<NodeState>, sends: Sends) {
    for (to, msgs) in sends {
        if !wire::is_base_url(&to) {
            NodeMetrics::add(&state.metrics.dials_refused, 1);
            tracing::debug!(peer = %to, "not dialing a peer without a URL");
            continue;
        }
        let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
            NodeMetrics::add(&state.metrics.exchanges_out_dropped, 1);
            continue;
        };
        let updates: usize = msgs.iter().map(|m| m.update_count()).sum();
        let body = wire::encode(&state.id, Some(&state.url), Some(&state.key), &msgs);
        NodeMetrics::add(&state.metrics.updates_out, updates);
        NodeMetrics::add(&state.metrics.bytes_out, body.len());
        let st = state.clone();
        tokio::spawn(
            async move {
                exchange_out(&st, to, body).await;
                drop(permit);
            }
            .in_current_span(),
        );
    }
}

/// Why an outgoing exchange failed.
#[derive(Debug)]
pub(super) enum OutError {
    Http(reqwest::Error),
    Status(reqwest::StatusCode),
    TooLarge,
    Body(wire::WireError),
    /// Fault injection: the peer is in the drop list (never dialed).
    Dropped,
}

impl std::fmt::Display for OutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutError::Http(e) if e.is_timeout() => write!(f, "timed out: {}", Causes(e)),
            OutError::Http(e) if e.is_connect() => write!(f, "cannot connect: {}", Causes(e)),
            OutError::Http(e) => write!(f, "{}", Causes(e)),
            OutError::Status(s) => write!(f, "answered {s}"),
            OutError::TooLarge => f.write_str("answer larger than the body limit"),
            OutError::Body(e) => write!(f, "bad answer: {e}"),
            OutError::Dropped => f.write_str("unreachable: dropped by fault injection"),
        }
    }
}

/// An error and its causes, `: `-separated: reqwest's own message names the
/// URL only, the causes say why (refused, a certificate not trusted, ...).
struct Causes<'a>(&'a reqwest::Error);

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = std::error::Error::source(self.0);
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

/// Send `req` (to the node at base URL `peer`, counted as such), read at
/// most `max` bytes of the answer. A peer in the fault-injection drop list
/// is not dialed.
pub(super) async fn fetch(
    state: &NodeState,
    peer: &str,
    req: reqwest::RequestBuilder,
    max: usize,
) -> Result<Vec<u8>, OutError> {
    if state.is_dropped(peer) {
        return Err(OutError::Dropped);
    }
    state.metrics.request_out(peer);
    let mut resp = req.send().await.map_err(OutError::Http)?;
    let status = resp.status();
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(OutError::TooLarge);
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(OutError::Http)? {
        if buf.len() + chunk.len() > max {
            return Err(OutError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(OutError::Status(status));
    }
    Ok(buf)
}

async fn exchange_out(state: &Arc<NodeState>, to: Id, body: Vec<u8>) {
    let req =
        state.client.post(format!("{to}/gossip/")).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    let started = std::time::Instant::now();
    let answer = fetch(state, &to, req, state.opts.max_body_bytes).await.and_then(|bytes| {
        NodeMetrics::add(&state.metrics.bytes_in, bytes.len());
        wire::decode(&bytes, &state.opts.limits).map_err(OutError::Body)
    });
    state.metrics.exchange_duration.observe(started.elapsed());
    match answer {
        Ok(env) => {
            NodeMetrics::add(&state.metrics.exchanges_out_ok, 1);
            NodeMetrics::add(&state.metrics.updates_in, env.messages.iter().map(|m| m.update_count()).sum());
            let next = state.exchange_answered(&to, env.from, env.key, env.messages);
            dispatch(state, next);
        }
        Err(e) => {
            NodeMetrics::add(&state.metrics.exchanges_out_failed, 1);
            match e {
                // it answered, so it is alive, but we could not use the answer
                OutError::Status(_) | OutError::Body(_) | OutError::TooLarge => {
                    tracing::warn!(peer = %to, "exchange refused: {e}");
                    let _ = state.exchange_answered(&to, to.clone(), None, Vec::new());
                }
                OutError::Http(_) | OutError::Dropped => state.exchange_failed(&to, &e.to_string()),
            }
        }
    }
}

/// Drive the core's timer until `stop` turns true.
pub async fn gossip_loop(state: Arc<NodeState>, mut stop: watch::Receiver<bool>) {
    loop {
        let (sends, next) = state.tick();
        dispatch(&state, sends);
        tokio::select! {
            _ = tokio::time::sleep_until(state.instant_at(next)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Ask each bootstrap peer for its peers (`GET /peers/`) until one answers,
/// retrying every interval; gives up after a minute (gossip itself keeps
/// discovering peers). Then ask it for its whole view (an empty digest): a
/// node that restarted hears what the network remembers of its previous
/// incarnation, and the core announces its new favorite above that.
pub async fn bootstrap(state: Arc<NodeState>, mut stop: watch::Receiver<bool>) {
    let urls: Vec<String> =
        state.opts.bootstrap.iter().map(|b| b.trim_end_matches('/').to_string()).filter(|b| *b != *state.url).collect();
    if urls.is_empty() {
        return;
    }
    let pause = Duration::from_millis(state.opts.core.interval_ms.clamp(100, 5_000));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        for u in &urls {
            let peers = state.client.get(format!("{u}/peers/"));
            match fetch(&state, u, peers, crate::server::state::MAX_PEERS_ANSWER_BYTES).await {
                Ok(body) => match state.learn_peer_list(&body) {
                    Ok((listed, new)) => {
                        tracing::info!(bootstrap = %u, listed, new, "bootstrapped");
                        let everything = Message::Digest { digest: Default::default(), push_pull: false };
                        dispatch(&state, vec![(Id::from(u.as_str()), vec![everything])]);
                        return;
                    }
                    Err(e) => tracing::warn!(bootstrap = %u, "bad peer list: {e}"),
                },
                Err(e) => tracing::debug!(bootstrap = %u, "bootstrap peer not answering yet: {e}"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
    tracing::warn!("no bootstrap peer answered GET /peers/ within a minute; relying on gossip alone");
}
