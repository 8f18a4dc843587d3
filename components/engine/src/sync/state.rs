//! The directory state (`org/{org}/dir/{dir}/state/{run}`): where the
//! shard documents are, claimed domains, product access, billing counters,
//! the last completed run and the delta tokens.
//!
//! Each run's finalize writes its own state key, last, after the shards it
//! points at: that write is the moment the run's result becomes the
//! directory (a run that stops before it changed nothing anyone reads). The
//! current state is the newest run's if it finalized, else the one that run
//! started from ([`load_current`]). Product-access toggles update the
//! current state's copy of the access set in place.

use crate::codec::load;
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::{DeltaToken, Store, Timestamp};
use crate::settings::Settings;
use crate::shards::Layout;
use crate::sync::doc::{RunHeader, latest_head};
use crate::sync::types::OverLimitGroup;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where each collection's documents are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shards {
    pub users: Layout,
    pub groups: Layout,
    pub members: Layout,
    pub outbox: Layout,
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
    /// A few of the users skipped for an unverified domain, by sign-in
    /// name (what the run's log named): a delta run on the short path
    /// names them again without reading every user. Empty in a state
    /// written before it was kept (such a base takes the full pass once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified_sample: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DirState {
    /// The run whose finalize wrote this state (0: no run finalized yet).
    #[serde(default)]
    pub run: u64,
    /// The state this one was built on (`None` for the first).
    #[serde(default)]
    pub base: Option<u64>,
    pub shards: Shards,
    /// Document keys of the state this one replaced that it no longer
    /// uses: deleted by the next run's finalize (a reader of the older
    /// state may still be reading them now).
    #[serde(default)]
    pub garbage: Vec<String>,
    pub claimed: Vec<Claim>,
    pub product_access: BTreeSet<String>,
    pub billable_users: u64,
    pub synced_users: u64,
    pub last_completed: Option<LastCompleted>,
    pub delta: Option<DeltaState>,
    #[serde(default)]
    pub tally: Tally,
    /// When a run last read every synced group's grant record (the full
    /// pass does); between such runs, `product_access` is the copy every
    /// toggle keeps current, which a toggle racing a sync's commit can
    /// miss. The short path trusts the copy only this long after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants_read_at: Option<Timestamp>,
}

/// The fingerprint of what an incremental run must share with the run that
/// produced its delta tokens.
pub(crate) fn delta_basis(settings: &Settings, claimed: &BTreeSet<String>) -> String {
    let domains: Vec<&String> = claimed.iter().collect();
    serde_json::json!([settings.domains, settings.scope, domains]).to_string()
}

/// The state run `run` wrote, `None` if it never finalized.
pub(crate) async fn load_state_of<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    run: u64,
) -> Result<Option<DirState>> {
    load(store, &keys::state(org, dir, run)).await
}

/// The directory's current state: the newest run's if it finalized, else
/// the state that run started from; empty before any run finalized.
pub(crate) async fn load_current<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
) -> Result<DirState> {
    let newest = latest_head(store, org, dir).await?;
    state_as_of(store, org, dir, newest.as_ref()).await
}

/// The directory's state as of run `newest` (the newest run's header, as
/// the caller read it): its own state if it finalized, else its base.
pub(crate) async fn state_as_of<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
    newest: Option<&RunHeader>,
) -> Result<DirState> {
    let Some(head) = newest else {
        return Ok(DirState::default());
    };
    if let Some(state) = load_state_of(store, org, dir, head.run_id).await? {
        return Ok(state);
    }
    match head.base {
        Some(base) => Ok(load_state_of(store, org, dir, base)
            .await?
            .unwrap_or_default()),
        None => Ok(DirState::default()),
    }
}
