//! The simulated tenant's directory: domains, users, groups, other member
//! objects, and a change log that delta queries read.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

/// Credentials of the app registration the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: String,
    pub is_verified: bool,
    pub is_default: bool,
    pub is_initial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub account_enabled: bool,
    /// `Member` or `Guest`.
    pub user_type: String,
    /// `Invitation` for B2B guests.
    pub creation_type: Option<String>,
    /// `otherMails`: other addresses (a guest's invitation address).
    pub other_mails: Vec<String>,
}

impl User {
    /// An enabled member (not a guest) whose mail is its sign-in name,
    /// lower-cased; no name parts, job title or department.
    pub fn member(id: impl Into<String>, upn: &str, display_name: &str) -> User {
        User {
            id: id.into(),
            user_principal_name: upn.to_owned(),
            mail: Some(upn.to_lowercase()),
            display_name: display_name.to_owned(),
            given_name: None,
            surname: None,
            job_title: None,
            department: None,
            account_enabled: true,
            user_type: "Member".to_owned(),
            creation_type: None,
            other_mails: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    /// Direct member object ids (users, groups, others), in insertion order.
    pub members: Vec<String>,
}

/// Member object types that are neither users nor groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherKind {
    Device,
    OrgContact,
    ServicePrincipal,
}

impl OtherKind {
    pub fn odata_type(self) -> &'static str {
        match self {
            OtherKind::Device => "#microsoft.graph.device",
            OtherKind::OrgContact => "#microsoft.graph.orgContact",
            OtherKind::ServicePrincipal => "#microsoft.graph.servicePrincipal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    pub id: String,
    pub kind: OtherKind,
    pub display_name: String,
}

/// Any directory object, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum Object<'a> {
    User(&'a User),
    Group(&'a Group),
    Other(&'a Other),
}

/// One entry of the change log (versions start at 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A user was created, changed or deleted (look it up to know which).
    User(String),
    /// A group's own properties were created, changed or deleted.
    Group(String),
    /// A direct member was added to or removed from a group.
    Member {
        group: String,
        member: String,
        /// The member's `@odata.type` (kept: the object may be gone later).
        odata_type: &'static str,
        added: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub credentials: Credentials,
    pub domains: Vec<Domain>,
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub others: BTreeMap<String, Other>,
    /// `changes[i]` has version `i + 1`; seeding records nothing.
    changes: Vec<Change>,
}

impl Tenant {
    /// An empty tenant accepting these credentials.
    pub fn new(credentials: Credentials) -> Self {
        Tenant {
            credentials,
            domains: Vec::new(),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            others: BTreeMap::new(),
            changes: Vec::new(),
        }
    }

    pub fn object(&self, id: &str) -> Option<Object<'_>> {
        self.users
            .get(id)
            .map(Object::User)
            .or_else(|| self.groups.get(id).map(Object::Group))
            .or_else(|| self.others.get(id).map(Object::Other))
    }

    /// The `@odata.type` of an object (deleted objects leave their groups
    /// before they go, so this is known for every recorded membership).
    pub fn odata_type(&self, id: &str) -> &'static str {
        match self.object(id) {
            Some(Object::Group(_)) => "#microsoft.graph.group",
            Some(Object::Other(o)) => o.kind.odata_type(),
            Some(Object::User(_)) | None => "#microsoft.graph.user",
        }
    }

    /// A user by id or (case-insensitive) UPN.
    pub fn find_user(&self, key: &str) -> Option<&User> {
        self.users.get(key).or_else(|| {
            self.users
                .values()
                .find(|u| u.user_principal_name.eq_ignore_ascii_case(key))
        })
    }

    /// A group by id or (case-insensitive) display name.
    pub fn find_group(&self, key: &str) -> Option<&Group> {
        self.groups.get(key).or_else(|| {
            self.groups
                .values()
                .find(|g| g.display_name.eq_ignore_ascii_case(key))
        })
    }

    /// Every object reachable through `group_id`'s nested groups, each once,
    /// in breadth-first order; cycles end where they loop back.
    pub fn transitive_members(&self, group_id: &str) -> Vec<&str> {
        let mut seen: HashSet<&str> = HashSet::from([group_id]);
        let mut out = Vec::new();
        let mut queue = VecDeque::from([group_id]);
        while let Some(current) = queue.pop_front() {
            let Some(group) = self.groups.get(current) else {
                continue;
            };
            for member in &group.members {
                if seen.insert(member) {
                    out.push(member.as_str());
                    if self.groups.contains_key(member) {
                        queue.push_back(member);
                    }
                }
            }
        }
        out
    }

    /// The current version of the change log.
    pub fn version(&self) -> u64 {
        self.changes.len() as u64
    }

    /// Changes with versions in `(from, to]`.
    pub fn changes_between(&self, from: u64, to: u64) -> &[Change] {
        let len = self.changes.len();
        let start = usize::try_from(from).unwrap_or(len).min(len);
        let end = usize::try_from(to).unwrap_or(len).min(len);
        self.changes.get(start..end).unwrap_or_default()
    }

    /// Users touched by changes in `(from, to]`, in id order.
    pub fn users_changed(&self, from: u64, to: u64) -> BTreeSet<String> {
        self.changes_between(from, to)
            .iter()
            .filter_map(|c| match c {
                Change::User(id) => Some(id.clone()),
                _ => None,
            })
            .collect()
    }

    // --- mutations: each one is recorded for delta queries ---

    pub fn put_user(&mut self, user: User) {
        self.changes.push(Change::User(user.id.clone()));
        self.users.insert(user.id.clone(), user);
    }

    /// Deletes a user and its memberships.
    pub fn delete_user(&mut self, id: &str) -> bool {
        if !self.users.contains_key(id) {
            return false;
        }
        self.drop_from_groups(id);
        self.users.remove(id);
        self.changes.push(Change::User(id.to_owned()));
        true
    }

    pub fn put_group(&mut self, group: Group) {
        self.changes.push(Change::Group(group.id.clone()));
        self.groups.insert(group.id.clone(), group);
    }

    /// Deletes a group and its memberships in other groups.
    pub fn delete_group(&mut self, id: &str) -> bool {
        if !self.groups.contains_key(id) {
            return false;
        }
        self.drop_from_groups(id);
        self.groups.remove(id);
        self.changes.push(Change::Group(id.to_owned()));
        true
    }

    pub fn add_member(&mut self, group_id: &str, member: &str) -> bool {
        let Some(group) = self.groups.get_mut(group_id) else {
            return false;
        };
        if group.members.iter().any(|m| m == member) {
            return false;
        }
        group.members.push(member.to_owned());
        let odata_type = self.odata_type(member);
        self.changes.push(Change::Member {
            group: group_id.to_owned(),
            member: member.to_owned(),
            odata_type,
            added: true,
        });
        true
    }

    pub fn remove_member(&mut self, group_id: &str, member: &str) -> bool {
        let Some(group) = self.groups.get_mut(group_id) else {
            return false;
        };
        let before = group.members.len();
        group.members.retain(|m| m != member);
        if group.members.len() == before {
            return false;
        }
        let odata_type = self.odata_type(member);
        self.changes.push(Change::Member {
            group: group_id.to_owned(),
            member: member.to_owned(),
            odata_type,
            added: false,
        });
        true
    }

    fn drop_from_groups(&mut self, member: &str) {
        let containing: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.members.iter().any(|m| m == member))
            .map(|g| g.id.clone())
            .collect();
        for group in containing {
            self.remove_member(&group, member);
        }
    }
}
