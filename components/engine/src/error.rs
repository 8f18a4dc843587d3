//! The engine's error type: typed variants only. Which HTTP status each one
//! answers with is the API's business (`components/api/src/error.rs`).

use crate::ports::{SourceError, StoreError};
use serde::{Deserialize, Serialize};

/// The input field a [`FieldError`] is about. Adapters name it in their own
/// wire format (the API: a JSON path such as `domains.names[2]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `SettingsInput::domains`' list of names, as a whole.
    DomainNames,
    /// One entry of that list, by position.
    DomainName(usize),
    /// `SettingsInput::scope`'s list of group ids, as a whole.
    GroupIds,
    /// One entry of that list, by position.
    GroupId(usize),
    /// `RemovalGuard::max_users`.
    RemovalGuardMaxUsers,
    /// `RemovalGuard::max_percent`.
    RemovalGuardMaxPercent,
    /// `SamlConfig::idp_entity_id`.
    IdpEntityId,
    /// `SamlConfig::sso_url`.
    SsoUrl,
    /// `SamlConfig::certificate_pem`.
    CertificatePem,
    /// An organization's or a directory's display name.
    Name,
    /// `NewDirectory::tenant_id`.
    TenantId,
    /// `NewDirectory::client_id`.
    ClientId,
    /// `NewDirectory::sealed_secret` (the client secret, sealed).
    ClientSecret,
}

/// One invalid input field and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Which field.
    pub field: Field,
    /// What is wrong with it, for people (e.g. `must not be empty`).
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// Why an action was refused although the request itself was well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    #[error(
        "a sync is already in progress for this directory (run {run_id}); it cannot be stopped, and edits apply to the next sync"
    )]
    RunInProgress { run_id: u64 },
    #[error("a started sync cannot be stopped or cancelled; setting edits apply to the next sync")]
    CannotStop,
    #[error(
        "SAML single sign-on can be configured only after a sync has completed and claimed the organization's domains"
    )]
    NoCompletedRun,
    #[error("{what} already exists")]
    AlreadyExists { what: String },
    #[error("group {group} is not synced; product access can be granted only to synced groups")]
    GroupNotSynced { group: String },
    #[error("the directory index is full ({max} directories)")]
    TooManyDirectories { max: usize },
    #[error("no sync is waiting for its removals to be confirmed")]
    NothingToConfirm,
    #[error(
        "this tenant is already connected to the organization as directory {directory}: both verify {domain}, and a verified domain belongs to one Entra tenant; sync {directory} instead"
    )]
    TenantAlreadyConnected { directory: String, domain: String },
}

/// Everything an engine call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An id in the path or body is malformed (org, directory, group, cursor).
    #[error("invalid {what}: {reason}")]
    InvalidId { what: &'static str, reason: String },
    /// The input was understood but some fields break a rule.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{:?}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// Nothing of this kind here.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `expected_version` did not match; carries the current version.
    #[error("the settings changed since version {expected} (now {current}); reload and retry")]
    PreconditionFailed { expected: u64, current: u64 },
    /// A well-formed request the current state refuses, with the reason.
    #[error("{0}")]
    Conflict(ConflictReason),
    /// Entra / Graph failed (`SourceError::is_transient` says whether
    /// trying again later may help).
    #[error("identity source: {0}")]
    Source(#[from] SourceError),
    /// The store failed (`StoreError::Backend`: unavailable for now).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A stored document could not be decoded (or would not fit).
    #[error("stored data is corrupt or oversized: {0}")]
    Corrupt(String),
    /// A document the state read a moment ago points at was replaced by a
    /// newer sync meanwhile (and deleted); reading again succeeds.
    #[error("the directory changed while it was read ({0}); retry")]
    Superseded(String),
    /// A document the run wrote in an earlier invocation is not in the
    /// store yet: a store that replicates lazily may answer a read before
    /// it has the write (Akamai's reads its own writes only within one
    /// request). The run waits and reads it again (`sync/run.rs`).
    #[error("not in the store yet: {0}")]
    NotYetVisible(String),
}

/// What an engine call returns.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
