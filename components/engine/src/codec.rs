//! JSON encoding of stored documents, with decode failures as `Corrupt`.

use crate::error::EngineError;
use crate::ports::Store;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain data structs with string keys cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, EngineError> {
    serde_json::from_slice(bytes).map_err(|e| EngineError::Corrupt(format!("{key}: {e}")))
}

pub async fn load<S: Store, T: DeserializeOwned>(
    store: &S,
    key: &str,
) -> Result<Option<T>, EngineError> {
    match store.get(key).await? {
        Some(bytes) => decode(key, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Read-modify-write with compare-and-swap, retried on contention. `change`
/// returns `None` to leave the document as it is.
pub async fn update<S, T, R, F>(store: &S, key: &str, mut change: F) -> Result<R, EngineError>
where
    S: Store,
    T: Serialize + DeserializeOwned,
    F: FnMut(Option<T>) -> Result<(Option<T>, R), EngineError>,
{
    const ATTEMPTS: usize = 16;
    for _ in 0..ATTEMPTS {
        let current = store.get(key).await?;
        let value = match &current {
            Some(bytes) => Some(decode::<T>(key, bytes)?),
            None => None,
        };
        let (next, out) = change(value)?;
        let Some(next) = next else { return Ok(out) };
        let bytes = encode(&next);
        if current.as_deref() == Some(bytes.as_slice()) {
            return Ok(out);
        }
        if store
            .compare_and_swap(key, current.as_deref(), &bytes)
            .await?
        {
            return Ok(out);
        }
    }
    Err(EngineError::Store(crate::ports::StoreError::Backend(
        format!("{key}: too much contention"),
    )))
}
