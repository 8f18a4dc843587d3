//! Validated identifiers. Every store key is built from these, so a crafted
//! id can never escape its organization's key prefix.

use crate::error::EngineError;
use serde::{Deserialize, Serialize};
use std::fmt;

const MAX_SLUG: usize = 40;
const MAX_OBJECT_ID: usize = 64;

fn slug(what: &'static str, value: &str) -> Result<String, EngineError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_SLUG
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(EngineError::InvalidId {
            what,
            reason: format!("must be 1-{MAX_SLUG} characters of a-z, 0-9 and '-'"),
        })
    }
}

/// An organization id: `[a-z0-9-]{1,40}`, chosen by the API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

/// A directory id: `[a-z0-9-]{1,40}`, assigned by the engine (`d1`, `d2`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DirId(String);

macro_rules! slug_id {
    ($t:ident, $what:literal) => {
        impl $t {
            pub fn parse(value: &str) -> Result<Self, EngineError> {
                slug($what, value).map($t)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $t {
            type Error = EngineError;
            fn try_from(value: String) -> Result<Self, EngineError> {
                $t::parse(&value)
            }
        }
        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
slug_id!(OrgId, "organization id");
slug_id!(DirId, "directory id");

/// The pattern of [`OrgId`] and [`DirId`], for the OpenAPI document.
pub const SLUG_PATTERN: &str = "^[a-z0-9-]{1,40}$";
/// The pattern of an Entra object id (see [`check_object_id`]).
pub const OBJECT_ID_PATTERN: &str = "^[A-Za-z0-9-]{1,64}$";

/// Both slug ids are strings of [`SLUG_PATTERN`] in the OpenAPI document.
#[cfg(feature = "openapi")]
macro_rules! slug_schema {
    ($($t:ident),*) => {$(
        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(SLUG_PATTERN))
                    .into()
            }
        }

        impl utoipa::ToSchema for $t {}
    )*};
}

#[cfg(feature = "openapi")]
slug_schema!(OrgId, DirId);

/// Checks an Entra object id (group or user) taken from outside input:
/// 1-64 characters of ASCII letters, digits and '-'.
pub fn check_object_id(what: &'static str, value: &str) -> Result<(), EngineError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_OBJECT_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidId {
            what,
            reason: format!("must be 1-{MAX_OBJECT_ID} characters of letters, digits and '-'"),
        })
    }
}

/// The id as stored: Entra object ids are GUIDs, which Graph returns in
/// lower case and which compare case-insensitively (RFC 9562 §4), so a
/// GUID given in upper case is lowered; any other id is kept as it is.
pub fn canonical_object_id(value: &str) -> String {
    let groups: Vec<&str> = value.split('-').collect();
    let is_guid = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    if is_guid {
        value.to_ascii_lowercase()
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_in_any_case_is_the_stored_lower_case_id_and_other_ids_stay() {
        let id = "07DAF5B7-8D1E-4C2A-9F00-ABCDEF012345";
        assert_eq!(
            canonical_object_id(id),
            "07daf5b7-8d1e-4c2a-9f00-abcdef012345"
        );
        assert_eq!(canonical_object_id("U00001"), "U00001");
        assert_eq!(canonical_object_id("07DAF5B7-8D1E"), "07DAF5B7-8D1E");
    }

    #[test]
    fn ids_cannot_escape_their_prefix() {
        for bad in ["", "a/b", "../x", "A", "x y", &"a".repeat(41)] {
            assert!(OrgId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(OrgId::parse("acme-1").is_ok());
        assert!(check_object_id("group id", "g/../x").is_err());
    }
}
