//! Reading requests: bearer token, JSON bodies, query parameters, `If-Match`.

use std::fmt;

use http::header;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

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
/// Not JSON at all (content type or syntax), not a JSON object, or an object
/// repeating a key at any depth is a 415/400 (see [`json_object`]); JSON of
/// the wrong shape (unknown field, wrong type, missing field) is a 422
/// naming the field.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    require_json(req)?;
    let value = serde_json::Value::Object(json_object(req.body())?);
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

/// Refuses a request that carries a JSON body (`Content-Type:
/// application/json` and at least one byte) which [`json_object`] refuses,
/// whatever its route: a route that ignores its body must not act on a body
/// the routes that read one would refuse. Called before dispatch, so a
/// refused body changes nothing.
pub fn check_json_body(req: &Request) -> Result<(), ApiError> {
    if req.body().is_empty() || require_json(req).is_err() {
        return Ok(());
    }
    json_object(req.body()).map(drop)
}

/// Parses `bytes` as one JSON object whose objects, at every depth, name
/// each key once. Anything else is a 400 saying what is wrong: malformed
/// JSON, another JSON type at the top (`[false]`, `"x"`, `1`, `null`), or a
/// repeated key (which serde_json would silently resolve to the last one).
pub fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let UniqueKeys(value) = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))?;
    match value {
        serde_json::Value::Object(map) => Ok(map),
        other => Err(ApiError::BadRequest(format!(
            "the body must be a JSON object, not {}",
            json_type(&other)
        ))),
    }
}

/// "an array", "a string", ...: a JSON value's type, for messages.
fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A JSON value read with every object's keys required to be unique.
struct UniqueKeys(serde_json::Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json never hands over a non-finite number; `Null` is unreachable.
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        UniqueKeys::deserialize(d).map(|UniqueKeys(v)| v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
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
