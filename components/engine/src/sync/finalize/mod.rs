//! Finalize: turns what the run read into the directory. It runs only after
//! every page succeeded, so it is the only place where anything is removed
//! (memberships, users leaving the scope, product access of dropped groups).
//!
//! It is idempotent: it recomputes everything from the staged pages and the
//! stored records, and the per-record bookkeeping (`created_run`,
//! `changed_run`, `left_run`) makes a re-run after a crash produce the same
//! records, the same counts and no second email.
//!
//! [`finalize`] is a sequence of named steps, one file each:
//! `domains` (claim the run's domains), `resolve` (the tenant's shape:
//! stored + staged), `users`, `groups` (records and memberships), `access`
//! (product access and billing), `outbox` (welcome emails), `policy` (the
//! removal guard: proceed or hold), `removals` (the only step that removes
//! what readers of the current state see), `commit` (the state, last, then
//! the garbage). Until `commit`, every document written is new and unused.

mod access;
mod commit;
mod domains;
mod groups;
mod outbox;
mod policy;
mod removals;
mod resolve;
mod users;

use crate::error::{EngineError, Result};
use crate::keys;
use crate::ports::{Clock, Store};
use crate::sync::state::{DirState, load_state_of};
use crate::sync::worker::Worker;
use commit::{Outcome, Written};
use policy::{Decision, RemovalPolicy, Removals};

/// How finalize ended.
pub(crate) enum Finalized {
    /// The run's result is the directory now.
    Done,
    /// The removal guard holds the removals for an admin (nothing removed;
    /// the run's documents are written but not in use).
    Held,
}

/// Finalizes the run: its steps in order (see the module header).
pub(crate) async fn finalize<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
) -> Result<Finalized> {
    let base = base_state(w).await?;
    if reads_no_change(w, &base).await? {
        commit::unchanged(w, base).await?;
        return Ok(Finalized::Done);
    }
    let now = w.now();
    let mut counts = w.doc.head.counts.clone();
    domains::claim_domains(w, now, &mut counts).await?;
    let base_groups = groups::load_base_groups(w, &base).await?;
    let tenant = resolve::resolve_shape(w, &base, &base_groups, &mut counts).await?;
    let users = users::write_users(w, &base, &tenant, &mut counts).await?;
    let groups = groups::group_records(&tenant, base_groups);
    let access = access::access_and_billing(w, &base, &tenant, &groups, &mut counts).await?;
    let groups = groups::write_groups_and_memberships(w, &base, &tenant, groups).await?;
    let outbox = outbox::write_outbox(w, &base, &users.rewritten.layout, &counts).await?;
    let written = Written::new(users.rewritten, groups, outbox);
    let removals = Removals {
        users_leaving: counts.users_left_scope,
        users_synced_before: base.synced_users,
        sample: &users.leaving,
        access_removed: &access.removed_refs,
    };
    if let Decision::Hold(pending) = RemovalPolicy::of(&w.doc.head).decide(&removals) {
        policy::hold(w, pending, &written.shards, counts);
        return Ok(Finalized::Held);
    }
    // Nothing a reader of the directory sees was removed above this line.
    removals::release_domains(w, &base).await?;
    removals::revoke_access(w, &access.removed, now).await?;
    let outcome = Outcome {
        written,
        access,
        synced_users: users.synced,
        now,
    };
    let next = commit::next_state(w, &base, outcome, &counts);
    commit::commit(w, &base, &next).await?;
    w.doc.head.counts = counts;
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
