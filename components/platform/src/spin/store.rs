//! [`Store`] over Spin's key-value store (`fermyon:spin/key-value@2.0.0`,
//! which every Spin host provides: Spin 3.x/4.x, SpinKube, Fermyon Cloud,
//! Akamai Functions). No `wasi:keyvalue/atomics`: Fermyon Cloud and Akamai
//! Functions do not offer it, and Spin 4.0.2's Redis swap is broken.

use engine::ports::store::{check_key, check_value};
use engine::ports::{Store, StoreError};
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
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the host refuses (e.g. the store is not
    /// granted to the component).
    pub async fn open_default() -> Result<SpinStore, StoreError> {
        let kv = key_value::Store::open(LABEL).map_err(backend)?;
        Ok(SpinStore { kv })
    }
}

fn backend(e: key_value::Error) -> StoreError {
    StoreError::Backend(format!("{e:?}"))
}

impl Store for SpinStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        self.kv.get(key).map_err(backend)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        check_key(key)?;
        check_value(key, value)?;
        self.kv.set(key, value).map_err(backend)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.kv.delete(key).map_err(backend)
    }
}
