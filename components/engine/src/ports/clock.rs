//! Wall-clock time, injected so tests and the scheduler rule are deterministic.

/// Milliseconds since the Unix epoch (UTC).
pub type Timestamp = u64;

pub trait Clock {
    fn now(&self) -> Timestamp;
}
