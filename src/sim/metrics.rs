//! What the simulator measures, computed here and not in any UI.
//!
//! Traffic counters, and a coverage tracker that knows, for every update
//! ever made, how many live nodes know it (a node knows an update when its
//! view holds that version of the origin or a newer one) and when the last
//! live node learned it. Crashes, restarts, joins and leaves adjust the
//! counts, so "every live node knows it" stays exact under faults.

use crate::core::Version;
use crate::hint::{prefetch, prefetch_all};

#[derive(Clone, Debug)]
struct UpdateRec {
    version: Version,
    created: u64,
    covered: u32,
    done: Option<u64>,
}

/// Answers "does node `i` know `origin` at `version` or newer?" for the tracker.
pub trait Knowledge {
    /// The version node `i` holds for `origin`.
    fn known(&self, i: u32, origin: u32) -> Option<Version>;
}

/// Counters and coverage.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Messages sent (lost ones included).
    pub messages: u64,
    /// Their approximate JSON size.
    pub bytes: u64,
    /// Messages that carried at least one update (Demers' "traffic").
    pub update_messages: u64,
    /// Messages lost to random loss.
    pub lost: u64,
    /// Messages dropped by a partition.
    pub partitioned: u64,
    /// Messages that arrived at a crashed node.
    pub to_down: u64,
    /// Events processed (timers, deliveries, faults).
    pub events: u64,
    /// `(time_ms, fraction)`: coverage samples, once a round or interval.
    pub coverage: Vec<(u64, f64)>,
    origins: Vec<Vec<UpdateRec>>,
    pending: Vec<(u32, u32)>,
    live: u32,
    first_learn: Vec<u64>,
    learn_sum_ms: u128,
    learn_count: u64,
    learn_last_ms: u64,
}

/// One more live node holds update `rec` (done at `now` once `live` do).
#[inline(always)]
fn cover(rec: &mut UpdateRec, live: u32, now: u64) {
    if rec.done.is_none() {
        rec.covered += 1;
        if rec.covered >= live {
            rec.done = Some(now);
        }
    }
}

impl Metrics {
    /// A tracker for `live` nodes.
    pub fn new(live: u32) -> Self {
        Metrics { live, ..Default::default() }
    }

    /// Live nodes now.
    pub fn live(&self) -> u32 {
        self.live
    }

    /// Count one sent message of `bytes` carrying `updates` updates.
    #[inline]
    pub fn sent(&mut self, bytes: usize, updates: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
        self.update_messages += u64::from(updates > 0);
    }

    /// `origin` made `version` at `now`.
    pub fn originated(&mut self, origin: u32, version: Version, now: u64) {
        let o = origin as usize;
        if self.origins.len() <= o {
            self.origins.resize_with(o + 1, Vec::new);
        }
        let hist = &mut self.origins[o];
        if hist.last().is_some_and(|r| r.version >= version) {
            return; // not a new update (cannot happen with honest nodes)
        }
        hist.push(UpdateRec { version, created: now, covered: 0, done: None });
        self.pending.push((origin, (hist.len() - 1) as u32));
    }

    /// Start loading the update records of `origins`, for a caller about
    /// to report a batch of [`Metrics::learned`] (a hint: their cache misses
    /// overlap instead of following one another).
    pub fn warm(&self, origins: impl Iterator<Item = u32> + Clone) {
        if !crate::hint::ENABLED {
            return;
        }
        for o in origins.clone() {
            if let Some(h) = self.origins.get(o as usize) {
                prefetch(h);
            }
        }
        for o in origins {
            if let Some(r) = self.origins.get(o as usize).and_then(|h| h.last()) {
                prefetch_all(r);
            }
        }
    }

    /// Node `node` moved its view of `origin` from `previous` to `version` at `now`.
    #[inline(always)]
    pub fn learned(&mut self, node: u32, origin: u32, previous: Option<Version>, version: Version, now: u64) {
        let Some(hist) = self.origins.get_mut(origin as usize) else {
            return;
        };
        // indexed as a slice: a `Vec`'s `Index` is a call per index in the
        // page's size-optimised wasm (never inlined there), a slice's is not
        let hist = hist.as_mut_slice();
        // the updates in (previous, version]; almost always the newest one or
        // two, so search from the end (touching the fewest records)
        let n = hist.len();
        let (live, before_newest) = (self.live, if n >= 2 { Some(hist[n - 2].version) } else { None });
        // (no closures on this path: in the page's wasm each is a call)
        if n > 0 && hist[n - 1].version == version && previous == before_newest {
            // from the one before the newest to the newest: the usual case
            cover(&mut hist[n - 1], live, now);
        } else {
            let after = |hist: &[UpdateRec], v: Version| hist.iter().rposition(|r| r.version <= v).map_or(0, |p| p + 1);
            let hi = after(hist, version);
            let lo = previous.map_or(0, |p| after(&hist[..hi], p));
            for rec in &mut hist[lo..hi] {
                cover(rec, live, now);
            }
        }
        if node != origin {
            let (w, b) = (node as usize / 64, node as usize % 64);
            if self.first_learn.len() <= w {
                self.first_learn.resize(w + 1, 0);
            }
            let first = &mut self.first_learn.as_mut_slice()[w];
            if *first & (1 << b) == 0 {
                *first |= 1 << b;
                self.learn_sum_ms += now as u128;
                self.learn_count += 1;
                self.learn_last_ms = self.learn_last_ms.max(now);
            }
        }
    }

    /// Node `node` went down (crash, leave) at `now`.
    pub fn node_down(&mut self, node: u32, k: &impl Knowledge, now: u64) {
        self.adjust(node, k, false);
        self.live = self.live.saturating_sub(1);
        self.complete(now);
    }

    /// Node `node` came up (restart, join) at `now`, knowing what `k` says.
    pub fn node_up(&mut self, node: u32, k: &impl Knowledge, now: u64) {
        self.adjust(node, k, true);
        self.live += 1;
        self.complete(now);
    }

    fn adjust(&mut self, node: u32, k: &impl Knowledge, up: bool) {
        self.pending.retain(|&(o, i)| self.origins[o as usize][i as usize].done.is_none());
        for &(o, i) in &self.pending {
            let rec = &mut self.origins[o as usize][i as usize];
            if k.known(node, o).is_some_and(|v| v >= rec.version) {
                if up {
                    rec.covered += 1;
                } else {
                    rec.covered = rec.covered.saturating_sub(1);
                }
            }
        }
    }

    fn complete(&mut self, now: u64) {
        for &(o, i) in &self.pending {
            let rec = &mut self.origins[o as usize][i as usize];
            if rec.done.is_none() && self.live > 0 && rec.covered >= self.live {
                rec.done = Some(now);
            }
        }
    }

    /// Whether every update made so far is known to every live node.
    pub fn all_done(&mut self) -> bool {
        self.pending.retain(|&(o, i)| self.origins[o as usize][i as usize].done.is_none());
        self.pending.is_empty()
    }

    /// Record a coverage sample at `now`: the mean, over origins, of the
    /// fraction of live nodes that know the origin's latest update.
    pub fn sample(&mut self, now: u64) {
        let (mut sum, mut n) = (0.0, 0u32);
        for hist in &self.origins {
            if let Some(last) = hist.last() {
                n += 1;
                sum += if last.done.is_some() { 1.0 } else { last.covered as f64 / self.live.max(1) as f64 };
            }
        }
        let f = if n == 0 { 0.0 } else { (sum / n as f64).min(1.0) };
        self.coverage.push((now, f));
    }

    /// Each origin's latest version: `(origin, version)`.
    pub fn latest(&self) -> impl Iterator<Item = (u32, Version)> + '_ {
        self.origins.iter().enumerate().filter_map(|(o, h)| h.last().map(|r| (o as u32, r.version)))
    }

    /// Every update: `(origin, version, created_ms, completed_ms)`.
    pub fn updates(&self) -> impl Iterator<Item = (u32, Version, u64, Option<u64>)> + '_ {
        self.origins
            .iter()
            .enumerate()
            .flat_map(|(o, h)| h.iter().map(move |r| (o as u32, r.version, r.created, r.done)))
    }

    /// Updates made at or after `since`, or not yet complete:
    /// `(origin, version, created_ms, live nodes that know it, completed_ms)`.
    pub fn recent(&self, since: u64) -> impl Iterator<Item = (u32, Version, u64, u32, Option<u64>)> + '_ {
        self.origins.iter().enumerate().flat_map(move |(o, h)| {
            h.iter()
                .filter(move |r| r.created >= since || r.done.is_none())
                .map(move |r| (o as u32, r.version, r.created, r.covered, r.done))
        })
    }

    /// Nodes other than origins that learned something: how many, mean and
    /// last time of their first learning (ms). For a single rumor these are
    /// Demers' t_avg and t_last.
    pub fn learn_times(&self) -> (u64, f64, u64) {
        let avg = if self.learn_count == 0 { 0.0 } else { self.learn_sum_ms as f64 / self.learn_count as f64 };
        (self.learn_count, avg, self.learn_last_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct K(HashMap<(u32, u32), Version>);
    impl Knowledge for K {
        fn known(&self, i: u32, o: u32) -> Option<Version> {
            self.0.get(&(i, o)).copied()
        }
    }

    fn v(c: u64) -> Version {
        Version::new(0, c)
    }

    /// Node `i` learns origin 0's version 1 at `t`, in the tracker and in `k`.
    fn learns(m: &mut Metrics, k: &mut K, i: u32, t: u64) {
        m.learned(i, 0, None, v(1), t);
        k.0.insert((i, 0), v(1));
    }

    #[test]
    fn an_update_completes_when_the_last_live_node_learns_it() {
        let mut m = Metrics::new(3);
        m.originated(0, v(1), 10);
        m.learned(0, 0, None, v(1), 10);
        m.learned(1, 0, None, v(1), 20);
        assert!(!m.all_done());
        m.learned(2, 0, None, v(1), 35);
        assert!(m.all_done());
        assert_eq!(m.updates().next(), Some((0, v(1), 10, Some(35))));
    }

    #[test]
    fn learning_a_newer_version_covers_the_skipped_ones() {
        let mut m = Metrics::new(2);
        m.originated(0, v(1), 0);
        m.learned(0, 0, None, v(1), 0);
        m.originated(0, v(2), 5);
        m.learned(0, 0, Some(v(1)), v(2), 5);
        m.learned(1, 0, None, v(2), 9);
        let done: Vec<_> = m.updates().map(|u| u.3).collect();
        assert_eq!(done, vec![Some(9), Some(9)]);
    }

    #[test]
    fn a_crash_of_the_last_ignorant_node_completes_the_update() {
        let mut k = K::default();
        let mut m = Metrics::new(3);
        m.originated(0, v(1), 0);
        learns(&mut m, &mut k, 0, 0);
        learns(&mut m, &mut k, 1, 4);
        m.node_down(2, &k, 7);
        assert!(m.all_done());
        assert_eq!(m.updates().next().unwrap().3, Some(7));
    }

    #[test]
    fn a_crashed_node_that_knew_no_longer_counts() {
        let mut k = K::default();
        let mut m = Metrics::new(3);
        m.originated(0, v(1), 0);
        learns(&mut m, &mut k, 0, 0);
        learns(&mut m, &mut k, 1, 1);
        m.node_down(1, &k, 2); // 2 live: 0 knows, 2 does not
        assert!(!m.all_done());
        k.0.remove(&(1, 0));
        m.node_up(1, &k, 3); // came back without state
        m.learned(2, 0, None, v(1), 4);
        assert!(!m.all_done(), "node 1 must relearn");
        m.learned(1, 0, None, v(1), 6);
        assert!(m.all_done());
        assert_eq!(m.updates().next().unwrap().3, Some(6));
    }
}
