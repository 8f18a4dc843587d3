//! The bench's key-value store: the engine's counting in-memory store, with
//! what it holds kept out of the engine's heap figure. On a platform the
//! store is another process (Redis, SQLite, the host's key-value service),
//! so the documents a run writes, staging and scratch included, are not
//! the engine's memory: everything the store allocates and frees while it
//! writes or deletes is left unmetered. What `get` returns is the engine's
//! own copy and stays metered.

use std::ops::Deref;

use engine::memory_store::MemoryStore;
use engine::ports::{Store, StoreError};
use futures::FutureExt;

use crate::alloc::unmetered;

/// A [`MemoryStore`] whose contents the heap meter does not see.
#[derive(Default)]
pub struct OffHeapStore(MemoryStore);

impl OffHeapStore {
    /// Resets the store's counters (the keys it lists are its own memory).
    pub fn reset_stats(&self) {
        unmetered(|| self.0.reset_stats());
    }
}

impl Drop for OffHeapStore {
    /// Frees the store's contents off the meter too (a scenario's store is
    /// dropped on the metered thread that drove it).
    fn drop(&mut self) {
        let contents = std::mem::take(&mut self.0);
        unmetered(|| drop(contents));
    }
}

impl Deref for OffHeapStore {
    type Target = MemoryStore;
    fn deref(&self) -> &MemoryStore {
        &self.0
    }
}

/// Runs a store operation of the in-memory store (always ready at once)
/// without metering what it allocates and frees.
fn off_heap<T>(
    op: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    unmetered(|| op.now_or_never()).unwrap_or_else(|| {
        Err(StoreError::Backend(
            "the in-memory store was not ready".into(),
        ))
    })
}

impl Store for OffHeapStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        off_heap(self.0.set(key, value))
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        off_heap(self.0.delete(key))
    }
}
