//! The emails phase: hands queued welcome emails to the mailer, one outbox
//! shard at a time, so that no email is ever sent twice. Before a batch goes
//! out its user ids are recorded in the run document (`sending`); if the
//! invocation dies before the outbox records them as sent, the next one
//! marks them sent without sending again.

use crate::codec::encode;
use crate::error::Result;
use crate::keys;
use crate::model::{MailState, OutboxRecord, WELCOME_SUBJECT, welcome_body};
use crate::ports::{Clock, Mailer, OutgoingEmail, Store, Timestamp};
use crate::shards::{self, Kind};
use crate::sync::run::{LostLease, Worker};
use crate::sync::start::load_state;
use crate::sync::types::{Budget, LogLevel};
use std::collections::BTreeMap;

/// Deletes the run's sealed staging chunks once finalize no longer needs them.
pub(crate) async fn cleanup_staging<S: Store, C: Clock>(
    w: &mut Worker<'_, '_, S, C>,
) -> Result<()> {
    let run = w.doc.head.run_id;
    for hash in std::mem::take(&mut w.doc.head.cleanup) {
        w.e.store
            .delete(&keys::stage_chunk(w.org, w.dir, run, hash))
            .await?;
    }
    Ok(())
}

pub(crate) async fn deliver<S: Store, C: Clock, M: Mailer>(
    w: &mut Worker<'_, '_, S, C>,
    mailer: &M,
    budget: Budget,
    started: Timestamp,
) -> Result<std::result::Result<(), LostLease>> {
    let count = load_state(w.e.store, w.org, w.dir).await?.shards.outbox;
    let run = w.doc.head.run_id;
    if !w.doc.head.sending.is_empty() {
        // A previous invocation handed these over and stopped before
        // recording it: count them as sent rather than risk a second email.
        let ids = std::mem::take(&mut w.doc.head.sending);
        let mut by_shard: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for id in ids {
            by_shard
                .entry(shards::shard_of(&id, count))
                .or_default()
                .push(id);
        }
        for (i, ids) in by_shard {
            let mut shard: BTreeMap<String, OutboxRecord> =
                shards::load_shard(w.e.store, w.org, w.dir, Kind::Outbox, count, i).await?;
            let now = w.now();
            for id in ids {
                if let Some(rec) = shard.get_mut(&id).filter(|r| r.state == MailState::Queued) {
                    rec.state = MailState::Sent;
                    rec.sent_at = Some(now);
                    rec.sent_run = Some(run);
                }
            }
            w.e.store
                .set(
                    &keys::shard(w.org, w.dir, Kind::Outbox.name(), count, i),
                    &encode(&shard),
                )
                .await?;
        }
    }
    let mut sent = 0;
    for i in 0..count {
        if w.now().saturating_sub(started) >= budget.max_millis {
            return Ok(Ok(()));
        }
        let mut shard: BTreeMap<String, OutboxRecord> =
            shards::load_shard(w.e.store, w.org, w.dir, Kind::Outbox, count, i).await?;
        let queued: Vec<String> = shard
            .iter()
            .filter(|(_, r)| r.state == MailState::Queued)
            .map(|(id, _)| id.clone())
            .collect();
        if queued.is_empty() {
            sent += sent_by(&shard, run);
            continue;
        }
        w.doc.head.sending = queued.clone();
        if let Err(lost) = w.save().await? {
            return Ok(Err(lost));
        }
        let mut failures = 0u64;
        for id in &queued {
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
                        w.log(
                            LogLevel::Warning,
                            format!(
                                "welcome email to {} not sent ({err}); it stays queued",
                                rec.to
                            ),
                        );
                    }
                }
            }
        }
        w.e.store
            .set(
                &keys::shard(w.org, w.dir, Kind::Outbox.name(), count, i),
                &encode(&shard),
            )
            .await?;
        w.doc.head.sending.clear();
        sent += sent_by(&shard, run);
    }
    w.doc.head.counts.emails_sent = sent;
    Ok(Ok(()))
}

fn sent_by(shard: &BTreeMap<String, OutboxRecord>, run: u64) -> u64 {
    shard.values().filter(|r| r.sent_run == Some(run)).count() as u64
}
