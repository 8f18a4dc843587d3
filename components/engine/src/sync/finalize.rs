//! Finalize: turns what the run read into the directory. It runs only after
//! every page succeeded, so it is the only place where anything is removed
//! (memberships, users leaving the scope, product access of dropped groups).
//!
//! It is idempotent: it recomputes everything from the staged pages and the
//! stored records, and the per-record bookkeeping (`created_run`,
//! `changed_run`, `left_run`) makes a re-run after a crash produce the same
//! records, the same counts and no second email.

use crate::codec::update;
use crate::error::Result;
use crate::keys;
use crate::model::{
    GroupData, GroupRecord, MailState, MemberList, OutboxRecord, UserData, UserRecord,
};
use crate::ports::{Clock, Store};
use crate::settings::UserScope;
use crate::shards::{self, Kind, Loaded};
use crate::sync::doc::Staged;
use crate::sync::run::{GROUP_USER_LIMIT, Worker};
use crate::sync::skipped::Skipped;
use crate::sync::start::load_state;
use crate::sync::state::{
    Claim, DeltaState, DirState, LastCompleted, ShardCounts, Tally, delta_basis,
};
use crate::sync::types::{LogLevel, OverLimitGroup};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The tenant as this run sees it.
#[derive(Default)]
struct View {
    users: BTreeMap<String, UserData>,
    groups: BTreeMap<String, GroupData>,
    direct_users: HashMap<String, BTreeSet<String>>,
    children: HashMap<String, BTreeSet<String>>,
    over: BTreeMap<String, u64>,
}

impl View {
    /// An incremental run starts from what the last completed run stored.
    fn from_records(
        users: &BTreeMap<String, UserRecord>,
        groups: &BTreeMap<String, GroupRecord>,
    ) -> View {
        let mut view = View::default();
        for (id, rec) in users.iter().filter(|(_, r)| r.in_source) {
            view.users.insert(id.clone(), rec.data.clone());
            for g in &rec.direct_groups {
                view.direct_users
                    .entry(g.clone())
                    .or_default()
                    .insert(id.clone());
            }
        }
        for (id, rec) in groups.iter().filter(|(_, r)| r.in_source) {
            view.groups.insert(id.clone(), rec.data.clone());
            view.children
                .insert(id.clone(), rec.children.iter().cloned().collect());
        }
        view
    }

    fn apply(&mut self, line: Staged) {
        match line {
            Staged::Group { g } => {
                self.groups.insert(g.id.clone(), g);
            }
            Staged::Members { g, u, sg } => {
                let direct = self.direct_users.entry(g.clone()).or_default();
                for user in u {
                    direct.insert(user.id.clone());
                    self.users.insert(user.id.clone(), user);
                }
                self.children.entry(g).or_default().extend(sg);
            }
            Staged::Deleted { g } => {
                self.groups.remove(&g);
                self.direct_users.remove(&g);
                self.children.remove(&g);
            }
            Staged::OverLimit { g, users } => {
                self.over.insert(g, users);
            }
            Staged::Users { up, rm } => {
                for user in up {
                    self.users.insert(user.id.clone(), user);
                }
                for id in rm {
                    self.users.remove(&id);
                }
            }
            Staged::GroupDelta {
                id,
                g,
                au,
                ag,
                ru,
                rg,
                removed,
            } => {
                if removed {
                    self.groups.remove(&id);
                    self.direct_users.remove(&id);
                    self.children.remove(&id);
                    return;
                }
                if let Some(g) = g {
                    self.groups.insert(id.clone(), g);
                }
                let direct = self.direct_users.entry(id.clone()).or_default();
                direct.extend(au);
                for u in &ru {
                    direct.remove(u);
                }
                let children = self.children.entry(id).or_default();
                children.extend(ag);
                for c in &rg {
                    children.remove(c);
                }
            }
        }
    }

    /// Users reachable through `group` (itself and nested groups, cycles and
    /// diamonds included once), or `None` past the limit.
    fn flatten(&self, group: &str) -> (u64, Option<BTreeSet<String>>) {
        let mut users = BTreeSet::new();
        let mut visited = BTreeSet::from([group.to_owned()]);
        let mut stack = vec![group.to_owned()];
        while let Some(g) = stack.pop() {
            for u in self.direct_users.get(&g).into_iter().flatten() {
                if self.users.contains_key(u) {
                    users.insert(u.clone());
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
}

pub(crate) async fn finalize<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>) -> Result<()> {
    let (e, org, dir) = (w.e, w.org, w.dir);
    let store = e.store;
    let now = w.now();
    let run = w.doc.head.run_id;
    let state = load_state(store, org, dir).await?;
    for (kind, count) in &state.stale {
        shards::delete_all(store, org, dir, kind, *count).await?;
    }
    if w.doc.head.incremental && state.last_completed.is_some() {
        let mut changed = false;
        w.for_each_staged(|line| changed |= line.changes_something())
            .await?;
        if !changed {
            return unchanged(w, state).await;
        }
    }
    let mut old_users: Loaded<UserRecord> =
        shards::load_all(store, org, dir, Kind::Users, state.shards.users).await?;
    let mut old_groups: Loaded<GroupRecord> =
        shards::load_all(store, org, dir, Kind::Groups, state.shards.groups).await?;
    let mut old_outbox: Loaded<OutboxRecord> =
        shards::load_all(store, org, dir, Kind::Outbox, state.shards.outbox).await?;

    let h = &w.doc.head;
    let settings = h.settings.clone();
    let all_users = matches!(settings.scope, UserScope::AllUsersAndGroups);
    let mut view = if h.incremental {
        View::from_records(&old_users.items, &old_groups.items)
    } else {
        View::default()
    };
    for root in &h.roots {
        view.groups.insert(root.id.clone(), root.clone());
    }
    w.for_each_staged(|line| view.apply(line)).await?;
    let h = &w.doc.head;

    // Groups in scope: all of them, or those reachable from the roots.
    let in_scope: BTreeSet<String> = if all_users {
        view.groups.keys().cloned().collect()
    } else {
        let mut reach: BTreeSet<String> = h
            .roots
            .iter()
            .filter(|g| view.groups.contains_key(&g.id))
            .map(|g| g.id.clone())
            .collect();
        let mut stack: Vec<String> = reach.iter().cloned().collect();
        while let Some(g) = stack.pop() {
            for child in view.children.get(&g).into_iter().flatten() {
                if view.groups.contains_key(child) && reach.insert(child.clone()) {
                    stack.push(child.clone());
                }
            }
        }
        reach
    };

    let claim = h.claim.clone();
    let eligible = |u: &UserData| u.is_guest() || claim.contains(&u.domain());
    let mut counts = h.counts.clone();
    counts.groups_over_limit.clear();
    let mut synced_groups: BTreeMap<String, MemberList> = BTreeMap::new();
    let mut member_counts: HashMap<String, u64> = HashMap::new();
    let mut reasons: HashMap<String, String> = HashMap::new();
    let mut user_groups: HashMap<String, Vec<String>> = HashMap::new();
    for g in &in_scope {
        let (count, flat) = view.flatten(g);
        let over = view.over.get(g).copied();
        match (flat, over) {
            (Some(flat), None) => {
                let direct = view.direct_users.get(g);
                let mut list = MemberList::default();
                for u in flat.iter().filter(|u| eligible(&view.users[*u])) {
                    user_groups.entry(u.clone()).or_default().push(g.clone());
                    if direct.is_some_and(|d| d.contains(u)) {
                        list.direct.push(u.clone());
                    } else {
                        list.nested.push(u.clone());
                    }
                }
                member_counts.insert(g.clone(), count);
                synced_groups.insert(g.clone(), list);
            }
            (_, over) => {
                let users = over.unwrap_or(count).max(count);
                member_counts.insert(g.clone(), users);
                reasons.insert(g.clone(), format!(
                    "more than {GROUP_USER_LIMIT} users: split it into groups of at most {GROUP_USER_LIMIT} users"
                ));
                counts.groups_over_limit.push(OverLimitGroup {
                    id: g.clone(),
                    display_name: view.groups[g].name.clone(),
                    users,
                });
            }
        }
    }
    counts.groups_synced = synced_groups.len() as u64;
    let mut user_direct: HashMap<&str, Vec<String>> = HashMap::new();
    for g in &in_scope {
        for u in view.direct_users.get(g).into_iter().flatten() {
            user_direct.entry(u.as_str()).or_default().push(g.clone());
        }
    }

    // Users.
    let mut users = std::mem::take(&mut old_users.items);
    for (id, data) in &view.users {
        let synced = eligible(data) && (all_users || user_groups.contains_key(id));
        let groups = if synced {
            user_groups.remove(id).unwrap_or_default()
        } else {
            Vec::new()
        };
        let direct_groups = user_direct.remove(id.as_str()).unwrap_or_default();
        if let Some(rec) = users.get_mut(id) {
            let changed = rec.data != *data
                || !rec.in_source
                || rec.synced != synced
                || rec.direct_groups != direct_groups
                || rec.groups != groups;
            if rec.synced && !synced {
                rec.left_run = Some(run);
            } else if synced {
                rec.left_run = None;
            }
            if changed {
                rec.data.clone_from(data);
                rec.in_source = true;
                rec.synced = synced;
                rec.direct_groups = direct_groups;
                rec.groups = groups;
                rec.changed_run = run;
            }
            if synced && rec.created_run.is_none() {
                rec.created_run = Some(run);
                rec.created_at = now;
            }
            continue;
        }
        let next = UserRecord {
            data: data.clone(),
            in_source: true,
            synced,
            direct_groups,
            groups,
            created_run: synced.then_some(run),
            created_at: if synced { now } else { 0 },
            changed_run: run,
            left_run: None,
        };
        users.insert(id.clone(), next);
    }
    for (id, rec) in users.iter_mut() {
        if view.users.contains_key(id) || !(rec.in_source || rec.synced || !rec.groups.is_empty()) {
            continue;
        }
        // Left the source or the scope: kept, not synced, no memberships.
        if rec.synced {
            rec.left_run = Some(run);
        }
        rec.in_source = false;
        rec.synced = false;
        rec.groups.clear();
        rec.direct_groups.clear();
        rec.changed_run = run;
    }
    counts.users_created = 0;
    counts.users_updated = 0;
    counts.users_unchanged = 0;
    counts.users_left_scope = 0;
    let mut skipped = Skipped::default();
    let mut synced_users = 0;
    for rec in users.values() {
        skipped.note(rec, eligible(&rec.data));
        if rec.synced {
            synced_users += 1;
            if rec.created_run == Some(run) {
                counts.users_created += 1;
            } else if rec.changed_run == run {
                counts.users_updated += 1;
            } else {
                counts.users_unchanged += 1;
            }
        } else if rec.left_run == Some(run) {
            counts.users_left_scope += 1;
        }
    }
    for message in skipped.report(&mut counts) {
        w.log(LogLevel::Warning, message);
    }

    // Groups: nesting among the groups of this run.
    let mut parents: HashMap<&str, Vec<String>> = HashMap::new();
    for g in &in_scope {
        for c in view.children.get(g).into_iter().flatten() {
            if in_scope.contains(c) {
                parents.entry(c.as_str()).or_default().push(g.clone());
            }
        }
    }
    let mut groups = std::mem::take(&mut old_groups.items);
    for g in &in_scope {
        let children = view
            .children
            .get(g)
            .map(|c| {
                c.iter()
                    .filter(|c| view.groups.contains_key(*c))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let mut p = parents.remove(g.as_str()).unwrap_or_default();
        p.sort();
        groups.insert(
            g.clone(),
            GroupRecord {
                data: view.groups[g].clone(),
                in_source: true,
                synced: synced_groups.contains_key(g),
                not_synced_reason: reasons.remove(g),
                children,
                parents: p,
                member_count: member_counts.get(g).copied().unwrap_or(0),
            },
        );
    }
    for (id, rec) in groups.iter_mut() {
        if !in_scope.contains(id) && (rec.in_source || rec.synced) {
            rec.in_source = false;
            rec.synced = false;
            rec.not_synced_reason = Some("not in the latest sync".to_owned());
            rec.children.clear();
            rec.parents.clear();
            rec.member_count = 0;
        }
    }

    // Welcome emails: one per new account, only when asked for.
    let mut outbox = std::mem::take(&mut old_outbox.items);
    counts.emails_queued = 0;
    if settings.send_email {
        for (id, rec) in users
            .iter()
            .filter(|(_, r)| r.synced && r.created_run == Some(run))
        {
            counts.emails_queued += 1;
            outbox.entry(id.clone()).or_insert_with(|| OutboxRecord {
                to: rec.data.email_address().to_owned(),
                name: rec.data.display_name.clone(),
                state: MailState::Queued,
                queued_at: now,
                sent_at: None,
                sent_run: None,
            });
        }
    }

    // Product access of groups that are not synced by this run goes; a
    // re-run after a crash finds it gone already and reuses the list.
    let access_removed: Vec<String> = match &state.last_completed {
        Some(last) if last.run_id == run => last.access_removed.clone(),
        _ => state
            .product_access
            .iter()
            .filter(|g| !synced_groups.contains_key(*g))
            .cloned()
            .collect(),
    };
    for g in &access_removed {
        let message = format!("product access removed from group {g}: it is not in this sync");
        w.log(LogLevel::Info, message);
    }
    counts.access_removed = access_removed.clone();
    counts.domains_claimed = claim.iter().cloned().collect();

    // Shards first, then the state that points at them.
    let new_counts = ShardCounts {
        users: shards::save_all(
            store,
            org,
            dir,
            Kind::Users,
            old_users.count,
            shards::encode_entries(users),
        )
        .await?,
        groups: shards::save_all(
            store,
            org,
            dir,
            Kind::Groups,
            old_groups.count,
            shards::encode_entries(groups),
        )
        .await?,
        members: shards::save_all(
            store,
            org,
            dir,
            Kind::Members,
            state.shards.members,
            shards::encode_entries(&synced_groups),
        )
        .await?,
        outbox: shards::save_all(
            store,
            org,
            dir,
            Kind::Outbox,
            old_outbox.count,
            shards::encode_entries(outbox),
        )
        .await?,
    };
    let h = &w.doc.head;
    let stale: Vec<(String, u32)> = [
        (Kind::Users, state.shards.users, new_counts.users),
        (Kind::Groups, state.shards.groups, new_counts.groups),
        (Kind::Members, state.shards.members, new_counts.members),
        (Kind::Outbox, state.shards.outbox, new_counts.outbox),
    ]
    .into_iter()
    .filter(|(_, old, new)| *old > 0 && old != new)
    .map(|(k, old, _)| (k.name().to_owned(), old))
    .collect();
    let delta = match (all_users, &h.new_users_token, &h.new_groups_token) {
        (true, Some(u), Some(g)) => Some(DeltaState {
            users: u.clone(),
            groups: g.clone(),
            obtained_at: now,
            basis: delta_basis(&settings, &claim),
        }),
        _ => None,
    };
    let selected = (!all_users).then(|| h.roots.iter().map(|g| g.id.clone()).collect());
    let tally = Tally {
        groups_synced: counts.groups_synced,
        skipped_unverified: counts.skipped_unverified_domain,
        skipped_unsynced_groups: counts.skipped_only_in_unsynced_groups,
        over_limit: counts.groups_over_limit.clone(),
    };
    update(
        store,
        &keys::dir_doc(org, dir, "state"),
        |cur: Option<DirState>| {
            let cur = cur.unwrap_or_default();
            let mut next = cur.clone();
            next.shards = new_counts.clone();
            if cur.last_completed.as_ref().is_none_or(|l| l.run_id != run) {
                next.stale = stale.clone();
            }
            next.claimed = claim
                .iter()
                .map(|name| Claim {
                    name: name.clone(),
                    claimed_at: cur
                        .claimed
                        .iter()
                        .find(|c| &c.name == name)
                        .map_or(now, |c| c.claimed_at),
                })
                .collect();
            next.product_access
                .retain(|g| synced_groups.contains_key(g));
            next.billable_users = billable(&synced_groups, &next.product_access);
            next.synced_users = synced_users;
            next.last_completed = Some(LastCompleted {
                run_id: run,
                finished_at: now,
                domains: claim.clone(),
                selected: selected.clone(),
                access_removed: access_removed.clone(),
            });
            next.delta = delta.clone();
            next.tally = tally.clone();
            Ok((Some(next), ()))
        },
    )
    .await?;
    w.doc.head.counts = counts;
    Ok(())
}

/// An incremental run that read no change: the directory stays as it is;
/// only the delta tokens and the last completed run move on.
async fn unchanged<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    state: DirState,
) -> Result<()> {
    let now = w.now();
    let h = &w.doc.head;
    let run = h.run_id;
    let mut counts = h.counts.clone();
    counts.users_unchanged = state.synced_users;
    counts.groups_synced = state.tally.groups_synced;
    counts.skipped_unverified_domain = state.tally.skipped_unverified;
    counts.skipped_only_in_unsynced_groups = state.tally.skipped_unsynced_groups;
    counts.groups_over_limit = state.tally.over_limit.clone();
    counts.domains_claimed = h.claim.iter().cloned().collect();
    let delta = match (&h.new_users_token, &h.new_groups_token) {
        (Some(u), Some(g)) => Some(DeltaState {
            users: u.clone(),
            groups: g.clone(),
            obtained_at: now,
            basis: delta_basis(&h.settings, &h.claim),
        }),
        _ => None,
    };
    let claim = h.claim.clone();
    update(
        w.e.store,
        &keys::dir_doc(w.org, w.dir, "state"),
        |cur: Option<DirState>| {
            let mut next = cur.unwrap_or_default();
            if next.last_completed.as_ref().is_none_or(|l| l.run_id != run) {
                next.stale.clear();
            }
            next.last_completed = Some(LastCompleted {
                run_id: run,
                finished_at: now,
                domains: claim.clone(),
                selected: None,
                access_removed: Vec::new(),
            });
            next.delta = delta.clone();
            Ok((Some(next), ()))
        },
    )
    .await?;
    w.doc.head.counts = counts;
    Ok(())
}

/// Distinct users in at least one group with product access.
pub(crate) fn billable(members: &BTreeMap<String, MemberList>, access: &BTreeSet<String>) -> u64 {
    let mut users: BTreeSet<&str> = BTreeSet::new();
    for g in access {
        if let Some(list) = members.get(g) {
            users.extend(list.direct.iter().chain(&list.nested).map(String::as_str));
        }
    }
    users.len() as u64
}
