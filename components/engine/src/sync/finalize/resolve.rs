//! The resolve step: the tenant's shape as this run leaves it (for an
//! incremental run, what the base state stored, then the staged pages on
//! top) and what becomes of each group in scope.

use crate::error::Result;
use crate::model::{GroupRecord, UserData, UserRecord};
use crate::ports::{Clock, Store};
use crate::settings::UserScope;
use crate::shards::{self, Kind};
use crate::sync::shape::{Resolved, Shape};
use crate::sync::state::DirState;
use crate::sync::types::RunCounts;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, BTreeSet};

/// The tenant as this run resolved it.
pub(super) struct Tenant {
    /// Users (interned), groups, nesting and direct members.
    pub shape: Shape,
    /// The groups in scope and what becomes of each.
    pub resolved: Resolved,
    /// Every user and group is in scope (else: the selected groups').
    pub all_users: bool,
}

/// Whether a user may sync as far as domains go: a guest, or a user on a
/// domain this run claimed.
pub(super) fn eligible(claim: &BTreeSet<String>, user: &UserData) -> bool {
    user.is_guest() || claim.contains(&user.domain())
}

/// Builds and resolves the tenant's shape; counts the groups synced and
/// those over the size limit.
pub(super) async fn resolve_shape<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    base_groups: &BTreeMap<String, GroupRecord>,
    counts: &mut RunCounts,
) -> Result<Tenant> {
    let h = &w.doc.head;
    let all_users = matches!(h.settings.scope, UserScope::AllUsersAndGroups);
    let mut shape = Shape::default();
    if h.cursor.incremental() {
        add_stored(w, base, base_groups, &mut shape).await?;
    }
    for root in h.cursor.roots() {
        shape.groups.insert(root.id.clone(), root.clone());
    }
    w.for_each_staged(|line| shape.apply(line, &|u: &UserData| eligible(&h.claim, u)))
        .await?;
    let resolved = shape.resolve((!all_users).then_some(h.cursor.roots()));
    counts.groups_over_limit = resolved.over_limit.clone();
    counts.groups_synced = resolved.synced.len() as u64;
    Ok(Tenant {
        shape,
        resolved,
        all_users,
    })
}

/// Adds what the base state stored of the source (an incremental run
/// starts from it), a user document at a time.
async fn add_stored<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    base_groups: &BTreeMap<String, GroupRecord>,
    shape: &mut Shape,
) -> Result<()> {
    let users = &base.shards.users;
    for i in 0..users.count {
        let shard: BTreeMap<String, UserRecord> =
            shards::load_shard(w.e.store, w.org, w.dir, Kind::Users, users, i).await?;
        for (id, rec) in shard.iter().filter(|(_, r)| r.in_source) {
            let may_sync = eligible(&w.doc.head.claim, &rec.data);
            shape.add_user(id, may_sync, &rec.direct_groups);
        }
    }
    for rec in base_groups.values().filter(|r| r.in_source) {
        shape.add_group(rec.data.clone(), rec.children.iter().cloned());
    }
    Ok(())
}
