//! Finalize: turns what the run read into the directory. It runs only after
//! every page succeeded, so it is the only place where anything is removed
//! (memberships, users leaving the scope, product access of dropped groups).
//!
//! It is idempotent: it recomputes everything from the staged pages and the
//! stored records, and the per-record bookkeeping (`created_run`,
//! `changed_run`, `left_run`) makes a re-run after a crash produce the same
//! records, the same counts and no second email.

use crate::access;
use crate::codec::encode;
use crate::domains;
use crate::error::{EngineError, Result};
use crate::keys;
use crate::model::{GroupRecord, MailState, OutboxRecord, UserData, UserRecord};
use crate::orgs;
use crate::ports::{Clock, Store};
use crate::settings::UserScope;
use crate::shards::{self, Kind, Layout, Passes, Producer, Rewritten, Slice};
use crate::sync::doc::{MAX_SEAL_BYTES, Staged};
use crate::sync::run::Worker;
use crate::sync::shape::{Resolved, Shape};
use crate::sync::skipped::Skipped;
use crate::sync::state::{
    Claim, DeltaState, DirState, LastCompleted, Shards, Tally, delta_basis, load_current,
    load_state_of,
};
use crate::sync::types::{GroupRef, LogLevel, PendingRemovals, RunCounts};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Names listed in a log message about many users.
const SAMPLE: usize = 5;

/// How finalize ended.
pub(crate) enum Finalized {
    /// The run's result is the directory now.
    Done,
    /// The removal guard holds the removals for an admin (nothing removed;
    /// the run's documents are written but not in use).
    Held,
}

pub(crate) async fn finalize<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
) -> Result<Finalized> {
    let (e, org, dir) = (w.e, w.org, w.dir);
    let store = e.store;
    let now = w.now();
    let run = w.doc.head.run_id;
    // The state this run builds on: the one current when it started
    // (every invocation finalizing this run reads the same one).
    let state = match w.doc.head.base {
        Some(base) => load_state_of(store, org, dir, base)
            .await?
            .ok_or_else(|| EngineError::Superseded(keys::state(org, dir, base)))?,
        None => DirState::default(),
    };
    let incremental = w.doc.head.incremental;
    if incremental && state.last_completed.is_some() {
        let mut changed = false;
        w.for_each_staged(|line| changed |= line.changes_something())
            .await?;
        if !changed {
            unchanged(w, state).await?;
            return Ok(Finalized::Done);
        }
    }
    // The run's domains are claimed now; one that another organization
    // claimed since the run started is not verified here.
    for domain in w.doc.head.claim.clone() {
        if !domains::claim(store, &domain, org, now).await? {
            w.doc.head.claim.remove(&domain);
            w.log(LogLevel::Warning, format!(
                "domain {domain} was verified by another organization during the sync: it is not claimed here and its users are skipped as unverified"
            ));
        }
    }
    let old_groups: BTreeMap<String, GroupRecord> =
        shards::load_all(store, org, dir, Kind::Groups, &state.shards.groups).await?;
    let h = &w.doc.head;
    let settings = h.settings.clone();
    let all_users = matches!(settings.scope, UserScope::AllUsersAndGroups);
    let claim = h.claim.clone();
    let eligible = |u: &UserData| u.is_guest() || claim.contains(&u.domain());

    // The tenant's shape: an incremental run starts from what the last
    // completed run stored, a user shard at a time.
    let mut shape = Shape::default();
    if incremental {
        for i in 0..state.shards.users.count {
            let shard: BTreeMap<String, UserRecord> =
                shards::load_shard(store, org, dir, Kind::Users, &state.shards.users, i).await?;
            for (id, rec) in shard.iter().filter(|(_, r)| r.in_source) {
                shape.add_user(id, eligible(&rec.data), &rec.direct_groups);
            }
        }
        for rec in old_groups.values().filter(|r| r.in_source) {
            shape.add_group(rec.data.clone(), rec.children.iter().cloned());
        }
    }
    for root in &h.roots {
        shape.groups.insert(root.id.clone(), root.clone());
    }
    w.for_each_staged(|line| shape.apply(line, &eligible))
        .await?;
    let h = &w.doc.head;
    let resolved = shape.resolve((!all_users).then_some(h.roots.as_slice()));
    let mut counts = h.counts.clone();
    counts.groups_over_limit = resolved.over_limit.clone();
    counts.groups_synced = resolved.synced.len() as u64;

    // Users, a slice at a time.
    counts.users_created = 0;
    counts.users_updated = 0;
    counts.users_unchanged = 0;
    counts.users_left_scope = 0;
    counts.emails_queued = 0;
    counts.emails_no_mailbox = 0;
    let mut no_mailbox: Vec<String> = Vec::new();
    let mut leaving: Vec<String> = Vec::new();
    let mut skipped = Skipped::default();
    let mut synced_users = 0;
    let pass_bytes = e.config.pass_bytes;
    let staged_bytes = h.sealed.len() * e.config.seal_bytes.min(MAX_SEAL_BYTES) + w.doc.tail.len();
    let mut users = UserSlices {
        w: &*w,
        shape: &shape,
        resolved: &resolved,
        old: &state.shards.users,
        all_users,
        eligible: &eligible,
    };
    let users = shards::rewrite(
        store,
        org,
        dir,
        Kind::Users,
        &state.shards.users,
        run,
        Passes {
            estimate: staged_bytes + state.shards.users.count as usize * shards::TARGET_BYTES,
            pass_bytes,
        },
        &mut users,
        |rec: &UserRecord| {
            skipped.note(rec, eligible(&rec.data));
            if rec.synced {
                synced_users += 1;
                if rec.created_run == Some(run) {
                    counts.users_created += 1;
                    if rec.data.mailbox().is_none() {
                        counts.emails_no_mailbox += 1;
                        if no_mailbox.len() < SAMPLE {
                            no_mailbox.push(rec.data.upn.clone());
                        }
                    }
                } else if rec.changed_run == run {
                    counts.users_updated += 1;
                } else {
                    counts.users_unchanged += 1;
                }
            } else if rec.left_run == Some(run) {
                counts.users_left_scope += 1;
                if leaving.len() < SAMPLE {
                    leaving.push(rec.data.upn.clone());
                }
            }
        },
    )
    .await?;
    if settings.send_email {
        counts.emails_queued = counts.users_created - counts.emails_no_mailbox;
        if counts.emails_no_mailbox > 0 {
            w.log(LogLevel::Warning, format!(
                "{} new accounts have no mailbox (neither mail nor otherMails in Entra ID) and get no welcome email, e.g. {}",
                counts.emails_no_mailbox,
                no_mailbox.join(", ")
            ));
        }
    }
    for message in skipped.report(&mut counts) {
        w.log(LogLevel::Warning, message);
    }

    // Groups: nesting among the groups of this run.
    let in_scope = &resolved.in_scope;
    let mut parents: HashMap<&str, Vec<String>> = HashMap::new();
    for g in in_scope {
        for c in shape.children.get(g).into_iter().flatten() {
            // A group is never its own parent (Graph may list a group
            // among its own members).
            if c != g && in_scope.contains(c) {
                parents.entry(c.as_str()).or_default().push(g.clone());
            }
        }
    }
    let mut groups = old_groups;
    for g in in_scope {
        let children = shape
            .children
            .get(g)
            .map(|c| {
                c.iter()
                    .filter(|c| *c != g && shape.groups.contains_key(*c))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let mut p = parents.remove(g.as_str()).unwrap_or_default();
        p.sort();
        let counts = resolved.member_counts.get(g).copied().unwrap_or_default();
        groups.insert(
            g.clone(),
            GroupRecord {
                data: shape.groups[g].clone(),
                in_source: true,
                synced: resolved.synced.contains_key(g),
                not_synced_reason: resolved.reasons.get(g).cloned(),
                children,
                parents: p,
                member_count: counts.synced,
                entra_member_count: counts.entra,
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
            rec.entra_member_count = 0;
        }
    }

    // Product access: the grant records of the groups synced now and of
    // those that held access are the truth (the state's copy may have missed
    // a concurrent toggle). Groups not synced by this run lose it.
    let candidates: BTreeSet<&String> = resolved
        .synced
        .keys()
        .chain(&state.product_access)
        .collect();
    let granted = access::granted(store, org, dir, candidates).await?;
    let access_removed: Vec<String> = granted
        .iter()
        .chain(&state.product_access)
        .filter(|g| !resolved.synced.contains_key(*g))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let product_access: BTreeSet<String> = granted
        .into_iter()
        .filter(|g| resolved.synced.contains_key(g))
        .collect();
    counts.access_removed = access_removed.clone();
    let removed_refs: Vec<GroupRef> = access_removed
        .iter()
        .map(|id| GroupRef {
            id: id.clone(),
            display_name: groups.get(id).map(|g| g.data.name.clone()),
        })
        .collect();
    counts.domains_claimed = claim.iter().cloned().collect();

    // Shards first, then the state that points at them.
    let groups = shards::save_all(
        store,
        org,
        dir,
        Kind::Groups,
        &state.shards.groups,
        run,
        shards::encode_entries(groups),
    )
    .await?;
    let members = shards::save_all(
        store,
        org,
        dir,
        Kind::Members,
        &state.shards.members,
        run,
        shards::encode_entries(
            resolved
                .synced
                .iter()
                .map(|(g, m)| (g, shape.member_list(m))),
        ),
    )
    .await?;
    // Welcome emails: one per new account, only when asked for (the
    // outbox is untouched when there is none).
    let outbox = if counts.emails_queued > 0 {
        let mut outbox = OutboxSlices {
            w: &*w,
            old: &state.shards.outbox,
            users: &users.layout,
        };
        shards::rewrite(
            store,
            org,
            dir,
            Kind::Outbox,
            &state.shards.outbox,
            run,
            Passes {
                estimate: state.shards.outbox.count as usize * shards::TARGET_BYTES
                    + counts.emails_queued as usize * 256,
                pass_bytes,
            },
            &mut outbox,
            |_| {},
        )
        .await?
    } else {
        Rewritten {
            layout: state.shards.outbox.clone(),
            garbage: Vec::new(),
        }
    };
    let garbage: Vec<String> = [&users, &groups, &members, &outbox]
        .iter()
        .flat_map(|r| r.garbage.iter().cloned())
        .collect();
    let new_shards = Shards {
        users: users.layout,
        groups: groups.layout,
        members: members.layout,
        outbox: outbox.layout,
    };
    let guard = settings.removal_guard;
    let allowed = guard.allowed(state.synced_users);
    let trips = guard.enabled
        && (counts.users_left_scope > allowed || !removed_refs.is_empty())
        && !w.doc.head.removals_confirmed;
    if trips {
        let pending = PendingRemovals {
            users_leaving: counts.users_left_scope,
            users_synced_before: state.synced_users,
            users_allowed: allowed,
            sample: leaving,
            access_removed: removed_refs,
        };
        return hold(w, pending, &new_shards, counts).await;
    }
    let h = &w.doc.head;
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
    // Domains this directory no longer verifies are released, unless
    // another directory of the org verifies them.
    let dropped: Vec<&String> = state
        .claimed
        .iter()
        .map(|c| &c.name)
        .filter(|d| !claim.contains(*d))
        .collect();
    if !dropped.is_empty() {
        let mut elsewhere = BTreeSet::new();
        for other in orgs::list(store, org)
            .await?
            .iter()
            .filter(|d| d.id != *dir)
        {
            let other = load_current(store, org, &other.id).await?;
            elsewhere.extend(other.claimed.into_iter().map(|c| c.name));
        }
        for domain in dropped.into_iter().filter(|d| !elsewhere.contains(*d)) {
            domains::release(store, domain, org).await?;
        }
    }
    for g in &access_removed {
        let message = format!("product access removed from group {g}: it is not in this sync");
        w.log(LogLevel::Info, message);
        let revoked = access::Grant {
            group: g.clone(),
            enabled: false,
            at: now,
        };
        access::set_grant(store, org, dir, g, &revoked).await?;
    }
    let tally = Tally {
        groups_synced: counts.groups_synced,
        skipped_unverified: counts.skipped_unverified_domain,
        skipped_unsynced_groups: counts.skipped_only_in_unsynced_groups,
        over_limit: counts.groups_over_limit.clone(),
    };
    let mut next = state.clone();
    next.run = run;
    next.base = w.doc.head.base;
    next.shards = new_shards;
    next.garbage = garbage;
    next.claimed = claim
        .iter()
        .map(|name| Claim {
            name: name.clone(),
            claimed_at: state
                .claimed
                .iter()
                .find(|c| &c.name == name)
                .map_or(now, |c| c.claimed_at),
        })
        .collect();
    next.billable_users = shape.billable(&resolved, &product_access);
    next.product_access = product_access;
    next.synced_users = synced_users;
    next.last_completed = Some(LastCompleted {
        run_id: run,
        finished_at: now,
        domains: claim.clone(),
        selected,
        access_removed,
    });
    next.delta = delta;
    next.tally = tally;
    commit(w, &state, &next).await?;
    w.doc.head.counts = counts;
    Ok(Finalized::Done)
}

/// Stops finalize before anything is removed, for an admin to confirm or
/// reject `pending` (the removal guard). The documents this run wrote stay
/// unused until then.
async fn hold<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    pending: PendingRemovals,
    written: &Shards,
    counts: RunCounts,
) -> Result<Finalized> {
    let run = w.doc.head.run_id;
    let (org, dir) = (w.org, w.dir);
    w.doc.head.held = [
        (Kind::Users, &written.users),
        (Kind::Groups, &written.groups),
        (Kind::Members, &written.members),
        (Kind::Outbox, &written.outbox),
    ]
    .into_iter()
    .flat_map(|(kind, layout)| {
        (0..layout.count)
            .filter(|i| layout.gens.get(*i as usize) == Some(&run))
            .filter_map(move |i| layout.key(org, dir, kind, i))
    })
    .collect();
    let groups = pending.access_removed.len();
    w.log(LogLevel::Warning, format!(
        "the removal guard stopped this sync before it removed anything: {} of {} synced users would leave the scope (more than {} may only with confirmation), {groups} groups would lose product access; confirm or reject the removals",
        pending.users_leaving, pending.users_synced_before, pending.users_allowed
    ));
    w.doc.head.pending = Some(pending);
    w.doc.head.counts = counts;
    Ok(Finalized::Held)
}

/// The user records of a slice: the stored ones, updated with what the run
/// read (staged pages, read again for each slice) and the resolved groups.
struct UserSlices<'x, 'w, 'a, S, C, E> {
    w: &'x Worker<'w, 'a, S, C>,
    shape: &'x Shape,
    resolved: &'x Resolved,
    old: &'x Layout,
    all_users: bool,
    eligible: &'x E,
}

impl<S: Store, C: Clock, E: Fn(&UserData) -> bool> Producer for UserSlices<'_, '_, '_, S, C, E> {
    type Record = UserRecord;

    async fn produce(&mut self, slice: &Slice) -> Result<BTreeMap<String, UserRecord>> {
        let w = self.w;
        let (run, now) = (w.doc.head.run_id, w.now());
        let mut users: BTreeMap<String, UserRecord> = BTreeMap::new();
        for i in slice.documents(self.old.count) {
            let shard: BTreeMap<String, UserRecord> =
                shards::load_shard(w.e.store, w.org, w.dir, Kind::Users, self.old, i).await?;
            users.extend(shard.into_iter().filter(|(id, _)| slice.keeps(id)));
        }
        // The users of the slice as this run sees them.
        let mut seen: BTreeMap<String, UserData> = if w.doc.head.incremental {
            users
                .iter()
                .filter(|(_, r)| r.in_source)
                .map(|(id, r)| (id.clone(), r.data.clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        w.for_each_staged(|line| match line {
            Staged::Members { u, .. } => {
                seen.extend(
                    u.into_iter()
                        .filter(|u| slice.keeps(&u.id))
                        .map(|u| (u.id.clone(), u)),
                );
            }
            Staged::Users { up, rm } => {
                seen.extend(
                    up.into_iter()
                        .filter(|u| slice.keeps(&u.id))
                        .map(|u| (u.id.clone(), u)),
                );
                for id in rm {
                    seen.remove(&id);
                }
            }
            _ => {}
        })
        .await?;
        let mut user_groups = self.shape.user_groups(self.resolved, |id| slice.keeps(id));
        let mut user_direct = self
            .shape
            .user_direct_groups(self.resolved, |id| slice.keeps(id));

        for (id, data) in &seen {
            let synced = (self.eligible)(data) && (self.all_users || user_groups.contains_key(id));
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
            if seen.contains_key(id) || !(rec.in_source || rec.synced || !rec.groups.is_empty()) {
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
        Ok(users)
    }
}

/// The welcome emails of a slice: the stored ones, plus one for each
/// account this run created (read back from the user shards just written).
struct OutboxSlices<'x, 'w, 'a, S, C> {
    w: &'x Worker<'w, 'a, S, C>,
    old: &'x Layout,
    /// The user documents this run just wrote.
    users: &'x Layout,
}

impl<S: Store, C: Clock> Producer for OutboxSlices<'_, '_, '_, S, C> {
    type Record = OutboxRecord;

    async fn produce(&mut self, slice: &Slice) -> Result<BTreeMap<String, OutboxRecord>> {
        let w = self.w;
        let (run, now, store) = (w.doc.head.run_id, w.now(), w.e.store);
        let mut outbox: BTreeMap<String, OutboxRecord> = BTreeMap::new();
        for i in slice.documents(self.old.count) {
            let shard: BTreeMap<String, OutboxRecord> =
                shards::load_shard(store, w.org, w.dir, Kind::Outbox, self.old, i).await?;
            outbox.extend(shard.into_iter().filter(|(id, _)| slice.keeps(id)));
        }
        for i in 0..self.users.count {
            let shard: BTreeMap<String, UserRecord> =
                shards::load_shard(store, w.org, w.dir, Kind::Users, self.users, i).await?;
            let created = shard
                .into_iter()
                .filter(|(id, r)| r.synced && r.created_run == Some(run) && slice.keeps(id));
            for (id, rec) in created {
                let Some(to) = rec.data.mailbox() else {
                    continue;
                };
                outbox.entry(id).or_insert_with(|| OutboxRecord {
                    to: to.to_owned(),
                    name: rec.data.display_name.clone(),
                    state: MailState::Queued,
                    queued_at: now,
                    sent_at: None,
                    sent_run: None,
                });
            }
        }
        Ok(outbox)
    }
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
    let mut next = state.clone();
    next.run = run;
    next.base = h.base;
    next.garbage = Vec::new();
    next.last_completed = Some(LastCompleted {
        run_id: run,
        finished_at: now,
        domains: h.claim.clone(),
        selected: None,
        access_removed: Vec::new(),
    });
    next.delta = delta;
    commit(w, &state, &next).await?;
    w.doc.head.counts = counts;
    Ok(())
}

/// Writes this run's state, the moment its result becomes the directory,
/// then deletes what no reader needs any more: the documents the base state
/// had stopped using, and the state before the base.
async fn commit<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    next: &DirState,
) -> Result<()> {
    let store = w.e.store;
    store
        .set(&keys::state(w.org, w.dir, next.run), &encode(next))
        .await?;
    for key in &base.garbage {
        store.delete(key).await?;
    }
    if let Some(older) = base.base {
        store.delete(&keys::state(w.org, w.dir, older)).await?;
    }
    Ok(())
}
