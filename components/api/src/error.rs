//! API errors and their one JSON shape:
//! `{"error":{"code":"...","message":"...","fields":[{"field":"...","message":"..."}]}}`.

use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::respond::{Response, json};
use crate::wire::field_path;
use engine::error::{ConflictReason, EngineError};
use engine::ports::{SourceError, StoreError};

/// One field-level validation message of a `422` body: the field's JSON
/// path (e.g. `domains.names[2]`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON path of the field in the request body or query.
    pub field: String,
    /// What is wrong with it (an engine rule's message reaches the client
    /// unchanged).
    pub message: String,
}

impl FieldError {
    /// An error about the field at JSON path `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An engine rule's error, its field named by its JSON path.
    pub fn from_engine(e: &engine::FieldError) -> Self {
        FieldError::new(field_path(e.field), e.message.clone())
    }
}

/// Everything a request can fail with, each mapped to one status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not the JSON the route expects, or a query parameter is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 400: an id (path, body or cursor) the engine refuses as malformed.
    #[error("{0}")]
    InvalidId(String),
    /// 401: no token, or not one that grants access here.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 404: nothing here, or it belongs to another organization (the two
    /// are indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the path exists, the method does not.
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: &'static str },
    /// 408: the request's head, or its body, did not arrive within `secs`
    /// (`idp-sync-local`'s own server; Spin reads requests itself).
    #[error("the request did not arrive in full within {secs} seconds")]
    RequestTimeout { secs: u64 },
    /// 409: the request conflicts with the current state; `code` names why.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 412: `If-Match` named a version that is no longer current.
    #[error("the resource changed since version {sent}; current version is {current}")]
    PreconditionFailed { sent: String, current: String },
    /// 413: the body is larger than the route accepts.
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: a body that is not `application/json`.
    #[error("request body must be application/json")]
    UnsupportedMediaType,
    /// 422: well-formed JSON with invalid values.
    #[error("{message}")]
    Validation {
        message: String,
        fields: Vec<FieldError>,
    },
    /// 502: the identity provider failed in a way the caller should see
    /// (e.g. refused credentials during a preview).
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    /// 503: the key-value store or the identity provider is unavailable for
    /// now; `retry_after_secs` becomes `Retry-After`.
    #[error("{message}")]
    Unavailable {
        code: &'static str,
        message: String,
        retry_after_secs: Option<u64>,
    },
    /// 500: a bug or an impossible state; the message is safe to show.
    #[error("{0}")]
    Internal(String),
}

/// Every error's body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

/// What went wrong: a stable `code`, a message, and for 422 the fields.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
}

impl ApiError {
    /// A `422` naming the invalid fields.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        ApiError::Validation {
            message: "some fields are invalid".to_owned(),
            fields,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidId(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidId(_) => "invalid_id",
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::RequestTimeout { .. } => "request_timeout",
            ApiError::Conflict { code, .. }
            | ApiError::Upstream { code, .. }
            | ApiError::Unavailable { code, .. } => code,
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Validation { .. } => "validation_failed",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The error response: status, `{"error":{..}}` body and the headers
    /// the status calls for (`WWW-Authenticate`, `Allow`, `Retry-After`).
    pub fn into_response(self) -> Response {
        let fields: &[FieldError] = match &self {
            ApiError::Validation { fields, .. } => fields,
            _ => &[],
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                fields,
            },
        };
        let status = self.status();
        if status.is_server_error() {
            // The operator's trace of a failure the client saw (messages
            // carry no secret: Graph errors are redacted before here).
            tracing::warn!(
                response_status = status.as_u16(),
                code = self.code(),
                error = %self,
                "request failed"
            );
        }
        let mut response = json(status, &body);
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"idp-sync\""),
                );
            }
            ApiError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Unavailable {
                retry_after_secs: Some(secs),
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        response
    }
}

impl From<EngineError> for ApiError {
    /// The one place an engine error becomes a status: its variant picks
    /// the `ApiError` (and so the status), [`engine_code`] the code, and
    /// its text is the message.
    fn from(e: EngineError) -> Self {
        let code = engine_code(&e);
        let message = e.to_string();
        match e {
            EngineError::InvalidId { .. } => ApiError::InvalidId(message),
            EngineError::Validation(fields) => {
                ApiError::invalid_fields(fields.iter().map(FieldError::from_engine).collect())
            }
            EngineError::NotFound(what) => ApiError::NotFound(what),
            EngineError::PreconditionFailed { expected, current } => ApiError::PreconditionFailed {
                sent: expected.to_string(),
                current: current.to_string(),
            },
            EngineError::Conflict(_) => ApiError::Conflict { code, message },
            EngineError::Source(source) if source.is_transient() => ApiError::Unavailable {
                code,
                message,
                retry_after_secs: match source {
                    SourceError::Throttled { retry_after_secs } => Some(retry_after_secs),
                    _ => None,
                },
            },
            EngineError::Source(_) => ApiError::Upstream { code, message },
            EngineError::Store(StoreError::Backend(_))
            | EngineError::Superseded(_)
            | EngineError::NotYetVisible(_) => ApiError::Unavailable {
                code,
                message,
                retry_after_secs: None,
            },
            EngineError::Store(_) | EngineError::Corrupt(_) => ApiError::Internal(message),
        }
    }
}

/// The stable machine-readable code of an engine error, for
/// `{"error":{"code"}}`.
fn engine_code(e: &EngineError) -> &'static str {
    match e {
        EngineError::InvalidId { .. } => "invalid_id",
        EngineError::Validation(_) => "validation_failed",
        EngineError::NotFound(_) => "not_found",
        EngineError::PreconditionFailed { .. } => "precondition_failed",
        EngineError::Conflict(reason) => conflict_code(reason),
        EngineError::Source(SourceError::Unauthorized { .. }) => "source_unauthorized",
        EngineError::Source(SourceError::Throttled { .. }) => "source_throttled",
        EngineError::Source(_) => "source_error",
        EngineError::Store(_) | EngineError::NotYetVisible(_) => "store_error",
        EngineError::Corrupt(_) => "corrupt_data",
        EngineError::Superseded(_) => "changed_while_read",
    }
}

/// The code of a 409, naming why.
fn conflict_code(reason: &ConflictReason) -> &'static str {
    match reason {
        ConflictReason::RunInProgress { .. } => "run_in_progress",
        ConflictReason::CannotStop => "cannot_stop",
        ConflictReason::NoCompletedRun => "no_completed_sync",
        ConflictReason::AlreadyExists { .. } => "already_exists",
        ConflictReason::GroupNotSynced { .. } => "group_not_synced",
        ConflictReason::TooManyDirectories { .. } => "too_many_directories",
        ConflictReason::NothingToConfirm => "nothing_to_confirm",
        ConflictReason::TenantAlreadyConnected { .. } => "tenant_already_connected",
    }
}
