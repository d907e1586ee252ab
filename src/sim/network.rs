//! The simulated network: latency with jitter, loss, and partitions.
//!
//! It decides, for each message, whether it arrives and when. Its random
//! draws come from its own stream, so changing the network never changes a
//! node's own choices.
//!
//! Partitions come in two kinds: symmetric groups (`partition`, `heal`),
//! and one-way blocks (`block`, `unblock`): a block `A>B` drops every
//! message from a node of range `A` to a node of range `B`, and nothing the
//! other way. `heal` lifts both kinds.
//!
//! Latency ([`LatencyDist`]): `constant` is a link's base latency plus a
//! uniform `0..=jitter` (the lab's original model, draws unchanged);
//! `uniform` is uniform on `latency ± jitter`; `exponential` has mean
//! `latency` (jitter not used); `lognormal` has mean `latency` and standard
//! deviation `jitter`. The last two are drawn with [`ln_det`] and
//! [`exp_det`], written with `+ − × ÷` and `sqrt` only (all exactly rounded
//! by IEEE 754), so that wasm and native draw the same delays.

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
    /// How delays are distributed around `latency_ms` (absent: `constant`).
    #[serde(default, skip_serializing_if = "LatencyDist::is_constant")]
    pub latency_dist: LatencyDist,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig { latency_ms: 50, jitter_ms: 10, link_spread: 0.0, loss: 0.0, latency_dist: LatencyDist::Constant }
    }
}

/// How a message's delay is drawn (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyDist {
    /// Base latency plus uniform `0..=jitter`.
    #[default]
    Constant,
    /// Uniform on `latency ± jitter`.
    Uniform,
    /// Exponential with mean `latency`.
    Exponential,
    /// Log-normal with mean `latency` and standard deviation `jitter`.
    Lognormal,
}

impl LatencyDist {
    /// Parse its name.
    pub fn parse(s: &str) -> Option<LatencyDist> {
        match s.trim().to_ascii_lowercase().as_str() {
            "constant" => Some(LatencyDist::Constant),
            "uniform" => Some(LatencyDist::Uniform),
            "exponential" | "exp" => Some(LatencyDist::Exponential),
            "lognormal" | "log-normal" => Some(LatencyDist::Lognormal),
            _ => None,
        }
    }

    /// Whether it is the original model (`constant`).
    pub fn is_constant(&self) -> bool {
        *self == LatencyDist::Constant
    }

    /// The mean one-way delay of a message, ms, given the base latency and
    /// the jitter (a base plus uniform `0..=jitter`: `latency + jitter/2`;
    /// the others: `latency`, their mean by construction).
    pub fn mean_ms(self, latency_ms: u64, jitter_ms: u64) -> f64 {
        match self {
            LatencyDist::Constant => latency_ms as f64 + jitter_ms as f64 / 2.0,
            LatencyDist::Uniform | LatencyDist::Exponential | LatencyDist::Lognormal => latency_ms as f64,
        }
    }

    /// Whether it reads `jitter_ms`.
    pub fn reads_jitter(self) -> bool {
        self != LatencyDist::Exponential
    }
}

/// `ln x` for `x > 0`, from `+ − × ÷` only: the same bits on every
/// platform (`f64::ln` is the platform's libm).
pub fn ln_det(x: f64) -> f64 {
    if x <= 0.0 || x.is_nan() {
        return f64::NEG_INFINITY;
    }
    // x = m 2^e with m in [1, 2), from the bits
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if e == -1023 {
        // subnormal: scale up first
        return ln_det(x * (1u64 << 60) as f64) - 60.0 * std::f64::consts::LN_2;
    }
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2 atanh(z), z = (m - 1)/(m + 1), |z| < 0.172
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let mut term = z;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..24 {
        sum += term / k;
        term *= z2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * std::f64::consts::LN_2
}

/// `e^x`, from `+ − × ÷` only (see [`ln_det`]); saturates far out.
pub fn exp_det(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 700.0 {
        return f64::INFINITY;
    }
    if x < -700.0 {
        return 0.0;
    }
    let k = (x / std::f64::consts::LN_2).round();
    let r = x - k * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..24 {
        term *= r / i as f64;
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
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
    /// One-way blocks: messages from `from.0..=from.1` to `to.0..=to.1` are dropped.
    blocks: Vec<Block>,
}

/// A one-way block: messages from a node of `from` to a node of `to` are
/// dropped (inclusive ranges of node indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Senders, `(first, last)`.
    pub from: (u32, u32),
    /// Receivers, `(first, last)`.
    pub to: (u32, u32),
}

impl Block {
    /// Whether it drops a message from `a` to `b`.
    #[inline]
    pub fn drops(&self, a: u32, b: u32) -> bool {
        (self.from.0..=self.from.1).contains(&a) && (self.to.0..=self.to.1).contains(&b)
    }
}

impl Network {
    /// A network with its own random stream.
    pub fn new(cfg: NetConfig, rng: Rng) -> Self {
        let mut rng = rng;
        let link_seed = rng.next_u64();
        Network { cfg, rng, link_seed, groups: Vec::new(), blocks: Vec::new() }
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

    /// Remove any partition, one-way blocks included.
    pub fn heal(&mut self) {
        self.groups.clear();
        self.blocks.clear();
    }

    /// Drop every message from `block.from` to `block.to` (one way).
    pub fn block(&mut self, block: Block) {
        if !self.blocks.contains(&block) {
            self.blocks.push(block);
        }
    }

    /// Lift a block added with [`Network::block`] (no-op if absent).
    pub fn unblock(&mut self, block: Block) {
        self.blocks.retain(|b| *b != block);
    }

    /// A random stream for the fault timeline's own draws (which nodes a
    /// `crash-random` at `at_ms` takes), apart from the messages' stream.
    pub fn fault_rng(&self, at_ms: u64) -> Rng {
        Rng::derive(self.link_seed ^ 0xFA17_5EED_FA17_5EED, at_ms)
    }

    /// The partition group of `node` (0 when not partitioned).
    pub fn group(&self, node: u32) -> u16 {
        self.groups.get(node as usize).copied().unwrap_or(0)
    }

    /// Whether a partition is in force.
    pub fn is_partitioned(&self) -> bool {
        !self.groups.is_empty() || !self.blocks.is_empty()
    }

    /// Whether `a` and `b` can talk (same side of any partition). Nodes that
    /// joined after the partition are on the last group's side.
    pub fn connected(&self, a: u32, b: u32) -> bool {
        if !self.blocks.is_empty() && self.blocks.iter().any(|x| x.drops(a, b)) {
            return false;
        }
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
        let base = if self.cfg.link_spread <= 0.0 {
            self.cfg.latency_ms
        } else {
            let spread = self.cfg.link_spread.min(1.0);
            // `link_latency` rounds `latency * (1 + spread * u)` with u >= -1
            (self.cfg.latency_ms as f64 * (1.0 - spread)).floor().max(0.0) as u64
        };
        match self.cfg.latency_dist {
            LatencyDist::Constant => base,
            LatencyDist::Uniform => base.saturating_sub(self.cfg.jitter_ms),
            LatencyDist::Exponential | LatencyDist::Lognormal => 0,
        }
    }

    /// A delay drawn around the link's base latency `base` (not `constant`).
    fn draw_delay(&mut self, base: u64) -> u64 {
        let mean = base as f64;
        let jitter = self.cfg.jitter_ms;
        match self.cfg.latency_dist {
            LatencyDist::Constant => base + if jitter > 0 { self.rng.below(jitter + 1) } else { 0 },
            LatencyDist::Uniform => (base + self.rng.below(2 * jitter + 1)).saturating_sub(jitter),
            LatencyDist::Exponential => {
                let u = 1.0 - self.rng.unit(); // (0, 1]
                (-mean * ln_det(u)).round() as u64
            }
            LatencyDist::Lognormal => {
                if base == 0 {
                    return 0;
                }
                // sigma^2 = ln(1 + s^2/m^2), mu = ln m - sigma^2/2
                let cv = jitter as f64 / mean;
                let s2 = ln_det(1.0 + cv * cv);
                let mu = ln_det(mean) - s2 / 2.0;
                // a standard normal by Marsaglia's polar method
                let z = loop {
                    let x = 2.0 * self.rng.unit() - 1.0;
                    let y = 2.0 * self.rng.unit() - 1.0;
                    let r = x * x + y * y;
                    if r > 0.0 && r < 1.0 {
                        break x * (-2.0 * ln_det(r) / r).sqrt();
                    }
                };
                exp_det(mu + s2.sqrt() * z).round().min(1e15) as u64
            }
        }
    }

    /// Whether every message gets through without a random draw (no loss,
    /// no partition): [`Network::passes`] would only say `Ok`.
    #[inline]
    pub fn is_clear(&self) -> bool {
        self.cfg.loss <= 0.0 && self.groups.is_empty() && self.blocks.is_empty()
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
        if !self.cfg.latency_dist.is_constant() {
            let delay = self.draw_delay(self.link_latency(a, b));
            if !self.connected(a, b) {
                return Err(Dropped::Partition);
            }
            if lost {
                return Err(Dropped::Loss);
            }
            return Ok(now + delay);
        }
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
        let mut n = net(NetConfig { latency_ms: 100, jitter_ms: 20, ..NetConfig::default() });
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
        let mut n = net(NetConfig { latency_ms: 1, jitter_ms: 0, loss: 0.3, ..NetConfig::default() });
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
        let n = net(NetConfig { latency_ms: 100, jitter_ms: 0, link_spread: 0.5, ..NetConfig::default() });
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
            let mut n = net(NetConfig { latency_ms, jitter_ms, link_spread, ..NetConfig::default() });
            let least = (0..2_000).map(|i| n.transit(i % 37, i % 41 + 1, 1_000).unwrap() - 1_000).min().unwrap();
            assert!(least >= n.min_latency(), "{latency_ms} ms, spread {link_spread}: {least} < {}", n.min_latency());
            assert!(
                least - n.min_latency() <= 1 + latency_ms / 10,
                "{latency_ms} ms, spread {link_spread}: the bound is loose"
            );
        }
    }

    fn delays(dist: LatencyDist, latency_ms: u64, jitter_ms: u64) -> Vec<f64> {
        let mut n = net(NetConfig { latency_ms, jitter_ms, link_spread: 0.0, loss: 0.0, latency_dist: dist });
        (0..200_000).map(|_| (n.transit(0, 1, 0).unwrap()) as f64).collect()
    }

    fn mean_sd(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (m, (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt())
    }

    #[test]
    fn latency_distributions_have_their_mean_and_spread() {
        let u = delays(LatencyDist::Uniform, 100, 30);
        assert_eq!(u.iter().cloned().fold(f64::MAX, f64::min), 70.0);
        assert_eq!(u.iter().cloned().fold(0.0, f64::max), 130.0);
        let (m, sd) = mean_sd(&u);
        assert!((m - 100.0).abs() < 0.3 && (sd - 60.0 / 12f64.sqrt()).abs() < 0.5, "uniform {m} {sd}");
        let e = delays(LatencyDist::Exponential, 100, 30);
        let (m, sd) = mean_sd(&e);
        assert!((m - 100.0).abs() < 1.5 && (sd - 100.0).abs() < 2.0, "exponential {m} {sd}");
        let median = {
            let mut s = e.clone();
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        };
        assert!((median - 100.0 * std::f64::consts::LN_2).abs() < 2.0, "exponential median {median}");
        let l = delays(LatencyDist::Lognormal, 100, 50);
        let (m, sd) = mean_sd(&l);
        assert!((m - 100.0).abs() < 1.0 && (sd - 50.0).abs() < 1.5, "lognormal {m} {sd}");
        assert!(l.iter().all(|&x| x >= 0.0));
        let c = delays(LatencyDist::Constant, 100, 30);
        assert_eq!(mean_sd(&c).0.round(), 115.0, "constant: base plus uniform jitter, as before");
        // the mean the theory curve takes as one hop is each one's mean
        for (dist, v, jitter) in [
            (LatencyDist::Uniform, &u, 30),
            (LatencyDist::Exponential, &e, 30),
            (LatencyDist::Lognormal, &l, 50),
            (LatencyDist::Constant, &c, 30),
        ] {
            let (m, _) = mean_sd(v);
            assert!(
                (dist.mean_ms(100, jitter) - m).abs() < 1.5,
                "{dist:?}: mean {m}, mean_ms {}",
                dist.mean_ms(100, jitter)
            );
        }
    }

    #[test]
    fn the_deterministic_logarithm_and_exponential_are_accurate() {
        for x in [1e-300, 1e-9, 0.001, 0.5, 0.9999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e200] {
            let (a, b) = (ln_det(x), x.ln());
            assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0), "ln {x}: {a} vs {b}");
        }
        for x in [-50.0, -1.0, -1e-6, 0.0, 0.3, 1.0, 7.5, 300.0] {
            let (a, b) = (exp_det(x), x.exp());
            assert!((a - b).abs() <= 1e-13 * b, "exp {x}: {a} vs {b}");
        }
    }

    #[test]
    fn a_one_way_block_drops_one_direction_only() {
        let mut n = net(NetConfig::default());
        let b = Block { from: (0, 4), to: (5, 9) };
        n.block(b);
        assert_eq!(n.transit(2, 7, 0), Err(Dropped::Partition));
        assert!(n.transit(7, 2, 0).is_ok(), "the other way passes");
        assert!(n.transit(2, 3, 0).is_ok() && n.transit(6, 8, 0).is_ok());
        assert!(!n.is_clear() && n.is_partitioned());
        assert_eq!(n.passes(4, 5), Err(Dropped::Partition), "the rounds model too");
        n.unblock(b);
        assert!(n.transit(2, 7, 0).is_ok() && n.is_clear());
        n.block(b);
        n.heal();
        assert!(n.transit(2, 7, 0).is_ok(), "heal lifts blocks");
    }

    #[test]
    fn same_seed_same_deliveries() {
        let cfg = NetConfig { latency_ms: 10, jitter_ms: 30, link_spread: 0.3, loss: 0.2, ..NetConfig::default() };
        let run = || {
            let mut n = net(cfg.clone());
            (0..1000).map(|i| n.transit(i % 7, i % 11, i as u64)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
