//! The outbox step: one welcome email per account this run created, only
//! when the settings ask for them (the outbox is untouched when there is
//! none), a bucket at a time: the base state's emails of the bucket, plus
//! one for each account the users step created (read back from the user
//! documents it wrote). Emails are handed over after finalize, by
//! `sync/emails.rs`.

use super::tenant::{Tenant, progress, progress_of, write_bucket};
use crate::error::Result;
use crate::model::{MailState, OutboxRecord, UserRecord};
use crate::ports::Timestamp;
use crate::ports::{Clock, Store};
use crate::shards::{self, Kind, Layout};
use crate::sync::progress::FinalizeStep;
use crate::sync::shape::bucket_of;
use crate::sync::worker::Worker;
use std::collections::BTreeMap;

/// The outbox shard count when it is written bucket by bucket, from the
/// base outbox (taken as full documents) and the new emails' binned sizes;
/// `None` when it fits one slice of `pass_bytes` (then it is written at
/// once, its count chosen from the records themselves).
pub(super) fn outbox_count(
    old: &Layout,
    new_bins: &[u64],
    buckets: u32,
    pass_bytes: usize,
) -> Option<u32> {
    let old_bytes = old.count as usize * shards::TARGET_BYTES;
    let bytes = old_bytes + new_bins.iter().sum::<u64>() as usize;
    if buckets <= 1 || bytes <= pass_bytes {
        return None;
    }
    let needed = bytes.div_ceil(shards::TARGET_BYTES);
    if old.count.is_multiple_of(buckets) && old.count as usize >= needed {
        return Some(old.count);
    }
    Some((needed.max(buckets as usize) as u32).next_power_of_two())
}

/// The welcome email a new account gets, `None` without a mailbox.
pub(super) fn welcome(rec: &UserRecord, now: Timestamp) -> Option<OutboxRecord> {
    let to = rec.data.mailbox()?;
    Some(OutboxRecord {
        to: to.to_owned(),
        name: rec.data.display_name.as_deref().map(str::to_owned),
        state: MailState::Queued,
        queued_at: now,
        sent_at: None,
        sent_run: None,
    })
}

/// Writes the next bucket's outbox documents.
pub(super) async fn outbox_slice<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &Tenant,
) -> Result<()> {
    let p = progress_of(w)?;
    // Without a count chosen yet, the outbox is written in one slice.
    let (bucket, buckets) = match p.outbox.layout.count {
        0 => (0, 1),
        _ => (p.next, p.buckets),
    };
    let (now, run) = (p.now, w.doc.head.run_id);
    let keeps = |id: &str| buckets <= 1 || bucket_of(id, buckets) == bucket;
    let (store, org, dir) = (w.e.store, w.org, w.dir);
    let old = &tenant.base.shards.outbox;
    let part = (bucket, buckets);
    let mut outbox: BTreeMap<String, OutboxRecord> =
        shards::load_bucket(store, org, dir, Kind::Outbox, old, part, keeps).await?;
    let users: BTreeMap<String, UserRecord> =
        shards::load_bucket(store, org, dir, Kind::Users, &p.users.layout, part, keeps).await?;
    let created = users
        .into_iter()
        .filter(|(_, r)| r.synced && r.created_run == Some(run));
    for (id, rec) in created {
        if let Some(email) = welcome(&rec, now) {
            outbox.entry(id).or_insert(email);
        }
    }
    let mut into = std::mem::take(&mut progress(w).outbox);
    let entries = shards::encode_entries(outbox);
    write_bucket(w, (Kind::Outbox, old), &mut into, part, entries).await?;
    let p = progress(w);
    p.outbox = into;
    p.next = bucket + 1;
    if p.next >= buckets {
        p.step = FinalizeStep::Groups;
        p.next = 0;
    }
    Ok(())
}
