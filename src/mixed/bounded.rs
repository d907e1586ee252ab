//! A map that forgets its oldest entry when full: behind the bridge's caches
//! of key pairs, seals and verified seals, which must stay bounded however
//! many identities and updates real nodes send.

use std::collections::{HashMap, VecDeque};

/// A map that forgets its oldest entry when full.
pub(super) struct Bounded<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: std::hash::Hash + Eq + Clone, V> Bounded<K, V> {
    pub(super) fn new(cap: usize) -> Self {
        Bounded { map: HashMap::new(), order: VecDeque::new(), cap: cap.max(1) }
    }

    pub(super) fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    pub(super) fn insert(&mut self, k: K, v: V) {
        if self.map.insert(k.clone(), v).is_none() {
            self.order.push_back(k);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caches_are_bounded() {
        let mut m = Bounded::new(3);
        for i in 0..10 {
            m.insert(i, i * 2);
        }
        assert_eq!(m.len(), 3);
        assert!(m.get(&6).is_none() && m.get(&9) == Some(&18));
        m.insert(9, 0);
        assert_eq!(m.len(), 3);
    }
}
