//! JSON request bodies read into the engine's typed inputs, and the JSON
//! path each engine [`Field`] is reported under: the wire format lives here,
//! the rules in the engine.

pub mod saml;
pub mod settings;
pub mod switch;

use engine::Field;
use serde_json::{Map, Value};

use crate::error::FieldError;

/// A JSON object body (as [`crate::request::json_body`] reads it).
pub type Object = Map<String, Value>;

/// The JSON path an engine field is named by in `422` bodies.
pub fn field_path(field: Field) -> String {
    match field {
        Field::DomainNames => "domains.names".to_owned(),
        Field::DomainName(i) => format!("domains.names[{i}]"),
        Field::GroupIds => "scope.group_ids".to_owned(),
        Field::GroupId(i) => format!("scope.group_ids[{i}]"),
        Field::RemovalGuardMaxUsers => "removal_guard.max_users".to_owned(),
        Field::RemovalGuardMaxPercent => "removal_guard.max_percent".to_owned(),
        Field::IdpEntityId => "idp_entity_id".to_owned(),
        Field::SsoUrl => "sso_url".to_owned(),
        Field::CertificatePem => "certificate_pem".to_owned(),
        Field::Name => "name".to_owned(),
        Field::TenantId => "tenant_id".to_owned(),
        Field::ClientId => "client_id".to_owned(),
        Field::ClientSecret => "client_secret".to_owned(),
    }
}

/// The value of an engine check that passed; a failed one's errors are
/// added to `errors`, named by their JSON paths.
fn checked<T>(
    result: Result<T, Vec<engine::FieldError>>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    result
        .map_err(|e| errors.extend(e.iter().map(FieldError::from_engine)))
        .ok()
}

/// An "unknown field" error for each key of `object` not in `known`;
/// `prefix` is the object's own path with its dot (`""` at the top).
fn unknown_keys(prefix: &str, object: &Object, known: &[&str]) -> Vec<FieldError> {
    object
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .map(|key| FieldError::new(format!("{prefix}{key}"), "unknown field"))
        .collect()
}

/// A required `true`/`false` at `field` of `body`; a missing or other
/// value is an error named by `field`.
fn boolean(body: &Object, field: &str, errors: &mut Vec<FieldError>) -> Option<bool> {
    match body.get(field) {
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new(field, "must be true or false"));
            None
        }
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
    }
}
