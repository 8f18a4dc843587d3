//! The removal step: the only code that removes anything a reader of the
//! directory sees before the run's state is written. It runs last before
//! `commit`, once every page was read and written and the removal policy
//! let the run proceed: it releases the domain claims this directory gave
//! up and revokes the product access of groups this run no longer syncs.
//!
//! The other removals of a run (users leaving the scope, memberships,
//! groups no longer in scope) are marks in the documents the earlier steps
//! wrote, which nobody reads until `commit` writes the state that points at
//! them; `commit` then deletes only documents no state in use points at.

use crate::access;
use crate::domains;
use crate::error::Result;
use crate::model::GroupRecord;
use crate::orgs;
use crate::ports::{Clock, Store, Timestamp};
use crate::sync::state::{DirState, load_current};
use crate::sync::types::LogLevel;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, BTreeSet};

/// Releases the domains the base state claimed that this run does not,
/// unless another directory of the organization still claims them.
pub(super) async fn release_domains<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
) -> Result<()> {
    let claim = &w.doc.head.claim;
    let dropped: Vec<&String> = base
        .claimed
        .iter()
        .map(|c| &c.name)
        .filter(|d| !claim.contains(*d))
        .collect();
    if dropped.is_empty() {
        return Ok(());
    }
    let elsewhere = claimed_by_other_directories(w).await?;
    for domain in dropped.into_iter().filter(|d| !elsewhere.contains(*d)) {
        domains::release(w.e.store, domain, w.org).await?;
    }
    Ok(())
}

/// The domains the organization's other directories claim now.
async fn claimed_by_other_directories<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
) -> Result<BTreeSet<String>> {
    let (store, org) = (w.e.store, w.org);
    let mut elsewhere = BTreeSet::new();
    for other in orgs::list(store, org)
        .await?
        .iter()
        .filter(|d| d.id != *w.dir)
    {
        let other = load_current(store, org, &other.id).await?;
        elsewhere.extend(other.claimed.into_iter().map(|c| c.name));
    }
    Ok(elsewhere)
}

/// The log line for group `id` losing product access; `record`: the
/// group's record after this run.
fn access_removed_message(id: &str, record: Option<&GroupRecord>) -> String {
    let group = match record {
        Some(r) => format!("\"{}\" ({id})", r.data.name),
        None => id.to_owned(),
    };
    let why = record.and_then(|r| r.not_synced_reason.as_deref());
    let why = why.unwrap_or("it is no longer synced");
    format!("product access removed from group {group}: {why}")
}

/// Revokes the product access of the groups in `removed` (a disabled grant
/// record each), with a log line per group naming it and why it is not
/// synced (from its record after this run, `records`).
pub(super) async fn revoke_access<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    removed: &[String],
    records: &BTreeMap<String, GroupRecord>,
    now: Timestamp,
) -> Result<()> {
    for g in removed {
        w.log(LogLevel::Info, access_removed_message(g, records.get(g)));
        let revoked = access::Grant {
            group: g.clone(),
            enabled: false,
            at: now,
        };
        access::set_grant(w.e.store, w.org, w.dir, g, &revoked).await?;
    }
    Ok(())
}
