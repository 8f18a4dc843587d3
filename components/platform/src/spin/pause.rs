//! [`graph::Pause`] over the WASI 0.3 monotonic clock.

use std::time::Duration;

use spin_sdk::wasip3::clocks::monotonic_clock;

/// Monotonic time since this value was created, and async sleeps that
/// yield to the host instead of blocking the instance.
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

    async fn sleep(&self, d: Duration) {
        spin_sdk::time::sleep(d).await;
    }
}
