//! Per-directory sync settings and their validation.

use crate::error::{Field, FieldError};
use serde::{Deserialize, Serialize};

/// At most this many named domains or groups in one setting.
pub const MAX_LIST: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum DomainSelection {
    /// Every domain Entra marks verified.
    All,
    /// Only these (lower-cased) domains, and only if Entra marks them verified.
    Only { names: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemovalGuard {
    /// Off: removals happen without asking.
    pub enabled: bool,
    /// At most this many users leaving the scope in one run (1-1,000,000)...
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1_000_000))]
    pub max_users: u64,
    /// ... and at most this percentage of the synced users (1-100),
    /// whichever is lower.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionedSettings {
    pub version: u64,
    pub settings: Settings,
}

/// What "Save and sync later" accepts: everything but automatic syncing,
/// which only Sync and the auto-sync switch change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsInput {
    pub domains: DomainSelection,
    pub scope: UserScope,
    pub send_email: bool,
    pub keep_previous_groups: bool,
    /// Optional in a body: absent keeps the default (on, 500 users or 20 %).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub removal_guard: RemovalGuard,
}

impl SettingsInput {
    /// Checks every rule, collecting every field error, and normalises
    /// (domain names lower-cased).
    pub fn validate(self) -> Result<SettingsInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let domains = collect(self.domains.validate(), &mut errors);
        let scope = collect(self.scope.validate(), &mut errors);
        let removal_guard = collect(self.removal_guard.validate(), &mut errors);
        match (domains, scope, removal_guard) {
            (Some(domains), Some(scope), Some(removal_guard)) => Ok(SettingsInput {
                domains,
                scope,
                removal_guard,
                ..self
            }),
            _ => Err(errors),
        }
    }
}

/// The value of a check that passed; a failed one's errors go to `errors`.
fn collect<T>(checked: Result<T, Vec<FieldError>>, errors: &mut Vec<FieldError>) -> Option<T> {
    checked.map_err(|e| errors.extend(e)).ok()
}

impl DomainSelection {
    /// `Only`: 1-[`MAX_LIST`] valid domain names, each once (compared
    /// without case); returned lower-cased.
    pub fn validate(self) -> Result<DomainSelection, Vec<FieldError>> {
        match self {
            DomainSelection::All => Ok(DomainSelection::All),
            DomainSelection::Only { names } => checked_list(
                &names,
                Field::DomainNames,
                Field::DomainName,
                normalize_domain,
            )
            .map(|names| DomainSelection::Only { names }),
        }
    }
}

impl UserScope {
    /// `Groups`: 1-[`MAX_LIST`] Entra object ids, each once.
    pub fn validate(self) -> Result<UserScope, Vec<FieldError>> {
        match self {
            UserScope::AllUsersAndGroups => Ok(UserScope::AllUsersAndGroups),
            UserScope::Groups { group_ids } => {
                checked_list(&group_ids, Field::GroupIds, Field::GroupId, |s| {
                    crate::ids::check_object_id("group id", s)
                        .map(|_| s.to_owned())
                        .map_err(|_| "not a group id (letters, digits and '-', at most 64)")
                })
                .map(|group_ids| UserScope::Groups { group_ids })
            }
        }
    }
}

impl RemovalGuard {
    /// At most this many users in `max_users`.
    pub const MAX_USERS: u64 = 1_000_000;

    /// How many of `synced` users may leave the scope without asking.
    pub fn allowed(&self, synced: u64) -> u64 {
        self.max_users
            .min(synced.saturating_mul(u64::from(self.max_percent)) / 100)
    }

    /// `max_users` 1-[`Self::MAX_USERS`], `max_percent` 1-100.
    pub fn validate(self) -> Result<RemovalGuard, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(1..=Self::MAX_USERS).contains(&self.max_users) {
            errors.push(FieldError::new(
                Field::RemovalGuardMaxUsers,
                format!("must be a whole number from 1 to {}", Self::MAX_USERS),
            ));
        }
        if !(1..=100).contains(&self.max_percent) {
            errors.push(FieldError::new(
                Field::RemovalGuardMaxPercent,
                "must be a whole number from 1 to 100",
            ));
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

/// A list of 1-[`MAX_LIST`] entries, each passing `check` (which may
/// normalise it) and each once, compared without case.
fn checked_list(
    items: &[String],
    list: Field,
    item: fn(usize) -> Field,
    check: impl Fn(&str) -> Result<String, &'static str>,
) -> Result<Vec<String>, Vec<FieldError>> {
    if items.is_empty() {
        return Err(vec![FieldError::new(list, "must not be empty")]);
    }
    if items.len() > MAX_LIST {
        return Err(vec![FieldError::new(
            list,
            format!("at most {MAX_LIST} entries"),
        )]);
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, raw) in items.iter().enumerate() {
        match check(raw) {
            Ok(v) if out.iter().any(|o| o.eq_ignore_ascii_case(&v)) => {
                errors.push(FieldError::new(item(i), format!("duplicate entry {v:?}")))
            }
            Ok(v) => out.push(v),
            Err(msg) => errors.push(FieldError::new(item(i), msg)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
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

    fn input(domains: DomainSelection, scope: UserScope) -> SettingsInput {
        SettingsInput {
            domains,
            scope,
            send_email: true,
            keep_previous_groups: false,
            removal_guard: RemovalGuard::default(),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors = input(
            DomainSelection::Only {
                names: vec!["Example.com".into(), "example.COM".into()],
            },
            UserScope::Groups { group_ids: vec![] },
        )
        .validate()
        .unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec![Field::DomainName(1), Field::GroupIds]);
        let not_a_domain = input(
            DomainSelection::Only {
                names: vec!["not a domain".into()],
            },
            UserScope::AllUsersAndGroups,
        )
        .validate()
        .unwrap_err();
        assert_eq!(not_a_domain[0].field, Field::DomainName(0));
    }

    #[test]
    fn domains_are_lower_cased() {
        let input = input(
            DomainSelection::Only {
                names: vec!["Contoso.COM".into()],
            },
            UserScope::AllUsersAndGroups,
        )
        .validate()
        .unwrap();
        assert_eq!(
            input.domains,
            DomainSelection::Only {
                names: vec!["contoso.com".into()]
            }
        );
    }
}
