//! The access step: which groups keep product access after this run and
//! which lose it, and how many users are billable. The grant records of the
//! groups synced now and of those that held access are the truth (the
//! state's copy may have missed a concurrent toggle); a group not synced by
//! this run loses access (revoked by the removal step, if the run proceeds).

use super::resolve::Tenant;
use crate::access;
use crate::error::Result;
use crate::model::GroupRecord;
use crate::ports::{Clock, Store};
use crate::sync::state::DirState;
use crate::sync::types::{GroupRef, RunCounts};
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, BTreeSet};

/// Product access after this run.
pub(super) struct Access {
    /// Groups with product access (granted and synced).
    pub product_access: BTreeSet<String>,
    /// Groups that lose it, in id order.
    pub removed: Vec<String>,
    /// The same groups with their names, for the admin.
    pub removed_refs: Vec<GroupRef>,
    /// Distinct users in a group with product access.
    pub billable_users: u64,
}

/// Reads the grants that matter and splits them into kept and removed;
/// the counts list the groups losing access.
pub(super) async fn access_and_billing<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    tenant: &Tenant,
    groups: &BTreeMap<String, GroupRecord>,
    counts: &mut RunCounts,
) -> Result<Access> {
    let synced = &tenant.resolved.synced;
    let candidates: BTreeSet<&String> = synced.keys().chain(&base.product_access).collect();
    let granted = access::granted(w.e.store, w.org, w.dir, candidates).await?;
    let removed: BTreeSet<String> = granted
        .iter()
        .chain(&base.product_access)
        .filter(|g| !synced.contains_key(*g))
        .cloned()
        .collect();
    let removed: Vec<String> = removed.into_iter().collect();
    let product_access: BTreeSet<String> = granted
        .into_iter()
        .filter(|g| synced.contains_key(g))
        .collect();
    counts.access_removed = removed.clone();
    Ok(Access {
        removed_refs: named(&removed, groups),
        billable_users: tenant.shape.billable(&tenant.resolved, &product_access),
        product_access,
        removed,
    })
}

/// The groups `ids` with their names where the records know them.
fn named(ids: &[String], groups: &BTreeMap<String, GroupRecord>) -> Vec<GroupRef> {
    ids.iter()
        .map(|id| GroupRef {
            id: id.clone(),
            display_name: groups.get(id).map(|g| g.data.name.clone()),
        })
        .collect()
}
