//! The bounded cache of seen UUIDs.
//!
//! It holds the UUIDs of pushed updates (the course's messages, which are
//! forwarded hop by hop): anti-entropy deltas are reconciled by version
//! alone, which the view answers without it.
//!
//! Dedup needs memory, and memory must be bounded whatever the network sends:
//! entries expire after a time-to-live and the cache never holds more than
//! its cap (the oldest entry goes first). Time comes from the caller.

use std::collections::{HashSet, VecDeque};

use foldhash::fast::FixedState;

use super::message::Uuid;

/// Remembers recently seen UUIDs, bounded in time and in count.
#[derive(Clone, Debug)]
pub struct SeenCache {
    set: HashSet<Uuid, FixedState>,
    order: VecDeque<(u64, Uuid)>,
    ttl_ms: u64,
    cap: usize,
    evicted: u64,
}

impl SeenCache {
    /// An empty cache; `hash_seed` keys its hash table (take it from the node's RNG).
    pub fn new(ttl_ms: u64, cap: usize, hash_seed: u64) -> Self {
        SeenCache {
            set: HashSet::with_hasher(FixedState::with_seed(hash_seed)),
            order: VecDeque::new(),
            ttl_ms,
            cap: cap.max(1),
            evicted: 0,
        }
    }

    /// Record `uuid` as seen at `now`. Returns `false` if it was already there.
    pub fn insert(&mut self, uuid: Uuid, now: u64) -> bool {
        self.expire(now);
        if !self.set.insert(uuid) {
            return false;
        }
        if self.order.len() >= self.cap {
            if let Some((_, old)) = self.order.pop_front() {
                self.set.remove(&old);
                self.evicted += 1;
            }
        }
        self.order.push_back((now, uuid));
        true
    }

    /// Whether `uuid` is remembered.
    pub fn contains(&self, uuid: &Uuid) -> bool {
        self.set.contains(uuid)
    }

    /// Forget everything seen at or before `now - ttl`.
    pub fn expire(&mut self, now: u64) {
        while let Some(&(t, u)) = self.order.front() {
            if t.saturating_add(self.ttl_ms) > now {
                break;
            }
            self.order.pop_front();
            self.set.remove(&u);
        }
    }

    /// UUIDs remembered now.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// How many entries were pushed out by the cap (not by expiry).
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn duplicate_insert_is_reported() {
        let mut c = SeenCache::new(1000, 10, 0);
        assert!(c.insert(u(1), 0));
        assert!(!c.insert(u(1), 5));
        assert!(c.contains(&u(1)));
    }

    #[test]
    fn entries_expire_after_ttl() {
        let mut c = SeenCache::new(1000, 10, 0);
        c.insert(u(1), 0);
        c.insert(u(2), 500);
        c.expire(999);
        assert_eq!(c.len(), 2);
        c.expire(1000);
        assert!(!c.contains(&u(1)) && c.contains(&u(2)));
        assert!(c.insert(u(1), 1200), "expired uuid is new again");
    }

    #[test]
    fn cap_bounds_memory_and_evicts_oldest() {
        let mut c = SeenCache::new(u64::MAX / 2, 100, 0);
        for n in 0..10_000u128 {
            c.insert(u(n), 1);
        }
        assert_eq!(c.len(), 100);
        assert!(c.contains(&u(9_999)) && !c.contains(&u(0)));
        assert_eq!(c.evicted(), 9_900);
    }
}
