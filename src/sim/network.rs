//! The simulated network: latency with jitter, loss, and partitions.
//!
//! It decides, for each message, whether it arrives and when. Its random
//! draws come from its own stream, so changing the network never changes a
//! node's own choices.

use serde::{Deserialize, Serialize};

use crate::rng::{mix64, Rng};

/// Network parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Mean one-way latency of a link, ms.
    pub latency_ms: u64,
    /// Extra uniform delay per message, `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Per-link spread of the base latency: each link's base latency is
    /// `latency_ms * (1 + spread * u)`, `u` fixed per link in `[-1, 1]`.
    pub link_spread: f64,
    /// Probability that a message is lost.
    pub loss: f64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig { latency_ms: 50, jitter_ms: 10, link_spread: 0.0, loss: 0.0 }
    }
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Random loss.
    Loss,
    /// Sender and receiver are on different sides of a partition.
    Partition,
}

/// The network model.
#[derive(Clone, Debug)]
pub struct Network {
    cfg: NetConfig,
    rng: Rng,
    link_seed: u64,
    /// Partition group per node (empty: no partition).
    groups: Vec<u16>,
}

impl Network {
    /// A network with its own random stream.
    pub fn new(cfg: NetConfig, rng: Rng) -> Self {
        let mut rng = rng;
        let link_seed = rng.next_u64();
        Network { cfg, rng, link_seed, groups: Vec::new() }
    }

    /// Its parameters.
    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// Change the loss probability (a fault can raise it mid-run).
    pub fn set_loss(&mut self, loss: f64) {
        self.cfg.loss = loss.clamp(0.0, 1.0);
    }

    /// Split nodes `0..n` into `k` contiguous groups; traffic between groups is dropped.
    pub fn partition(&mut self, n: usize, k: usize) {
        let k = k.clamp(1, u16::MAX as usize);
        self.groups = (0..n).map(|i| (i * k / n.max(1)) as u16).collect();
    }

    /// Remove any partition.
    pub fn heal(&mut self) {
        self.groups.clear();
    }

    /// The partition group of `node` (0 when not partitioned).
    pub fn group(&self, node: u32) -> u16 {
        self.groups.get(node as usize).copied().unwrap_or(0)
    }

    /// Whether a partition is in force.
    pub fn is_partitioned(&self) -> bool {
        !self.groups.is_empty()
    }

    /// Whether `a` and `b` can talk (same side of any partition). Nodes that
    /// joined after the partition are on the last group's side.
    pub fn connected(&self, a: u32, b: u32) -> bool {
        if self.groups.is_empty() {
            return true;
        }
        let last = self.groups.last().copied().unwrap_or(0);
        let g = |n: u32| self.groups.get(n as usize).copied().unwrap_or(last);
        g(a) == g(b)
    }

    /// Base latency of the link between `a` and `b` (symmetric).
    pub fn link_latency(&self, a: u32, b: u32) -> u64 {
        if self.cfg.link_spread <= 0.0 {
            return self.cfg.latency_ms;
        }
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let h = mix64(self.link_seed ^ ((lo as u64) << 32 | hi as u64));
        let u = (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        let spread = self.cfg.link_spread.min(1.0);
        (self.cfg.latency_ms as f64 * (1.0 + spread * u)).round().max(0.0) as u64
    }

    /// The least time any message can take, ms: a lower bound of every
    /// arrival [`Network::transit`] gives, whatever the link and the draw.
    pub fn min_latency(&self) -> u64 {
        if self.cfg.link_spread <= 0.0 {
            return self.cfg.latency_ms;
        }
        let spread = self.cfg.link_spread.min(1.0);
        // `link_latency` rounds `latency * (1 + spread * u)` with u >= -1
        (self.cfg.latency_ms as f64 * (1.0 - spread)).floor().max(0.0) as u64
    }

    /// Whether every message gets through without a random draw (no loss,
    /// no partition): [`Network::passes`] would only say `Ok`.
    #[inline]
    pub fn is_clear(&self) -> bool {
        self.cfg.loss <= 0.0 && self.groups.is_empty()
    }

    /// Whether a message from `a` to `b` gets through, ignoring time (the
    /// rounds model): one loss draw per message, as in [`Network::transit`].
    #[inline]
    pub fn passes(&mut self, a: u32, b: u32) -> Result<(), Dropped> {
        let lost = self.rng.chance(self.cfg.loss);
        if !self.connected(a, b) {
            return Err(Dropped::Partition);
        }
        if lost {
            return Err(Dropped::Loss);
        }
        Ok(())
    }

    /// Send a message from `a` to `b` at `now`: its arrival time, or why it is lost.
    /// Exactly one loss draw and (with jitter) one jitter draw per message.
    pub fn transit(&mut self, a: u32, b: u32, now: u64) -> Result<u64, Dropped> {
        let lost = self.rng.chance(self.cfg.loss);
        let jitter = if self.cfg.jitter_ms > 0 { self.rng.below(self.cfg.jitter_ms + 1) } else { 0 };
        if !self.connected(a, b) {
            return Err(Dropped::Partition);
        }
        if lost {
            return Err(Dropped::Loss);
        }
        Ok(now + self.link_latency(a, b) + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(cfg: NetConfig) -> Network {
        Network::new(cfg, Rng::new(5))
    }

    #[test]
    fn latency_stays_within_base_plus_jitter() {
        let mut n = net(NetConfig { latency_ms: 100, jitter_ms: 20, link_spread: 0.0, loss: 0.0 });
        let mut seen_min = u64::MAX;
        let mut seen_max = 0;
        for i in 0..10_000 {
            let t = n.transit(0, 1, 1_000).unwrap() - 1_000;
            assert!((100..=120).contains(&t), "message {i}: {t}");
            seen_min = seen_min.min(t);
            seen_max = seen_max.max(t);
        }
        assert_eq!((seen_min, seen_max), (100, 120), "jitter covers its whole range");
    }

    #[test]
    fn loss_rate_matches_configuration() {
        let mut n = net(NetConfig { latency_ms: 1, jitter_ms: 0, link_spread: 0.0, loss: 0.3 });
        let lost = (0..100_000).filter(|_| n.transit(0, 1, 0) == Err(Dropped::Loss)).count();
        assert!((29_000..31_000).contains(&lost), "{lost}");
    }

    #[test]
    fn partition_blocks_across_groups_until_healed() {
        let mut n = net(NetConfig::default());
        n.partition(10, 2);
        assert!(n.connected(0, 4) && n.connected(5, 9));
        assert_eq!(n.transit(0, 9, 0), Err(Dropped::Partition));
        assert_eq!(n.transit(9, 0, 0), Err(Dropped::Partition));
        assert!(n.connected(12, 9), "late joiners sit with the last group");
        n.heal();
        assert!(n.transit(0, 9, 0).is_ok());
    }

    #[test]
    fn link_latency_is_symmetric_and_spread() {
        let n = net(NetConfig { latency_ms: 100, jitter_ms: 0, link_spread: 0.5, loss: 0.0 });
        let mut distinct = std::collections::BTreeSet::new();
        for a in 0..20 {
            for b in 0..20 {
                let l = n.link_latency(a, b);
                assert_eq!(l, n.link_latency(b, a));
                assert!((50..=150).contains(&l));
                distinct.insert(l);
            }
        }
        assert!(distinct.len() > 20, "links differ: {distinct:?}");
    }

    #[test]
    fn no_message_arrives_sooner_than_the_least_latency() {
        for (latency_ms, jitter_ms, link_spread) in
            [(50, 10, 0.0), (100, 0, 0.5), (7, 3, 0.9), (10, 0, 1.5), (0, 5, 0.0)]
        {
            let mut n = net(NetConfig { latency_ms, jitter_ms, link_spread, loss: 0.0 });
            let least = (0..2_000).map(|i| n.transit(i % 37, i % 41 + 1, 1_000).unwrap() - 1_000).min().unwrap();
            assert!(least >= n.min_latency(), "{latency_ms} ms, spread {link_spread}: {least} < {}", n.min_latency());
            assert!(
                least - n.min_latency() <= 1 + latency_ms / 10,
                "{latency_ms} ms, spread {link_spread}: the bound is loose"
            );
        }
    }

    #[test]
    fn same_seed_same_deliveries() {
        let cfg = NetConfig { latency_ms: 10, jitter_ms: 30, link_spread: 0.3, loss: 0.2 };
        let run = || {
            let mut n = net(cfg.clone());
            (0..1000).map(|i| n.transit(i % 7, i % 11, i as u64)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
