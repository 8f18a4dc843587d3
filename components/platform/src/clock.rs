//! The wall clock ([`engine::ports::Clock`]) from the system time; works
//! natively and in Spin (`wasi:clocks/wall-clock`).

use std::time::{SystemTime, UNIX_EPOCH};

use engine::ports::{Clock, Timestamp};

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            // A clock set before 1970 is treated as the epoch.
            .unwrap_or(0)
    }
}
