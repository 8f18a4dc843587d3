//! The groups step: the group records after this run (the groups in scope
//! as the tenant has them now, nesting among them only; the others kept,
//! not synced) and the synced groups' member listings.

use super::resolve::Tenant;
use crate::error::Result;
use crate::model::GroupRecord;
use crate::ports::{Clock, Store};
use crate::shards::{self, Kind, Rewritten};
use crate::sync::state::DirState;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, HashMap};

/// The group and member documents this run wrote.
pub(super) struct GroupsWritten {
    /// The group records.
    pub groups: Rewritten,
    /// The synced groups' member listings.
    pub members: Rewritten,
}

/// The base state's group records.
pub(super) async fn load_base_groups<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
) -> Result<BTreeMap<String, GroupRecord>> {
    shards::load_all(w.e.store, w.org, w.dir, Kind::Groups, &base.shards.groups).await
}

/// The group records after this run, from the base state's.
pub(super) fn group_records(
    tenant: &Tenant,
    mut groups: BTreeMap<String, GroupRecord>,
) -> BTreeMap<String, GroupRecord> {
    let in_scope = &tenant.resolved.in_scope;
    let mut parents = parents_in_scope(tenant);
    for g in in_scope {
        let mut p = parents.remove(g.as_str()).unwrap_or_default();
        p.sort();
        groups.insert(g.clone(), group_record(tenant, g, p));
    }
    for (_, rec) in groups.iter_mut().filter(|(id, _)| !in_scope.contains(*id)) {
        if rec.in_source || rec.synced {
            mark_not_in_sync(rec);
        }
    }
    groups
}

/// Each group in scope's parents among the groups in scope.
fn parents_in_scope(tenant: &Tenant) -> HashMap<&str, Vec<String>> {
    let in_scope = &tenant.resolved.in_scope;
    let mut parents: HashMap<&str, Vec<String>> = HashMap::new();
    for g in in_scope {
        for c in tenant.shape.children.get(g).into_iter().flatten() {
            // A group is never its own parent (Graph may list a group
            // among its own members).
            if c != g && in_scope.contains(c) {
                parents.entry(c.as_str()).or_default().push(g.clone());
            }
        }
    }
    parents
}

/// The record of group `g`, in scope, with its sorted `parents`.
fn group_record(tenant: &Tenant, g: &String, parents: Vec<String>) -> GroupRecord {
    let (shape, resolved) = (&tenant.shape, &tenant.resolved);
    let children = shape
        .children
        .get(g)
        .map(|c| {
            c.iter()
                .filter(|c| *c != g && shape.groups.contains_key(*c))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let counts = resolved.member_counts.get(g).copied().unwrap_or_default();
    GroupRecord {
        data: shape.groups[g].clone(),
        in_source: true,
        synced: resolved.synced.contains_key(g),
        not_synced_reason: resolved.reasons.get(g).cloned(),
        children,
        parents,
        member_count: counts.synced,
        entra_member_count: counts.entra,
    }
}

/// A group this run did not find in scope: kept, not synced, no nesting.
fn mark_not_in_sync(rec: &mut GroupRecord) {
    rec.in_source = false;
    rec.synced = false;
    rec.not_synced_reason = Some("not in the latest sync".to_owned());
    rec.children.clear();
    rec.parents.clear();
    rec.member_count = 0;
    rec.entra_member_count = 0;
}

/// Writes the group records and the synced groups' member listings.
pub(super) async fn write_groups_and_memberships<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    tenant: &Tenant,
    groups: BTreeMap<String, GroupRecord>,
) -> Result<GroupsWritten> {
    let (store, org, dir, run) = (w.e.store, w.org, w.dir, w.doc.head.run_id);
    let old = &base.shards;
    let groups = shards::encode_entries(groups);
    let groups = shards::save_all(store, org, dir, Kind::Groups, &old.groups, run, groups).await?;
    let synced = tenant.resolved.synced.iter();
    let members = shards::encode_entries(synced.map(|(g, m)| (g, tenant.shape.member_list(m))));
    let members =
        shards::save_all(store, org, dir, Kind::Members, &old.members, run, members).await?;
    Ok(GroupsWritten { groups, members })
}
