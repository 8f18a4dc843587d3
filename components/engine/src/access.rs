//! Product access per group and billing. Access lives in the directory
//! state next to the maintained billable count, so billing is one small
//! read per directory.

use crate::engine::Engine;
use crate::error::{ConflictReason, EngineError, Result};
use crate::ids::OrgId;
use crate::keys;
use crate::model::MemberList;
use crate::ports::{Clock, Store};
use crate::query::find_group;
use crate::shards::{self, Kind};
use crate::sync::state::DirState;
use crate::views::*;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) async fn set_product_access<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    id: &str,
    enabled: bool,
) -> Result<GroupView> {
    let (dir, _, group) = find_group(e, org, id).await?;
    if enabled && !group.synced {
        return Err(EngineError::Conflict(ConflictReason::GroupNotSynced {
            group: id.to_owned(),
        }));
    }
    let key = keys::dir_doc(org, &dir, "state");
    for _ in 0..16 {
        let raw = e.store.get(&key).await?;
        let mut state: DirState = match &raw {
            Some(b) => crate::codec::decode(&key, b)?,
            None => DirState::default(),
        };
        let changed = if enabled {
            state.product_access.insert(id.to_owned())
        } else {
            state.product_access.remove(id)
        };
        if changed {
            // Recount from the member lists of the groups with access.
            let count = state.shards.members;
            let mut members: BTreeMap<String, MemberList> = BTreeMap::new();
            let mut loaded = BTreeSet::new();
            for g in &state.product_access {
                let s = shards::shard_of(g, count);
                if count > 0 && loaded.insert(s) {
                    let shard: BTreeMap<String, MemberList> =
                        shards::load_shard(e.store, org, &dir, Kind::Members, count, s).await?;
                    members.extend(
                        shard
                            .into_iter()
                            .filter(|(k, _)| state.product_access.contains(k)),
                    );
                }
            }
            state.billable_users = billable(&members, &state.product_access);
            if !e
                .store
                .compare_and_swap(&key, raw.as_deref(), &crate::codec::encode(&state))
                .await?
            {
                continue;
            }
        }
        return crate::query::get_group(e, org, id).await;
    }
    Err(EngineError::Store(crate::ports::StoreError::Backend(
        "directory state: too much contention".to_owned(),
    )))
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
        let state = crate::sync::start::load_state(e.store, org, &d.id).await?;
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
