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

/// Refuses a non-empty body that the routes which read one would refuse,
/// whatever its route: one that is not `application/json` (415), or one
/// [`json_object`] refuses (400). So a route that takes no body takes none
/// or a JSON object (which it ignores), and never acts on `hello` sent as
/// `text/plain`. Called before dispatch, so a refused body changes nothing.
pub fn check_json_body(req: &Request) -> Result<(), ApiError> {
    if req.body().is_empty() {
        return Ok(());
    }
    require_json(req)?;
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
    /// From 1 to [`engine::MAX_PAGE`] items.
    pub limit: Option<usize>,
}

/// Reads `?cursor=&limit=` (either absent or empty is `None`). A `limit`
/// that is not a whole number from 1 to [`engine::MAX_PAGE`] (500) is a
/// 422 on field `limit`, as the OpenAPI document declares it.
pub fn page_query(req: &Request) -> Result<PageQuery, ApiError> {
    let cursor = query_param(req, "cursor").filter(|c| !c.is_empty());
    let limit = match query_param(req, "limit").filter(|l| !l.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<usize>()
                .ok()
                .filter(|n| (1..=engine::MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    let message = format!("must be a whole number from 1 to {}", engine::MAX_PAGE);
                    ApiError::Validation {
                        message: format!("limit {message}"),
                        fields: vec![FieldError::new("limit", message)],
                    }
                })?,
        ),
    };
    Ok(PageQuery { cursor, limit })
}

/// The entity tags of `If-Match` (RFC 9110 §13.1.1): `None` when the
/// header is absent or `*` (any version), else every tag of the list (and
/// of repeated `If-Match` lines), in order. A strong tag `"3"` is given
/// without its quotes (`3`); a weak one keeps its form (`W/"3"`), since
/// `If-Match` compares strongly and a weak tag never matches.
///
/// Anything that is not `*` or a comma-separated list of quoted tags (e.g.
/// an unquoted `3`) is a `400` saying so.
pub fn if_match(req: &Request) -> Result<Option<Vec<String>>, ApiError> {
    let mut tags = Vec::new();
    for value in req.headers().get_all(header::IF_MATCH) {
        let value = value.to_str().map_err(|_| malformed_if_match())?;
        if value.trim() == "*" {
            return Ok(None);
        }
        tags.extend(entity_tags(value)?);
    }
    Ok((!tags.is_empty()).then_some(tags))
}

/// The tags of one `If-Match` line: `#entity-tag`, i.e. `[W/]"opaque"`
/// separated by commas and optional white space (empty elements allowed).
fn entity_tags(value: &str) -> Result<Vec<String>, ApiError> {
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Ok(tags);
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(quoted) => (true, quoted),
            None => (false, rest),
        };
        let opaque = quoted.strip_prefix('"').ok_or_else(malformed_if_match)?;
        let end = opaque.find('"').ok_or_else(malformed_if_match)?;
        let tag = &opaque[..end];
        tags.push(if weak {
            format!("W/\"{tag}\"")
        } else {
            tag.to_owned()
        });
        rest = &opaque[end + 1..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t', ','])) {
            return Err(malformed_if_match());
        }
    }
}

fn malformed_if_match() -> ApiError {
    ApiError::BadRequest(
        "If-Match must be * or a list of quoted entity tags, such as \"3\" (the ETag as sent)"
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(values: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
        let mut builder = http::Request::builder();
        for value in values {
            builder = builder.header(header::IF_MATCH, *value);
        }
        if_match(&builder.body(Vec::new()).expect("a request"))
    }

    fn list(items: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
        Ok(Some(items.iter().map(|s| (*s).to_owned()).collect()))
    }

    #[test]
    fn if_match_reads_a_list_of_entity_tags() {
        assert_eq!(tags(&[]), Ok(None));
        assert_eq!(tags(&["*"]), Ok(None));
        assert_eq!(tags(&["\"9\""]), list(&["9"]));
        assert_eq!(tags(&["\"1\", \"9\""]), list(&["1", "9"]));
        assert_eq!(tags(&["\"1\",W/\"9\" ,"]), list(&["1", "W/\"9\""]));
        assert_eq!(tags(&["\"1\"", "\"a,b\""]), list(&["1", "a,b"]));
    }

    #[test]
    fn if_match_without_quotes_is_a_bad_request() {
        for value in ["9", "\"1\" 9", "\"9", "\"1\"\"9\"", "W/9"] {
            assert!(
                matches!(tags(&[value]), Err(ApiError::BadRequest(_))),
                "{value}"
            );
        }
    }
}
