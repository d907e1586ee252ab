//! Counters of a native node, rendered in the Prometheus text format by
//! `GET /metrics`. Handlers and the gossip loop bump atomics; the outgoing
//! requests per destination sit in a small map behind their own mutex
//! (bounded to [`MAX_PEER_LABELS`] labels); gauges (peers, view, seen cache)
//! are read from the node when rendering. Two latency [`Histogram`]s (plain
//! atomics, no lock) time the exchanges this node starts and the
//! `POST /gossip/` requests it answers.
//!
//! Why not the `prometheus-client` crate (weighed for issue 20, version
//! 0.26): it would change what scrapers and the tests see and cost a lock
//! per observation. Its encoder writes OpenMetrics only: a counter family's
//! `# TYPE` line drops the `_total` (`# TYPE gossip_exchanges counter`),
//! every `# HELP` gains a trailing period, the body ends with `# EOF`, and
//! the content type becomes `application/openmetrics-text`; dashboards and
//! `curl | grep` users of today's Prometheus text format 0.0.4 would break.
//! Its `Histogram` is an `Arc<Mutex<_>>` locked on every `observe` (its own
//! source carries a to-do to move to atomics), where [`Histogram`] here is
//! one atomic add per observation from any number of tasks. And its label
//! `Family` is an unbounded map, so the [`MAX_PEER_LABELS`] bound against a
//! hostile peer list would have to stay here anyway. What remains hand
//! written is the exposition (one `writeln!` per sample, escaped labels)
//! and the bucket arithmetic, each covered by the tests below.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::Reason;
use crate::core::NodeStats;

/// The node's traffic and rejection counters.
#[derive(Debug, Default)]
pub struct NodeMetrics {
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
    /// Origins forgotten after being silent for `--forget-after`.
    pub origins_forgotten: AtomicU64,
    /// Sends the core asked for to an identity that is not a base URL (a
    /// browser): never dialed.
    pub dials_refused: AtomicU64,
    /// Duration of the exchanges this node started (`POST {peer}/gossip/`,
    /// from sending the request to the decoded answer), failed ones included.
    pub exchange_duration: Histogram,
    /// Time spent answering `POST /gossip/` (body read, decode, apply,
    /// encode), refused requests included.
    pub request_duration: Histogram,
    rejected: [AtomicU64; Reason::ALL.len()],
    requests_out: Mutex<PeerCounts>,
}

/// Most distinct `peer` labels of `gossip_requests_out_total`; requests to
/// further destinations are counted under `peer="other"`.
pub const MAX_PEER_LABELS: usize = 1_024;

/// Outgoing requests by destination base URL, bounded.
#[derive(Debug, Default)]
struct PeerCounts {
    by_peer: BTreeMap<String, u64>,
    other: u64,
}

/// `value` escaped for a Prometheus label: backslash, double quote and
/// line feed.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Upper bounds of the latency histograms' buckets, in microseconds:
/// 0.5 ms to 5 s, about three per decade (a last, implicit `+Inf` bucket
/// holds everything slower).
pub const BUCKET_BOUNDS_US: [u64; 13] =
    [500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000];

/// A Prometheus histogram of durations over [`BUCKET_BOUNDS_US`], lock-free:
/// one atomic counter per bucket (not cumulative; summed when rendering) and
/// one for the sum in microseconds. Observations from many tasks at once
/// never block each other.
#[derive(Debug, Default)]
pub struct Histogram {
    /// `counts[i]`: observations in `(bound[i-1], bound[i]]`; the last one: above every bound.
    counts: [AtomicU64; BUCKET_BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

/// Times a span and records it in a [`Histogram`] when dropped, whichever
/// way the span ends (early returns included).
#[derive(Debug)]
pub struct HistogramTimer<'a> {
    histogram: &'a Histogram,
    start: Instant,
}

impl Drop for HistogramTimer<'_> {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed());
    }
}

impl Histogram {
    /// The index of the bucket a duration of `us` microseconds falls in: the
    /// first whose bound is at least `us` (bounds are inclusive, as
    /// Prometheus' `le`), or the overflow bucket.
    pub fn bucket_of(us: u64) -> usize {
        BUCKET_BOUNDS_US.partition_point(|&b| b < us)
    }

    /// Record one duration.
    pub fn observe(&self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        self.counts[Self::bucket_of(us)].fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }

    /// A guard that records the time from now until it is dropped.
    pub fn timer(&self) -> HistogramTimer<'_> {
        HistogramTimer { histogram: self, start: Instant::now() }
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    /// Cumulative counts, one per bound then `+Inf` (the total), as
    /// Prometheus lists them.
    pub fn cumulative(&self) -> [u64; BUCKET_BOUNDS_US.len() + 1] {
        let mut out = [0; BUCKET_BOUNDS_US.len() + 1];
        let mut acc = 0;
        for (o, c) in out.iter_mut().zip(&self.counts) {
            acc += c.load(Relaxed);
            *o = acc;
        }
        out
    }

    /// Append the histogram family `name` in the Prometheus text format:
    /// `_bucket{le=...}` lines (cumulative, `+Inf` last), `_sum` in seconds
    /// and `_count`.
    fn render(&self, s: &mut String, name: &str, help: &str) {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} histogram");
        let cumulative = self.cumulative();
        for (bound, n) in BUCKET_BOUNDS_US.iter().zip(&cumulative) {
            let _ = writeln!(s, "{name}_bucket{{le=\"{}\"}} {n}", *bound as f64 / 1e6);
        }
        let total = cumulative[BUCKET_BOUNDS_US.len()];
        let _ = writeln!(s, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(s, "{name}_sum {}", self.sum_us.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(s, "{name}_count {total}");
    }
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
    /// SWIM's gauges and counters (`None`: the simple failure detector).
    pub swim: Option<super::swim::SwimGauges>,
}

impl NodeMetrics {
    /// Count one rejected request.
    pub fn reject(&self, reason: Reason) {
        self.rejected[reason.index()].fetch_add(1, Relaxed);
    }

    /// Requests rejected for `reason` so far.
    pub fn rejected(&self, reason: Reason) -> u64 {
        self.rejected[reason.index()].load(Relaxed)
    }

    /// Count one outgoing HTTP request to the node at base URL `peer`.
    pub fn request_out(&self, peer: &str) {
        // a panic while holding this lock cannot leave the counts inconsistent
        let mut counts = self.requests_out.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.by_peer.get_mut(peer) {
            *n += 1;
        } else if counts.by_peer.len() < MAX_PEER_LABELS {
            counts.by_peer.insert(peer.to_string(), 1);
        } else {
            counts.other += 1;
        }
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
        let (peer_labels, other) = {
            let counts = self.requests_out.lock().unwrap_or_else(|p| p.into_inner());
            let labels: Vec<(String, u64)> =
                counts.by_peer.iter().map(|(p, n)| (format!(r#"{{peer="{}"}}"#, escape_label(p)), *n)).collect();
            (labels, counts.other)
        };
        let mut by_peer: Vec<(&str, u64)> = peer_labels.iter().map(|(l, n)| (l.as_str(), *n)).collect();
        if other > 0 {
            by_peer.push((r#"{peer="other"}"#, other));
        }
        family(
            "gossip_requests_out_total",
            "counter",
            "HTTP requests this node started (exchanges, bootstrap GET /peers/, SWIM), by destination base URL, failed ones included.",
            &by_peer,
        );
        family(
            "gossip_dials_refused_total",
            "counter",
            "Sends to an identity without a URL (a browser), never dialed.",
            &[("", c(&self.dials_refused))],
        );
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
                (r#"{outcome="unsigned"}"#, st.unsigned),
                (r#"{outcome="bound_unsigned"}"#, st.bound_unsigned),
                (r#"{outcome="bad_signature"}"#, st.bad_signature),
                (r#"{outcome="key_mismatch"}"#, st.key_mismatch),
                (r#"{outcome="future_epoch"}"#, st.future_epoch),
            ],
        );
        family(
            "gossip_unspoken_messages_total",
            "counter",
            "Messages refused whole because this node's protocol does not accept their kind (known without rumor feedback); nothing applied.",
            &[("", st.unspoken)],
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
            "gossip_origins_forgotten_total",
            "counter",
            "Origins forgotten after being silent for --forget-after (a tombstone keeps their old versions out).",
            &[("", c(&self.origins_forgotten))],
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
        if let Some(w) = &g.swim {
            render_swim(&mut s, w);
        }
        self.exchange_duration.render(
            &mut s,
            "gossip_exchange_duration_seconds",
            "Exchanges this node started, from sending the request to the decoded answer; failed ones included.",
        );
        self.request_duration.render(
            &mut s,
            "gossip_request_duration_seconds",
            "Time to answer POST /gossip/ (read, decode, apply, encode); refused requests included.",
        );
        s
    }
}

/// The SWIM families of `/metrics`.
fn render_swim(s: &mut String, w: &super::swim::SwimGauges) {
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(s, "{name}{labels} {v}");
        }
    };
    family(
        "gossip_swim_members",
        "gauge",
        "SWIM members this node knows (itself not included), by the status it holds.",
        &[(r#"{status="alive"}"#, w.alive), (r#"{status="suspect"}"#, w.suspect), (r#"{status="dead"}"#, w.dead)],
    );
    family(
        "gossip_swim_events_total",
        "counter",
        "SWIM: failed probes that raised a suspicion, refutations of a suspicion of this node, members declared dead, course nodes vouched for.",
        &[
            (r#"{event="suspicion"}"#, w.core.suspicions),
            (r#"{event="refutation"}"#, w.core.refutations),
            (r#"{event="declared_dead"}"#, w.driver.declared_dead),
            (r#"{event="vouched"}"#, w.driver.vouched),
        ],
    );
    family(
        "gossip_swim_probes_total",
        "counter",
        "SWIM probes this node started, and those that got no ack at all.",
        &[(r#"{result="started"}"#, w.core.probes), (r#"{result="failed"}"#, w.core.failed_probes)],
    );
    family(
        "gossip_swim_messages_total",
        "counter",
        "SWIM messages this node sent, by type (acks ride in answers).",
        &[
            (r#"{type="ping"}"#, w.core.pings),
            (r#"{type="ping_req"}"#, w.core.ping_reqs),
            (r#"{type="ack"}"#, w.core.acks),
            (r#"{type="nack"}"#, w.core.nacks),
        ],
    );
    family(
        "gossip_swim_requests_total",
        "counter",
        "POST /swim/ requests this node sent, by result (plain: answered 404, a course node).",
        &[
            (r#"{result="ok"}"#, w.driver.requests_ok),
            (r#"{result="plain"}"#, w.driver.requests_plain),
            (r#"{result="failed"}"#, w.driver.requests_failed),
        ],
    );
    family("gossip_swim_incarnation", "gauge", "This node's own SWIM incarnation.", &[("", u64::from(w.incarnation))]);
    family("gossip_swim_health", "gauge", "Lifeguard's local health score (0: healthy).", &[("", u64::from(w.health))]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_lists_every_family_once_with_its_values() {
        let m = NodeMetrics::default();
        m.reject(Reason::TooLarge);
        m.reject(Reason::TooLarge);
        NodeMetrics::add(&m.bytes_in, 123);
        let text = m.render(&Gauges { peers_alive: 4, seen: 9, ..Gauges::default() });
        assert!(text.contains("gossip_rejected_requests_total{reason=\"too_large\"} 2\n"), "{text}");
        assert!(text.contains("gossip_rejected_requests_total{reason=\"timeout\"} 0\n"));
        assert!(text.contains("gossip_bytes_total{direction=\"in\"} 123\n"));
        assert!(text.contains("gossip_peers{state=\"alive\"} 4\n"));
        assert!(text.contains("gossip_seen_cache_size 9\n"));
        assert_eq!(text.matches("# TYPE gossip_exchanges_total counter").count(), 1);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, v) = line.rsplit_once(' ').unwrap();
            // counts are integers; only a histogram's sum of seconds is fractional
            let ok = if name.ends_with("_sum") { v.parse::<f64>().is_ok() } else { v.parse::<u64>().is_ok() };
            assert!(ok, "{line}");
        }
    }

    #[test]
    fn durations_fall_in_the_first_bucket_whose_bound_holds_them() {
        assert_eq!(Histogram::bucket_of(0), 0);
        assert_eq!(Histogram::bucket_of(500), 0, "bounds are inclusive (le)");
        assert_eq!(Histogram::bucket_of(501), 1);
        assert_eq!(Histogram::bucket_of(1_000), 1);
        assert_eq!(Histogram::bucket_of(99_999), 7);
        assert_eq!(Histogram::bucket_of(5_000_000), BUCKET_BOUNDS_US.len() - 1);
        assert_eq!(Histogram::bucket_of(5_000_001), BUCKET_BOUNDS_US.len(), "overflow: only +Inf");
        assert_eq!(Histogram::bucket_of(u64::MAX), BUCKET_BOUNDS_US.len());
        assert!(BUCKET_BOUNDS_US.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((BUCKET_BOUNDS_US[0], *BUCKET_BOUNDS_US.last().unwrap()), (500, 5_000_000), "0.5 ms to 5 s");

        let h = Histogram::default();
        for us in [100, 500, 700, 30_000, 30_000, 7_000_000] {
            h.observe(Duration::from_micros(us));
        }
        h.observe(Duration::from_secs(u64::MAX)); // saturates, never wraps into a low bucket
        assert_eq!(h.count(), 7);
        let c = h.cumulative();
        assert_eq!(&c[..], &[2, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 7]);
        {
            let _t = h.timer();
        }
        assert_eq!(h.count(), 8, "a timer records when dropped");
        assert!(h.cumulative()[0] >= 3, "an empty span is well under 0.5 ms");
    }

    #[test]
    fn histograms_render_cumulative_buckets_sum_and_count() {
        let m = NodeMetrics::default();
        m.exchange_duration.observe(Duration::from_micros(400));
        m.exchange_duration.observe(Duration::from_micros(1_500));
        m.exchange_duration.observe(Duration::from_secs(9));
        m.request_duration.observe(Duration::from_millis(2));
        let text = m.render(&Gauges::default());
        let name = "gossip_exchange_duration_seconds";
        assert_eq!(text.matches(&format!("# TYPE {name} histogram\n")).count(), 1, "{text}");
        let buckets: Vec<(&str, u64)> = text
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{name}_bucket{{le=\"")))
            .map(|l| {
                let (le, n) = l.split_once("\"} ").unwrap();
                (le, n.parse().unwrap())
            })
            .collect();
        assert_eq!(buckets.len(), BUCKET_BOUNDS_US.len() + 1);
        assert_eq!(buckets[0], ("0.0005", 1));
        assert_eq!(buckets[1], ("0.001", 1));
        assert_eq!(buckets[2], ("0.0025", 2));
        assert_eq!(buckets[10], ("1", 2));
        assert_eq!(buckets[12], ("5", 2));
        assert_eq!(buckets[13], ("+Inf", 3));
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "cumulative");
        for (le, _) in &buckets[..BUCKET_BOUNDS_US.len()] {
            assert!(le.parse::<f64>().is_ok(), "{le}");
        }
        assert!(text.contains(&format!("{name}_sum 9.0019\n")), "{text}");
        assert!(text.contains(&format!("{name}_count 3\n")), "{text}");
        assert!(text.contains("gossip_request_duration_seconds_bucket{le=\"0.0025\"} 1\n"), "{text}");
        assert!(text.contains("gossip_request_duration_seconds_bucket{le=\"0.001\"} 0\n"), "{text}");
        assert!(text.contains("gossip_request_duration_seconds_count 1\n"), "{text}");
    }

    #[test]
    fn observations_from_many_threads_are_all_counted() {
        let h = Histogram::default();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let h = &h;
                s.spawn(move || {
                    for i in 0..10_000u64 {
                        h.observe(Duration::from_micros((i * 37 + t) % 6_000_000));
                    }
                });
            }
        });
        assert_eq!(h.count(), 40_000);
        assert_eq!(h.cumulative()[BUCKET_BOUNDS_US.len()], 40_000);
    }

    #[test]
    fn outgoing_requests_are_counted_per_peer_with_escaped_labels() {
        let m = NodeMetrics::default();
        m.request_out("http://127.0.0.1:7001");
        m.request_out("http://127.0.0.1:7001");
        m.request_out("http://127.0.0.1:7002");
        m.request_out("http://x\\y\"z\nw");
        NodeMetrics::add(&m.dials_refused, 3);
        let text = m.render(&Gauges::default());
        assert!(text.contains("# TYPE gossip_requests_out_total counter\n"), "{text}");
        assert!(text.contains("gossip_requests_out_total{peer=\"http://127.0.0.1:7001\"} 2\n"), "{text}");
        assert!(text.contains("gossip_requests_out_total{peer=\"http://127.0.0.1:7002\"} 1\n"), "{text}");
        assert!(text.contains(r#"gossip_requests_out_total{peer="http://x\\y\"z\nw"} 1"#), "{text}");
        assert!(!text.contains("peer=\"other\""), "no overflow yet: {text}");
        assert!(text.contains("# TYPE gossip_dials_refused_total counter\ngossip_dials_refused_total 3\n"), "{text}");
    }

    #[test]
    fn peer_labels_are_bounded_and_the_rest_counted_as_other() {
        let m = NodeMetrics::default();
        for i in 0..MAX_PEER_LABELS + 5 {
            m.request_out(&format!("http://10.0.0.1:{}", 1_000 + i));
        }
        m.request_out("http://10.0.0.1:1000"); // already labelled: still counted under its own label
        m.request_out("http://10.9.9.9:1"); // new, over the bound
        let text = m.render(&Gauges::default());
        let samples: Vec<&str> = text.lines().filter(|l| l.starts_with("gossip_requests_out_total{")).collect();
        assert_eq!(samples.len(), MAX_PEER_LABELS + 1, "the bounded labels plus other");
        assert!(text.contains("gossip_requests_out_total{peer=\"http://10.0.0.1:1000\"} 2\n"));
        assert!(text.contains("gossip_requests_out_total{peer=\"other\"} 6\n"), "{}", samples.last().unwrap());
    }
}
