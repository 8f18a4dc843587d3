//! The key-value store port: Spin's key-value semantics and nothing more.
//!
//! No transactions and no prefix scans: listing keys walks the whole store on
//! every platform, so it is deliberately not part of this port. No
//! compare-and-swap either: Fermyon Cloud and Akamai Functions offer no
//! `wasi:keyvalue/atomics`, Spin 4.0.2's Redis `swap` reports a failure even
//! when it wrote, and SQLite's is not atomic for a new key
//! (`docs/decisions/0002-no-compare-and-swap.md`). Every write the engine
//! makes is therefore idempotent and safe to interleave with any other.

/// Strictest key length among the platforms idp-sync targets (Fermyon Cloud).
pub const MAX_KEY_BYTES: usize = 250;
/// Largest value any supported platform accepts.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("key of {len} bytes exceeds the {max}-byte limit")]
    KeyTooLong { len: usize, max: usize },
    #[error("value of {len} bytes for key {key:?} exceeds the {max}-byte limit")]
    ValueTooLarge { key: String, len: usize, max: usize },
    /// The backend (SQLite, Redis, ...) failed; the message is the host's.
    #[error("key-value store failed: {0}")]
    Backend(String),
}

/// Refuses a key longer than [`MAX_KEY_BYTES`]; every `Store` checks this
/// before touching its backend, so all platforms fail alike.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError::KeyTooLong {
            len: key.len(),
            max: MAX_KEY_BYTES,
        });
    }
    Ok(())
}

/// Refuses a value larger than [`MAX_VALUE_BYTES`].
pub fn check_value(key: &str, value: &[u8]) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge {
            key: key.to_owned(),
            len: value.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

/// A key-value store with Spin's semantics: last writer wins per key, a
/// read may return a value that is a little stale (globally replicated
/// stores), and nothing is atomic across keys.
pub trait Store {
    /// The value of `key`, `None` when absent.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets `key` to `value` (at most [`MAX_VALUE_BYTES`]).
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key`; removing an absent key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}
