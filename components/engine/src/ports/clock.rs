//! Wall-clock time, injected so tests and the scheduler rule are deterministic.

/// A moment in UTC. Serialized as an RFC 3339 string with a `Z` suffix
/// (`"2026-11-29T23:41:57Z"`, fractional seconds only when there are any),
/// as Microsoft Graph writes its times.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A span between two [`Timestamp`]s (`TimeDelta::hours(4)`, ...).
pub use chrono::TimeDelta;

/// Where the engine reads the time.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The moment `ms` milliseconds after the Unix epoch (the epoch itself if
/// `ms` is out of chrono's range).
pub fn from_epoch_millis(ms: i64) -> Timestamp {
    Timestamp::from_timestamp_millis(ms).unwrap_or_default()
}
