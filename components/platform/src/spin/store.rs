//! [`Store`] over Spin's key-value store, with compare-and-swap through
//! `wasi:keyvalue/atomics` (the draft the Spin host implements).

use engine::ports::store::{check_key, check_value};
use engine::ports::{Store, StoreError};
use spin_sdk::experimental::wasi::keyvalue::{atomics, store as wasi_store};
use spin_sdk::key_value;

/// The label of the only store every platform offers.
const LABEL: &str = "default";

/// The app's `default` key-value store (SQLite under `spin up`, Redis or a
/// cloud database through runtime config). Limits are checked here, before
/// the host is called, so every platform fails the same way.
pub struct SpinStore {
    kv: key_value::Store,
}

impl SpinStore {
    /// Opens the `default` store (listed in the component's `key_value_stores`).
    pub async fn open_default() -> Result<SpinStore, StoreError> {
        let kv = key_value::Store::open(LABEL).await.map_err(backend)?;
        Ok(SpinStore { kv })
    }
}

fn backend(e: impl std::fmt::Debug) -> StoreError {
    StoreError::Backend(format!("{e:?}"))
}

impl Store for SpinStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        self.kv.get(key).await.map_err(backend)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_key(key)?;
        check_value(key, value)?;
        self.kv.set(key, value).await.map_err(backend)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.kv.delete(key).await.map_err(backend)
    }

    /// Reads the current value through a CAS handle and swaps only when it
    /// equals `expected`. Backends differ in how strong the swap is: Redis
    /// (WATCH/MULTI) and updates of an existing key in SQLite are atomic;
    /// Spin 4.0's SQLite store creates an absent key with an upsert, so two
    /// racing creations of the same key may both succeed there.
    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        check_key(key)?;
        check_value(key, new)?;
        let bucket = wasi_store::open(LABEL).map_err(backend)?;
        let cas = atomics::Cas::new(&bucket, key).map_err(backend)?;
        if cas.current().map_err(backend)?.as_deref() != expected {
            return Ok(false);
        }
        match atomics::swap(cas, new) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(e)) => Err(backend(e)),
        }
    }
}
