//! The engine's heap, told apart from the simulator's: a global allocator
//! that counts (through `engine::heap_meter`) only on metered threads, the
//! one that drives the engine and the Graph client. The simulator serves
//! from its own threads in the same process, and its page buffers are not
//! the engine's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use engine::heap_meter::CountingAlloc;

thread_local! {
    /// Whether this thread's allocations count (no destructor, const
    /// initialised: safe to read from inside the allocator).
    static METERED: Cell<bool> = const { Cell::new(false) };
}

/// Counts the metered threads' heap, forwards the others' to the system
/// allocator untouched.
pub struct MeteredThreads;

// SAFETY: every call goes to the system allocator, directly or through
// `CountingAlloc` (which only updates counters around it). For the counts,
// memory is not handed between metered and unmetered threads: the engine
// and the simulator share nothing but a loopback socket, and what crosses
// to and from the Graph transport's threads is copied (`drive.rs`).
unsafe impl GlobalAlloc for MeteredThreads {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if METERED.get() {
            unsafe { CountingAlloc.alloc(layout) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if METERED.get() {
            unsafe { CountingAlloc.dealloc(ptr, layout) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}

/// Counts this thread's allocations from now on.
pub fn meter_this_thread() {
    METERED.set(true);
}

/// Runs `f` without counting its allocations (building a tenant, which the
/// simulator then owns).
pub fn unmetered<T>(f: impl FnOnce() -> T) -> T {
    let before = METERED.replace(false);
    let out = f();
    METERED.set(before);
    out
}
