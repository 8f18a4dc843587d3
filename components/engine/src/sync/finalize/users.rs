//! The users step: rewrites the user documents a slice at a time (the
//! stored records, updated with the staged pages and the resolved groups)
//! and counts what became of each user. A user who left the source or the
//! scope is kept, marked not synced and without memberships (`left_run`),
//! never deleted; nobody reads these documents before `commit`.

use super::resolve::{Tenant, eligible};
use crate::error::Result;
use crate::model::{UserData, UserRecord};
use crate::ports::{Clock, Store, Timestamp};
use crate::shards::{self, Kind, Layout, Passes, Producer, Rewritten, Slice};
use crate::sync::doc::{MAX_SEAL_BYTES, Staged};
use crate::sync::skipped::Skipped;
use crate::sync::state::DirState;
use crate::sync::types::{LogLevel, RunCounts};
use crate::sync::worker::Worker;
use std::collections::BTreeMap;

/// Names listed in a log message about many users.
const SAMPLE: usize = 5;

/// What the users step wrote and learned.
pub(super) struct UsersWritten {
    /// The user documents after this run.
    pub rewritten: Rewritten,
    /// Users synced after this run.
    pub synced: u64,
    /// Some of the users leaving the scope in this run (sign-in names).
    pub leaving: Vec<String>,
}

/// Writes the user documents and sets the run's user, email and skipped
/// counts (with their log messages).
pub(super) async fn write_users<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    base: &DirState,
    tenant: &Tenant,
    counts: &mut RunCounts,
) -> Result<UsersWritten> {
    let mut tally = UserTally::new(w.doc.head.run_id, counts);
    let rewritten = rewrite_users(w, base, tenant, &mut tally).await?;
    Ok(tally.report(w, rewritten))
}

/// Rewrites the user documents through [`UserSlices`], in as many passes
/// as the staged pages and the base's documents need.
async fn rewrite_users<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    tenant: &Tenant,
    tally: &mut UserTally<'_>,
) -> Result<Rewritten> {
    let old = &base.shards.users;
    let passes = Passes {
        estimate: staged_bytes(w) + old.count as usize * shards::TARGET_BYTES,
        pass_bytes: w.e.config.pass_bytes,
    };
    let mut slices = UserSlices { w, tenant, old };
    let (store, run, claim) = (w.e.store, w.doc.head.run_id, &w.doc.head.claim);
    let (org, dir) = (w.org, w.dir);
    shards::rewrite(
        store,
        org,
        dir,
        Kind::Users,
        old,
        run,
        passes,
        &mut slices,
        |rec| tally.note(rec, eligible(claim, &rec.data)),
    )
    .await
}

/// An upper bound of the run's staged pages, in bytes.
fn staged_bytes<S, C>(w: &Worker<'_, '_, S, C>) -> usize {
    let seal_bytes = w.e.config.seal_bytes.min(MAX_SEAL_BYTES);
    w.doc.head.sealed.len() * seal_bytes + w.doc.tail.len()
}

/// Counts the user records as they are written.
struct UserTally<'c> {
    run: u64,
    counts: &'c mut RunCounts,
    synced: u64,
    /// Some new accounts without a mailbox (sign-in names).
    no_mailbox: Vec<String>,
    leaving: Vec<String>,
    skipped: Skipped,
}

impl<'c> UserTally<'c> {
    fn new(run: u64, counts: &'c mut RunCounts) -> Self {
        counts.users_created = 0;
        counts.users_updated = 0;
        counts.users_unchanged = 0;
        counts.users_left_scope = 0;
        counts.emails_queued = 0;
        counts.emails_no_mailbox = 0;
        UserTally {
            run,
            counts,
            synced: 0,
            no_mailbox: Vec::new(),
            leaving: Vec::new(),
            skipped: Skipped::default(),
        }
    }

    /// One record as this run leaves it; `eligible`: see [`eligible`].
    fn note(&mut self, rec: &UserRecord, eligible: bool) {
        self.skipped.note(rec, eligible);
        if rec.synced {
            self.synced += 1;
            self.note_synced(rec);
        } else if rec.left_run == Some(self.run) {
            self.counts.users_left_scope += 1;
            sample(&mut self.leaving, rec);
        }
    }

    fn note_synced(&mut self, rec: &UserRecord) {
        if rec.created_run == Some(self.run) {
            self.counts.users_created += 1;
            if rec.data.mailbox().is_none() {
                self.counts.emails_no_mailbox += 1;
                sample(&mut self.no_mailbox, rec);
            }
        } else if rec.changed_run == self.run {
            self.counts.users_updated += 1;
        } else {
            self.counts.users_unchanged += 1;
        }
    }

    /// Counts the welcome emails to queue and logs who gets none and who
    /// was skipped.
    fn report<S: Store, C: Clock>(
        self,
        w: &mut Worker<'_, '_, S, C>,
        rewritten: Rewritten,
    ) -> UsersWritten {
        let counts = self.counts;
        if w.doc.head.settings.send_email {
            counts.emails_queued = counts.users_created - counts.emails_no_mailbox;
            if counts.emails_no_mailbox > 0 {
                w.log(LogLevel::Warning, format!(
                    "{} new accounts have no mailbox (neither mail nor otherMails in Entra ID) and get no welcome email, e.g. {}",
                    counts.emails_no_mailbox,
                    self.no_mailbox.join(", ")
                ));
            }
        }
        for message in self.skipped.report(counts) {
            w.log(LogLevel::Warning, message);
        }
        UsersWritten {
            rewritten,
            synced: self.synced,
            leaving: self.leaving,
        }
    }
}

/// Adds the user's sign-in name to a log sample that is not full yet.
fn sample(names: &mut Vec<String>, rec: &UserRecord) {
    if names.len() < SAMPLE {
        names.push(rec.data.upn.clone());
    }
}

/// The user records of a slice: the stored ones, updated with what the run
/// read (staged pages, read again for each slice) and the resolved groups.
struct UserSlices<'x, 'w, 'a, S, C> {
    w: &'x Worker<'w, 'a, S, C>,
    tenant: &'x Tenant,
    /// The base state's user documents.
    old: &'x Layout,
}

impl<S: Store, C: Clock> Producer for UserSlices<'_, '_, '_, S, C> {
    type Record = UserRecord;

    async fn produce(&mut self, slice: &Slice) -> Result<BTreeMap<String, UserRecord>> {
        let mut users = self.stored(slice).await?;
        let seen = self.seen(slice, &users).await?;
        self.update_seen(slice, &mut users, &seen);
        mark_gone(&mut users, &seen, self.w.doc.head.run_id);
        Ok(users)
    }
}

impl<S: Store, C: Clock> UserSlices<'_, '_, '_, S, C> {
    /// The base state's records of the slice.
    async fn stored(&self, slice: &Slice) -> Result<BTreeMap<String, UserRecord>> {
        let w = self.w;
        shards::load_slice(w.e.store, w.org, w.dir, Kind::Users, self.old, slice).await
    }

    /// The users of the slice in the source as this run sees them: for an
    /// incremental run the stored ones, then the staged pages in order.
    async fn seen(
        &self,
        slice: &Slice,
        stored: &BTreeMap<String, UserRecord>,
    ) -> Result<BTreeMap<String, UserData>> {
        // Collected, not extended: a map built at once packs its nodes full.
        let mut seen: BTreeMap<String, UserData> = if self.w.doc.head.cursor.incremental() {
            let in_source = stored.iter().filter(|(_, r)| r.in_source);
            in_source
                .map(|(id, r)| (id.clone(), r.data.clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        let of_slice = |users: Vec<UserData>| {
            let kept = users.into_iter().filter(move |u| slice.keeps(&u.id));
            kept.map(|u| (u.id.clone(), u))
        };
        self.w
            .for_each_staged(|line| match line {
                Staged::Members { users, .. } => seen.extend(of_slice(users)),
                Staged::Users {
                    upserted,
                    removed_ids,
                } => {
                    seen.extend(of_slice(upserted));
                    for id in removed_ids {
                        seen.remove(&id);
                    }
                }
                _ => {}
            })
            .await?;
        Ok(seen)
    }

    /// Updates (or adds) the record of every user the run saw.
    fn update_seen(
        &self,
        slice: &Slice,
        users: &mut BTreeMap<String, UserRecord>,
        seen: &BTreeMap<String, UserData>,
    ) {
        let (t, h) = (self.tenant, &self.w.doc.head);
        let (run, now) = (h.run_id, self.w.now());
        let mut user_groups = t.shape.user_groups(&t.resolved, |id| slice.keeps(id));
        let mut user_direct = t
            .shape
            .user_direct_groups(&t.resolved, |id| slice.keeps(id));
        for (id, data) in seen {
            let synced = eligible(&h.claim, data) && (t.all_users || user_groups.contains_key(id));
            let groups = if synced {
                user_groups.remove(id).unwrap_or_default()
            } else {
                Vec::new()
            };
            let placement = Placement {
                synced,
                groups,
                direct_groups: user_direct.remove(id.as_str()).unwrap_or_default(),
            };
            match users.get_mut(id) {
                Some(rec) => placement.update(rec, data, run, now),
                None => {
                    users.insert(id.clone(), placement.new_record(data, run, now));
                }
            }
        }
    }
}

/// Where a user the run saw stands after it.
struct Placement {
    synced: bool,
    /// Synced groups, directly or through nesting (none when not synced).
    groups: Vec<String>,
    /// Groups in scope the user is a direct member of.
    direct_groups: Vec<String>,
}

impl Placement {
    /// Updates a stored record: `left_run` when the user stops being
    /// synced, `changed_run` when anything changed, `created_run` the
    /// first time the user is synced.
    fn update(self, rec: &mut UserRecord, data: &UserData, run: u64, now: Timestamp) {
        let changed = rec.data != *data
            || !rec.in_source
            || rec.synced != self.synced
            || rec.direct_groups != self.direct_groups
            || rec.groups != self.groups;
        if rec.synced && !self.synced {
            rec.left_run = Some(run);
        } else if self.synced {
            rec.left_run = None;
        }
        if changed {
            rec.data.clone_from(data);
            rec.in_source = true;
            rec.synced = self.synced;
            rec.direct_groups = self.direct_groups;
            rec.groups = self.groups;
            rec.changed_run = run;
        }
        if self.synced && rec.created_run.is_none() {
            rec.created_run = Some(run);
            rec.created_at = now;
        }
    }

    /// The record of a user seen for the first time.
    fn new_record(self, data: &UserData, run: u64, now: Timestamp) -> UserRecord {
        UserRecord {
            data: data.clone(),
            in_source: true,
            synced: self.synced,
            direct_groups: self.direct_groups,
            groups: self.groups,
            created_run: self.synced.then_some(run),
            created_at: if self.synced {
                now
            } else {
                Timestamp::UNIX_EPOCH
            },
            changed_run: run,
            left_run: None,
        }
    }
}

/// Users of the slice the run did not see left the source or the scope:
/// kept, not synced, without memberships (`left_run` if they were synced).
fn mark_gone(
    users: &mut BTreeMap<String, UserRecord>,
    seen: &BTreeMap<String, UserData>,
    run: u64,
) {
    for (id, rec) in users.iter_mut() {
        if seen.contains_key(id) || !(rec.in_source || rec.synced || !rec.groups.is_empty()) {
            continue;
        }
        if rec.synced {
            rec.left_run = Some(run);
        }
        rec.in_source = false;
        rec.synced = false;
        rec.groups.clear();
        rec.direct_groups.clear();
        rec.changed_run = run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{SourceUser, from_epoch_millis};

    /// The finalize step's time in these tests.
    fn now() -> Timestamp {
        from_epoch_millis(1_000)
    }

    const RUN: u64 = 7;

    fn data(id: &str) -> UserData {
        UserData::from(SourceUser {
            id: id.to_owned(),
            user_principal_name: format!("{id}@contoso.com"),
            account_enabled: true,
            ..SourceUser::default()
        })
    }

    /// A user synced by run 3 through group `eng`.
    fn synced_before(id: &str) -> UserRecord {
        UserRecord {
            data: data(id),
            in_source: true,
            synced: true,
            direct_groups: vec!["eng".to_owned()],
            groups: vec!["eng".to_owned()],
            created_run: Some(3),
            created_at: from_epoch_millis(10),
            changed_run: 3,
            left_run: None,
        }
    }

    fn placement(synced: bool, groups: &[&str]) -> Placement {
        let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        Placement {
            synced,
            direct_groups: groups.clone(),
            groups: if synced { groups } else { Vec::new() },
        }
    }

    #[test]
    fn users_step_marks_a_user_who_left_the_scope_left_not_deleted() {
        let mut rec = synced_before("a1");
        placement(false, &[]).update(&mut rec, &data("a1"), RUN, now());
        assert!(!rec.synced && rec.in_source);
        assert!(rec.groups.is_empty());
        assert_eq!(rec.left_run, Some(RUN));
        assert_eq!(rec.changed_run, RUN);
        assert_eq!(rec.created_run, Some(3), "the account stays");
    }

    #[test]
    fn users_step_marks_a_user_who_left_the_source_left_without_memberships() {
        let mut users = BTreeMap::from([("a1".to_owned(), synced_before("a1"))]);
        mark_gone(&mut users, &BTreeMap::new(), RUN);
        let rec = &users["a1"];
        assert!(!rec.synced && !rec.in_source);
        assert!(rec.groups.is_empty() && rec.direct_groups.is_empty());
        assert_eq!(rec.left_run, Some(RUN));
    }

    #[test]
    fn users_step_leaves_an_unchanged_user_as_the_run_before_left_it() {
        let mut rec = synced_before("a1");
        placement(true, &["eng"]).update(&mut rec, &data("a1"), RUN, now());
        assert_eq!(rec, synced_before("a1"));
    }

    #[test]
    fn users_step_dates_an_account_when_the_user_is_first_synced() {
        let rec = placement(true, &["eng"]).new_record(&data("a1"), RUN, now());
        assert_eq!((rec.created_run, rec.created_at), (Some(RUN), now()));
        let rec = placement(false, &[]).new_record(&data("a2"), RUN, now());
        assert_eq!(
            (rec.created_run, rec.created_at),
            (None, Timestamp::UNIX_EPOCH)
        );
        assert!(rec.in_source && !rec.synced);
    }

    #[test]
    fn users_step_brings_back_a_user_who_returns_to_the_scope() {
        let mut rec = synced_before("a1");
        placement(false, &[]).update(&mut rec, &data("a1"), 5, now());
        placement(true, &["eng"]).update(&mut rec, &data("a1"), RUN, now());
        assert!(rec.synced);
        assert_eq!(rec.left_run, None);
        assert_eq!(rec.created_run, Some(3), "the same account, not a new one");
    }
}
