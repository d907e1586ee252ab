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
//! Elsewhere than on Linux it is the system allocator alone.

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

    /// `M_TOP_PAD` of glibc's `<malloc.h>`.
    pub const M_TOP_PAD: c_int = -2;

    extern "C" {
        /// `madvise(2)`, from the C library the binary links anyway.
        pub fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
        /// `sbrk(3)`; `sbrk(0)`, the heap's end, makes no system call.
        pub fn sbrk(increment: isize) -> *mut c_void;
        /// `mallopt(3)`.
        pub fn mallopt(param: c_int, value: c_int) -> c_int;
    }
}

/// The end of the heap up to which it was advised (0: not yet set up).
#[cfg(target_os = "linux")]
static HEAP_ADVISED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How far the heap grows at a time: whole huge pages of it can be advised
/// before they are first touched.
#[cfg(target_os = "linux")]
const HEAP_STEP: usize = 2 << 20;

/// Advise the part of the heap (glibc's `brk` area, where the small blocks
/// are) grown since the last call. The first call sets the heap to grow
/// [`HEAP_STEP`] at a time (`M_TOP_PAD`; glibc then also keeps its mmap
/// threshold at the 128 KB default instead of raising it as large blocks
/// are freed, so blocks of 128 KB or more are mapped each time). Cheap when
/// the heap did not grow: a call that reads a variable, and one load.
#[inline]
fn advise_heap() {
    #[cfg(target_os = "linux")]
    {
        use std::sync::atomic::Ordering;
        // SAFETY: `sbrk(0)` only reads the heap's end
        let top = unsafe { sys::sbrk(0) } as usize;
        let done = HEAP_ADVISED.load(Ordering::Relaxed);
        if top <= done || top == usize::MAX {
            return;
        }
        if done == 0 {
            // SAFETY: a malloc parameter; glibc reads it when the heap grows next
            unsafe {
                sys::mallopt(sys::M_TOP_PAD, HEAP_STEP as i32);
            }
        }
        if HEAP_ADVISED.compare_exchange(done, top, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            let start = if done == 0 { top.saturating_sub(HEAP_STEP) } else { done };
            let start = start & !(HUGE_PAGE - 1);
            let end = top.next_multiple_of(4096);
            // SAFETY: advice on the heap's own pages changes none of their bytes
            unsafe {
                sys::madvise(start as *mut std::ffi::c_void, end - start, sys::MADV_HUGEPAGE);
            }
        }
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
        advise_heap();
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
        advise_heap();
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
