//! One stable sort for the simulator's report and viewer paths.
//!
//! Why: every `sort_by_key` over its own element type is another copy of
//! std's stable sort in the page's wasm (a few KB each at opt-level "z",
//! where the 300 KB package budget is tight; BENCHMARKS.md, "Where the
//! page's bytes go"). The paths that sort a report's rows once (not the hot
//! loops) go through [`sorted_by`] instead, which sorts one concrete type,
//! `(u64, u64, u32)`, with a single instantiation of the unstable sort; the
//! element index as the last key makes the order exactly the stable sort's.

/// `v` ordered by `key` ascending; elements with equal keys keep their order
/// in `v` (as `sort_by_key` would leave them).
pub fn sorted_by<T>(v: Vec<T>, key: impl Fn(&T) -> (u64, u64)) -> Vec<T> {
    let order = order_of(v.iter().map(key).collect());
    let mut items: Vec<Option<T>> = v.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| items[i as usize].take()).collect()
}

/// The indices of `keys` in ascending key order, ties by index: the one
/// monomorphic sort behind [`sorted_by`].
fn order_of(keys: Vec<(u64, u64)>) -> Vec<u32> {
    let mut k: Vec<(u64, u64, u32)> = keys.into_iter().enumerate().map(|(i, (a, b))| (a, b, i as u32)).collect();
    k.sort_unstable();
    k.into_iter().map(|(_, _, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::sorted_by;
    use crate::rng::Rng;

    #[test]
    fn sorted_by_gives_the_stable_sorts_order_including_ties() {
        let mut rng = Rng::new(7);
        for n in [0usize, 1, 2, 17, 300] {
            // few distinct keys, so that most elements tie
            let v: Vec<(u64, u64, usize)> = (0..n).map(|i| (rng.below(4), rng.below(3), i)).collect();
            let mut expect = v.clone();
            expect.sort_by_key(|e| (e.0, e.1));
            assert_eq!(sorted_by(v, |e| (e.0, e.1)), expect, "n = {n}");
        }
    }
}
