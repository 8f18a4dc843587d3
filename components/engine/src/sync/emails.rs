//! The emails phase: hands queued welcome emails to the mailer, one outbox
//! document at a time, each with its account's idempotency key (delivery
//! is at least once; see [`deliver`]). Also the clean-up of staging chunks.

use crate::codec::encode;
use crate::error::Result;
use crate::keys;
use crate::model::{MailState, OutboxRecord, WELCOME_SUBJECT, welcome_body};
use crate::ports::{Clock, Mailer, OutgoingEmail, Store};
use crate::shards::{self, Kind};
use crate::sync::state::load_state_of;
use crate::sync::types::LogLevel;
use crate::sync::worker::{LostLease, Worker};
use std::collections::BTreeMap;

/// Deletes the run's staging chunks and finalize segments once finalize no
/// longer needs them; `within_budget`: only until the budget is spent (the
/// rest stay listed, for the next invocation).
pub(crate) async fn cleanup_staging<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
    within_budget: bool,
) -> Result<()> {
    let run = w.doc.head.run_id;
    while let Some(hash) = w.doc.head.cleanup.last().copied() {
        if within_budget && w.budget_spent() {
            break;
        }
        w.e.store
            .delete(&keys::stage_chunk(w.org, w.dir, run, hash))
            .await?;
        w.doc.head.cleanup.pop();
    }
    Ok(())
}

/// Hands the queued welcome emails of this run's outbox to the mailer, one
/// outbox document at a time, and records them as sent. Delivery is at
/// least once: an invocation that dies between handing emails over and
/// recording them (or two racing over one run) hands them over again, with
/// the same idempotency key, so a receiver that deduplicates on it delivers
/// each once. Stops early (`Ok(Ok(()))` with emails still queued) when the
/// budget is spent.
pub(crate) async fn deliver<S: Store, C: Clock, M: Mailer>(
    w: &mut Worker<'_, '_, S, C>,
    mailer: &M,
) -> Result<std::result::Result<(), LostLease>> {
    let run = w.doc.head.run_id;
    let Some(state) = load_state_of(w.e.store, w.org, w.dir, run).await? else {
        // Finalize's state is not there: another invocation's view, stop.
        return Ok(Err(LostLease));
    };
    let layout = &state.shards.outbox;
    let mut sent = 0;
    for i in 0..layout.count {
        if w.budget_spent() {
            return Ok(Ok(()));
        }
        let Some(key) = layout.key(w.org, w.dir, Kind::Outbox, i) else {
            continue;
        };
        let mut shard: BTreeMap<String, OutboxRecord> =
            shards::load_shard(w.e.store, w.org, w.dir, Kind::Outbox, layout, i).await?;
        let queued: Vec<String> = shard
            .iter()
            .filter(|(_, r)| r.state == MailState::Queued)
            .map(|(id, _)| id.clone())
            .collect();
        if !queued.is_empty() {
            hand_over(w, mailer, &mut shard, &queued).await;
            // In place: the outbox documents are the one collection a run
            // updates after finalize (sent marks only).
            w.e.store.set(&key, &encode(&shard)).await?;
        }
        sent += shard.values().filter(|r| r.sent_run == Some(run)).count() as u64;
    }
    w.doc.head.counts.emails_sent = sent;
    Ok(Ok(()))
}

/// Sends the `queued` emails of one outbox document, marking each one the
/// mailer accepted as sent; a failure leaves it queued (logged once).
async fn hand_over<S: Store, C: Clock, M: Mailer>(
    w: &mut Worker<'_, '_, S, C>,
    mailer: &M,
    shard: &mut BTreeMap<String, OutboxRecord>,
    queued: &[String],
) {
    let run = w.doc.head.run_id;
    let mut failures = 0u64;
    for id in queued {
        let Some(rec) = shard.get_mut(id) else {
            continue;
        };
        let email = OutgoingEmail {
            to: rec.to.clone(),
            subject: WELCOME_SUBJECT.to_owned(),
            body: welcome_body(rec.name.as_deref(), &rec.to),
            idempotency_key: format!("welcome/{id}"),
        };
        match mailer.send(&email).await {
            Ok(()) => {
                rec.state = MailState::Sent;
                rec.sent_at = Some(w.e.now());
                rec.sent_run = Some(run);
            }
            Err(err) => {
                failures += 1;
                if failures == 1 {
                    let message = format!(
                        "welcome email to {} not sent ({err}); it stays queued",
                        rec.to
                    );
                    w.log(LogLevel::Warning, message);
                }
            }
        }
    }
}
