//! A flood of unique, validly signed updates against a live node, watching
//! its resident memory: `cargo run --release --example flood -- URL PID
//! [MESSAGES] [ORIGINS] [PER_REQUEST]` (defaults 1,000,000, 1,000, 100).
//!
//! `ORIGINS` origins each sign new versions of their favorite, round robin,
//! so every message is fresh: a new UUID and a newer version, which the
//! node must verify, apply and remember in its seen cache. `PER_REQUEST`
//! updates go in each `POST /gossip/`, 4 requests in flight. Every 5 % of
//! the way it prints the messages sent, the node's RSS (from
//! `/proc/PID/status`), its seen-cache and view sizes and its fresh count
//! (from `/metrics`). Used by `scripts/bench-flood.sh`.

use std::sync::Arc;
use std::time::Instant;

use gossip::core::{Message, Payload, Signer, Update, Uuid, Version};
use gossip::wire::{self, Id};

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:")?.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(pid)) = (args.first(), args.get(1).and_then(|p| p.parse::<u32>().ok())) else {
        eprintln!("usage: flood URL PID [MESSAGES] [ORIGINS] [PER_REQUEST]");
        std::process::exit(2);
    };
    let arg = |i: usize, d: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (total, origins, per) = (arg(2, 1_000_000), arg(3, 1_000).max(1), arg(4, 100).max(1));
    let signers: Vec<(Id, Signer)> = (0..origins)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 7).to_le_bytes());
            (Arc::from(format!("flood-{i:06}")), Signer::from_seed(seed))
        })
        .collect();
    let me = Signer::from_seed([99; 32]).public();
    let client = gossip::server::tls::client();
    let post = format!("{url}/gossip/");
    let t = Instant::now();
    let mut sent = 0usize;
    let mut next_report = 0usize;
    let mut refused = 0usize;
    println!("messages_sent,seconds,rss_mb,seen,view,fresh");
    while sent < total {
        // 4 requests in flight
        let mut reqs = Vec::new();
        for _ in 0..4 {
            if sent >= total {
                break;
            }
            let n = per.min(total - sent);
            let updates: Vec<Update<Id>> = (sent..sent + n)
                .map(|k| {
                    let (o, s) = &signers[k % origins];
                    let v = Version::new(1, (k / origins) as u64 + 1);
                    let uuid = Uuid::from_u128(
                        0x4000_8000_0000_0000_0000_0000_0000u128 | (k as u128) << 64 | (k % origins) as u128,
                    );
                    let payload = format!("Film {k}");
                    let seal = Some(s.seal(uuid, o, v, &payload));
                    Update::new(uuid, o.clone(), v, 0, Payload::from(payload), seal)
                })
                .collect();
            sent += n;
            let body =
                wire::encode("flood", None, Some(&me), &[Message::Delta { updates, request: Default::default() }]);
            let req = client.post(&post).header("content-type", "application/json").body(body);
            reqs.push(tokio::spawn(req.send()));
        }
        for r in reqs {
            match r.await.expect("the request task does not panic") {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => refused += r.status().as_u16() as usize / 100,
                Err(e) => {
                    eprintln!("request failed: {e}");
                    refused += 1;
                }
            }
        }
        if sent >= next_report || sent >= total {
            next_report += total / 20;
            let m = match client.get(format!("{url}/metrics")).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            println!(
                "{sent},{:.1},{:.1},{},{},{}",
                t.elapsed().as_secs_f64(),
                rss_kb(pid) as f64 / 1024.0,
                metric(&m, "gossip_seen_cache_size"),
                metric(&m, "gossip_view_origins"),
                metric(&m, r#"gossip_updates_received_total{outcome="fresh"}"#),
            );
        }
    }
    if refused > 0 {
        eprintln!("{refused} requests were not answered 2xx");
        std::process::exit(1);
    }
}
