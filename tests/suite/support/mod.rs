//! Helpers for tests that run the real `gossip` binary on loopback: free
//! ports, a child-process guard that always kills, a tiny blocking HTTP/1.1
//! client that can also send raw (hostile) bytes, bounded waiting, a
//! process's resident memory, a cluster [`observer`], a test CA with
//! loopback certificates ([`pki`]), and fake peers that write down every
//! request a node sends them ([`fake`]).
#![allow(dead_code)]

pub mod fake;
pub mod observer;
pub mod pki;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use gossip::server::state::StateView;

/// The ports handed to test nodes: below the kernel's ephemeral range
/// (32768-60999 by default), so no outgoing connection of a running node can
/// take one between the check here and the node's own bind.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// How many ports this test binary has handed out; its threads share it, so
/// two tests running at once never get the same port.
static HANDED: AtomicU32 = AtomicU32::new(0);

/// `n` consecutive ports, free when checked and never handed out before by
/// this process. The walk starts at an offset taken from the process id, so
/// two test binaries running at once start far apart.
fn take_ports(n: u16) -> u16 {
    let len = u32::from(PORTS.end - PORTS.start);
    let offset = std::process::id().wrapping_mul(7_919) % len;
    for _ in 0..len {
        let i = HANDED.fetch_add(u32::from(n), Ordering::Relaxed);
        let first = (offset + i) % len;
        if first + u32::from(n) > len {
            continue; // a run does not wrap around the end of the range
        }
        let base = PORTS.start + first as u16;
        let held: Vec<_> = (0..n).map_while(|k| TcpListener::bind(("127.0.0.1", base + k)).ok()).collect();
        if held.len() == usize::from(n) {
            return base;
        }
    }
    panic!("no {n} free ports in a row in {PORTS:?}");
}

/// `n` distinct free ports, none handed out before by this process.
pub fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| take_ports(1)).collect()
}

/// `n` consecutive free ports, for `gossip cluster --base-port`.
pub fn free_port_range(n: u16) -> u16 {
    take_ports(n)
}

/// A running `gossip` process, killed (and reaped) when dropped, even when a
/// test fails; its log is printed if the test is failing.
pub struct Proc {
    child: Option<Child>,
    log: PathBuf,
    /// The port it listens on (the first one, for a cluster).
    pub port: u16,
}

impl Proc {
    /// Start `gossip ARGS`, logging to a temporary file.
    pub fn spawn(port: u16, args: &[&str]) -> Proc {
        Proc::spawn_program(port, env!("CARGO_BIN_EXE_gossip"), args)
    }

    /// Start `PROGRAM ARGS` (e.g. `python3 examples/course_node.py ...`),
    /// logging to a temporary file.
    pub fn spawn_program(port: u16, program: &str, args: &[&str]) -> Proc {
        // one file per spawn: a restart on the same port keeps the old log apart
        static SPAWNED: AtomicU32 = AtomicU32::new(0);
        let seq = SPAWNED.fetch_add(1, Ordering::Relaxed);
        let log = std::env::temp_dir().join(format!("gossip-test-{}-{port}-{seq}.log", std::process::id()));
        let file = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(program)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the binary starts");
        Proc { child: Some(child), log, port }
    }

    /// A course-style node: `gossip -p PORT -b BOOT EXTRA...`, waited for until it answers.
    pub fn node(port: u16, boot: u16, extra: &[&str]) -> Proc {
        let (p, b) = (port.to_string(), boot.to_string());
        let mut args = vec!["-p", &p, "-b", &b];
        args.extend_from_slice(extra);
        let n = Proc::spawn(port, &args);
        n.wait_ready();
        n
    }

    /// Wait until `GET /state` answers (10 s at most).
    pub fn wait_ready(&self) {
        wait_until("the node answers", Duration::from_secs(10), || {
            get(self.port, "/state").is_ok_and(|r| r.status == 200)
        });
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// Send a signal (by name, e.g. "TERM") and wait for the exit, at most `within`.
    pub fn signal_and_wait(&mut self, sig: &str, within: Duration) -> Option<ExitStatus> {
        self.signal(sig);
        self.wait_exit(within)
    }

    /// Send a signal by name ("STOP", "CONT", ...) and return at once.
    pub fn signal(&self, sig: &str) {
        let pid = self.pid();
        assert!(pid > 0, "signal {sig} to a process that has exited");
        // the shell's kill: no procps needed
        let ok = Command::new("sh").args(["-c", &format!("kill -{sig} {pid}")]).status().expect("sh runs");
        assert!(ok.success(), "kill -{sig} {pid}");
    }

    /// Its resident set size (`VmRSS` in `/proc/<pid>/status`), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid())
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait for it to exit by itself, at most `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(s) = self.child.as_mut()?.try_wait().ok()? {
                self.child = None;
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGKILL ends a stopped (SIGSTOP) process too
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- log of the node on port {} (last lines) ---", self.port);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The resident set size of process `pid` (`VmRSS`), in KiB; `None` once
/// it has gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Poll `ok` every 50 ms until it holds; panic with `what` after `within`.
pub fn wait_until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < within {
        if ok() {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {within:?} waiting for: {what}");
}

/// An HTTP response.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body, de-chunked.
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Open a connection to the node on `port` (3 s connect, read and write
/// timeouts: a stopped node's full accept queue makes a plain connect retry
/// its SYN for minutes).
pub fn connect(port: u16) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&std::net::SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.set_write_timeout(Some(Duration::from_secs(3)))?;
    Ok(s)
}

/// Read a whole response from `s` (the server closes or sends a length).
pub fn read_response(s: &mut TcpStream) -> std::io::Result<Resp> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a response head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let find = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else {
        let _ = s.read_to_end(&mut body);
        if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            body = dechunk(&body);
        }
    }
    Ok(Resp { status, headers, body })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[(i + 4 + size).min(b.len())..];
    }
    out
}

/// Send `raw` bytes as they are and read the response.
pub fn raw(port: u16, raw: &[u8]) -> std::io::Result<Resp> {
    let mut s = connect(port)?;
    s.write_all(raw)?;
    read_response(&mut s)
}

/// `METHOD path` with optional content type and body, `Connection: close`.
pub fn request(port: u16, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> std::io::Result<Resp> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(port, &bytes)
}

/// `GET path`.
pub fn get(port: u16, path: &str) -> std::io::Result<Resp> {
    request(port, "GET", path, None, b"")
}

/// `POST path` with a JSON body.
pub fn post_json(port: u16, path: &str, body: &[u8]) -> std::io::Result<Resp> {
    request(port, "POST", path, Some("application/json"), body)
}

/// The node's `GET /state`, if it answers.
pub fn state(port: u16) -> Option<StateView> {
    let r = get(port, "/state").ok()?;
    (r.status == 200).then(|| serde_json::from_slice(&r.body).ok()).flatten()
}

/// A node run in process: `gossip::server::run` on `127.0.0.1:0` in a
/// thread of its own with a single-threaded runtime (the binary's default);
/// stopped and joined when dropped.
pub struct InProc {
    /// The port it listens on.
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProc {
    /// Start a node with `opts` on a free port of 127.0.0.1.
    pub fn start(opts: gossip::server::NodeOptions) -> InProc {
        InProc::start_on(TcpListener::bind("127.0.0.1:0").expect("a free port"), opts)
    }

    /// Start a node with `opts` on `listener` (bound already, so its URL is
    /// known before the node starts).
    pub fn start_on(listener: TcpListener, opts: gossip::server::NodeOptions) -> InProc {
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                gossip::server::run(l, opts, async {
                    let _ = stopped.await;
                })
                .await
                .expect("the node runs");
            });
        });
        InProc { port, stop: Some(stop), thread: Some(thread) }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its `/metrics` text.
    pub fn metrics(&self) -> String {
        get(self.port, "/metrics").expect("metrics answer").text()
    }
}

impl Drop for InProc {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A connection to `127.0.0.1:port` from the source address `src` (any
/// address of 127.0.0.0/8 is loopback on Linux), with 3 s timeouts; with
/// `recv_buffer`, a receive buffer of that size asked for before connecting.
pub fn connect_from_with(src: &str, port: u16, recv_buffer: Option<u32>) -> std::io::Result<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let src: std::net::SocketAddr = format!("{src}:0").parse().expect("an IPv4 source address");
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4()?;
        sock.bind(src)?;
        if let Some(n) = recv_buffer {
            sock.set_recv_buffer_size(n)?;
        }
        let s = sock.connect(([127, 0, 0, 1], port).into()).await?;
        s.into_std()
    })?;
    s.set_nonblocking(false)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.set_write_timeout(Some(Duration::from_secs(3)))?;
    Ok(s)
}

/// A connection to `127.0.0.1:port` from the source address `src`.
pub fn connect_from(src: &str, port: u16) -> std::io::Result<TcpStream> {
    connect_from_with(src, port, None)
}

/// `GET path` from the source address `src`, `Connection: close`.
pub fn get_from(src: &str, port: u16, path: &str) -> std::io::Result<Resp> {
    let mut s = connect_from(src, port)?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())?;
    read_response(&mut s)
}

/// Wait (at most `within`) until the server closes `s`: a read returns end
/// of file or an error other than a timeout. Returns how long it took and
/// what was read meanwhile, or `None` if it stayed open.
pub fn wait_closed(s: &mut TcpStream, within: Duration) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    s.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
    while start.elapsed() < within {
        match s.read(&mut buf) {
            Ok(0) => return Some((start.elapsed(), got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return Some((start.elapsed(), got)),
        }
    }
    None
}

/// Send a request head and `body` (as it is, or in `chunk`-byte chunks with
/// `Transfer-Encoding: chunked`), writing from another thread so that an
/// answer sent before the body is read arrives even if the server stops
/// reading; returns the answer.
pub fn send_body(port: u16, head: &str, body: &[u8], chunk: Option<usize>) -> std::io::Result<Resp> {
    let mut s = connect(port)?;
    let mut bytes = head.as_bytes().to_vec();
    match chunk {
        None => bytes.extend_from_slice(body),
        Some(n) => {
            for c in body.chunks(n.max(1)) {
                bytes.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                bytes.extend_from_slice(c);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        }
    }
    let mut w = s.try_clone()?;
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&bytes);
    });
    let r = read_response(&mut s);
    let _ = s.shutdown(std::net::Shutdown::Both);
    let _ = writer.join();
    r
}

/// The value of the sample `name{labels}` (or unlabelled `name`) in a
/// `/metrics` text.
pub fn metric(metrics: &str, sample: &str) -> Option<u64> {
    metrics.lines().find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

/// `gossip_rejected_requests_total{reason="<reason>"}` in a `/metrics` text.
pub fn rejected(metrics: &str, reason: &str) -> u64 {
    metric(metrics, &format!("gossip_rejected_requests_total{{reason=\"{reason}\"}}"))
        .unwrap_or_else(|| panic!("no rejection counter for {reason}:\n{metrics}"))
}
