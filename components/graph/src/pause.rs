//! The time port: a monotonic clock, the wall clock and a sleep.

use std::time::Duration;

use engine::ports::Timestamp;

/// Monotonic time and waiting, so `Retry-After` and retry backoff work the
/// same natively (threads) and in Spin (`wasi:clocks/monotonic-clock`).
pub trait Pause {
    /// Monotonic milliseconds from an arbitrary origin; only differences matter.
    fn now_ms(&self) -> u64;
    /// The wall-clock time, from which a `Retry-After` HTTP-date is waited.
    fn wall_now(&self) -> Timestamp;
    /// Wait for `d`.
    async fn sleep(&self, d: Duration);
}
