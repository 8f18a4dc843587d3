//! Invocation tokens: a number that tells one invocation's writes from
//! another's (lease holders, racing starts). The engine has no random
//! source (it must stay deterministic under test), so a token mixes the
//! clock with a per-process counter. Two invocations in two processes in
//! the same millisecond may draw the same token; they then both believe
//! they hold a lease, which costs duplicate work and nothing else (every
//! step is idempotent).

use crate::ports::Timestamp;
use std::sync::atomic::{AtomicU64, Ordering};

static DRAWN: AtomicU64 = AtomicU64::new(0);

/// A fresh token (never 0, so 0 can mean "none" in stored documents).
pub(crate) fn fresh(now: Timestamp) -> u64 {
    let n = DRAWN.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&now.timestamp_millis().to_le_bytes());
    bytes[8..].copy_from_slice(&n.to_le_bytes());
    crate::hash::fnv1a(&bytes).max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_drawn_in_the_same_millisecond_differ() {
        let now = crate::ports::from_epoch_millis(1_000);
        let a = super::fresh(now);
        let b = super::fresh(now);
        assert_ne!(a, b);
        assert_ne!(a, 0);
    }
}
