//! The bounded cache of seen UUIDs.
//!
//! Dedup needs memory, and memory must be bounded whatever the network sends:
//! entries expire after a time-to-live and the cache never holds more than
//! its cap (the oldest entry goes first). Time comes from the caller.
//!
//! Every fresh update costs an insert, and at full cap an eviction, in a
//! cache that is cold by the time the node hears from the network again: the
//! layout keeps each to about one cache line. UUIDs sit directly in an
//! open-addressing table with linear probing (a lookup reads one line,
//! rarely two; a removal shifts the entries behind it back instead of
//! leaving tombstones), and a queue holds them in arrival order with the
//! time each was seen, for expiry and eviction.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use super::message::Uuid;

/// Marks a free slot of the table. The UUID 0 itself is kept aside.
const FREE: Uuid = 0;

/// Remembers recently seen UUIDs, bounded in time and in count.
#[derive(Clone, Debug)]
pub struct SeenCache {
    /// Power-of-two sized, at most half full; `FREE` marks free slots.
    table: Vec<Uuid>,
    /// Whether the UUID 0 is remembered.
    zero: bool,
    /// UUIDs in arrival order, with when each was seen.
    order: VecDeque<(u64, Uuid)>,
    hasher: FixedState,
    ttl_ms: u64,
    cap: usize,
    evicted: u64,
}

impl SeenCache {
    /// An empty cache; `hash_seed` keys its hash table (take it from the node's RNG).
    pub fn new(ttl_ms: u64, cap: usize, hash_seed: u64) -> Self {
        SeenCache {
            table: Vec::new(),
            zero: false,
            order: VecDeque::new(),
            hasher: FixedState::with_seed(hash_seed),
            ttl_ms,
            cap: cap.max(1),
            evicted: 0,
        }
    }

    /// Record `uuid` as seen at `now`. Returns `false` if it was already there.
    pub fn insert(&mut self, uuid: Uuid, now: u64) -> bool {
        self.expire(now);
        if self.contains(&uuid) {
            return false;
        }
        if self.order.len() >= self.cap {
            if let Some((_, old)) = self.order.pop_front() {
                self.remove(old);
                self.evicted += 1;
            }
        }
        self.order.push_back((now, uuid));
        if uuid == FREE {
            self.zero = true;
        } else {
            if 2 * self.order.len() > self.table.len() {
                self.grow();
            }
            let i = self.free_slot(uuid);
            self.table[i] = uuid;
        }
        true
    }

    /// Whether `uuid` is remembered.
    pub fn contains(&self, uuid: &Uuid) -> bool {
        if *uuid == FREE {
            return self.zero;
        }
        self.find(*uuid).is_some()
    }

    /// Bring `uuid`'s probe into the cache ([`View::warm`](super::view::View::warm)).
    #[inline]
    pub fn warm(&self, uuid: &Uuid) {
        std::hint::black_box(self.contains(uuid));
    }

    /// Forget everything seen at or before `now - ttl`.
    pub fn expire(&mut self, now: u64) {
        while let Some(&(t, u)) = self.order.front() {
            if t.saturating_add(self.ttl_ms) > now {
                break;
            }
            self.order.pop_front();
            self.remove(u);
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

    fn mask(&self) -> usize {
        self.table.len().wrapping_sub(1)
    }

    /// The slot where `uuid`'s probe starts.
    #[inline]
    fn home(&self, uuid: Uuid) -> usize {
        self.hasher.hash_one(uuid) as usize & self.mask()
    }

    /// The slot holding `uuid` (not `FREE`), if any.
    fn find(&self, uuid: Uuid) -> Option<usize> {
        if self.table.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = self.home(uuid);
        // at most half full: a free slot ends every probe
        loop {
            match self.table[i] {
                FREE => return None,
                u if u == uuid => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The first free slot of `uuid`'s probe (the table has one).
    fn free_slot(&self, uuid: Uuid) -> usize {
        let mask = self.mask();
        let mut i = self.home(uuid);
        while self.table[i] != FREE {
            i = (i + 1) & mask;
        }
        i
    }

    /// Forget `uuid`: free its slot, then move back the entries of the
    /// probe run behind it whose home is not between the gap and them, so
    /// that every probe still reaches its entry before a free slot.
    fn remove(&mut self, uuid: Uuid) {
        if uuid == FREE {
            self.zero = false;
            return;
        }
        let Some(mut gap) = self.find(uuid) else { return };
        let mask = self.mask();
        self.table[gap] = FREE;
        let mut j = gap;
        loop {
            j = (j + 1) & mask;
            let u = self.table[j];
            if u == FREE {
                return;
            }
            // distance from its home to where it is, and to the gap
            let home = self.home(u);
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(gap) & mask) {
                self.table[gap] = u;
                self.table[j] = FREE;
                gap = j;
            }
        }
    }

    /// Double the table (at least 16 slots) and place every entry anew.
    fn grow(&mut self) {
        let len = (self.table.len() * 2).max(16);
        let old = std::mem::replace(&mut self.table, vec![FREE; len]);
        for u in old.into_iter().filter(|&u| u != FREE) {
            let i = self.free_slot(u);
            self.table[i] = u;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_insert_is_reported() {
        let mut c = SeenCache::new(1000, 10, 0);
        assert!(c.insert(1, 0));
        assert!(!c.insert(1, 5));
        assert!(c.contains(&1));
    }

    #[test]
    fn entries_expire_after_ttl() {
        let mut c = SeenCache::new(1000, 10, 0);
        c.insert(1, 0);
        c.insert(2, 500);
        c.expire(999);
        assert_eq!(c.len(), 2);
        c.expire(1000);
        assert!(!c.contains(&1) && c.contains(&2));
        assert!(c.insert(1, 1200), "expired uuid is new again");
    }

    #[test]
    fn cap_bounds_memory_and_evicts_oldest() {
        let mut c = SeenCache::new(u64::MAX / 2, 100, 0);
        for u in 0..10_000u128 {
            c.insert(u, 1);
        }
        assert_eq!(c.len(), 100);
        assert!(c.contains(&9_999) && !c.contains(&0));
        assert_eq!(c.evicted(), 9_900);
    }

    #[test]
    fn the_table_agrees_with_a_plain_set_through_random_inserts_expiry_and_eviction() {
        use std::collections::{HashSet, VecDeque};
        let mut rng = crate::rng::Rng::new(3);
        let (ttl, cap) = (500, 200);
        let mut c = SeenCache::new(ttl, cap, 9);
        let mut set: HashSet<Uuid> = HashSet::new();
        let mut order: VecDeque<(u64, Uuid)> = VecDeque::new();
        for now in 0..20_000u64 {
            // small UUIDs collide often, 0 included; large ones spread
            let u = if rng.below(2) == 0 { rng.below(400) as Uuid } else { rng.uuid() };
            while order.front().is_some_and(|&(t, _)| t + ttl <= now) {
                let (_, old) = order.pop_front().unwrap();
                set.remove(&old);
            }
            let fresh = !set.contains(&u);
            if fresh {
                if order.len() >= cap {
                    let (_, old) = order.pop_front().unwrap();
                    set.remove(&old);
                }
                order.push_back((now, u));
                set.insert(u);
            }
            assert_eq!(c.insert(u, now), fresh, "insert of {u} at {now}");
            assert_eq!(c.len(), set.len());
            let probe = rng.below(400) as Uuid;
            assert_eq!(c.contains(&probe), set.contains(&probe), "contains {probe} at {now}");
        }
        assert!(c.evicted() > 0);
    }
}
