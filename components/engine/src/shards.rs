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

use crate::codec::{decode, encode_into};
use crate::error::EngineError;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::Store;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Aim for documents of about this size when choosing a shard count.
pub(crate) const TARGET_BYTES: usize = 448 * 1024;
/// The current count is kept while every document stays under this.
const KEEP_BYTES: usize = 700 * 1024;
/// No document may exceed this (the platform limit is 1 MiB).
pub(crate) const MAX_BYTES: usize = 900 * 1024;

/// Bytes first reserved for one encoded entry: a user record is a few
/// hundred (about 400 in the benchmark's tenants), so its buffer rarely
/// grows.
const ENTRY_CAPACITY: usize = 512;

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

/// The documents of a `count`-shard layout that may hold users of bucket
/// `bucket` of `buckets`: every `buckets`-th when the count is a multiple
/// of `buckets`, else all of them.
pub(crate) fn bucket_documents(count: u32, bucket: u32, buckets: u32) -> Vec<u32> {
    if buckets > 1 && count.is_multiple_of(buckets) {
        (bucket..count).step_by(buckets as usize).collect()
    } else {
        (0..count).collect()
    }
}

/// Reads the records of `layout` whose ids `keeps` selects, from the
/// documents of bucket `bucket` of `buckets` only.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn load_bucket<S: Store, T: DeserializeOwned>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    kind: Kind,
    layout: &Layout,
    (bucket, buckets): (u32, u32),
    keeps: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, T>, EngineError> {
    let mut records = BTreeMap::new();
    for i in bucket_documents(layout.count, bucket, buckets) {
        let shard: BTreeMap<String, T> = load_shard(store, org, dir, kind, layout, i).await?;
        records.extend(shard.into_iter().filter(|(id, _)| keeps(id)));
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
    encode_entries_with(items, |entry, item| encode_into(entry, item))
}

/// [`encode_entries`] with the items written by `encode` (which must
/// write what `codec::encode_into` would).
pub(crate) fn encode_entries_with<K: AsRef<str>, T>(
    items: impl IntoIterator<Item = (K, T)>,
    mut encode: impl FnMut(&mut Vec<u8>, &T),
) -> Entries {
    Entries(
        items
            .into_iter()
            .map(|(id, item)| {
                let id = id.as_ref();
                let mut entry = Vec::with_capacity(ENTRY_CAPACITY);
                encode_into(&mut entry, &id);
                entry.push(b':');
                encode(&mut entry, &item);
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
    pub fn sizes(&self) -> Vec<(u64, usize)> {
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

/// Whether a collection in `current` documents of these sizes keeps its
/// count: every document stays under `KEEP_BYTES` and the collection has
/// not shrunk to a quarter of the target.
fn keeps_count(docs: &[usize], current: u32) -> bool {
    let total: usize = docs.iter().sum();
    current > 0
        && docs.iter().all(|d| *d <= KEEP_BYTES)
        && total >= (current as usize - 1) * TARGET_BYTES / 4
}

/// Chooses the shard count for entries of these sizes: the current one
/// while [`keeps_count`], else one sized for the content, doubled until
/// every document fits.
fn choose_count(sizes: &[(u64, usize)], current: u32) -> Result<u32, EngineError> {
    if current > 0 && keeps_count(&document_sizes(sizes, current), current) {
        return Ok(current);
    }
    let total: usize = sizes.iter().map(|(_, len)| len + 1).sum();
    let mut count = total.div_ceil(TARGET_BYTES).max(1) as u32;
    while document_sizes(sizes, count).iter().any(|d| *d > MAX_BYTES) {
        if count >= 1 << 16 {
            return Err(too_large());
        }
        count *= 2;
    }
    Ok(count)
}

fn too_large() -> EngineError {
    EngineError::Corrupt(format!(
        "a record does not fit in a {MAX_BYTES}-byte document"
    ))
}

/// Bins of encoded bytes by `fnv1a(id) % SIZE_BINS`, from which the size
/// of every document of a power-of-two count up to this is known.
pub(crate) const SIZE_BINS: usize = 4096;

/// The size of each of `count` documents (a power of two dividing the bins)
/// holding records of these binned sizes.
fn binned_document_sizes(bins: &[u64], count: u32) -> Vec<usize> {
    let mut docs = vec![2; count as usize];
    for (j, bytes) in bins.iter().enumerate() {
        docs[j % count as usize] += *bytes as usize;
    }
    docs
}

/// Chooses the shard count of a collection written bucket by bucket: a
/// power of two, a multiple of `buckets`, from the records' binned sizes
/// (each entry's length plus one, by `fnv1a(id) % SIZE_BINS`), by the
/// rules of [`choose_count`].
pub(crate) fn choose_bucketed_count(
    bins: &[u64],
    current: u32,
    buckets: u32,
) -> Result<u32, EngineError> {
    let fits_bins = |c: u32| c.is_power_of_two() && bins.len().is_multiple_of(c as usize);
    if current >= buckets
        && fits_bins(current)
        && keeps_count(&binned_document_sizes(bins, current), current)
    {
        return Ok(current);
    }
    let total: u64 = bins.iter().sum();
    let needed = (total as usize)
        .div_ceil(TARGET_BYTES)
        .max(buckets as usize) as u32;
    let mut count = needed.next_power_of_two();
    while fits_bins(count)
        && binned_document_sizes(bins, count)
            .iter()
            .any(|d| *d > MAX_BYTES)
    {
        count *= 2;
    }
    if !fits_bins(count) {
        return Err(too_large());
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

/// A collection rewritten (or being rewritten) by a run: its layout
/// (documents not written yet have generation 0), and the keys of the old
/// layout it no longer uses (garbage, to delete once no reader needs the
/// old state). Finalize's progress keeps one while it writes a collection
/// bucket by bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rewritten {
    pub layout: Layout,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub garbage: Vec<String>,
}

impl Rewritten {
    /// A rewrite into `count` documents, none written yet.
    pub fn start(count: u32) -> Self {
        Rewritten {
            layout: Layout {
                count,
                gens: vec![0; count as usize],
            },
            garbage: Vec::new(),
        }
    }

    /// The collection left as it was.
    pub fn unchanged(old: &Layout) -> Self {
        Rewritten {
            layout: old.clone(),
            garbage: Vec::new(),
        }
    }
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
    Target::new(kind, old, run, (org, dir))
        .save_all(store, entries)
        .await
}

/// Where a rewrite writes: collection `kind` of a directory by run `run`,
/// replacing the `old` layout.
pub(crate) struct Target<'t> {
    pub kind: Kind,
    pub old: &'t Layout,
    pub run: u64,
    pub org: &'t OrgId,
    pub dir: &'t DirId,
}

impl<'t> Target<'t> {
    /// Collection `kind` of directory `dir` of `org`, written by run `run`
    /// over the `old` layout.
    pub fn new(kind: Kind, old: &'t Layout, run: u64, (org, dir): (&'t OrgId, &'t DirId)) -> Self {
        Target {
            kind,
            old,
            run,
            org,
            dir,
        }
    }

    /// Writes the whole collection: `entries`, in a count chosen for them.
    pub async fn save_all<S: Store>(
        &self,
        store: &S,
        entries: Entries,
    ) -> Result<Rewritten, EngineError> {
        let count = entries.shard_count(self.old.count)?;
        let mut into = Rewritten::start(count);
        self.save_documents(store, &mut into, 0..count, entries)
            .await?;
        self.finish(&mut into);
        Ok(into)
    }

    /// Writes documents `indices` of the rewrite `into`, holding exactly
    /// `entries` (which hold no record of any other document).
    pub async fn save_documents<S: Store>(
        &self,
        store: &S,
        into: &mut Rewritten,
        indices: impl IntoIterator<Item = u32>,
        entries: Entries,
    ) -> Result<(), EngineError> {
        let count = into.layout.count;
        let split = entries.split(count);
        for i in indices {
            let doc = document(&split[i as usize]);
            if doc.len() > MAX_BYTES {
                return Err(too_large());
            }
            self.save_document(store, into, i, doc).await?;
        }
        Ok(())
    }

    /// Writes document `i` (unless the old layout holds the same bytes).
    async fn save_document<S: Store>(
        &self,
        store: &S,
        into: &mut Rewritten,
        i: u32,
        doc: Vec<u8>,
    ) -> Result<(), EngineError> {
        let (org, dir, kind) = (self.org, self.dir, self.kind);
        let same_count = into.layout.count == self.old.count;
        let old_key = same_count
            .then(|| self.old.key(org, dir, kind, i))
            .flatten();
        let previous = match &old_key {
            Some(key) => store.get(key).await?,
            None => None,
        };
        if previous.as_deref() == Some(doc.as_slice()) {
            into.layout.gens[i as usize] = self.old.gens[i as usize];
            return Ok(());
        }
        into.garbage.extend(old_key);
        let count = into.layout.count;
        if doc.as_slice() != b"{}" {
            let key = keys::shard(org, dir, kind.name(), count, i, self.run);
            store.set(&key, &doc).await?;
            into.layout.gens[i as usize] = self.run;
        }
        Ok(())
    }

    /// Ends the rewrite `into`: with another count, every old document is
    /// garbage.
    pub fn finish(&self, into: &mut Rewritten) {
        if into.layout.count != self.old.count {
            into.garbage = self.old.keys(self.org, self.dir, self.kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode;

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
