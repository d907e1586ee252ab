//! Large blocks on huge pages: the `gossip` binary's global allocator.
//!
//! The simulator reads its big arrays (100,000 SWIM members are 23 MB of
//! structs, plus their RNGs and the table of updates in circulation) at
//! random places, one member an event. On 4 KB pages nearly every such read
//! also misses the TLB (a few thousand entries cover a few MB); on 2 MB
//! pages the whole run fits in it. Linux hands out transparent huge pages
//! only to memory advised so (`madvise` mode, the default here), and glibc
//! advises none unless `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` is set before
//! the process starts: [`HugeAlloc`] is the system allocator that advises
//! every block of at least [`HUGE_MIN`] bytes (those glibc maps by
//! themselves) right after allocating or growing it.
//!
//! Advice changes where memory comes from, never what it holds: results
//! are the same with and without it. A block is advised from its first
//! whole 2 MB page to its last (smaller blocks hold no whole huge page).
//! Elsewhere than on Linux it is the system allocator alone. The small
//! blocks of glibc's heap are left as they are: advising the heap as it
//! grows meant setting glibc's `M_TOP_PAD`, which also freezes its mmap
//! threshold for every other use of the binary (the node, sweeps), for a
//! gain within the noise (BENCHMARKS.md, "Issue 21: SWIM at 100,000 members
//! in 15.6 s of CPU").

use std::alloc::{GlobalAlloc, Layout, System};

/// The smallest block advised, bytes: two huge pages, so that at least one
/// whole 2 MB page lies inside it wherever it starts.
pub const HUGE_MIN: usize = 4 << 20;

/// The size of a huge page on x86-64 and aarch64 Linux.
const HUGE_PAGE: usize = 2 << 20;

/// The system allocator, with blocks of at least [`HUGE_MIN`] bytes advised
/// onto huge pages (see the module's header).
pub struct HugeAlloc;

#[cfg(target_os = "linux")]
mod sys {
    use std::ffi::{c_int, c_void};

    /// `MADV_HUGEPAGE` of `<sys/mman.h>`.
    pub const MADV_HUGEPAGE: c_int = 14;

    extern "C" {
        /// `madvise(2)`, from the C library the binary links anyway.
        pub fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }
}

/// Advise the whole huge pages of the `size` bytes at `p` (a failure, on a
/// kernel without transparent huge pages, changes nothing).
#[inline]
fn advise(p: *mut u8, size: usize) {
    if p.is_null() || size < HUGE_MIN {
        return;
    }
    let start = (p as usize).next_multiple_of(HUGE_PAGE);
    let end = (p as usize + size) & !(HUGE_PAGE - 1);
    #[cfg(target_os = "linux")]
    if end > start {
        // SAFETY: the range lies inside a block this allocator just handed
        // out; the advice changes no byte of it, only how it is paged.
        unsafe {
            sys::madvise(start as *mut std::ffi::c_void, end - start, sys::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, end);
}

// SAFETY: every call is passed to `System` unchanged; `advise` only adds
// advice on the returned block's own pages.
unsafe impl GlobalAlloc for HugeAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        advise(q, new_size);
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_from_the_huge_allocator_hold_what_was_written_through_growth() {
        // a block under the threshold and one over it, grown past it, read back
        for &(first, grown) in &[(1usize << 10, 3usize << 20), (5 << 20, 9 << 20)] {
            let layout = Layout::from_size_align(first, 8).unwrap();
            unsafe {
                let p = HugeAlloc.alloc(layout);
                assert!(!p.is_null());
                for k in (0..first).step_by(4096) {
                    *p.add(k) = (k / 4096) as u8;
                }
                let q = HugeAlloc.realloc(p, layout, grown);
                assert!(!q.is_null());
                for k in (0..first).step_by(4096) {
                    assert_eq!(*q.add(k), (k / 4096) as u8, "byte {k} kept through growth");
                }
                HugeAlloc.dealloc(q, Layout::from_size_align(grown, 8).unwrap());
            }
        }
    }
}
