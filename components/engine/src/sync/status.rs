//! Sync status and the bounded history of finished runs.

use crate::codec::{load, update};
use crate::engine::Engine;
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::orgs;
use crate::ports::{Clock, Store};
use crate::sync::doc::latest_head;
use crate::sync::start::load_settings;
use crate::sync::types::*;

pub(crate) async fn status<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
) -> Result<SyncStatus> {
    orgs::get(e.store, org, dir).await?;
    let settings = load_settings(e.store, org, dir).await?;
    let head = latest_head(e.store, org, dir).await?;
    let history = history(e, org, dir).await?;
    let current = head.as_ref().filter(|h| h.active).map(|h| RunStatus {
        run_id: h.run_id,
        trigger: h.trigger,
        phase: h.phase,
        started_at: h.started_at,
        waiting_until: h.waiting_until,
        failed_attempts: h.retries,
        last_error: h.last_error.clone(),
        pending_removals: h.pending.clone(),
        gives_up_at: h
            .failing_since
            .map(|since| since.saturating_add(e.config.retry_window_ms)),
        counts: h.counts.clone(),
        log: h.log.clone(),
    });
    let last_started_at = head.as_ref().map(|h| h.started_at);
    let health = crate::sync::health::load_health(e.store, org, dir).await?;
    let quarantine = health
        .until
        .filter(|until| *until > e.now())
        .map(|until| Quarantine {
            until,
            reason: health.reason.clone().unwrap_or_default(),
            advice: crate::sync::health::QUARANTINE_ADVICE.to_owned(),
        });
    let due = match (&head, settings.auto_sync) {
        (_, false) => None,
        (Some(h), true) => Some(crate::sync::start::next_due(
            h,
            e.config.auto_sync_interval_ms,
        )),
        (None, true) => Some(e.now()),
    };
    let next_scheduled_at = match (due, &quarantine) {
        (Some(due), Some(q)) => Some(due.max(q.until)),
        (due, _) => due,
    };
    Ok(SyncStatus {
        auto_sync: settings.auto_sync,
        quarantine,
        current,
        last: history.into_iter().next(),
        last_started_at,
        next_scheduled_at,
    })
}

pub(crate) async fn history<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
) -> Result<Vec<RunSummary>> {
    orgs::get(e.store, org, dir).await?;
    Ok(load(e.store, &keys::dir_doc(org, dir, "runs"))
        .await?
        .unwrap_or_default())
}

/// Group lists kept per run in the history (the counts stay exact).
const LISTED: usize = 100;
/// The history document stays under this size, dropping the oldest runs.
const HISTORY_BYTES: usize = 768 * 1024;

/// Adds a finished run at the front (once per run id, so a retry after a
/// crash does not duplicate it), keeping the configured number of runs and
/// a bounded size.
pub(crate) async fn append_history<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
    mut summary: RunSummary,
) -> Result<()> {
    let cap = e.config.history_len;
    let c = &mut summary.counts;
    let omitted = c.groups_over_limit.len().saturating_sub(LISTED)
        + c.access_removed.len().saturating_sub(LISTED);
    if omitted > 0 {
        c.groups_over_limit.truncate(LISTED);
        c.access_removed.truncate(LISTED);
        summary.log.push(LogEvent {
            at: summary.finished_at,
            level: LogLevel::Info,
            message: format!("{omitted} more groups (over the limit, or losing access) not listed"),
        });
    }
    update(
        e.store,
        &keys::dir_doc(org, dir, "runs"),
        |runs: Option<Vec<RunSummary>>| {
            let mut runs = runs.unwrap_or_default();
            if runs.iter().any(|r| r.run_id == summary.run_id) {
                return Ok((None, ()));
            }
            runs.insert(0, summary.clone());
            runs.truncate(cap);
            while runs.len() > 1 && crate::codec::encode(&runs).len() > HISTORY_BYTES {
                runs.pop();
            }
            Ok((Some(runs), ()))
        },
    )
    .await
}
