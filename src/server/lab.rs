//! The browser lab's own web server, beside a local cluster
//! (`gossip cluster --www DIR --www-port PORT`): DIR as static files
//! (`index.html` at `/`, `.wasm` as `application/wasm`, `.js` as JavaScript)
//! and `GET /lab-config.json`, which tells the page where the cluster's
//! native nodes are so that it can connect to them by itself. With
//! `--tls-cert`/`--tls-key` the site is served over HTTPS like the nodes
//! (a page over `https://` may only fetch from `https://` nodes).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tracing::Instrument;

/// `GET /lab-config.json`: where the page finds the native nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabConfig {
    /// The base URL the page connects to: the first node's.
    pub connect: String,
    /// Every node's advertised base URL, the first one included.
    pub nodes: Vec<String>,
}

impl LabConfig {
    /// The configuration for nodes at these advertised base URLs, in order:
    /// the page connects to the first (none: `connect` is empty).
    pub fn new(nodes: Vec<String>) -> Self {
        LabConfig { connect: nodes.first().cloned().unwrap_or_default(), nodes }
    }
}

/// The lab's router: `GET /lab-config.json` answers `config`; every other
/// path is a file under `dir` (a directory's `index.html` for the directory,
/// 404 for a missing file).
pub fn lab_app(dir: PathBuf, config: LabConfig) -> Router {
    Router::new()
        .route("/lab-config.json", get(lab_config))
        .fallback_service(ServeDir::new(dir))
        .with_state(Arc::new(config))
}

async fn lab_config(State(config): State<Arc<LabConfig>>) -> impl IntoResponse {
    // a new cluster may run on other ports next time: never cached
    ([(header::CACHE_CONTROL, "no-store")], Json(LabConfig::clone(&config)))
}

/// Serve `app` (from [`lab_app`]) on `listener` until `shutdown` resolves,
/// then let open requests finish (up to a grace period). With `tls`, over
/// HTTPS.
pub async fn run_lab(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    let span = tracing::info_span!("lab", port = listener.local_addr().map_or(0, |a| a.port()));
    async {
        if let Ok(addr) = listener.local_addr() {
            let scheme = if tls.is_some() { "https" } else { "http" };
            tracing::info!("serving the lab on {}/", super::base_url(scheme, addr));
        }
        let conns = super::Connections { read_timeout: Duration::from_secs(5), max: 256, per_client: 64 };
        let refused: super::Refused = Arc::new(|r| tracing::debug!(reason = r.code(), "connection refused or cut"));
        super::serve(listener, app, conns, tls, refused, shutdown).await;
    }
    .instrument(span)
    .await;
}
