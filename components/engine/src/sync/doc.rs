//! The run document (`org/{org}/dir/{dir}/run`): the state machine of the
//! directory's current (or last) run, followed by the staging tail.
//!
//! Encoding: one JSON line (the header), then the tail: JSON lines of
//! [`Staged`] records accumulated by the pages read so far. When the tail
//! grows past `EngineConfig::seal_bytes` (640 KiB) it is moved to a sealed chunk
//! (`stage/{run}.{hash}`), so one page costs one write of this document and
//! the staging needs few keys.
//!
//! No compare-and-swap: the lease is written and read back, and every save
//! first reads the document to check the lease is still ours. Two
//! invocations may still both believe they hold it (a stale read, or a write
//! landing between the check and the save); each document either of them
//! writes is whole and consistent, because a sealed chunk's key is the hash
//! of its bytes (a chunk is never overwritten with other content).

use crate::codec::{decode, load};
use crate::error::EngineError;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::model::{GroupData, UserData};
use crate::ports::Store;
use crate::ports::{DeltaFrom, DeltaToken, PageToken, Timestamp};
use crate::settings::Settings;
use crate::sync::types::{LogEvent, LogLevel, PendingRemovals, Phase, RunCounts, Trigger};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The largest staging tail: the run document must stay under 1 MiB with
/// its header and one more page.
pub(crate) const MAX_SEAL_BYTES: usize = 640 * 1024;

/// Who works on the run now: a best-effort lease, to avoid duplicate work
/// (correctness never depends on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Lease {
    /// The holding invocation's token ([`crate::token::fresh`]).
    pub holder: u64,
    pub until: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunHeader {
    pub run_id: u64,
    /// The token of the start request that wrote this run: of two Syncs
    /// racing to start the same run id, the one whose token the store holds
    /// after both wrote started it; the other answers 409.
    #[serde(default)]
    pub start_token: u64,
    /// The run whose state this run started from (its finalize builds on
    /// it); `None` when no run had finalized.
    #[serde(default)]
    pub base: Option<u64>,
    /// Entra refused before the run could read anything (it finished at
    /// once, failed); automatic syncing retries sooner after it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
    /// False once the run finished (the document stays, for the schedule).
    pub active: bool,
    pub trigger: Trigger,
    pub started_at: Timestamp,
    /// The settings the run started with (edits apply to the next run).
    pub settings: Settings,
    pub phase: Phase,
    pub lease: Option<Lease>,
    pub waiting_until: Option<Timestamp>,
    /// Consecutive transient failures.
    pub retries: u32,
    /// What the removal guard holds for an admin's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingRemovals>,
    /// An admin confirmed the removals: finalize goes through.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removals_confirmed: bool,
    /// Documents the held finalize wrote (deleted if the removals are
    /// rejected).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
    /// The run failed because the app's credentials or consent were
    /// refused (counts toward quarantine).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub credential_failure: bool,
    /// When the current streak of transient failures began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// The last failure's message, while the run waits to try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Full enumerations restarted after an expired token.
    pub restarts: u32,
    /// Lower-case domains this run verifies and claims.
    pub claim: BTreeSet<String>,
    /// Group scope: the groups the run starts from (found in the tenant).
    pub roots: Vec<GroupData>,
    /// Group scope: groups whose members are still to be read, front first.
    pub queue: VecDeque<String>,
    /// Group scope: every group discovered (to handle cycles and diamonds).
    pub seen: BTreeSet<String>,
    /// Group scope: direct users of the queue's front group read so far.
    pub front_users: u64,
    /// The next page of the current listing.
    pub page: Option<PageToken>,
    /// The current listing's page links followed so far (hashes): a link
    /// seen again is a paging loop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followed: Vec<u64>,
    /// The hash of the previous page's item ids in the current listing: a
    /// page repeating it brought nothing new.
    #[serde(default)]
    pub last_page: u64,
    /// Names of the queued groups (for messages), by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// All-users scope: the tenant has no delta queries, so users, groups
    /// and members are enumerated in full (`/users`, `/groups`, members).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_delta: bool,
    /// All-users scope: where the current delta listing continues.
    pub from: Option<DeltaFrom>,
    /// All-users scope: an incremental run over the previous delta tokens.
    pub incremental: bool,
    /// All-users scope, incremental: the users delta token to continue from.
    pub users_token_in: Option<DeltaToken>,
    pub new_users_token: Option<DeltaToken>,
    pub new_groups_token: Option<DeltaToken>,
    /// Sealed staging chunks, in order: the hashes in their keys
    /// ([`crate::keys::stage_chunk`]).
    pub sealed: Vec<u64>,
    /// Chunks no longer needed (finalize done, run failed, enumeration
    /// restarted), deleted at the next opportunity (idempotent).
    pub cleanup: Vec<u64>,
    pub counts: RunCounts,
    pub log: Vec<LogEvent>,
    /// How many events were dropped beyond the log cap.
    pub log_dropped: u32,
}

impl RunHeader {
    pub fn log(&mut self, cap: usize, at: Timestamp, level: LogLevel, message: impl Into<String>) {
        if self.log.len() < cap {
            self.log.push(LogEvent {
                at,
                level,
                message: message.into(),
            });
        } else {
            self.log_dropped += 1;
        }
    }
}

/// One line of staging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub(crate) enum Staged {
    /// Group scope: a nested group discovered.
    #[serde(rename = "g")]
    Group { g: GroupData },
    /// Group scope: one page of a group's direct members.
    #[serde(rename = "m")]
    Members {
        g: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        u: Vec<UserData>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sg: Vec<String>,
    },
    /// Group scope: a group deleted from the tenant while the run read it.
    #[serde(rename = "x")]
    Deleted { g: String },
    /// A group with more than 10,000 direct users (reading it stopped).
    #[serde(rename = "ov")]
    OverLimit { g: String, users: u64 },
    /// All-users scope: users added/changed and removed.
    #[serde(rename = "u")]
    Users {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        up: Vec<UserData>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rm: Vec<String>,
    },
    /// All-users scope: a group added/changed (with member changes; a big
    /// change spans several lines, only the first carrying `g`) or removed.
    #[serde(rename = "gd")]
    GroupDelta {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        g: Option<GroupData>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        au: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ag: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ru: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rg: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        removed: bool,
    },
}

impl Staged {
    /// Whether the line changes anything (an incremental round over an
    /// unchanged tenant stages only empty lines).
    pub fn changes_something(&self) -> bool {
        match self {
            Staged::Users { up, rm } => !up.is_empty() || !rm.is_empty(),
            Staged::GroupDelta {
                g,
                au,
                ag,
                ru,
                rg,
                removed,
                ..
            } => {
                *removed
                    || g.is_some()
                    || !(au.is_empty() && ag.is_empty() && ru.is_empty() && rg.is_empty())
            }
            _ => true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunDoc {
    pub head: RunHeader,
    pub tail: Vec<u8>,
}

impl RunDoc {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = crate::codec::encode(&self.head);
        out.push(b'\n');
        out.extend_from_slice(&self.tail);
        out
    }

    pub fn decode(key: &str, bytes: &[u8]) -> Result<RunDoc, EngineError> {
        let (head, tail) = split(bytes);
        Ok(RunDoc {
            head: decode(key, head)?,
            tail: tail.to_vec(),
        })
    }

    /// Only the header (status requests need nothing else).
    pub fn decode_head(key: &str, bytes: &[u8]) -> Result<RunHeader, EngineError> {
        decode(key, split(bytes).0)
    }

    pub fn push(&mut self, line: &Staged) {
        self.tail.extend_from_slice(&crate::codec::encode(line));
        self.tail.push(b'\n');
    }
}

fn split(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|b| *b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

/// Parses staging lines (a sealed chunk or a tail).
pub(crate) fn parse_lines(key: &str, bytes: &[u8]) -> Result<Vec<Staged>, EngineError> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| decode(key, l))
        .collect()
}

/// Run documents kept besides the newest (older ones are deleted when a run
/// starts). A `head` hint left behind by more than this many runs (a write
/// paused that long) is still corrected, by probing further.
pub(crate) const KEPT_RUNS: u64 = 3;

/// The newest run of a directory: its id and document, `None` before the
/// first run. Reads the `head` hint (the newest run id as its start wrote
/// it), then probes the following ids: a hint that a late write set back
/// costs a read more, never a wrong answer.
///
/// # Errors
/// `Superseded` when the hint names a run but no run document is found (a
/// stale read): the caller retries rather than believing no run exists.
pub(crate) async fn latest<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
) -> Result<Option<(u64, Vec<u8>)>, EngineError> {
    let hint: u64 = load(store, &keys::dir_doc(org, dir, "head"))
        .await?
        .unwrap_or(0);
    let mut newest = None;
    let mut misses = 0;
    let mut id = hint.max(1);
    loop {
        match store.get(&keys::run(org, dir, id)).await? {
            Some(raw) => {
                newest = Some((id, raw));
                misses = 0;
            }
            None if newest.is_some() || hint == 0 => break,
            None => {
                misses += 1;
                if misses > KEPT_RUNS {
                    break;
                }
            }
        }
        id += 1;
    }
    if newest.is_none() && hint > 0 {
        // The hint says a run exists: a read that missed it was stale.
        // Answering "no run yet" would start run 1 over again.
        return Err(EngineError::Superseded(keys::run(org, dir, hint)));
    }
    Ok(newest)
}

/// The header of the newest run, `None` before the first run.
pub(crate) async fn latest_head<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
) -> Result<Option<RunHeader>, EngineError> {
    match latest(store, org, dir).await? {
        Some((id, raw)) => Ok(Some(RunDoc::decode_head(&keys::run(org, dir, id), &raw)?)),
        None => Ok(None),
    }
}
