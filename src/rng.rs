//! Deterministic random numbers for the whole lab.
//!
//! The core never touches OS randomness: every random choice comes from an
//! [`Rng`] handed in by the driver. The generator is SplitMix64 (8 bytes of
//! state, so a million simulated nodes can each own one), implemented here so
//! that the same seed gives the same stream on every platform and every
//! version of every dependency: native and `wasm32` produce identical traces.

/// A small, fast, seedable PRNG (SplitMix64). Not cryptographic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// A generator whose whole future is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent stream derived from `seed` and a stream number, e.g.
    /// one per simulated node: `Rng::derive(seed, node_index)`.
    pub fn derive(seed: u64, stream: u64) -> Self {
        let mut mix = Rng::new(seed ^ mix64(stream.wrapping_add(GOLDEN)));
        Rng::new(mix.next_u64())
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// A uniform integer in `0..n` (Lemire's multiply-and-reject, unbiased).
    /// Returns 0 when `n == 0`.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        self.below_inlined(n)
    }

    /// [`Rng::below`], the same draws, always inlined: for the hottest
    /// draw site, the compact population's rounds (at the page's opt-level
    /// "z" a call per draw was 15 % of its 1,000,000-node run; inlining
    /// `below` everywhere costs 1.9 KB of the package). The rare rejection
    /// stays out of line.
    #[inline(always)]
    pub fn below_inlined(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let (high, low) = mul_wide(self.next_u64(), n);
        if low < n {
            return self.below_rejecting(n, high, low);
        }
        high
    }

    /// [`Rng::below`] when its first draw fell in the zone that may be rejected.
    #[cold]
    #[inline(never)]
    fn below_rejecting(&mut self, n: u64, mut high: u64, mut low: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        while low < threshold {
            (high, low) = mul_wide(self.next_u64(), n);
        }
        high
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (`p <= 0` never, `p >= 1` always, and
    /// neither of those consumes randomness).
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.unit() < p
        }
    }

    /// 128 random bits (two draws, the first the high half) shaped as an
    /// RFC 4122 version-4 UUID: version 4 in bits 76..80, variant 0b10 in
    /// bits 62..64, set by the `uuid` crate.
    pub fn uuid(&mut self) -> uuid::Uuid {
        let hi = self.next_u64() as u128;
        let lo = self.next_u64() as u128;
        uuid::Builder::from_random_bytes(((hi << 64) | lo).to_be_bytes()).into_uuid()
    }
}

/// The 128-bit product of `a` and `b`, as its high and low halves.
/// wasm32 has no 64 x 64 -> 128 multiply: there a `u128` product is a
/// call to a 128 x 128 routine (`__multi3`, 8 % of the page's
/// 1,000,000-node run), so it is made of 32-bit halves instead
/// ([`mul_wide_halves`]), the same bits.
#[inline(always)]
fn mul_wide(a: u64, b: u64) -> (u64, u64) {
    #[cfg(target_arch = "wasm32")]
    return mul_wide_halves(a, b);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let m = u128::from(a) * u128::from(b);
        ((m >> 64) as u64, m as u64)
    }
}

/// [`mul_wide`] from four 32 x 32 -> 64 products (tested against `u128`),
/// two when `b` fits in 32 bits (every `below` of a node count). LLVM
/// recognises the four-product form as a 128-bit multiply and emits the
/// `__multi3` call again (Rust 1.95: 8 % of the page's 1,000,000-node
/// run); the two-product form it leaves alone.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
#[inline(always)]
fn mul_wide_halves(a: u64, b: u64) -> (u64, u64) {
    const LOW: u64 = 0xffff_ffff;
    if b <= LOW {
        // a * b = a1 * b * 2^32 + a0 * b, each product under 2^64
        let low = (a & LOW) * b;
        let mid = (a >> 32) * b + (low >> 32);
        return (mid >> 32, a.wrapping_mul(b));
    }
    mul_wide_quarters(a, b)
}

/// [`mul_wide_halves`] of a `b` over 32 bits (rare: no node count is).
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
#[inline(never)]
fn mul_wide_quarters(a: u64, b: u64) -> (u64, u64) {
    const LOW: u64 = 0xffff_ffff;
    let (a0, a1, b0, b1) = (a & LOW, a >> 32, b & LOW, b >> 32);
    let (p00, p01, p10) = (a0 * b0, a0 * b1, a1 * b0);
    // the middle column with the carry from the low one: under 3 * 2^32
    let mid = (p00 >> 32) + (p01 & LOW) + (p10 & LOW);
    (a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32), a.wrapping_mul(b))
}

/// The SplitMix64 finaliser: a strong 64-bit mixing function.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Pick `k` distinct indices uniformly from `0..len`, never `skip`, appending
/// them to `out` (a `Vec`, or an inline `SmallVec` where a caller samples
/// a few indices per message and must not allocate). Takes everything
/// eligible when `k` covers it. The order of random draws depends only on
/// the arguments, so callers stay deterministic.
pub fn sample_indices<O>(rng: &mut Rng, len: usize, skip: Option<usize>, k: usize, out: &mut O)
where
    O: AsRef<[usize]> + Extend<usize>,
{
    let eligible = len - usize::from(skip.is_some_and(|s| s < len));
    if k == 0 || eligible == 0 {
        return;
    }
    let map = |r: usize| match skip {
        Some(s) if r >= s => r + 1,
        _ => r,
    };
    if k >= eligible {
        out.extend((0..eligible).map(map));
        return;
    }
    if k == 1 {
        out.extend(Some(map(rng.below(eligible as u64) as usize)));
        return;
    }
    let start = out.as_ref().len();
    if k * 4 <= eligible {
        // sparse: rejection sampling, expected few retries
        while out.as_ref().len() - start < k {
            let c = map(rng.below(eligible as u64) as usize);
            if !out.as_ref()[start..].contains(&c) {
                out.extend(Some(c));
            }
        }
    } else if eligible <= SMALL_DENSE {
        // dense and small (a view of a few dozen): the same shuffle on the stack
        let mut all = [0u8; SMALL_DENSE];
        for (i, a) in all.iter_mut().enumerate().take(eligible) {
            *a = i as u8;
        }
        partial_shuffle(rng, &mut all[..eligible], k, |a| out.extend(Some(map(usize::from(a)))));
    } else {
        // dense: partial Fisher-Yates over the eligible indices
        let mut all: Vec<usize> = (0..eligible).collect();
        partial_shuffle(rng, &mut all, k, |a| out.extend(Some(map(a))));
    }
}

/// Up to this many eligible indices, a dense [`sample_indices`] shuffles
/// them in a stack array instead of a `Vec` (no allocation per call).
const SMALL_DENSE: usize = 64;

/// The first `k` steps of a Fisher-Yates shuffle of `all`, each chosen
/// element handed to `take` in order.
fn partial_shuffle<T: Copy>(rng: &mut Rng, all: &mut [T], k: usize, mut take: impl FnMut(T)) {
    let n = all.len();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        all.swap(i, j);
        take(all[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn known_first_values_pin_the_algorithm() {
        // SplitMix64 reference values for seed 0; if these change, every
        // recorded trace and every cross-platform comparison breaks.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut r = Rng::new(7);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        for c in counts {
            assert!((9_400..10_600).contains(&c), "{counts:?}");
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
    }

    #[test]
    fn chance_matches_probability() {
        let mut r = Rng::new(9);
        let hits = (0..100_000).filter(|_| r.chance(0.3)).count();
        assert!((29_000..31_000).contains(&hits), "{hits}");
    }

    #[test]
    fn uuid_has_version_4_and_rfc_variant() {
        let mut r = Rng::new(1);
        let mut same = Rng::new(1);
        for _ in 0..100 {
            let u = r.uuid();
            assert_eq!(u.get_version_num(), 4);
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
            // the bits as they were shaped by hand before the crate
            let raw = (same.next_u64() as u128) << 64 | same.next_u64() as u128;
            assert_eq!(u.as_u128(), (raw & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62));
        }
        assert_eq!(Rng::new(7).uuid().to_string(), "63cbe1e4-5932-4dd7-844c-3cd7f43c661c");
    }

    #[test]
    fn sample_indices_are_distinct_and_skip_self() {
        let mut r = Rng::new(3);
        for len in 1..12 {
            for k in 0..14 {
                for skip in [None, Some(0), Some(len - 1), Some(len / 2)] {
                    let mut out = Vec::new();
                    sample_indices(&mut r, len, skip, k, &mut out);
                    let eligible = len - usize::from(skip.is_some());
                    assert_eq!(out.len(), k.min(eligible));
                    let mut sorted = out.clone();
                    sorted.sort();
                    sorted.dedup();
                    assert_eq!(sorted.len(), out.len(), "duplicates in {out:?}");
                    assert!(out.iter().all(|&i| i < len && Some(i) != skip));
                }
            }
        }
    }

    #[test]
    fn the_product_from_32_bit_halves_is_the_u128_product() {
        let mut rng = Rng::new(11);
        let edges = [0, 1, 2, 0xffff_ffff, 0x1_0000_0000, u64::MAX - 1, u64::MAX, 1 << 63];
        let mut pairs: Vec<(u64, u64)> = edges.iter().flat_map(|&a| edges.iter().map(move |&b| (a, b))).collect();
        pairs.extend((0..100_000).map(|_| (rng.next_u64(), rng.next_u64())));
        pairs.extend((0..10_000).map(|_| (rng.next_u64(), rng.below(1 << 20))));
        for (a, b) in pairs {
            let m = u128::from(a) * u128::from(b);
            assert_eq!(mul_wide_halves(a, b), ((m >> 64) as u64, m as u64), "{a} x {b}");
        }
    }

    #[test]
    fn derived_streams_differ() {
        let a = Rng::derive(5, 0).next_u64();
        let b = Rng::derive(5, 1).next_u64();
        assert_ne!(a, b);
    }
}
