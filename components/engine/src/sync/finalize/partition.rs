//! The partition step (only with more than one bucket and staging larger
//! than a slice): reads each staged chunk once, a few per slice, and copies
//! each line's users into their bucket's segment and its group-level part
//! (groups, nesting, over-limit marks) into the group segment. A group's
//! deletion goes to every segment, so each bucket drops the group's
//! memberships at the same point of its lines as the whole staging would. Segments are named by the hash of
//! their bytes; a segment holds the lines of one bucket from several
//! slices of one invocation, and only segments the saved progress lists
//! are read (an invocation that crashed may leave one behind, unused).
//! An invocation that begins finalize with the staging in memory skips the
//! step; if finalize is resumed without that copy, the staging is
//! partitioned then ([`catch_up`]).

use super::tenant::{progress, progress_of};
use crate::codec::encode;
use crate::error::Result;
use crate::ports::{Clock, Store};
use crate::sync::doc::{MAX_SEAL_BYTES, Staged, StagedUser};
use crate::sync::progress::FinalizeStep;
use crate::sync::shape::bucket_of;
use crate::sync::worker::Worker;
use std::collections::BTreeMap;

/// A segment is written once it holds this much (a chunk more keeps it
/// under the store's value limit).
const SEGMENT_BYTES: usize = MAX_SEAL_BYTES / 2;

/// The segments' bytes not written yet: kept across the slices of one
/// invocation, so segments are few and large; written when the step ends
/// or the invocation pauses ([`flush`]).
#[derive(Default)]
pub(super) struct Pending(Vec<Vec<u8>>);

/// Partitions the next few staged chunks (about `pass_bytes` of them).
pub(super) async fn partition_slice<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    pending: &mut Pending,
) -> Result<()> {
    let p = progress_of(w)?;
    let (buckets, next) = (p.buckets, p.next as usize);
    let sealed = w.doc.head.sealed.clone();
    let seal_bytes = w.e.config.seal_bytes.clamp(1, MAX_SEAL_BYTES);
    let per_slice = (w.e.config.pass_bytes / seal_bytes).max(1);
    let chunks = &sealed[next.min(sealed.len())..(next + per_slice).min(sealed.len())];
    split_chunks(w, chunks, buckets, pending).await?;
    let p = progress(w);
    p.next = (next + per_slice) as u32;
    if next + per_slice >= sealed.len() {
        flush(w, pending).await?;
        let p = progress(w);
        p.step = FinalizeStep::Count;
        p.next = 0;
    }
    Ok(())
}

/// Copies the lines of staged chunks `chunks` into the pending segments of
/// `buckets` buckets, writing those that grow large.
async fn split_chunks<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    chunks: &[u64],
    buckets: u32,
    pending: &mut Pending,
) -> Result<()> {
    pending.0.resize(buckets as usize + 1, Vec::new());
    for chunk in chunks {
        let parts = &mut pending.0;
        w.for_each_in(std::slice::from_ref(chunk), |line| {
            split(line, buckets, parts)
        })
        .await?;
        write_parts(w, pending, SEGMENT_BYTES).await?;
    }
    Ok(())
}

/// Partitions the whole staging, in this slice, when finalize began with
/// the staging in memory (so skipped the step) and is resumed without it
/// at the count or users step: each bucket then reads its segment, not
/// all of the staging. The staging is then at most
/// `EngineConfig::staging_copy_passes` slices.
pub(super) async fn catch_up<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>) -> Result<()> {
    let p = progress_of(w)?;
    let buckets = p.buckets;
    let reading = matches!(p.step, FinalizeStep::Count | FinalizeStep::Users);
    let skipped = reading && p.segments.is_empty() && super::partitions(w, buckets);
    if !skipped || w.staged_lines().is_some() {
        return Ok(());
    }
    if !w.doc.tail.is_empty() {
        w.seal_tail().await?;
    }
    let sealed = w.doc.head.sealed.clone();
    let mut pending = Pending::default();
    split_chunks(w, &sealed, buckets, &mut pending).await?;
    flush(w, &mut pending).await
}

/// Writes every pending segment (the invocation pauses, or the step ends).
pub(super) async fn flush<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    pending: &mut Pending,
) -> Result<()> {
    write_parts(w, pending, 1).await
}

/// Writes the pending segments of at least `bytes` bytes, and lists them.
async fn write_parts<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    pending: &mut Pending,
    bytes: usize,
) -> Result<()> {
    let parts = pending.0.len();
    for (part, segment) in pending.0.iter_mut().enumerate() {
        if segment.len() >= bytes {
            let hash = w.write_scratch(segment).await?;
            segment.clear();
            let segments = &mut progress(w).segments;
            segments.resize(parts, Vec::new());
            segments[part].push(hash);
        }
    }
    Ok(())
}

/// Appends a line to a segment's bytes.
fn push(part: &mut Vec<u8>, line: &Staged) {
    part.extend_from_slice(&encode(line));
    part.push(b'\n');
}

/// Items by the bucket of their user id.
fn by_bucket<T>(items: Vec<T>, buckets: u32, id: impl Fn(&T) -> &str) -> BTreeMap<u32, Vec<T>> {
    let mut out: BTreeMap<u32, Vec<T>> = BTreeMap::new();
    for item in items {
        out.entry(bucket_of(id(&item), buckets))
            .or_default()
            .push(item);
    }
    out
}

fn user_id(u: &StagedUser) -> &str {
    &u.id
}

/// Copies one staged line's parts into `parts` (the buckets', then the
/// group segment last).
fn split(line: Staged, buckets: u32, parts: &mut [Vec<u8>]) {
    let groups = buckets as usize;
    match line {
        Staged::Group { .. } | Staged::OverLimit { .. } => push(&mut parts[groups], &line),
        Staged::Deleted { .. } | Staged::GroupDelta { removed: true, .. } => {
            parts.iter_mut().for_each(|part| push(part, &line));
        }
        Staged::Members {
            group,
            users,
            subgroups,
        } => {
            for (b, users) in by_bucket(users, buckets, user_id) {
                let line = Staged::Members {
                    group: group.clone(),
                    users,
                    subgroups: Vec::new(),
                };
                push(&mut parts[b as usize], &line);
            }
            if !subgroups.is_empty() {
                let users = Vec::new();
                push(
                    &mut parts[groups],
                    &Staged::Members {
                        group,
                        users,
                        subgroups,
                    },
                );
            }
        }
        Staged::Users {
            upserted,
            removed_ids,
        } => split_users(upserted, removed_ids, buckets, parts),
        mut line @ Staged::GroupDelta { removed: false, .. } => {
            if let Some((id, added, removed)) = line.take_user_changes() {
                split_memberships(&id, added, removed, buckets, parts);
            }
            // What is left (the group's fields, nesting changes) is the
            // group segment's.
            if line.changes_something() {
                push(&mut parts[groups], &line);
            }
        }
    }
}

/// A users line, by bucket.
fn split_users(
    upserted: Vec<StagedUser>,
    removed: Vec<String>,
    buckets: u32,
    parts: &mut [Vec<u8>],
) {
    let mut upserted = by_bucket(upserted, buckets, user_id);
    let mut removed = by_bucket(removed, buckets, String::as_str);
    for b in 0..buckets {
        let line = Staged::Users {
            upserted: upserted.remove(&b).unwrap_or_default(),
            removed_ids: removed.remove(&b).unwrap_or_default(),
        };
        if line.changes_something() {
            push(&mut parts[b as usize], &line);
        }
    }
}

/// A group's membership changes, by the bucket of each user.
fn split_memberships(
    id: &str,
    added: Vec<String>,
    removed: Vec<String>,
    buckets: u32,
    parts: &mut [Vec<u8>],
) {
    let mut added = by_bucket(added, buckets, String::as_str);
    let mut removed = by_bucket(removed, buckets, String::as_str);
    for b in 0..buckets {
        let (added_users, removed_users) = (
            added.remove(&b).unwrap_or_default(),
            removed.remove(&b).unwrap_or_default(),
        );
        if added_users.is_empty() && removed_users.is_empty() {
            continue;
        }
        let line = Staged::GroupDelta {
            id: id.to_owned(),
            group: None,
            added_users,
            added_groups: Vec::new(),
            removed_users,
            removed_groups: Vec::new(),
            removed: false,
        };
        push(&mut parts[b as usize], &line);
    }
}
