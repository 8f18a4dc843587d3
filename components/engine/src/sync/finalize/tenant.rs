//! What finalize's steps share within one invocation: the base state and
//! its group records, the group graph with its scope (built once the staged
//! lines are partitioned: small, so rebuilt by each invocation rather than
//! saved), and reading one bucket's users: the base state's records of the
//! bucket, then the bucket's staged lines on top. Staged lines come from
//! the invocation's copy in memory when it staged them all
//! (`Worker::staged_lines`), else from the store.

use crate::error::{EngineError, Result};
use crate::model::{GroupRecord, UserData, UserRecord};
use crate::ports::{Clock, Store, Timestamp};
use crate::settings::UserScope;
use crate::shards::{self, Entries, Kind, Layout, Rewritten, Target};
use crate::sync::progress::FinalizeProgress;
use crate::sync::shape::{BucketUsers, GroupGraph, Scope};
use crate::sync::state::DirState;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a user may sync as far as domains go: a guest, or a user on a
/// domain this run claimed.
pub(super) fn eligible(claim: &BTreeSet<String>, user: &UserData) -> bool {
    user.is_guest() || claim.contains(user.domain().as_ref())
}

/// Finalize's progress (begun by `finalize`, which sets it first).
pub(super) fn progress<'p, S, C>(w: &'p mut Worker<'_, '_, S, C>) -> &'p mut FinalizeProgress {
    w.doc.head.finalize.get_or_insert_with(Default::default)
}

/// Finalize's progress, read only (`Corrupt` if finalize has not begun).
pub(super) fn progress_of<'p, S, C>(w: &'p Worker<'_, '_, S, C>) -> Result<&'p FinalizeProgress> {
    let run = w.doc.head.run_id;
    let missing = || EngineError::Corrupt(format!("run {run}: finalize has no progress"));
    w.doc.head.finalize.as_ref().ok_or_else(missing)
}

/// A bucket read for a step: its users as this run leaves them and the
/// base state's records of it.
pub(super) struct NextBucket {
    pub index: u32,
    pub buckets: u32,
    /// When finalize began.
    pub now: Timestamp,
    pub users: BucketUsers,
    pub records: BTreeMap<String, UserRecord>,
    /// The users were taken out of the invocation's copy of the staging
    /// (`Worker::take_staged_lines`): the copy has them no more.
    pub from_copy: bool,
}

/// The base state, its group records and (built on first use) the scope.
pub(super) struct Tenant {
    pub base: DirState,
    pub base_groups: BTreeMap<String, GroupRecord>,
    /// Every user and group is in scope (else: the selected groups').
    pub all_users: bool,
    scope: Option<Scope>,
    /// Buckets' users the count step took out of the invocation's copy of
    /// the staging, kept for the users step ([`Tenant::keep`]).
    kept: BTreeMap<u32, BucketUsers>,
}

impl Tenant {
    /// Reads the base state's group records.
    pub async fn load<S: Store, C: Clock>(
        w: &Worker<'_, '_, S, C>,
        base: DirState,
    ) -> Result<Self> {
        let groups = &base.shards.groups;
        let base_groups = shards::load_all(w.e.store, w.org, w.dir, Kind::Groups, groups).await?;
        let all_users = matches!(w.doc.head.settings.scope, UserScope::AllUsersAndGroups);
        Ok(Tenant {
            base,
            base_groups,
            all_users,
            scope: None,
            kept: BTreeMap::new(),
        })
    }

    /// Builds the group graph as this run leaves it and resolves its scope
    /// (once per invocation; [`Tenant::scope`] then answers).
    pub async fn resolve<S: Store, C: Clock>(&mut self, w: &Worker<'_, '_, S, C>) -> Result<()> {
        if self.scope.is_none() {
            let roots = (!self.all_users).then_some(w.doc.head.cursor.roots());
            self.scope = Some(self.graph(w).await?.resolve(roots));
        }
        Ok(())
    }

    /// The resolved scope (`Corrupt` before [`Tenant::resolve`]).
    pub fn scope(&self) -> Result<&Scope> {
        let unresolved = || EngineError::Corrupt("finalize: the scope is not resolved".to_owned());
        self.scope.as_ref().ok_or_else(unresolved)
    }

    /// The group graph: for an incremental run the base state's groups in
    /// the source, then the selected groups, then the staged group lines.
    async fn graph<S: Store, C: Clock>(&self, w: &Worker<'_, '_, S, C>) -> Result<GroupGraph> {
        let mut graph = GroupGraph::default();
        if w.doc.head.cursor.incremental() {
            for rec in self.base_groups.values().filter(|r| r.in_source) {
                graph.add_group(rec.data.clone(), rec.children.iter().cloned());
            }
        }
        for root in w.doc.head.cursor.roots() {
            graph.groups.insert(root.id.clone(), root.clone());
        }
        if let Some(lines) = w.staged_lines() {
            lines.iter().for_each(|line| graph.apply(line));
            return Ok(graph);
        }
        let groups_part = progress_of(w)?.buckets;
        for_each_stored_line(w, groups_part, |line| graph.apply(&line)).await?;
        Ok(graph)
    }

    /// The bucket a step works on next (progress' `next`), read, with the
    /// scope resolved; `records`: with the base state's records. Its users
    /// are the ones kept for it ([`Tenant::keep`]) if any, else read from
    /// the copy of the staging in memory (taken out of it), else from the
    /// store.
    pub async fn next_bucket<S: Store, C: Clock>(
        &mut self,
        w: &mut Worker<'_, '_, S, C>,
        records: bool,
    ) -> Result<NextBucket> {
        self.resolve(w).await?;
        let p = progress_of(w)?;
        let (index, buckets, now) = (p.next, p.buckets, p.now);
        let (records, read) = self.bucket(w, index, records).await?;
        let (users, from_copy) = match self.kept.remove(&index) {
            Some(users) => (users, false),
            None => read_users(w, index, read).await?,
        };
        Ok(NextBucket {
            index,
            buckets,
            now,
            users,
            records,
            from_copy,
        })
    }

    /// Keeps bucket `index`'s users (taken out of the copy of the staging)
    /// for the next step that reads the bucket in this invocation.
    pub fn keep(&mut self, index: u32, users: BucketUsers) {
        self.kept.insert(index, users);
    }

    /// The base state's records of bucket `bucket` (if `records`, or for
    /// an incremental run, which starts from those in the source), and the
    /// bucket's users as far as those records say.
    async fn bucket<S: Store, C: Clock>(
        &self,
        w: &Worker<'_, '_, S, C>,
        bucket: u32,
        records: bool,
    ) -> Result<(BTreeMap<String, UserRecord>, BucketUsers)> {
        let buckets = progress_of(w)?.buckets;
        let mut users = BucketUsers::new(bucket, buckets);
        let incremental = w.doc.head.cursor.incremental();
        let stored: BTreeMap<String, UserRecord> = if records || incremental {
            let layout = &self.base.shards.users;
            let (store, org, dir) = (w.e.store, w.org, w.dir);
            let keeps = |id: &str| users.keeps(id);
            shards::load_bucket(
                store,
                org,
                dir,
                Kind::Users,
                layout,
                (bucket, buckets),
                keeps,
            )
            .await?
        } else {
            BTreeMap::new()
        };
        if incremental {
            for rec in stored.values().filter(|r| r.in_source) {
                users.add_stored(&rec.data, &rec.direct_groups);
            }
        }
        Ok((stored, users))
    }
}

/// Applies the staged lines' part of bucket `bucket` to `users`: taken out
/// of the invocation's copy of the staging when it has one (then `true`),
/// else read from the store.
async fn read_users<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    bucket: u32,
    mut users: BucketUsers,
) -> Result<(BucketUsers, bool)> {
    if let Some(lines) = w.take_staged_lines() {
        lines.iter_mut().for_each(|line| users.take_from(line));
        return Ok((users, true));
    }
    for_each_stored_line(w, bucket, |line| users.apply(line)).await?;
    Ok((users, false))
}

/// Writes bucket `bucket` of `buckets`'s documents of collection `kind`
/// (replacing `old`) into the rewrite `into`, holding exactly `entries`.
/// With one bucket, the count is chosen from the entries themselves.
pub(super) async fn write_bucket<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    (kind, old): (Kind, &Layout),
    into: &mut Rewritten,
    (bucket, buckets): (u32, u32),
    entries: Entries,
) -> Result<()> {
    let target = Target::new(kind, old, w.doc.head.run_id, (w.org, w.dir));
    let store = w.e.store;
    if buckets <= 1 {
        *into = target.save_all(store, entries).await?;
        return Ok(());
    }
    let documents = shards::bucket_documents(into.layout.count, bucket, buckets);
    target
        .save_documents(store, into, documents, entries)
        .await?;
    if bucket + 1 == buckets {
        target.finish(into);
    }
    Ok(())
}

/// Hands the stored staged lines of part `part` (a bucket, or the group
/// lines: part `buckets`) to `apply`, in staging order: without a
/// partition (one bucket, staging smaller than a slice, or the copy in
/// memory at the start), every staged line (each reader takes its part).
async fn for_each_stored_line<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    part: u32,
    apply: impl FnMut(crate::sync::doc::Staged),
) -> Result<()> {
    let p = progress_of(w)?;
    if p.segments.is_empty() {
        return w.for_each_staged(apply).await;
    }
    let segments = p.segments.get(part as usize).map_or(&[][..], Vec::as_slice);
    w.for_each_in(segments, apply).await
}
