//! Settings inputs as tests write them, without spelling out every field.

use crate::settings::{DomainSelection, RemovalGuard, SettingsInput, UserScope};

/// Every domain, `scope`, no email, previous groups not kept, the removal
/// guard as it is by default; change fields with `..settings(scope)`.
pub fn settings(scope: UserScope) -> SettingsInput {
    SettingsInput {
        domains: DomainSelection::All,
        scope,
        send_email: false,
        keep_previous_groups: false,
        removal_guard: RemovalGuard::default(),
    }
}

/// The scope of these groups (Entra object ids).
pub fn groups(ids: &[&str]) -> UserScope {
    UserScope::Groups {
        group_ids: ids.iter().map(|id| id.to_string()).collect(),
    }
}

/// Only these domains.
pub fn only_domains(names: &[&str]) -> DomainSelection {
    DomainSelection::Only {
        names: names.iter().map(|name| name.to_string()).collect(),
    }
}
