//! The tenant's shape as finalize resolves it, never held whole: the group
//! graph ([`GroupGraph`]: groups, nesting, over-limit marks; small), which
//! groups are in scope and which in-scope groups reach each group
//! ([`Scope`]), and the users of one bucket at a time ([`BucketUsers`]:
//! in the source or not, their fields and the groups they are direct
//! members of). A group's users are the users of every bucket that reach
//! it, so its counts are summed bucket by bucket ([`Scope::add_counts`]).

use crate::model::{GroupData, UserData};
use crate::sync::doc::{Staged, StagedUser};
use crate::sync::progress::GroupCount;
use crate::sync::types::OverLimitGroup;
use smallvec::SmallVec;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// More users than this in one group: the group is not synced.
pub(crate) const GROUP_USER_LIMIT: u64 = 10_000;

/// The bucket of a user id among `buckets` (a power of two).
pub(crate) fn bucket_of(id: &str, buckets: u32) -> u32 {
    (crate::hash::fnv1a(id.as_bytes()) % u64::from(buckets.max(1))) as u32
}

/// The groups of the tenant as this run leaves them, and their nesting.
#[derive(Default)]
pub(crate) struct GroupGraph {
    pub groups: BTreeMap<String, GroupData>,
    /// Direct child groups, by parent id (children may be unknown groups).
    pub children: BTreeMap<String, BTreeSet<String>>,
    /// Groups whose reading stopped past the limit, with the users read.
    over: BTreeMap<String, u64>,
}

impl GroupGraph {
    /// A group with its direct child groups.
    pub fn add_group(&mut self, data: GroupData, children: impl IntoIterator<Item = String>) {
        self.children
            .entry(data.id.clone())
            .or_default()
            .extend(children);
        self.groups.insert(data.id.clone(), data);
    }

    fn remove_group(&mut self, id: &str) {
        self.groups.remove(id);
        self.children.remove(id);
    }

    /// Applies the group-level part of one staged line, in staging order
    /// (copying what it keeps: groups and ids, never users).
    pub fn apply(&mut self, line: &Staged) {
        match line {
            Staged::Group { group } => {
                self.groups.insert(group.id.clone(), group.clone());
            }
            Staged::Members {
                group, subgroups, ..
            } => {
                let children = self.children.entry(group.clone()).or_default();
                children.extend(subgroups.iter().cloned());
            }
            Staged::Deleted { group } => self.remove_group(group),
            Staged::OverLimit { group, users } => {
                self.over.insert(group.clone(), *users);
            }
            Staged::Users { .. } => {}
            Staged::GroupDelta { id, removed, .. } if *removed => self.remove_group(id),
            Staged::GroupDelta {
                id,
                group,
                added_groups,
                removed_groups,
                ..
            } => {
                if let Some(group) = group {
                    self.groups.insert(id.clone(), group.clone());
                }
                let children = self.children.entry(id.clone()).or_default();
                children.extend(added_groups.iter().cloned());
                for c in removed_groups {
                    children.remove(c);
                }
            }
        }
    }

    /// The known children of `g`, itself left out.
    fn known_children<'a>(&'a self, g: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        let children = self.children.get(g).into_iter().flatten();
        children.filter(move |c| c.as_str() != g && self.groups.contains_key(*c))
    }

    /// The groups in scope: all of them, or those reachable from `roots`.
    fn in_scope(&self, roots: Option<&[GroupData]>) -> BTreeSet<String> {
        let Some(roots) = roots else {
            return self.groups.keys().cloned().collect();
        };
        let known = roots.iter().filter(|g| self.groups.contains_key(&g.id));
        let mut reach: BTreeSet<String> = known.map(|g| g.id.clone()).collect();
        let mut stack: Vec<String> = reach.iter().cloned().collect();
        while let Some(g) = stack.pop() {
            for child in self.known_children(&g) {
                if reach.insert(child.clone()) {
                    stack.push(child.clone());
                }
            }
        }
        reach
    }

    /// Resolves the scope: the groups in it (all, or those reachable from
    /// `roots`) and, for every group, the groups in scope that reach it.
    pub fn resolve(self, roots: Option<&[GroupData]>) -> Scope {
        let in_scope = self.in_scope(roots);
        let mut ancestors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for g in &in_scope {
            let mut visited = BTreeSet::from([g.clone()]);
            let mut stack = vec![g.clone()];
            while let Some(x) = stack.pop() {
                for child in self.known_children(&x) {
                    if visited.insert(child.clone()) {
                        stack.push(child.clone());
                    }
                }
                ancestors.entry(x).or_default().push(g.clone());
            }
        }
        Scope {
            graph: self,
            in_scope,
            ancestors,
        }
    }
}

/// The group graph with its scope resolved.
pub(crate) struct Scope {
    pub graph: GroupGraph,
    /// The groups in scope.
    pub in_scope: BTreeSet<String>,
    /// Per group: the groups in scope that reach it (itself included).
    ancestors: BTreeMap<String, Vec<String>>,
}

/// What becomes of a group in scope.
pub(crate) struct Outcome {
    pub synced: bool,
    /// Synced users it reaches (its member listing's length).
    pub member_count: u64,
    /// Users it reaches in Entra ID.
    pub entra_member_count: u64,
    /// Why it is not synced.
    pub reason: Option<String>,
}

/// How many groups a user's [`Scope::reach`] holds without allocating.
pub(crate) const INLINE_GROUPS: usize = 4;

/// The groups a user reaches ([`Scope::reach`]).
pub(crate) type Reach<'s> = SmallVec<[&'s str; INLINE_GROUPS]>;

impl Scope {
    /// The groups in scope that a user who is a direct member of `direct`
    /// belongs to (directly or through nesting), in id order, each once.
    /// A small vector, not a set: it is built twice for every user of a
    /// run, and up to [`INLINE_GROUPS`] groups need no allocation.
    pub fn reach<'s>(&'s self, direct: &[impl AsRef<str>]) -> Reach<'s> {
        let reached = direct.iter().filter_map(|x| self.ancestors.get(x.as_ref()));
        let mut groups: Reach<'s> = reached.flatten().map(String::as_str).collect();
        groups.sort_unstable();
        groups.dedup();
        groups
    }

    /// Counts a user in the source: one more for every group it reaches.
    pub fn add_counts(
        &self,
        counts: &mut BTreeMap<String, GroupCount>,
        direct: &[impl AsRef<str>],
        eligible: bool,
    ) {
        for g in self.reach(direct) {
            // Found first: an entry would copy the id for every user.
            let count = match counts.get_mut(g) {
                Some(count) => count,
                None => counts.entry(g.to_owned()).or_default(),
            };
            count.entra += 1;
            count.eligible += u64::from(eligible);
        }
    }

    /// What becomes of group `g` (in scope) with the users it reaches.
    pub fn outcome(&self, g: &str, count: GroupCount) -> Outcome {
        let over = self.graph.over.get(g).copied();
        if over.is_none() && count.entra <= GROUP_USER_LIMIT {
            return Outcome {
                synced: true,
                member_count: count.eligible,
                entra_member_count: count.entra,
                reason: None,
            };
        }
        Outcome {
            synced: false,
            member_count: 0,
            entra_member_count: over.unwrap_or(count.entra).max(count.entra),
            reason: Some(format!(
                "more than {GROUP_USER_LIMIT} users: split it into groups of at most {GROUP_USER_LIMIT} users"
            )),
        }
    }

    /// The groups synced, given every group's counts.
    pub fn synced(&self, counts: &BTreeMap<String, GroupCount>) -> BTreeSet<String> {
        let count = |g: &String| counts.get(g).copied().unwrap_or_default();
        let synced = self
            .in_scope
            .iter()
            .filter(|g| self.outcome(g, count(g)).synced);
        synced.cloned().collect()
    }

    /// The groups in scope over the limit, in id order.
    pub fn over_limit(&self, counts: &BTreeMap<String, GroupCount>) -> Vec<OverLimitGroup> {
        let count = |g: &String| counts.get(g).copied().unwrap_or_default();
        let over = self.in_scope.iter().map(|g| (g, self.outcome(g, count(g))));
        over.filter(|(_, o)| !o.synced)
            .map(|(g, o)| OverLimitGroup {
                id: g.clone(),
                display_name: self.graph.groups[g].name.clone(),
                users: o.entra_member_count,
            })
            .collect()
    }
}

/// A user of a bucket as this run leaves it.
#[derive(Default, Clone)]
pub(crate) struct UserState {
    /// The user's fields while in the source, `None` once removed. Boxed:
    /// a bucket's map moves its values as it grows, and a user's fields are
    /// a few hundred bytes.
    pub data: Option<Box<UserData>>,
    /// The groups it is a direct member of (known or not).
    pub direct: DirectGroups,
}

/// A group id shared by the users a staged line makes its direct members.
pub(crate) type GroupId = Arc<str>;

/// The groups a user is a direct member of, in id order, each once. A
/// sorted small vector of shared ids rather than a set: most users are
/// direct members of a group or two, and every user of a run gets one
/// (a set's node is an allocation of about 300 bytes; an id, 36 bytes).
#[derive(Debug, Default, Clone)]
pub(crate) struct DirectGroups(SmallVec<[GroupId; 1]>);

impl DirectGroups {
    /// Adds `group` unless it is there already.
    pub fn insert(&mut self, group: &GroupId) {
        if let Err(at) = self.position(group) {
            self.0.insert(at, Arc::clone(group));
        }
    }

    /// Removes `group` if it is there.
    pub fn remove(&mut self, group: &str) {
        if let Ok(at) = self.position(group) {
            self.0.remove(at);
        }
    }

    /// The groups, in id order.
    pub fn as_slice(&self) -> &[GroupId] {
        &self.0
    }

    fn position(&self, group: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|g| (**g).cmp(group))
    }
}

/// The users of one bucket, with the groups each is a direct member of.
#[derive(Clone)]
pub(crate) struct BucketUsers {
    bucket: u32,
    buckets: u32,
    pub users: BTreeMap<String, UserState>,
}

impl BucketUsers {
    /// Bucket `bucket` of `buckets`, empty.
    pub fn new(bucket: u32, buckets: u32) -> Self {
        BucketUsers {
            bucket,
            buckets,
            users: BTreeMap::new(),
        }
    }

    /// Whether `id` is a user of this bucket.
    pub fn keeps(&self, id: &str) -> bool {
        keeps(id, self.bucket, self.buckets)
    }

    fn user(&mut self, id: &str) -> Option<&mut UserState> {
        if !self.keeps(id) {
            return None;
        }
        Some(self.users.entry(id.to_owned()).or_default())
    }

    /// A user of this bucket's fields as a line carries them, and the
    /// group the line makes it a direct member of (a members page), if any.
    fn set_fields(&mut self, user: StagedUser, member_of: Option<&GroupId>) {
        let u = self.users.entry(user.id.clone()).or_default();
        if let Some(group) = member_of {
            u.direct.insert(group);
        }
        u.data = Some(user);
    }

    /// A user in the source as the base state stored it.
    pub fn add_stored(&mut self, data: &UserData, direct: &[String]) {
        if let Some(u) = self.user(&data.id) {
            u.data = Some(Box::new(data.clone()));
            for group in direct {
                u.direct.insert(&GroupId::from(group.as_str()));
            }
        }
    }

    /// A group's direct memberships are gone (the group was deleted).
    fn clear_group(&mut self, group: &str) {
        for u in self.users.values_mut() {
            u.direct.remove(group);
        }
    }

    /// Applies the users' part of one staged line, in staging order.
    pub fn apply(&mut self, mut line: Staged) {
        self.take_from(&mut line);
    }

    /// Applies the users' part of one staged line, in staging order, taking
    /// this bucket's users' fields out of it (the line keeps the other
    /// buckets' users: the next bucket takes its own from it).
    pub fn take_from(&mut self, line: &mut Staged) {
        let (bucket, buckets) = (self.bucket, self.buckets);
        if let Some((users, member_of)) = carried_users_mut(line) {
            let member_of = member_of.map(|group| GroupId::from(group.as_str()));
            for user in users.extract_if(.., |u| keeps(&u.id, bucket, buckets)) {
                self.set_fields(user, member_of.as_ref());
            }
        }
        self.apply_changes(line);
    }

    /// Applies what a line changes besides the users' fields it carries:
    /// removals and membership changes (after the fields, as staged).
    fn apply_changes(&mut self, line: &Staged) {
        match line {
            Staged::Deleted { group } => self.clear_group(group),
            Staged::Users { removed_ids, .. } => {
                for id in removed_ids {
                    if let Some(u) = self.user(id) {
                        u.data = None;
                    }
                }
            }
            Staged::GroupDelta { id, removed, .. } if *removed => self.clear_group(id),
            Staged::GroupDelta {
                id,
                added_users,
                removed_users,
                ..
            } => {
                let group = GroupId::from(id.as_str());
                for user in added_users {
                    if let Some(u) = self.user(user) {
                        u.direct.insert(&group);
                    }
                }
                for user in removed_users {
                    if let Some(u) = self.user(user) {
                        u.direct.remove(id);
                    }
                }
            }
            Staged::Members { .. } | Staged::Group { .. } | Staged::OverLimit { .. } => {}
        }
    }
}

/// Whether user `id` is in bucket `bucket` of `buckets`.
fn keeps(id: &str, bucket: u32, buckets: u32) -> bool {
    buckets <= 1 || bucket_of(id, buckets) == bucket
}

/// The users' fields a line carries (a members page's, a users delta's
/// upserts), to take out of it, with the group a members page makes them
/// direct members of.
fn carried_users_mut(line: &mut Staged) -> Option<(&mut Vec<StagedUser>, Option<&String>)> {
    match line {
        Staged::Members { group, users, .. } => Some((users, Some(group))),
        Staged::Users { upserted, .. } => Some((upserted, None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

    use super::*;

    fn group(id: &str) -> GroupData {
        GroupData {
            id: id.to_owned(),
            name: id.to_uppercase(),
            description: None,
        }
    }

    #[test]
    fn direct_groups_stay_in_id_order_each_once() {
        let mut direct = DirectGroups::default();
        for g in ["g3", "g1", "g3", "g2"] {
            direct.insert(&GroupId::from(g));
        }
        let ids = |d: &DirectGroups| {
            d.as_slice()
                .iter()
                .map(|g| g.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&direct), ["g1", "g2", "g3"]);
        direct.remove("g2");
        direct.remove("g9");
        assert_eq!(ids(&direct), ["g1", "g3"]);
    }

    #[test]
    fn a_user_reaches_each_group_above_its_own_once_in_id_order() {
        // top ─► mid ─► leaf, and top ─► leaf directly too.
        let mut graph = GroupGraph::default();
        graph.add_group(group("top"), ["mid".to_owned(), "leaf".to_owned()]);
        graph.add_group(group("mid"), ["leaf".to_owned()]);
        graph.add_group(group("leaf"), []);
        let scope = graph.resolve(Some(&[group("top")]));
        let direct = ["leaf".to_owned(), "mid".to_owned()];
        assert_eq!(scope.reach(&direct).as_slice(), ["leaf", "mid", "top"]);
        assert!(scope.reach(&["elsewhere".to_owned()]).is_empty());
    }
}
