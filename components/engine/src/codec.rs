//! JSON encoding of stored documents, with decode failures as `Corrupt`.

use crate::error::EngineError;
use crate::ports::{Store, Timestamp};
use chrono::SecondsFormat;
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use std::cell::RefCell;

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

/// Serializes an instant exactly as chrono's `Serialize` does (RFC 3339,
/// `Z`, as many fraction digits as needed), formatting it once per
/// distinct instant in a row: a run stamps every account it creates with
/// the same instant, and chrono's formatting costs about 2,900
/// instructions a time (callgrind, the benchmark's 10,000-user first
/// sync). For `#[serde(serialize_with = "...")]`.
pub(crate) fn instant<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    thread_local! {
        static LAST: RefCell<Option<(Timestamp, String)>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        let text = match last {
            Some((cached, text)) if cached == at => text,
            _ => {
                let text = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                &last.insert((*at, text)).1
            }
        };
        serializer.serialize_str(text)
    })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
    use super::*;

    #[derive(Serialize)]
    struct Stamped {
        #[serde(serialize_with = "instant")]
        at: Timestamp,
    }

    #[test]
    fn an_instant_is_written_as_chrono_writes_it_whether_formatted_or_remembered() {
        let instants = [
            Timestamp::UNIX_EPOCH,
            Timestamp::from_timestamp(1_795_000_000, 0).unwrap(),
            Timestamp::from_timestamp_millis(1_795_000_000_123).unwrap(),
            Timestamp::from_timestamp(1_795_000_000, 123_456_789).unwrap(),
        ];
        // Each twice in a row (the second from memory), then in another order.
        for at in instants
            .iter()
            .chain(instants.iter().rev())
            .flat_map(|t| [t, t])
        {
            let ours = encode(&Stamped { at: *at });
            let chrono = serde_json::to_vec(&serde_json::json!({ "at": at })).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(chrono).unwrap()
            );
        }
    }
}
