//! How a native process's allocator treats the memory it frees.

/// Has glibc's allocator keep what the process frees for its next
/// allocations instead of handing it back to the operating system: large
/// blocks (a page of Graph users, a shard document, a run's staging) are
/// taken from the heap rather than mapped and unmapped one by one (up to
/// 32 MiB, the ceiling glibc's own adaptive threshold stops at on 64-bit
/// systems, `mallopt(3)`), and the heap's top is not trimmed below
/// 256 MiB. It overrides `GLIBC_TUNABLES`' malloc settings, if any. Without this, every sync faults its buffers in afresh:
/// about 15 ms of a 10,000-user first sync's 110 ms here (decision 0009).
/// A Spin host already behaves so: a WebAssembly memory never shrinks.
///
/// Call it first in `main`, before any thread starts. A no-op outside
/// Linux with glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; it takes the
    // allocator's lock itself and is called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}
