//! Data changes between runs: explicit operations (`POST /_sim/changes`)
//! and periodic random drift.

use serde::Deserialize;

use crate::ids::{Rng, guid};
use crate::sim::State;
use crate::tenant::{Domain, Group, Tenant, User};

const ADDED_NS: u64 = 6;

/// One change to the tenant. Users are named by id or UPN, groups by id or
/// display name, members by any of those (or an other object's id).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChangeOp {
    AddUser {
        user_principal_name: String,
        display_name: Option<String>,
        #[serde(default)]
        guest: bool,
        #[serde(default)]
        groups: Vec<String>,
        /// `mail`; absent: the UPN in lower case, unless `no_mail`.
        mail: Option<String>,
        /// `mail` is null (no mailbox in the tenant).
        #[serde(default)]
        no_mail: bool,
        /// `otherMails`.
        #[serde(default)]
        other_mails: Vec<String>,
    },
    RemoveUser {
        user: String,
    },
    UpdateUser {
        user: String,
        display_name: Option<String>,
        mail: Option<String>,
        account_enabled: Option<bool>,
        job_title: Option<String>,
    },
    AddGroup {
        display_name: String,
        description: Option<String>,
        #[serde(default)]
        members: Vec<String>,
    },
    RenameGroup {
        group: String,
        display_name: String,
    },
    RemoveGroup {
        group: String,
    },
    AddMember {
        group: String,
        member: String,
    },
    RemoveMember {
        group: String,
        member: String,
    },
    /// Moves a user (or any member) from one group to another.
    MoveMember {
        member: String,
        from: String,
        to: String,
    },
    /// Adds a domain to the tenant, or sets whether an existing one is
    /// verified (a tenant verifying a domain of its own).
    AddDomain {
        name: String,
        #[serde(default)]
        verified: bool,
    },
    /// `count` rounds of random changes (add, remove, rename, move).
    Drift {
        count: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("no user {0:?}")]
    NoUser(String),
    #[error("no group {0:?}")]
    NoGroup(String),
    #[error("no directory object {0:?}")]
    NoObject(String),
    #[error("a user with UPN {0:?} already exists")]
    Duplicate(String),
}

impl ChangeOp {
    /// Applies the change; returns the ids of objects it created.
    pub fn apply(&self, tenant: &mut Tenant) -> Result<Vec<String>, ChangeError> {
        match self {
            ChangeOp::AddUser {
                user_principal_name,
                display_name,
                guest,
                groups,
                mail,
                no_mail,
                other_mails,
            } => {
                if tenant.find_user(user_principal_name).is_some() {
                    return Err(ChangeError::Duplicate(user_principal_name.clone()));
                }
                let group_ids = groups
                    .iter()
                    .map(|g| group_id(tenant, g))
                    .collect::<Result<Vec<_>, _>>()?;
                let id = new_id(tenant);
                let name = display_name.clone().unwrap_or_else(|| {
                    user_principal_name
                        .split('@')
                        .next()
                        .unwrap_or_default()
                        .replace('.', " ")
                });
                tenant.put_user(User {
                    mail: match (mail, no_mail) {
                        (_, true) => None,
                        (Some(mail), false) => Some(mail.clone()),
                        (None, false) => Some(user_principal_name.to_lowercase()),
                    },
                    user_type: if *guest { "Guest" } else { "Member" }.to_owned(),
                    creation_type: guest.then(|| "Invitation".to_owned()),
                    other_mails: other_mails.clone(),
                    ..User::member(id.clone(), user_principal_name, &name)
                });
                for group in group_ids {
                    tenant.add_member(&group, &id);
                }
                Ok(vec![id])
            }
            ChangeOp::RemoveUser { user } => {
                let id = user_id(tenant, user)?;
                tenant.delete_user(&id);
                Ok(vec![])
            }
            ChangeOp::UpdateUser {
                user,
                display_name,
                mail,
                account_enabled,
                job_title,
            } => {
                let id = user_id(tenant, user)?;
                let mut updated = tenant.users[&id].clone();
                if let Some(name) = display_name {
                    updated.display_name = name.clone();
                }
                if let Some(mail) = mail {
                    updated.mail = Some(mail.clone());
                }
                if let Some(enabled) = account_enabled {
                    updated.account_enabled = *enabled;
                }
                if let Some(title) = job_title {
                    updated.job_title = Some(title.clone());
                }
                tenant.put_user(updated);
                Ok(vec![])
            }
            ChangeOp::AddGroup {
                display_name,
                description,
                members,
            } => {
                let member_ids = members
                    .iter()
                    .map(|m| object_id(tenant, m))
                    .collect::<Result<Vec<_>, _>>()?;
                let id = new_id(tenant);
                tenant.put_group(Group {
                    id: id.clone(),
                    display_name: display_name.clone(),
                    description: description.clone(),
                    members: Vec::new(),
                });
                for member in member_ids {
                    tenant.add_member(&id, &member);
                }
                Ok(vec![id])
            }
            ChangeOp::RenameGroup {
                group,
                display_name,
            } => {
                let id = group_id(tenant, group)?;
                let mut renamed = tenant.groups[&id].clone();
                renamed.display_name = display_name.clone();
                tenant.put_group(renamed);
                Ok(vec![])
            }
            ChangeOp::RemoveGroup { group } => {
                let id = group_id(tenant, group)?;
                tenant.delete_group(&id);
                Ok(vec![])
            }
            ChangeOp::AddMember { group, member } => {
                let (group, member) = (group_id(tenant, group)?, object_id(tenant, member)?);
                tenant.add_member(&group, &member);
                Ok(vec![])
            }
            ChangeOp::RemoveMember { group, member } => {
                let (group, member) = (group_id(tenant, group)?, object_id(tenant, member)?);
                tenant.remove_member(&group, &member);
                Ok(vec![])
            }
            ChangeOp::MoveMember { member, from, to } => {
                let member = object_id(tenant, member)?;
                let (from, to) = (group_id(tenant, from)?, group_id(tenant, to)?);
                tenant.remove_member(&from, &member);
                tenant.add_member(&to, &member);
                Ok(vec![])
            }
            ChangeOp::AddDomain { name, verified } => {
                match tenant.domains.iter_mut().find(|d| d.id == *name) {
                    Some(domain) => domain.is_verified = *verified,
                    None => tenant.domains.push(Domain {
                        id: name.clone(),
                        is_verified: *verified,
                        is_default: false,
                        is_initial: false,
                    }),
                }
                Ok(vec![])
            }
            ChangeOp::Drift { count } => {
                let mut created = Vec::new();
                for _ in 0..*count {
                    created.extend(drift(tenant));
                }
                Ok(created)
            }
        }
    }
}

/// Applies a drift round when the drift knob says one is due.
pub(crate) fn drift_if_due(state: &mut State, now: u64) {
    let Some(every) = state.faults.drift_every_secs.filter(|s| *s > 0) else {
        state.next_drift_ms = None;
        return;
    };
    let period = every.saturating_mul(1000);
    match state.next_drift_ms {
        None => state.next_drift_ms = Some(now.saturating_add(period)),
        Some(due) if now >= due => {
            drift(&mut state.tenant);
            state.next_drift_ms = Some(now.saturating_add(period));
        }
        Some(_) => {}
    }
}

/// One round of random, reproducible changes: a user added to a group, a
/// user removed, a user renamed, a user moved between groups.
fn drift(tenant: &mut Tenant) -> Vec<String> {
    let mut rng = Rng::new(tenant.version().wrapping_add(0xD81F));
    let group_ids: Vec<String> = tenant.groups.keys().cloned().collect();
    let pick_group = |rng: &mut Rng| group_ids.get(rng.below(group_ids.len())).cloned();
    let serial = tenant.version() + 1;
    let id = new_id(tenant);
    let upn = format!("drift.user{serial}@contoso.com");
    tenant.put_user(User {
        given_name: Some("Drift".to_owned()),
        surname: Some(format!("User {serial}")),
        ..User::member(id.clone(), &upn, &format!("Drift User {serial}"))
    });
    if let Some(group) = pick_group(&mut rng) {
        tenant.add_member(&group, &id);
    }
    let user_ids: Vec<String> = tenant.users.keys().cloned().collect();
    let pick_user = |rng: &mut Rng| user_ids.get(rng.below(user_ids.len())).cloned();
    if let Some(victim) = pick_user(&mut rng).filter(|v| *v != id) {
        tenant.delete_user(&victim);
    }
    if let Some(renamed) = pick_user(&mut rng)
        && let Some(user) = tenant.users.get(&renamed)
    {
        let mut user = user.clone();
        user.display_name = format!("{} (renamed)", user.display_name);
        tenant.put_user(user);
    }
    let moving = tenant.groups.values().find_map(|g| {
        g.members
            .iter()
            .find(|m| tenant.users.contains_key(*m))
            .map(|m| (g.id.clone(), m.clone()))
    });
    if let (Some((from, member)), Some(to)) = (moving, pick_group(&mut rng))
        && from != to
    {
        tenant.remove_member(&from, &member);
        tenant.add_member(&to, &member);
    }
    vec![id]
}

fn new_id(tenant: &Tenant) -> String {
    guid(ADDED_NS, tenant.version() + 1)
}

fn user_id(tenant: &Tenant, key: &str) -> Result<String, ChangeError> {
    tenant
        .find_user(key)
        .map(|u| u.id.clone())
        .ok_or_else(|| ChangeError::NoUser(key.to_owned()))
}

fn group_id(tenant: &Tenant, key: &str) -> Result<String, ChangeError> {
    tenant
        .find_group(key)
        .map(|g| g.id.clone())
        .ok_or_else(|| ChangeError::NoGroup(key.to_owned()))
}

fn object_id(tenant: &Tenant, key: &str) -> Result<String, ChangeError> {
    if tenant.object(key).is_some() {
        return Ok(key.to_owned());
    }
    user_id(tenant, key)
        .or_else(|_| group_id(tenant, key))
        .map_err(|_| ChangeError::NoObject(key.to_owned()))
}
