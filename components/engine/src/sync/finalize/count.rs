//! The count step: each group's users, summed bucket by bucket (a user in
//! the source adds one to every group in scope that reaches it), so the
//! 10,000-user limit and the member counts never need the tenant whole.
//! With more than one bucket it also sums an upper bound of each user
//! record's encoded size, to choose the user shard count before the users
//! step writes any. After the last bucket: the synced groups, product
//! access and the users step's start.

use super::tenant::{NextBucket, Tenant, progress, progress_of};
use super::users::{Placing, reset_counts};
use crate::error::Result;
use crate::model::UserRecord;
use crate::ports::{Clock, Store};
use crate::shards::{self, Rewritten};
use crate::sync::progress::{FinalizeStep, UserTally};
use crate::sync::worker::Worker;
use std::collections::BTreeMap;

/// Bytes added to each record's size for fields the upper bound cannot
/// know yet (the run that left, created or changed it).
const RECORD_MARGIN: u64 = 48;

/// Counts the next bucket's users.
pub(super) async fn count_slice<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &mut Tenant,
) -> Result<()> {
    let sized = progress_of(w)?.buckets > 1;
    let NextBucket {
        index,
        buckets,
        now,
        users,
        mut records,
        from_copy,
    } = tenant.next_bucket(w, sized).await?;
    let scope = tenant.scope()?;
    let mut counts = std::mem::take(&mut progress(w).counts);
    for state in users.users.values() {
        if let Some(data) = &state.data {
            let eligible = super::tenant::eligible(&w.doc.head.claim, data);
            scope.add_counts(&mut counts, state.direct.as_slice(), eligible);
        }
    }
    // Users taken out of the copy of the staging are the users step's too.
    let sizing = match from_copy {
        true => {
            let sizing = sized.then(|| users.clone());
            tenant.keep(index, users);
            sizing
        }
        false => sized.then_some(users),
    };
    if let Some(users) = sizing {
        Placing::of(w, tenant, None, now)?.place(&mut records, users);
        add_user_bins(&mut progress(w).user_bins, &records);
    }
    let p = progress(w);
    p.counts = counts;
    p.next += 1;
    if p.next >= buckets {
        finish_count(w, tenant).await?;
    }
    Ok(())
}

/// Adds the records' encoded sizes (an upper bound) to the bins.
fn add_user_bins(bins: &mut Vec<u64>, records: &BTreeMap<String, UserRecord>) {
    bins.resize(shards::SIZE_BINS, 0);
    let entries = shards::encode_entries(records);
    for (hash, len) in entries.sizes() {
        bins[(hash % shards::SIZE_BINS as u64) as usize] += len as u64 + 1 + RECORD_MARGIN;
    }
}

/// After the last bucket: the groups synced and over the limit, product
/// access, the user shard count, and the users step's start.
async fn finish_count<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &Tenant,
) -> Result<()> {
    let scope = tenant.scope()?;
    let p = progress_of(w)?;
    let synced = scope.synced(&p.counts);
    let over_limit = scope.over_limit(&p.counts);
    let buckets = p.buckets;
    let users = match buckets {
        0 | 1 => Rewritten::default(),
        _ => {
            let current = tenant.base.shards.users.count;
            Rewritten::start(shards::choose_bucketed_count(
                &p.user_bins,
                current,
                buckets,
            )?)
        }
    };
    let access = super::access::access(w, &tenant.base, &synced).await?;
    let counts = &mut w.doc.head.counts;
    counts.groups_synced = synced.len() as u64;
    counts.groups_over_limit = over_limit;
    counts.access_removed = access.removed.clone();
    reset_counts(counts);
    let p = progress(w);
    p.product_access = access.product_access;
    p.grants_read_at = Some(p.now);
    p.access_removed = access.removed;
    p.users = users;
    p.tally = UserTally::default();
    p.step = FinalizeStep::Users;
    p.next = 0;
    Ok(())
}
