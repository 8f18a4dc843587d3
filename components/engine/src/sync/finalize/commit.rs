//! The commit step: the run's state, built from what the steps computed,
//! is written last (the moment the run's result becomes the directory);
//! then what no reader needs any more is deleted. Also the fast path of an
//! incremental run that read no change.

use crate::codec::encode;
use crate::error::Result;
use crate::keys;
use crate::ports::{Clock, Store, Timestamp};
use crate::settings::UserScope;
use crate::sync::doc::RunHeader;
use crate::sync::progress::{FinalizeProgress, Skipped};
use crate::sync::state::{Claim, DeltaState, DirState, LastCompleted, Shards, Tally, delta_basis};
use crate::sync::types::{LogLevel, RunCounts};
use crate::sync::worker::Worker;
use std::collections::BTreeSet;

/// The documents this run wrote: where each collection is now, and the
/// base state's documents the new layouts no longer use.
pub(super) struct Written {
    /// Each collection's documents after this run.
    pub shards: Shards,
    /// The base state's documents no longer in use (deleted by the next
    /// run's commit).
    pub garbage: Vec<String>,
}

impl Written {
    /// The collections as the users, outbox and groups steps left them.
    pub fn new(p: &FinalizeProgress) -> Self {
        let written = [&p.users, &p.groups, &p.member_lists, &p.outbox];
        let garbage = written
            .iter()
            .flat_map(|r| r.garbage.iter().cloned())
            .collect();
        let shards = Shards {
            users: p.users.layout.clone(),
            groups: p.groups.layout.clone(),
            members: p.member_lists.layout.clone(),
            outbox: p.outbox.layout.clone(),
        };
        Written { shards, garbage }
    }
}

/// What the steps computed that the next state records.
pub(super) struct Outcome {
    /// The documents the steps wrote.
    pub written: Written,
    /// Groups with product access after this run.
    pub product_access: BTreeSet<String>,
    /// Groups that lost it.
    pub access_removed: Vec<String>,
    /// When the grant records behind `product_access` were read.
    pub grants_read_at: Option<Timestamp>,
    /// Distinct users in a group with product access.
    pub billable_users: u64,
    /// Users synced after this run.
    pub synced_users: u64,
    /// A few users skipped for an unverified domain, by sign-in name.
    pub unverified_sample: Vec<String>,
    /// When finalize ran (dates new claims and the completed run).
    pub now: Timestamp,
}

/// The state after this run: the base state with the run's outcome.
pub(super) fn next_state<S, C>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    outcome: Outcome,
    counts: &RunCounts,
) -> DirState {
    let (h, now) = (&w.doc.head, outcome.now);
    let all_users = matches!(h.settings.scope, UserScope::AllUsersAndGroups);
    let selected = (!all_users).then(|| h.cursor.roots().iter().map(|g| g.id.clone()).collect());
    DirState {
        run: h.run_id,
        base: h.base,
        shards: outcome.written.shards,
        garbage: outcome.written.garbage,
        claimed: claims(base, &h.claim, now),
        product_access: outcome.product_access,
        grants_read_at: outcome.grants_read_at,
        billable_users: outcome.billable_users,
        synced_users: outcome.synced_users,
        last_completed: Some(completed(h, now, selected, outcome.access_removed)),
        delta: all_users.then(|| delta_state(h, now)).flatten(),
        tally: Tally {
            groups_synced: counts.groups_synced,
            skipped_unverified: counts.skipped_unverified_domain,
            skipped_unsynced_groups: counts.skipped_only_in_unsynced_groups,
            over_limit: counts.groups_over_limit.clone(),
            unverified_sample: outcome.unverified_sample,
        },
    }
}

/// The run's claims, each dated when first claimed by this directory.
fn claims(base: &DirState, claim: &BTreeSet<String>, now: Timestamp) -> Vec<Claim> {
    let claimed_at = |name: &String| {
        let before = base.claimed.iter().find(|c| &c.name == name);
        before.map_or(now, |c| c.claimed_at)
    };
    claim
        .iter()
        .map(|name| Claim {
            name: name.clone(),
            claimed_at: claimed_at(name),
        })
        .collect()
}

/// This run, as the last completed one.
fn completed(
    h: &RunHeader,
    now: Timestamp,
    selected: Option<BTreeSet<String>>,
    access_removed: Vec<String>,
) -> LastCompleted {
    LastCompleted {
        run_id: h.run_id,
        finished_at: now,
        domains: h.claim.clone(),
        selected,
        access_removed,
    }
}

/// Where the next incremental run continues, if the run got both tokens.
fn delta_state(h: &RunHeader, now: Timestamp) -> Option<DeltaState> {
    match h.cursor.new_delta_tokens() {
        Some((u, g)) => Some(DeltaState {
            users: u.clone(),
            groups: g.clone(),
            obtained_at: now,
            basis: delta_basis(&h.settings, &h.claim),
        }),
        _ => None,
    }
}

/// An incremental run that read no change: the directory stays as it is;
/// only the delta tokens and the last completed run move on.
pub(super) async fn unchanged<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    base: DirState,
) -> Result<()> {
    let now = w.now();
    let h = &w.doc.head;
    let mut counts = h.counts.clone();
    counts.users_unchanged = base.synced_users;
    counts.groups_synced = base.tally.groups_synced;
    // The skipped users are the last run's, and so is what the log says.
    let skipped = Skipped::of_last_run(&base.tally).report(&mut counts);
    counts.groups_over_limit = base.tally.over_limit.clone();
    counts.domains_claimed = h.claim.iter().cloned().collect();
    let next = DirState {
        run: h.run_id,
        base: h.base,
        garbage: Vec::new(),
        last_completed: Some(completed(h, now, None, Vec::new())),
        delta: delta_state(h, now),
        ..base.clone()
    };
    commit(w, &base, &next).await?;
    w.doc.head.counts = counts;
    for message in skipped {
        w.log(LogLevel::Warning, message);
    }
    Ok(())
}

/// Writes this run's state, the moment its result becomes the directory,
/// then deletes what no reader needs any more: the documents the base state
/// had stopped using, and the state before the base.
pub(super) async fn commit<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    next: &DirState,
) -> Result<()> {
    let store = w.e.store;
    store
        .set(&keys::state(w.org, w.dir, next.run), &encode(next))
        .await?;
    for key in &base.garbage {
        store.delete(key).await?;
    }
    if let Some(older) = base.base {
        store.delete(&keys::state(w.org, w.dir, older)).await?;
    }
    Ok(())
}
