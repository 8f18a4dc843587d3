//! The access step (at the end of the count step, once the synced groups
//! are known): which groups keep product access after this run and which
//! lose it. The grant records of the groups synced now and of those that
//! held access are the truth (the state's copy may have missed a concurrent
//! toggle); a group not synced by this run loses access (revoked by the
//! removal step, if the run proceeds). Billable users are counted by the
//! users step, bucket by bucket.

use crate::access;
use crate::error::Result;
use crate::model::GroupRecord;
use crate::ports::{Clock, Store};
use crate::sync::state::DirState;
use crate::sync::types::GroupRef;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, BTreeSet};

/// Product access after this run.
pub(super) struct Access {
    /// Groups with product access (granted and synced).
    pub product_access: BTreeSet<String>,
    /// Groups that lose it, in id order.
    pub removed: Vec<String>,
}

/// Reads the grants that matter and splits them into kept and removed.
pub(super) async fn access<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    synced: &BTreeSet<String>,
) -> Result<Access> {
    let candidates: BTreeSet<&String> = synced.iter().chain(&base.product_access).collect();
    let granted = access::granted(w.e.store, w.org, w.dir, candidates).await?;
    let removed: BTreeSet<String> = granted
        .iter()
        .chain(&base.product_access)
        .filter(|g| !synced.contains(*g))
        .cloned()
        .collect();
    let product_access = granted.into_iter().filter(|g| synced.contains(g)).collect();
    Ok(Access {
        product_access,
        removed: removed.into_iter().collect(),
    })
}

/// The groups `ids` with their names where the records know them.
pub(super) fn named(ids: &[String], groups: &BTreeMap<String, GroupRecord>) -> Vec<GroupRef> {
    ids.iter()
        .map(|id| GroupRef {
            id: id.clone(),
            display_name: groups.get(id).map(|g| g.data.name.clone()),
        })
        .collect()
}
