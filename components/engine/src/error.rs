//! The engine's error type. Each variant says which HTTP status it maps to
//! (see `API.md`); the API adapter is the only place that does the mapping.

use crate::ports::{SourceError, StoreError};
use serde::{Deserialize, Serialize};

/// One invalid input field, for `422` bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The JSON field path, e.g. `domains.names[2]`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why an action was refused although the request itself was well-formed (409).
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

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// 400: an id in the path or body is malformed (org, directory, group, cursor).
    #[error("invalid {what}: {reason}")]
    InvalidId { what: &'static str, reason: String },
    /// 422: the body was understood but some fields are invalid.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// 404.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 412: `expected_version` did not match; carries the current version.
    #[error("the settings changed since version {expected} (now {current}); reload and retry")]
    PreconditionFailed { expected: u64, current: u64 },
    /// 409 with the reason.
    #[error("{0}")]
    Conflict(ConflictReason),
    /// 502 (503 with `Retry-After` when `is_transient`): Entra / Graph failed.
    #[error("identity source: {0}")]
    Source(#[from] SourceError),
    /// 503 when `StoreError::Backend`, else 500.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// 500: a stored document could not be decoded (or would not fit).
    #[error("stored data is corrupt or oversized: {0}")]
    Corrupt(String),
    /// 503: a document the state read a moment ago points at was replaced
    /// by a newer sync meanwhile (and deleted); reading again succeeds.
    #[error("the directory changed while it was read ({0}); retry")]
    Superseded(String),
}

impl EngineError {
    /// The HTTP status the API answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            EngineError::InvalidId { .. } => 400,
            EngineError::Validation(_) => 422,
            EngineError::NotFound(_) => 404,
            EngineError::PreconditionFailed { .. } => 412,
            EngineError::Conflict(_) => 409,
            EngineError::Source(e) if e.is_transient() => 503,
            EngineError::Source(_) => 502,
            EngineError::Store(StoreError::Backend(_)) | EngineError::Superseded(_) => 503,
            EngineError::Store(_) | EngineError::Corrupt(_) => 500,
        }
    }

    /// A stable machine-readable code for `{"error":{"code"}}`.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::InvalidId { .. } => "invalid_id",
            EngineError::Validation(_) => "validation_failed",
            EngineError::NotFound(_) => "not_found",
            EngineError::PreconditionFailed { .. } => "precondition_failed",
            EngineError::Conflict(ConflictReason::RunInProgress { .. }) => "run_in_progress",
            EngineError::Conflict(ConflictReason::CannotStop) => "cannot_stop",
            EngineError::Conflict(ConflictReason::NoCompletedRun) => "no_completed_sync",
            EngineError::Conflict(ConflictReason::AlreadyExists { .. }) => "already_exists",
            EngineError::Conflict(ConflictReason::GroupNotSynced { .. }) => "group_not_synced",
            EngineError::Conflict(ConflictReason::TooManyDirectories { .. }) => {
                "too_many_directories"
            }
            EngineError::Conflict(ConflictReason::NothingToConfirm) => "nothing_to_confirm",
            EngineError::Conflict(ConflictReason::TenantAlreadyConnected { .. }) => {
                "tenant_already_connected"
            }
            EngineError::Source(SourceError::Unauthorized { .. }) => "source_unauthorized",
            EngineError::Source(SourceError::Throttled { .. }) => "source_throttled",
            EngineError::Source(_) => "source_error",
            EngineError::Store(_) => "store_error",
            EngineError::Corrupt(_) => "corrupt_data",
            EngineError::Superseded(_) => "changed_while_read",
        }
    }

    /// Seconds the caller should wait (`Retry-After`), for throttling.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            EngineError::Source(SourceError::Throttled { retry_after_secs }) => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
