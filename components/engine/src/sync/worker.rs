//! The invocation working on a run: it takes the run's lease, keeps to its
//! budget, stages what the pages brought (to the store, and while it can
//! a decoded copy in memory for finalize), saves the run document (only
//! while it still holds the lease) and logs. What a run does next is
//! `run.rs`'s; this module knows no phase's work (it imports neither
//! finalize nor emails).

use crate::engine::context::Engine;
use crate::error::{EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::ports::{Clock, DeltaFrom, Store, Timestamp};
use crate::sync::doc::{Cursor, GroupWalk, Lease, MAX_SEAL_BYTES, RunDoc, Staged, parse_lines};
use crate::sync::types::{AdvanceOutcome, Budget, LogLevel, Phase, RunCounts};

/// The run document (header and staging tail) stays under this.
const RUN_DOC_BYTES: usize = 960 * 1024;

/// The invocation holding the lease, with the document as last written.
pub(crate) struct Worker<'w, 'a, S, C> {
    pub e: &'w Engine<'a, S, C>,
    pub org: &'w OrgId,
    pub dir: &'w DirId,
    /// The run document's key.
    pub key: String,
    /// The run document as this invocation last wrote it.
    pub doc: RunDoc,
    /// This invocation's lease token.
    holder: u64,
    budget: Budget,
    /// When this invocation took the lease.
    started: Timestamp,
    /// The run's whole staging, decoded, while this invocation staged all
    /// of it within `EngineConfig::staging_copy_passes`.
    copy: Option<StagedCopy>,
}

/// The lines of a run's staging as the invocation staged them, decoded: a
/// copy of what the store holds (staging is written there all the same, so
/// a later invocation, which has no copy, reads the store).
#[derive(Default)]
struct StagedCopy {
    lines: Vec<Staged>,
    /// Their encoded size, newlines included.
    bytes: usize,
    /// A step took users out of the lines, bucket by bucket: they serve
    /// only the buckets still to take theirs now.
    taken: bool,
}

/// The lease was taken over (it expired while we worked, or another
/// invocation's write landed): stop quietly.
pub(crate) struct LostLease;

/// A step of the run: `Err(LostLease)` when another invocation has it now.
pub(crate) type Step<T> = Result<std::result::Result<T, LostLease>>;

/// Whether the stored run document is still run `run_id` leased by `holder`.
async fn holds<S: Store>(store: &S, key: &str, run_id: u64, holder: u64) -> Result<bool> {
    let Some(raw) = store.get(key).await? else {
        return Ok(false);
    };
    let head = RunDoc::decode_head(key, &raw)?;
    Ok(head.run_id == run_id && head.active && head.lease.is_some_and(|l| l.holder == holder))
}

/// Why the newest run cannot be worked on now, if it cannot: none is
/// active, another invocation holds it, an admin must decide, or it waits
/// to try again.
fn not_now(doc: &RunDoc, now: Timestamp) -> Option<AdvanceOutcome> {
    let h = &doc.head;
    if !h.active {
        return Some(AdvanceOutcome::Idle);
    }
    if let Some(lease) = &h.lease
        && lease.until > now
    {
        return Some(AdvanceOutcome::Busy { until: lease.until });
    }
    let progressed = |waiting_until| AdvanceOutcome::Progressed {
        run_id: h.run_id,
        phase: h.phase,
        waiting_until,
    };
    if h.phase == Phase::AwaitingConfirmation {
        // Held by the removal guard: nothing to do until an admin decides.
        return Some(progressed(None));
    }
    if let Some(until) = h.waiting_until
        && until > now
    {
        return Some(progressed(Some(until)));
    }
    None
}

impl<'w, 'a, S: Store, C: Clock> Worker<'w, 'a, S, C> {
    /// Takes the lease of the directory's newest run, or says why not
    /// (`Err` with what the caller answers).
    pub async fn take(
        e: &'w Engine<'a, S, C>,
        org: &'w OrgId,
        dir: &'w DirId,
        budget: Budget,
    ) -> Result<std::result::Result<Self, AdvanceOutcome>> {
        let Some((id, raw)) = crate::sync::doc::latest(e.store, org, dir).await? else {
            return Ok(Err(AdvanceOutcome::Idle));
        };
        let key = keys::run(org, dir, id);
        let mut doc = RunDoc::decode(&key, &raw)?;
        tracing::Span::current().record("run_id", doc.head.run_id);
        let now = e.now();
        if let Some(outcome) = not_now(&doc, now) {
            return Ok(Err(outcome));
        }
        // Staging this invocation did not stage is read from the store.
        let unstaged = doc.head.sealed.is_empty() && doc.tail.is_empty();
        let copy = (unstaged && doc.head.finalize.is_none()).then(StagedCopy::default);
        let holder = crate::token::fresh(now);
        doc.head.lease = Some(Lease {
            holder,
            until: now + e.config.lease,
        });
        doc.head.waiting_until = None;
        // Best effort: write the lease and read it back. Two invocations may
        // both get here (a stale read); they then do the same idempotent work.
        e.store.set(&key, &doc.encode()).await?;
        if !holds(e.store, &key, doc.head.run_id, holder).await? {
            return Ok(Err(AdvanceOutcome::Busy {
                until: now + e.config.lease,
            }));
        }
        Ok(Ok(Worker {
            e,
            org,
            dir,
            key,
            doc,
            holder,
            budget,
            started: now,
            copy,
        }))
    }
}

impl<S: Store, C: Clock> Worker<'_, '_, S, C> {
    /// The engine's clock.
    pub fn now(&self) -> Timestamp {
        self.e.now()
    }

    /// Logs an event in the run's log.
    pub fn log(&mut self, level: LogLevel, message: impl Into<String>) {
        let now = self.now();
        self.doc
            .head
            .log(self.e.config.log_cap, now, level, message);
    }

    /// A group's name for messages: as the tenant gave it, else its id.
    pub fn group_name(&self, id: &str) -> String {
        let cursor = &self.doc.head.cursor;
        let name = cursor
            .walk()
            .and_then(|walk| walk.names.get(id))
            .or_else(|| cursor.roots().iter().find(|g| g.id == id).map(|g| &g.name));
        match name {
            Some(name) => format!("{name} ({id})"),
            None => id.to_owned(),
        }
    }

    /// What an invocation that lost the run answers.
    pub fn busy(&self) -> AdvanceOutcome {
        AdvanceOutcome::Busy {
            until: self.now() + self.e.config.lease,
        }
    }

    /// Whether this invocation's time is up.
    pub fn budget_spent(&self) -> bool {
        self.now() - self.started >= self.budget.wall_time()
    }

    /// Whether this invocation stops before `phase`, having read `pages`
    /// pages.
    pub fn stops_before(&self, phase: Phase, pages: u32) -> bool {
        let elapsed = self.now() - self.started;
        let reads_page = matches!(phase, Phase::Members | Phase::Groups | Phase::Users);
        // Finalize rewrites the directory in one step: an invocation that
        // already read pages starts it only with half its budget left, so a
        // host's hard time limit never cuts it; the next invocation begins
        // with it instead.
        let finalize_late =
            phase == Phase::Finalize && pages > 0 && elapsed * 2 > self.budget.wall_time();
        let page_limit = self.budget.max_pages.is_some_and(|max| pages >= max);
        self.budget_spent() || finalize_late || (reads_page && page_limit)
    }

    /// Whether finalize pauses (saves its progress, for the next invocation
    /// to go on) after `slices` slices in this invocation: never before the
    /// first, else once a quarter of the budget is gone or after
    /// `EngineConfig::finalize_slices`. A quarter, not all of it: the last
    /// slice may take a while, and more under wasm than natively, and must
    /// not push the invocation past a host's hard limit (issue 13's target:
    /// no invocation over 10 s natively).
    pub fn finalize_pauses(&self, slices: u32) -> bool {
        let elapsed = self.now() - self.started;
        let limit = self.e.config.finalize_slices;
        slices > 0 && (elapsed * 4 > self.budget.wall_time() || limit.is_some_and(|m| slices >= m))
    }

    /// Whether the stored document still names this invocation's lease.
    pub async fn still_holds(&self) -> Result<bool> {
        holds(self.e.store, &self.key, self.doc.head.run_id, self.holder).await
    }

    /// Writes the document (renewing the lease) if we still hold it: one
    /// read to check, one write.
    pub async fn save(&mut self) -> Step<()> {
        if !self.still_holds().await? {
            return Ok(Err(LostLease));
        }
        if let Some(lease) = &mut self.doc.head.lease {
            lease.until = self.e.now() + self.e.config.lease;
        }
        self.e.store.set(&self.key, &self.doc.encode()).await?;
        Ok(Ok(()))
    }

    /// Forgets what this invocation changed since its last save: the run
    /// document as stored (with this invocation's lease), and no copy of
    /// the staging in memory.
    ///
    /// # Errors
    /// The store's, or `Corrupt` for a document that cannot be decoded;
    /// `Superseded` when the document is gone.
    pub async fn reload(&mut self) -> Result<()> {
        let raw = self.e.store.get(&self.key).await?;
        let raw = raw.ok_or_else(|| EngineError::Superseded(self.key.clone()))?;
        self.doc = RunDoc::decode(&self.key, &raw)?;
        self.copy = None;
        Ok(())
    }

    /// Saves and gives the lease back; the run goes on at the next call
    /// (not before `wait`, if given).
    pub async fn release(&mut self, wait: Option<Timestamp>) -> Step<AdvanceOutcome> {
        self.doc.head.lease = None;
        self.doc.head.waiting_until = wait;
        let saved = self.save().await?;
        let h = &self.doc.head;
        Ok(saved.map(|()| AdvanceOutcome::Progressed {
            run_id: h.run_id,
            phase: h.phase,
            waiting_until: wait,
        }))
    }

    /// Appends staged lines, sealing the tail into a chunk first when it
    /// would grow past the threshold; the lines join the copy in memory, if
    /// this invocation keeps one.
    pub async fn stage(&mut self, lines: Vec<Staged>) -> Result<()> {
        // Leave room for the header, which grows with the groups discovered.
        let room = RUN_DOC_BYTES.saturating_sub(crate::codec::encode(&self.doc.head).len());
        let seal_at = self.e.config.seal_bytes.min(MAX_SEAL_BYTES).min(room);
        for line in lines {
            // Kept in memory, its users' JSON is written once, then copied.
            if self.copy.is_some() {
                line.remember_user_json();
            }
            let bytes = crate::codec::encode(&line);
            if !self.doc.tail.is_empty() && self.doc.tail.len() + bytes.len() > seal_at {
                self.seal_tail().await?;
            }
            self.doc.push_encoded(&bytes);
            self.keep_copy(line, bytes.len() + 1);
        }
        Ok(())
    }

    /// Adds a staged line of `bytes` encoded bytes to the copy in memory;
    /// past `EngineConfig::staging_copy_passes` the copy is dropped for the
    /// rest of the invocation.
    fn keep_copy(&mut self, line: Staged, bytes: usize) {
        let config = &self.e.config;
        let cap = config.pass_bytes.saturating_mul(config.staging_copy_passes);
        if let Some(copy) = &mut self.copy {
            copy.bytes += bytes;
            match copy.bytes <= cap {
                true => copy.lines.push(line),
                false => self.copy = None,
            }
        }
    }

    /// The run's whole staging, decoded, in staging order, when this
    /// invocation staged all of it and kept the copy (see
    /// `EngineConfig::staging_copy_passes`); `None`: read the store.
    pub fn staged_lines(&self) -> Option<&[Staged]> {
        let whole = self.copy.as_ref().filter(|c| !c.taken);
        whole.map(|c| c.lines.as_slice())
    }

    /// The copy's lines for a step to take one bucket's users out of (each
    /// bucket takes only its own users, so the next bucket still finds its
    /// users there); from then on [`Worker::staged_lines`] is `None`.
    /// `None` when there is no copy.
    pub fn take_staged_lines(&mut self) -> Option<&mut [Staged]> {
        let copy = self.copy.as_mut()?;
        copy.taken = true;
        Some(&mut copy.lines)
    }

    /// Moves the staging tail to a chunk named by its hash.
    pub async fn seal_tail(&mut self) -> Result<()> {
        let hash = self.write_scratch(&self.doc.tail).await?;
        self.doc.head.sealed.push(hash);
        self.doc.tail.clear();
        Ok(())
    }

    /// Writes a document of this run's staging (a chunk or one of
    /// finalize's segments), named by the hash of its bytes; returns it.
    pub async fn write_scratch(&self, bytes: &[u8]) -> Result<u64> {
        let hash = crate::hash::fnv1a(bytes);
        let chunk = keys::stage_chunk(self.org, self.dir, self.doc.head.run_id, hash);
        self.e.store.set(&chunk, bytes).await?;
        Ok(hash)
    }

    /// Reads back a document of this run's staging that [`write_scratch`]
    /// wrote (a chunk or one of finalize's segments): its key and bytes.
    /// One written by an earlier invocation may not be in a lagging
    /// replica yet: `NotYetVisible`, which makes the run wait and read
    /// again (decision 0013).
    ///
    /// [`write_scratch`]: Self::write_scratch
    pub async fn read_scratch(&self, hash: u64) -> Result<(String, Vec<u8>)> {
        let key = keys::stage_chunk(self.org, self.dir, self.doc.head.run_id, hash);
        match self.e.store.get(&key).await? {
            Some(bytes) => Ok((key, bytes)),
            None => Err(EngineError::NotYetVisible(format!("{key} (staging)"))),
        }
    }

    /// Hands every staged line of the run to `apply`, in staging order:
    /// clones of the copy in memory when there is one, else the store's,
    /// sealed chunks first, one chunk in memory at a time.
    pub async fn for_each_staged(&self, mut apply: impl FnMut(Staged)) -> Result<()> {
        if let Some(lines) = self.staged_lines() {
            lines.iter().cloned().for_each(apply);
            return Ok(());
        }
        self.for_each_in(&self.doc.head.sealed, &mut apply).await?;
        parse_lines(&self.key, &self.doc.tail)?
            .into_iter()
            .for_each(apply);
        Ok(())
    }

    /// Hands every line of the run's staging documents `hashes` (chunks or
    /// segments) to `apply`, in order, one document in memory at a time.
    pub async fn for_each_in(&self, hashes: &[u64], mut apply: impl FnMut(Staged)) -> Result<()> {
        for hash in hashes {
            let (chunk, bytes) = self.read_scratch(*hash).await?;
            parse_lines(&chunk, &bytes)?
                .into_iter()
                .for_each(&mut apply);
        }
        Ok(())
    }

    /// Marks every sealed chunk and finalize segment for deletion (staging
    /// is done with or dropped).
    pub fn retire_staging(&mut self) {
        let h = &mut self.doc.head;
        if let Some(progress) = h.finalize.take() {
            h.cleanup.extend(progress.scratch());
        }
        h.cleanup.append(&mut h.sealed);
        self.doc.tail.clear();
        if let Some(copy) = &mut self.copy {
            *copy = StagedCopy::default();
        }
    }

    /// Drops everything staged (a full enumeration starts over): the
    /// listings begin again from the first, without delta tokens.
    pub fn restart_staging(&mut self) {
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
