//! The directory state document (`org/{org}/dir/{dir}/state`): shard
//! counts, claimed domains, product access, billing counters, the last
//! completed run and the delta tokens. Written at the end of finalize (after
//! the shards it points at) and by product-access changes, always with
//! compare-and-swap.

use crate::ports::{DeltaToken, Timestamp};
use crate::settings::Settings;
use crate::sync::types::OverLimitGroup;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ShardCounts {
    pub users: u32,
    pub groups: u32,
    pub members: u32,
    pub outbox: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claim {
    pub name: String,
    pub claimed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LastCompleted {
    pub run_id: u64,
    pub finished_at: Timestamp,
    /// Domains claimed by that run.
    pub domains: BTreeSet<String>,
    /// The groups that run started from (group scope), `None` for all users.
    pub selected: Option<BTreeSet<String>>,
    /// Groups whose product access that run removed.
    pub access_removed: Vec<String>,
}

/// What an incremental (delta) run continues from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DeltaState {
    pub users: DeltaToken,
    pub groups: DeltaToken,
    pub obtained_at: Timestamp,
    /// The settings and verified domains the tokens' base was synced with:
    /// an incremental run needs the same ones.
    pub basis: String,
}

/// Counts of the last completed run that an unchanged incremental run
/// reports again without reading the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tally {
    pub groups_synced: u64,
    pub skipped_unverified: u64,
    #[serde(default)]
    pub skipped_unsynced_groups: u64,
    pub over_limit: Vec<OverLimitGroup>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DirState {
    pub shards: ShardCounts,
    /// Shard layouts replaced by a larger count, deleted by the next finalize.
    pub stale: Vec<(String, u32)>,
    pub claimed: Vec<Claim>,
    pub product_access: BTreeSet<String>,
    pub billable_users: u64,
    pub synced_users: u64,
    pub last_completed: Option<LastCompleted>,
    pub delta: Option<DeltaState>,
    #[serde(default)]
    pub tally: Tally,
}

/// The fingerprint of what an incremental run must share with the run that
/// produced its delta tokens.
pub(crate) fn delta_basis(settings: &Settings, claimed: &BTreeSet<String>) -> String {
    let domains: Vec<&String> = claimed.iter().collect();
    serde_json::json!([settings.domains, settings.scope, domains]).to_string()
}
