//! An in-memory `Store` that enforces the strictest platform limits, counts
//! its traffic, and can be told to fail a given write (crash simulation).
//! Used by the engine's tests, the API's native tests and the native dev
//! server.

use crate::ports::store::{check_key, check_value};
use crate::ports::{Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Traffic counters. Deletes count as writes (they cost a write on every
/// platform); a failed write is not counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    pub reads: u64,
    pub writes: u64,
    pub deletes: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// Largest value ever written.
    pub max_value_bytes: usize,
    /// Most keys held at once.
    pub peak_keys: usize,
}

#[derive(Default)]
struct Inner {
    data: BTreeMap<String, Vec<u8>>,
    stats: StoreStats,
    /// Fail the write whose 0-based index (counted over successful and failed
    /// writes since `fail_write_at` was called) equals this.
    fail_at: Option<u64>,
    writes_seen: u64,
    /// Keys written (set, delete) since the last `reset_stats`.
    written: Vec<String>,
    /// Keys read since the last `reset_stats`.
    read: Vec<String>,
}

#[derive(Default)]
pub struct MemoryStore(Mutex<Inner>);

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> StoreStats {
        self.inner().stats
    }

    pub fn reset_stats(&self) {
        let mut inner = self.inner();
        inner.stats = StoreStats {
            peak_keys: inner.data.len(),
            ..StoreStats::default()
        };
        inner.written.clear();
        inner.read.clear();
    }

    /// The keys written since the last `reset_stats`, in order.
    pub fn written_keys(&self) -> Vec<String> {
        self.inner().written.clone()
    }

    /// The keys read since the last `reset_stats`, in order (a key read
    /// twice is listed twice).
    pub fn read_keys(&self) -> Vec<String> {
        self.inner().read.clone()
    }

    /// Makes the `n`-th write from now (0-based; sets and deletes) fail with `StoreError::Backend`. Later writes succeed.
    pub fn fail_write_at(&self, n: u64) {
        let mut inner = self.inner();
        inner.fail_at = Some(n);
        inner.writes_seen = 0;
    }

    pub fn key_count(&self) -> usize {
        self.inner().data.len()
    }

    /// Every key and its value size, for reports and tests (not part of the
    /// `Store` port: real stores cannot list cheaply).
    pub fn dump_sizes(&self) -> Vec<(String, usize)> {
        self.inner()
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }

    /// A copy of all data, for comparing two stores in tests.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.inner().data.clone()
    }
}

impl Inner {
    fn begin_write(&mut self) -> Result<(), StoreError> {
        let index = self.writes_seen;
        self.writes_seen += 1;
        if self.fail_at == Some(index) {
            self.fail_at = None;
            return Err(StoreError::Backend(format!(
                "injected failure at write {index}"
            )));
        }
        Ok(())
    }

    fn put(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_value(key, value)?;
        self.begin_write()?;
        self.stats.writes += 1;
        self.stats.bytes_written += value.len() as u64;
        self.stats.max_value_bytes = self.stats.max_value_bytes.max(value.len());
        self.data.insert(key.to_owned(), value.to_vec());
        self.stats.peak_keys = self.stats.peak_keys.max(self.data.len());
        self.written.push(key.to_owned());
        Ok(())
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        let mut inner = self.inner();
        inner.stats.reads += 1;
        inner.read.push(key.to_owned());
        let value = inner.data.get(key).cloned();
        inner.stats.bytes_read += value.as_ref().map_or(0, |v| v.len() as u64);
        Ok(value)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_key(key)?;
        self.inner().put(key, value)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        let mut inner = self.inner();
        inner.begin_write()?;
        inner.stats.deletes += 1;
        inner.stats.writes += 1;
        inner.data.remove(key);
        inner.written.push(key.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::store::{MAX_KEY_BYTES, MAX_VALUE_BYTES};
    use futures::executor::block_on;

    #[test]
    fn limits_counters_and_injected_failures() {
        let store = MemoryStore::new();
        block_on(async {
            let long = "k".repeat(MAX_KEY_BYTES + 1);
            assert!(matches!(
                store.set(&long, b"v").await,
                Err(StoreError::KeyTooLong { .. })
            ));
            let big = vec![0u8; MAX_VALUE_BYTES + 1];
            assert!(matches!(
                store.set("k", &big).await,
                Err(StoreError::ValueTooLarge { .. })
            ));
            store.set("k", b"1").await.unwrap();
            store.set("k", b"2").await.unwrap();
            store.fail_write_at(1);
            store.set("a", b"x").await.unwrap();
            assert!(matches!(
                store.set("b", b"x").await,
                Err(StoreError::Backend(_))
            ));
            store.set("b", b"y").await.unwrap();
            assert_eq!(store.get("b").await.unwrap(), Some(b"y".to_vec()));
        });
        let stats = store.stats();
        assert_eq!(
            (stats.writes, stats.max_value_bytes, stats.peak_keys),
            (4, 1, 3)
        );
        assert_eq!(store.written_keys(), ["k", "k", "a", "b"]);
    }
}
