//! The executable's memory allocator: a bump arena on transparent huge pages in front of the
//! system allocator.
//!
//! A render allocates about 1.5–3 MB in 7,000–16,000 blocks (YAML trees, JSON values, template
//! values, strings) and exits. Under glibc's allocator a third of its instructions were
//! `malloc` and `free`, and every fresh 4 KiB page of heap cost a page fault (about 2.5 µs on
//! the machines we measure on; docs/performance.md, "Render, third round"). The arena hands out
//! memory by moving a pointer, frees only the block allocated last (so a temporary reuses its
//! space), grows the block allocated last in place, and lives on 2 MiB pages that cost one
//! fault each. Once its 4 MiB are used up, or where it cannot be set up (no transparent huge
//! pages, `mmap` refused), every request goes to the system allocator, so long runs
//! (post-render of a large stream, lint of many files) keep glibc's reuse of freed memory and
//! their bounded footprint.
//!
//! Only the executable installs it (`src/main.rs`); the library, its tests and the fuzzers use
//! the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// A bump arena of `SIZE` bytes, mapped at the first allocation, in front of [`System`].
pub struct Arena<const SIZE: usize> {
    state: AtomicU8,
    start: AtomicUsize,
    next: AtomicUsize,
    end: AtomicUsize,
}

const UNMAPPED: u8 = 0;
const MAPPING: u8 = 1;
const READY: u8 = 2;
const OFF: u8 = 3;

/// The arena of the executable: 4 MiB, two huge pages.
pub type ExecutableArena = Arena<{ 4 << 20 }>;

impl<const SIZE: usize> Arena<SIZE> {
    pub const fn new() -> Self {
        Arena {
            state: AtomicU8::new(UNMAPPED),
            start: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
        }
    }

    /// Whether the arena is in use; maps it on the first call. A thread that finds another one
    /// mapping it does not wait: it uses the system allocator meanwhile.
    fn ready(&self) -> bool {
        match self.state.load(Ordering::Acquire) {
            READY => true,
            UNMAPPED => {
                if self
                    .state
                    .compare_exchange(UNMAPPED, MAPPING, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    return self.state.load(Ordering::Acquire) == READY;
                }
                let state = match map_huge(SIZE) {
                    Some(start) => {
                        self.start.store(start, Ordering::Relaxed);
                        self.next.store(start, Ordering::Relaxed);
                        self.end.store(start + SIZE, Ordering::Relaxed);
                        READY
                    }
                    None => OFF,
                };
                self.state.store(state, Ordering::Release);
                state == READY
            }
            _ => false,
        }
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let at = ptr as usize;
        self.state.load(Ordering::Acquire) == READY
            && at >= self.start.load(Ordering::Relaxed)
            && at < self.end.load(Ordering::Relaxed)
    }

    /// `size` bytes aligned to `align` from the arena, or `None` when it has no room.
    fn bump(&self, size: usize, align: usize) -> Option<*mut u8> {
        let end = self.end.load(Ordering::Relaxed);
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let at = current.checked_add(align - 1)? & !(align - 1);
            let new_next = at.checked_add(size).filter(|&n| n <= end)?;
            match self
                .next
                .compare_exchange_weak(current, new_next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(at as *mut u8),
                Err(actual) => current = actual,
            }
        }
    }

    /// Bytes of the arena handed out so far (for tests and measurements).
    pub fn used(&self) -> usize {
        if self.state.load(Ordering::Acquire) != READY {
            return 0;
        }
        self.next.load(Ordering::Relaxed) - self.start.load(Ordering::Relaxed)
    }
}

impl<const SIZE: usize> std::default::Default for Arena<SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block handed out is either a fresh range of the arena, disjoint from all others
// (the bump pointer only moves past a block by a successful compare-exchange, and moves back
// only over the block that ends at it, which its owner gave up), or a block of `System`; blocks
// go back to where they came from.
unsafe impl<const SIZE: usize> GlobalAlloc for Arena<SIZE> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.ready()
            && let Some(ptr) = self.bump(layout.size(), layout.align())
        {
            return ptr;
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.owns(ptr) {
            // The block allocated last gives its space back; any other stays used.
            let end = ptr as usize + layout.size();
            let _ = self
                .next
                .compare_exchange(end, ptr as usize, Ordering::Relaxed, Ordering::Relaxed);
            return;
        }
        // SAFETY: a block of `System`, with its layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.owns(ptr) {
            // SAFETY: a block of `System`, with its layout and the caller's new size.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let at = ptr as usize;
        // The block allocated last grows or shrinks in place.
        if let Some(new_end) = at.checked_add(new_size)
            && new_end <= self.end.load(Ordering::Relaxed)
            && self
                .next
                .compare_exchange(at + layout.size(), new_end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: `new_size` is non-zero (larger than the old size) and the alignment is the
        // old layout's, which was valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a valid layout.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are at least `layout.size()` long and do not overlap (the new
            // one is fresh).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
            // SAFETY: the old block, with its layout.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// `size` bytes of fresh anonymous memory aligned to 2 MiB and advised onto transparent huge
/// pages; `None` where the kernel would give 4 KiB pages (transparent huge pages set to
/// `never`, or none at all), as the arena would then touch more pages than the system allocator.
#[cfg(target_os = "linux")]
fn map_huge(size: usize) -> Option<usize> {
    const HUGE: usize = 2 << 20;
    if !huge_pages_available() {
        return None;
    }
    let length = size + HUGE;
    // SAFETY: a new private anonymous mapping; no existing memory is touched.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            length,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return None;
    }
    let start = (base as usize + HUGE - 1) & !(HUGE - 1);
    // SAFETY: a range inside the mapping just made.
    if unsafe { libc::madvise(start as *mut libc::c_void, size, libc::MADV_HUGEPAGE) } != 0 {
        // SAFETY: the whole mapping just made, unused.
        unsafe { libc::munmap(base, length) };
        return None;
    }
    Some(start)
}

#[cfg(not(target_os = "linux"))]
fn map_huge(_size: usize) -> Option<usize> {
    None
}

/// Whether `/sys/kernel/mm/transparent_hugepage/enabled` selects `always` or `madvise`, read
/// without allocating (this runs inside the allocator).
#[cfg(target_os = "linux")]
fn huge_pages_available() -> bool {
    let path = c"/sys/kernel/mm/transparent_hugepage/enabled";
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return false;
    }
    let mut buf = [0u8; 64];
    // SAFETY: reads at most `buf.len()` bytes into `buf`.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    // SAFETY: the descriptor opened above.
    unsafe { libc::close(fd) };
    let Ok(n) = usize::try_from(n) else {
        return false;
    };
    let text = &buf[..n];
    text.windows(8).any(|w| w == b"[always]") || text.windows(9).any(|w| w == b"[madvise]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_the_last_is_reused_and_grown_in_place() {
        let arena: Arena<{ 4 << 20 }> = Arena::new();
        // SAFETY (all blocks below): valid layouts; each block is freed once, with its layout.
        unsafe {
            let a = arena.alloc(layout(3, 1));
            #[cfg(target_os = "linux")]
            assert_eq!(
                arena.owns(a),
                huge_pages_available(),
                "the arena is used where huge pages are"
            );
            if !arena.owns(a) {
                // No transparent huge pages here: everything is the system allocator's.
                assert_eq!(arena.used(), 0);
                System.dealloc(a, layout(3, 1));
                return;
            }
            let b = arena.alloc(layout(16, 16));
            assert_eq!(b as usize % 16, 0);
            assert!(b as usize >= a as usize + 3);
            b.write_bytes(7, 16);
            // The last block grows in place and keeps its bytes.
            let b2 = arena.realloc(b, layout(16, 16), 4096);
            assert_eq!(b2, b);
            assert_eq!(*b2.add(15), 7);
            let used = arena.used();
            // Freeing the last block gives its space back.
            arena.dealloc(b2, layout(4096, 16));
            assert!(arena.used() < used);
            // A block that is not the last moves when it grows, and keeps its bytes.
            let c = arena.alloc(layout(8, 8));
            let d = arena.alloc(layout(8, 8));
            c.write_bytes(9, 8);
            let c2 = arena.realloc(c, layout(8, 8), 64);
            assert_ne!(c2, c);
            assert_eq!(*c2.add(7), 9);
            assert!(c2 as usize >= d as usize + 8);
            arena.dealloc(c2, layout(64, 8));
            arena.dealloc(d, layout(8, 8));
            arena.dealloc(a, layout(3, 1));
        }
    }

    #[test]
    fn a_full_arena_hands_over_to_the_system_allocator() {
        let arena: Arena<{ 1 << 20 }> = Arena::new();
        // SAFETY: valid layouts; each block is freed once, with its layout.
        unsafe {
            let big = arena.alloc(layout(1 << 20, 8));
            let next = arena.alloc(layout(64, 8));
            assert!(!next.is_null());
            if arena.owns(big) {
                assert!(!arena.owns(next), "the arena is full");
                // Growing the arena's block past its end moves it to the system allocator.
                let moved = arena.realloc(big, layout(1 << 20, 8), 2 << 20);
                assert!(!moved.is_null() && !arena.owns(moved));
                arena.dealloc(moved, layout(2 << 20, 8));
            } else {
                arena.dealloc(big, layout(1 << 20, 8));
            }
            arena.dealloc(next, layout(64, 8));
        }
    }

    #[test]
    fn two_threads_get_disjoint_blocks() {
        static ARENA: Arena<{ 4 << 20 }> = Arena::new();
        let take = || {
            (0..2000)
                .map(|i| {
                    // SAFETY: a valid layout; the blocks are kept until the test ends.
                    let ptr = unsafe { ARENA.alloc(layout(8 + i % 40, 8)) };
                    (ptr as usize, 8 + i % 40)
                })
                .collect::<Vec<_>>()
        };
        let other = std::thread::spawn(take);
        let mut blocks = take();
        blocks.extend(other.join().unwrap());
        blocks.sort();
        for pair in blocks.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlap: {pair:?}");
        }
    }
}
