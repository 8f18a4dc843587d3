//! Clock implementations: the system clock and a manual one for tests and
//! simulations.

use crate::ports::{Clock, TimeDelta, Timestamp, from_epoch_millis};
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock time from the host (`std::time::SystemTime`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
        Timestamp::from_timestamp(secs, since_epoch.subsec_nanos()).unwrap_or_default()
    }
}

/// A clock that only moves when told to (millisecond steps).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.timestamp_millis()))
    }
    /// Sets the time to `now`.
    pub fn set(&self, now: Timestamp) {
        self.0.store(now.timestamp_millis(), Ordering::SeqCst);
    }
    /// Moves the time on by `by`.
    pub fn advance(&self, by: TimeDelta) {
        self.0.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        from_epoch_millis(self.0.load(Ordering::SeqCst))
    }
}
