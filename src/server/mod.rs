//! The native HTTP node: the sans-IO core as a real peer.
//!
//! ```text
//!  HTTP (hyper + axum)            gossip loop (tokio task)
//!  GET /peers/ /state /metrics     timer due? -> Node::handle_timer
//!  POST /gossip/ -> Node::handle_exchange        |
//!            \                                   v
//!             +--> one Mutex<Node + PeerTable> --+--> sends: POST {peer}/gossip/ (reqwest)
//!                                                     answers -> Node::handle_message
//! ```
//!
//! * [`state`]: the node, its peer table and clock behind one mutex, never
//!   held across an `.await`;
//! * [`routes`]: the router ([`app`]); [`client`]: the gossip loop and the
//!   exchanges this node starts; [`error`]: rejections as statuses, JSON
//!   bodies and counters; [`metrics`]: the Prometheus text;
//! * [`lab`]: the browser lab's static site and `/lab-config.json`, served
//!   beside a local cluster (`gossip cluster --www DIR`).
//!
//! [`run`] serves a bound listener until a shutdown future resolves, then
//! stops accepting, lets open requests finish (up to a grace period) and
//! stops gossiping. [`lab::run_lab`] does the same for the lab's site.

pub mod client;
pub mod error;
pub mod lab;
pub mod metrics;
pub mod routes;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::Instrument;

pub use routes::app;
pub use state::{NodeOptions, NodeState};

/// How long open connections may take to finish after shutdown begins.
const GRACE: Duration = Duration::from_secs(3);

/// The base URL a node bound to `addr` advertises by default: its address,
/// with loopback standing in for an unspecified one (`0.0.0.0`, `::`).
pub fn default_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The base URL a node with `opts` bound to `addr` advertises: its
/// `advertise` option, else [`default_url`].
pub fn advertised_url(opts: &NodeOptions, addr: SocketAddr) -> String {
    opts.advertise.clone().unwrap_or_else(|| default_url(addr))
}

/// Run a node on `listener` until `shutdown` resolves: serve the API, gossip,
/// bootstrap. Returns the node's state once everything has stopped.
pub async fn run(
    listener: TcpListener,
    opts: NodeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<Arc<NodeState>> {
    let addr = listener.local_addr()?;
    let url = advertised_url(&opts, addr);
    let state = NodeState::new(opts, &url);
    let span = tracing::info_span!("node", port = addr.port());
    async {
        tracing::info!(
            id = %state.id,
            url = %state.url,
            epoch = state.lock().node.version().epoch,
            protocol = %state.opts.core.protocol,
            "listening on {addr}"
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let gossip = tokio::spawn(client::gossip_loop(state.clone(), stop_rx.clone()).in_current_span());
        let boot = tokio::spawn(client::bootstrap(state.clone(), stop_rx).in_current_span());
        let conns = Connections {
            read_timeout: Duration::from_millis(state.opts.read_timeout_ms),
            max: state.opts.max_connections,
        };
        serve(listener, app(state.clone()), conns, || state.metrics.reject(error::Reason::Overloaded), shutdown).await;
        let _ = stop_tx.send(true);
        let _ = gossip.await;
        let _ = boot.await;
        tracing::info!("stopped");
    }
    .instrument(span)
    .await;
    Ok(state)
}

/// How the accept loop treats connections.
#[derive(Clone, Copy, Debug)]
struct Connections {
    /// Time a client has to send its request head.
    read_timeout: Duration,
    /// Most connections open at once; more are closed unanswered.
    max: usize,
}

/// The accept loop: HTTP/1.1 with a timeout on reading request heads, a cap
/// on open connections (`overloaded` is called for each one refused), and
/// graceful shutdown.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    conns: Connections,
    overloaded: impl Fn(),
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(conns.read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(conns.max.max(1)));
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // out of file descriptors and the like: back off, keep serving
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            overloaded();
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(
            async move {
                if let Err(e) = conn.await {
                    tracing::debug!("connection closed: {e}");
                }
                drop(slot);
            }
            .in_current_span(),
        );
    }
    drop(listener);
    tracing::info!("shutting down");
    if tokio::time::timeout(GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after {GRACE:?}; closing them");
    }
}
