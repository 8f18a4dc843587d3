//! The tenant as a run sees it, without the users' fields: which users are
//! in the source (and whether they may sync), the groups, their nesting and
//! their direct members. It is all finalize needs to resolve the groups;
//! the users' fields are then read again slice by slice, so they are never
//! all in memory at once. Users are interned (an index per id), so a
//! membership costs a few bytes, not a string.

use crate::model::{GroupData, MemberList, UserData};
use crate::sync::doc::Staged;
use crate::sync::types::OverLimitGroup;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// More users than this in one group: the group is not synced.
pub(crate) const GROUP_USER_LIMIT: u64 = 10_000;

/// A user's index in the shape.
type Ix = u32;

#[derive(Default)]
pub(crate) struct Shape {
    index: HashMap<Rc<str>, Ix>,
    ids: Vec<Rc<str>>,
    /// Per user: `Some(eligible)` while in the source, `None` once removed.
    /// Eligible: on a domain verified here, or a guest.
    present: Vec<Option<bool>>,
    pub groups: BTreeMap<String, GroupData>,
    direct: HashMap<String, BTreeSet<Ix>>,
    pub children: HashMap<String, BTreeSet<String>>,
    over: BTreeMap<String, u64>,
}

impl Shape {
    fn ix(&mut self, id: &str) -> Ix {
        if let Some(ix) = self.index.get(id) {
            return *ix;
        }
        let ix = self.ids.len() as Ix;
        let id: Rc<str> = Rc::from(id);
        self.ids.push(id.clone());
        self.present.push(None);
        self.index.insert(id, ix);
        ix
    }

    fn id(&self, ix: Ix) -> &str {
        &self.ids[ix as usize]
    }

    /// A user in the source, with the groups it is a direct member of.
    pub fn add_user<'g>(
        &mut self,
        id: &str,
        eligible: bool,
        direct_groups: impl IntoIterator<Item = &'g String>,
    ) {
        let ix = self.ix(id);
        self.present[ix as usize] = Some(eligible);
        for g in direct_groups {
            self.direct.entry(g.clone()).or_default().insert(ix);
        }
    }

    pub fn add_group(&mut self, data: GroupData, children: impl IntoIterator<Item = String>) {
        self.children
            .entry(data.id.clone())
            .or_default()
            .extend(children);
        self.groups.insert(data.id.clone(), data);
    }

    fn remove_group(&mut self, id: &str) {
        self.groups.remove(id);
        self.direct.remove(id);
        self.children.remove(id);
    }

    /// Applies one staged line, in staging order.
    pub fn apply(&mut self, line: Staged, eligible: &impl Fn(&UserData) -> bool) {
        match line {
            Staged::Group { group } => {
                self.groups.insert(group.id.clone(), group);
            }
            Staged::Members {
                group,
                users,
                subgroups,
            } => {
                for user in &users {
                    self.add_user(&user.id, eligible(user), [&group]);
                }
                self.children.entry(group).or_default().extend(subgroups);
            }
            Staged::Deleted { group } => self.remove_group(&group),
            Staged::OverLimit { group, users } => {
                self.over.insert(group, users);
            }
            Staged::Users {
                upserted,
                removed_ids,
            } => {
                for user in &upserted {
                    self.add_user(&user.id, eligible(user), []);
                }
                for id in removed_ids {
                    let ix = self.ix(&id);
                    self.present[ix as usize] = None;
                }
            }
            Staged::GroupDelta {
                id,
                group,
                added_users,
                added_groups,
                removed_users,
                removed_groups,
                removed,
            } => {
                if removed {
                    self.remove_group(&id);
                    return;
                }
                if let Some(group) = group {
                    self.groups.insert(id.clone(), group);
                }
                let added: Vec<Ix> = added_users.iter().map(|u| self.ix(u)).collect();
                let gone: Vec<Ix> = removed_users.iter().map(|u| self.ix(u)).collect();
                let direct = self.direct.entry(id.clone()).or_default();
                direct.extend(added);
                for u in &gone {
                    direct.remove(u);
                }
                let children = self.children.entry(id).or_default();
                children.extend(added_groups);
                for c in &removed_groups {
                    children.remove(c);
                }
            }
        }
    }

    /// Users reachable through `group` (itself and nested groups, cycles and
    /// diamonds included once), or `None` past the limit.
    fn flatten(&self, group: &str) -> (u64, Option<BTreeSet<Ix>>) {
        let mut users = BTreeSet::new();
        let mut visited = BTreeSet::from([group.to_owned()]);
        let mut stack = vec![group.to_owned()];
        while let Some(g) = stack.pop() {
            for u in self.direct.get(&g).into_iter().flatten() {
                if self.present[*u as usize].is_some() {
                    users.insert(*u);
                }
            }
            if users.len() as u64 > GROUP_USER_LIMIT {
                return (users.len() as u64, None);
            }
            for child in self.children.get(&g).into_iter().flatten() {
                if self.groups.contains_key(child) && visited.insert(child.clone()) {
                    stack.push(child.clone());
                }
            }
        }
        (users.len() as u64, Some(users))
    }

    /// The groups in scope (all of them, or those reachable from `roots`)
    /// and what becomes of each.
    pub fn resolve(&self, roots: Option<&[GroupData]>) -> Resolved {
        let in_scope: BTreeSet<String> = match roots {
            None => self.groups.keys().cloned().collect(),
            Some(roots) => {
                let mut reach: BTreeSet<String> = roots
                    .iter()
                    .filter(|g| self.groups.contains_key(&g.id))
                    .map(|g| g.id.clone())
                    .collect();
                let mut stack: Vec<String> = reach.iter().cloned().collect();
                while let Some(g) = stack.pop() {
                    for child in self.children.get(&g).into_iter().flatten() {
                        if self.groups.contains_key(child) && reach.insert(child.clone()) {
                            stack.push(child.clone());
                        }
                    }
                }
                reach
            }
        };
        let mut r = Resolved {
            in_scope: BTreeSet::new(),
            synced: BTreeMap::new(),
            member_counts: HashMap::new(),
            reasons: HashMap::new(),
            over_limit: Vec::new(),
        };
        for g in &in_scope {
            let (count, flat) = self.flatten(g);
            match (flat, self.over.get(g).copied()) {
                (Some(flat), None) => {
                    let direct = self.direct.get(g);
                    let (mut d, mut n): (Vec<Ix>, Vec<Ix>) = flat
                        .into_iter()
                        .filter(|u| self.present[*u as usize] == Some(true))
                        .partition(|u| direct.is_some_and(|d| d.contains(u)));
                    d.sort_by(|a, b| self.id(*a).cmp(self.id(*b)));
                    n.sort_by(|a, b| self.id(*a).cmp(self.id(*b)));
                    let synced = (d.len() + n.len()) as u64;
                    r.member_counts.insert(
                        g.clone(),
                        MemberCounts {
                            synced,
                            entra: count,
                        },
                    );
                    r.synced.insert(
                        g.clone(),
                        Members {
                            direct: d,
                            nested: n,
                        },
                    );
                }
                (_, over) => {
                    let users = over.unwrap_or(count).max(count);
                    let counts = MemberCounts {
                        synced: 0,
                        entra: users,
                    };
                    r.member_counts.insert(g.clone(), counts);
                    r.reasons.insert(g.clone(), format!(
                        "more than {GROUP_USER_LIMIT} users: split it into groups of at most {GROUP_USER_LIMIT} users"
                    ));
                    r.over_limit.push(OverLimitGroup {
                        id: g.clone(),
                        display_name: self.groups[g].name.clone(),
                        users,
                    });
                }
            }
        }
        r.in_scope = in_scope;
        r
    }

    /// For the users `keep` selects: the synced groups each belongs to
    /// (directly or through nesting), in group order.
    pub fn user_groups(
        &self,
        r: &Resolved,
        keep: impl Fn(&str) -> bool,
    ) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (g, m) in &r.synced {
            for u in m.direct.iter().chain(&m.nested) {
                let id = self.id(*u);
                if keep(id) {
                    out.entry(id.to_owned()).or_default().push(g.clone());
                }
            }
        }
        out
    }

    /// For the users `keep` selects: the groups in scope each is a direct
    /// member of, in group order.
    pub fn user_direct_groups(
        &self,
        r: &Resolved,
        keep: impl Fn(&str) -> bool,
    ) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for g in &r.in_scope {
            for u in self.direct.get(g).into_iter().flatten() {
                let id = self.id(*u);
                if keep(id) {
                    out.entry(id.to_owned()).or_default().push(g.clone());
                }
            }
        }
        out
    }

    pub fn member_list(&self, m: &Members) -> MemberList {
        let ids = |v: &[Ix]| v.iter().map(|u| self.id(*u).to_owned()).collect();
        MemberList {
            direct: ids(&m.direct),
            nested: ids(&m.nested),
        }
    }

    /// Distinct users in at least one of `groups`.
    pub fn billable(&self, r: &Resolved, groups: &BTreeSet<String>) -> u64 {
        let mut users: BTreeSet<Ix> = BTreeSet::new();
        for m in groups.iter().filter_map(|g| r.synced.get(g)) {
            users.extend(m.direct.iter().chain(&m.nested));
        }
        users.len() as u64
    }
}

/// How many users a group reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MemberCounts {
    /// Synced (the member listing's length).
    pub synced: u64,
    /// In Entra ID, synced or not.
    pub entra: u64,
}

/// A synced group's eligible members, each list in id order.
pub(crate) struct Members {
    direct: Vec<Ix>,
    nested: Vec<Ix>,
}

/// What becomes of the groups in scope.
pub(crate) struct Resolved {
    pub in_scope: BTreeSet<String>,
    pub synced: BTreeMap<String, Members>,
    /// Each group's member counts.
    pub member_counts: HashMap<String, MemberCounts>,
    /// Why a group in scope is not synced.
    pub reasons: HashMap<String, String>,
    pub over_limit: Vec<OverLimitGroup>,
}
