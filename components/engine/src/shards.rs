//! Packed shard documents: a collection of records keyed by id, spread over
//! `count` documents by a stable hash of the id. The count grows with the
//! collection so every document stays well under the 1 MiB value limit,
//! and an unchanged document is never rewritten.

use crate::codec::{decode, encode};
use crate::error::EngineError;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::Store;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Aim for documents of about this size when choosing a shard count.
const TARGET_BYTES: usize = 448 * 1024;
/// The current count is kept while every document stays under this.
const KEEP_BYTES: usize = 700 * 1024;
/// No document may exceed this (the platform limit is 1 MiB).
pub(crate) const MAX_BYTES: usize = 900 * 1024;

/// FNV-1a, 64 bits: stable across processes and platforms (unlike std's
/// randomly seeded hasher).
pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn shard_of(id: &str, count: u32) -> u32 {
    (fnv1a(id) % u64::from(count.max(1))) as u32
}

/// Which collection: part of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Users,
    Groups,
    Members,
    Outbox,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::Members => "members",
            Kind::Outbox => "outbox",
        }
    }
}

/// A collection as read from the store, with the raw bytes of each shard so
/// a save can skip unchanged ones.
pub(crate) struct Loaded<T> {
    pub count: u32,
    pub items: BTreeMap<String, T>,
    raw: Vec<Option<Vec<u8>>>,
}

pub(crate) async fn load_all<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    count: u32,
) -> Result<Loaded<T>, EngineError> {
    let mut items = BTreeMap::new();
    let mut raw = Vec::with_capacity(count as usize);
    for i in 0..count {
        let key = keys::shard(org, dir, kind.name(), count, i);
        let bytes = store.get(&key).await?;
        if let Some(bytes) = &bytes {
            let shard: BTreeMap<String, T> = decode(&key, bytes)?;
            items.extend(shard);
        }
        raw.push(bytes);
    }
    Ok(Loaded { count, items, raw })
}

/// Reads one shard document (empty when absent).
pub(crate) async fn load_shard<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    count: u32,
    index: u32,
) -> Result<BTreeMap<String, T>, EngineError> {
    if count == 0 {
        return Ok(BTreeMap::new());
    }
    let key = keys::shard(org, dir, kind.name(), count, index);
    match store.get(&key).await? {
        Some(bytes) => decode(&key, &bytes),
        None => Ok(BTreeMap::new()),
    }
}

/// Reads the record of one id.
pub(crate) async fn load_one<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    count: u32,
    id: &str,
) -> Result<Option<T>, EngineError> {
    let mut shard = load_shard(store, org, dir, kind, count, shard_of(id, count)).await?;
    Ok(shard.remove(id))
}

/// Each record encoded once (`"id":{...}`), reused for every layout tried.
fn encode_entries<T: Serialize>(items: &BTreeMap<String, T>) -> Vec<(u64, Vec<u8>)> {
    items
        .iter()
        .map(|(id, item)| {
            let mut entry = encode(id);
            entry.push(b':');
            entry.extend_from_slice(&encode(item));
            (fnv1a(id), entry)
        })
        .collect()
}

/// The shard documents for `count` shards: JSON objects in id order (the
/// same bytes `serde_json` gives for a `BTreeMap`).
fn encode_shards(entries: &[(u64, Vec<u8>)], count: u32) -> Vec<Vec<u8>> {
    let mut shards: Vec<Vec<u8>> = (0..count).map(|_| vec![b'{']).collect();
    for (hash, entry) in entries {
        let doc = &mut shards[(hash % u64::from(count)) as usize];
        if doc.len() > 1 {
            doc.push(b',');
        }
        doc.extend_from_slice(entry);
    }
    for doc in &mut shards {
        doc.push(b'}');
    }
    shards
}

/// Writes `items` as the new content of the collection; returns the shard
/// count used (the caller records it in the directory state). Keeps the old
/// count while it fits, and never writes a document whose bytes are
/// unchanged (or an empty one that does not exist).
pub(crate) async fn save_all<S: Store, T: Serialize>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    old: &Loaded<T>,
    items: &BTreeMap<String, T>,
) -> Result<u32, EngineError> {
    let (count, docs) = layout(items, old.count)?;
    for (i, doc) in docs.iter().enumerate() {
        let previous = if count == old.count {
            old.raw.get(i).and_then(Option::as_ref)
        } else {
            None
        };
        let unchanged = previous.is_some_and(|p| p == doc);
        let empty_and_absent = previous.is_none() && doc.as_slice() == b"{}";
        if !unchanged && !empty_and_absent {
            store
                .set(&keys::shard(org, dir, kind.name(), count, i as u32), doc)
                .await?;
        }
    }
    Ok(count)
}

/// Chooses the shard count: the current one while every document fits and
/// the collection has not shrunk to a quarter of the target, else one sized
/// for the content, doubled until every document fits.
fn layout<T: Serialize>(
    items: &BTreeMap<String, T>,
    current: u32,
) -> Result<(u32, Vec<Vec<u8>>), EngineError> {
    let fits = |docs: &[Vec<u8>]| docs.iter().all(|d| d.len() <= MAX_BYTES);
    let entries = encode_entries(items);
    if current > 0 {
        let docs = encode_shards(&entries, current);
        let total: usize = docs.iter().map(Vec::len).sum();
        if docs.iter().all(|d| d.len() <= KEEP_BYTES)
            && total >= (current as usize - 1) * TARGET_BYTES / 4
        {
            return Ok((current, docs));
        }
    }
    let total: usize = entries.iter().map(|(_, e)| e.len() + 1).sum();
    let mut count = total.div_ceil(TARGET_BYTES).max(1) as u32;
    loop {
        let docs = encode_shards(&entries, count);
        if fits(&docs) {
            return Ok((count, docs));
        }
        if count >= 1 << 16 {
            return Err(EngineError::Corrupt(format!(
                "a record does not fit in a {MAX_BYTES}-byte document"
            )));
        }
        count *= 2;
    }
}

/// Deletes every document of a collection laid out with `count` shards.
pub(crate) async fn delete_all<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: &str,
    count: u32,
) -> Result<(), EngineError> {
    for i in 0..count {
        store.delete(&keys::shard(org, dir, kind, count, i)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        // Fixed values: a change would silently move every record.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn shard_documents_are_plain_json_maps() {
        let items: BTreeMap<String, u32> = (0..100).map(|i| (format!("id\"{i}"), i)).collect();
        let (count, docs) = layout(&items, 3).unwrap();
        let mut back = BTreeMap::new();
        for (i, doc) in docs.iter().enumerate() {
            let shard: BTreeMap<String, u32> = serde_json::from_slice(doc).unwrap();
            assert!(shard.keys().all(|k| shard_of(k, count) == i as u32));
            assert_eq!(doc, &encode(&shard));
            back.extend(shard);
        }
        assert_eq!(back, items);
    }

    #[test]
    fn layout_grows_until_every_shard_fits() {
        let items: BTreeMap<String, String> = (0..3000)
            .map(|i| (format!("id{i}"), "x".repeat(1000)))
            .collect();
        let (count, docs) = layout(&items, 1).unwrap();
        assert!(count >= 7, "{count}");
        assert!(docs.iter().all(|d| d.len() <= MAX_BYTES));
    }
}
