//! The executable's memory allocator: size classes on a bump arena, in front of the system
//! allocator.
//!
//! A render allocates about 1.3–2.6 MB in 6,000–15,000 blocks (YAML trees, JSON values,
//! template values, strings), almost all of them under 1 KiB, of which at most 0.5–0.8 MB is
//! live at once, and exits. Under glibc's allocator a third of its instructions were `malloc`
//! and `free`; and every fresh page of memory costs the kernel a page fault and a page to clear
//! (docs/performance.md, "Render, fifth round"). So every block of up to [`MAX_CLASSED`] bytes
//! (aligned to at most 16) comes from the arena:
//!
//! - it is rounded up to its size class, and when freed goes on that class's free list for
//!   the next request of the class, so the pages touched follow the live memory, not the total
//!   allocated;
//! - each thread takes the arena [`CHUNK`] bytes at a time and hands them out, and keeps its
//!   free lists, on its own: threads share no cache line that both write;
//! - the block a thread allocated last is freed, or grown within its chunk, by moving its
//!   pointer;
//! - a chunk's pages are asked of the kernel when the chunk is taken (`MADV_POPULATE_WRITE`):
//!   one call instead of a page fault per 4 KiB page.
//!
//! Larger blocks (a post-render's read buffer, the output of a large stream) go to the system
//! allocator, which gives their memory back when they are freed; so does everything once the
//! arena is used up, or where it cannot be set up (`mmap` refused).
//!
//! Only the executable installs it (`src/main.rs`); the library, its tests and the fuzzers use
//! the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// A bump arena of `SIZE` bytes for blocks of a size class, mapped at the first allocation, in
/// front of [`System`].
pub struct Arena<const SIZE: usize> {
    /// Where the arena starts and ends: written once, read by every `dealloc`.
    bounds: Bounds,
    /// Where the next chunk starts: the only word threads write in common.
    next_chunk: Padded<AtomicUsize>,
}

#[repr(align(64))]
struct Bounds {
    state: AtomicU8,
    start: AtomicUsize,
    end: AtomicUsize,
    /// Whether the kernel takes `MADV_POPULATE_WRITE` (Linux 5.14 and later).
    populate_works: AtomicBool,
}

/// A value on a cache line of its own.
#[repr(align(64))]
struct Padded<T>(T);

const UNMAPPED: u8 = 0;
const MAPPING: u8 = 1;
const READY: u8 = 2;
const OFF: u8 = 3;

/// The arena of the executable: 1 GiB of address space, of which only the chunks taken are
/// memory.
pub type ExecutableArena = Arena<{ 1 << 30 }>;

/// What a thread takes of the arena at a time: whole pages, asked of the kernel when taken.
pub const CHUNK: usize = 64 << 10;

/// The largest block that has a size class (and so comes from the arena).
pub const MAX_CLASSED: usize = CHUNK;

/// The alignment of every block of a size class.
const CLASS_ALIGN: usize = 16;

/// Size classes: every multiple of 16 bytes up to 1 KiB, then every power of two up to
/// [`MAX_CLASSED`].
const CLASSES: usize = 64 + 6;

/// The class of a block of `layout`, if it has one.
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    if layout.align() > CLASS_ALIGN || size > MAX_CLASSED {
        None
    } else if size <= 1024 {
        Some(size.max(1).div_ceil(16) - 1)
    } else {
        // 1025..=2048 is class 64, ..., 32769..=65536 is class 69.
        Some(64 + (usize::BITS - (size - 1).leading_zeros()) as usize - 11)
    }
}

/// The bytes a block of class `class` spans.
fn class_size(class: usize) -> usize {
    if class < 64 {
        (class + 1) * 16
    } else {
        1 << (class - 64 + 11)
    }
}

/// A thread's part of an arena: its chunk and its free lists.
struct Local {
    /// The arena these belong to (its start); another arena used on this thread starts afresh.
    arena: Cell<usize>,
    /// The free part of this thread's chunk.
    next: Cell<usize>,
    limit: Cell<usize>,
    /// The first free block of each size class given back on this thread (0: none); each free
    /// block holds the address of the next one in its first word.
    free: [Cell<usize>; CLASSES],
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            arena: Cell::new(0),
            next: Cell::new(0),
            limit: Cell::new(0),
            free: [const { Cell::new(0) }; CLASSES],
        }
    };
}

impl<const SIZE: usize> Arena<SIZE> {
    pub const fn new() -> Self {
        Arena {
            bounds: Bounds {
                state: AtomicU8::new(UNMAPPED),
                start: AtomicUsize::new(0),
                end: AtomicUsize::new(0),
                populate_works: AtomicBool::new(true),
            },
            next_chunk: Padded(AtomicUsize::new(0)),
        }
    }

    /// The arena's start when it is in use; maps it on the first call. A thread that finds
    /// another one mapping it does not wait: it uses the system allocator meanwhile.
    fn ready(&self) -> Option<usize> {
        let bounds = &self.bounds;
        match bounds.state.load(Ordering::Acquire) {
            READY => Some(bounds.start.load(Ordering::Relaxed)),
            UNMAPPED => self.map_once(),
            _ => None,
        }
    }

    /// Maps the arena, once per process (see [`Self::ready`]).
    #[cold]
    #[inline(never)]
    fn map_once(&self) -> Option<usize> {
        let bounds = &self.bounds;
        if bounds
            .state
            .compare_exchange(UNMAPPED, MAPPING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        let start = map(SIZE);
        if let Some(start) = start {
            bounds.start.store(start, Ordering::Relaxed);
            bounds.end.store(start + SIZE, Ordering::Relaxed);
            self.next_chunk.0.store(start, Ordering::Relaxed);
        }
        bounds
            .state
            .store(if start.is_some() { READY } else { OFF }, Ordering::Release);
        start
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let at = ptr as usize;
        self.bounds.state.load(Ordering::Acquire) == READY
            && at >= self.bounds.start.load(Ordering::Relaxed)
            && at < self.bounds.end.load(Ordering::Relaxed)
    }

    /// This thread's part of the arena that starts at `start`.
    fn with_local<R>(start: usize, f: impl FnOnce(&Local) -> R) -> R {
        LOCAL.with(|local| {
            if local.arena.get() != start {
                Self::start_afresh(local, start);
            }
            f(local)
        })
    }

    /// Makes this thread's part belong to the arena at `start`: another arena's chunk and
    /// lists are left as they are (only tests have two arenas).
    #[cold]
    #[inline(never)]
    fn start_afresh(local: &Local, start: usize) {
        local.arena.set(start);
        local.next.set(0);
        local.limit.set(0);
        local.free.iter().for_each(|head| head.set(0));
    }

    /// A block of class `class`: the last one freed on this thread, or a fresh one from this
    /// thread's chunk, or from a new chunk; `None` when the arena has no room.
    fn take(&self, local: &Local, class: usize) -> Option<*mut u8> {
        let head = local.free[class].get();
        if head != 0 {
            // SAFETY: a free block on this thread's list; its first word holds the next one
            // (see `give_back`).
            local.free[class].set(unsafe { (head as *const usize).read() });
            return Some(head as *mut u8);
        }
        let size = class_size(class);
        // Every class size is a multiple of the alignment, and chunks start on a page.
        let at = local.next.get();
        if at + size <= local.limit.get() {
            local.next.set(at + size);
            return Some(at as *mut u8);
        }
        self.take_from_new_chunk(local, size)
    }

    /// The first block of `size` bytes of a new chunk for this thread: once per 64 KiB, so
    /// kept out of the path above (which then needs no registers saved).
    #[cold]
    #[inline(never)]
    fn take_from_new_chunk(&self, local: &Local, size: usize) -> Option<*mut u8> {
        let end = self.bounds.end.load(Ordering::Relaxed);
        let chunk = self
            .next_chunk
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |at| {
                at.checked_add(CHUNK).filter(|&next| next <= end)
            })
            .ok()?;
        self.populate(chunk, CHUNK);
        local.next.set(chunk + size);
        local.limit.set(chunk + CHUNK);
        Some(chunk as *mut u8)
    }

    /// Gives the block at `at` of class `class` back: to the pointer when it is the block this
    /// thread allocated last, else to the class's free list.
    fn give_back(local: &Local, at: usize, class: usize) {
        if local.next.get() == at + class_size(class) {
            local.next.set(at);
        } else {
            // SAFETY: a free block of the arena of at least `CLASS_ALIGN` bytes, aligned to it,
            // that nothing else uses any more: its first word is ours.
            unsafe { (at as *mut usize).write(local.free[class].get()) };
            local.free[class].set(at);
        }
    }

    /// Asks the kernel for the pages of a new chunk at once (see [`populate`]).
    fn populate(&self, at: usize, len: usize) {
        if self.bounds.populate_works.load(Ordering::Relaxed) && !populate(at, len) {
            self.bounds.populate_works.store(false, Ordering::Relaxed);
        }
    }

    /// Bytes of the arena taken by threads so far (for tests and measurements).
    pub fn used(&self) -> usize {
        if self.bounds.state.load(Ordering::Acquire) != READY {
            return 0;
        }
        self.next_chunk.0.load(Ordering::Relaxed) - self.bounds.start.load(Ordering::Relaxed)
    }
}

impl<const SIZE: usize> std::default::Default for Arena<SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block handed out is either a fresh range of a chunk, which one thread took for
// itself (the chunk counter only moves by a successful atomic update) and hands out disjointly
// (its bump pointer only moves past a block, and moves back only over the block that ends at
// it, which its owner gave up), or a block its owner gave up and that was on one thread's free
// list of its class, which it left when handed out (each block of a class spans the class's
// size and alignment, so it holds every request of that class), or a block of `System`. Only
// blocks of a class are in the arena (a block that outgrows its classes moves to `System`), and
// blocks go back to where they came from.
unsafe impl<const SIZE: usize> GlobalAlloc for Arena<SIZE> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(class) = class_of(layout)
            && let Some(start) = self.ready()
            && let Some(ptr) = Self::with_local(start, |local| self.take(local, class))
        {
            return ptr;
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.owns(ptr) {
            // SAFETY: a block of `System`, with its layout.
            return unsafe { System.dealloc(ptr, layout) };
        }
        // A block of the arena always has a class (`realloc` keeps it so); without one it
        // would stay used.
        if let Some(class) = class_of(layout) {
            let start = self.bounds.start.load(Ordering::Relaxed);
            Self::with_local(start, |local| Self::give_back(local, ptr as usize, class));
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.owns(ptr) {
            // SAFETY: a block of `System`, with its layout and the caller's new size.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let at = ptr as usize;
        // SAFETY: the old alignment, which was valid, and a size that GlobalAlloc's contract
        // keeps below isize::MAX when rounded up to it.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if let (Some(old), Some(new)) = (class_of(layout), class_of(new_layout)) {
            // Within the block's class, or smaller: nothing moves. A smaller class's free list
            // may later get this block, which is larger than that class needs.
            if new <= old {
                return ptr;
            }
            // The block this thread allocated last grows in place when its chunk has room.
            let start = self.bounds.start.load(Ordering::Relaxed);
            let grown = Self::with_local(start, |local| {
                let (old_end, new_end) = (at + class_size(old), at + class_size(new));
                let fits = local.next.get() == old_end && new_end <= local.limit.get();
                if fits {
                    local.next.set(new_end);
                }
                fits
            });
            if grown {
                return ptr;
            }
        }
        // SAFETY: a valid layout.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            let kept = layout.size().min(new_size);
            // SAFETY: both blocks are at least `kept` bytes long and do not overlap (the new
            // one is fresh or was free).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, kept) };
            // SAFETY: the old block, with its layout.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// `size` bytes of fresh anonymous memory, reserved but not committed.
#[cfg(target_os = "linux")]
fn map(size: usize) -> Option<usize> {
    // SAFETY: a new private anonymous mapping; no existing memory is touched.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    (base != libc::MAP_FAILED).then_some(base as usize)
}

#[cfg(not(target_os = "linux"))]
fn map(_size: usize) -> Option<usize> {
    None
}

/// Asks the kernel to back `len` bytes at `at` with pages now: one system call that clears
/// them all, where touching them one by one costs a page fault each. `false` where the kernel
/// does not know the request (it is only a hint: the pages come on first touch anyway).
#[cfg(target_os = "linux")]
fn populate(at: usize, len: usize) -> bool {
    /// `MADV_POPULATE_WRITE`, Linux 5.14 (the `libc` crate does not define it yet).
    const MADV_POPULATE_WRITE: libc::c_int = 23;
    // SAFETY: a range inside the arena's mapping, which is readable and writable.
    let rc = unsafe { libc::madvise(at as *mut libc::c_void, len, MADV_POPULATE_WRITE) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL)
}

#[cfg(not(target_os = "linux"))]
fn populate(_at: usize, _len: usize) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn every_size_has_the_smallest_class_that_holds_it() {
        let mut previous = 0;
        for size in 1..=MAX_CLASSED {
            let class = class_of(layout(size, 8)).expect("a classed size");
            assert!(class < CLASSES);
            let span = class_size(class);
            assert!(span >= size, "{size} -> class {class} of {span}");
            assert_eq!(span % CLASS_ALIGN, 0);
            if class > 0 {
                assert!(class_size(class - 1) < size, "{size} fits class {}", class - 1);
            }
            assert!(class >= previous);
            previous = class;
        }
        assert_eq!(previous, CLASSES - 1);
        assert_eq!(class_of(layout(MAX_CLASSED + 1, 8)), None);
        assert_eq!(class_of(layout(64, 32)), None, "stricter alignment than a class gives");
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_the_last_is_reused_and_grown_in_place() {
        let arena: Arena<{ 4 << 20 }> = Arena::new();
        // SAFETY (all blocks below): valid layouts; each block is freed once, with its layout.
        unsafe {
            let a = arena.alloc(layout(3, 1));
            assert!(arena.owns(a), "the arena maps on Linux");
            let b = arena.alloc(layout(16, 16));
            assert_eq!(b as usize % 16, 0);
            assert!(b as usize >= a as usize + 3);
            b.write_bytes(7, 16);
            // The last block grows in place and keeps its bytes.
            let b2 = arena.realloc(b, layout(16, 16), 4096);
            assert_eq!(b2, b);
            assert_eq!(*b2.add(15), 7);
            // Freeing the last block gives its space back.
            arena.dealloc(b2, layout(4096, 16));
            let b3 = arena.alloc(layout(32, 16));
            assert_eq!(b3, b);
            arena.dealloc(b3, layout(32, 16));
            // A block that is not the last moves when it grows, and keeps its bytes.
            let c = arena.alloc(layout(8, 8));
            let d = arena.alloc(layout(8, 8));
            c.write_bytes(9, 8);
            let c2 = arena.realloc(c, layout(8, 8), 64);
            assert_ne!(c2, c);
            assert_eq!(*c2.add(7), 9);
            assert!(c2 as usize >= d as usize + 8);
            // Growing within the block's size class does not move it.
            assert_eq!(arena.realloc(d, layout(8, 8), 16), d);
            arena.dealloc(c2, layout(64, 8));
            arena.dealloc(d, layout(16, 8));
            arena.dealloc(a, layout(3, 1));
        }
    }

    #[test]
    fn a_freed_block_serves_the_next_request_of_its_class() {
        let arena: Arena<{ 4 << 20 }> = Arena::new();
        // SAFETY: valid layouts; each block is freed once, with its layout.
        unsafe {
            let x = arena.alloc(layout(100, 8));
            let y = arena.alloc(layout(100, 8));
            let z = arena.alloc(layout(8, 8));
            // x and y are not last: they go to the free list of their class (112 bytes).
            arena.dealloc(x, layout(100, 8));
            arena.dealloc(y, layout(97, 8));
            // Last in, first out; a request of the same class takes them, another class not.
            assert_eq!(arena.alloc(layout(112, 16)), y);
            let other = arena.alloc(layout(200, 8));
            assert!(other as usize >= z as usize + 8, "a fresh block for another class");
            assert_eq!(arena.alloc(layout(105, 4)), x);
            // A block larger than every class, or aligned more strictly, is the system's.
            let big = arena.alloc(layout(MAX_CLASSED + 1, 8));
            let aligned = arena.alloc(layout(64, 64));
            assert!(!arena.owns(big) && !arena.owns(aligned));
            arena.dealloc(big, layout(MAX_CLASSED + 1, 8));
            arena.dealloc(aligned, layout(64, 64));
            for (ptr, size) in [(other, 200), (x, 105), (y, 112), (z, 8)] {
                arena.dealloc(ptr, layout(size, 8));
            }
        }
    }

    #[test]
    fn each_thread_takes_whole_chunks_whose_pages_are_there_at_once() {
        static ARENA: Arena<{ 4 << 20 }> = Arena::new();
        // SAFETY: valid layouts; the blocks are kept until the test ends.
        let first = unsafe { ARENA.alloc(layout(24, 8)) } as usize;
        assert_eq!(ARENA.used(), CHUNK, "one chunk for this thread");
        // SAFETY: as above.
        let other = std::thread::spawn(|| unsafe { ARENA.alloc(layout(24, 8)) } as usize)
            .join()
            .unwrap();
        assert_eq!(ARENA.used(), 2 * CHUNK, "another chunk for another thread");
        assert_eq!(other.abs_diff(first), CHUNK);
        // The chunk's pages were asked for when it was taken: all are in memory, untouched.
        // (`MADV_POPULATE_WRITE` needs Linux 5.14; the machines we test on have it.)
        assert!(ARENA.bounds.populate_works.load(Ordering::Relaxed));
        let page = 4096;
        let mut resident = vec![0u8; CHUNK / page];
        // SAFETY: the first chunk starts the (page-aligned) arena and holds `first`; the vector
        // has one byte per page of it.
        let rc = unsafe { libc::mincore((first & !(page - 1)) as *mut libc::c_void, CHUNK, resident.as_mut_ptr()) };
        assert_eq!(rc, 0);
        assert!(resident.iter().all(|page| page & 1 == 1), "{resident:?}");
    }

    #[test]
    fn a_full_arena_hands_over_to_the_system_allocator() {
        let arena: Arena<{ 1 << 20 }> = Arena::new();
        let chunks = (1 << 20) / CHUNK;
        // SAFETY: valid layouts; each block is freed once, with its layout.
        unsafe {
            // The largest class takes a whole chunk: these fill the arena.
            let blocks: Vec<_> = (0..chunks).map(|_| arena.alloc(layout(MAX_CLASSED, 8))).collect();
            assert!(blocks.iter().all(|&b| arena.owns(b)));
            let next = arena.alloc(layout(64, 8));
            assert!(!next.is_null());
            assert!(!arena.owns(next), "the arena is full");
            // A block that outgrows every class moves to the system allocator with its bytes.
            blocks[0].write_bytes(5, MAX_CLASSED);
            let moved = arena.realloc(blocks[0], layout(MAX_CLASSED, 8), 2 * MAX_CLASSED);
            assert!(!moved.is_null() && !arena.owns(moved));
            assert_eq!(*moved.add(MAX_CLASSED - 1), 5);
            arena.dealloc(moved, layout(2 * MAX_CLASSED, 8));
            for &block in &blocks[1..] {
                arena.dealloc(block, layout(MAX_CLASSED, 8));
            }
            arena.dealloc(next, layout(64, 8));
        }
    }

    #[test]
    fn two_threads_get_disjoint_blocks() {
        static ARENA: Arena<{ 4 << 20 }> = Arena::new();
        let take = || {
            let blocks = (0..4000)
                .map(|i| {
                    let size = 8 + i % 40;
                    // SAFETY: a valid layout.
                    (unsafe { ARENA.alloc(layout(size, 8)) } as usize, size)
                })
                .collect::<Vec<_>>();
            // Every other block goes back and is taken again, from this thread's free lists.
            for &(ptr, size) in blocks.iter().step_by(2) {
                // SAFETY: a block allocated above with this layout, freed once.
                unsafe { ARENA.dealloc(ptr as *mut u8, layout(size, 8)) };
            }
            let mut kept: Vec<_> = blocks.iter().skip(1).step_by(2).copied().collect();
            for &(_, size) in blocks.iter().step_by(2) {
                // SAFETY: a valid layout.
                kept.push((unsafe { ARENA.alloc(layout(size, 8)) } as usize, size));
            }
            kept
        };
        let other = std::thread::spawn(take);
        let mut blocks = take();
        blocks.extend(other.join().unwrap());
        blocks.sort();
        for pair in blocks.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "overlap: {pair:?}");
        }
    }

    /// One step of a run against the arena: allocate, grow or shrink, or free a live block.
    #[derive(Debug, Clone)]
    enum Step {
        Alloc { size: usize, align_shift: u32 },
        Realloc { pick: usize, size: usize },
        Free { pick: usize },
    }

    fn step() -> impl proptest::strategy::Strategy<Value = Step> {
        use proptest::prelude::*;
        // Mostly small blocks, as a render has them, with some past the largest class.
        let size = prop_oneof![
            6 => 1usize..=256,
            3 => 257usize..=4096,
            1 => 4097usize..=(MAX_CLASSED + 4096),
        ];
        prop_oneof![
            4 => (size.clone(), 0u32..=6).prop_map(|(size, align_shift)| Step::Alloc { size, align_shift }),
            2 => (any::<usize>(), size).prop_map(|(pick, size)| Step::Realloc { pick, size }),
            3 => any::<usize>().prop_map(|pick| Step::Free { pick }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the order of requests, every live block keeps its bytes (each is filled
        /// with its own byte and checked before it changes or goes), is aligned as asked, and
        /// overlaps no other live block.
        #[test]
        fn live_blocks_keep_their_bytes_and_never_overlap(steps in proptest::collection::vec(step(), 1..400)) {
            let arena: Arena<{ 8 << 20 }> = Arena::new();
            // (address, layout, fill byte)
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            let check = |&(ptr, layout, fill): &(*mut u8, Layout, u8)| {
                // SAFETY: a live block of `layout.size()` bytes, written below.
                let bytes = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
                bytes.iter().all(|&b| b == fill)
            };
            for (n, step) in steps.into_iter().enumerate() {
                let fill = (n % 251) as u8 + 1;
                match step {
                    Step::Alloc { size, align_shift } => {
                        let layout = layout(size, 1 << align_shift);
                        // SAFETY: a valid layout.
                        let ptr = unsafe { arena.alloc(layout) };
                        proptest::prop_assert!(!ptr.is_null());
                        proptest::prop_assert_eq!(ptr as usize % layout.align(), 0);
                        // SAFETY: a fresh block of `size` bytes.
                        unsafe { ptr.write_bytes(fill, size) };
                        live.push((ptr, layout, fill));
                    }
                    Step::Realloc { pick, size } if !live.is_empty() => {
                        let i = pick % live.len();
                        let (ptr, old, old_fill) = live[i];
                        proptest::prop_assert!(check(&live[i]), "block {i} changed before realloc");
                        // SAFETY: a live block with its layout; a non-zero size.
                        let new = unsafe { arena.realloc(ptr, old, size) };
                        proptest::prop_assert!(!new.is_null());
                        let kept = old.size().min(size);
                        // SAFETY: the moved or resized block holds at least `kept` bytes.
                        let prefix = unsafe { std::slice::from_raw_parts(new, kept) };
                        proptest::prop_assert!(prefix.iter().all(|&b| b == old_fill), "realloc lost bytes");
                        // SAFETY: the block now has `size` bytes.
                        unsafe { new.write_bytes(fill, size) };
                        live[i] = (new, layout(size, old.align()), fill);
                    }
                    Step::Free { pick } if !live.is_empty() => {
                        let block = live.swap_remove(pick % live.len());
                        proptest::prop_assert!(check(&block), "block changed before free");
                        // SAFETY: a live block with its layout, freed once.
                        unsafe { arena.dealloc(block.0, block.1) };
                    }
                    _ => {}
                }
                let mut spans: Vec<(usize, usize)> = live.iter().map(|&(p, l, _)| (p as usize, p as usize + l.size())).collect();
                spans.sort();
                for pair in spans.windows(2) {
                    proptest::prop_assert!(pair[0].1 <= pair[1].0, "overlap: {:?}", pair);
                }
            }
            for block in &live {
                proptest::prop_assert!(check(block), "block changed");
            }
            for (ptr, layout, _) in live {
                // SAFETY: each live block once, with its layout.
                unsafe { arena.dealloc(ptr, layout) };
            }
        }
    }
}
