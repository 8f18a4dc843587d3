//! Public types of sync runs: budgets, previews, progress, status, history.

use crate::ports::{TimeDelta, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Scheduled,
}

/// How much one invocation may do before it saves its cursor and returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Wall time (by the engine's `Clock`) after which no new page is started.
    pub max_millis: u64,
    /// At most this many source pages (Graph requests) per invocation.
    pub max_pages: Option<u32>,
}

impl Default for Budget {
    /// 20 s, well under the 30 s request limit of serverless Spin hosts.
    fn default() -> Self {
        Budget {
            max_millis: 20_000,
            max_pages: None,
        }
    }
}

impl Budget {
    /// [`Budget::max_millis`] as a span of wall time.
    pub fn wall_time(&self) -> TimeDelta {
        TimeDelta::milliseconds(i64::try_from(self.max_millis).unwrap_or(i64::MAX))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Domains,
    Groups,
    Members,
    Users,
    Finalize,
    /// The removal guard stopped the run before it removed anything: an
    /// admin confirms or rejects the removals (`pending_removals`).
    AwaitingConfirmation,
    Emails,
}

impl Phase {
    /// The phase as the API spells it (`awaiting_confirmation`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::Domains => "domains",
            Phase::Groups => "groups",
            Phase::Members => "members",
            Phase::Users => "users",
            Phase::Finalize => "finalize",
            Phase::AwaitingConfirmation => "awaiting_confirmation",
            Phase::Emails => "emails",
        }
    }
}

/// A domain as a sync would treat it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainPlan {
    /// Lower case.
    pub name: String,
    pub verified_in_entra: bool,
    /// Selected by the settings (all, or named).
    pub selected: bool,
    /// Verified in another organization, which holds the claim: not
    /// verified here, its users are skipped as unverified.
    pub claimed_by_another_org: bool,
    /// Will be verified and claimed: selected, verified in Entra and not
    /// claimed by another organization.
    pub will_sync: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupPlan {
    pub id: String,
    /// `null` when the group does not exist in the tenant.
    pub display_name: Option<String>,
    /// Brought in by "keep previously synced groups" rather than selected.
    pub kept_from_previous: bool,
}

/// A group named in a preview's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRef {
    pub id: String,
    /// From the tenant for added groups, from the stored records for removed
    /// ones; `null` when neither knows the group.
    pub display_name: Option<String>,
}

/// Changes relative to the previous completed run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Changes {
    pub groups_added: Vec<GroupRef>,
    pub groups_removed: Vec<GroupRef>,
    pub domains_added: Vec<String>,
    pub domains_removed: Vec<String>,
}

/// What a sync would do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    /// `true`: all users and groups; `groups` is then empty.
    pub all_users_and_groups: bool,
    /// The groups to be synced (selected, plus kept previous ones); nested
    /// groups are discovered during the run.
    pub groups: Vec<GroupPlan>,
    /// Every tenant domain, with whether it will be synced.
    pub domains: Vec<DomainPlan>,
    pub changes: Changes,
    /// Human-readable notes: selected groups missing from the tenant, named
    /// domains not verified in Entra, groups that will lose product access.
    pub warnings: Vec<String>,
    pub send_email: bool,
}

/// The answer to Sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Confirmation {
    pub run_id: u64,
    pub preview: Preview,
    /// Always true after Sync.
    pub auto_sync: bool,
    /// "cannot be stopped; edits apply to the next sync".
    pub notice: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverLimitGroup {
    pub id: String,
    pub display_name: String,
    /// Users counted (at least 10,001).
    pub users: u64,
}

/// Counters of a run, live while it runs and final in its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCounts {
    pub pages: u64,
    pub users_seen: u64,
    pub groups_seen: u64,
    pub users_created: u64,
    pub users_updated: u64,
    pub users_unchanged: u64,
    /// Synced before, out of scope now: marked not synced, memberships removed.
    pub users_left_scope: u64,
    pub skipped_unverified_domain: u64,
    /// Group scope: users reached only through groups that are not synced
    /// (over the 10,000-user limit).
    #[serde(default)]
    pub skipped_only_in_unsynced_groups: u64,
    /// Devices, contacts, service principals among group members.
    pub skipped_non_user_members: u64,
    pub groups_synced: u64,
    pub groups_over_limit: Vec<OverLimitGroup>,
    /// Groups whose product access was removed by this run.
    pub access_removed: Vec<String>,
    pub emails_queued: u64,
    /// New accounts without a mailbox (`mail` or `otherMails`): no welcome
    /// email for them.
    #[serde(default)]
    pub emails_no_mailbox: u64,
    pub emails_sent: u64,
    pub domains_claimed: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Info,
    Warning,
    Error,
}

/// A notable event of a run, for troubleshooting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub at: Timestamp,
    pub level: LogLevel,
    pub message: String,
}

/// A run in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStatus {
    pub run_id: u64,
    pub trigger: Trigger,
    pub phase: Phase,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub started_at: Timestamp,
    /// Set while the run waits to try again (throttling, 5xx, a network
    /// or store failure): when the next attempt is due.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
    pub waiting_until: Option<Timestamp>,
    /// While waiting: the failed attempts so far in a row, and the last
    /// one's error (redacted of secrets).
    pub failed_attempts: u32,
    pub last_error: Option<String>,
    /// While waiting: when the run gives up if the failures go on.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
    pub gives_up_at: Option<Timestamp>,
    /// In phase `awaiting_confirmation`: what the run would remove.
    pub pending_removals: Option<PendingRemovals>,
    pub counts: RunCounts,
    pub log: Vec<LogEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RunResult {
    Completed,
    /// Nothing was removed; `error` says why.
    Failed {
        error: String,
    },
    /// An admin rejected the removals the run would have made; nothing was
    /// removed, and the next run decides again.
    Rejected {
        reason: String,
    },
}

/// What a run would remove, held by the removal guard for an admin to
/// confirm or reject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingRemovals {
    /// Synced users who would leave the scope (kept, but no longer synced
    /// and without memberships).
    pub users_leaving: u64,
    /// Synced users before this run.
    pub users_synced_before: u64,
    /// How many may leave without asking (the guard's threshold).
    pub users_allowed: u64,
    /// Some of the users leaving (sign-in names).
    pub sample: Vec<String>,
    /// Groups that would lose product access.
    pub access_removed: Vec<GroupRef>,
}

impl PendingRemovals {
    /// What the removals are, for a log line or a notice: "2 of 40 synced
    /// users would leave the scope and 1 group would lose product access".
    pub fn described(&self) -> String {
        let groups = match self.access_removed.len() {
            1 => "1 group".to_owned(),
            n => format!("{n} groups"),
        };
        format!(
            "{} of {} synced users would leave the scope and {groups} would lose product access",
            self.users_leaving, self.users_synced_before
        )
    }
}

/// A finished run in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub run_id: u64,
    pub trigger: Trigger,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub started_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub finished_at: Timestamp,
    #[serde(flatten)]
    pub result: RunResult,
    pub counts: RunCounts,
    pub log: Vec<LogEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncStatus {
    pub auto_sync: bool,
    /// Set while automatic syncing backs off after the app's credentials
    /// were refused in several runs in a row.
    pub quarantine: Option<Quarantine>,
    pub current: Option<RunStatus>,
    pub last: Option<RunSummary>,
    /// Start time of the most recent run (finished or not).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
    pub last_started_at: Option<Timestamp>,
    /// When automatic syncing will start the next run (`null` when off).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
    pub next_scheduled_at: Option<Timestamp>,
}

/// Why and until when a directory is quarantined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quarantine {
    /// Automatic runs wait until then (a manual Sync may run any time).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub until: Timestamp,
    /// The last refusal.
    pub reason: String,
    /// What to fix.
    pub advice: String,
}

/// What one `advance` call achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AdvanceOutcome {
    /// No run in progress.
    Idle,
    /// Another invocation holds the directory's lease until then.
    Busy {
        #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
        until: Timestamp,
    },
    /// Work done; the run goes on (call again, or at `waiting_until`).
    Progressed {
        run_id: u64,
        phase: Phase,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
        waiting_until: Option<Timestamp>,
    },
    /// The run finished during this call.
    Finished { run_id: u64, result: RunResult },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "tick", rename_all = "snake_case")]
pub enum TickOutcome {
    /// Nothing to do: automatic syncing off, or not due yet.
    Nothing {
        #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
        next_scheduled_at: Option<Timestamp>,
    },
    /// A scheduled run was started, then advanced.
    Started {
        run_id: u64,
        advance: AdvanceOutcome,
    },
    /// A run in progress was advanced.
    Advanced(AdvanceOutcome),
}
