//! Packed shard documents: a collection of records keyed by id, spread over
//! `count` documents by a stable hash of the id. The count grows with the
//! collection so every document stays well under the 1 MiB value limit,
//! and an unchanged document is never rewritten.
//!
//! Copy on write: a document's key names the run that wrote it
//! (`{kind}/{count}.{index}.{run}`), and the directory state of a run lists
//! which run wrote each document of its [`Layout`]. A run never writes a
//! key another run wrote, so a late invocation of an older run can never
//! change what a newer run's state points at; the keys a run stopped
//! using are garbage, deleted a run later.

use crate::codec::{decode, encode};
use crate::error::EngineError;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::Store;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
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

/// Where a collection's documents are: `count` shards, document `i`
/// written by run `gens[i]` (0: empty, no document).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Layout {
    pub count: u32,
    pub gens: Vec<u64>,
}

impl Layout {
    /// The key of document `index`, `None` when it is empty.
    pub fn key(&self, org: &OrgId, dir: &DirId, kind: Kind, index: u32) -> Option<String> {
        let gen_ = *self.gens.get(index as usize)?;
        (gen_ != 0).then(|| keys::shard(org, dir, kind.name(), self.count, index, gen_))
    }

    /// Every document key of the layout.
    pub fn keys(&self, org: &OrgId, dir: &DirId, kind: Kind) -> Vec<String> {
        (0..self.count)
            .filter_map(|i| self.key(org, dir, kind, i))
            .collect()
    }
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
    layout: &Layout,
) -> Result<BTreeMap<String, T>, EngineError> {
    let mut items = BTreeMap::new();
    for i in 0..layout.count {
        items.extend(load_shard::<S, T>(store, org, dir, kind, layout, i).await?);
    }
    Ok(items)
}

/// Reads one shard document (empty when the layout has none there). A
/// document the layout names but the store lacks was deleted as garbage of
/// a newer run: the caller read an outdated state.
pub(crate) async fn load_shard<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    layout: &Layout,
    index: u32,
) -> Result<BTreeMap<String, T>, EngineError> {
    let Some(key) = layout.key(org, dir, kind, index) else {
        return Ok(BTreeMap::new());
    };
    match store.get(&key).await? {
        Some(bytes) => decode(&key, &bytes),
        None => Err(EngineError::Superseded(key)),
    }
}

/// Reads the records of `layout` that fall in `slice` (only the documents
/// that may hold them).
pub(crate) async fn load_slice<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    layout: &Layout,
    slice: &Slice,
) -> Result<BTreeMap<String, T>, EngineError> {
    let mut records = BTreeMap::new();
    for i in slice.documents(layout.count) {
        let shard: BTreeMap<String, T> = load_shard(store, org, dir, kind, layout, i).await?;
        records.extend(shard.into_iter().filter(|(id, _)| slice.keeps(id)));
    }
    Ok(records)
}

/// Reads the record of one id.
pub(crate) async fn load_one<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    layout: &Layout,
    id: &str,
) -> Result<Option<T>, EngineError> {
    let index = shard_of(id, layout.count);
    let mut shard = load_shard(store, org, dir, kind, layout, index).await?;
    Ok(shard.remove(id))
}

/// Reads the records of `ids` (those present), each shard document they
/// fall in once, one document at a time: only the records asked for stay
/// in memory.
pub(crate) async fn load_many<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    layout: &Layout,
    ids: &[&str],
) -> Result<BTreeMap<String, T>, EngineError> {
    let mut by_shard: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for id in ids {
        by_shard
            .entry(shard_of(id, layout.count))
            .or_default()
            .push(id);
    }
    let mut found = BTreeMap::new();
    for (index, wanted) in by_shard {
        let mut shard: BTreeMap<String, T> =
            load_shard(store, org, dir, kind, layout, index).await?;
        for id in wanted {
            if let Some(record) = shard.remove(id) {
                found.insert(id.to_owned(), record);
            }
        }
    }
    Ok(found)
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

/// What a rewrite produced: the new layout, and the keys of the old one it
/// no longer uses (garbage, to delete once no reader needs the old state).
#[derive(Debug, Default)]
pub(crate) struct Rewritten {
    pub layout: Layout,
    pub garbage: Vec<String>,
}

/// Writes `entries` as run `run`'s content of the collection, one document
/// at a time. A document whose bytes equal the old layout's is not written
/// (the new layout keeps pointing at it), nor an empty one.
pub(crate) async fn save_all<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    old: &Layout,
    run: u64,
    entries: Entries,
) -> Result<Rewritten, EngineError> {
    let count = entries.shard_count(old.count)?;
    let mut target = Target::new(kind, old, count, run);
    target
        .save_documents(store, org, dir, 0..count, entries)
        .await?;
    Ok(target.finish(org, dir))
}

/// A rewrite in progress: `count` documents by run `run`, replacing `old`.
struct Target<'o> {
    kind: Kind,
    old: &'o Layout,
    run: u64,
    layout: Layout,
    garbage: Vec<String>,
}

impl<'o> Target<'o> {
    fn new(kind: Kind, old: &'o Layout, count: u32, run: u64) -> Self {
        Target {
            kind,
            old,
            run,
            layout: Layout {
                count,
                gens: vec![0; count as usize],
            },
            garbage: Vec::new(),
        }
    }

    /// Writes documents `range`, holding exactly `entries`.
    async fn save_documents<S: Store>(
        &mut self,
        store: &S,
        org: &OrgId,
        dir: &DirId,
        range: Range<u32>,
        entries: Entries,
    ) -> Result<(), EngineError> {
        let count = self.layout.count;
        let same_count = count == self.old.count;
        let split = entries.split(count);
        for i in range {
            let doc = document(&split[i as usize]);
            let old_key = same_count
                .then(|| self.old.key(org, dir, self.kind, i))
                .flatten();
            let previous = match &old_key {
                Some(key) => store.get(key).await?,
                None => None,
            };
            if previous.as_deref() == Some(doc.as_slice()) {
                self.layout.gens[i as usize] = self.old.gens[i as usize];
                continue;
            }
            if let Some(key) = old_key {
                self.garbage.push(key);
            }
            if doc.as_slice() != b"{}" {
                let key = keys::shard(org, dir, self.kind.name(), count, i, self.run);
                store.set(&key, &doc).await?;
                self.layout.gens[i as usize] = self.run;
            }
        }
        Ok(())
    }

    fn finish(mut self, org: &OrgId, dir: &DirId) -> Rewritten {
        if self.layout.count != self.old.count {
            self.garbage = self.old.keys(org, dir, self.kind);
        }
        Rewritten {
            layout: self.layout,
            garbage: self.garbage,
        }
    }
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
/// `pass_bytes` at a time. `written` sees every record once.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn rewrite<S: Store, P: Producer>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    old: &Layout,
    run: u64,
    passes: Passes,
    producer: &mut P,
    mut written: impl FnMut(&P::Record),
) -> Result<Rewritten, EngineError> {
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
        return save_all(store, org, dir, kind, old, run, encode_entries(items)).await;
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
    let count = choose_count(&sizes, old.count)?;
    let docs = document_sizes(&sizes, count);
    drop(sizes);
    let mut target = Target::new(kind, old, count, run);
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
        target
            .save_documents(store, org, dir, start..end, encode_entries(items))
            .await?;
        start = end;
    }
    Ok(target.finish(org, dir))
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
