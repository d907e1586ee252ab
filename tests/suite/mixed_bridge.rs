//! The bridge between a live run and real nodes, natively: three real
//! native nodes on loopback (in this process, real HTTP), a 20-node live run
//! joined to them by a [`Bridge`] whose requests a small `reqwest` driver
//! performs, exactly as the page's fetch transport does. Favorites flow both
//! ways, a killed node is marked unreachable and the rest still converge,
//! and the bridge stays within its rate limit. The native nodes run with
//! their default policy: every update must carry a valid Ed25519 seal from
//! its origin.
#![cfg(not(target_arch = "wasm32"))] // real sockets

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gossip::core::{Config, Policy};
use gossip::mixed::{Bridge, BridgeOptions, Outcome, Reach};
use gossip::server::state::StateView;
use gossip::server::{run, NodeOptions};
use gossip::sim::live::{Live, NodeKind};
use gossip::sim::params::SimParams;
use tokio::sync::{mpsc, oneshot};

struct Cluster {
    urls: Vec<String>,
    stops: Vec<Option<oneshot::Sender<()>>>,
}

/// `n` native nodes on loopback, each with a fixed favorite, the first the
/// bootstrap of the others, gossiping every 300 ms, requiring seals.
async fn cluster(n: usize) -> Cluster {
    let mut listeners = Vec::new();
    for _ in 0..n {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let urls: Vec<String> = listeners.iter().map(|l| format!("http://{}", l.local_addr().unwrap())).collect();
    let mut stops = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        let opts = NodeOptions {
            core: Config { resample_ms: None, interval_ms: 300, auth: Policy::Required, ..Config::default() },
            movie: Some(format!("Native Movie {i}")),
            bootstrap: vec![urls[0].clone()],
            remove_after_ms: 3_000,
            ..NodeOptions::default()
        };
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(run(l, opts, async move {
            let _ = rx.await;
        }));
        stops.push(Some(tx));
    }
    Cluster { urls, stops }
}

async fn state(client: &reqwest::Client, url: &str) -> Option<StateView> {
    let r = client.get(format!("{url}/state")).send().await.ok()?;
    serde_json::from_str(&r.text().await.ok()?).ok()
}

/// The page's side: a live run, its bridge, and a transport made of tokio tasks.
struct Page {
    live: Live,
    bridge: Bridge,
    start: Instant,
    client: reqwest::Client,
    done_tx: mpsc::UnboundedSender<(u64, f64, Outcome)>,
    done_rx: mpsc::UnboundedReceiver<(u64, f64, Outcome)>,
    requests: Vec<(f64, String)>,
}

impl Page {
    fn new(nodes: u32, opts: BridgeOptions) -> Page {
        let mut p = SimParams::default();
        p.set("nodes", &nodes.to_string()).unwrap();
        p.set("scenario", "movies").unwrap();
        p.set("duration_s", "3").unwrap();
        p.set("resample_ms", "1000").unwrap();
        p.set("seed", "5").unwrap();
        let live = Live::new(&p.to_config().unwrap()).unwrap();
        let bridge = Bridge::new(opts, nodes, [0x1234_5678, 42, 43], [9; 32]).unwrap();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let client = gossip::server::tls::client_builder(None).timeout(Duration::from_secs(3)).build().unwrap();
        Page { live, bridge, start: Instant::now(), client, done_tx, done_rx, requests: Vec::new() }
    }

    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    /// One frame: outcomes in, the run to wall-clock time, pump, requests out.
    fn frame(&mut self) {
        while let Ok((id, at, outcome)) = self.done_rx.try_recv() {
            self.bridge.handle_response(id, at, outcome);
        }
        let now = self.now();
        self.live.advance(now as u64, u64::MAX);
        self.bridge.pump(&mut self.live, now);
        while let Some(req) = self.bridge.poll_request() {
            self.requests.push((now, req.url.clone()));
            let (client, tx, start) = (self.client.clone(), self.done_tx.clone(), self.start);
            tokio::spawn(async move {
                let b = match req.body {
                    Some(body) => client.post(&req.url).header("content-type", "application/json").body(body),
                    None => client.get(&req.url),
                };
                let outcome = match b.send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        r.text().await.map(|t| (status, t)).map_err(|e| e.to_string().into())
                    }
                    Err(e) => Err(e.to_string().into()),
                };
                let _ = tx.send((req.id, start.elapsed().as_secs_f64() * 1000.0, outcome));
            });
        }
    }

    /// Frames every 10 ms until `done` holds (checked every 250 ms) or `limit` passes.
    async fn until(&mut self, what: &str, limit: Duration, mut done: impl AsyncFnMut(&mut Page) -> bool) {
        let t0 = Instant::now();
        let mut next_check = Instant::now();
        loop {
            self.frame();
            if Instant::now() >= next_check {
                if done(self).await {
                    eprintln!("{what}: {:?}", t0.elapsed());
                    return;
                }
                next_check = Instant::now() + Duration::from_millis(250);
            }
            assert!(t0.elapsed() < limit, "{what}: not within {limit:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Virtual nodes' `(name, movie, version)`.
    fn virtual_favorites(&self) -> Vec<(String, Option<String>, u64, u32)> {
        (0..self.live.len())
            .filter(|&i| self.live.kind(i) == NodeKind::Virtual)
            .map(|i| {
                let n = self.live.node(i).unwrap();
                (self.bridge.name_of_virtual(i), n.movie, n.version, n.epoch)
            })
            .collect()
    }
}

/// Whether `s`'s view holds every virtual favorite exactly.
fn holds_all(s: &StateView, favs: &[(String, Option<String>, u64, u32)]) -> bool {
    favs.iter().all(|(name, movie, version, epoch)| {
        s.view.get(name).is_some_and(|e| Some(&e.movie) == movie.as_ref() && e.version == *version && e.epoch == *epoch)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_and_native_favorites_reach_everyone_and_a_killed_native_is_marked_unreachable() {
    let mut c = cluster(3).await;
    let opts = BridgeOptions { exchange_ms: 300, state_poll_ms: 500, peers_poll_ms: 1_000, ..Default::default() };
    let mut page = Page::new(20, opts);
    let now = page.now();
    page.bridge.connect(&c.urls[0], &mut page.live, now).unwrap();
    let client = gossip::server::tls::client();

    // (a) every native holds every virtual node's current favorite, and
    // (b) the page shows every native's current favorite
    let urls = c.urls.clone();
    page.until("both ways", Duration::from_secs(40), async |p: &mut Page| {
        let favs = p.virtual_favorites();
        if favs.iter().any(|f| f.1.is_none()) {
            return false;
        }
        let mut states = BTreeMap::new();
        for u in &urls {
            match state(&client, u).await {
                Some(s) => states.insert(u.clone(), s),
                None => return false,
            };
        }
        let natives_hold = states.values().all(|s| holds_all(s, &favs));
        let page_shows = states.values().all(|s| {
            p.bridge.natives().iter().any(|n| {
                n.name.as_deref() == Some(s.id.as_str())
                    && n.slot.and_then(|i| p.live.node(i)).is_some_and(|v| {
                        v.kind == NodeKind::Native && v.movie == s.movie && v.version == s.version && v.up
                    })
            })
        });
        let conv = p.live.converged();
        natives_hold && page_shows && conv
    })
    .await;
    let natives = page.bridge.natives();
    assert_eq!(natives.len(), 3, "found through GET /peers/: {natives:?}");
    assert!(natives.iter().all(|n| n.status == Reach::Reachable && n.rtt_ms.is_some()), "{natives:?}");
    // the natives passed browser-origin updates among themselves: the two
    // the page never exchanged with directly still hold them (checked above
    // for all three); and no native lists a browser identity as a peer
    for u in &c.urls {
        let s = state(&client, u).await.unwrap();
        assert!(s.peers.iter().chain(&s.suspect).all(|p| p.starts_with("http://")), "{:?}", s.peers);
    }

    // kill a native: marked unreachable, the rest converge without it
    let victim = c.urls[2].clone();
    c.stops[2].take().unwrap().send(()).unwrap();
    let killed_at = page.now();
    page.until("the killed native is unreachable", Duration::from_secs(15), async |p: &mut Page| {
        p.bridge.natives().iter().any(|n| n.url == victim && n.status == Reach::Unreachable)
    })
    .await;
    let notices = page.bridge.drain_notices();
    let about_victim: Vec<_> = notices.iter().filter(|n| n.text.contains(&victim) && n.level == "warn").collect();
    assert_eq!(about_victim.len(), 1, "one notice, not a flood: {notices:?}");
    let slot = page.bridge.natives().iter().find(|n| n.url == victim).unwrap().slot.unwrap();
    assert!(!page.live.node(slot).unwrap().up);

    // the rest still converge; probes of the dead node back off
    let alive = c.urls[..2].to_vec();
    page.until("the others converge", Duration::from_secs(20), async |p: &mut Page| {
        let favs = p.virtual_favorites();
        for u in &alive {
            match state(&client, u).await {
                Some(s) if holds_all(&s, &favs) => {}
                _ => return false,
            }
        }
        p.live.converged()
    })
    .await;
    let to_victim: Vec<f64> =
        page.requests.iter().filter(|(t, u)| *t > killed_at && u.starts_with(&victim)).map(|(t, _)| *t).collect();
    let span = (page.now() - killed_at) / 1000.0;
    eprintln!("requests to the killed node in the {span:.1} s after: {}", to_victim.len());
    // a live node gets ~2 polls + 3 exchanges a second here; a dead one, probes 1, 2, 4, 8 s apart
    assert!(to_victim.len() <= 2 + (span.log2().max(0.0) as usize) + 2, "{to_victim:?}");

    // never more than the rate limit: at most max_rps (+ one second's burst) in any second
    let max = page.bridge.options().max_rps;
    for (i, &(t, _)) in page.requests.iter().enumerate() {
        let in_second = page.requests[i..].iter().take_while(|(u, _)| *u < t + 1000.0).count();
        assert!(in_second as f64 <= 2.0 * max, "{in_second} requests in one second at {t} ms");
    }
    for s in c.stops.iter_mut() {
        if let Some(s) = s.take() {
            let _ = s.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn natives_that_require_seals_take_the_browser_s_updates_and_every_update_they_hold_is_sealed() {
    let mut c = cluster(3).await;
    let opts = BridgeOptions { exchange_ms: 300, state_poll_ms: 500, peers_poll_ms: 1_000, ..Default::default() };
    let mut page = Page::new(12, opts);
    let now = page.now();
    page.bridge.connect(&c.urls[0], &mut page.live, now).unwrap();
    let client = gossip::server::tls::client();
    let urls = c.urls.clone();
    page.until("every native holds every virtual favorite", Duration::from_secs(40), async |p: &mut Page| {
        let favs = p.virtual_favorites();
        if favs.iter().any(|f| f.1.is_none()) {
            return false;
        }
        for u in &urls {
            match state(&client, u).await {
                Some(s) if holds_all(&s, &favs) => {}
                _ => return false,
            }
        }
        p.live.converged()
    })
    .await;
    let stats = page.bridge.stats();
    assert_eq!(stats.refused, 0, "no native refused a request of the page: {stats:?}");
    assert_eq!(stats.refused_updates(), 0, "the page refused nothing the natives sent: {stats:?}");
    assert!(stats.sealed > 0 && stats.verified > 0, "{stats:?}");
    let natives = page.bridge.natives();
    for u in &c.urls {
        let s = state(&client, u).await.unwrap();
        // the page knows each native's key, from an answer from its own URL
        let shown = natives.iter().find(|n| &n.url == u).unwrap();
        assert_eq!(shown.key.as_deref(), Some(s.key.as_str()), "{u}");
        for (origin, e) in &s.view {
            assert!(e.key.is_some(), "{u} holds an unsigned update of {origin}");
        }
        for i in 0..12 {
            let mine = gossip::wire::key_text(&page.bridge.virtual_key(i));
            let e = &s.view[&page.bridge.name_of_virtual(i)];
            assert_eq!(e.key.as_deref(), Some(mine.as_str()), "{u}: virtual node {i} sealed by its own key");
        }
        let natives_seen = s.view.keys().filter(|k| k.starts_with("http://")).count();
        let browsers = s.view.keys().filter(|k| k.starts_with("browser-")).count();
        assert_eq!((natives_seen, browsers), (3, 12), "{u}: {:?}", s.view.keys());
        let metrics =
            gossip::server::tls::client().get(format!("{u}/metrics")).send().await.unwrap().text().await.unwrap();
        for outcome in ["unsigned", "bad_signature", "key_mismatch"] {
            let line = metrics.lines().find(|l| l.contains(&format!("outcome=\"{outcome}\""))).unwrap_or_default();
            assert!(line.ends_with(" 0"), "{u}: {line}");
        }
    }
    for s in c.stops.iter_mut() {
        if let Some(s) = s.take() {
            let _ = s.send(());
        }
    }
}
