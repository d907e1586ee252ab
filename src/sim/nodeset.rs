//! A set of node indices as a bitset: one bit a node.
//!
//! The engines ask "is node `i` running?" once or twice per event. A
//! `Vec<bool>` spends a byte a node (1 MB at a million nodes, beyond the L2
//! cache); a bit a node keeps the same million in 128 KB.

/// A growable set of node indices `0..len`, one bit each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSet {
    words: Vec<u64>,
    len: usize,
}

impl NodeSet {
    /// `len` nodes, all in the set (`full`) or none.
    pub fn new(len: usize, full: bool) -> Self {
        let mut s = NodeSet { words: vec![0; len.div_ceil(64)], len };
        if full {
            s.words.fill(u64::MAX);
            s.clear_tail();
        }
        s
    }

    /// Number of nodes it covers (in the set or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it covers no node.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether node `i` is in the set (false beyond [`NodeSet::len`]).
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        // (a slice's index: a `Vec`'s is a call in the page's wasm)
        i < self.len && self.words.as_slice()[i / 64] >> (i % 64) & 1 != 0
    }

    /// The set as words, node `i` at bit `i % 64` of word `i / 64`; the
    /// bits past [`NodeSet::len`] are clear.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Put node `i` in the set or take it out.
    ///
    /// # Panics
    /// If `i` is not below [`NodeSet::len`].
    #[inline]
    pub fn set(&mut self, i: usize, member: bool) {
        assert!(i < self.len, "node {i} beyond a set of {}", self.len);
        let (w, b) = (&mut self.words[i / 64], 1u64 << (i % 64));
        if member {
            *w |= b;
        } else {
            *w &= !b;
        }
    }

    /// Cover one more node, `len()`, in the set or not.
    pub fn push(&mut self, member: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, member);
    }

    /// How many nodes are in the set.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// How many nodes are in the set and have their bit set in `bits` (a
    /// bitset over the same indices, bit `i % 64` of word `i / 64`; words
    /// past either end count as empty): a word at a time.
    pub fn count_common(&self, bits: &[u64]) -> usize {
        self.words.iter().zip(bits).map(|(a, b)| (a & b).count_ones() as usize).sum()
    }

    /// Whether every node it covers is in the set.
    pub fn is_full(&self) -> bool {
        self.count_ones() == self.len
    }

    /// The nodes in the set, in increasing order, as a vector: a word at
    /// a time (a report's live nodes at a million nodes; asked node by
    /// node, that took 40 ms in the page's wasm).
    pub fn members(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.count_ones());
        let mut k = 0; // (while loops: a `Range`'s `next` is a call in the page's wasm)
        while k < self.words.len() {
            let mut w = self.words[k];
            while w != 0 {
                out.push((k * 64) as u32 + w.trailing_zeros());
                w &= w - 1;
            }
            k += 1;
        }
        out
    }

    /// The nodes in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter(|&i| self.get(i)).map(|i| i as u32)
    }

    /// Zero the bits past `len` in the last word (they count as absent).
    fn clear_tail(&mut self) {
        if !self.len.is_multiple_of(64) {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << (self.len % 64)) - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_set_is_full_or_empty_and_nothing_lies_beyond_its_length() {
        for len in [0, 1, 63, 64, 65, 1000] {
            let full = NodeSet::new(len, true);
            let empty = NodeSet::new(len, false);
            assert_eq!(full.count_ones(), len);
            assert_eq!(empty.count_ones(), 0);
            assert!(full.is_full());
            assert_eq!(empty.is_full(), len == 0);
            assert!((0..len).all(|i| full.get(i) && !empty.get(i)));
            assert!(!full.get(len) && !full.get(len + 64));
        }
    }

    #[test]
    fn members_lists_the_set_in_order_as_iter_does() {
        for len in [0, 1, 63, 64, 65, 200] {
            let mut s = NodeSet::new(len, true);
            for i in (0..len).filter(|i| i % 3 == 1 || i % 64 == 63) {
                s.set(i, false);
            }
            assert_eq!(s.members(), s.iter().collect::<Vec<_>>(), "{len} nodes");
            assert_eq!(s.members().len(), s.count_ones());
        }
    }

    #[test]
    fn set_and_push_change_exactly_one_node() {
        let mut s = NodeSet::new(130, true);
        s.set(64, false);
        s.set(0, false);
        s.set(0, false); // idempotent
        assert_eq!(s.count_ones(), 128);
        assert!(!s.get(0) && !s.get(64) && s.get(1) && s.get(63) && s.get(65) && s.get(129));
        s.set(64, true);
        assert!(s.get(64));
        for k in 0..70 {
            s.push(k % 2 == 0);
        }
        assert_eq!(s.len(), 200);
        assert_eq!(s.count_ones(), 129 + 35);
        assert!(s.get(130) && !s.get(131) && s.get(198) && !s.get(199));
    }

    #[test]
    fn iter_lists_members_in_increasing_order() {
        let mut s = NodeSet::new(200, false);
        for i in [3, 64, 65, 199] {
            s.set(i, true);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 64, 65, 199]);
    }

    #[test]
    #[should_panic(expected = "beyond")]
    fn setting_a_node_beyond_the_length_panics() {
        NodeSet::new(10, true).set(10, true);
    }
}
