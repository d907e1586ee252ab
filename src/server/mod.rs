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
//!   beside a local cluster (`gossip cluster --www DIR`);
//! * [`swim`]: SWIM failure detection (`POST /swim/`, its own timer task);
//! * [`limits`]: overload protection (requests in progress, per-client
//!   rates and connections); [`store`]: the data directory (epoch, key seed);
//! * [`tls`]: HTTPS (`--tls-cert`/`--tls-key`) and the certificate checks
//!   on `https://` peers (`--tls-ca`).
//!
//! [`run`] serves a bound listener until a shutdown future resolves, then
//! stops accepting, lets open requests finish (up to a grace period) and
//! stops gossiping. [`lab::run_lab`] does the same for the lab's site.
//!
//! Slow clients are bounded in time: a request head must arrive within the
//! read timeout (hyper's `header_read_timeout`, which since hyper 1.6 also
//! runs while a keep-alive connection waits for its next request, so an idle
//! connection is closed after it too), a body within the read timeout after
//! that (the handlers), and a connection whose client stops reading its
//! answers is closed once writing to it has been blocked that long. With
//! TLS, the handshake comes first, after the connection caps, and must end
//! within the read timeout too: a client that never finishes it is cut and
//! counted (`tls_handshake`) instead of holding a connection permit.

pub mod client;
pub mod error;
pub mod lab;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod state;
pub mod store;
pub mod swim;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tracing::Instrument;

pub use limits::ClientAddr;
pub use routes::app;
pub use state::{NodeOptions, NodeState};

/// How long open connections may take to finish after shutdown begins.
const GRACE: Duration = Duration::from_secs(3);

/// The base URL a node bound to `addr` advertises by default: its address,
/// with loopback standing in for an unspecified one (`0.0.0.0`, `::`).
pub fn default_url(addr: SocketAddr) -> String {
    base_url("http", addr)
}

/// [`default_url`] with the scheme `scheme` (`http` or `https`).
pub fn base_url(scheme: &str, addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        addr.ip()
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

/// The base URL a node with `opts` bound to `addr` advertises: its
/// `advertise` option, else [`default_url`] (`https://` if it serves TLS).
pub fn advertised_url(opts: &NodeOptions, addr: SocketAddr) -> String {
    let scheme = if opts.tls_server.is_some() { "https" } else { "http" };
    opts.advertise.clone().unwrap_or_else(|| base_url(scheme, addr))
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
            "listening on {addr}; seals: {}",
            state.opts.core.auth.describe()
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let gossip = tokio::spawn(client::gossip_loop(state.clone(), stop_rx.clone()).in_current_span());
        let swim = tokio::spawn(swim::swim_loop(state.clone(), stop_rx.clone()).in_current_span());
        let boot = tokio::spawn(client::bootstrap(state.clone(), stop_rx).in_current_span());
        let conns = Connections {
            read_timeout: Duration::from_millis(state.opts.read_timeout_ms),
            max: state.opts.max_connections,
            per_client: state.opts.client_conns,
        };
        let st = state.clone();
        let refused: Refused = Arc::new(move |r| st.metrics.reject(r));
        let tls = state.opts.tls_server.clone();
        serve(listener, app(state.clone()), conns, tls, refused, shutdown).await;
        let _ = stop_tx.send(true);
        let _ = gossip.await;
        let _ = swim.await;
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
    /// Time a client has to send its request head (and that a keep-alive
    /// connection may sit idle, and that writing an answer may be blocked).
    read_timeout: Duration,
    /// Most connections open at once; more are closed unanswered.
    max: usize,
    /// Most connections open at once from one client; more are closed unanswered.
    per_client: usize,
}

/// Called for each connection the accept loop refuses or cuts, with why.
type Refused = Arc<dyn Fn(error::Reason) + Send + Sync>;

/// The accept loop: HTTP/1.1 with a timeout on reading request heads (and
/// on idle keep-alive connections), caps on open connections overall and
/// per client, a bound on how long writing an answer may be blocked, the
/// peer's address as a [`ClientAddr`] request extension, and graceful
/// shutdown. With `tls`, each connection is a TLS server first (handshake
/// bounded by the read timeout). `refused` is told of every connection
/// refused or cut.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    conns: Connections,
    tls: Option<Arc<rustls::ServerConfig>>,
    refused: Refused,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(conns.read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let conn_permits = Arc::new(tokio::sync::Semaphore::new(conns.max.max(1)));
    let per_client = limits::ClientConns::new(conns.per_client);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    // turns true at shutdown: handshakes in progress give up at once
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
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
        let Ok(permit) = conn_permits.clone().try_acquire_owned() else {
            refused(error::Reason::Overloaded);
            continue;
        };
        let Some(counted) = per_client.open(peer.ip()) else {
            tracing::debug!(%peer, "too many connections from this client");
            refused(error::Reason::ClientConnections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (io, blocked) = Watched::new(stream);
        let svc = app.clone().map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ClientAddr(peer));
            req
        });
        let svc = TowerToHyperService::new(svc);
        let refused = refused.clone();
        let limit = conns.read_timeout;
        let Some(acceptor) = &acceptor else {
            // plain HTTP
            let conn = graceful.watch(http.serve_connection(TokioIo::new(io), svc));
            tokio::spawn(
                async move {
                    drive(conn, blocked, limit, &refused, peer).await;
                    drop(counted);
                    drop(permit);
                }
                .in_current_span(),
            );
            continue;
        };
        let (acceptor, http, watcher) = (acceptor.clone(), http.clone(), graceful.watcher());
        let mut closing = closing.clone();
        tokio::spawn(
            async move {
                let handshake = tokio::select! {
                    h = tokio::time::timeout(limit, acceptor.accept(io)) => Some(h),
                    _ = closing.wait_for(|c| *c) => None,
                };
                match handshake {
                    None => tracing::debug!(%peer, "shutting down: TLS handshake abandoned"),
                    Some(Ok(Ok(tls))) => {
                        let conn = watcher.watch(http.serve_connection(TokioIo::new(tls), svc));
                        drive(conn, blocked, limit, &refused, peer).await;
                    }
                    Some(Ok(Err(e))) => {
                        tracing::debug!(%peer, "TLS handshake failed: {e}");
                        refused(error::Reason::TlsHandshake);
                    }
                    Some(Err(_)) => {
                        tracing::debug!(%peer, "TLS handshake not done within {limit:?}; closing");
                        refused(error::Reason::TlsHandshake);
                    }
                }
                drop(counted);
                drop(permit);
            }
            .in_current_span(),
        );
    }
    drop(listener);
    let _ = closing_tx.send(true);
    tracing::info!("shutting down");
    if tokio::time::timeout(GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after {GRACE:?}; closing them");
    }
}

/// Run one HTTP connection to its end, or cut it once writing to it has
/// been blocked for `limit` (told to `refused` as [`error::Reason::Stalled`]).
async fn drive<E: std::fmt::Display>(
    conn: impl Future<Output = Result<(), E>>,
    blocked: Blocked,
    limit: Duration,
    refused: &Refused,
    peer: SocketAddr,
) {
    tokio::select! {
        r = conn => if let Err(e) = r {
            tracing::debug!(%peer, "connection closed: {e}");
        },
        _ = blocked.stalled(limit) => {
            tracing::debug!(%peer, "closing a connection whose client stopped reading for {limit:?}");
            refused(error::Reason::Stalled);
        }
    }
}

/// A connection's socket that notes since when writing to it has been
/// blocked (the client's receive window is full: it stopped reading).
struct Watched<T> {
    io: T,
    blocked: Blocked,
}

/// Shared with the connection's task: since when writes have been blocked
/// (ms since `base`, plus one; 0 while they are not).
#[derive(Clone)]
struct Blocked {
    since: Arc<AtomicU64>,
    base: tokio::time::Instant,
}

impl Blocked {
    fn now(&self) -> u64 {
        self.base.elapsed().as_millis() as u64 + 1
    }

    fn note(&self, progress: bool) {
        if progress {
            self.since.store(0, Ordering::Relaxed);
        } else if self.since.load(Ordering::Relaxed) == 0 {
            self.since.store(self.now(), Ordering::Relaxed);
        }
    }

    /// Resolves once writes have been blocked for `limit` without a byte
    /// going out.
    async fn stalled(&self, limit: Duration) {
        let limit_ms = limit.as_millis().max(1) as u64;
        loop {
            let since = self.since.load(Ordering::Relaxed);
            let wait = if since == 0 { limit_ms } else { (since + limit_ms).saturating_sub(self.now()) };
            if since != 0 && wait == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(wait.max(1))).await;
        }
    }
}

impl<T> Watched<T> {
    fn new(io: T) -> (Self, Blocked) {
        let blocked = Blocked { since: Arc::new(AtomicU64::new(0)), base: tokio::time::Instant::now() };
        (Watched { io, blocked: blocked.clone() }, blocked)
    }

    fn noted(&self, r: Poll<std::io::Result<usize>>) -> Poll<std::io::Result<usize>> {
        match &r {
            Poll::Pending => self.blocked.note(false),
            Poll::Ready(Ok(n)) if *n > 0 => self.blocked.note(true),
            Poll::Ready(_) => {}
        }
        r
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.noted(r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.noted(r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
