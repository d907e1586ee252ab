//! Reference nodes: this crate's own native node ([`crate::server::run`])
//! in process, on loopback ports, accepting unsigned updates (course nodes
//! do not sign) and fault injection (the harness partitions the node under
//! test through `POST /faults`). Each one can be stopped and started again
//! on the same port with a new favorite in a new epoch and the same key: a
//! re-sample the harness controls.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::core::Config;
use crate::server::state::KeySeed;
use crate::server::{self, NodeOptions};

/// A reference node running in this process.
pub struct RefNode {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its base URL, which is also its identity.
    pub url: String,
    /// Its options (movie, epoch, key seed), to start it again.
    opts: NodeOptions,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The options of a reference node: `movie` in `epoch`, gossiping every
/// `interval_ms`, never re-sampling by itself, bootstrapping from `bootstrap`.
pub fn options(movie: &str, epoch: u32, interval_ms: u64, bootstrap: Vec<String>) -> NodeOptions {
    NodeOptions {
        core: Config { interval_ms, resample_ms: None, ..Config::default() },
        movie: Some(movie.to_owned()),
        epoch: Some(epoch),
        key_seed: KeySeed::random(),
        bootstrap,
        allow_faults: true,
        // the node under test is restarted and partitioned: keep it listed
        remove_after_ms: 600_000,
        connect_timeout_ms: 500,
        request_timeout_ms: 1_000,
        ..NodeOptions::default()
    }
}

impl RefNode {
    /// Start a node with `opts` on `port` (0: any free port).
    pub async fn start(port: u16, opts: NodeOptions) -> std::io::Result<RefNode> {
        let l = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let port = l.local_addr()?.port();
        let url = format!("http://127.0.0.1:{port}");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let opts = opts.clone();
            async move {
                let _ = server::run(l, opts, async {
                    let _ = stopped.await;
                })
                .await;
            }
        });
        Ok(RefNode { port, url, opts, stop: Some(stop), task: Some(task) })
    }

    /// The favorite it started with.
    pub fn movie(&self) -> &str {
        self.opts.movie.as_deref().unwrap_or_default()
    }

    /// The epoch it started in.
    pub fn epoch(&self) -> u32 {
        self.opts.epoch.unwrap_or_default()
    }

    /// Stop it (within a few seconds) and start it again on the same port,
    /// with the same key, `movie` as its favorite, in the next epoch.
    pub async fn resample(&mut self, movie: &str) -> std::io::Result<()> {
        self.halt().await;
        let mut opts = self.opts.clone();
        opts.movie = Some(movie.to_owned());
        opts.epoch = Some(self.epoch() + 1);
        *self = RefNode::start(self.port, opts).await?;
        Ok(())
    }

    async fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(mut t) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut t).await.is_err() {
                t.abort();
                let _ = t.await;
            }
        }
    }
}

impl Drop for RefNode {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
