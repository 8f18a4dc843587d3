//! Finalize: turns what the run read into the directory. It runs only after
//! every page succeeded, so it is the only place where anything is removed
//! (memberships, users leaving the scope, product access of dropped groups).
//!
//! It spans invocations: a sequence of named steps, each done in slices (a
//! few staged chunks, a bucket of users, a collection), with its progress
//! saved in the run document (`RunHeader::finalize`, `sync/progress.rs`)
//! whenever an invocation pauses; the next invocation goes on from there.
//! The tenant is never held whole: users are worked on a bucket at a time
//! (`fnv1a(id) % buckets`), only the group graph and per-group counters are
//! whole (`sync/shape.rs`).
//!
//! It is idempotent: a slice done again after a crash recomputes the same
//! documents from the staged pages, the stored records and the saved
//! progress, and the per-record bookkeeping (`created_run`, `changed_run`,
//! `left_run`) makes it produce the same records, the same counts and no
//! second email.
//!
//! The steps, one file each: `domains` (claim the run's domains, when
//! finalize begins), `partition` (each staged line's users to their
//! bucket's segment), `count` (each group's users, bucket by bucket; then
//! `access`: which groups keep product access), `users` (the user documents
//! and the run's user counts, bucket by bucket), `outbox` (welcome emails),
//! `groups` (records and member listings), `policy` (the removal guard:
//! proceed or hold), `removals` (the only step that removes what readers of
//! the current state see), `commit` (the state, last, then the garbage).
//! Until `commit`, every document written is new and unused. A delta run
//! whose group graph did not change takes a short path instead of the
//! count, users, outbox and groups steps (`delta`).

mod access;
mod commit;
mod count;
mod delta;
mod domains;
mod groups;
mod outbox;
mod partition;
mod policy;
mod removals;
mod tenant;
mod users;

use crate::error::{EngineError, Result};
use crate::keys;
use crate::ports::{Clock, Store};
use crate::shards;
use crate::sync::doc::MAX_SEAL_BYTES;
use crate::sync::progress::{FinalizeProgress, FinalizeStep};
use crate::sync::state::{DirState, load_state_of};
use crate::sync::worker::Worker;
use commit::{Outcome, Written};
use policy::{Decision, RemovalPolicy, Removals};
use tenant::{Tenant, progress, progress_of};

/// At most this many buckets of users (past it, buckets grow).
const MAX_BUCKETS: usize = 64;

/// How finalize's invocation ended.
pub(crate) enum Finalized {
    /// The run's result is the directory now.
    Done,
    /// The removal guard holds the removals for an admin (nothing removed;
    /// the run's documents are written but not in use).
    Held,
    /// The invocation's share of the budget is spent: the progress is in
    /// the run document (saved by the caller), the next invocation goes on.
    Paused,
}

/// Finalizes the run, or as much of it as this invocation may (see the
/// module header).
pub(crate) async fn finalize<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
) -> Result<Finalized> {
    let base = base_state(w).await?;
    let begins = w.doc.head.finalize.is_none();
    if begins {
        if reads_no_change(w, &base).await? {
            commit::unchanged(w, base).await?;
            return Ok(Finalized::Done);
        }
        begin(w, &base).await?;
    }
    let mut tenant = Tenant::load(w, base).await?;
    if begins {
        delta::short_path(w, &mut tenant).await?;
    } else {
        partition::catch_up(w).await?;
    }
    let mut pending = partition::Pending::default();
    let mut slices = 0;
    loop {
        if w.finalize_pauses(slices) {
            partition::flush(w, &mut pending).await?;
            return Ok(Finalized::Paused);
        }
        match progress_of(w)?.step {
            FinalizeStep::Partition => partition::partition_slice(w, &mut pending).await?,
            FinalizeStep::Count => count::count_slice(w, &mut tenant).await?,
            FinalizeStep::Users => users::users_slice(w, &mut tenant).await?,
            FinalizeStep::Outbox => outbox::outbox_slice(w, &tenant).await?,
            FinalizeStep::Groups => groups::groups_step(w, &mut tenant).await?,
            FinalizeStep::Commit => return end(w, &mut tenant).await,
        }
        slices += 1;
    }
}

/// Finalize's first slice: claims the run's domains, chooses the buckets
/// (a bucket's staged lines and stored records about `pass_bytes`), and
/// when the staging is larger than a slice, seals its tail for the
/// partition step.
async fn begin<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>, base: &DirState) -> Result<()> {
    let now = w.now();
    let mut counts = w.doc.head.counts.clone();
    domains::claim_domains(w, now, &mut counts).await?;
    w.doc.head.counts = counts;
    let stored = base.shards.users.count as usize * shards::TARGET_BYTES;
    let pass_bytes = w.e.config.pass_bytes.max(1);
    let slices = (staged_bytes(w) + stored).div_ceil(pass_bytes);
    let buckets = slices.clamp(1, MAX_BUCKETS).next_power_of_two() as u32;
    // The copy in memory of an invocation that staged it all is read whole
    // by every bucket instead (`partition::catch_up` if it is gone later).
    let partition = partitions(w, buckets) && w.staged_lines().is_none();
    let step = match partition {
        false => FinalizeStep::Count,
        true => FinalizeStep::Partition,
    };
    if partition && !w.doc.tail.is_empty() {
        w.seal_tail().await?;
    }
    w.doc.head.finalize = Some(FinalizeProgress {
        step,
        now,
        buckets,
        ..FinalizeProgress::default()
    });
    Ok(())
}

/// The staging's size in bytes (a sealed chunk counted as a full one).
fn staged_bytes<S, C>(w: &Worker<'_, '_, S, C>) -> usize {
    let seal_bytes = w.e.config.seal_bytes.min(MAX_SEAL_BYTES);
    w.doc.head.sealed.len() * seal_bytes + w.doc.tail.len()
}

/// Whether finalize partitions the staging into `buckets` buckets' segments:
/// with more than one bucket, when it does not fit a slice (staging that
/// does is read whole by every bucket instead).
fn partitions<S, C>(w: &Worker<'_, '_, S, C>, buckets: u32) -> bool {
    buckets > 1 && staged_bytes(w) > w.e.config.pass_bytes.max(1)
}

/// The last step: the removal policy decides; then the removals and the
/// commit, or the hold.
async fn end<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &mut Tenant,
) -> Result<Finalized> {
    tenant.resolve(w).await?;
    let p = progress_of(w)?;
    let written = Written::new(p);
    let records = groups::group_records(tenant.scope()?, &p.counts, tenant.base_groups.clone());
    let access_removed = access::named(&p.access_removed, &records);
    let removals = Removals {
        users_leaving: w.doc.head.counts.users_left_scope,
        users_synced_before: tenant.base.synced_users,
        sample: &p.tally.leaving,
        access_removed: &access_removed,
    };
    if let Decision::Hold(pending) = RemovalPolicy::of(&w.doc.head).decide(&removals) {
        let counts = w.doc.head.counts.clone();
        policy::hold(w, pending, &written.shards, counts);
        return Ok(Finalized::Held);
    }
    // Nothing a reader of the directory sees was removed above this line.
    let base = &tenant.base;
    removals::release_domains(w, base).await?;
    let p = progress(w);
    let (removed, now) = (p.access_removed.clone(), p.now);
    removals::revoke_access(w, &removed, &records, now).await?;
    let p = progress(w);
    let outcome = Outcome {
        written,
        product_access: p.product_access.clone(),
        access_removed: p.access_removed.clone(),
        grants_read_at: p.grants_read_at,
        billable_users: p.tally.billable,
        synced_users: p.tally.synced,
        unverified_sample: p.tally.skipped.unverified_domain.names.clone(),
        now,
    };
    let counts = w.doc.head.counts.clone();
    let next = commit::next_state(w, base, outcome, &counts);
    commit::commit(w, base, &next).await?;
    Ok(Finalized::Done)
}

/// The state this run builds on: the one current when it started (every
/// invocation finalizing this run reads the same one).
async fn base_state<S: Store, C: Clock>(w: &Worker<'_, '_, S, C>) -> Result<DirState> {
    let (store, org, dir) = (w.e.store, w.org, w.dir);
    match w.doc.head.base {
        Some(base) => load_state_of(store, org, dir, base)
            .await?
            .ok_or_else(|| EngineError::Superseded(keys::state(org, dir, base))),
        None => Ok(DirState::default()),
    }
}

/// Whether this is an incremental run over a completed one whose staged
/// pages change nothing (the fast path: the directory stays as it is).
async fn reads_no_change<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
) -> Result<bool> {
    if !w.doc.head.cursor.incremental() || base.last_completed.is_none() {
        return Ok(false);
    }
    let mut changed = false;
    w.for_each_staged(|line| changed |= line.changes_something())
        .await?;
    Ok(!changed)
}
