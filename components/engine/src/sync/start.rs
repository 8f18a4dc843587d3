//! Preview, Sync (start a run) and the automatic-sync tick.

use crate::codec::load;
use crate::engine::context::Engine;
use crate::error::{ConflictReason, EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::model::{GroupData, GroupRecord};
use crate::orgs;
use crate::ports::{
    Clock, DeltaFrom, IdentitySource, Mailer, SourceDomain, SourceError, Store, TimeDelta,
    Timestamp,
};
use crate::settings::{DomainSelection, Settings, UserScope, VersionedSettings};
use crate::shards::{self, Kind};
use crate::sync::doc::{
    AllUsersCursor, Cursor, GroupWalk, GroupsCursor, KEPT_RUNS, RunDoc, RunHeader, latest_head,
};
use crate::sync::health;
use crate::sync::state::{DirState, delta_basis, load_current, state_as_of};
use crate::sync::types::*;
use std::collections::{BTreeMap, BTreeSet};

/// Delta tokens older than this are not trusted (Graph keeps them 7 days).
const DELTA_MAX_AGE: TimeDelta = TimeDelta::days(7);

/// What a started sync's confirmation tells the admin.
pub(crate) const NOTICE: &str = "The sync has started. A started sync cannot be stopped; edits to the settings apply to the next sync.";

/// What a run would start from, beside the user-facing preview.
#[derive(Default)]
struct Plan {
    claim: BTreeSet<String>,
    /// The tenant's verified domains (the run header's `tenant_domains`).
    tenant_domains: BTreeSet<String>,
    roots: Vec<GroupData>,
}

/// The directory's saved sync settings.
pub(crate) async fn load_settings<S: Store>(
    store: &S,
    org: &OrgId,
    dir: &DirId,
) -> Result<Settings> {
    let v: VersionedSettings = load(store, &keys::dir_doc(org, dir, "settings"))
        .await?
        .ok_or(EngineError::NotFound("settings"))?;
    Ok(v.settings)
}

/// What a run would do, in the preview's terms, and what it starts from:
/// the domains it verifies, the groups it starts from, what changes against
/// the last completed run. Reads the tenant's domains and the selected
/// groups; refuses a tenant another directory already syncs.
async fn plan<S: Store, C: Clock, I: IdentitySource>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    source: &I,
    settings: &Settings,
    state: &DirState,
) -> Result<(Preview, Plan)> {
    let mut warnings = Vec::new();
    let domains = verify_domains(e, org, source, settings, &mut warnings).await?;
    let claim: BTreeSet<String> = domains
        .iter()
        .filter(|d| d.will_sync)
        .map(|d| d.name.clone())
        .collect();
    let tenant_domains: BTreeSet<String> = domains
        .iter()
        .filter(|d| d.verified_in_entra)
        .map(|d| d.name.clone())
        .collect();
    refuse_same_tenant_twice(e, org, dir, &tenant_domains).await?;
    let stored = stored_groups(e, org, dir, state).await?;
    let (groups, roots) = resolve_roots(source, settings, &stored.synced, &mut warnings).await?;
    let changes = changes_since_last_run(settings, state, &claim, &roots, &stored);
    warn_access_loss(&changes, state, &mut warnings);
    let preview = Preview {
        all_users_and_groups: matches!(settings.scope, UserScope::AllUsersAndGroups),
        groups,
        domains,
        changes,
        warnings,
        send_email: settings.send_email,
    };
    let plan = Plan {
        claim,
        tenant_domains,
        roots,
    };
    Ok((preview, plan))
}

/// The tenant's domains as a run sees them: selected, verified in Entra,
/// and not verified by another organization; sorted by name. Warns about
/// selected domains that will not sync.
async fn verify_domains<S: Store, C: Clock, I: IdentitySource>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    source: &I,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Vec<DomainPlan>> {
    let tenant = source.domains().await?;
    let mut domains: Vec<DomainPlan> = tenant
        .iter()
        .map(|d| domain_plan(d, &settings.domains))
        .collect();
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    warn_unusable_selection(&settings.domains, &domains, warnings);
    for d in domains.iter_mut().filter(|d| d.will_sync) {
        if crate::domains::held_elsewhere(e.store, &d.name, org).await? {
            d.will_sync = false;
            d.claimed_by_another_org = true;
            warnings.push(format!(
                "domain {} is verified by another organization: it is not claimed here and its users are skipped as unverified",
                d.name
            ));
        }
    }
    Ok(domains)
}

/// One tenant domain against the selection (before the claims of other
/// organizations are checked).
fn domain_plan(d: &SourceDomain, selection: &DomainSelection) -> DomainPlan {
    let name = d.id.to_ascii_lowercase();
    let selected = match selection {
        DomainSelection::All => true,
        DomainSelection::Only { names } => names.contains(&name),
    };
    DomainPlan {
        will_sync: selected && d.is_verified,
        claimed_by_another_org: false,
        selected,
        verified_in_entra: d.is_verified,
        name,
    }
}

/// Warns about selected domains the tenant does not have, or has not
/// verified.
fn warn_unusable_selection(
    selection: &DomainSelection,
    domains: &[DomainPlan],
    warnings: &mut Vec<String>,
) {
    let DomainSelection::Only { names } = selection else {
        return;
    };
    for name in names {
        match domains.iter().find(|d| &d.name == name) {
            None => warnings.push(format!(
                "domain {name} is not in the tenant and cannot be verified"
            )),
            Some(d) if !d.verified_in_entra => warnings.push(format!(
                "domain {name} is not verified in Entra ID; its users will not sync (except guests)"
            )),
            Some(_) => {}
        }
    }
}

/// What the last completed run stored about groups.
#[derive(Default)]
struct StoredGroups {
    /// The groups it synced.
    synced: Vec<GroupData>,
    /// Every stored group's name, by id (for the groups a run drops).
    names: BTreeMap<String, String>,
}

/// The stored group records of the last completed run (no Graph request).
async fn stored_groups<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    state: &DirState,
) -> Result<StoredGroups> {
    let mut stored = StoredGroups::default();
    if state.last_completed.is_none() {
        return Ok(stored);
    }
    let loaded: BTreeMap<String, GroupRecord> =
        shards::load_all(e.store, org, dir, Kind::Groups, &state.shards.groups).await?;
    for (id, g) in loaded {
        if g.synced {
            stored.synced.push(g.data.clone());
        }
        stored.names.insert(id, g.data.name);
    }
    Ok(stored)
}

/// Group scope: the selected groups as found in the tenant, plus the
/// previously synced ones when the settings keep them: the groups of the
/// preview, and the run's roots (only groups that exist).
async fn resolve_roots<I: IdentitySource>(
    source: &I,
    settings: &Settings,
    previous: &[GroupData],
    warnings: &mut Vec<String>,
) -> Result<(Vec<GroupPlan>, Vec<GroupData>)> {
    let (mut groups, mut roots) = (Vec::new(), Vec::new());
    let UserScope::Groups { group_ids } = &settings.scope else {
        return Ok((groups, roots));
    };
    for id in group_ids {
        let found = source.group(id).await?;
        if found.is_none() {
            warnings.push(format!(
                "group {id} does not exist in the tenant and will not be synced"
            ));
        }
        groups.push(GroupPlan {
            id: id.clone(),
            display_name: found.as_ref().map(|g| g.display_name.clone()),
            kept_from_previous: false,
        });
        roots.extend(found.map(GroupData::from));
    }
    if settings.keep_previous_groups {
        // Kept as they were; one deleted from the tenant meanwhile is
        // skipped by the run.
        for g in previous.iter().filter(|g| !group_ids.contains(&g.id)) {
            groups.push(GroupPlan {
                id: g.id.clone(),
                display_name: Some(g.name.clone()),
                kept_from_previous: true,
            });
            roots.push(g.clone());
        }
    }
    Ok((groups, roots))
}

/// The domains and selected groups the run adds and drops against the last
/// completed run (nothing before the first).
fn changes_since_last_run(
    settings: &Settings,
    state: &DirState,
    claim: &BTreeSet<String>,
    roots: &[GroupData],
    stored: &StoredGroups,
) -> Changes {
    let mut changes = Changes::default();
    let Some(last) = &state.last_completed else {
        return changes;
    };
    changes.domains_added = claim.difference(&last.domains).cloned().collect();
    changes.domains_removed = last.domains.difference(claim).cloned().collect();
    if roots.is_empty() && !matches!(settings.scope, UserScope::Groups { .. }) {
        return changes;
    }
    let now: BTreeSet<String> = roots.iter().map(|g| g.id.clone()).collect();
    let before = last
        .selected
        .clone()
        .unwrap_or_else(|| stored.synced.iter().map(|g| g.id.clone()).collect());
    changes.groups_added = roots
        .iter()
        .filter(|g| !before.contains(&g.id))
        .map(|g| GroupRef {
            id: g.id.clone(),
            display_name: Some(g.name.clone()),
        })
        .collect();
    changes.groups_added.sort_by(|a, b| a.id.cmp(&b.id));
    changes.groups_removed = before
        .difference(&now)
        .map(|id| GroupRef {
            id: id.clone(),
            display_name: stored.names.get(id).cloned(),
        })
        .collect();
    changes
}

/// Warns about dropped groups that have product access (they lose it,
/// unless nested in a selected group).
fn warn_access_loss(changes: &Changes, state: &DirState, warnings: &mut Vec<String>) {
    for g in &changes.groups_removed {
        if state.product_access.contains(&g.id) {
            let name = g.display_name.as_deref().unwrap_or(&g.id);
            warnings.push(format!(
                "group {name} ({}) is no longer selected: unless it is nested in a selected group it loses product access",
                g.id
            ));
        }
    }
}

/// Refuses a directory that connects a tenant another directory of the
/// organization already syncs: a domain verified in Entra belongs to one
/// tenant, so two directories whose tenants verify the same domain are one
/// tenant connected twice (e.g. once by its id, once by a domain name), and
/// syncing both would give every user two accounts. `verified`: the
/// tenant's verified domains, against the other directories' last runs
/// (and the domains their states claimed, for runs from before runs
/// recorded them).
async fn refuse_same_tenant_twice<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    verified: &BTreeSet<String>,
) -> Result<()> {
    if verified.is_empty() {
        return Ok(());
    }
    for other in orgs::list(e.store, org)
        .await?
        .iter()
        .filter(|d| d.id != *dir)
    {
        let last = latest_head(e.store, org, &other.id).await?;
        let state = state_as_of(e.store, org, &other.id, last.as_ref()).await?;
        let theirs = last
            .iter()
            .flat_map(|h| &h.tenant_domains)
            .chain(state.claimed.iter().map(|c| &c.name));
        if let Some(shared) = theirs.into_iter().find(|d| verified.contains(*d)) {
            return Err(EngineError::Conflict(
                ConflictReason::TenantAlreadyConnected {
                    directory: other.id.to_string(),
                    domain: shared.clone(),
                },
            ));
        }
    }
    Ok(())
}

/// What a Sync now would do (reads Entra, writes nothing).
pub(crate) async fn preview<S: Store, C: Clock, I: IdentitySource>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    source: &I,
) -> Result<Preview> {
    orgs::get(e.store, org, dir).await?;
    let settings = load_settings(e.store, org, dir).await?;
    let state = load_current(e.store, org, dir).await?;
    Ok(plan(e, org, dir, source, &settings, &state).await?.0)
}

/// Starts a run (Sync): refused while one is in progress; the start
/// request's plan becomes the run's header, written and read back.
pub(crate) async fn start<S: Store, C: Clock, I: IdentitySource>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    source: &I,
    trigger: Trigger,
) -> Result<Confirmation> {
    orgs::get(e.store, org, dir).await?;
    let last = latest_head(e.store, org, dir).await?;
    refuse_if_running(last.as_ref())?;
    let settings = load_settings(e.store, org, dir).await?;
    let state = state_as_of(e.store, org, dir, last.as_ref()).await?;
    let fresh = Fresh::after(last.as_ref(), &state, trigger, e.now());
    let (preview, plan) = match plan(e, org, dir, source, &settings, &state).await {
        // Entra refused before the run could start: the run is recorded as
        // failed (history, status, schedule), then the caller hears why. A
        // budget that ran out is no refusal: the caller may try again.
        Err(EngineError::Source(err)) if err != SourceError::BudgetSpent => {
            refuse(e, org, dir, &fresh, settings, &err).await?;
            return Err(EngineError::Source(err));
        }
        planned => planned?,
    };
    let mut head = new_header(&fresh, settings, plan, &state, e.now());
    log_start(&mut head, e.config.log_cap, &preview.warnings);
    write_run(e, org, dir, &fresh, head).await?;
    e.set_auto_sync(org.as_str(), dir.as_str(), true).await?;
    Ok(Confirmation {
        run_id: fresh.run_id,
        preview,
        auto_sync: true,
        notice: NOTICE.to_owned(),
    })
}

/// A run still active: a new one cannot start.
fn refuse_if_running(last: Option<&RunHeader>) -> Result<()> {
    match last {
        Some(h) if h.active => Err(EngineError::Conflict(ConflictReason::RunInProgress {
            run_id: h.run_id,
        })),
        _ => Ok(()),
    }
}

/// What a new run is, before its header.
struct Fresh {
    run_id: u64,
    start_token: u64,
    base: Option<u64>,
    trigger: Trigger,
    now: Timestamp,
}

impl Fresh {
    /// The run after `last` (run 1 before any), building on `state`.
    fn after(
        last: Option<&RunHeader>,
        state: &DirState,
        trigger: Trigger,
        now: Timestamp,
    ) -> Fresh {
        Fresh {
            run_id: last.map_or(1, |h| h.run_id + 1),
            start_token: crate::token::fresh(now),
            base: (state.run > 0).then_some(state.run),
            trigger,
            now,
        }
    }
}

/// The header of a new run: the settings it snapshots, where it starts
/// reading.
fn new_header(
    fresh: &Fresh,
    settings: Settings,
    plan: Plan,
    state: &DirState,
    now: Timestamp,
) -> RunHeader {
    let cursor = new_cursor(&settings, &plan, state, now);
    RunHeader {
        run_id: fresh.run_id,
        start_token: fresh.start_token,
        base: fresh.base,
        active: true,
        refused: false,
        trigger: fresh.trigger,
        started_at: fresh.now,
        settings: Settings {
            auto_sync: true,
            ..settings
        },
        phase: Phase::Domains,
        lease: None,
        waiting_until: None,
        retries: 0,
        failing_since: None,
        last_error: None,
        pending: None,
        credential_failure: false,
        removals_confirmed: false,
        held: Vec::new(),
        restarts: 0,
        claim: plan.claim,
        tenant_domains: plan.tenant_domains,
        page: None,
        followed: Vec::new(),
        last_page: 0,
        cursor,
        sealed: Vec::new(),
        cleanup: Vec::new(),
        finalize: None,
        counts: RunCounts {
            groups_seen: plan.roots.len() as u64,
            ..RunCounts::default()
        },
        log: Vec::new(),
        log_dropped: 0,
    }
}

/// Where a new run starts reading: the selected groups, or the tenant's
/// delta listings (from the last run's tokens when they are usable: the
/// same settings and domains, and younger than Graph keeps them).
fn new_cursor(settings: &Settings, plan: &Plan, state: &DirState, now: Timestamp) -> Cursor {
    if let UserScope::Groups { .. } = settings.scope {
        return Cursor::Groups(GroupsCursor {
            walk: GroupWalk::from_roots(&plan.roots),
            roots: plan.roots.clone(),
        });
    }
    let delta = state.delta.as_ref().filter(|d| {
        d.basis == delta_basis(settings, &plan.claim) && now - d.obtained_at < DELTA_MAX_AGE
    });
    Cursor::AllUsers(AllUsersCursor {
        from: delta.map_or(DeltaFrom::Start, |d| DeltaFrom::Delta(d.groups.clone())),
        incremental: delta.is_some(),
        users_token_in: delta.map(|d| d.users.clone()),
        new_users_token: None,
        new_groups_token: None,
        no_delta: None,
    })
}

/// The run's first log lines: how it started, and the preview's warnings.
fn log_start(head: &mut RunHeader, cap: usize, warnings: &[String]) {
    let how = match head.trigger {
        Trigger::Manual => "manually",
        Trigger::Scheduled => "by automatic syncing",
    };
    let kind = if head.cursor.incremental() {
        "incremental"
    } else {
        "full"
    };
    let now = head.started_at;
    let message = format!("run {} started {how} ({kind})", head.run_id);
    head.log(cap, now, LogLevel::Info, message);
    for w in warnings {
        head.log(cap, now, LogLevel::Warning, w.clone());
    }
}

/// Writes a new run's document. No compare-and-swap: write, then read
/// back. Two Syncs racing here both write run `run_id`; the store keeps one
/// of the two documents, and the request whose token is not in it reports
/// the run as already in progress. Both documents hold the same run id, so
/// a race can never make two runs (and a stale read-back that shows our own
/// document to both requests still leaves one run: the one the store
/// holds). Then the `head` hint, and the run documents no one needs.
async fn write_run<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    fresh: &Fresh,
    head: RunHeader,
) -> Result<()> {
    let key = keys::run(org, dir, fresh.run_id);
    let doc = RunDoc {
        head,
        tail: Vec::new(),
    };
    // Another press that came and went while this one read Entra started
    // the run already: it goes on, this one is refused (and writes nothing).
    refuse_if_not_ours(&key, e.store.get(&key).await?, fresh)?;
    e.store.set(&key, &doc.encode()).await?;
    refuse_if_not_ours(&key, e.store.get(&key).await?, fresh)?;
    let hint = crate::codec::encode(&fresh.run_id);
    e.store.set(&keys::dir_doc(org, dir, "head"), &hint).await?;
    if let Some(old) = fresh.run_id.checked_sub(KEPT_RUNS + 1).filter(|id| *id > 0) {
        e.store.delete(&keys::run(org, dir, old)).await?;
    }
    Ok(())
}

/// `RunInProgress` when the run document `stored` (at `key`) is another
/// start's than `fresh`.
fn refuse_if_not_ours(key: &str, stored: Option<Vec<u8>>, fresh: &Fresh) -> Result<()> {
    let Some(stored) = stored else {
        return Ok(());
    };
    let stored = RunDoc::decode_head(key, &stored)?;
    match stored.start_token == fresh.start_token {
        true => Ok(()),
        false => Err(EngineError::Conflict(ConflictReason::RunInProgress {
            run_id: stored.run_id,
        })),
    }
}

/// Records a run that Entra refused before it could start (the tenant's
/// domains or the selected groups could not be read): a finished, failed
/// run with the error, in the history and the status, so neither a manual
/// nor a scheduled attempt fails unseen. Automatic syncing tries again an
/// hour later ([`REFUSED_RETRY`]).
async fn refuse<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    fresh: &Fresh,
    settings: Settings,
    err: &SourceError,
) -> Result<()> {
    let mut head = new_header(
        fresh,
        settings,
        Plan::default(),
        &DirState::default(),
        fresh.now,
    );
    head.active = false;
    head.refused = true;
    let error = format!("the sync could not start: Entra ID could not be read: {err}");
    head.log(e.config.log_cap, fresh.now, LogLevel::Error, error.clone());
    let summary = RunSummary {
        run_id: fresh.run_id,
        trigger: fresh.trigger,
        started_at: fresh.now,
        finished_at: fresh.now,
        result: RunResult::Failed { error },
        counts: RunCounts::default(),
        log: head.log.clone(),
    };
    let credential = health::is_credential_failure(err).then_some(error_text(&summary));
    match write_run(e, org, dir, fresh, head).await {
        // Another start won the race: nothing to record.
        Err(EngineError::Conflict(_)) => return Ok(()),
        other => other?,
    }
    crate::sync::history::append(e, org, dir, summary).await?;
    let run = (fresh.run_id, fresh.now);
    health::record(e.store, org, dir, run, credential.as_deref(), false).await?;
    Ok(())
}

/// The error of a failed run's summary.
fn error_text(summary: &RunSummary) -> String {
    match &summary.result {
        RunResult::Failed { error } => error.clone(),
        _ => String::new(),
    }
}

/// After a refused start, automatic syncing tries again this much later
/// (not the usual 4 hours: the tenant may be back soon).
pub(crate) const REFUSED_RETRY: TimeDelta = TimeDelta::hours(1);

/// When automatic syncing next starts a run after `last`.
pub(crate) fn next_due(last: &RunHeader, interval: TimeDelta) -> Timestamp {
    let wait = if last.refused {
        REFUSED_RETRY.min(interval)
    } else {
        interval
    };
    last.started_at + wait
}

/// The automatic-sync tick of one directory: advances the run in
/// progress, or starts one when automatic syncing is due (and not
/// quarantined).
pub(crate) async fn tick<S: Store, C: Clock, I: IdentitySource, M: Mailer>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    source: &I,
    mailer: &M,
    budget: Budget,
) -> Result<TickOutcome> {
    orgs::get(e.store, org, dir).await?;
    health::notify_quarantine(e.store, org, dir, mailer).await?;
    let head = latest_head(e.store, org, dir).await?;
    let advance = || crate::sync::run::advance(e, org, dir, source, mailer, budget);
    if head.as_ref().is_some_and(|h| h.active) {
        return Ok(TickOutcome::Advanced(advance().await?));
    }
    if !load_settings(e.store, org, dir).await?.auto_sync {
        return Ok(TickOutcome::Nothing {
            next_scheduled_at: None,
        });
    }
    // Quarantined: automatic runs wait out the back-off.
    if let Some(until) = health::load_health(e.store, org, dir).await?.until
        && e.now() < until
    {
        return Ok(TickOutcome::Nothing {
            next_scheduled_at: Some(until),
        });
    }
    if let Some(due) = head.map(|h| next_due(&h, e.config.auto_sync_interval))
        && e.now() < due
    {
        return Ok(TickOutcome::Nothing {
            next_scheduled_at: Some(due),
        });
    }
    match start(e, org, dir, source, Trigger::Scheduled).await {
        Ok(c) => Ok(TickOutcome::Started {
            run_id: c.run_id,
            advance: advance().await?,
        }),
        // Another tick started it a moment ago.
        Err(EngineError::Conflict(ConflictReason::RunInProgress { .. })) => {
            Ok(TickOutcome::Advanced(advance().await?))
        }
        Err(err) => Err(err),
    }
}
