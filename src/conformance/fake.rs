//! Scripted fake peers: small HTTP servers on loopback that answer like a
//! quiet node (`POST /gossip/` gets `{"from", "url"}`, `GET /peers/` lists
//! the other fakes) and record everything the node under test sends them,
//! so the harness can see what it forwards, with which TTL and how often.
//! A node bootstrapped from the first fake knows only fakes, so nothing it
//! pushes goes unseen.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::core::{Message, Update};
use crate::wire::{self, Id, Limits};

/// What a fake peer received.
#[derive(Clone, Debug)]
pub enum Received {
    /// `GET /peers/`.
    Peers {
        /// Which fake (index).
        to: usize,
    },
    /// `POST /gossip/` with this body.
    Gossip {
        /// Which fake (index).
        to: usize,
        /// When.
        at: Instant,
        /// The raw body.
        body: Vec<u8>,
    },
}

/// A body decoded, or why it is not a valid envelope.
pub type Decoded = Result<wire::Envelope, wire::WireError>;

/// A set of fake peers sharing one log, stopped when dropped.
pub struct Fakes {
    /// Their base URLs, in order.
    pub urls: Vec<String>,
    log: Arc<Mutex<Vec<Received>>>,
    tasks: Vec<JoinHandle<()>>,
}

#[derive(Clone)]
struct Fake {
    url: Arc<str>,
    index: usize,
    others: Arc<Vec<String>>,
    log: Arc<Mutex<Vec<Received>>>,
}

async fn gossip(State(f): State<Fake>, body: Bytes) -> impl IntoResponse {
    f.log.lock().unwrap_or_else(|p| p.into_inner()).push(Received::Gossip {
        to: f.index,
        at: Instant::now(),
        body: body.to_vec(),
    });
    ([(header::CONTENT_TYPE, "application/json")], serde_json::json!({"from": &*f.url, "url": &*f.url}).to_string())
}

async fn peers(State(f): State<Fake>) -> impl IntoResponse {
    f.log.lock().unwrap_or_else(|p| p.into_inner()).push(Received::Peers { to: f.index });
    ([(header::CONTENT_TYPE, "application/json")], serde_json::to_string(&*f.others).unwrap_or_default())
}

impl Fakes {
    /// Start `n` fakes on free loopback ports.
    pub async fn start(n: usize) -> std::io::Result<Fakes> {
        let mut listeners = Vec::new();
        for _ in 0..n {
            listeners.push(TcpListener::bind("127.0.0.1:0").await?);
        }
        let urls: Vec<String> = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| format!("http://127.0.0.1:{}", a.port())))
            .collect::<Result<_, _>>()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (index, l) in listeners.into_iter().enumerate() {
            let others = urls.iter().filter(|u| **u != urls[index]).cloned().collect();
            let fake = Fake { url: Arc::from(urls[index].as_str()), index, others: Arc::new(others), log: log.clone() };
            let app = Router::new()
                .route("/gossip", post(gossip))
                .route("/gossip/", post(gossip))
                .route("/peers", get(peers))
                .route("/peers/", get(peers))
                .with_state(fake);
            tasks.push(tokio::spawn(serve(l, app)));
        }
        Ok(Fakes { urls, log, tasks })
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every `POST /gossip/` body received so far, decoded.
    pub fn bodies(&self) -> Vec<(usize, Vec<u8>, Decoded)> {
        self.received()
            .into_iter()
            .filter_map(|r| match r {
                Received::Gossip { to, body, .. } => {
                    let d = wire::decode(&body, &Limits::default());
                    Some((to, body, d))
                }
                Received::Peers { .. } => None,
            })
            .collect()
    }

    /// Every pushed update (`updates`, not `delta`) received so far, with
    /// the fake it went to.
    pub fn pushed(&self) -> Vec<(usize, Update<Id>)> {
        let mut out = Vec::new();
        for (to, _, d) in self.bodies() {
            let Ok(env) = d else { continue };
            for m in env.messages {
                if let Message::Push(us) = m {
                    out.extend(us.into_iter().map(|u| (to, u)));
                }
            }
        }
        out
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Accept connections on `l` and serve `app` on each (HTTP/1.1).
async fn serve(l: TcpListener, app: Router) {
    loop {
        let Ok((stream, _)) = l.accept().await else {
            // out of descriptors, say: try again shortly rather than spin
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let svc = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

/// A black hole: a peer that accepts connections and never answers (what a
/// node sees of a peer behind a cut link). Holds at most 256 connections,
/// dropping the oldest; stops when dropped.
pub struct Silent {
    /// Its base URL.
    pub url: String,
    task: JoinHandle<()>,
}

impl Silent {
    /// Start one on a free loopback port.
    pub async fn start() -> std::io::Result<Silent> {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://127.0.0.1:{}", l.local_addr()?.port());
        let task = tokio::spawn(async move {
            let mut held = std::collections::VecDeque::new();
            loop {
                match l.accept().await {
                    Ok((s, _)) => {
                        if held.len() == 256 {
                            held.pop_front();
                        }
                        held.push_back(s);
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                }
            }
        });
        Ok(Silent { url, task })
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.task.abort();
    }
}
