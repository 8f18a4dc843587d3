//! The outbox step: one welcome email per account this run created, only
//! when the settings ask for them (the outbox is untouched when there is
//! none). Emails are handed over after finalize, by `sync/emails.rs`.

use crate::error::Result;
use crate::model::{MailState, OutboxRecord, UserRecord};
use crate::ports::{Clock, Store};
use crate::shards::{self, Kind, Layout, Passes, Producer, Rewritten, Slice};
use crate::sync::state::DirState;
use crate::sync::types::RunCounts;
use crate::sync::worker::Worker;
use std::collections::BTreeMap;

/// Queues the welcome emails counted by the users step; `users`: the user
/// documents this run wrote.
pub(super) async fn write_outbox<S: Store, C: Clock>(
    w: &Worker<'_, '_, S, C>,
    base: &DirState,
    users: &Layout,
    counts: &RunCounts,
) -> Result<Rewritten> {
    let old = &base.shards.outbox;
    if counts.emails_queued == 0 {
        return Ok(Rewritten {
            layout: old.clone(),
            garbage: Vec::new(),
        });
    }
    let passes = Passes {
        estimate: old.count as usize * shards::TARGET_BYTES + counts.emails_queued as usize * 256,
        pass_bytes: w.e.config.pass_bytes,
    };
    let mut slices = OutboxSlices { w, old, users };
    let (store, org, dir, run) = (w.e.store, w.org, w.dir, w.doc.head.run_id);
    shards::rewrite(
        store,
        org,
        dir,
        Kind::Outbox,
        old,
        run,
        passes,
        &mut slices,
        |_| {},
    )
    .await
}

/// The welcome emails of a slice: the stored ones, plus one for each
/// account this run created (read back from the user shards just written).
struct OutboxSlices<'x, 'w, 'a, S, C> {
    w: &'x Worker<'w, 'a, S, C>,
    old: &'x Layout,
    /// The user documents this run just wrote.
    users: &'x Layout,
}

impl<S: Store, C: Clock> Producer for OutboxSlices<'_, '_, '_, S, C> {
    type Record = OutboxRecord;

    async fn produce(&mut self, slice: &Slice) -> Result<BTreeMap<String, OutboxRecord>> {
        let w = self.w;
        let (run, now, store) = (w.doc.head.run_id, w.now(), w.e.store);
        let mut outbox: BTreeMap<String, OutboxRecord> =
            shards::load_slice(store, w.org, w.dir, Kind::Outbox, self.old, slice).await?;
        for i in 0..self.users.count {
            let shard: BTreeMap<String, UserRecord> =
                shards::load_shard(store, w.org, w.dir, Kind::Users, self.users, i).await?;
            let created = shard
                .into_iter()
                .filter(|(id, r)| r.synced && r.created_run == Some(run) && slice.keeps(id));
            for (id, rec) in created {
                let Some(to) = rec.data.mailbox() else {
                    continue;
                };
                outbox.entry(id).or_insert_with(|| OutboxRecord {
                    to: to.to_owned(),
                    name: rec.data.display_name.clone(),
                    state: MailState::Queued,
                    queued_at: now,
                    sent_at: None,
                    sent_run: None,
                });
            }
        }
        Ok(outbox)
    }
}
