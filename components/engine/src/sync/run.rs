//! The resumable run: one invocation takes the directory's lease (a
//! [`Worker`]), reads pages until its budget is spent (saving the cursor
//! and the staged data after every page), finalizes, hands out emails and
//! records the result. Every listing is read through one page loop,
//! [`read_listing_page`]: follow `@odata.nextLink`, detect paging loops,
//! count the page and move the cursor on. The request for the next page is
//! sent as soon as the page's next link arrived, before its items are
//! decoded ([`send_early`], decision 0011), or else once the page is
//! accepted ([`send_ahead`]); either way it is in flight while the page is
//! staged and saved (decision 0008; `ask.rs`).

use crate::engine::context::Engine;
use crate::error::{EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::model::{GroupData, UserData};
use crate::orgs;
use crate::ports::{
    Clock, DeltaFrom, DeltaToken, GroupChange, IdentitySource, MAX_PAGE_ITEMS, Mailer, Member,
    MemberKind, MemberRef, Notice, NoticeEvent, PageToken, SourceError, SourceGroup, SourceUser,
    Store, StoreError, TimeDelta, UserChange,
};
use crate::sync::ask::{self, Answer, Ask, Fetched, InFlight, alongside, asked, decoded};
use crate::sync::doc::{Cursor, GroupWalk, RunHeader, Staged, StagedUser};
use crate::sync::emails;
use crate::sync::finalize::{Finalized, finalize};
use crate::sync::shape::GROUP_USER_LIMIT;
use crate::sync::types::*;
use crate::sync::worker::{LostLease, Step, Worker};

/// The longest wait between two attempts after a transient failure.
const MAX_BACKOFF: TimeDelta = TimeDelta::minutes(2);
/// Expired-token restarts before a run gives up.
const MAX_RESTARTS: u32 = 3;
/// Member ids per staged line of a group delta (keeps lines small).
const IDS_PER_LINE: usize = 5_000;
/// Users per staged line: even with every field at Graph's maximum length a
/// line stays far below the run document's room.
const USERS_PER_LINE: usize = 250;

/// A page read and accepted: the lines to stage, or what Entra answered
/// instead of the page.
type PageRead = std::result::Result<Vec<Staged>, SourceError>;

/// What the invocation does after a step.
enum Next {
    /// Takes the next step.
    GoOn,
    /// Stops with this outcome.
    Stop(AdvanceOutcome),
}

/// Moves the directory's run on by as much as `budget` allows.
pub(crate) async fn advance<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    source: &I,
    mailer: &M,
    budget: Budget,
) -> Result<AdvanceOutcome> {
    orgs::get(e.store, org, dir).await?;
    let mut w = match Worker::take(e, org, dir, budget).await? {
        Ok(w) => w,
        Err(outcome) => return Ok(outcome),
    };
    match work(&mut w, source, mailer).await {
        Ok(Ok(outcome)) => {
            notify(&w, mailer, &outcome).await;
            Ok(outcome)
        }
        Ok(Err(LostLease)) => Ok(w.busy()),
        Err(err) => end_on_error(&mut w, err).await,
    }
}

/// The store (or a stored document) failed the work. An invocation that
/// lost the run may find what it was reading gone (e.g. a staging chunk the
/// new holder cleaned up): not an error. An error that can never pass ends
/// the run with it. A document of the run not in the store yet makes the
/// run wait and read again, from its last save, within the retry window
/// ([`read_again_later`]). A store that is down answers the caller, and
/// the next invocation tries again.
async fn end_on_error<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    err: EngineError,
) -> Result<AdvanceOutcome> {
    let ended = match w.still_holds().await {
        Ok(false) => return Ok(w.busy()),
        Ok(true) if never_passes(&err) => failed(w, err.to_string(), false, None).await,
        Ok(true) if matches!(err, EngineError::NotYetVisible(_)) => read_again_later(w, &err).await,
        _ => return Err(err),
    };
    match ended {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(LostLease)) => Ok(w.busy()),
        Err(_) => Err(err),
    }
}

/// A document the run wrote is not in the store yet (a lagging replica):
/// the run goes on from its last save after a transient failure's wait,
/// and fails (removing nothing) if it is still missing when the retry
/// window closes. What this invocation did since its last save is dropped
/// first: a step may have changed the run document in memory before its
/// read failed.
async fn read_again_later<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    err: &EngineError,
) -> Step<AdvanceOutcome> {
    w.reload().await?;
    failed(w, err.to_string(), true, None).await
}

/// A page too large for the store, or a record it cannot hold, or a
/// document it cannot read: trying again changes nothing.
fn never_passes(err: &EngineError) -> bool {
    matches!(
        err,
        EngineError::Store(StoreError::ValueTooLarge { .. })
            | EngineError::Store(StoreError::KeyTooLong { .. })
            | EngineError::Corrupt(_)
    )
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
                    "The removal guard holds this sync: {}. Nothing was removed; confirm or reject the removals.",
                    p.described()
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

/// The invocation's steps, until the run waits, ends, or the budget is
/// spent.
async fn work<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    w: &mut Worker<'_, '_, S, C>,
    source: &I,
    mailer: &M,
) -> Step<AdvanceOutcome> {
    let mut pages = 0u32;
    // The request for the page read next, sent while the last one was saved.
    let mut ahead: Option<InFlight<'_>> = None;
    loop {
        let phase = w.doc.head.phase;
        // A request in flight was sent because this invocation reads its page.
        if ahead.is_none() && w.stops_before(phase, pages) {
            return w.release(None).await;
        }
        let next = match phase {
            Phase::Domains => {
                // The domains were read and checked when the run started;
                // this step is saved together with the first page.
                w.doc.head.phase = w.doc.head.cursor.first_phase();
                Ok(Next::GoOn)
            }
            Phase::Members | Phase::Groups | Phase::Users => {
                let (read, early) = read_page(w, source, ahead.take(), pages + 1).await?;
                pages += u32::from(read.is_ok());
                ahead = early;
                after_page(w, source, read, pages, &mut ahead).await?
            }
            Phase::Finalize => finalize_step(w).await?,
            Phase::AwaitingConfirmation => return w.release(None).await,
            Phase::Emails => return emails_step(w, mailer).await,
        };
        match next {
            Ok(Next::GoOn) => {}
            Ok(Next::Stop(outcome)) => return Ok(Ok(outcome)),
            Err(lost) => return Ok(Err(lost)),
        }
    }
}

/// Reads the page the cursor asks for (`ahead`'s, when it is that page)
/// and accepts it: the cursor moves on. As soon as the page arrived, and
/// before its items are decoded, the request for the page after it is sent
/// when this invocation reads that page too (`pages`: the pages read with
/// this one; [`send_early`]); it is returned with the page. A group walk
/// with no group left moves on to the next phase without asking Graph
/// anything.
async fn read_page<'s, S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &'s I,
    ahead: Option<InFlight<'s>>,
    pages: u32,
) -> Result<(PageRead, Option<InFlight<'s>>)> {
    let Some(ask) = asked(&w.doc.head)? else {
        walk_done(&mut w.doc.head);
        return Ok((Ok(Vec::new()), None));
    };
    let answer = ask::answer(source, ask, ahead).await;
    let mut early = send_early(w, source, &answer, pages);
    let read = alongside(early.as_mut(), async { accept(w, answer) }).await;
    Ok((read, early))
}

/// Decodes the page of `answer` and accepts it.
fn accept<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>, answer: Answer) -> PageRead {
    match answer {
        Answer::Members { group, page } => members_page(w, group, decoded(page)),
        Answer::Groups(page) => all_groups_page(w, decoded(page)),
        Answer::GroupsDelta(page) => groups_delta_page(w, decoded(page)),
        Answer::Users(page) => all_users_page(w, decoded(page)),
        Answer::UsersDelta(page) => users_delta_page(w, decoded(page)),
    }
}

/// The request for the page after the one `answer` brought, from its next
/// link, to be sent before its items are decoded: none when this
/// invocation stops before that page (`Worker::stops_before`, having read
/// `pages` with this one, as [`send_ahead`] would check it), when the link
/// is one the listing already followed (a paging loop, which accepting the
/// page reports), or when a group's members could pass
/// [`GROUP_USER_LIMIT`] with this page (the walk would then leave the
/// group). So a request sent early is the one the accepted page asks for,
/// unless the page turns out to be broken or to repeat the one before it.
fn send_early<'s, S: Store, C: Clock, I: IdentitySource>(
    w: &Worker<'_, '_, S, C>,
    source: &'s I,
    answer: &Answer,
    pages: u32,
) -> Option<InFlight<'s>> {
    let ask = answer.next_ask()?;
    let h = &w.doc.head;
    let looped = ask.page().is_some_and(|link| followed(h, link));
    let may_leave_group = matches!(ask, Ask::Members { .. }) && !room_for_a_page(h);
    if looped || may_leave_group || w.stops_before(h.phase, pages) {
        return None;
    }
    Some(InFlight::new(source, ask))
}

/// Whether the walk's front group stays within [`GROUP_USER_LIMIT`] direct
/// users whatever its next page holds (at most [`MAX_PAGE_ITEMS`]).
fn room_for_a_page(h: &RunHeader) -> bool {
    h.cursor
        .walk()
        .is_some_and(|walk| walk.front_users + MAX_PAGE_ITEMS <= GROUP_USER_LIMIT)
}

/// After a page: stages what it brought and saves the cursor, with the
/// request for the next page in flight meanwhile: `ahead`, the one sent
/// early, when the moved cursor asks exactly for it, else one sent now
/// ([`send_ahead`]); or handles what Entra answered instead of the page
/// (dropping `ahead`). `pages` counts the pages this invocation has read,
/// this one included.
async fn after_page<'s, S: Store, C: Clock, I: IdentitySource>(
    w: &mut Worker<'_, '_, S, C>,
    source: &'s I,
    read: PageRead,
    pages: u32,
    ahead: &mut Option<InFlight<'s>>,
) -> Step<Next> {
    let lines = match read {
        Ok(lines) => {
            recovered(&mut w.doc.head);
            lines
        }
        Err(SourceError::DeltaUnavailable(why)) if w.doc.head.cursor.reads_delta() => {
            list_in_full(w, &why);
            Vec::new()
        }
        Err(err) => return Ok(source_failed(w, err).await?.map(Next::Stop)),
    };
    let asked_now = asked(&w.doc.head)?;
    *ahead = match ahead
        .take()
        .and_then(|sent| sent.kept_for(asked_now.as_ref()))
    {
        Some(sent) => Some(sent),
        None => send_ahead(w, source, asked_now, pages),
    };
    let saved = alongside(ahead.as_mut(), async {
        w.stage(lines).await?;
        w.save().await
    })
    .await?;
    Ok(saved.map(|()| Next::GoOn))
}

/// The request for `asked_now`, the page the moved cursor asks for, to be
/// sent while this invocation stages and saves: none when the invocation
/// stops before that page (`Worker::stops_before`, having read `pages`),
/// or the run moves on to a step that asks Graph nothing (finalize, the
/// end of a group walk: `asked_now` is `None`). So no request is sent that
/// the invocation does not use.
fn send_ahead<'s, S: Store, C: Clock, I: IdentitySource>(
    w: &Worker<'_, '_, S, C>,
    source: &'s I,
    asked_now: Option<Ask>,
    pages: u32,
) -> Option<InFlight<'s>> {
    if w.stops_before(w.doc.head.phase, pages) {
        return None;
    }
    asked_now.map(|ask| InFlight::new(source, ask))
}

/// A step succeeded: the failures before it are over.
fn recovered(h: &mut RunHeader) {
    h.retries = 0;
    h.failing_since = None;
    h.last_error = None;
}

/// Delta is an optimisation: a tenant without it has its users, groups and
/// members listed in full instead.
fn list_in_full<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>, why: &str) {
    w.log(LogLevel::Warning, format!(
        "delta queries are not available for this tenant ({why}); reading all users, groups and members instead"
    ));
    w.restart_staging();
    if let Cursor::AllUsers(c) = &mut w.doc.head.cursor {
        c.no_delta = Some(GroupWalk::default());
    }
}

/// Finalize (as much as this invocation may); then the emails phase, or
/// the removal guard's hold.
async fn finalize_step<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>) -> Step<Next> {
    let finalized = finalize(w).await?;
    recovered(&mut w.doc.head);
    match finalized {
        Finalized::Paused => return Ok(w.release(None).await?.map(Next::Stop)),
        Finalized::Held => {
            w.doc.head.phase = Phase::AwaitingConfirmation;
            return Ok(w.release(None).await?.map(Next::Stop));
        }
        Finalized::Done => {}
    }
    w.doc.head.phase = Phase::Emails;
    w.retire_staging();
    if let Err(lost) = w.save().await? {
        return Ok(Err(lost));
    }
    emails::cleanup_staging(w, true).await?;
    Ok(Ok(Next::GoOn))
}

/// The emails phase, then the run's end (unless the budget ran out first:
/// the next invocation goes on with the emails).
async fn emails_step<S: Store, C: Clock, M: Mailer>(
    w: &mut Worker<'_, '_, S, C>,
    mailer: &M,
) -> Step<AdvanceOutcome> {
    emails::cleanup_staging(w, true).await?;
    if let Err(lost) = emails::deliver(w, mailer).await? {
        return Ok(Err(lost));
    }
    if w.budget_spent() {
        return w.release(None).await;
    }
    finish(w, RunResult::Completed).await
}

async fn source_failed<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    err: SourceError,
) -> Step<AdvanceOutcome> {
    let h = &w.doc.head;
    if matches!(err, SourceError::BudgetSpent) {
        // Entra is slow: the next invocation goes on from the cursor.
        return w.release(None).await;
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
        return w.release(None).await;
    }
    let retry_after = match &err {
        SourceError::Throttled { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    w.doc.head.credential_failure = crate::sync::health::is_credential_failure(&err);
    failed(w, err.to_string(), err.is_transient(), retry_after).await
}

/// The wait before the next attempt after `retries` failed ones: 5 s,
/// doubling, at most [`MAX_BACKOFF`].
fn backoff(retries: u32) -> TimeDelta {
    (TimeDelta::seconds(5) * (1 << retries.min(5))).min(MAX_BACKOFF)
}

/// `secs` seconds (Graph's `Retry-After`) as a span.
fn seconds(secs: u64) -> TimeDelta {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .unwrap_or(TimeDelta::MAX)
}

/// A step of the run failed with `error`. A failure that cannot pass ends
/// the run (nothing removed, the error in the history). A transient one
/// makes the run wait and try again, `retry_after_secs` (Graph's
/// `Retry-After`) or an exponential backoff later, for at most
/// `EngineConfig::retry_window` of consecutive failures: then it ends the
/// run too, so a directory is never held by a run that cannot progress.
/// Status shows the waiting, the attempt and the last error meanwhile.
async fn failed<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    error: String,
    transient: bool,
    retry_after_secs: Option<u64>,
) -> Step<AdvanceOutcome> {
    let now = w.now();
    let h = &mut w.doc.head;
    let since = *h.failing_since.get_or_insert(now);
    let give_up_at = since + w.e.config.retry_window;
    if transient && now < give_up_at {
        let delay = retry_after_secs
            .map_or_else(|| backoff(h.retries), seconds)
            .clamp(TimeDelta::seconds(1), w.e.config.retry_window);
        let until = (now + delay).min(give_up_at);
        h.retries += 1;
        h.last_error = Some(error.clone());
        let attempt = h.retries;
        let wait_secs = (until - now + TimeDelta::milliseconds(999)).num_seconds();
        w.log(
            LogLevel::Warning,
            format!("{error}; attempt {attempt} failed, trying again in {wait_secs}s"),
        );
        return w.release(Some(until)).await;
    }
    let error = if transient {
        let minutes = (now - since).num_minutes();
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
async fn finish<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    result: RunResult,
) -> Step<AdvanceOutcome> {
    let now = w.now();
    let run_id = w.doc.head.run_id;
    if matches!(result, RunResult::Completed) {
        w.log(LogLevel::Info, format!("run {run_id} completed"));
    }
    let h = &w.doc.head;
    let summary = h.summary(result.clone(), h.counts.clone(), now);
    crate::sync::history::append(w.e, w.org, w.dir, summary).await?;
    let credential = match &result {
        RunResult::Failed { error } if h.credential_failure => Some(error.as_str()),
        _ => None,
    };
    let completed = matches!(result, RunResult::Completed);
    crate::sync::health::record(
        w.e.store,
        w.org,
        w.dir,
        (run_id, now),
        credential,
        completed,
    )
    .await?;
    if matches!(result, RunResult::Failed { .. }) {
        w.retire_staging();
    }
    let h = &mut w.doc.head;
    h.active = false;
    h.lease = None;
    h.waiting_until = None;
    let saved = w.save().await?;
    if saved.is_ok() {
        emails::cleanup_staging(w, false).await?;
    }
    Ok(saved.map(|()| AdvanceOutcome::Finished { run_id, result }))
}

/// One page of a listing, accepted by [`follow`].
struct Listed<T> {
    items: Vec<T>,
    /// The next page; `None` once the listing ended.
    next: Option<PageToken>,
    /// A delta listing's token for the next round, on its last page.
    delta: Option<DeltaToken>,
}

/// The page loop every listing shares: what Entra answered instead of a
/// page goes back to the caller, a paging loop is an error ([`follow`]);
/// otherwise the page is counted, and `take` moves the cursor on and says
/// what to stage. `listing` names what is read, for errors.
fn read_listing_page<'w, 'a, S: Store, C: Clock, T>(
    w: &mut Worker<'w, 'a, S, C>,
    listing: &str,
    fetched: Fetched<T>,
    id_of: impl Fn(&T) -> &str,
    take: impl FnOnce(&mut Worker<'w, 'a, S, C>, Listed<T>) -> Vec<Staged>,
) -> PageRead {
    let page = fetched?;
    let ids = page.items.iter().map(id_of);
    let next = follow(&mut w.doc.head, listing, ids, page.next)?;
    w.doc.head.counts.pages += 1;
    let listed = Listed {
        items: page.items,
        next,
        delta: page.delta,
    };
    Ok(take(w, listed))
}

/// A group walk with no group left: all users without delta list the users
/// next, group scope finalizes.
fn walk_done(h: &mut RunHeader) {
    h.phase = if h.cursor.lists_in_full() {
        Phase::Users
    } else {
        Phase::Finalize
    };
}

/// Group scope, and all users without delta: one page of the direct members
/// of the walk's front group, `group`.
fn members_page<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    group: String,
    fetched: Fetched<Member>,
) -> PageRead {
    if let Err(SourceError::NotFound(_)) = fetched {
        return Ok(skip_deleted_group(w, group));
    }
    let label = format!("the members of group {}", w.group_name(&group));
    read_listing_page(w, &label, fetched, member_id, |w, page| {
        members_lines(w, &group, page)
    })
}

/// A group deleted since the walk found it: nothing of it to sync.
fn skip_deleted_group<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    group: String,
) -> Vec<Staged> {
    w.log(
        LogLevel::Warning,
        format!("group {group} was deleted during the sync; skipped"),
    );
    next_group(&mut w.doc.head);
    vec![Staged::Deleted { group }]
}

/// The walk is done with its front group: the next one is read from its
/// first page.
fn next_group(h: &mut RunHeader) {
    if let Some(walk) = h.cursor.walk_mut() {
        walk.pop_front();
    }
    h.page = None;
    h.followed.clear();
    h.last_page = 0;
}

/// The staged lines of one page of `group`'s members: the subgroups met
/// for the first time, the members, and past [`GROUP_USER_LIMIT`] users
/// the group's end. Moves the walk on.
fn members_lines<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    group: &str,
    page: Listed<Member>,
) -> Vec<Staged> {
    let h = &mut w.doc.head;
    let (mut lines, mut users, mut subgroups) = (Vec::new(), Vec::new(), Vec::new());
    for member in page.items {
        match member {
            Member::User(u) => users.push(Box::new(UserData::from(u))),
            // A group listed among its own members: not nesting.
            Member::Group(g) if g.id == group => {}
            Member::Group(g) => {
                subgroups.push(g.id.clone());
                lines.extend(discovered(h, g));
            }
            Member::Skipped { .. } => h.counts.skipped_non_user_members += 1,
        }
    }
    h.counts.users_seen += users.len() as u64;
    let front_users = h.cursor.walk_mut().map_or(0, |walk| {
        walk.front_users += users.len() as u64;
        walk.front_users
    });
    let mut chunks = in_lines(users);
    lines.push(Staged::Members {
        group: group.to_owned(),
        users: chunks.next().unwrap_or_default(),
        subgroups,
    });
    lines.extend(chunks.map(|users| Staged::Members {
        group: group.to_owned(),
        users,
        subgroups: Vec::new(),
    }));
    let over = front_users > GROUP_USER_LIMIT;
    match page.next {
        Some(next) if !over => h.page = Some(next),
        _ => next_group(h),
    }
    if over {
        lines.push(over_limit(w, group, front_users));
    }
    lines
}

/// A group past [`GROUP_USER_LIMIT`] direct users: not synced, and said so.
fn over_limit<S: Store, C: Clock>(w: &mut Worker<'_, '_, S, C>, group: &str, users: u64) -> Staged {
    w.log(LogLevel::Warning, format!(
        "group {group} has more than {GROUP_USER_LIMIT} users and is not synced: split it into groups of at most {GROUP_USER_LIMIT}"
    ));
    Staged::OverLimit {
        group: group.to_owned(),
        users,
    }
}

/// Queues a group the walk meets for the first time, and stages it.
fn discovered(h: &mut RunHeader, g: SourceGroup) -> Option<Staged> {
    let walk = h.cursor.walk_mut()?;
    if !walk.discover(&g.id, &g.display_name) {
        return None;
    }
    h.counts.groups_seen += 1;
    Some(Staged::Group {
        group: GroupData::from(g),
    })
}

/// A member's id, whatever it is.
fn member_id(m: &Member) -> &str {
    match m {
        Member::User(u) => &u.id,
        Member::Group(g) => &g.id,
        Member::Skipped { id, .. } => id,
    }
}

/// All-users scope: one page of the groups delta (with direct members).
fn groups_delta_page<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    fetched: Fetched<GroupChange>,
) -> PageRead {
    read_listing_page(
        w,
        "the groups (delta)",
        fetched,
        group_change_id,
        |w, page| {
            let h = &mut w.doc.head;
            let counts = &mut h.counts;
            let lines = page
                .items
                .into_iter()
                .flat_map(|change| group_change_lines(change, counts))
                .collect();
            if let Cursor::AllUsers(c) = &mut h.cursor {
                match page.next {
                    Some(next) => c.from = DeltaFrom::Page(next),
                    None => {
                        c.new_groups_token = page.delta;
                        h.phase = Phase::Users;
                        let users_token = c.users_token_in.clone().filter(|_| c.incremental);
                        c.from = users_token.map_or(DeltaFrom::Start, DeltaFrom::Delta);
                    }
                }
            }
            lines
        },
    )
}

/// The id of the group a groups delta change is about.
fn group_change_id(change: &GroupChange) -> &str {
    match change {
        GroupChange::Upsert { group, .. } => &group.id,
        GroupChange::Removed { id } => id,
    }
}

/// The staged lines of one change in the groups delta: the group's data
/// on the first line, its member changes in lines of at most
/// [`IDS_PER_LINE`] ids.
fn group_change_lines(change: GroupChange, counts: &mut RunCounts) -> Vec<Staged> {
    let (group, added, removed) = match change {
        GroupChange::Upsert {
            group,
            members_added,
            members_removed,
        } => (group, members_added, members_removed),
        GroupChange::Removed { id } => return vec![group_removed_line(id)],
    };
    counts.groups_seen += 1;
    let id = group.id.clone();
    let (added_users, mut added_groups) = split_members(added, counts);
    let (removed_users, removed_groups) = split_members(removed, counts);
    // A group listed among its own members: not nesting.
    added_groups.retain(|g| *g != id);
    let mut group = Some(GroupData::from(group));
    let mut lines = Vec::new();
    for (list, ids) in [added_users, added_groups, removed_users, removed_groups]
        .into_iter()
        .enumerate()
    {
        for chunk in ids.chunks(IDS_PER_LINE) {
            lines.push(group_delta_line(&id, group.take(), list, chunk.to_vec()));
        }
    }
    if let Some(group) = group {
        lines.push(group_delta_line(&id, Some(group), 0, Vec::new()));
    }
    lines
}

/// A line of a group's changes, with `ids` in one member list: 0 added
/// users, 1 added groups, 2 removed users, 3 removed groups.
fn group_delta_line(id: &str, group: Option<GroupData>, list: usize, ids: Vec<String>) -> Staged {
    let mut lists: [Vec<String>; 4] = Default::default();
    lists[list] = ids;
    Staged::group_delta(id.to_owned(), group, lists)
}

/// The line of a group removed from the tenant.
fn group_removed_line(id: String) -> Staged {
    Staged::GroupDelta {
        id,
        group: None,
        added_users: Vec::new(),
        added_groups: Vec::new(),
        removed_users: Vec::new(),
        removed_groups: Vec::new(),
        removed: true,
    }
}

/// Member references as user ids and group ids; anything else is counted
/// as skipped.
fn split_members(refs: Vec<MemberRef>, counts: &mut RunCounts) -> (Vec<String>, Vec<String>) {
    let (mut users, mut groups) = (Vec::new(), Vec::new());
    for r in refs {
        match r.kind {
            MemberKind::User => users.push(r.id),
            MemberKind::Group => groups.push(r.id),
            MemberKind::Skipped(_) => counts.skipped_non_user_members += 1,
        }
    }
    (users, groups)
}

/// All-users scope: one page of the users delta.
fn users_delta_page<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    fetched: Fetched<UserChange>,
) -> PageRead {
    read_listing_page(
        w,
        "the users (delta)",
        fetched,
        user_change_id,
        |w, page| {
            let h = &mut w.doc.head;
            let (mut upserted, mut removed_ids) = (Vec::new(), Vec::new());
            for change in page.items {
                match change {
                    UserChange::Upsert(u) => upserted.push(Box::new(UserData::from(u))),
                    UserChange::Removed { id } => removed_ids.push(id),
                }
            }
            h.counts.users_seen += upserted.len() as u64;
            if let Cursor::AllUsers(c) = &mut h.cursor {
                match page.next {
                    Some(next) => c.from = DeltaFrom::Page(next),
                    None => {
                        c.new_users_token = page.delta;
                        h.phase = Phase::Finalize;
                    }
                }
            }
            let mut lines = users_lines(upserted);
            lines.push(Staged::Users {
                upserted: Vec::new(),
                removed_ids,
            });
            lines
        },
    )
}

/// The id of the user a users delta change is about.
fn user_change_id(change: &UserChange) -> &str {
    match change {
        UserChange::Upsert(u) => &u.id,
        UserChange::Removed { id } => id,
    }
}

/// Users staged [`USERS_PER_LINE`] to a line.
fn users_lines(users: Vec<StagedUser>) -> Vec<Staged> {
    in_lines(users)
        .map(|upserted| Staged::Users {
            upserted,
            removed_ids: Vec::new(),
        })
        .collect()
}

/// `users` moved (not copied) into lists of [`USERS_PER_LINE`], in order.
fn in_lines(users: Vec<StagedUser>) -> impl Iterator<Item = Vec<StagedUser>> {
    let mut users = users.into_iter();
    std::iter::from_fn(move || {
        let line: Vec<StagedUser> = users.by_ref().take(USERS_PER_LINE).collect();
        (!line.is_empty()).then_some(line)
    })
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
            if followed(h, &token) {
                return Err(looped());
            }
            h.followed.push(link_hash(&token));
            Ok(Some(token))
        }
    }
}

/// Whether the current listing already followed `link`.
fn followed(h: &RunHeader, link: &PageToken) -> bool {
    h.followed.contains(&link_hash(link))
}

/// How a followed link is remembered in the run's cursor.
fn link_hash(link: &PageToken) -> u64 {
    crate::hash::fnv1a(link.0.as_bytes())
}

/// Moves a full listing on to its `next` page, or after its last page to
/// the phase `then`.
fn page_on(h: &mut RunHeader, next: Option<PageToken>, then: Phase) {
    h.page = next;
    if h.page.is_none() {
        h.phase = then;
    }
}

/// All users without delta: one page of `/groups`; every group is synced
/// with its direct members, read next.
fn all_groups_page<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    fetched: Fetched<SourceGroup>,
) -> PageRead {
    read_listing_page(
        w,
        "the groups",
        fetched,
        |g| g.id.as_str(),
        |w, page| {
            let h = &mut w.doc.head;
            let lines = page
                .items
                .into_iter()
                .filter_map(|g| discovered(h, g))
                .collect();
            page_on(h, page.next, Phase::Members);
            lines
        },
    )
}

/// All users without delta: one page of `/users` (after the groups and
/// their members).
fn all_users_page<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    fetched: Fetched<SourceUser>,
) -> PageRead {
    read_listing_page(
        w,
        "the users",
        fetched,
        |u| u.id.as_str(),
        |w, page| {
            let h = &mut w.doc.head;
            h.counts.users_seen += page.items.len() as u64;
            page_on(h, page.next, Phase::Finalize);
            users_lines(
                page.items
                    .into_iter()
                    .map(|u| Box::new(UserData::from(u)))
                    .collect(),
            )
        },
    )
}
