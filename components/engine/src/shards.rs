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
use std::ops::Range;

/// Aim for documents of about this size when choosing a shard count.
pub(crate) const TARGET_BYTES: usize = 448 * 1024;
/// The current count is kept while every document stays under this.
const KEEP_BYTES: usize = 700 * 1024;
/// No document may exceed this (the platform limit is 1 MiB).
pub(crate) const MAX_BYTES: usize = 900 * 1024;

/// FNV-1a, 64 bits: stable across processes and platforms (unlike std's
/// randomly seeded hasher).
pub(crate) fn fnv1a(s: &str) -> u64 {
    crate::hash::fnv1a(s.as_bytes())
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

/// Reads a whole collection (for small ones: groups).
pub(crate) async fn load_all<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    count: u32,
) -> Result<BTreeMap<String, T>, EngineError> {
    let mut items = BTreeMap::new();
    for i in 0..count {
        items.extend(load_shard::<S, T>(store, org, dir, kind, count, i).await?);
    }
    Ok(items)
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

/// Records encoded once each (`"id":{...}`, with the hash of the id), in id
/// order; consuming a map drops each record as soon as it is encoded.
pub(crate) struct Entries(Vec<(u64, Vec<u8>)>);

pub(crate) fn encode_entries<K: AsRef<str>, T: Serialize>(
    items: impl IntoIterator<Item = (K, T)>,
) -> Entries {
    Entries(
        items
            .into_iter()
            .map(|(id, item)| {
                let id = id.as_ref();
                let mut entry = encode(&id);
                entry.push(b':');
                entry.extend_from_slice(&encode(&item));
                (fnv1a(id), entry)
            })
            .collect(),
    )
}

impl Entries {
    /// The entries of each of `count` documents.
    fn split(&self, count: u32) -> Vec<Vec<&[u8]>> {
        let mut shards: Vec<Vec<&[u8]>> = (0..count).map(|_| Vec::new()).collect();
        for (hash, entry) in &self.0 {
            shards[(hash % u64::from(count)) as usize].push(entry);
        }
        shards
    }

    /// The hash and encoded length of each entry.
    fn sizes(&self) -> Vec<(u64, usize)> {
        self.0.iter().map(|(h, e)| (*h, e.len())).collect()
    }

    fn shard_count(&self, current: u32) -> Result<u32, EngineError> {
        choose_count(&self.sizes(), current)
    }
}

/// The size of each of `count` documents holding entries of these sizes.
fn document_sizes(sizes: &[(u64, usize)], count: u32) -> Vec<usize> {
    let mut docs = vec![2; count as usize];
    for (hash, len) in sizes {
        docs[(hash % u64::from(count)) as usize] += len + 1;
    }
    docs
}

/// Chooses the shard count for entries of these sizes: the current one
/// while every document stays under `KEEP_BYTES` and the collection has not
/// shrunk to a quarter of the target, else one sized for the content,
/// doubled until every document fits.
fn choose_count(sizes: &[(u64, usize)], current: u32) -> Result<u32, EngineError> {
    if current > 0 {
        let s = document_sizes(sizes, current);
        let total: usize = s.iter().sum();
        if s.iter().all(|d| *d <= KEEP_BYTES) && total >= (current as usize - 1) * TARGET_BYTES / 4
        {
            return Ok(current);
        }
    }
    let total: usize = sizes.iter().map(|(_, len)| len + 1).sum();
    let mut count = total.div_ceil(TARGET_BYTES).max(1) as u32;
    while document_sizes(sizes, count).iter().any(|d| *d > MAX_BYTES) {
        if count >= 1 << 16 {
            return Err(EngineError::Corrupt(format!(
                "a record does not fit in a {MAX_BYTES}-byte document"
            )));
        }
        count *= 2;
    }
    Ok(count)
}

/// One shard document: a JSON object in id order (the same bytes
/// `serde_json` gives for a `BTreeMap`).
fn document(entries: &[&[u8]]) -> Vec<u8> {
    let mut doc = Vec::with_capacity(2 + entries.iter().map(|e| e.len() + 1).sum::<usize>());
    doc.push(b'{');
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            doc.push(b',');
        }
        doc.extend_from_slice(entry);
    }
    doc.push(b'}');
    doc
}

/// Writes `entries` as the new content of the collection, one document at
/// a time; returns the shard count used (the caller records it in the
/// directory state). A document whose bytes are unchanged is not written,
/// nor an empty one that does not exist.
pub(crate) async fn save_all<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    old_count: u32,
    entries: Entries,
) -> Result<u32, EngineError> {
    let count = entries.shard_count(old_count)?;
    let layout = Layout {
        kind,
        old_count,
        count,
    };
    save_documents(store, org, dir, &layout, 0..count, entries).await?;
    Ok(count)
}

/// Where a rewrite goes: `count` documents, replacing `old_count` ones.
struct Layout {
    kind: Kind,
    old_count: u32,
    count: u32,
}

/// Writes documents `range` of the layout, holding exactly `entries`.
async fn save_documents<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    layout: &Layout,
    range: Range<u32>,
    entries: Entries,
) -> Result<(), EngineError> {
    let Layout {
        kind,
        old_count,
        count,
    } = *layout;
    let split = entries.split(count);
    for i in range {
        let doc = document(&split[i as usize]);
        let key = keys::shard(org, dir, kind.name(), count, i);
        let previous = if count == old_count {
            store.get(&key).await?
        } else {
            None
        };
        let unchanged = previous.as_deref() == Some(doc.as_slice());
        let empty_and_absent = previous.is_none() && doc.as_slice() == b"{}";
        if !unchanged && !empty_and_absent {
            store.set(&key, &doc).await?;
        }
    }
    Ok(())
}

/// Sizing a large collection reads it in at most this many slices (past
/// 64 × `pass_bytes`, slices grow rather than the reads).
const MAX_SIZING_SLICES: usize = 64;

/// The records one pass covers: the ids whose shard, out of `modulus`,
/// falls in `shards`.
pub(crate) struct Slice {
    modulus: u32,
    shards: Range<u32>,
}

impl Slice {
    pub fn keeps(&self, id: &str) -> bool {
        self.shards.contains(&shard_of(id, self.modulus))
    }

    /// The documents of a `count`-shard layout that may hold its ids.
    pub fn documents(&self, count: u32) -> Range<u32> {
        if count == self.modulus {
            self.shards.clone()
        } else {
            0..count
        }
    }
}

/// Builds the new records of a collection, one slice at a time (the same
/// records whenever it is asked for the same slice).
pub(crate) trait Producer {
    type Record: Serialize;
    async fn produce(
        &mut self,
        slice: &Slice,
    ) -> Result<BTreeMap<String, Self::Record>, EngineError>;
}

/// How much of a collection to hold in memory at once.
pub(crate) struct Passes {
    /// The collection's expected size in encoded bytes (an upper bound).
    pub estimate: usize,
    /// Bytes per pass.
    pub pass_bytes: usize,
}

/// Rewrites a collection with the records of `producer`, like `save_all`,
/// but a slice at a time when the estimate exceeds a pass: first the size
/// of every record (to choose the shard count), then the documents, about
/// `pass_bytes` at a time. `written` sees every record once. Returns the
/// shard count.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn rewrite<S: Store, P: Producer>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    old_count: u32,
    passes: Passes,
    producer: &mut P,
    mut written: impl FnMut(&P::Record),
) -> Result<u32, EngineError> {
    let Passes {
        estimate,
        pass_bytes,
    } = passes;
    if estimate <= pass_bytes {
        let items = producer
            .produce(&Slice {
                modulus: 1,
                shards: 0..1,
            })
            .await?;
        items.values().for_each(&mut written);
        return save_all(store, org, dir, kind, old_count, encode_entries(items)).await;
    }
    let slices = estimate.div_ceil(pass_bytes.max(1)).min(MAX_SIZING_SLICES) as u32;
    let mut sizes = Vec::new();
    for s in 0..slices {
        let slice = Slice {
            modulus: slices,
            shards: s..s + 1,
        };
        sizes.extend(encode_entries(producer.produce(&slice).await?).sizes());
    }
    let count = choose_count(&sizes, old_count)?;
    let docs = document_sizes(&sizes, count);
    drop(sizes);
    let layout = Layout {
        kind,
        old_count,
        count,
    };
    let mut start = 0;
    while start < count {
        let mut end = start + 1;
        let mut bytes = docs[start as usize];
        while end < count && bytes + docs[end as usize] <= pass_bytes {
            bytes += docs[end as usize];
            end += 1;
        }
        let slice = Slice {
            modulus: count,
            shards: start..end,
        };
        let items = producer.produce(&slice).await?;
        items.values().for_each(&mut written);
        save_documents(store, org, dir, &layout, start..end, encode_entries(items)).await?;
        start = end;
    }
    Ok(count)
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
        let entries = encode_entries(&items);
        let count = 3;
        let mut back = BTreeMap::new();
        for (i, shard) in entries.split(count).iter().enumerate() {
            let doc = document(shard);
            let parsed: BTreeMap<String, u32> = serde_json::from_slice(&doc).unwrap();
            assert!(parsed.keys().all(|k| shard_of(k, count) == i as u32));
            assert_eq!(doc, encode(&parsed));
            back.extend(parsed);
        }
        assert_eq!(back, items);
    }

    #[test]
    fn the_count_grows_until_every_document_fits() {
        let items: BTreeMap<String, String> = (0..3000)
            .map(|i| (format!("id{i}"), "x".repeat(1000)))
            .collect();
        let entries = encode_entries(&items);
        let count = entries.shard_count(1).unwrap();
        assert!(count >= 7, "{count}");
        assert!(
            entries
                .split(count)
                .iter()
                .all(|d| document(d).len() <= MAX_BYTES)
        );
        assert_eq!(
            entries.shard_count(count).unwrap(),
            count,
            "a fitting count is kept"
        );
    }
}
