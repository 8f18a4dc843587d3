//! The removal guard's decision: an admin confirms the removals a held run
//! would make (its finalize then goes through) or rejects them (the run
//! ends, nothing removed, the next run decides again).

use crate::engine::context::Engine;
use crate::error::{ConflictReason, EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::orgs;
use crate::ports::{Clock, Store};
use crate::sync::doc::{RunDoc, latest};
use crate::sync::types::{LogLevel, Phase, RunResult};

/// The held run of a directory: its key and document.
async fn held<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
) -> Result<(String, RunDoc)> {
    orgs::get(e.store, org, dir).await?;
    let not_held = || EngineError::Conflict(ConflictReason::NothingToConfirm);
    let (id, raw) = latest(e.store, org, dir).await?.ok_or_else(not_held)?;
    let key = keys::run(org, dir, id);
    let doc = RunDoc::decode(&key, &raw)?;
    if !doc.head.active || doc.head.phase != Phase::AwaitingConfirmation {
        return Err(not_held());
    }
    Ok((key, doc))
}

/// Lets the held run remove what it would: its finalize runs again (the
/// same result) and completes at the next `advance`.
pub(crate) async fn confirm<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
) -> Result<()> {
    let (key, mut doc) = held(e, org, dir).await?;
    let h = &mut doc.head;
    h.removals_confirmed = true;
    h.phase = Phase::Finalize;
    h.lease = None;
    let message = "an admin confirmed the removals".to_owned();
    h.log(e.config.log_cap, e.now(), LogLevel::Info, message);
    e.store.set(&key, &doc.encode()).await?;
    Ok(())
}

/// Ends the held run without removing anything: the documents its
/// finalize wrote and its staging are deleted, and the history records it
/// as rejected.
pub(crate) async fn reject<S: Store, C: Clock>(
    e: &Engine<'_, S, C>,
    org: &OrgId,
    dir: &DirId,
) -> Result<()> {
    let (key, mut doc) = held(e, org, dir).await?;
    let now = e.now();
    let h = &mut doc.head;
    let reason = match &h.pending {
        Some(p) => format!(
            "an admin rejected the removals ({} users leaving the scope, {} groups losing product access); nothing was removed",
            p.users_leaving,
            p.access_removed.len()
        ),
        None => "an admin rejected the removals; nothing was removed".to_owned(),
    };
    h.log(e.config.log_cap, now, LogLevel::Info, reason.clone());
    // The counts say what happened: none of the removals did.
    let mut counts = h.counts.clone();
    counts.users_left_scope = 0;
    counts.access_removed.clear();
    let summary = h.summary(RunResult::Rejected { reason }, counts, now);
    crate::sync::history::append(e, org, dir, summary).await?;
    for held in std::mem::take(&mut h.held) {
        e.store.delete(&held).await?;
    }
    let run = h.run_id;
    let scratch: Vec<u64> = h.finalize.take().iter().flat_map(|p| p.scratch()).collect();
    for hash in h.sealed.drain(..).chain(h.cleanup.drain(..)).chain(scratch) {
        e.store
            .delete(&keys::stage_chunk(org, dir, run, hash))
            .await?;
    }
    h.active = false;
    h.lease = None;
    h.pending = None;
    doc.tail.clear();
    e.store.set(&key, &doc.encode()).await?;
    Ok(())
}
