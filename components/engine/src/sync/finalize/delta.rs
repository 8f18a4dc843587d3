//! The short path of an incremental run whose group graph did not change
//! in a way that can move many users (no nesting edge added or removed, no
//! group deleted or new, no group crossing the user limit either way):
//! only the user documents holding a changed user are read and rewritten,
//! the per-group counts, the billing and the users skipped for an
//! unverified domain are the base state's adjusted by the changed users'
//! records before and after, and only the member lists of the groups they
//! left or joined are rewritten. Every other document keeps its key. The
//! run's counts, log messages and emails are the full pass's: untouched
//! users are synced and unchanged, or skipped, as the base left them (the
//! log names the changed users skipped first, then the base run's sample).
//! When any condition fails, nothing is written and the full pass runs.

use super::access::Access;
use super::groups::group_records;
use super::outbox::welcome;
use super::tenant::{Tenant, eligible, progress, progress_of};
use super::users::{Placing, finish_users, reset_counts, tally};
use crate::error::{EngineError, Result};
use crate::model::{MemberList, OutboxRecord, UserRecord};
use crate::ports::{Clock, Store, TimeDelta, Timestamp};
use crate::shards::{self, Kind, Layout, Rewritten, Target};
use crate::sync::doc::Staged;
use crate::sync::progress::{FinalizeStep, GroupCount, Skipped, UserTally};
use crate::sync::shape::{BucketUsers, Scope, bucket_of};
use crate::sync::state::DirState;
use crate::sync::types::LogLevel;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, BTreeSet};

/// Bytes a rewritten user document may grow to on the short path (past
/// it, the full pass chooses a new count).
const GROWTH_LIMIT: usize = shards::MAX_BYTES - 4 * 1024;

/// The changed users' records before and after the run.
struct Changed {
    old: BTreeMap<String, UserRecord>,
    new: BTreeMap<String, UserRecord>,
}

/// Takes the short path if it applies (see the module header): writes the
/// run's documents and leaves finalize at its commit step. `false`: it
/// does not apply and nothing was written.
pub(super) async fn short_path<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &mut Tenant,
) -> Result<bool> {
    if !grants_fresh(&tenant.base, w.now()) {
        return Ok(false);
    }
    let Some(base_counts) = base_counts(w, tenant)? else {
        return Ok(false);
    };
    let Some(ids) = changed_ids(w, tenant).await? else {
        return Ok(false);
    };
    tenant.resolve(w).await?;
    let Some(changed) = changed_records(w, tenant, &ids).await? else {
        return Ok(false);
    };
    let skipped = skipped_users(w, &tenant.base, &changed);
    if !skipped.unverified_domain.names_enough() {
        return Ok(false);
    }
    let scope = tenant.scope()?;
    let counts = adjusted_counts(w, scope, base_counts, &changed);
    let synced = scope.synced(&counts);
    let base_synced = tenant.base_groups.iter().filter(|(_, r)| r.synced);
    if !synced.iter().eq(base_synced.map(|(id, _)| id)) {
        return Ok(false);
    }
    let access = base_access(&tenant.base, &synced);
    let looked_at = changed.new.len();
    write_run(w, tenant, changed, (counts, skipped), access).await?;
    w.log(LogLevel::Info, short_path_message(looked_at));
    Ok(true)
}

/// The log line saying the short path was taken, for `users` changed users.
fn short_path_message(users: usize) -> String {
    let whose = match users {
        0 => return "no user changed: no user document was read or rewritten".to_owned(),
        1 => "the changed user's document was".to_owned(),
        n => format!("the {n} changed users' documents were"),
    };
    format!("only {whose} read and rewritten; every other user is as the last run left them")
}

/// The users the run skips: the changed users skipped, then the base
/// run's count and kept names of the users not changed. When it cannot
/// name as many as the full pass would (changes used the kept names up),
/// the full pass runs instead (and keeps ten names again).
fn skipped_users<S, C>(w: &Worker<'_, '_, S, C>, base: &DirState, changed: &Changed) -> Skipped {
    let claim = &w.doc.head.claim;
    let mut skipped = Skipped::default();
    for rec in changed.new.values() {
        skipped.note(rec, eligible(claim, &rec.data));
    }
    let before = changed.old.values().map(|r| (r, eligible(claim, &r.data)));
    let kept = (
        base.tally.skipped_unverified,
        &base.tally.unverified_sample[..],
    );
    skipped.carry_unverified(kept, before);
    skipped
}

/// How long the short path trusts the base state's copy of product access
/// before a full pass reads every grant record again: a toggle that raced
/// a sync's commit (README, "narrow windows") shows within a day.
const GRANT_REREAD: TimeDelta = TimeDelta::hours(24);

/// Whether the base state's product access was read from the grant
/// records within [`GRANT_REREAD`] of `now`.
fn grants_fresh(base: &DirState, now: Timestamp) -> bool {
    base.grants_read_at
        .is_some_and(|at| now - at < GRANT_REREAD)
}

/// Product access as the base state records it (kept current by every
/// toggle, as the unchanged-run path trusts it too): the grant records are
/// not read, so the short path costs no read per synced group.
fn base_access(base: &DirState, synced: &BTreeSet<String>) -> Access {
    let granted = base.product_access.iter();
    Access {
        product_access: granted
            .clone()
            .filter(|g| synced.contains(*g))
            .cloned()
            .collect(),
        removed: granted.filter(|g| !synced.contains(*g)).cloned().collect(),
    }
}

/// The base state's per-group counts, when it allows the short path: an
/// incremental all-users run over a completed run with the same domains,
/// staging read by every bucket, and the names of the users it skipped for
/// an unverified domain kept (a state from before they were). A group over
/// the limit counts its users in Entra ID only: it stays unsynced, or the
/// synced groups change and the full pass runs.
fn base_counts<S, C>(
    w: &Worker<'_, '_, S, C>,
    tenant: &Tenant,
) -> Result<Option<BTreeMap<String, GroupCount>>> {
    let (h, base) = (&w.doc.head, &tenant.base);
    let same_domains = base
        .last_completed
        .as_ref()
        .is_some_and(|c| c.domains == h.claim);
    let applies = h.cursor.incremental()
        && tenant.all_users
        && same_domains
        && progress_of(w)?.segments.is_empty()
        && base.shards.users.count > 0
        && (base.tally.skipped_unverified == 0 || !base.tally.unverified_sample.is_empty())
        && base.tally.skipped_unsynced_groups == 0;
    if !applies {
        return Ok(None);
    }
    let in_source = tenant.base_groups.iter().filter(|(_, r)| r.in_source);
    let counts = in_source.map(|(id, r)| {
        let count = GroupCount {
            entra: r.entra_member_count,
            eligible: r.member_count,
        };
        (id.clone(), count)
    });
    Ok(Some(counts.collect()))
}

/// The users the staged lines change (upserted, removed, or whose direct
/// memberships changed); `None` if a line changes the group graph.
async fn changed_ids<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    tenant: &Tenant,
) -> Result<Option<BTreeSet<String>>> {
    let known = |id: &str| tenant.base_groups.get(id).is_some_and(|r| r.in_source);
    let mut ids = BTreeSet::new();
    let mut graph_changed = false;
    w.for_each_staged(|line| match line {
        Staged::Users {
            upserted,
            removed_ids,
        } => {
            ids.extend(upserted.into_iter().map(|u| u.into_fields().id));
            ids.extend(removed_ids);
        }
        Staged::Group { group } => graph_changed |= !known(&group.id),
        Staged::GroupDelta {
            id,
            removed: false,
            added_groups,
            removed_groups,
            added_users,
            removed_users,
            ..
        } if known(&id) && added_groups.is_empty() && removed_groups.is_empty() => {
            ids.extend(added_users);
            ids.extend(removed_users);
        }
        _ => graph_changed = true,
    })
    .await?;
    Ok((!graph_changed).then_some(ids))
}

/// The changed users' base records (one read per document holding any)
/// and their records as this run leaves them; `None` if a document would
/// grow past [`GROWTH_LIMIT`].
async fn changed_records<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    tenant: &Tenant,
    ids: &BTreeSet<String>,
) -> Result<Option<Changed>> {
    let layout = &tenant.base.shards.users;
    let mut old = BTreeMap::new();
    let mut sizes = BTreeMap::new();
    for (index, wanted) in by_document(ids.iter().map(String::as_str), layout.count) {
        let (size, mut doc) = load_sized::<S, C, UserRecord>(w, Kind::Users, layout, index).await?;
        sizes.insert(index, size);
        for id in wanted {
            old.extend(doc.remove_entry(id));
        }
    }
    let mut users = BucketUsers::new(0, 1);
    for rec in old.values().filter(|r| r.in_source) {
        users.add_stored(&rec.data, &rec.direct_groups);
    }
    w.for_each_staged(|line| users.apply(line)).await?;
    // The groups synced before; the short path is taken only if they stay so.
    let base_synced = tenant.base_groups.iter().filter(|(_, r)| r.synced);
    let synced: BTreeSet<String> = base_synced.map(|(id, _)| id.clone()).collect();
    let mut new = old.clone();
    let now = progress_of(w)?.now;
    Placing::of(w, tenant, Some(&synced), now)?.place(&mut new, users);
    let changed = Changed { old, new };
    Ok(changed.fits(layout.count, &sizes).then_some(changed))
}

impl Changed {
    /// Whether every rewritten document stays under [`GROWTH_LIMIT`].
    fn fits(&self, count: u32, sizes: &BTreeMap<u32, usize>) -> bool {
        let mut grown = sizes.clone();
        let size = |rec: Option<&UserRecord>| rec.map_or(0, |r| crate::codec::encode(r).len());
        for id in self.old.keys().chain(self.new.keys()) {
            let doc = grown.entry(shards::shard_of(id, count)).or_default();
            let grown = *doc + size(self.new.get(id)) + id.len() + 4;
            *doc = grown.saturating_sub(size(self.old.get(id)));
        }
        grown.values().all(|s| *s <= GROWTH_LIMIT)
    }

    /// The changed records grouped by bucket of `buckets`, in bucket then
    /// id order (the order in which the full pass counts and names them).
    fn by_bucket(&self, buckets: u32) -> BTreeMap<u32, BTreeMap<String, UserRecord>> {
        let mut out: BTreeMap<u32, BTreeMap<String, UserRecord>> = BTreeMap::new();
        for (id, rec) in &self.new {
            let bucket = out.entry(bucket_of(id, buckets)).or_default();
            bucket.insert(id.clone(), rec.clone());
        }
        out
    }
}

/// Ids by the index of the document (of `count`) holding them.
fn by_document<'i>(
    ids: impl Iterator<Item = &'i str>,
    count: u32,
) -> BTreeMap<u32, BTreeSet<&'i str>> {
    let mut out: BTreeMap<u32, BTreeSet<&str>> = BTreeMap::new();
    for id in ids {
        out.entry(shards::shard_of(id, count))
            .or_default()
            .insert(id);
    }
    out
}

/// Document `index` of `layout` with its size in bytes (an unwritten one:
/// empty, 2 bytes).
async fn load_sized<S: Store, C: Clock, T: serde::de::DeserializeOwned>(
    w: &Worker<'_, '_, S, C>,
    kind: Kind,
    layout: &Layout,
    index: u32,
) -> Result<(usize, BTreeMap<String, T>)> {
    let Some(key) = layout.key(w.org, w.dir, kind, index) else {
        return Ok((2, BTreeMap::new()));
    };
    let bytes = w.e.store.get(&key).await?;
    let bytes = bytes.ok_or_else(|| EngineError::Superseded(key.clone()))?;
    Ok((bytes.len(), crate::codec::decode(&key, &bytes)?))
}

/// The base state's per-group counts, less what the changed users added
/// before the run, plus what they add after it.
fn adjusted_counts<S, C>(
    w: &Worker<'_, '_, S, C>,
    scope: &Scope,
    mut counts: BTreeMap<String, GroupCount>,
    changed: &Changed,
) -> BTreeMap<String, GroupCount> {
    let claim = &w.doc.head.claim;
    for rec in changed.old.values().filter(|r| r.in_source) {
        let eligible = u64::from(eligible(claim, &rec.data));
        for g in scope.reach(&rec.direct_groups) {
            let count = counts.entry(g.to_owned()).or_default();
            count.entra = count.entra.saturating_sub(1);
            count.eligible = count.eligible.saturating_sub(eligible);
        }
    }
    for rec in changed.new.values().filter(|r| r.in_source) {
        scope.add_counts(&mut counts, &rec.direct_groups, eligible(claim, &rec.data));
    }
    counts
}

/// Writes the run's documents on the short path, counts its users as the
/// full pass would, and leaves finalize at its commit step.
async fn write_run<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &Tenant,
    changed: Changed,
    (counts, skipped): (BTreeMap<String, GroupCount>, Skipped),
    access: Access,
) -> Result<()> {
    let base = &tenant.base;
    let users = rewrite_users(w, &base.shards.users, &changed).await?;
    let members = rewrite_members(w, tenant, &changed).await?;
    let scope = tenant.scope()?;
    let records = group_records(scope, &counts, tenant.base_groups.clone());
    let (store, org, dir, run) = (w.e.store, w.org, w.dir, w.doc.head.run_id);
    let entries = shards::encode_entries(records);
    let groups = shards::save_all(
        store,
        org,
        dir,
        Kind::Groups,
        &base.shards.groups,
        run,
        entries,
    );
    let groups = groups.await?;
    let h = &mut w.doc.head;
    h.counts.groups_synced = scope.synced(&counts).len() as u64;
    h.counts.groups_over_limit = scope.over_limit(&counts);
    h.counts.access_removed = access.removed.clone();
    reset_counts(&mut h.counts);
    let p = progress(w);
    p.counts = counts;
    p.product_access = access.product_access;
    p.grants_read_at = tenant.base.grants_read_at;
    p.access_removed = access.removed;
    p.tally = UserTally::default();
    count_users(w, tenant, &changed, skipped)?;
    finish_users(w, tenant);
    let outbox = rewrite_outbox(w, &base.shards.outbox, &changed).await?;
    let p = progress(w);
    (p.users, p.member_lists, p.groups, p.outbox) = (users, members, groups, outbox);
    p.step = FinalizeStep::Commit;
    Ok(())
}

/// Counts the changed users as the full pass does (bucket by bucket),
/// then the untouched ones: synced, unchanged, billable as before; the
/// users skipped are `skipped` ([`skipped_users`]).
fn count_users<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &Tenant,
    changed: &Changed,
    skipped: Skipped,
) -> Result<()> {
    let buckets = progress_of(w)?.buckets;
    for records in changed.by_bucket(buckets).values() {
        tally(w, records)?;
    }
    let base = &tenant.base;
    let billable = |r: &&UserRecord| r.groups.iter().any(|g| base.product_access.contains(g));
    let was_synced = changed.old.values().filter(|r| r.synced);
    let was_billable = was_synced.clone().filter(billable).count() as u64;
    let untouched = base.synced_users.saturating_sub(was_synced.count() as u64);
    w.doc.head.counts.users_unchanged += untouched;
    let p = progress(w);
    p.tally.synced += untouched;
    p.tally.billable += base.billable_users.saturating_sub(was_billable);
    p.tally.skipped = skipped;
    Ok(())
}

/// Rewrites the user documents holding a changed user.
async fn rewrite_users<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    layout: &Layout,
    changed: &Changed,
) -> Result<Rewritten> {
    let ids = changed.old.keys().chain(changed.new.keys());
    let mut into = Rewritten::unchanged(layout);
    for (index, wanted) in by_document(ids.map(String::as_str), layout.count) {
        let (_, mut doc) = load_sized::<S, C, UserRecord>(w, Kind::Users, layout, index).await?;
        for id in wanted {
            doc.remove(id);
            doc.extend(
                changed
                    .new
                    .get_key_value(id)
                    .map(|(k, r)| (k.clone(), r.clone())),
            );
        }
        save_document(w, (Kind::Users, layout), &mut into, index, doc).await?;
    }
    Ok(into)
}

/// Writes document `index` of the rewrite `into` (of the `old` layout,
/// same count) holding exactly `doc`.
async fn save_document<S: Store, C: Clock, T: serde::Serialize>(
    w: &Worker<'_, '_, S, C>,
    (kind, old): (Kind, &Layout),
    into: &mut Rewritten,
    index: u32,
    doc: BTreeMap<String, T>,
) -> Result<()> {
    let target = Target::new(kind, old, w.doc.head.run_id, (w.org, w.dir));
    let entries = shards::encode_entries(doc);
    target
        .save_documents(w.e.store, into, [index], entries)
        .await
}

/// Rewrites the member lists of the groups a changed user left or joined
/// (direct or through nesting).
async fn rewrite_members<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    tenant: &Tenant,
    changed: &Changed,
) -> Result<Rewritten> {
    let layout = &tenant.base.shards.members;
    let recs = changed.old.values().chain(changed.new.values());
    let groups: BTreeSet<&str> = recs
        .flat_map(|r| r.groups.iter().map(String::as_str))
        .collect();
    let mut into = Rewritten::unchanged(layout);
    if layout.count == 0 {
        return Ok(into);
    }
    for (index, wanted) in by_document(groups.into_iter(), layout.count) {
        let (_, mut doc) = load_sized::<S, C, MemberList>(w, Kind::Members, layout, index).await?;
        for g in wanted {
            let list = doc.entry(g.to_owned()).or_default();
            let ours = |id: &String| !changed.old.contains_key(id) && !changed.new.contains_key(id);
            list.direct.retain(ours);
            list.nested.retain(ours);
            add_members(list, g, &changed.new);
        }
        save_document(w, (Kind::Members, layout), &mut into, index, doc).await?;
    }
    Ok(into)
}

/// Adds the synced users of `records` that belong to group `g` to its list
/// (each part kept in id order).
fn add_members(list: &mut MemberList, g: &str, records: &BTreeMap<String, UserRecord>) {
    for (id, rec) in records.iter().filter(|(_, r)| r.synced) {
        if !rec.groups.iter().any(|x| x == g) {
            continue;
        }
        match rec.direct_groups.iter().any(|x| x == g) {
            true => list.direct.push(id.clone()),
            false => list.nested.push(id.clone()),
        }
    }
    list.direct.sort();
    list.nested.sort();
}

/// Queues the welcome emails of the accounts this run created, in the
/// outbox documents holding them (the outbox is untouched without any).
async fn rewrite_outbox<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    layout: &Layout,
    changed: &Changed,
) -> Result<Rewritten> {
    let (run, now) = (w.doc.head.run_id, progress_of(w)?.now);
    let mut into = Rewritten::unchanged(layout);
    if w.doc.head.counts.emails_queued == 0 {
        return Ok(into);
    }
    let created = changed
        .new
        .iter()
        .filter(|(_, r)| r.synced && r.created_run == Some(run));
    let emails: BTreeMap<&str, OutboxRecord> = created
        .filter_map(|(id, r)| Some((id.as_str(), welcome(r, now)?)))
        .collect();
    if layout.count == 0 {
        let target = Target::new(Kind::Outbox, layout, run, (w.org, w.dir));
        return target
            .save_all(w.e.store, shards::encode_entries(emails))
            .await;
    }
    for (index, wanted) in by_document(emails.keys().copied(), layout.count) {
        let (_, mut doc) = load_sized::<S, C, OutboxRecord>(w, Kind::Outbox, layout, index).await?;
        for (id, email) in wanted.into_iter().filter_map(|id| emails.get_key_value(id)) {
            doc.entry((*id).to_owned()).or_insert_with(|| email.clone());
        }
        save_document(w, (Kind::Outbox, layout), &mut into, index, doc).await?;
    }
    Ok(into)
}
