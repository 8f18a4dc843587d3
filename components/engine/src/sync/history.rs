//! The bounded history of finished runs (`org/{org}/dir/{dir}/runs`), newest
//! first: appended once per run when it ends, read by the status calls.

use crate::codec::{encode, load, update};
use crate::engine::context::Engine;
use crate::error::Result;
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::orgs;
use crate::ports::{Clock, Store};
use crate::sync::types::{LogEvent, LogLevel, RunSummary};

/// Finished runs, newest first.
pub(crate) async fn list<S: Store, C: Clock>(
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
pub(crate) async fn append<S: Store, C: Clock>(
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
            while runs.len() > 1 && encode(&runs).len() > HISTORY_BYTES {
                runs.pop();
            }
            Ok((Some(runs), ()))
        },
    )
    .await
}
