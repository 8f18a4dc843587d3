//! Sync status: the run in progress, the last finished run, quarantine and
//! when automatic syncing next starts a run.

use crate::engine::context::Engine;
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::orgs;
use crate::ports::{Clock, Store, TimeDelta};
use crate::sync::doc::{RunHeader, latest_head};
use crate::sync::history;
use crate::sync::start::load_settings;
use crate::sync::types::*;

/// The directory's sync status (`GET .../sync`).
pub(crate) async fn status<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
) -> Result<SyncStatus> {
    orgs::get(e.store, org, dir).await?;
    let settings = load_settings(e.store, org, dir).await?;
    let head = latest_head(e.store, org, dir).await?;
    let history = history::list(e, org, dir).await?;
    let window = e.config.retry_window;
    let current = head
        .as_ref()
        .filter(|h| h.active)
        .map(|h| run_status(h, window));
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
        (Some(h), true) => Some(crate::sync::start::next_due(h, e.config.auto_sync_interval)),
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

/// What status shows of the run in progress; a run failing over and over
/// gives up `retry_window` after its first failure.
fn run_status(h: &RunHeader, retry_window: TimeDelta) -> RunStatus {
    RunStatus {
        run_id: h.run_id,
        trigger: h.trigger,
        phase: h.phase,
        started_at: h.started_at,
        waiting_until: h.waiting_until,
        failed_attempts: h.retries,
        last_error: h.last_error.clone(),
        pending_removals: h.pending.clone(),
        gives_up_at: h.failing_since.map(|since| since + retry_window),
        counts: h.counts.clone(),
        log: h.log.clone(),
    }
}
