//! Cache hints: ask the processor to start loading memory that a loop is
//! about to touch, so that the misses of a batch overlap instead of
//! following one another. A hint reads nothing and changes nothing; on
//! targets without one (wasm32) it compiles to nothing.

/// Whether this target has a prefetch hint. Where it has none, callers
/// skip the lookups they would make only to compute what to prefetch (a
/// load made for nothing costs, where a hint would not).
pub const ENABLED: bool = cfg!(target_arch = "x86_64");

/// Start loading the cache line that holds the start of `x`.
#[inline(always)]
pub fn prefetch<T>(x: &T) {
    prefetch_ptr((x as *const T).cast());
}

/// Start loading every cache line `x` spans (one or two for the small
/// structs this is meant for).
#[inline(always)]
pub fn prefetch_all<T>(x: &T) {
    let p: *const u8 = (x as *const T).cast();
    prefetch_ptr(p);
    // the last byte's line, which is the next one when `x` straddles two
    prefetch_ptr(p.wrapping_add(std::mem::size_of::<T>().saturating_sub(1)));
}

/// Start loading every cache line of `x`, however many (a node's whole
/// state, when a message to it is about to be delivered).
#[inline(always)]
pub fn prefetch_lines<T>(x: &T) {
    let p: *const u8 = (x as *const T).cast();
    let size = std::mem::size_of::<T>();
    let mut at = 0;
    while at < size {
        prefetch_ptr(p.wrapping_add(at));
        at += 64;
    }
    // the last byte's line, when `x` does not start on a line
    prefetch_ptr(p.wrapping_add(size.saturating_sub(1)));
}

/// Start loading the cache lines of `s`, at most `max_lines` of them from
/// its start (a small heap block read at a random place).
#[inline(always)]
pub fn prefetch_slice<T>(s: &[T], max_lines: usize) {
    let p: *const u8 = s.as_ptr().cast();
    let size = std::mem::size_of_val(s).min(max_lines * 64);
    let mut at = 0;
    while at < size {
        prefetch_ptr(p.wrapping_add(at));
        at += 64;
    }
    // the last byte's line, when `s` does not start on a line
    if size > 0 {
        prefetch_ptr(p.wrapping_add(size - 1));
    }
}

#[inline(always)]
fn prefetch_ptr(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint to the cache: it never faults and
    // reads nothing into the program, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
