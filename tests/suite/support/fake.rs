//! A fake peer on 127.0.0.1: answers `GET /peers/` and every
//! `POST /gossip/` with fixed JSON bodies, and writes down every request it
//! gets (its port, whether it was `GET /peers/`, its body) in a log that
//! several fakes may share, so that a test sees whom a node dialed, in what
//! order and with what. It stops when dropped, and after 60 s anyway.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request a fake got.
#[derive(Clone, Debug)]
pub struct Heard {
    /// The port of the fake that got it.
    pub port: u16,
    /// Whether it was `GET /peers/` (otherwise a `POST`, `/gossip/` for a node).
    pub peers: bool,
    /// Its body.
    pub body: String,
}

/// Requests in the order the fakes sharing it got them.
pub type Log = Arc<Mutex<Vec<Heard>>>;

/// A fake peer; see the module documentation.
pub struct Fake {
    /// The port it listens on.
    pub port: u16,
    log: Log,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    /// A fake answering `GET /peers/` with `peers` and anything else with
    /// `gossip`, with a log of its own.
    pub fn start(peers: String, gossip: String) -> Fake {
        Fake::start_logging(peers, gossip, Log::default())
    }

    /// [`Fake::start`], writing to `log`.
    pub fn start_logging(peers: String, gossip: String, log: Log) -> Fake {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (st, lg) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !st.load(Ordering::Relaxed) && Instant::now() < deadline {
                match l.accept() {
                    Ok((s, _)) => {
                        if let Some((is_peers, body)) = answer(s, &peers, &gossip) {
                            let heard = Heard { port, peers: is_peers, body };
                            lg.lock().unwrap_or_else(|p| p.into_inner()).push(heard);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Fake { port, log, stop, thread: Some(thread) }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `GET /peers/` requests it answered.
    pub fn peers_asked(&self) -> usize {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|h| h.port == self.port && h.peers).count()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answer one request on `s` and close it. Returns whether it was
/// `GET /peers/`, and its body (`None`: it could not be read).
fn answer(mut s: TcpStream, peers: &str, gossip: &str) -> Option<(bool, String)> {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    // the head, then as much body as it declares
    let (head, start, body_len) = loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (head, i + 4, len);
        }
    };
    while buf.len() < start + body_len {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let is_peers = head.starts_with("get /peers");
    let reply = if is_peers { peers } else { gossip };
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = s.write_all(resp.as_bytes());
    let end = buf.len().min(start + body_len);
    Some((is_peers, String::from_utf8_lossy(&buf[start..end]).into_owned()))
}
