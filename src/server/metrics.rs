//! Counters of a native node, rendered in the Prometheus text format by
//! `GET /metrics`. Lock-free: handlers and the gossip loop bump atomics;
//! gauges (peers, view, seen cache) are read from the node when rendering.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::error::Reason;
use crate::core::NodeStats;

/// The node's traffic and rejection counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `POST /gossip/` requests answered with 200.
    pub exchanges_in: AtomicU64,
    /// Exchanges this node started that got a 2xx answer.
    pub exchanges_out_ok: AtomicU64,
    /// Exchanges this node started that failed (connect, timeout, bad answer).
    pub exchanges_out_failed: AtomicU64,
    /// Exchanges not started: too many in flight already.
    pub exchanges_out_dropped: AtomicU64,
    /// Updates received in requests and responses.
    pub updates_in: AtomicU64,
    /// Updates sent in requests and responses.
    pub updates_out: AtomicU64,
    /// Body bytes received (requests and responses).
    pub bytes_in: AtomicU64,
    /// Body bytes sent (requests and responses).
    pub bytes_out: AtomicU64,
    /// Peers that turned suspect.
    pub peers_suspected: AtomicU64,
    /// Peers removed after being suspect too long.
    pub peers_removed: AtomicU64,
    rejected: [AtomicU64; Reason::ALL.len()],
}

/// Gauges read from the node at render time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Peers that answer.
    pub peers_alive: usize,
    /// Peers that stopped answering.
    pub peers_suspect: usize,
    /// Origins in the view.
    pub view: usize,
    /// UUIDs in the dedup cache.
    pub seen: usize,
    /// The node's own version counter and epoch.
    pub version: u64,
    /// The node's epoch.
    pub epoch: u32,
    /// The core's input counters.
    pub stats: NodeStats,
}

impl Metrics {
    /// Count one rejected request.
    pub fn reject(&self, reason: Reason) {
        self.rejected[reason.index()].fetch_add(1, Relaxed);
    }

    /// Requests rejected for `reason` so far.
    pub fn rejected(&self, reason: Reason) -> u64 {
        self.rejected[reason.index()].load(Relaxed)
    }

    /// Add `n` to a counter.
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Relaxed);
    }

    /// The Prometheus text exposition of every counter and gauge.
    pub fn render(&self, g: &Gauges) -> String {
        let mut s = String::with_capacity(4096);
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(s, "{name}{labels} {v}");
            }
        };
        let c = |a: &AtomicU64| a.load(Relaxed);
        family(
            "gossip_exchanges_total",
            "counter",
            "Push-pull exchanges (POST /gossip/), by direction and result.",
            &[
                (r#"{direction="in",result="ok"}"#, c(&self.exchanges_in)),
                (r#"{direction="out",result="ok"}"#, c(&self.exchanges_out_ok)),
                (r#"{direction="out",result="failed"}"#, c(&self.exchanges_out_failed)),
                (r#"{direction="out",result="dropped"}"#, c(&self.exchanges_out_dropped)),
            ],
        );
        family(
            "gossip_messages_total",
            "counter",
            "Updates (the course's messages) carried, by direction.",
            &[(r#"{direction="in"}"#, c(&self.updates_in)), (r#"{direction="out"}"#, c(&self.updates_out))],
        );
        family(
            "gossip_bytes_total",
            "counter",
            "JSON body bytes of exchanges, by direction.",
            &[(r#"{direction="in"}"#, c(&self.bytes_in)), (r#"{direction="out"}"#, c(&self.bytes_out))],
        );
        let labels: Vec<String> = Reason::ALL.iter().map(|r| format!(r#"{{reason="{}"}}"#, r.code())).collect();
        let rejected: Vec<(&str, u64)> =
            labels.iter().zip(Reason::ALL).map(|(l, r)| (l.as_str(), self.rejected(r))).collect();
        family("gossip_rejected_requests_total", "counter", "Requests refused, by reason.", &rejected);
        let st = &g.stats;
        family(
            "gossip_updates_received_total",
            "counter",
            "Updates the protocol core received, by outcome.",
            &[
                (r#"{outcome="fresh"}"#, st.fresh),
                (r#"{outcome="duplicate"}"#, st.duplicates),
                (r#"{outcome="invalid"}"#, st.invalid),
                (r#"{outcome="view_full"}"#, st.view_full),
                (r#"{outcome="self_claim"}"#, st.self_claims),
            ],
        );
        family(
            "gossip_ttl_clamped_total",
            "counter",
            "Updates whose TTL was above the maximum.",
            &[("", st.ttl_clamped)],
        );
        family(
            "gossip_peers",
            "gauge",
            "Peers in the peer table, by state.",
            &[(r#"{state="alive"}"#, g.peers_alive as u64), (r#"{state="suspect"}"#, g.peers_suspect as u64)],
        );
        family(
            "gossip_peer_events_total",
            "counter",
            "Peers that turned suspect, and that were removed.",
            &[(r#"{event="suspected"}"#, c(&self.peers_suspected)), (r#"{event="removed"}"#, c(&self.peers_removed))],
        );
        family(
            "gossip_view_origins",
            "gauge",
            "Origins in this node's view (itself included).",
            &[("", g.view as u64)],
        );
        family("gossip_seen_cache_size", "gauge", "UUIDs remembered for deduplication.", &[("", g.seen as u64)]);
        family("gossip_own_version", "gauge", "This node's own version counter.", &[("", g.version)]);
        family("gossip_own_epoch", "gauge", "This node's incarnation (epoch).", &[("", g.epoch as u64)]);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_lists_every_family_once_with_its_values() {
        let m = Metrics::default();
        m.reject(Reason::TooLarge);
        m.reject(Reason::TooLarge);
        Metrics::add(&m.bytes_in, 123);
        let text = m.render(&Gauges { peers_alive: 4, seen: 9, ..Gauges::default() });
        assert!(text.contains("gossip_rejected_requests_total{reason=\"too_large\"} 2\n"), "{text}");
        assert!(text.contains("gossip_rejected_requests_total{reason=\"timeout\"} 0\n"));
        assert!(text.contains("gossip_bytes_total{direction=\"in\"} 123\n"));
        assert!(text.contains("gossip_peers{state=\"alive\"} 4\n"));
        assert!(text.contains("gossip_seen_cache_size 9\n"));
        assert_eq!(text.matches("# TYPE gossip_exchanges_total counter").count(), 1);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').unwrap();
            assert!(v.parse::<u64>().is_ok(), "{line}");
        }
    }
}
