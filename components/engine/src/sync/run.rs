//! The resumable run: one invocation takes the directory's lease, reads
//! pages until its budget is spent (saving the cursor and the staged data
//! after every page), finalizes, hands out emails and records the result.

use crate::engine::context::Engine;
use crate::error::{EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::model::{GroupData, UserData};
use crate::orgs;
use crate::ports::{
    Clock, DeltaFrom, GroupChange, IdentitySource, Mailer, Member, MemberKind, Notice, NoticeEvent,
    PageToken, SourceError, Store, StoreError, Timestamp, UserChange,
};
use crate::sync::doc::{Cursor, GroupWalk, Lease, MAX_SEAL_BYTES, RunDoc, RunHeader, Staged};
use crate::sync::finalize::Finalized;
use crate::sync::shape::GROUP_USER_LIMIT;
use crate::sync::types::*;

/// The longest wait between two attempts after a transient failure.
const MAX_BACKOFF_SECS: u64 = 120;
/// Expired-token restarts before a run gives up.
const MAX_RESTARTS: u32 = 3;
/// Member ids per staged line of a group delta (keeps lines small).
const IDS_PER_LINE: usize = 5_000;
/// Users per staged line: even with every field at Graph's maximum length a
/// line stays far below the run document's room.
const USERS_PER_LINE: usize = 250;
/// The run document (header and staging tail) stays under this.
const RUN_DOC_BYTES: usize = 960 * 1024;

/// The invocation holding the lease, with the document as last written.
pub(crate) struct Worker<'w, 'a, S, C> {
    pub e: &'w Engine<'a, S, C>,
    pub org: &'w OrgId,
    pub dir: &'w DirId,
    pub key: String,
    pub doc: RunDoc,
    /// This invocation's lease token.
    holder: u64,
}

/// The lease was taken over (it expired while we worked, or another
/// invocation's write landed): stop quietly.
pub(crate) struct LostLease;

/// Whether the stored run document is still run `run_id` leased by `holder`.
async fn holds<S: Store>(store: &S, key: &str, run_id: u64, holder: u64) -> Result<bool> {
    let Some(raw) = store.get(key).await? else {
        return Ok(false);
    };
    let head = RunDoc::decode_head(key, &raw)?;
    Ok(head.run_id == run_id && head.active && head.lease.is_some_and(|l| l.holder == holder))
}

impl<S: Store, C: Clock> Worker<'_, '_, S, C> {
    pub fn now(&self) -> Timestamp {
        self.e.now()
    }

    pub fn log(&mut self, level: LogLevel, message: impl Into<String>) {
        let now = self.now();
        self.doc
            .head
            .log(self.e.config.log_cap, now, level, message);
    }

    /// A group's name for messages: as the tenant gave it, else its id.
    fn group_name(&self, id: &str) -> String {
        let h = &self.doc.head;
        let name = h
            .cursor
            .walk()
            .and_then(|walk| walk.names.get(id))
            .or_else(|| {
                h.cursor
                    .roots()
                    .iter()
                    .find(|g| g.id == id)
                    .map(|g| &g.name)
            });
        match name {
            Some(name) => format!("{name} ({id})"),
            None => id.to_owned(),
        }
    }

    /// Whether the stored document still names this invocation's lease.
    async fn still_holds(&self) -> Result<bool> {
        holds(self.e.store, &self.key, self.doc.head.run_id, self.holder).await
    }

    /// Writes the document (renewing the lease) if we still hold it: one
    /// read to check, one write.
    pub async fn save(&mut self) -> Result<std::result::Result<(), LostLease>> {
        if !self.still_holds().await? {
            return Ok(Err(LostLease));
        }
        if let Some(lease) = &mut self.doc.head.lease {
            lease.until = self.e.now() + self.e.config.lease_ms;
        }
        self.e.store.set(&self.key, &self.doc.encode()).await?;
        Ok(Ok(()))
    }

    /// Appends staged lines, sealing the tail into a chunk first when it
    /// would grow past the threshold.
    async fn stage(&mut self, lines: &[Staged]) -> Result<()> {
        // Leave room for the header, which grows with the groups discovered.
        let room = RUN_DOC_BYTES.saturating_sub(crate::codec::encode(&self.doc.head).len());
        let seal_at = self.e.config.seal_bytes.min(MAX_SEAL_BYTES).min(room);
        for line in lines {
            let bytes = crate::codec::encode(line);
            if !self.doc.tail.is_empty() && self.doc.tail.len() + bytes.len() > seal_at {
                let hash = crate::hash::fnv1a(&self.doc.tail);
                let chunk = keys::stage_chunk(self.org, self.dir, self.doc.head.run_id, hash);
                self.e.store.set(&chunk, &self.doc.tail).await?;
                self.doc.head.sealed.push(hash);
                self.doc.tail.clear();
            }
            self.doc.push(line);
        }
        Ok(())
    }

    /// Hands every staged line of the run to `apply`, sealed chunks first,
    /// one chunk in memory at a time.
    pub async fn for_each_staged(&self, mut apply: impl FnMut(Staged)) -> Result<()> {
        for hash in &self.doc.head.sealed {
            let chunk = keys::stage_chunk(self.org, self.dir, self.doc.head.run_id, *hash);
            let bytes =
                self.e.store.get(&chunk).await?.ok_or_else(|| {
                    EngineError::Corrupt(format!("{chunk}: staging chunk missing"))
                })?;
            crate::sync::doc::parse_lines(&chunk, &bytes)?
                .into_iter()
                .for_each(&mut apply);
        }
        crate::sync::doc::parse_lines(&self.key, &self.doc.tail)?
            .into_iter()
            .for_each(apply);
        Ok(())
    }

    /// Marks every sealed chunk for deletion (staging is done with or
    /// dropped).
    pub fn retire_staging(&mut self) {
        let h = &mut self.doc.head;
        h.cleanup.append(&mut h.sealed);
        self.doc.tail.clear();
    }

    /// Drops everything staged (a full enumeration starts over).
    fn restart_staging(&mut self) {
        self.retire_staging();
        let h = &mut self.doc.head;
        h.page = None;
        h.followed.clear();
        h.last_page = 0;
        h.counts = RunCounts {
            groups_seen: h.cursor.roots().len() as u64,
            ..RunCounts::default()
        };
        match &mut h.cursor {
            Cursor::Groups(c) => c.walk = GroupWalk::from_roots(&c.roots),
            Cursor::AllUsers(c) => {
                c.from = DeltaFrom::Start;
                c.incremental = false;
                c.users_token_in = None;
                c.new_users_token = None;
                c.new_groups_token = None;
                if let Some(walk) = &mut c.no_delta {
                    *walk = GroupWalk::default();
                }
            }
        }
        h.phase = h.cursor.first_phase();
    }
}

pub(crate) async fn advance<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    source: &I,
    mailer: &M,
    budget: Budget,
) -> Result<AdvanceOutcome> {
    orgs::get(e.store, org, dir).await?;
    let Some((id, raw)) = crate::sync::doc::latest(e.store, org, dir).await? else {
        return Ok(AdvanceOutcome::Idle);
    };
    let key = keys::run(org, dir, id);
    let mut doc = RunDoc::decode(&key, &raw)?;
    let now = e.now();
    let h = &mut doc.head;
    if !h.active {
        return Ok(AdvanceOutcome::Idle);
    }
    if let Some(lease) = &h.lease
        && lease.until > now
    {
        return Ok(AdvanceOutcome::Busy { until: lease.until });
    }
    if h.phase == Phase::AwaitingConfirmation {
        // Held by the removal guard: nothing to do until an admin decides.
        return Ok(AdvanceOutcome::Progressed {
            run_id: h.run_id,
            phase: h.phase,
            waiting_until: None,
        });
    }
    if let Some(until) = h.waiting_until
        && until > now
    {
        return Ok(AdvanceOutcome::Progressed {
            run_id: h.run_id,
            phase: h.phase,
            waiting_until: Some(until),
        });
    }
    let holder = crate::token::fresh(now);
    h.lease = Some(Lease {
        holder,
        until: now + e.config.lease_ms,
    });
    h.waiting_until = None;
    // Best effort: write the lease and read it back. Two invocations may
    // both get here (a stale read); they then do the same idempotent work.
    e.store.set(&key, &doc.encode()).await?;
    if !holds(e.store, &key, doc.head.run_id, holder).await? {
        return Ok(AdvanceOutcome::Busy {
            until: now + e.config.lease_ms,
        });
    }
    let mut w = Worker {
        e,
        org,
        dir,
        key,
        doc,
        holder,
    };
    match work(&mut w, source, mailer, budget, now).await {
        Ok(Ok(outcome)) => {
            notify(&w, mailer, &outcome).await;
            Ok(outcome)
        }
        Ok(Err(LostLease)) => Ok(AdvanceOutcome::Busy {
            until: e.now() + e.config.lease_ms,
        }),
        // An invocation that lost the run may find what it was reading gone
        // (e.g. a staging chunk the new holder cleaned up): not an error.
        Err(err) => match w.still_holds().await {
            Ok(false) => Ok(AdvanceOutcome::Busy {
                until: e.now() + e.config.lease_ms,
            }),
            // A page too large for the store (or a record it cannot hold)
            // can never pass: the run ends with the error. A store that is
            // down answers the caller; the next invocation tries again.
            Ok(true)
                if matches!(
                    err,
                    EngineError::Store(StoreError::ValueTooLarge { .. })
                        | EngineError::Store(StoreError::KeyTooLong { .. })
                        | EngineError::Corrupt(_)
                ) =>
            {
                match failed(&mut w, err.to_string(), false, None).await {
                    Ok(Ok(outcome)) => Ok(outcome),
                    Ok(Err(LostLease)) => Ok(AdvanceOutcome::Busy {
                        until: e.now() + e.config.lease_ms,
                    }),
                    Err(_) => Err(err),
                }
            }
            _ => Err(err),
        },
    }
}

/// Tells the admins when this invocation failed the run or had it held by
/// the removal guard (each happens once per run). Best effort: a webhook
/// that fails is not asked again, and the run goes on regardless.
async fn notify<S: Store, C: Clock, M: Mailer>(
    w: &Worker<'_, '_, S, C>,
    mailer: &M,
    outcome: &AdvanceOutcome,
) {
    let (event, message) = match outcome {
        AdvanceOutcome::Finished {
            result: RunResult::Failed { error },
            ..
        } => (NoticeEvent::RunFailed, error.clone()),
        AdvanceOutcome::Progressed {
            phase: Phase::AwaitingConfirmation,
            ..
        } => {
            let message = match &w.doc.head.pending {
                Some(p) => format!(
                    "The removal guard holds this sync: {} of {} synced users would leave the scope and {} groups would lose product access. Nothing was removed; confirm or reject the removals.",
                    p.users_leaving,
                    p.users_synced_before,
                    p.access_removed.len()
                ),
                None => "The removal guard holds this sync until an admin decides.".to_owned(),
            };
            (NoticeEvent::AwaitingConfirmation, message)
        }
        _ => return,
    };
    let notice = Notice {
        event,
        org: w.org.to_string(),
        directory: w.dir.to_string(),
        run_id: w.doc.head.run_id,
        message,
    };
    let _ = mailer.notify(&notice).await;
}

type Step<T> = Result<std::result::Result<T, LostLease>>;

async fn work<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
    mailer: &M,
    budget: Budget,
    started: Timestamp,
) -> Step<AdvanceOutcome> {
    let mut pages = 0u32;
    loop {
        let elapsed = w.now().saturating_sub(started);
        let spent = elapsed >= budget.max_millis;
        let phase = w.doc.head.phase;
        let reads_page = matches!(phase, Phase::Members | Phase::Groups | Phase::Users);
        // Finalize rewrites the directory in one step: an invocation that
        // already read pages starts it only with half its budget left, so a
        // host's hard time limit never cuts it; the next invocation begins
        // with it instead.
        let finalize_late =
            phase == Phase::Finalize && pages > 0 && elapsed * 2 > budget.max_millis;
        if spent
            || finalize_late
            || (reads_page && budget.max_pages.is_some_and(|max| pages >= max))
        {
            return release(w, None).await;
        }
        let result = match phase {
            Phase::Domains => {
                // The domains were read and checked when the run started;
                // this step is saved together with the first page.
                w.doc.head.phase = w.doc.head.cursor.first_phase();
                continue;
            }
            Phase::Members => members_page(w, source).await?,
            Phase::Groups if w.doc.head.cursor.lists_in_full() => {
                all_groups_page(w, source).await?
            }
            Phase::Groups => groups_page(w, source).await?,
            Phase::Users if w.doc.head.cursor.lists_in_full() => all_users_page(w, source).await?,
            Phase::Users => users_page(w, source).await?,
            Phase::AwaitingConfirmation => return release(w, None).await,
            Phase::Finalize => {
                if let Finalized::Held = crate::sync::finalize::finalize(w).await? {
                    w.doc.head.phase = Phase::AwaitingConfirmation;
                    return release(w, None).await;
                }
                w.doc.head.phase = Phase::Emails;
                w.retire_staging();
                if let Err(lost) = w.save().await? {
                    return Ok(Err(lost));
                }
                crate::sync::emails::cleanup_staging(w).await?;
                continue;
            }
            Phase::Emails => {
                crate::sync::emails::cleanup_staging(w).await?;
                if let Err(lost) = crate::sync::emails::deliver(w, mailer, budget, started).await? {
                    return Ok(Err(lost));
                }
                if w.now().saturating_sub(started) >= budget.max_millis {
                    return release(w, None).await;
                }
                return finish(w, RunResult::Completed).await;
            }
        };
        match result {
            Ok(()) => {
                if reads_page {
                    pages += 1;
                    let h = &mut w.doc.head;
                    h.retries = 0;
                    h.failing_since = None;
                    h.last_error = None;
                }
                if let Err(lost) = w.save().await? {
                    return Ok(Err(lost));
                }
            }
            Err(SourceError::DeltaUnavailable(why)) if w.doc.head.cursor.reads_delta() => {
                // Delta is an optimisation: enumerate in full instead.
                w.log(LogLevel::Warning, format!(
                    "delta queries are not available for this tenant ({why}); reading all users, groups and members instead"
                ));
                w.restart_staging();
                if let Cursor::AllUsers(c) = &mut w.doc.head.cursor {
                    c.no_delta = Some(GroupWalk::default());
                }
                if let Err(lost) = w.save().await? {
                    return Ok(Err(lost));
                }
            }
            Err(err) => return source_failed(w, err).await,
        }
    }
}

/// Saves and gives the lease back; the run goes on at the next call.
async fn release<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    wait: Option<Timestamp>,
) -> Step<AdvanceOutcome> {
    w.doc.head.lease = None;
    w.doc.head.waiting_until = wait;
    let saved = w.save().await?;
    let h = &w.doc.head;
    Ok(saved.map(|()| AdvanceOutcome::Progressed {
        run_id: h.run_id,
        phase: h.phase,
        waiting_until: wait,
    }))
}

async fn source_failed<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    err: SourceError,
) -> Step<AdvanceOutcome> {
    let h = &w.doc.head;
    if matches!(err, SourceError::BudgetSpent) {
        // Entra is slow: the next invocation goes on from the cursor.
        return release(w, None).await;
    }
    if matches!(err, SourceError::TokenExpired) && h.restarts < MAX_RESTARTS {
        let what = if h.cursor.incremental() {
            "delta token expired: falling back to a full run"
        } else {
            "page token expired: restarting the enumeration"
        };
        w.log(LogLevel::Warning, what);
        w.doc.head.restarts += 1;
        w.restart_staging();
        return release(w, None).await;
    }
    let retry_after = match &err {
        SourceError::Throttled { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    w.doc.head.credential_failure = crate::sync::health::is_credential_failure(&err);
    failed(w, err.to_string(), err.is_transient(), retry_after).await
}

/// A step of the run failed with `error`. A failure that cannot pass ends
/// the run (nothing removed, the error in the history). A transient one
/// makes the run wait and try again, `retry_after_secs` (Graph's
/// `Retry-After`) or an exponential backoff later, for at most
/// `EngineConfig::retry_window_ms` of consecutive failures: then it ends the
/// run too, so a directory is never held by a run that cannot progress.
/// Status shows the waiting, the attempt and the last error meanwhile.
async fn failed<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    error: String,
    transient: bool,
    retry_after_secs: Option<u64>,
) -> Step<AdvanceOutcome> {
    let now = w.now();
    let window = w.e.config.retry_window_ms;
    let h = &mut w.doc.head;
    let since = *h.failing_since.get_or_insert(now);
    let give_up_at = since.saturating_add(window);
    if transient && now < give_up_at {
        let backoff = 5u64 << h.retries.min(5);
        let delay_ms = retry_after_secs
            .unwrap_or(backoff.min(MAX_BACKOFF_SECS))
            .max(1)
            * 1000;
        let until = (now + delay_ms).min(give_up_at);
        h.retries += 1;
        h.last_error = Some(error.clone());
        let attempt = h.retries;
        let wait_secs = (until - now).div_ceil(1000);
        w.log(
            LogLevel::Warning,
            format!("{error}; attempt {attempt} failed, trying again in {wait_secs}s"),
        );
        return release(w, Some(until)).await;
    }
    let error = if transient {
        let minutes = now.saturating_sub(since) / 60_000;
        let attempts = h.retries + 1;
        format!("gave up after {attempts} attempts over {minutes} min of failures: {error}")
    } else {
        error
    };
    w.log(LogLevel::Error, error.clone());
    finish(w, RunResult::Failed { error }).await
}

/// Records the result in the history and ends the run. A failed run has
/// changed nothing but its own staging.
pub(crate) async fn finish<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    result: RunResult,
) -> Step<AdvanceOutcome> {
    let now = w.now();
    if matches!(result, RunResult::Completed) {
        w.log(
            LogLevel::Info,
            format!("run {} completed", w.doc.head.run_id),
        );
    }
    let mut log = w.doc.head.log.clone();
    if w.doc.head.log_dropped > 0 {
        log.push(LogEvent {
            at: now,
            level: LogLevel::Info,
            message: format!("{} more events not kept", w.doc.head.log_dropped),
        });
    }
    let h = &w.doc.head;
    let summary = RunSummary {
        run_id: h.run_id,
        trigger: h.trigger,
        started_at: h.started_at,
        finished_at: now,
        result: result.clone(),
        counts: h.counts.clone(),
        log,
    };
    crate::sync::history::append(w.e, w.org, w.dir, summary).await?;
    let credential = match &result {
        RunResult::Failed { error } if w.doc.head.credential_failure => Some(error.as_str()),
        _ => None,
    };
    let completed = matches!(result, RunResult::Completed);
    let run = (w.doc.head.run_id, now);
    crate::sync::health::record(w.e.store, w.org, w.dir, run, credential, completed).await?;
    if matches!(result, RunResult::Failed { .. }) {
        w.retire_staging();
    }
    w.doc.head.active = false;
    w.doc.head.lease = None;
    w.doc.head.waiting_until = None;
    let run_id = w.doc.head.run_id;
    let saved = w.save().await?;
    if saved.is_ok() {
        crate::sync::emails::cleanup_staging(w).await?;
    }
    Ok(saved.map(|()| AdvanceOutcome::Finished { run_id, result }))
}

/// Group scope: one page of the direct members of the queue's front group.
async fn members_page<S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
) -> Result<std::result::Result<(), SourceError>> {
    let front = w.doc.head.cursor.walk().and_then(|walk| walk.queue.front());
    let Some(group) = front.cloned() else {
        // All users without delta: the users' listing comes after the groups.
        w.doc.head.phase = if w.doc.head.cursor.lists_in_full() {
            Phase::Users
        } else {
            Phase::Finalize
        };
        return Ok(Ok(()));
    };
    let page = match source
        .members(&group, false, w.doc.head.page.as_ref())
        .await
    {
        Ok(page) => page,
        Err(SourceError::NotFound(_)) => {
            // Deleted since it was found: nothing of it to sync.
            w.log(
                LogLevel::Warning,
                format!("group {group} was deleted during the sync; skipped"),
            );
            let h = &mut w.doc.head;
            if let Some(walk) = h.cursor.walk_mut() {
                walk.pop_front();
            }
            h.page = None;
            w.stage(&[Staged::Deleted { group }]).await?;
            return Ok(Ok(()));
        }
        Err(err) => return Ok(Err(err)),
    };
    let label = format!("the members of group {}", w.group_name(&group));
    let ids = page.items.iter().map(|m| match m {
        Member::User(u) => u.id.as_str(),
        Member::Group(g) => g.id.as_str(),
        Member::Skipped { id, .. } => id.as_str(),
    });
    let next = match follow(&mut w.doc.head, &label, ids, page.next) {
        Ok(next) => next,
        Err(err) => return Ok(Err(err)),
    };
    let mut lines = Vec::new();
    let mut users = Vec::new();
    let mut subgroups = Vec::new();
    let h = &mut w.doc.head;
    let Some(walk) = h.cursor.walk_mut() else {
        return Err(EngineError::Corrupt(format!(
            "{}: no groups to walk",
            w.key
        )));
    };
    for member in page.items {
        match member {
            Member::User(u) => users.push(UserData::from(u)),
            // A group listed among its own members: not nesting.
            Member::Group(g) if g.id == group => {}
            Member::Group(g) => {
                if walk.discover(&g.id, &g.display_name) {
                    h.counts.groups_seen += 1;
                    lines.push(Staged::Group {
                        group: GroupData::from(g.clone()),
                    });
                }
                subgroups.push(g.id);
            }
            Member::Skipped { .. } => h.counts.skipped_non_user_members += 1,
        }
    }
    h.counts.pages += 1;
    h.counts.users_seen += users.len() as u64;
    walk.front_users += users.len() as u64;
    let mut chunks = users.chunks(USERS_PER_LINE).map(<[UserData]>::to_vec);
    lines.push(Staged::Members {
        group: group.clone(),
        users: chunks.next().unwrap_or_default(),
        subgroups,
    });
    lines.extend(chunks.map(|users| Staged::Members {
        group: group.clone(),
        users,
        subgroups: Vec::new(),
    }));
    let over = walk.front_users > GROUP_USER_LIMIT;
    if over {
        lines.push(Staged::OverLimit {
            group: group.clone(),
            users: walk.front_users,
        });
    }
    if next.is_some() && !over {
        h.page = next;
    } else {
        walk.pop_front();
        h.page = None;
        h.followed.clear();
        h.last_page = 0;
    }
    if over {
        w.log(LogLevel::Warning, format!(
            "group {group} has more than {GROUP_USER_LIMIT} users and is not synced: split it into groups of at most {GROUP_USER_LIMIT}"
        ));
    }
    w.stage(&lines).await?;
    Ok(Ok(()))
}

/// All-users scope: one page of the groups delta (with direct members).
async fn groups_page<S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
) -> Result<std::result::Result<(), SourceError>> {
    let page = match source.groups_delta(&delta_from(&w.doc.head)?).await {
        Ok(page) => page,
        Err(err) => return Ok(Err(err)),
    };
    let ids = page.items.iter().map(|c| match c {
        GroupChange::Upsert { group, .. } => group.id.as_str(),
        GroupChange::Removed { id } => id.as_str(),
    });
    let next = match follow(&mut w.doc.head, "the groups (delta)", ids, page.next) {
        Ok(next) => next,
        Err(err) => return Ok(Err(err)),
    };
    let mut lines = Vec::new();
    let h = &mut w.doc.head;
    h.counts.pages += 1;
    for change in page.items {
        match change {
            GroupChange::Upsert {
                group,
                members_added,
                members_removed,
            } => {
                h.counts.groups_seen += 1;
                let mut split = |refs: Vec<crate::ports::MemberRef>| {
                    let (mut users, mut groups) = (Vec::new(), Vec::new());
                    for r in refs {
                        match r.kind {
                            MemberKind::User => users.push(r.id),
                            MemberKind::Group => groups.push(r.id),
                            MemberKind::Skipped(_) => h.counts.skipped_non_user_members += 1,
                        }
                    }
                    (users, groups)
                };
                let id = group.id.clone();
                let (au, mut ag) = split(members_added);
                let (ru, rg) = split(members_removed);
                // A group listed among its own members: not nesting.
                ag.retain(|g| *g != id);
                let mut g = Some(GroupData::from(group));
                let mut chunks = |ids: Vec<String>, user: bool, added: bool| {
                    for chunk in ids.chunks(IDS_PER_LINE) {
                        let mut line = Staged::GroupDelta {
                            id: id.clone(),
                            group: g.take(),
                            added_users: vec![],
                            added_groups: vec![],
                            removed_users: vec![],
                            removed_groups: vec![],
                            removed: false,
                        };
                        if let Staged::GroupDelta {
                            added_users,
                            added_groups,
                            removed_users,
                            removed_groups,
                            ..
                        } = &mut line
                        {
                            let target = match (user, added) {
                                (true, true) => added_users,
                                (false, true) => added_groups,
                                (true, false) => removed_users,
                                (false, false) => removed_groups,
                            };
                            *target = chunk.to_vec();
                        }
                        lines.push(line);
                    }
                };
                chunks(au, true, true);
                chunks(ag, false, true);
                chunks(ru, true, false);
                chunks(rg, false, false);
                if let Some(g) = g {
                    lines.push(Staged::GroupDelta {
                        id,
                        group: Some(g),
                        added_users: vec![],
                        added_groups: vec![],
                        removed_users: vec![],
                        removed_groups: vec![],
                        removed: false,
                    });
                }
            }
            GroupChange::Removed { id } => lines.push(Staged::GroupDelta {
                id,
                group: None,
                added_users: vec![],
                added_groups: vec![],
                removed_users: vec![],
                removed_groups: vec![],
                removed: true,
            }),
        }
    }
    if let Cursor::AllUsers(c) = &mut h.cursor {
        match (next, page.delta) {
            (Some(next), _) => c.from = DeltaFrom::Page(next),
            (None, token) => {
                c.new_groups_token = token;
                h.phase = Phase::Users;
                let users_token = if c.incremental {
                    c.users_token_in.clone()
                } else {
                    None
                };
                c.from = users_token.map_or(DeltaFrom::Start, DeltaFrom::Delta);
            }
        }
    }
    w.stage(&lines).await?;
    Ok(Ok(()))
}

/// All-users scope: one page of the users delta.
async fn users_page<S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
) -> Result<std::result::Result<(), SourceError>> {
    let page = match source.users_delta(&delta_from(&w.doc.head)?).await {
        Ok(page) => page,
        Err(err) => return Ok(Err(err)),
    };
    let ids = page.items.iter().map(|c| match c {
        UserChange::Upsert(u) => u.id.as_str(),
        UserChange::Removed { id } => id.as_str(),
    });
    let next = match follow(&mut w.doc.head, "the users (delta)", ids, page.next) {
        Ok(next) => next,
        Err(err) => return Ok(Err(err)),
    };
    let h = &mut w.doc.head;
    h.counts.pages += 1;
    let (mut up, mut rm) = (Vec::new(), Vec::new());
    for change in page.items {
        match change {
            UserChange::Upsert(u) => up.push(UserData::from(u)),
            UserChange::Removed { id } => rm.push(id),
        }
    }
    h.counts.users_seen += up.len() as u64;
    if let Cursor::AllUsers(c) = &mut h.cursor {
        match (next, page.delta) {
            (Some(next), _) => c.from = DeltaFrom::Page(next),
            (None, token) => {
                c.new_users_token = token;
                h.phase = Phase::Finalize;
            }
        }
    }
    let mut lines: Vec<Staged> = up
        .chunks(USERS_PER_LINE)
        .map(|up| Staged::Users {
            upserted: up.to_vec(),
            removed_ids: Vec::new(),
        })
        .collect();
    lines.push(Staged::Users {
        upserted: Vec::new(),
        removed_ids: rm,
    });
    w.stage(&lines).await?;
    Ok(Ok(()))
}

/// Accepts the next page of a listing, or reports a paging loop: a link
/// the listing already followed, or a page whose items repeat the previous
/// page's exactly. Pages smaller than asked for are normal. `listing` names
/// what was being read, for the error.
fn follow<'i>(
    h: &mut RunHeader,
    listing: &str,
    ids: impl Iterator<Item = &'i str>,
    next: Option<PageToken>,
) -> std::result::Result<Option<PageToken>, SourceError> {
    let mut bytes = Vec::new();
    for id in ids {
        bytes.extend_from_slice(id.as_bytes());
        bytes.push(0);
    }
    let looped = || SourceError::PagingLoop(listing.to_owned());
    if !bytes.is_empty() {
        let page = crate::hash::fnv1a(&bytes);
        if page == h.last_page {
            return Err(looped());
        }
        h.last_page = page;
    }
    match next {
        None => {
            h.followed.clear();
            h.last_page = 0;
            Ok(None)
        }
        Some(token) => {
            let link = crate::hash::fnv1a(token.0.as_bytes());
            if h.followed.contains(&link) {
                return Err(looped());
            }
            h.followed.push(link);
            Ok(Some(token))
        }
    }
}

/// All users without delta: one page of `/groups`; every group is synced
/// with its direct members, read next.
async fn all_groups_page<S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
) -> Result<std::result::Result<(), SourceError>> {
    let page = match source.groups(w.doc.head.page.as_ref()).await {
        Ok(page) => page,
        Err(err) => return Ok(Err(err)),
    };
    let ids = page.items.iter().map(|g| g.id.as_str());
    let next = match follow(&mut w.doc.head, "the groups", ids, page.next) {
        Ok(next) => next,
        Err(err) => return Ok(Err(err)),
    };
    let h = &mut w.doc.head;
    h.counts.pages += 1;
    let mut lines = Vec::new();
    let Some(walk) = h.cursor.walk_mut() else {
        return Err(EngineError::Corrupt(format!(
            "{}: no groups to walk",
            w.key
        )));
    };
    for g in page.items {
        if walk.discover(&g.id, &g.display_name) {
            h.counts.groups_seen += 1;
            lines.push(Staged::Group {
                group: GroupData::from(g),
            });
        }
    }
    h.page = next;
    if h.page.is_none() {
        h.phase = Phase::Members;
    }
    w.stage(&lines).await?;
    Ok(Ok(()))
}

/// All users without delta: one page of `/users` (after the groups and
/// their members).
async fn all_users_page<S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
) -> Result<std::result::Result<(), SourceError>> {
    let page = match source.users(w.doc.head.page.as_ref()).await {
        Ok(page) => page,
        Err(err) => return Ok(Err(err)),
    };
    let ids = page.items.iter().map(|u| u.id.as_str());
    let next = match follow(&mut w.doc.head, "the users", ids, page.next) {
        Ok(next) => next,
        Err(err) => return Ok(Err(err)),
    };
    let h = &mut w.doc.head;
    h.counts.pages += 1;
    h.counts.users_seen += page.items.len() as u64;
    h.page = next;
    if h.page.is_none() {
        h.phase = Phase::Finalize;
    }
    let up: Vec<UserData> = page.items.into_iter().map(UserData::from).collect();
    let lines: Vec<Staged> = up
        .chunks(USERS_PER_LINE)
        .map(|up| Staged::Users {
            upserted: up.to_vec(),
            removed_ids: Vec::new(),
        })
        .collect();
    w.stage(&lines).await?;
    Ok(Ok(()))
}

/// Where the current delta listing continues.
fn delta_from(h: &RunHeader) -> Result<DeltaFrom> {
    match &h.cursor {
        Cursor::AllUsers(c) => Ok(c.from.clone()),
        Cursor::Groups(_) => Err(EngineError::Corrupt(format!(
            "run {}: a delta listing in group scope",
            h.run_id
        ))),
    }
}
