//! An in-memory Entra tenant implementing `IdentitySource`, for tests of the
//! engine and of the adapters (feature `testing`). Paging follows Graph's
//! rules closely enough for the engine (opaque tokens, a page size), delta
//! rounds report changes since the token's version, and faults can be
//! injected per call.
//!
//! Also the other shared fixtures: a recording [`Mailer`](crate::ports::Mailer)
//! and settings inputs without every field spelled out.

mod mailer;
mod settings;

pub use mailer::RecordingMailer;
pub use settings::{groups, only_domains, settings};

use crate::ports::{
    Arrived, DeltaFrom, DeltaToken, GroupChange, IdentitySource, Member, MemberKind, MemberRef,
    Page, PageToken, SkippedKind, SourceDomain, SourceError, SourceGroup, SourceUser, UserChange,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ref {
    User(String),
    Group(String),
    Other(String, SkippedKind),
}

#[derive(Default)]
struct Tenant {
    version: u64,
    domains: Vec<SourceDomain>,
    users: BTreeMap<String, (SourceUser, u64)>,
    removed_users: BTreeMap<String, u64>,
    groups: BTreeMap<String, (SourceGroup, u64)>,
    removed_groups: BTreeMap<String, u64>,
    members: BTreeMap<String, BTreeSet<Ref>>,
    /// (version, group, member, added)
    member_log: Vec<(u64, String, Ref, bool)>,
    faults: VecDeque<SourceError>,
    paging_fault: Option<PagingFault>,
    requests: u64,
    page_size: usize,
}

/// A simulated tenant. All methods take `&self`, so a test can change the
/// tenant between (or during) runs.
pub struct MemoryTenant(Mutex<Tenant>);

impl Default for MemoryTenant {
    fn default() -> Self {
        MemoryTenant(Mutex::new(Tenant {
            page_size: 999,
            ..Tenant::default()
        }))
    }
}

/// A member user with the usual fields filled from its UPN.
pub fn user(id: &str, upn: &str) -> SourceUser {
    let local = upn.split('@').next().unwrap_or(upn);
    SourceUser {
        id: id.to_owned(),
        user_principal_name: upn.to_owned(),
        mail: Some(upn.to_owned()),
        display_name: Some(local.to_owned()),
        account_enabled: true,
        user_type: Some("Member".to_owned()),
        ..SourceUser::default()
    }
}

/// A B2B guest: `#EXT#` UPN, userType Guest, mail at the home domain.
pub fn guest(id: &str, home_mail: &str, tenant_domain: &str) -> SourceUser {
    let upn = format!("{}#EXT#@{tenant_domain}", home_mail.replace('@', "_"));
    SourceUser {
        mail: Some(home_mail.to_owned()),
        user_type: Some("Guest".to_owned()),
        creation_type: Some("Invitation".to_owned()),
        ..user(id, &upn)
    }
}

impl MemoryTenant {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Tenant) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn bump(t: &mut Tenant) -> u64 {
        t.version += 1;
        t.version
    }

    pub fn set_page_size(&self, size: usize) -> &Self {
        self.with(|t| t.page_size = size.max(1));
        self
    }

    pub fn domain(&self, name: &str, verified: bool) -> &Self {
        self.with(|t| {
            t.domains.retain(|d| d.id != name);
            t.domains.push(SourceDomain {
                id: name.to_owned(),
                is_verified: verified,
            });
        });
        self
    }

    /// Adds or replaces a user.
    pub fn put_user(&self, u: SourceUser) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            t.removed_users.remove(&u.id);
            t.users.insert(u.id.clone(), (u, v));
        });
        self
    }

    /// Adds many users at one version (fast for big tenants).
    pub fn put_users(&self, users: impl IntoIterator<Item = SourceUser>) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            for u in users {
                t.users.insert(u.id.clone(), (u, v));
            }
        });
        self
    }

    pub fn remove_user(&self, id: &str) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            if t.users.remove(id).is_some() {
                t.removed_users.insert(id.to_owned(), v);
            }
            let groups: Vec<String> = t.members.keys().cloned().collect();
            for g in groups {
                let r = Ref::User(id.to_owned());
                if t.members.get_mut(&g).is_some_and(|m| m.remove(&r)) {
                    t.member_log.push((v, g, r, false));
                }
            }
        });
        self
    }

    /// Puts group `id` named `name` and adds `user_ids` to it directly.
    pub fn put_group_with(
        &self,
        id: &str,
        name: &str,
        user_ids: impl IntoIterator<Item = String>,
    ) -> &Self {
        self.put_group(id, name).add_users_to(id, user_ids)
    }

    pub fn put_group(&self, id: &str, name: &str) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            t.removed_groups.remove(id);
            let g = SourceGroup {
                id: id.to_owned(),
                display_name: name.to_owned(),
                description: None,
            };
            t.groups.insert(id.to_owned(), (g, v));
            t.members.entry(id.to_owned()).or_default();
        });
        self
    }

    pub fn remove_group(&self, id: &str) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            if t.groups.remove(id).is_some() {
                t.removed_groups.insert(id.to_owned(), v);
            }
            t.members.remove(id);
        });
        self
    }

    fn change_member(&self, group: &str, r: Ref, add: bool) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            let set = t.members.entry(group.to_owned()).or_default();
            let changed = if add {
                set.insert(r.clone())
            } else {
                set.remove(&r)
            };
            if changed {
                t.member_log.push((v, group.to_owned(), r, add));
                if let Some(entry) = t.groups.get_mut(group) {
                    entry.1 = v;
                }
            }
        });
        self
    }

    pub fn add_user_to(&self, group: &str, user_id: &str) -> &Self {
        self.change_member(group, Ref::User(user_id.to_owned()), true)
    }

    /// Adds many users to a group at one version.
    pub fn add_users_to(&self, group: &str, user_ids: impl IntoIterator<Item = String>) -> &Self {
        self.with(|t| {
            let v = Self::bump(t);
            let set = t.members.entry(group.to_owned()).or_default();
            for id in user_ids {
                set.insert(Ref::User(id));
            }
            if let Some(entry) = t.groups.get_mut(group) {
                entry.1 = v;
            }
        });
        self
    }

    pub fn remove_user_from(&self, group: &str, user_id: &str) -> &Self {
        self.change_member(group, Ref::User(user_id.to_owned()), false)
    }

    pub fn nest(&self, parent: &str, child: &str) -> &Self {
        self.change_member(parent, Ref::Group(child.to_owned()), true)
    }

    pub fn unnest(&self, parent: &str, child: &str) -> &Self {
        self.change_member(parent, Ref::Group(child.to_owned()), false)
    }

    /// A member that is not a user or group (device, contact, ...).
    pub fn add_other_to(&self, group: &str, id: &str, kind: SkippedKind) -> &Self {
        self.change_member(group, Ref::Other(id.to_owned(), kind), true)
    }

    /// The next calls fail with these errors, in order.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SourceError>) -> &Self {
        self.with(|t| t.faults.extend(errors));
        self
    }

    /// Forgets the failures `fail_next` queued (the tenant recovers).
    /// From now on, member listings page the way `how` says.
    pub fn break_member_paging(&self, how: BrokenPaging) -> &Self {
        self.with(|t| {
            t.paging_fault = Some(PagingFault {
                how,
                links: 0,
                real_next: None,
            })
        });
        self
    }

    pub fn clear_faults(&self) -> &Self {
        self.with(|t| t.faults.clear());
        self
    }

    /// Calls answered (successful or not), like Graph requests.
    pub fn requests(&self) -> u64 {
        self.with(|t| t.requests)
    }

    fn call<R>(&self, f: impl FnOnce(&Tenant) -> Result<R, SourceError>) -> Result<R, SourceError> {
        self.with(|t| {
            t.requests += 1;
            match t.faults.pop_front() {
                Some(e) => Err(e),
                None => f(t),
            }
        })
    }
}

/// One page of a group's members (direct, or transitive: nested groups'
/// members too, each once).
fn list_members(
    t: &Tenant,
    group_id: &str,
    transitive: bool,
    page: Option<&PageToken>,
) -> Result<Page<Member>, SourceError> {
    let Some(direct) = t.members.get(group_id) else {
        return Err(SourceError::NotFound(format!("group {group_id}")));
    };
    let tag = format!("members:{group_id}:{transitive}");
    let offset = page
        .map(|p| parse_token(&p.0, &tag))
        .transpose()?
        .map_or(0, |p| p.0);
    let refs: Vec<Ref> = if transitive {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<String> = vec![group_id.to_owned()];
        let mut visited = BTreeSet::from([group_id.to_owned()]);
        while let Some(g) = queue.pop() {
            for r in t.members.get(&g).into_iter().flatten() {
                if let Ref::Group(child) = r
                    && visited.insert(child.clone())
                {
                    queue.push(child.clone());
                }
                if !matches!(r, Ref::Group(c) if c == group_id) {
                    seen.insert(r.clone());
                }
            }
        }
        seen.into_iter().collect()
    } else {
        direct.iter().cloned().collect()
    };
    let page: Vec<&Ref> = refs.iter().collect();
    let mut out = page_of(page, offset, t.page_size, &tag);
    let items = out.items.iter().filter_map(|r| member_of(t, r)).collect();
    let next = out.next.take();
    Ok(Page {
        items,
        next,
        delta: None,
    })
}

/// How a broken Graph pages a group's members (for the paging-loop rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenPaging {
    /// Every page links to the same next page.
    SameNextLink,
    /// Every link leads back to the first page.
    SamePageAgain,
}

/// A [`BrokenPaging`] in force, with the links it handed out.
#[derive(Debug)]
struct PagingFault {
    how: BrokenPaging,
    links: u32,
    /// The real next page that the link handed out last stands for.
    real_next: Option<PageToken>,
}

impl PagingFault {
    /// The real page a link the fault handed out stands for.
    fn asked(&mut self, page: Option<&PageToken>) -> Option<PageToken> {
        match self.how {
            BrokenPaging::SameNextLink => page.and(self.real_next.take()),
            BrokenPaging::SamePageAgain => None,
        }
    }

    /// Replaces the page's next link with the broken one.
    fn relink(&mut self, listed: &mut Page<Member>) {
        self.links += 1;
        self.real_next = listed.next.take();
        listed.next = Some(PageToken(match self.how {
            BrokenPaging::SameNextLink => "next".to_owned(),
            BrokenPaging::SamePageAgain => format!("link-{}", self.links),
        }));
    }
}

/// One page of a listing; only the page's items are cloned.
fn page_of<T: Clone>(items: Vec<&T>, offset: usize, size: usize, tag: &str) -> Page<T> {
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(offset).take(size).cloned().collect();
    let next = (offset + size < total).then(|| PageToken(format!("{tag}|{}", offset + size)));
    Page {
        items,
        next,
        delta: None,
    }
}

/// Parses `tag|offset[|version]` tokens.
fn parse_token(token: &str, tag: &str) -> Result<(usize, u64), SourceError> {
    let mut parts = token.split('|');
    let bad = || SourceError::BadResponse(format!("bad page token {token:?}"));
    if parts.next() != Some(tag) {
        return Err(bad());
    }
    let offset = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let version = match parts.next() {
        Some(p) => p.parse().map_err(|_| bad())?,
        None => 0,
    };
    Ok((offset, version))
}

fn member_of(t: &Tenant, r: &Ref) -> Option<Member> {
    Some(match r {
        Ref::User(id) => Member::User(t.users.get(id)?.0.clone()),
        Ref::Group(id) => Member::Group(t.groups.get(id)?.0.clone()),
        Ref::Other(id, kind) => Member::Skipped {
            id: id.clone(),
            kind: kind.clone(),
        },
    })
}

fn member_ref(r: &Ref) -> MemberRef {
    match r {
        Ref::User(id) => MemberRef {
            id: id.clone(),
            kind: MemberKind::User,
        },
        Ref::Group(id) => MemberRef {
            id: id.clone(),
            kind: MemberKind::Group,
        },
        Ref::Other(id, kind) => MemberRef {
            id: id.clone(),
            kind: MemberKind::Skipped(kind.clone()),
        },
    }
}

/// The round a delta call belongs to: start version, offset in the listing.
fn delta_round(from: &DeltaFrom, tag: &str) -> Result<(u64, usize), SourceError> {
    match from {
        DeltaFrom::Start => Ok((0, 0)),
        DeltaFrom::Delta(DeltaToken(token)) => Ok((parse_token(token, tag)?.1, 0)),
        DeltaFrom::Page(PageToken(token)) => {
            let (offset, since) = parse_token(token, tag)?;
            Ok((since, offset))
        }
    }
}

fn delta_page<T>(
    items: Vec<T>,
    offset: usize,
    size: usize,
    tag: &str,
    since: u64,
    version: u64,
) -> Page<T> {
    let total = items.len();
    let items: Vec<T> = items.into_iter().skip(offset).take(size).collect();
    if offset + size < total {
        Page {
            items,
            next: Some(PageToken(format!("{tag}|{}|{since}", offset + size))),
            delta: None,
        }
    } else {
        Page {
            items,
            next: None,
            delta: Some(DeltaToken(format!("{tag}|0|{version}"))),
        }
    }
}

impl IdentitySource for MemoryTenant {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError> {
        self.call(|t| Ok(t.domains.clone()))
    }

    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError> {
        self.call(|t| Ok(t.groups.get(id).map(|g| g.0.clone())))
    }

    async fn users(&self, page: Option<&PageToken>) -> Result<Arrived<SourceUser>, SourceError> {
        self.call(|t| {
            let offset = page
                .map(|p| parse_token(&p.0, "users"))
                .transpose()?
                .map_or(0, |p| p.0);
            let all = t.users.values().map(|u| &u.0).collect();
            Ok(page_of(all, offset, t.page_size, "users"))
        })
        .map(Arrived::from)
    }

    async fn groups(&self, page: Option<&PageToken>) -> Result<Arrived<SourceGroup>, SourceError> {
        self.call(|t| {
            let offset = page
                .map(|p| parse_token(&p.0, "groups"))
                .transpose()?
                .map_or(0, |p| p.0);
            let all = t.groups.values().map(|g| &g.0).collect();
            Ok(page_of(all, offset, t.page_size, "groups"))
        })
        .map(Arrived::from)
    }

    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Arrived<Member>, SourceError> {
        let asked = self.with(|t| match &mut t.paging_fault {
            Some(fault) => fault.asked(page),
            None => page.cloned(),
        });
        let mut listed = self.call(|t| list_members(t, group_id, transitive, asked.as_ref()))?;
        self.with(|t| t.paging_fault.as_mut().map(|f| f.relink(&mut listed)));
        Ok(listed.into())
    }

    /// Upserts in id order, then (for a round after a previous one) the
    /// removals; a page token holds the last id given, so a page costs only
    /// its own items.
    async fn users_delta(&self, from: &DeltaFrom) -> Result<Arrived<UserChange>, SourceError> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.call(|t| {
            let bad = || SourceError::BadResponse("bad users delta token".into());
            let (since, after): (u64, Option<String>) = match from {
                DeltaFrom::Start => (0, None),
                DeltaFrom::Delta(DeltaToken(token)) => (parse_token(token, "udelta")?.1, None),
                DeltaFrom::Page(PageToken(token)) => {
                    let mut parts = token.splitn(3, '|');
                    if parts.next() != Some("upage") {
                        return Err(bad());
                    }
                    let since = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
                    (since, Some(parts.next().ok_or_else(bad)?.to_owned()))
                }
            };
            let size = t.page_size;
            let mut items = Vec::new();
            let mut last = String::new();
            let mut more = false;
            let in_removed = after.as_deref().is_some_and(|a| a.starts_with("r:"));
            if !in_removed {
                let start = after.as_deref().map_or(Unbounded, |a| Excluded(&a[2..]));
                for (id, (u, v)) in t.users.range::<str, _>((start, Unbounded)) {
                    if *v > since {
                        if items.len() == size {
                            more = true;
                            break;
                        }
                        items.push(UserChange::Upsert(u.clone()));
                        last = format!("u:{id}");
                    }
                }
            }
            if !more && since > 0 {
                let start = after
                    .as_deref()
                    .filter(|_| in_removed)
                    .map_or(Unbounded, |a| Excluded(&a[2..]));
                for (id, v) in t.removed_users.range::<str, _>((start, Unbounded)) {
                    if *v > since {
                        if items.len() == size {
                            more = true;
                            break;
                        }
                        items.push(UserChange::Removed { id: id.clone() });
                        last = format!("r:{id}");
                    }
                }
            }
            Ok(if more {
                Page {
                    items,
                    next: Some(PageToken(format!("upage|{since}|{last}"))),
                    delta: None,
                }
            } else {
                Page {
                    items,
                    next: None,
                    delta: Some(DeltaToken(format!("udelta|0|{}", t.version))),
                }
            })
        })
        .map(Arrived::from)
    }

    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Arrived<GroupChange>, SourceError> {
        self.call(|t| {
            let (since, offset) = delta_round(from, "gdelta")?;
            let mut changes: Vec<GroupChange> = t
                .groups
                .iter()
                .filter(|(_, (_, v))| *v > since)
                .map(|(id, (g, _))| {
                    let (added, removed) = if since == 0 {
                        (
                            t.members
                                .get(id)
                                .into_iter()
                                .flatten()
                                .map(member_ref)
                                .collect(),
                            Vec::new(),
                        )
                    } else {
                        let mut added = Vec::new();
                        let mut removed = Vec::new();
                        for (v, gid, r, add) in &t.member_log {
                            if *v > since && gid == id {
                                if *add {
                                    added.push(member_ref(r))
                                } else {
                                    removed.push(member_ref(r))
                                }
                            }
                        }
                        (added, removed)
                    };
                    GroupChange::Upsert {
                        group: g.clone(),
                        members_added: added,
                        members_removed: removed,
                    }
                })
                .collect();
            if since > 0 {
                changes.extend(
                    t.removed_groups
                        .iter()
                        .filter(|(_, v)| **v > since)
                        .map(|(id, _)| GroupChange::Removed { id: id.clone() }),
                );
            }
            Ok(delta_page(
                changes,
                offset,
                t.page_size,
                "gdelta",
                since,
                t.version,
            ))
        })
        .map(Arrived::from)
    }
}
