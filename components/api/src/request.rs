//! Reading requests: bearer token, JSON bodies, query parameters, `If-Match`.

use http::header;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};
pub use crate::respond::Request;

/// The largest request body accepted (settings with long group lists fit
/// easily; anything bigger is refused before parsing).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Parses the body as JSON into `T`.
///
/// Not JSON at all (content type or syntax) is a 415/400; JSON of the wrong
/// shape (unknown field, wrong type, missing field) is a 422 naming the field.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    require_json(req)?;
    let value: serde_json::Value = serde_json::from_slice(req.body())
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = field_of(&path, &message);
        ApiError::Validation {
            message: format!("invalid request body: {message}"),
            fields: vec![FieldError::new(field, message)],
        }
    })
}

/// Checks the content type of a request that must carry a JSON body.
fn require_json(req: &Request) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// The JSON path of the field an error concerns. serde reports a missing
/// field at its parent's path; name the field itself so clients can show
/// the message next to it.
fn field_of(path: &str, message: &str) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (missing, path) {
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => String::new(),
        (None, path) => path.to_owned(),
    }
}

/// One query parameter, decoded.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `?cursor=&limit=` of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

pub fn page_query(req: &Request) -> Result<PageQuery, ApiError> {
    let cursor = query_param(req, "cursor").filter(|c| !c.is_empty());
    let limit = match query_param(req, "limit").filter(|l| !l.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse::<usize>().map_err(|_| ApiError::Validation {
            message: "limit must be a positive integer".to_owned(),
            fields: vec![FieldError::new("limit", "must be a positive integer")],
        })?),
    };
    Ok(PageQuery { cursor, limit })
}

/// The version named by `If-Match`, without quotes or a weak prefix; `None`
/// when absent or `*`.
pub fn if_match(req: &Request) -> Option<String> {
    let raw = req.headers().get(header::IF_MATCH)?.to_str().ok()?.trim();
    if raw == "*" {
        return None;
    }
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    Some(raw.trim_matches('"').to_owned())
}
