//! JSON encoding of stored documents, with decode failures as `Corrupt`.

use crate::error::EngineError;
use crate::ports::Store;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(128);
    encode_into(&mut bytes, value);
    bytes
}

/// Appends `value`'s JSON to `bytes` (no intermediate buffer).
pub fn encode_into<T: Serialize>(bytes: &mut Vec<u8>, value: &T) {
    // Serializing plain data structs with string keys cannot fail.
    let _ = serde_json::to_writer(bytes, value);
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

/// Read-modify-write without compare-and-swap: reads `key`, applies
/// `change`, writes, and reads the key back. When the read-back shows
/// another writer's value (it wrote between our read and our read-back),
/// `change` is applied again on top of it, so both changes survive; a few
/// rounds at most. `change` returns `None` to leave the document as it is.
///
/// What this cannot see: a writer that read before our write and writes
/// after our read-back replaces our change (a window of one request's
/// read-to-write time). Documents updated here are small admin records
/// (settings, the org record, the directory index, the run history) whose
/// writers are people or once-per-run steps, never two sync workers; see
/// `docs/decisions/0002-no-compare-and-swap.md`.
pub async fn update<S, T, R, F>(store: &S, key: &str, mut change: F) -> Result<R, EngineError>
where
    S: Store,
    T: Serialize + DeserializeOwned,
    F: FnMut(Option<T>) -> Result<(Option<T>, R), EngineError>,
{
    const ROUNDS: usize = 4;
    let mut current = store.get(key).await?;
    let mut out = None;
    for _ in 0..ROUNDS {
        let value = match &current {
            Some(bytes) => Some(decode::<T>(key, bytes)?),
            None => None,
        };
        let (next, result) = change(value)?;
        let Some(next) = next else { return Ok(result) };
        let bytes = encode(&next);
        out = Some(result);
        if current.as_deref() == Some(bytes.as_slice()) {
            break;
        }
        store.set(key, &bytes).await?;
        current = store.get(key).await?;
        if current.as_deref() == Some(bytes.as_slice()) {
            break;
        }
    }
    out.ok_or_else(|| EngineError::Corrupt(format!("{key}: no change applied")))
}
