//! Product access per group and billing.
//!
//! The truth is one small grant record per group
//! (`org/{org}/dir/{dir}/access/{group}`), written only by the admin's
//! toggle and by finalize's removal of dropped groups: two admins toggling
//! two groups at once write two keys, so neither grant is lost without
//! compare-and-swap. The directory state keeps a copy of the set with the
//! billable count beside it (billing is one small read per directory);
//! that copy is updated by every toggle and rebuilt from the grant records
//! by every finalize, so a copy that lost a concurrent toggle is repaired
//! by the next sync.

use crate::codec::{encode, load, update};
use crate::engine::context::Engine;
use crate::error::{ConflictReason, EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::model::MemberList;
use crate::ports::{Clock, Store, Timestamp};
use crate::query::find_group;
use crate::shards::{self, Kind};
use crate::sync::state::DirState;
use crate::views::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One group's product access as last set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Grant {
    /// The group (a hashed key may be shared by two very long ids).
    pub group: String,
    pub enabled: bool,
    /// When it was set (ms since the epoch).
    pub at: Timestamp,
}

/// The grant record of `group`, if it was ever set.
pub(crate) async fn grant<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    group: &str,
) -> Result<Option<Grant>> {
    let found: Option<Grant> = load(store, &keys::access(org, dir, group)).await?;
    Ok(found.filter(|g| g.group == group))
}

/// The groups among `candidates` whose grant record says enabled (one read
/// per candidate).
pub(crate) async fn granted<'g, S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    candidates: impl IntoIterator<Item = &'g String>,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for g in candidates {
        if grant(store, org, dir, g).await?.is_some_and(|r| r.enabled) {
            out.insert(g.clone());
        }
    }
    Ok(out)
}

/// Sets the grant record of `group`.
pub(crate) async fn set_grant<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    group: &str,
    grant: &Grant,
) -> Result<()> {
    Ok(store
        .set(&keys::access(org, dir, group), &encode(grant))
        .await?)
}

pub(crate) async fn set_product_access<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
    enabled: bool,
) -> Result<GroupView> {
    let (dir, current, group) = find_group(e, org, id).await?;
    // The stored id (a GUID may have been given in upper case).
    let id: &str = &group.data.id;
    if enabled && !group.synced {
        return Err(EngineError::Conflict(ConflictReason::GroupNotSynced {
            group: id.to_owned(),
        }));
    }
    let grant = Grant {
        group: id.to_owned(),
        enabled,
        at: e.now(),
    };
    set_grant(e.store, org, &dir, id, &grant).await?;
    // The copy in the current directory state, then the billable count of
    // the set as it stands after the change (stored only if the set is
    // unchanged). A state replaced meanwhile by a newer sync is left alone:
    // that sync read the grant records.
    let key = keys::state(org, &dir, current.run);
    let toggled: Option<DirState> = update(e.store, &key, |state: Option<DirState>| {
        let Some(mut state) = state else {
            return Ok((None, None));
        };
        let changed = if enabled {
            state.product_access.insert(id.to_owned())
        } else {
            state.product_access.remove(id)
        };
        Ok(if changed {
            (Some(state.clone()), Some(state))
        } else {
            (None, None)
        })
    })
    .await?;
    if let Some(state) = toggled {
        let count = billable_of(e.store, org, &dir, &state).await?;
        update(e.store, &key, |cur: Option<DirState>| {
            let Some(mut cur) = cur else {
                return Ok((None, ()));
            };
            if cur.product_access != state.product_access || cur.billable_users == count {
                return Ok((None, ()));
            }
            cur.billable_users = count;
            Ok((Some(cur), ()))
        })
        .await?;
    }
    crate::query::get_group(e, org, id).await
}

/// Distinct users in the groups of `state.product_access`, from the member
/// shards the state points at (one read per shard holding such a group).
async fn billable_of<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    state: &DirState,
) -> Result<u64> {
    let layout = &state.shards.members;
    let mut members: BTreeMap<String, MemberList> = BTreeMap::new();
    let mut loaded = BTreeSet::new();
    for g in &state.product_access {
        let s = shards::shard_of(g, layout.count);
        if layout.count > 0 && loaded.insert(s) {
            let shard: BTreeMap<String, MemberList> =
                shards::load_shard(store, org, dir, Kind::Members, layout, s).await?;
            members.extend(
                shard
                    .into_iter()
                    .filter(|(k, _)| state.product_access.contains(k)),
            );
        }
    }
    Ok(billable(&members, &state.product_access))
}

pub(crate) async fn billing<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
) -> Result<Billing> {
    let mut out = Billing {
        billable_users: 0,
        synced_users: 0,
        groups_with_access: 0,
    };
    for d in crate::orgs::list(e.store, org).await? {
        let state = crate::sync::state::load_current(e.store, org, &d.id).await?;
        out.billable_users += state.billable_users;
        out.synced_users += state.synced_users;
        out.groups_with_access += state.product_access.len() as u64;
    }
    Ok(out)
}

/// Distinct users in at least one group with product access.
fn billable(members: &BTreeMap<String, MemberList>, access: &BTreeSet<String>) -> u64 {
    let mut users: BTreeSet<&str> = BTreeSet::new();
    for g in access {
        if let Some(list) = members.get(g) {
            users.extend(list.direct.iter().chain(&list.nested).map(String::as_str));
        }
    }
    users.len() as u64
}
