//! [`graph::Pause`] over `wasi:clocks/monotonic-clock@0.2.0`.

use std::time::Duration;

use wasi::clocks::monotonic_clock;

use super::wait::ready;

/// Monotonic time since this value was created, and sleeps that park the
/// task on a clock pollable (`subscribe-instant`) instead of spinning.
#[derive(Debug, Clone, Copy)]
pub struct SpinPause {
    origin_ns: u64,
}

impl Default for SpinPause {
    fn default() -> Self {
        SpinPause {
            origin_ns: monotonic_clock::now(),
        }
    }
}

impl graph::Pause for SpinPause {
    fn now_ms(&self) -> u64 {
        monotonic_clock::now().saturating_sub(self.origin_ns) / 1_000_000
    }

    fn wall_now(&self) -> engine::ports::Timestamp {
        use engine::ports::Clock;
        engine::SystemClock.now()
    }

    async fn sleep(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let deadline = monotonic_clock::now().saturating_add(ns);
        while monotonic_clock::now() < deadline {
            ready(monotonic_clock::subscribe_instant(deadline)).await;
        }
    }
}
