//! The JSON body of `PUT .../settings`, read into the engine's
//! `SettingsInput`:
//! `{"domains":{"mode":"all"}|{"mode":"only","names":[..]},
//! "scope":{"mode":"all_users_and_groups"}|{"mode":"groups","group_ids":[..]},
//! "send_email":bool, "keep_previous_groups":bool,
//! "removal_guard"?:{"enabled"?,"max_users"?,"max_percent"?}, "auto_sync"?:bool}`.
//!
//! Read by hand, not by a derived `Deserialize`: that stops at the first
//! problem, and a `422` names every bad field at once, in the body's order.
//! Each part with the right shape is checked by the engine's rules as soon
//! as it is read, so shape and rule errors keep that order.

use engine::settings::{DomainSelection, RemovalGuard, SettingsInput, UserScope};
use serde_json::Value;

use super::{Object, boolean, checked, unknown_keys};
use crate::error::FieldError;

/// Reads and checks a settings body, collecting every field error.
/// `auto_sync` is accepted and ignored (only Sync and the switch change it).
pub fn settings_input(body: &Object) -> Result<SettingsInput, Vec<FieldError>> {
    let mut errors = unknown_keys(
        "",
        body,
        &[
            "domains",
            "scope",
            "send_email",
            "keep_previous_groups",
            "removal_guard",
            "auto_sync",
        ],
    );
    let domains = domains(body.get("domains"), &mut errors);
    let scope = scope(body.get("scope"), &mut errors);
    let send_email = boolean(body, "send_email", &mut errors);
    let keep_previous_groups = boolean(body, "keep_previous_groups", &mut errors);
    let removal_guard = removal_guard(body.get("removal_guard"), &mut errors);
    if body.get("auto_sync").is_some_and(|v| !v.is_boolean()) {
        errors.push(FieldError::new("auto_sync", "must be true or false"));
    }
    match (
        domains,
        scope,
        send_email,
        keep_previous_groups,
        removal_guard,
    ) {
        (
            Some(domains),
            Some(scope),
            Some(send_email),
            Some(keep_previous_groups),
            Some(removal_guard),
        ) if errors.is_empty() => Ok(SettingsInput {
            domains,
            scope,
            send_email,
            keep_previous_groups,
            removal_guard,
        }),
        _ => Err(errors),
    }
}

/// `domains`: `{"mode":"all"}` or `{"mode":"only","names":[..]}`.
fn domains(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<DomainSelection> {
    let selection = match mode_and_list("domains", value, ["all", "only"], "names", errors)? {
        None => DomainSelection::All,
        Some(names) => DomainSelection::Only { names },
    };
    checked(selection.validate(), errors)
}

/// `scope`: `{"mode":"all_users_and_groups"}` or
/// `{"mode":"groups","group_ids":[..]}`.
fn scope(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<UserScope> {
    let modes = ["all_users_and_groups", "groups"];
    let scope = match mode_and_list("scope", value, modes, "group_ids", errors)? {
        None => UserScope::AllUsersAndGroups,
        Some(group_ids) => UserScope::Groups { group_ids },
    };
    checked(scope.validate(), errors)
}

/// `{"mode": whole}` or `{"mode": listed, list: [..]}` at `field`: `None`
/// for the first, the list's strings for the second.
fn mode_and_list(
    field: &str,
    value: Option<&Value>,
    [whole, listed]: [&str; 2],
    list: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Option<Vec<String>>> {
    let (mode, object) = mode_of(field, value, &[whole, listed], errors)?;
    errors.extend(unknown_keys(&format!("{field}."), object, &["mode", list]));
    if mode == whole {
        return Some(None);
    }
    strings(&format!("{field}.{list}"), object.get(list), errors).map(Some)
}

/// `removal_guard`: absent is the default; each of its fields is optional.
fn removal_guard(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<RemovalGuard> {
    let mut guard = RemovalGuard::default();
    let Some(value) = value else {
        return Some(guard);
    };
    let Some(object) = value.as_object() else {
        errors.push(FieldError::new("removal_guard", "must be an object"));
        return None;
    };
    errors.extend(unknown_keys(
        "removal_guard.",
        object,
        &["enabled", "max_users", "max_percent"],
    ));
    if let Some(v) = object.get("enabled") {
        match v.as_bool() {
            Some(enabled) => guard.enabled = enabled,
            None => errors.push(FieldError::new(
                "removal_guard.enabled",
                "must be true or false",
            )),
        }
    }
    if let Some(v) = object.get("max_users") {
        guard.max_users = whole_number(v);
    }
    if let Some(v) = object.get("max_percent") {
        guard.max_percent = u8::try_from(whole_number(v)).unwrap_or(0);
    }
    checked(guard.validate(), errors)
}

/// A JSON whole number; anything else (a fraction, a negative number, a
/// string) reads as 0, which no range of the engine allows, so its range
/// message answers (as for a number out of range).
fn whole_number(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

/// An object with a `"mode"` among `allowed`: the mode and the object.
fn mode_of<'a>(
    field: &str,
    value: Option<&'a Value>,
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) -> Option<(&'a str, &'a Object)> {
    let Some(object) = value.and_then(Value::as_object) else {
        errors.push(FieldError::new(
            field,
            format!(
                "is required: an object with \"mode\" ({})",
                allowed.join(" or ")
            ),
        ));
        return None;
    };
    match object.get("mode").and_then(Value::as_str) {
        Some(mode) if allowed.contains(&mode) => Some((mode, object)),
        _ => {
            errors.push(FieldError::new(
                format!("{field}.mode"),
                format!("must be one of: {}", allowed.join(", ")),
            ));
            None
        }
    }
}

/// A JSON list of strings (the engine checks how many, and each one).
fn strings(
    field: &str,
    value: Option<&Value>,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<String>> {
    let Some(items) = value.and_then(Value::as_array) else {
        errors.push(FieldError::new(field, "must be a list of strings"));
        return None;
    };
    let before = errors.len();
    let strings: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let string = item.as_str().map(str::to_owned);
            if string.is_none() {
                errors.push(FieldError::new(format!("{field}[{i}]"), "must be a string"));
            }
            string
        })
        .collect();
    (errors.len() == before).then_some(strings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(body: Value) -> Result<SettingsInput, Vec<FieldError>> {
        settings_input(body.as_object().expect("an object"))
    }

    fn fields(body: Value) -> Vec<String> {
        read(body)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn every_bad_field_is_named() {
        let got = fields(json!({
            "domains": {"mode": "only", "names": ["Example.com", "example.COM"]},
            "scope": {"mode": "groups", "group_ids": []},
            "send_email": "yes",
            "colour": 1
        }));
        assert_eq!(
            got,
            vec![
                "colour",
                "domains.names[1]",
                "scope.group_ids",
                "send_email",
                "keep_previous_groups"
            ]
        );
        assert_eq!(
            fields(
                json!({"domains": {"mode": "only", "names": ["not a domain"]}, "scope": {"mode": "all_users_and_groups"}, "send_email": true, "keep_previous_groups": false})
            ),
            vec!["domains.names[0]"]
        );
    }

    #[test]
    fn domains_are_lower_cased() {
        let input = read(json!({
            "domains": {"mode": "only", "names": ["Contoso.COM"]},
            "scope": {"mode": "all_users_and_groups"},
            "send_email": true, "keep_previous_groups": false, "auto_sync": true
        }))
        .unwrap();
        assert_eq!(
            input.domains,
            DomainSelection::Only {
                names: vec!["contoso.com".into()]
            }
        );
    }

    #[test]
    fn a_guard_number_of_the_wrong_type_gets_the_range_message() {
        let errors = read(json!({
            "domains": {"mode": "all"}, "scope": {"mode": "all_users_and_groups"},
            "send_email": true, "keep_previous_groups": false,
            "removal_guard": {"max_users": "many", "max_percent": 300}
        }))
        .unwrap_err();
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "removal_guard.max_users",
                    "must be a whole number from 1 to 1000000"
                ),
                (
                    "removal_guard.max_percent",
                    "must be a whole number from 1 to 100"
                )
            ]
        );
    }
}
