//! Throttle protection: a node answers at once instead of queueing without
//! end, and one client cannot take what honest peers need.
//!
//! * [`Limiter`]: requests being handled at once, overall (`--max-concurrent`;
//!   over it: `503 busy`) and per client (at most half of them: `429
//!   rate_limited`), and a token bucket per client (`--client-rps`, burst
//!   twice that; over it: `429 rate_limited`). The buckets sit in a map of at
//!   most [`MAX_CLIENTS`] entries: when it is full, buckets that have filled
//!   up again are forgotten (that changes nothing), else the least recently
//!   used one.
//! * [`ClientConns`]: open connections per client (`--client-conns`), beside
//!   the accept loop's overall cap; extra connections are closed unanswered.
//!
//! Why not `governor` (issue 20 asked for a field crate where it keeps
//! today's behaviour): its keyed limiter inserts a state for every new key
//! (`StateStore::measure_and_replace`) into an unbounded map, and can only be
//! trimmed afterwards (`retain_recent` drops keys whose bucket refilled, the
//! same as our first eviction rule); it has no least-recently-used eviction,
//! so a flood from many addresses grows it until the next sweep, and a hard
//! cap would have to refuse new clients instead of forgetting old ones. A
//! bounded store of our own plugged into governor would keep this map and
//! only swap the bucket arithmetic, so the bucket stays here.
//!
//! A client is its IP address ([`client_key`]; IPv6 clients by their /64,
//! since one host may hold a whole /64). The accept loop hands each request
//! its peer's address as a [`ClientAddr`] extension; requests without one
//! (a router driven in process) are limited only overall.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The address of the client that sent a request: a request extension set
/// by the accept loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Most clients whose token buckets are remembered.
pub const MAX_CLIENTS: usize = 4_096;

/// The key a client is limited by: its IPv4 address (IPv4-mapped IPv6
/// included), or the /64 prefix of its IPv6 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Why a request was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttle {
    /// `max` requests are being handled already.
    Busy {
        /// The limit.
        max: usize,
    },
    /// This client already has `held` requests in progress, its share.
    ClientBusy {
        /// Its requests in progress.
        held: usize,
    },
    /// This client's token bucket is empty.
    RateLimited {
        /// Its rate, requests per second.
        rps: u32,
    },
}

impl std::fmt::Display for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Throttle::Busy { max } => write!(f, "{max} requests are in progress already; retry in a second"),
            Throttle::ClientBusy { held } => {
                write!(f, "this client has {held} requests in progress already, its share; retry in a second")
            }
            Throttle::RateLimited { rps } => write!(f, "more than {rps} requests a second from this client"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

struct Inner {
    in_flight: usize,
    by_client: HashMap<IpAddr, usize>,
    buckets: HashMap<IpAddr, Bucket>,
}

/// Admission control for requests: a global limit on requests in progress,
/// a per-client share of it, and a token bucket per client.
pub struct Limiter {
    max_concurrent: usize,
    share: usize,
    rps: u32,
    burst: f64,
    max_clients: usize,
    inner: Mutex<Inner>,
}

impl Limiter {
    /// At most `max_concurrent` requests in progress (at least 1), at most
    /// half of them (at least 1) for one client; each client `rps` requests a
    /// second with bursts of `2 * rps` (0: no rate limit).
    pub fn new(max_concurrent: usize, rps: u32) -> Self {
        Limiter::with_max_clients(max_concurrent, rps, MAX_CLIENTS)
    }

    /// The same, remembering at most `max_clients` buckets.
    pub fn with_max_clients(max_concurrent: usize, rps: u32, max_clients: usize) -> Self {
        let max_concurrent = max_concurrent.max(1);
        Limiter {
            max_concurrent,
            share: (max_concurrent / 2).max(1),
            rps,
            burst: 2.0 * rps as f64,
            max_clients: max_clients.max(1),
            inner: Mutex::new(Inner { in_flight: 0, by_client: HashMap::new(), buckets: HashMap::new() }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // only counters behind it: a panic cannot leave them half-updated
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admit one request from `client` (its [`client_key`], if known) at
    /// `now`, or say why not. The request counts as in progress until the
    /// [`Permit`] is dropped.
    pub fn admit(self: &Arc<Self>, client: Option<IpAddr>, now: Instant) -> Result<Permit, Throttle> {
        let mut g = self.lock();
        if let Some(c) = client {
            if self.rps > 0 && !self.take_token(&mut g, c, now) {
                return Err(Throttle::RateLimited { rps: self.rps });
            }
            let held = g.by_client.get(&c).copied().unwrap_or(0);
            if held >= self.share {
                return Err(Throttle::ClientBusy { held });
            }
        }
        if g.in_flight >= self.max_concurrent {
            return Err(Throttle::Busy { max: self.max_concurrent });
        }
        g.in_flight += 1;
        if let Some(c) = client {
            *g.by_client.entry(c).or_insert(0) += 1;
        }
        Ok(Permit { limiter: self.clone(), client })
    }

    /// Take one token from `client`'s bucket, making room for it if new.
    fn take_token(&self, g: &mut Inner, client: IpAddr, now: Instant) -> bool {
        let (rps, burst) = (self.rps as f64, self.burst);
        if !g.buckets.contains_key(&client) && g.buckets.len() >= self.max_clients {
            // forget buckets that have filled up again: a new one is the same
            g.buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rps < burst);
            if g.buckets.len() >= self.max_clients {
                let oldest = g.buckets.iter().min_by_key(|(_, b)| b.last).map(|(ip, _)| *ip);
                if let Some(ip) = oldest {
                    g.buckets.remove(&ip);
                }
            }
        }
        let b = g.buckets.entry(client).or_insert(Bucket { tokens: burst, last: now });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rps).min(burst);
        b.last = b.last.max(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Requests in progress now.
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// Clients whose buckets are remembered now.
    pub fn clients(&self) -> usize {
        self.lock().buckets.len()
    }
}

/// One admitted request in progress; dropping it ends it.
pub struct Permit {
    limiter: Arc<Limiter>,
    client: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut g = self.limiter.lock();
        g.in_flight = g.in_flight.saturating_sub(1);
        if let Some(c) = self.client {
            if let Some(n) = g.by_client.get_mut(&c) {
                *n -= 1;
                if *n == 0 {
                    g.by_client.remove(&c);
                }
            }
        }
    }
}

/// Open connections per client, capped. The map holds only clients with an
/// open connection, so it is bounded by the accept loop's overall cap.
pub struct ClientConns {
    per_client: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl ClientConns {
    /// At most `per_client` connections per client (at least 1).
    pub fn new(per_client: usize) -> Arc<Self> {
        Arc::new(ClientConns { per_client: per_client.max(1), open: Mutex::new(HashMap::new()) })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a new connection from `ip`, or `None` if that client has its
    /// cap open already. The connection counts until the guard is dropped.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let key = client_key(ip);
        let mut open = self.lock();
        let n = open.entry(key).or_insert(0);
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(ConnGuard { conns: self.clone(), key })
    }

    /// Open connections from `ip`'s client now.
    pub fn count(&self, ip: IpAddr) -> usize {
        self.lock().get(&client_key(ip)).copied().unwrap_or(0)
    }
}

/// One counted open connection; dropping it closes the count.
pub struct ConnGuard {
    conns: Arc<ClientConns>,
    key: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut open = self.conns.lock();
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_its_rate() {
        let l = Arc::new(Limiter::new(1_000, 10));
        let t0 = Instant::now();
        let a = Some(ip("127.0.0.2"));
        let ok = (0..50).filter(|_| l.admit(a, t0).is_ok()).count();
        assert_eq!(ok, 20, "a burst of twice the rate");
        assert_eq!(l.admit(a, t0).err(), Some(Throttle::RateLimited { rps: 10 }));
        assert!(l.admit(Some(ip("127.0.0.1")), t0).is_ok(), "another client has its own bucket");
        assert!(l.admit(None, t0).is_ok(), "unknown clients are not rate limited");
        // half a second later: five more
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!((0..50).filter(|_| l.admit(a, t1).is_ok()).count(), 5);
        // an earlier instant (clocks read out of order) never adds tokens
        assert!(l.admit(a, t0).is_err());
        assert_eq!(l.in_flight(), 0, "every permit above was dropped at once");
    }

    #[test]
    fn a_rate_of_zero_disables_the_buckets() {
        let l = Arc::new(Limiter::new(10_000, 0));
        let t0 = Instant::now();
        assert!((0..5_000).all(|_| l.admit(Some(ip("10.0.0.1")), t0).is_ok()));
        assert_eq!(l.clients(), 0);
    }

    #[test]
    fn requests_in_progress_are_capped_overall_and_per_client() {
        let l = Arc::new(Limiter::new(4, 0));
        let t = Instant::now();
        let (a, b, c) = (Some(ip("127.0.0.2")), Some(ip("127.0.0.3")), Some(ip("127.0.0.4")));
        let pa: Vec<Permit> = (0..2).map(|_| l.admit(a, t).unwrap()).collect();
        assert_eq!(l.admit(a, t).err(), Some(Throttle::ClientBusy { held: 2 }), "half of the permits per client");
        let pb: Vec<Permit> = (0..2).map(|_| l.admit(b, t).unwrap()).collect();
        assert_eq!(l.admit(c, t).err(), Some(Throttle::Busy { max: 4 }));
        assert_eq!(l.admit(None, t).err(), Some(Throttle::Busy { max: 4 }));
        assert_eq!(l.in_flight(), 4);
        drop(pa);
        assert!(l.admit(c, t).is_ok(), "permits come back when requests end");
        drop(pb);
        assert_eq!(l.in_flight(), 0);
        assert!(l.lock().by_client.is_empty(), "no entry is kept for idle clients");
        let one = Arc::new(Limiter::new(1, 0));
        let _p = one.admit(a, t).unwrap();
        assert_eq!(one.admit(b, t).err(), Some(Throttle::Busy { max: 1 }), "a limit of 1 still admits one");
    }

    #[test]
    fn the_bucket_map_stays_bounded_under_many_source_addresses() {
        let l = Arc::new(Limiter::with_max_clients(1_000, 5, 64));
        let t0 = Instant::now();
        // a busy client that has used its burst
        let busy = Some(ip("127.0.0.2"));
        while l.admit(busy, t0).is_ok() {}
        for i in 0..10_000u32 {
            let a = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            assert!(l.admit(Some(a), t0).is_ok(), "a new client gets its burst");
            assert!(l.clients() <= 64);
        }
        // the spent bucket may have been evicted (least recently used), but
        // a client that keeps sending keeps being limited
        let l = Arc::new(Limiter::with_max_clients(1_000, 5, 64));
        for i in 0..63u32 {
            let a = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            assert!(l.admit(Some(a), t0).is_ok());
        }
        while l.admit(busy, t0).is_ok() {}
        // refilled buckets are forgotten first, the spent one stays
        let t1 = t0 + Duration::from_secs(1);
        assert!(l.admit(Some(ip("192.0.2.1")), t1).is_ok());
        assert!(l.lock().buckets.contains_key(&ip("127.0.0.2")));
        assert_eq!(l.clients(), 2, "the 63 full buckets were dropped");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_prefix_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2:bbbb::9")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(client_key(ip("10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn connections_are_capped_per_client_and_released_on_drop() {
        let c = ClientConns::new(2);
        let a = ip("127.0.0.2");
        let g1 = c.open(a).unwrap();
        let _g2 = c.open(a).unwrap();
        assert!(c.open(a).is_none());
        assert!(c.open(ip("127.0.0.1")).is_some(), "other clients are not affected");
        drop(g1);
        assert_eq!(c.count(a), 1);
        assert!(c.open(a).is_some());
        assert_eq!(c.count(ip("127.0.0.1")), 0, "closed connections leave no entry");
    }
}
