//! Interleavings: concurrent invocations over a store without
//! compare-and-swap end in the directory one sequential run gives.
//!
//! Each schedule runs 2-4 invocations at once (Sync pressed twice, the
//! scheduler's tick, workers advancing the run, two admins toggling product
//! access, a settings write) as shuttle threads. Every store operation is a
//! scheduling point, so shuttle's seeded randomized and PCT schedulers
//! switch task there; the store may also answer a read with the key's
//! previous value (a stale replica) and make an operation fail, before or
//! after it wrote (an invocation dying). Once the tasks are done, the run is
//! settled sequentially and the directory is compared with a sequential
//! run's.
//!
//! Checked after every schedule: the directory (users, groups, members,
//! product access, billing, emails) equals the sequential run's; one run id
//! per start; no account with two welcome emails (deliveries may repeat, but
//! always with one idempotency key per account); a run that had not
//! completed had removed nothing; no record of a newer run is replaced by an
//! older one (a late worker of run 2 never undoes run 3).
//!
//! `IDP_SYNC_SCHEDULES` sets the schedules per scheduler and scenario
//! (default 1,000); a failure prints the scheduler and seed, and
//! `IDP_SYNC_SEED=n` runs that one schedule again.
// Host only: shuttle runs its tasks as threads (the wasm32 rule tests, the
// other files, need none).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
mod common;

use common::{HOUR, ORG, RecordingMailer, T0, ms};
use engine::ports::{Clock, Store, StoreError};
use engine::testing::MemoryTenant;
use engine::*;
use shuttle::current::get_current_task;
use shuttle::rand::{Rng, thread_rng};
use shuttle::scheduler::{PctScheduler, RandomScheduler, Scheduler, TaskId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// One key: its value and the value before the last write (what a stale
/// replica may still answer), and which tasks wrote it: a task always
/// reads its own writes (as within one request on Akamai's replicated
/// store).
#[derive(Default)]
struct Slot {
    now: Option<Vec<u8>>,
    before: Option<Vec<u8>>,
    writers: Vec<TaskId>,
    /// The store operation that last wrote it: only a recent write may be
    /// missed by a read ("a little stale").
    written_at: u64,
}

/// A store whose every operation is a shuttle scheduling point (when
/// `scheduled`), with injected stale reads and failures while `faults` is
/// on. Unscheduled, it is a plain in-memory store (for the sequential
/// reference, computed outside shuttle so that a seed replays alike).
#[derive(Default)]
struct ExplorerStore {
    scheduled: bool,
    data: Mutex<BTreeMap<String, Slot>>,
    faults: AtomicBool,
    /// Store operations so far.
    ops: AtomicU64,
}

/// Percent of reads answered with the previous value (when the key was
/// written in the last `STALE_OPS` operations), and of operations failing
/// (half of them after the write happened).
const STALE_READ_PCT: u64 = 5;
const STALE_OPS: u64 = 20;
const FAIL_PCT: u64 = 2;

impl ExplorerStore {
    /// A scheduling point: shuttle may switch to another task here.
    fn switch(&self) {
        if self.scheduled {
            shuttle::thread::yield_now();
        }
    }

    /// The task running now (`None` outside shuttle).
    fn me(&self) -> Option<TaskId> {
        self.scheduled.then(get_current_task).flatten()
    }

    fn roll(&self, pct: u64) -> bool {
        self.faults.load(Ordering::SeqCst) && thread_rng().gen_range(0..100) < pct
    }

    fn injected() -> StoreError {
        StoreError::Backend("injected failure".into())
    }

    fn write(&self, key: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
        self.switch();
        let fail = self.roll(FAIL_PCT);
        if fail && thread_rng().gen_bool(0.5) {
            return Err(Self::injected());
        }
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let slot = data.entry(key.to_owned()).or_default();
        slot.before = slot.now.take();
        slot.now = value.map(<[u8]>::to_vec);
        slot.written_at = self.ops.fetch_add(1, Ordering::SeqCst);
        if let Some(me) = self.me()
            && !slot.writers.contains(&me)
        {
            slot.writers.push(me);
        }
        if fail {
            return Err(Self::injected());
        }
        Ok(())
    }
}

impl Store for ExplorerStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.switch();
        if self.roll(FAIL_PCT) {
            return Err(Self::injected());
        }
        let stale = self.roll(STALE_READ_PCT);
        let data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.ops.fetch_add(1, Ordering::SeqCst);
        let me = self.me();
        let mine = |s: &Slot| me.is_some_and(|me| s.writers.contains(&me));
        let recent = |s: &Slot| now.saturating_sub(s.written_at) <= STALE_OPS;
        Ok(data.get(key).and_then(|s| {
            if stale && recent(s) && !mine(s) {
                s.before.clone()
            } else {
                s.now.clone()
            }
        }))
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        engine::ports::store::check_key(key)?;
        engine::ports::store::check_value(key, value)?;
        self.write(key, Some(value))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.write(key, None)
    }
}

/// Everything one schedule shares between its tasks.
struct World {
    store: ExplorerStore,
    clock: ManualClock,
    tenant: MemoryTenant,
    mailer: RecordingMailer,
    config: EngineConfig,
    dir: String,
    /// Whether run 3's tenant change was made (it is made once).
    changed_for_three: AtomicBool,
}

thread_local! {
    /// Whether this OS thread is running a shuttle schedule now (shuttle's
    /// tasks are coroutines on it).
    static IN_SHUTTLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a future to its end (the store never makes it wait). Inside
/// shuttle, shuttle's own `block_on`: `futures`' refuses to nest, and a
/// task switch inside one would look like nesting.
fn block<F: std::future::Future>(f: F) -> F::Output {
    if IN_SHUTTLE.get() {
        shuttle::future::block_on(f)
    } else {
        futures::executor::block_on(f)
    }
}

/// A few pages per invocation, so the tasks take turns mid-run.
const BUDGET: Budget = Budget {
    max_millis: 20_000,
    max_pages: Some(2),
};

impl World {
    fn engine(&self) -> Engine<'_, ExplorerStore, ManualClock> {
        Engine::new(&self.store, &self.clock).with_config(self.config)
    }

    fn start(&self) -> Result<Confirmation, EngineError> {
        block(
            self.engine()
                .start_sync(ORG, &self.dir, &self.tenant, Trigger::Manual),
        )
    }

    fn advance(&self) -> Result<AdvanceOutcome, EngineError> {
        block(
            self.engine()
                .advance(ORG, &self.dir, &self.tenant, &self.mailer, BUDGET),
        )
    }

    fn tick(&self) -> Result<TickOutcome, EngineError> {
        block(
            self.engine()
                .tick(ORG, &self.dir, &self.tenant, &self.mailer, BUDGET),
        )
    }

    fn set_access(&self, group: &str, on: bool) -> Result<GroupView, EngineError> {
        block(self.engine().set_product_access(ORG, group, on))
    }

    fn history(&self) -> Vec<RunSummary> {
        block(self.engine().sync_history(ORG, &self.dir)).expect("history")
    }

    /// Whether run `id` is in the history (false when the read failed).
    fn finished(&self, id: u64) -> bool {
        block(self.engine().sync_history(ORG, &self.dir))
            .is_ok_and(|runs| runs.iter().any(|r| r.run_id == id))
    }

    /// Advances (moving the clock past leases and waits) until no run is in
    /// progress, without faults.
    fn settle(&self) {
        self.store.faults.store(false, Ordering::SeqCst);
        for _ in 0..10_000 {
            match self.advance().expect("advance while settling") {
                AdvanceOutcome::Idle => return,
                AdvanceOutcome::Busy { until }
                | AdvanceOutcome::Progressed {
                    waiting_until: Some(until),
                    ..
                } => self.clock.set(until.max(self.clock.now()) + ms(1)),
                AdvanceOutcome::Progressed { .. } | AdvanceOutcome::Finished { .. } => {}
            }
        }
        panic!("the run did not settle");
    }
}

/// Ten users on a verified domain, one on an unverified one; `eng` holds
/// `ops` (nested) and `sales` is selected too. Pages of two users, staging
/// sealed every page or two.
fn world(scheduled: bool) -> World {
    let config = EngineConfig {
        seal_bytes: 300,
        ..EngineConfig::default()
    };
    let w = World {
        store: ExplorerStore {
            scheduled,
            ..ExplorerStore::default()
        },
        clock: ManualClock::new(T0),
        tenant: MemoryTenant::new(),
        mailer: RecordingMailer::default(),
        config,
        dir: String::new(),
        changed_for_three: AtomicBool::new(false),
    };
    common::small_tenant(&w.tenant);
    for u in ["a00003", "b00000"] {
        w.tenant.add_user_to("ops", u);
    }
    w.tenant.add_user_to("sales", "a00005").nest("eng", "ops");
    let dir = block(common::acme_with_a_directory(&w.engine()));
    World {
        dir: dir.to_string(),
        ..w
    }
}

fn save_groups(w: &World, groups: &[&str]) {
    let input = SettingsInput {
        send_email: true,
        // Run 2 drops `sales` and its access: no admin to confirm here.
        ..common::unguarded(engine::testing::groups(groups))
    };
    block(w.engine().save_settings(ORG, &w.dir, input, None)).expect("settings");
}

/// Run 1 over `eng` and `sales`, product access to `eng` and `sales`; then
/// the tenant changes and `sales` is dropped, so run 2 creates accounts
/// (with emails), updates one, takes users out of scope and removes
/// `sales`'s access.
fn after_run_one(scheduled: bool) -> World {
    let w = world(scheduled);
    save_groups(&w, &["eng", "sales"]);
    w.start().expect("run 1 starts");
    w.settle();
    w.set_access("eng", true).expect("grant eng");
    w.set_access("sales", true).expect("grant sales");
    for u in ["a00006", "a00007", "a00008"] {
        w.tenant.add_user_to("ops", u);
    }
    w.tenant.remove_user_from("eng", "a00001");
    let mut renamed = engine::testing::user("a00002", "a2@contoso.com");
    renamed.display_name = Some("Renamed".into());
    w.tenant.put_user(renamed);
    save_groups(&w, &["eng"]);
    w.clock.advance(HOUR);
    w
}

/// Run 3's change, made once: `ops` loses a user and gains one.
fn change_for_run_three(w: &World) {
    if !w.changed_for_three.swap(true, Ordering::SeqCst) {
        w.tenant.remove_user_from("ops", "a00006");
        w.tenant.add_user_to("ops", "a00004");
    }
}

/// The directory as an admin sees it, without times.
#[derive(Debug, PartialEq, Eq)]
struct Directory {
    /// Users as listed, without their creation time.
    users: Vec<UserView>,
    groups: Vec<GroupView>,
    members: BTreeMap<String, Vec<String>>,
    billing: Billing,
    emails: Vec<(String, String)>,
}

fn directory(w: &World) -> Directory {
    let e = w.engine();
    let mut users = block(e.list_users(ORG, None, 500)).expect("users").items;
    for u in &mut users {
        u.created_at = engine::ports::Timestamp::UNIX_EPOCH;
    }
    let groups = block(e.list_groups(ORG, None, 500)).expect("groups").items;
    let mut members = BTreeMap::new();
    for g in groups.iter().filter(|g| g.synced) {
        let list = block(e.group_members(ORG, &g.id, None, 500)).expect("members");
        members.insert(
            g.id.clone(),
            list.items.into_iter().map(|m| m.user_id).collect(),
        );
    }
    let emails = block(e.list_emails(ORG, None, 500)).expect("emails").items;
    Directory {
        users,
        groups,
        members,
        billing: block(e.billing(ORG)).expect("billing"),
        emails: emails.into_iter().map(|m| (m.user_id, m.to)).collect(),
    }
}

/// Asserts `actual` equals `expected` part by part (a smaller message).
fn assert_same(actual: &Directory, expected: &Directory) {
    assert_eq!(actual.users, expected.users, "users");
    assert_eq!(actual.groups, expected.groups, "groups");
    assert_eq!(actual.members, expected.members, "members");
    assert_eq!(actual.emails, expected.emails, "emails");
    assert_eq!(actual.billing, expected.billing, "billing");
}

/// Without product access (admins toggle it concurrently with the run).
fn without_access(mut d: Directory) -> Directory {
    for g in &mut d.groups {
        g.product_access = false;
    }
    d.billing.billable_users = 0;
    d.billing.groups_with_access = 0;
    d
}

/// The sequential reference: run 2, the two toggles, and run 3 (over the
/// tenant changed by `change_for_run_three` when `changed`), one after the
/// other without faults. Computed once per scenario kind.
fn reference(changed: bool) -> &'static Reference {
    static UNCHANGED: OnceLock<Reference> = OnceLock::new();
    static CHANGED: OnceLock<Reference> = OnceLock::new();
    let cell = if changed { &CHANGED } else { &UNCHANGED };
    cell.get_or_init(|| {
        let w = after_run_one(false);
        w.start().expect("run 2 starts");
        w.settle();
        let after_run_two = without_access(directory(&w));
        w.set_access("ops", true).expect("grant ops");
        w.set_access("eng", false).expect("revoke eng");
        if changed {
            change_for_run_three(&w);
        }
        w.start().expect("run 3 starts");
        w.settle();
        Reference {
            after_run_two,
            last: directory(&w),
            emails: idempotency_keys(&w.mailer),
        }
    })
}

/// What the sequential runs give.
struct Reference {
    /// The directory after run 2, without product access.
    after_run_two: Directory,
    /// The directory at the end.
    last: Directory,
    /// The idempotency keys of the welcome emails handed over.
    emails: BTreeSet<String>,
}

fn idempotency_keys(mailer: &RecordingMailer) -> BTreeSet<String> {
    mailer
        .sent
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|m| m.idempotency_key.clone())
        .collect()
}

/// Spawns the tasks and waits for them.
/// One concurrent invocation (or a few in a row, as one client makes them).
type Task = Box<dyn Fn(&World) + Send + Sync>;

fn concurrently(w: &Arc<World>, tasks: Vec<Task>) {
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let w = Arc::clone(w);
            shuttle::thread::spawn(move || task(&w))
        })
        .collect();
    for h in handles {
        // A task that panicked is a failed schedule.
        h.join().expect("task");
    }
}

/// Advances a few times, stopping when the invocation dies.
fn worker(w: &World) {
    for _ in 0..6 {
        match w.advance() {
            Ok(AdvanceOutcome::Idle) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// What the concurrent requests answered.
#[derive(Default)]
struct Answers {
    /// Run ids of the Sync presses that were confirmed.
    started: Mutex<Vec<u64>>,
    /// Product-access toggles that answered 200.
    toggled: Mutex<BTreeSet<&'static str>>,
}

impl Answers {
    fn start(&self, w: &World) {
        if let Ok(c) = w.start() {
            lock(&self.started).push(c.run_id);
        }
    }

    fn toggle(&self, w: &World, group: &'static str, on: bool) {
        if w.set_access(group, on).is_ok() {
            lock(&self.toggled).insert(group);
        }
    }

    /// Repeats, without faults, a toggle whose request failed (as the
    /// admin would).
    fn repeat_failed_toggles(&self, w: &World) {
        let done = lock(&self.toggled).clone();
        for (group, on) in [("ops", true), ("eng", false)] {
            if !done.contains(group) {
                w.set_access(group, on).expect("toggle again");
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run 2 from two Sync presses, a tick, two workers and two admins toggling
/// product access of two groups, one of them also writing the settings.
fn run_two_concurrently(w: &Arc<World>) -> Arc<Answers> {
    let answers: Arc<Answers> = Arc::default();
    let (a, b, c, d) = (
        Arc::clone(&answers),
        Arc::clone(&answers),
        Arc::clone(&answers),
        Arc::clone(&answers),
    );
    w.store.faults.store(true, Ordering::SeqCst);
    concurrently(
        w,
        vec![
            Box::new(move |w| {
                a.start(w);
                worker(w);
            }),
            Box::new(move |w| {
                b.start(w);
                worker(w);
            }),
            Box::new(|w| {
                for _ in 0..4 {
                    if w.tick().is_err() {
                        return;
                    }
                }
            }),
            Box::new(move |w| {
                worker(w);
                c.toggle(w, "ops", true);
            }),
            Box::new(move |w| {
                d.toggle(w, "eng", false);
                let _ = block(w.engine().set_auto_sync(ORG, &w.dir, true));
            }),
        ],
    );
    answers
}

/// Run 2 wherever the concurrent phase left it: started (or started now, if
/// every press died before writing) and settled.
fn finish_run_two(w: &World) {
    w.settle();
    if !w.finished(2) {
        w.start().expect("run 2 starts");
        w.settle();
    }
}

fn check_one_run_per_start(w: &World, started: &[u64]) {
    let ids: Vec<u64> = w.history().iter().map(|r| r.run_id).collect();
    let expected: Vec<u64> = (1..=ids.len() as u64).rev().collect();
    assert_eq!(ids, expected, "each run once in the history, no id skipped");
    for id in started {
        assert!(ids.contains(id), "a confirmed run {id} never ran: {ids:?}");
    }
}

fn check_emails(w: &World, expected: &BTreeSet<String>) {
    assert_eq!(
        &idempotency_keys(&w.mailer),
        expected,
        "one welcome email per new account"
    );
}

/// Run 2 raced by presses, ticks, workers and toggles; then run 3, alone,
/// over the same tenant. A grant that answered 200 is never lost: run 3's
/// finalize reads the grant records, whatever the copy in the state says.
fn scenario_run_two() {
    let expected = reference(false);
    let w = Arc::new(after_run_one(true));
    let before = without_access(directory(&w));
    let answers = run_two_concurrently(&w);
    w.store.faults.store(false, Ordering::SeqCst);
    // Whatever the interleaving, the directory is run 1's or run 2's whole
    // result, never a part of it (nothing removed before finalize, and
    // finalize's result appears at once).
    let now = without_access(directory(&w));
    if now != before {
        assert_same(&now, &expected.after_run_two);
    }
    finish_run_two(&w);
    answers.repeat_failed_toggles(&w);
    w.start().expect("run 3 starts");
    w.settle();
    check_one_run_per_start(&w, &lock(&answers.started));
    assert_same(&directory(&w), &expected.last);
    check_emails(&w, &expected.emails);
}

/// Run 2's workers race run 3: a worker paused in run 2 (say, mid-finalize)
/// resumes after run 3 completed, and must not undo it.
fn scenario_late_worker() {
    let expected = reference(true);
    let w = Arc::new(after_run_one(true));
    w.start().expect("run 2 starts");
    w.set_access("ops", true).expect("grant ops");
    w.set_access("eng", false).expect("revoke eng");
    w.store.faults.store(true, Ordering::SeqCst);
    concurrently(
        &w,
        vec![
            Box::new(worker),
            Box::new(worker),
            Box::new(|w| {
                // Run 3 as soon as run 2 is over.
                for _ in 0..8 {
                    if w.finished(2) {
                        change_for_run_three(w);
                        if w.start().is_ok() {
                            worker(w);
                        }
                        return;
                    }
                    let _ = w.advance();
                }
            }),
        ],
    );
    finish_run_two(&w);
    if !w.finished(3) {
        change_for_run_three(&w);
        w.start().expect("run 3 starts");
        w.settle();
    }
    check_one_run_per_start(&w, &[]);
    assert_same(&directory(&w), &expected.last);
    check_emails(&w, &expected.emails);
}

fn schedules() -> usize {
    std::env::var("IDP_SYNC_SCHEDULES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// Runs `scenario` under `scheduler` for one seed, printing the seed when
/// it fails.
fn explore<S: Scheduler + 'static>(
    name: &str,
    scenario: fn(),
    changed: bool,
    make: impl Fn(u64) -> S,
) {
    reference(changed);
    let seeds = match std::env::var("IDP_SYNC_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(seed) => seed..seed + 1,
        None => 0..schedules() as u64,
    };
    for seed in seeds {
        let scheduler = make(seed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            IN_SHUTTLE.set(true);
            shuttle::Runner::new(scheduler, config()).run(scenario);
        }));
        IN_SHUTTLE.set(false);
        if let Err(panic) = outcome {
            eprintln!("{name}: failed with seed {seed}");
            std::panic::resume_unwind(panic);
        }
    }
}

/// Shuttle's tasks are coroutines with their own stacks: the engine's
/// (unoptimized, in tests) futures need more than the default 32 KiB.
fn config() -> shuttle::Config {
    let mut config = shuttle::Config::new();
    config.stack_size = 4 << 20;
    config
}

fn random(seed: u64) -> RandomScheduler {
    RandomScheduler::new_from_seed(seed, 1)
}

/// PCT with three priority change points: finds the bugs that need a task
/// to stop at one precise operation while the others run far ahead.
fn pct(seed: u64) -> PctScheduler {
    PctScheduler::new_from_seed(seed, 3, 1)
}

#[test]
fn racing_presses_ticks_workers_and_toggles_end_like_one_sequential_run_random() {
    explore("run two, random scheduler", scenario_run_two, false, random);
}

#[test]
fn racing_presses_ticks_workers_and_toggles_end_like_one_sequential_run_pct() {
    explore("run two, PCT scheduler", scenario_run_two, false, pct);
}

#[test]
fn a_late_worker_of_run_two_never_undoes_run_three_random() {
    explore(
        "late worker, random scheduler",
        scenario_late_worker,
        true,
        random,
    );
}

#[test]
fn a_late_worker_of_run_two_never_undoes_run_three_pct() {
    explore(
        "late worker, PCT scheduler",
        scenario_late_worker,
        true,
        pct,
    );
}
