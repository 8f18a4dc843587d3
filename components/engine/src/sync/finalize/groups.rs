//! The groups step: the group records after this run (the groups in scope
//! as the tenant has them now, nesting among them only; the others kept,
//! not synced) and the synced groups' member listings, merged from the
//! users step's member segments.

use super::tenant::{Tenant, progress, progress_of};
use crate::codec::decode;
use crate::error::Result;
use crate::model::{GroupRecord, MemberList};
use crate::ports::{Clock, Store};
use crate::shards::{self, Kind};
use crate::sync::progress::{FinalizeStep, GroupCount};
use crate::sync::shape::Scope;
use crate::sync::worker::Worker;
use std::collections::{BTreeMap, HashMap};

/// The group records after this run, from the base state's; `counts`:
/// each group's users.
pub(super) fn group_records(
    scope: &Scope,
    counts: &BTreeMap<String, GroupCount>,
    mut groups: BTreeMap<String, GroupRecord>,
) -> BTreeMap<String, GroupRecord> {
    let in_scope = &scope.in_scope;
    let mut parents = parents_in_scope(scope);
    for g in in_scope {
        let mut p = parents.remove(g.as_str()).unwrap_or_default();
        p.sort();
        let count = counts.get(g).copied().unwrap_or_default();
        groups.insert(g.clone(), group_record(scope, g, count, p));
    }
    for (_, rec) in groups.iter_mut().filter(|(id, _)| !in_scope.contains(*id)) {
        if rec.in_source || rec.synced {
            mark_not_in_sync(rec);
        }
    }
    groups
}

/// Each group in scope's parents among the groups in scope.
fn parents_in_scope(scope: &Scope) -> HashMap<&str, Vec<String>> {
    let in_scope = &scope.in_scope;
    let mut parents: HashMap<&str, Vec<String>> = HashMap::new();
    for g in in_scope {
        for c in scope.graph.children.get(g).into_iter().flatten() {
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
fn group_record(scope: &Scope, g: &String, count: GroupCount, parents: Vec<String>) -> GroupRecord {
    let graph = &scope.graph;
    let children = graph
        .children
        .get(g)
        .map(|c| {
            c.iter()
                .filter(|c| *c != g && graph.groups.contains_key(*c))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let outcome = scope.outcome(g, count);
    GroupRecord {
        data: graph.groups[g].clone(),
        in_source: true,
        synced: outcome.synced,
        not_synced_reason: outcome.reason,
        children,
        parents,
        member_count: outcome.member_count,
        entra_member_count: outcome.entra_member_count,
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
pub(super) async fn groups_step<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    tenant: &mut Tenant,
) -> Result<()> {
    tenant.resolve(w).await?;
    let scope = tenant.scope()?;
    let p = progress_of(w)?;
    let (store, org, dir, run) = (w.e.store, w.org, w.dir, w.doc.head.run_id);
    let old = &tenant.base.shards;
    let records = group_records(scope, &p.counts, tenant.base_groups.clone());
    let groups = shards::encode_entries(records);
    let groups = shards::save_all(store, org, dir, Kind::Groups, &old.groups, run, groups).await?;
    let lists = member_lists(w, scope.synced(&p.counts)).await?;
    let members = shards::encode_entries(lists);
    let members =
        shards::save_all(store, org, dir, Kind::Members, &old.members, run, members).await?;
    let p = progress(w);
    p.groups = groups;
    p.member_lists = members;
    p.step = FinalizeStep::Commit;
    Ok(())
}

/// Every synced group's members (each list in id order), from the users
/// step's member segments.
async fn member_lists<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    synced: impl IntoIterator<Item = String>,
) -> Result<BTreeMap<String, MemberList>> {
    let mut lists: BTreeMap<String, MemberList> = synced
        .into_iter()
        .map(|g| (g, MemberList::default()))
        .collect();
    for hash in &progress_of(w)?.members {
        let (key, bytes) = w.read_scratch(*hash).await?;
        let part: BTreeMap<String, MemberList> = decode(&key, &bytes)?;
        for (g, mut m) in part {
            let list = lists.entry(g).or_default();
            list.direct.append(&mut m.direct);
            list.nested.append(&mut m.nested);
        }
    }
    for list in lists.values_mut() {
        list.direct.sort();
        list.nested.sort();
    }
    Ok(lists)
}
