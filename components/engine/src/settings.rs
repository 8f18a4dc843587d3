//! Per-directory sync settings and their validation.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many named domains or groups in one setting.
pub const MAX_LIST: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum DomainSelection {
    /// Every domain Entra marks verified.
    All,
    /// Only these (lower-cased) domains, and only if Entra marks them verified.
    Only { names: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum UserScope {
    AllUsersAndGroups,
    /// These groups (Entra object ids) with their users and nested groups.
    Groups {
        group_ids: Vec<String>,
    },
}

/// The accidental-removal guard: a run that would un-sync more users than
/// this, or take product access from any group, stops before removing
/// anything and waits for an admin to confirm or reject the removals (as
/// Entra provisioning's accidental-deletion threshold, 500 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovalGuard {
    /// Off: removals happen without asking.
    pub enabled: bool,
    /// At most this many users leaving the scope in one run (1-1,000,000)...
    pub max_users: u64,
    /// ... and at most this percentage of the synced users (1-100),
    /// whichever is lower.
    pub max_percent: u8,
}

impl Default for RemovalGuard {
    /// On: 500 users or 20 %, whichever is lower.
    fn default() -> Self {
        RemovalGuard {
            enabled: true,
            max_users: 500,
            max_percent: 20,
        }
    }
}

impl RemovalGuard {
    /// How many of `synced` users may leave the scope without asking.
    pub fn allowed(&self, synced: u64) -> u64 {
        self.max_users
            .min(synced.saturating_mul(u64::from(self.max_percent)) / 100)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub auto_sync: bool,
    pub domains: DomainSelection,
    pub scope: UserScope,
    pub send_email: bool,
    pub keep_previous_groups: bool,
    /// Settings saved before the guard existed load with its defaults.
    #[serde(default)]
    pub removal_guard: RemovalGuard,
}

impl Default for Settings {
    /// A new directory: automatic syncing off, everything in scope, no email.
    fn default() -> Self {
        Settings {
            auto_sync: false,
            domains: DomainSelection::All,
            scope: UserScope::AllUsersAndGroups,
            send_email: false,
            keep_previous_groups: false,
            removal_guard: RemovalGuard::default(),
        }
    }
}

/// Settings with their version, the ETag of optimistic concurrency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedSettings {
    pub version: u64,
    pub settings: Settings,
}

/// What "Save and sync later" accepts: everything but automatic syncing,
/// which only Sync and the auto-sync switch change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub domains: DomainSelection,
    pub scope: UserScope,
    pub send_email: bool,
    pub keep_previous_groups: bool,
    /// Optional in a body: absent keeps the default (on, 500 users or 20 %).
    #[serde(default)]
    pub removal_guard: RemovalGuard,
}

impl SettingsInput {
    /// Parses and validates a JSON body, collecting every field error.
    /// `auto_sync` is accepted and ignored (it is read-only here).
    ///
    /// Shape: `{"domains":{"mode":"all"}|{"mode":"only","names":[..]},
    /// "scope":{"mode":"all_users_and_groups"}|{"mode":"groups","group_ids":[..]},
    /// "send_email":bool, "keep_previous_groups":bool}`.
    pub fn from_json(body: &Value) -> Result<SettingsInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let Some(obj) = body.as_object() else {
            return Err(vec![FieldError::new("", "expected a JSON object")]);
        };
        for key in obj.keys() {
            if ![
                "domains",
                "scope",
                "send_email",
                "keep_previous_groups",
                "removal_guard",
                "auto_sync",
            ]
            .contains(&key.as_str())
            {
                errors.push(FieldError::new(key.clone(), "unknown field"));
            }
        }
        let domains = parse_domains(obj.get("domains"), &mut errors);
        let scope = parse_scope(obj.get("scope"), &mut errors);
        let send_email = parse_bool(obj, "send_email", &mut errors);
        let keep_previous_groups = parse_bool(obj, "keep_previous_groups", &mut errors);
        let removal_guard = parse_guard(obj.get("removal_guard"), &mut errors);
        if let Some(v) = obj.get("auto_sync")
            && !v.is_boolean()
        {
            errors.push(FieldError::new("auto_sync", "must be true or false"));
        }
        match (domains, scope, send_email, keep_previous_groups) {
            (Some(domains), Some(scope), Some(send_email), Some(keep_previous_groups))
                if errors.is_empty() =>
            {
                Ok(SettingsInput {
                    domains,
                    scope,
                    send_email,
                    keep_previous_groups,
                    removal_guard,
                })
            }
            _ => Err(errors),
        }
    }

    /// Validates an already-typed input (normalising domain case).
    pub fn validate(self) -> Result<SettingsInput, Vec<FieldError>> {
        let value = serde_json::to_value(&self).unwrap_or(Value::Null);
        SettingsInput::from_json(&value)
    }
}

/// `removal_guard`: absent is the default; else `{"enabled": bool,
/// "max_users": 1-1000000, "max_percent": 1-100}` (each field optional).
fn parse_guard(value: Option<&Value>, errors: &mut Vec<FieldError>) -> RemovalGuard {
    let mut guard = RemovalGuard::default();
    let Some(value) = value else {
        return guard;
    };
    let Some(obj) = value.as_object() else {
        errors.push(FieldError::new("removal_guard", "must be an object"));
        return guard;
    };
    for key in obj.keys() {
        if !["enabled", "max_users", "max_percent"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                format!("removal_guard.{key}"),
                "unknown field",
            ));
        }
    }
    if let Some(v) = obj.get("enabled") {
        match v.as_bool() {
            Some(b) => guard.enabled = b,
            None => errors.push(FieldError::new(
                "removal_guard.enabled",
                "must be true or false",
            )),
        }
    }
    if let Some(v) = obj.get("max_users") {
        match v.as_u64().filter(|n| (1..=1_000_000).contains(n)) {
            Some(n) => guard.max_users = n,
            None => errors.push(FieldError::new(
                "removal_guard.max_users",
                "must be a whole number from 1 to 1000000",
            )),
        }
    }
    if let Some(v) = obj.get("max_percent") {
        match v.as_u64().filter(|n| (1..=100).contains(n)) {
            Some(n) => guard.max_percent = n as u8,
            None => errors.push(FieldError::new(
                "removal_guard.max_percent",
                "must be a whole number from 1 to 100",
            )),
        }
    }
    guard
}

fn parse_bool(
    obj: &serde_json::Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<bool> {
    match obj.get(field) {
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

fn mode_of<'a>(
    field: &str,
    value: Option<&'a Value>,
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) -> Option<(&'a str, &'a serde_json::Map<String, Value>)> {
    let Some(obj) = value.and_then(Value::as_object) else {
        errors.push(FieldError::new(
            field,
            format!(
                "is required: an object with \"mode\" ({})",
                allowed.join(" or ")
            ),
        ));
        return None;
    };
    match obj.get("mode").and_then(Value::as_str) {
        Some(m) if allowed.contains(&m) => Some((m, obj)),
        _ => {
            errors.push(FieldError::new(
                format!("{field}.mode"),
                format!("must be one of: {}", allowed.join(", ")),
            ));
            None
        }
    }
}

fn string_list(
    field: &str,
    value: Option<&Value>,
    errors: &mut Vec<FieldError>,
    check: impl Fn(&str) -> Result<String, &'static str>,
) -> Option<Vec<String>> {
    let Some(items) = value.and_then(Value::as_array) else {
        errors.push(FieldError::new(field, "must be a list of strings"));
        return None;
    };
    if items.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
        return None;
    }
    if items.len() > MAX_LIST {
        errors.push(FieldError::new(
            field,
            format!("at most {MAX_LIST} entries"),
        ));
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let before = errors.len();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let Some(s) = item.as_str() else {
            errors.push(FieldError::new(at, "must be a string"));
            continue;
        };
        match check(s) {
            Ok(v) if out.iter().any(|o| o.eq_ignore_ascii_case(&v)) => {
                errors.push(FieldError::new(at, format!("duplicate entry {v:?}")))
            }
            Ok(v) => out.push(v),
            Err(msg) => errors.push(FieldError::new(at, msg)),
        }
    }
    (errors.len() == before).then_some(out)
}

fn parse_domains(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<DomainSelection> {
    let (mode, obj) = mode_of("domains", value, &["all", "only"], errors)?;
    unknown_inner("domains", obj, &["mode", "names"], errors);
    match mode {
        "all" => Some(DomainSelection::All),
        _ => string_list("domains.names", obj.get("names"), errors, normalize_domain)
            .map(|names| DomainSelection::Only { names }),
    }
}

fn parse_scope(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<UserScope> {
    let (mode, obj) = mode_of("scope", value, &["all_users_and_groups", "groups"], errors)?;
    unknown_inner("scope", obj, &["mode", "group_ids"], errors);
    match mode {
        "all_users_and_groups" => Some(UserScope::AllUsersAndGroups),
        _ => string_list("scope.group_ids", obj.get("group_ids"), errors, |s| {
            crate::ids::check_object_id("group id", s)
                .map(|_| s.to_owned())
                .map_err(|_| "not a group id (letters, digits and '-', at most 64)")
        })
        .map(|group_ids| UserScope::Groups { group_ids }),
    }
}

fn unknown_inner(
    field: &str,
    obj: &serde_json::Map<String, Value>,
    known: &[&str],
    errors: &mut Vec<FieldError>,
) {
    for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        errors.push(FieldError::new(format!("{field}.{key}"), "unknown field"));
    }
}

/// Lower-cases and checks a DNS domain name (`example.com`).
pub fn normalize_domain(name: &str) -> Result<String, &'static str> {
    let lower = name.trim().to_ascii_lowercase();
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if lower.len() > 253 || lower.split('.').count() < 2 || !lower.split('.').all(valid_label) {
        return Err("not a valid domain name (like example.com)");
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(body: Value) -> Vec<String> {
        SettingsInput::from_json(&body)
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
        let input = SettingsInput::from_json(&json!({
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
}
