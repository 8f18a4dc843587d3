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
use crate::sync::progress::FinalizeProgress;
use crate::sync::types::{
    LogEvent, LogLevel, PendingRemovals, Phase, RunCounts, RunResult, RunSummary, Trigger,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

mod lines;

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

/// The run's state machine: everything but the staging tail.
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
    /// Every domain verified in the tenant when the run started, lower
    /// case (claimed or not): a domain is verified in one Entra tenant
    /// only, and every tenant has its verified `*.onmicrosoft.com`, so two
    /// directories sharing one are one tenant connected twice.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tenant_domains: BTreeSet<String>,
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
    /// Where the run is in the listings of its scope.
    pub cursor: Cursor,
    /// Sealed staging chunks, in order: the hashes in their keys
    /// ([`crate::keys::stage_chunk`]).
    pub sealed: Vec<u64>,
    /// Chunks no longer needed (finalize done, run failed, enumeration
    /// restarted), deleted at the next opportunity (idempotent).
    pub cleanup: Vec<u64>,
    /// Where finalize is, once it began (it spans invocations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalize: Option<FinalizeProgress>,
    pub counts: RunCounts,
    pub log: Vec<LogEvent>,
    /// How many events were dropped beyond the log cap.
    pub log_dropped: u32,
}

/// Where a run is in reading the tenant: what it holds depends on the
/// settings' scope, so code touches only the fields of the run's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub(crate) enum Cursor {
    /// The selected groups and the groups nested in them.
    Groups(GroupsCursor),
    /// Every user and group of the tenant.
    AllUsers(AllUsersCursor),
}

/// Group scope: the selected groups, walked breadth first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupsCursor {
    /// The groups the run starts from (found in the tenant).
    pub roots: Vec<GroupData>,
    /// The walk from the roots down the nested groups.
    pub walk: GroupWalk,
}

/// A breadth-first walk over groups' direct members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupWalk {
    /// Groups whose members are still to be read, front first.
    pub queue: VecDeque<String>,
    /// Every group discovered (to handle cycles and diamonds).
    pub seen: BTreeSet<String>,
    /// Direct users of the queue's front group read so far.
    pub front_users: u64,
    /// Names of the queued groups (for messages), by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

impl GroupWalk {
    /// A walk that starts from `roots`.
    pub fn from_roots(roots: &[GroupData]) -> GroupWalk {
        let ids = || roots.iter().map(|g| g.id.clone());
        GroupWalk {
            queue: ids().collect(),
            seen: ids().collect(),
            front_users: 0,
            names: BTreeMap::new(),
        }
    }

    /// Queues a group met for the first time (`false` if already seen).
    pub fn discover(&mut self, id: &str, name: &str) -> bool {
        if !self.seen.insert(id.to_owned()) {
            return false;
        }
        self.queue.push_back(id.to_owned());
        self.names.insert(id.to_owned(), name.to_owned());
        true
    }

    /// Done with the front group: the next one is read from its first page.
    pub fn pop_front(&mut self) {
        if let Some(id) = self.queue.pop_front() {
            self.names.remove(&id);
        }
        self.front_users = 0;
    }
}

/// All-users scope: the groups delta, then the users delta (or, for a
/// tenant without delta queries, full listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AllUsersCursor {
    /// Where the current delta listing continues.
    pub from: DeltaFrom,
    /// An incremental run over the previous delta tokens.
    pub incremental: bool,
    /// Incremental: the users delta token to continue from.
    pub users_token_in: Option<DeltaToken>,
    /// The token the users delta listing ended with.
    pub new_users_token: Option<DeltaToken>,
    /// The token the groups delta listing ended with.
    pub new_groups_token: Option<DeltaToken>,
    /// The tenant has no delta queries: `/groups` is listed in full, the
    /// members of every group walked, then `/users` listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_delta: Option<GroupWalk>,
}

impl Cursor {
    /// The selected groups the run starts from (none in all-users scope).
    pub fn roots(&self) -> &[GroupData] {
        match self {
            Cursor::Groups(c) => &c.roots,
            Cursor::AllUsers(_) => &[],
        }
    }

    /// Whether the run reads only the changes since the last run's delta
    /// tokens.
    pub fn incremental(&self) -> bool {
        matches!(self, Cursor::AllUsers(c) if c.incremental)
    }

    /// The users and groups delta tokens this run obtained, once both
    /// listings ended.
    pub fn new_delta_tokens(&self) -> Option<(&DeltaToken, &DeltaToken)> {
        match self {
            Cursor::AllUsers(AllUsersCursor {
                new_users_token: Some(users),
                new_groups_token: Some(groups),
                ..
            }) => Some((users, groups)),
            _ => None,
        }
    }

    /// The walk over groups' members, if the run has one.
    pub fn walk(&self) -> Option<&GroupWalk> {
        match self {
            Cursor::Groups(c) => Some(&c.walk),
            Cursor::AllUsers(c) => c.no_delta.as_ref(),
        }
    }

    /// The walk over groups' members, to move it on.
    pub fn walk_mut(&mut self) -> Option<&mut GroupWalk> {
        match self {
            Cursor::Groups(c) => Some(&mut c.walk),
            Cursor::AllUsers(c) => c.no_delta.as_mut(),
        }
    }

    /// Whether the run lists the tenant with delta queries.
    pub fn reads_delta(&self) -> bool {
        matches!(self, Cursor::AllUsers(c) if c.no_delta.is_none())
    }

    /// Whether the run lists every user and group in full (the tenant has
    /// no delta queries).
    pub fn lists_in_full(&self) -> bool {
        matches!(self, Cursor::AllUsers(c) if c.no_delta.is_some())
    }

    /// The first phase that reads a page.
    pub fn first_phase(&self) -> Phase {
        match self {
            Cursor::Groups(_) => Phase::Members,
            Cursor::AllUsers(_) => Phase::Groups,
        }
    }
}

impl RunHeader {
    /// Appends an event to the run's log, or counts it as dropped past `cap`;
    /// emits it as a `tracing` event either way.
    pub fn log(&mut self, cap: usize, at: Timestamp, level: LogLevel, message: impl Into<String>) {
        let message = message.into();
        self.trace(level, &message);
        if self.log.len() < cap {
            self.log.push(LogEvent { at, level, message });
        } else {
            self.log_dropped += 1;
        }
    }

    /// A run log event as a `tracing` event with the run's id and phase
    /// (the enclosing span names the org and directory).
    fn trace(&self, level: LogLevel, message: &str) {
        let (run_id, phase) = (self.run_id, self.phase.name());
        match level {
            LogLevel::Info => tracing::info!(run_id, phase, "{message}"),
            LogLevel::Warning => tracing::warn!(run_id, phase, "{message}"),
            LogLevel::Error => tracing::error!(run_id, phase, "{message}"),
        }
    }

    /// The run's line in the history: its log, with a last line saying
    /// how many events the cap dropped.
    pub fn summary(
        &self,
        result: RunResult,
        counts: RunCounts,
        finished_at: Timestamp,
    ) -> RunSummary {
        let mut log = self.log.clone();
        if self.log_dropped > 0 {
            log.push(LogEvent {
                at: finished_at,
                level: LogLevel::Info,
                message: format!("{} more events not kept", self.log_dropped),
            });
        }
        RunSummary {
            run_id: self.run_id,
            trigger: self.trigger,
            started_at: self.started_at,
            finished_at,
            result,
            counts,
            log,
        }
    }
}

/// A user's fields as a staged line carries them: boxed when the page is
/// read, so that finalize moves a pointer into its maps, not a few hundred
/// bytes into a box of its own. Serialized as the fields are.
pub(crate) type StagedUser = Box<UserData>;

/// One line of staging. The serialized field names are short on purpose:
/// staging is stored, a line per page and more. Decoded by `lines.rs`,
/// which reads the tag `"t"` first (it always comes first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "t")]
pub(crate) enum Staged {
    /// Group scope: a nested group discovered.
    #[serde(rename = "g")]
    Group {
        #[serde(rename = "g")]
        group: GroupData,
    },
    /// Group scope: one page of a group's direct members.
    #[serde(rename = "m")]
    Members {
        #[serde(rename = "g")]
        group: String,
        #[serde(rename = "u", skip_serializing_if = "Vec::is_empty")]
        users: Vec<StagedUser>,
        #[serde(rename = "sg", skip_serializing_if = "Vec::is_empty")]
        subgroups: Vec<String>,
    },
    /// Group scope: a group deleted from the tenant while the run read it.
    #[serde(rename = "x")]
    Deleted {
        #[serde(rename = "g")]
        group: String,
    },
    /// A group with more than 10,000 direct users (reading it stopped).
    #[serde(rename = "ov")]
    OverLimit {
        #[serde(rename = "g")]
        group: String,
        users: u64,
    },
    /// All-users scope: users added/changed and removed.
    #[serde(rename = "u")]
    Users {
        #[serde(rename = "up", skip_serializing_if = "Vec::is_empty")]
        upserted: Vec<StagedUser>,
        #[serde(rename = "rm", skip_serializing_if = "Vec::is_empty")]
        removed_ids: Vec<String>,
    },
    /// All-users scope: a group added/changed (with member changes; a big
    /// change spans several lines, only the first carrying `group`) or
    /// removed.
    #[serde(rename = "gd")]
    GroupDelta {
        id: String,
        #[serde(rename = "g", skip_serializing_if = "Option::is_none")]
        group: Option<GroupData>,
        #[serde(rename = "au", skip_serializing_if = "Vec::is_empty")]
        added_users: Vec<String>,
        #[serde(rename = "ag", skip_serializing_if = "Vec::is_empty")]
        added_groups: Vec<String>,
        #[serde(rename = "ru", skip_serializing_if = "Vec::is_empty")]
        removed_users: Vec<String>,
        #[serde(rename = "rg", skip_serializing_if = "Vec::is_empty")]
        removed_groups: Vec<String>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        removed: bool,
    },
}

impl Staged {
    /// Has the users this line carries keep their JSON once written, for
    /// finalize to copy into their shards (`UserData::remember_json`).
    pub fn remember_user_json(&self) {
        if let Staged::Members { users, .. }
        | Staged::Users {
            upserted: users, ..
        } = self
        {
            users.iter().for_each(|user| user.remember_json());
        }
    }

    /// A line of a group's changes (not its removal); `lists`: the added
    /// users, added groups, removed users and removed groups.
    pub fn group_delta(id: String, group: Option<GroupData>, lists: [Vec<String>; 4]) -> Staged {
        let [added_users, added_groups, removed_users, removed_groups] = lists;
        Staged::GroupDelta {
            id,
            group,
            added_users,
            added_groups,
            removed_users,
            removed_groups,
            removed: false,
        }
    }

    /// Takes a group delta's user changes out of the line: the group's id,
    /// its added users and its removed users (the line keeps the rest);
    /// `None` for any other line.
    pub fn take_user_changes(&mut self) -> Option<(String, Vec<String>, Vec<String>)> {
        match self {
            Staged::GroupDelta {
                id,
                added_users,
                removed_users,
                ..
            } => Some((
                id.clone(),
                std::mem::take(added_users),
                std::mem::take(removed_users),
            )),
            _ => None,
        }
    }

    /// Whether the line changes anything (an incremental round over an
    /// unchanged tenant stages only empty lines).
    pub fn changes_something(&self) -> bool {
        match self {
            Staged::Users {
                upserted,
                removed_ids,
            } => !upserted.is_empty() || !removed_ids.is_empty(),
            Staged::GroupDelta {
                group,
                added_users,
                added_groups,
                removed_users,
                removed_groups,
                removed,
                ..
            } => {
                *removed
                    || group.is_some()
                    || !(added_users.is_empty()
                        && added_groups.is_empty()
                        && removed_users.is_empty()
                        && removed_groups.is_empty())
            }
            _ => true,
        }
    }
}

/// A run document: its header, then the staging tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunDoc {
    /// The run's state machine.
    pub head: RunHeader,
    /// Staged lines not yet sealed into a chunk.
    pub tail: Vec<u8>,
}

impl RunDoc {
    /// The stored bytes: the header's line, then the tail.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = crate::codec::encode(&self.head);
        out.push(b'\n');
        out.extend_from_slice(&self.tail);
        out
    }

    /// Reads a stored run document (`key` names it in errors).
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

    /// Appends a staged line, already encoded (`codec::encode` of a
    /// [`Staged`]), to the tail.
    pub fn push_encoded(&mut self, line: &[u8]) {
        self.tail.extend_from_slice(line);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode;
    use crate::model::UserFields;

    fn round_trip(cursor: &Cursor) -> Cursor {
        decode("run/1", &encode(cursor)).expect("a cursor decodes as it was encoded")
    }

    #[test]
    fn a_group_scope_cursor_round_trips_with_its_walk() {
        let root = GroupData {
            id: "g1".into(),
            name: "Sales".into(),
            description: None,
        };
        let mut walk = GroupWalk::from_roots(std::slice::from_ref(&root));
        assert!(walk.discover("g2", "Sales EMEA"));
        assert!(
            !walk.discover("g1", "Sales"),
            "a seen group is not queued twice"
        );
        walk.front_users = 7;
        let cursor = Cursor::Groups(GroupsCursor {
            roots: vec![root],
            walk,
        });
        assert_eq!(round_trip(&cursor), cursor);
        assert!(
            String::from_utf8(encode(&cursor))
                .unwrap()
                .contains(r#""scope":"groups""#)
        );
        assert_eq!(cursor.first_phase(), Phase::Members);
        assert!(!cursor.incremental() && !cursor.reads_delta());
    }

    #[test]
    fn an_all_users_cursor_round_trips_with_its_delta_tokens() {
        let cursor = Cursor::AllUsers(AllUsersCursor {
            from: DeltaFrom::Delta(DeltaToken("groups-token".into())),
            incremental: true,
            users_token_in: Some(DeltaToken("users-token".into())),
            new_users_token: Some(DeltaToken("u2".into())),
            new_groups_token: Some(DeltaToken("g2".into())),
            no_delta: None,
        });
        assert_eq!(round_trip(&cursor), cursor);
        assert!(cursor.roots().is_empty() && cursor.walk().is_none());
        let tokens = cursor.new_delta_tokens().map(|(u, g)| (&u.0[..], &g.0[..]));
        assert_eq!(tokens, Some(("u2", "g2")));
        assert_eq!(cursor.first_phase(), Phase::Groups);
    }

    #[test]
    fn a_tenant_without_delta_walks_all_groups_in_full() {
        let cursor = Cursor::AllUsers(AllUsersCursor {
            from: DeltaFrom::Start,
            incremental: false,
            users_token_in: None,
            new_users_token: None,
            new_groups_token: None,
            no_delta: Some(GroupWalk::default()),
        });
        assert_eq!(round_trip(&cursor), cursor);
        assert!(cursor.lists_in_full() && !cursor.reads_delta());
        assert!(cursor.walk().is_some());
    }

    /// One line of every kind, with every optional field set.
    fn every_kind_of_line() -> Vec<Staged> {
        let group = GroupData {
            id: "g1".into(),
            name: "Sales".into(),
            description: Some("EMEA \"west\"".into()),
        };
        let user = UserData::from(UserFields {
            id: "u1".into(),
            upn: "ann@contoso.com".into(),
            mail: Some("ann@contoso.com".into()),
            display_name: Some("Ann".into()),
            given_name: Some("Ann".into()),
            surname: Some("Lee".into()),
            job_title: Some("CFO".into()),
            department: Some("Finance".into()),
            enabled: true,
            user_type: Some("Member".into()),
            creation_type: Some("Invitation".into()),
            other_mails: vec!["ann@example.org".into()],
        });
        let ids = || vec!["a".to_owned(), "b".to_owned()];
        vec![
            Staged::Group {
                group: group.clone(),
            },
            Staged::Members {
                group: "g1".into(),
                users: vec![Box::new(user.clone())],
                subgroups: ids(),
            },
            Staged::Deleted { group: "g1".into() },
            Staged::OverLimit {
                group: "g1".into(),
                users: 10_001,
            },
            Staged::Users {
                upserted: vec![Box::new(user)],
                removed_ids: ids(),
            },
            Staged::GroupDelta {
                id: "g1".into(),
                group: Some(group),
                added_users: ids(),
                added_groups: ids(),
                removed_users: ids(),
                removed_groups: ids(),
                removed: true,
            },
        ]
    }

    #[test]
    fn staged_lines_round_trip() {
        let lines = every_kind_of_line();
        let mut stored = Vec::new();
        for line in &lines {
            stored.extend(encode(line));
            stored.push(b'\n');
        }
        assert_eq!(parse_lines("stage", &stored).unwrap(), lines);
    }

    #[test]
    fn a_staged_line_not_written_by_the_engine_is_corrupt() {
        for line in [r#"{"g":"g1","t":"x"}"#, r#"{"t":"zz","g":"g1"}"#, "[1]"] {
            let err = parse_lines("stage/1.2", line.as_bytes()).unwrap_err();
            assert!(
                matches!(&err, EngineError::Corrupt(m) if m.starts_with("stage/1.2")),
                "{line}: {err:?}"
            );
        }
    }

    #[test]
    fn staged_lines_keep_their_compact_stored_names() {
        let line = |staged: &Staged| String::from_utf8(encode(staged)).unwrap();
        let members = Staged::Members {
            group: "g1".into(),
            users: Vec::new(),
            subgroups: vec!["g2".into()],
        };
        assert_eq!(line(&members), r#"{"t":"m","g":"g1","sg":["g2"]}"#);
        let users = Staged::Users {
            upserted: Vec::new(),
            removed_ids: vec!["u1".into()],
        };
        assert_eq!(line(&users), r#"{"t":"u","rm":["u1"]}"#);
        let delta = Staged::GroupDelta {
            id: "g1".into(),
            group: None,
            added_users: vec!["u1".into()],
            added_groups: vec!["g2".into()],
            removed_users: vec!["u3".into()],
            removed_groups: vec!["g4".into()],
            removed: false,
        };
        let stored = r#"{"t":"gd","id":"g1","au":["u1"],"ag":["g2"],"ru":["u3"],"rg":["g4"]}"#;
        assert_eq!(line(&delta), stored);
        assert_eq!(
            parse_lines("stage", stored.as_bytes()).unwrap(),
            vec![delta]
        );
    }
}
