//! The run rules, each as a user would state it: start and stop, the
//! preview, failures and throttling, automatic syncing and ticks, status and
//! history, incremental (delta) runs.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::ports::SourceError;
use engine::testing::{only_domains, user};

#[test]
fn sync_confirms_the_groups_and_domains_and_the_changes_since_the_last_sync() {
    let env = Env::new();
    nested_tenant(&env);
    env.tenant.put_group("sales", "Sales");
    env.save_groups(&["eng", "missing-group"], false, false);
    let c = env.start().unwrap();
    assert_eq!(
        c.preview
            .groups
            .iter()
            .map(|g| g.display_name.clone())
            .collect::<Vec<_>>(),
        [Some("Engineering".into()), None]
    );
    let to_sync: Vec<&str> = c
        .preview
        .domains
        .iter()
        .filter(|d| d.will_sync)
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(to_sync, ["contoso.com"]);
    assert!(
        c.preview
            .warnings
            .iter()
            .any(|w| w.contains("missing-group"))
    );
    assert!(c.notice.contains("cannot be stopped"));
    env.run_to_end(Budget::default());

    env.save_groups(&["sales"], false, false);
    let preview = block(env.engine().preview(ORG, &env.dir, &env.tenant)).unwrap();
    // The confirmation names the groups: from the tenant for the added one,
    // from the stored records for the removed one.
    let named = |refs: &[GroupRef]| -> Vec<(String, Option<String>)> {
        refs.iter()
            .map(|g| (g.id.clone(), g.display_name.clone()))
            .collect()
    };
    assert_eq!(
        named(&preview.changes.groups_added),
        [("sales".to_owned(), Some("Sales".to_owned()))]
    );
    assert_eq!(
        named(&preview.changes.groups_removed),
        [("eng".to_owned(), Some("Engineering".to_owned()))]
    );
    assert!(preview.changes.domains_removed.is_empty());
}

#[test]
fn a_running_sync_cannot_be_started_again_or_stopped() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    let run = env.start().unwrap().run_id;
    let again = env.start().unwrap_err();
    assert!(
        matches!(again, EngineError::Conflict(ConflictReason::RunInProgress { run_id }) if run_id == run)
    );
    let stop = block(env.engine().stop_sync(ORG, &env.dir)).unwrap_err();
    assert!(matches!(
        stop,
        EngineError::Conflict(ConflictReason::CannotStop)
    ));
    assert!(stop.to_string().contains("cannot be stopped"));
    env.run_to_end(Budget::default());
    assert!(env.start().is_ok(), "once finished, a new sync can start");
}

#[test]
fn a_run_that_fails_removes_nothing() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    let before = env.users();
    env.set_access("ops", true).unwrap();
    env.tenant.remove_user_from("eng", "a00000");
    env.save_groups(&["ops"], false, false);
    env.clock.advance(HOUR);
    env.start().unwrap();
    env.tenant.fail_next([SourceError::Unauthorized {
        code: "invalid_client".into(),
        message: "secret expired".into(),
    }]);
    let result = env.run_to_end(Budget::default());
    assert!(matches!(&result, RunResult::Failed { error } if error.contains("secret expired")));
    assert_eq!(env.users(), before, "nothing removed or changed");
    assert!(env.group("eng").synced);
    assert!(env.group("ops").product_access);
    let summary = env.last_summary();
    assert!(
        summary
            .log
            .iter()
            .any(|e| e.level == LogLevel::Error && e.message.contains("secret expired"))
    );
}

#[test]
fn throttling_makes_the_run_wait_and_resume() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    env.tenant.fail_next([SourceError::Throttled {
        retry_after_secs: 30,
    }]);
    let outcome = env.advance(Budget::default()).unwrap();
    let AdvanceOutcome::Progressed {
        waiting_until: Some(until),
        ..
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(until, T0 + ms(30_000));
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert_eq!(status.current.unwrap().waiting_until, Some(until));
    // Too early: nothing happens.
    assert!(matches!(
        env.advance(Budget::default()).unwrap(),
        AdvanceOutcome::Progressed {
            waiting_until: Some(_),
            ..
        }
    ));
    env.clock.set(until);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 5);
}

#[test]
fn automatic_syncing_starts_a_run_4_hours_after_the_last_one_started() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    let tick = || {
        block(
            env.engine()
                .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
        )
        .unwrap()
    };
    assert_eq!(
        tick(),
        TickOutcome::Nothing {
            next_scheduled_at: None
        },
        "automatic syncing is off"
    );
    env.sync();
    let started = T0;
    env.clock.set(started + HOUR * 4 - ms(1));
    assert_eq!(
        tick(),
        TickOutcome::Nothing {
            next_scheduled_at: Some(started + HOUR * 4)
        }
    );
    env.clock.set(started + HOUR * 4);
    let TickOutcome::Started { run_id, advance } = tick() else {
        panic!("no run started")
    };
    assert_eq!(run_id, 2);
    assert!(matches!(advance, AdvanceOutcome::Finished { .. }));
    assert_eq!(env.last_summary().trigger, Trigger::Scheduled);

    block(env.engine().set_auto_sync(ORG, &env.dir, false)).unwrap();
    env.clock.set(started + HOUR * 9);
    assert_eq!(
        tick(),
        TickOutcome::Nothing {
            next_scheduled_at: None
        }
    );
}

#[test]
fn ticks_advance_a_run_in_progress_and_only_one_invocation_works_at_a_time() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    let store2 = &env.store;
    // Another invocation holds the lease: simulate by advancing with a
    // second engine while the first is mid-run is not possible in one
    // thread, so take the lease through a one-page advance and crash it.
    env.store.fail_write_at(1);
    assert!(
        env.advance(Budget::default()).is_err(),
        "the invocation died after taking the lease"
    );
    let busy = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .unwrap();
    assert!(
        matches!(busy, TickOutcome::Advanced(AdvanceOutcome::Busy { .. })),
        "{busy:?}"
    );
    env.clock.advance(ms(60_001));
    let done = block(Engine::new(store2, &env.clock).tick(
        ORG,
        &env.dir,
        &env.tenant,
        &env.mailer,
        Budget::default(),
    ))
    .unwrap();
    assert!(
        matches!(done, TickOutcome::Advanced(AdvanceOutcome::Finished { .. })),
        "{done:?}"
    );
}

#[test]
fn status_shows_the_run_in_progress_and_the_history() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.start().unwrap();
    env.advance(Budget {
        max_millis: 20_000,
        max_pages: Some(1),
    })
    .unwrap();
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    let current = status.current.unwrap();
    assert_eq!(
        (current.run_id, current.trigger, current.started_at),
        (1, Trigger::Manual, T0)
    );
    assert_eq!(current.counts.pages, 1);
    assert_eq!(status.next_scheduled_at, Some(T0 + HOUR * 4));
    env.run_to_end(Budget::default());
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert!(status.current.is_none());
    let last = status.last.unwrap();
    assert_eq!(last.result, RunResult::Completed);
    assert_eq!(last.counts.users_created, 5);
}

#[test]
fn all_users_scope_syncs_everyone_and_later_runs_read_only_changes() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_all_users(false);
    env.sync();
    assert_eq!(
        env.synced_user_ids().len(),
        6,
        "a0-a5; b* are on an unverified domain"
    );
    assert_eq!(
        env.members("eng"),
        ["a00000", "a00001", "a00002", "a00003", "a00004"]
    );

    // Unchanged tenant: a handful of requests and no shard writes.
    let requests = env.tenant.requests();
    env.store.reset_stats();
    env.clock.advance(HOUR);
    env.sync();
    assert!(
        env.tenant.requests() - requests <= 3,
        "{}",
        env.tenant.requests() - requests
    );
    assert!(
        env.store
            .written_keys()
            .iter()
            .all(|k| !k.contains("/users/") && !k.contains("/members/"))
    );
    let unchanged = env.last_summary();
    assert!(unchanged.log[0].message.contains("incremental"));
    let c = &unchanged.counts;
    assert_eq!(
        (
            c.users_unchanged,
            c.users_created,
            c.groups_synced,
            c.skipped_unverified_domain
        ),
        (6, 0, 2, 2)
    );
    // (The start reads the new run's key once more before writing it, to
    // refuse a second press that started it meanwhile.)
    assert!(
        env.store.stats().reads <= 30,
        "the directory is not even read: {:?}",
        env.store.stats()
    );

    // Changes are picked up from the delta.
    env.tenant
        .put_user(user("a00099", "new@contoso.com"))
        .add_user_to("ops", "a00099");
    env.tenant.remove_user("a00001");
    env.clock.advance(HOUR);
    env.sync();
    assert!(env.members("eng").contains(&"a00099".to_string()));
    assert!(!env.user("a00001").synced);
    assert_eq!(env.last_summary().counts.users_created, 1);
}

#[test]
fn an_expired_delta_token_falls_back_to_a_full_run() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_all_users(false);
    env.sync();
    env.tenant.put_user(user("a00099", "new@contoso.com"));
    env.clock.advance(HOUR);
    env.start().unwrap();
    env.tenant.fail_next([SourceError::TokenExpired]);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    let summary = env.last_summary();
    assert!(summary.log.iter().any(|e| e.message.contains("full run")));
    assert!(env.user("a00099").synced);
    assert_eq!(env.synced_user_ids().len(), 7);
}

#[test]
fn the_scheduler_ticks_every_directory_from_the_index() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env.sync();
    let e = env.engine();
    let second = block(e.connect_directory(
        ORG,
        NewDirectory {
            name: "Second".into(),
            tenant_id: "tenant-2".into(),
            client_id: "client-2".into(),
            sealed_secret: vec![1],
        },
    ))
    .unwrap();
    assert_eq!(block(e.directory_index()).unwrap().len(), 2);
    env.clock.advance(HOUR * 4);
    let reports = block(e.tick_all(
        |d: &Directory| {
            if d.id == second.id {
                Err("cannot decrypt the secret")
            } else {
                Ok(&env.tenant)
            }
        },
        &env.mailer,
        Budget::default(),
    ))
    .unwrap();
    assert_eq!(reports.len(), 2);
    let outcome = |dir: &str| {
        reports
            .iter()
            .find(|r| r.dir.as_str() == dir)
            .unwrap()
            .outcome
            .clone()
    };
    let first = outcome(&env.dir);
    assert!(
        matches!(first, Ok(TickOutcome::Started { run_id: 2, .. })),
        "{first:?}"
    );
    assert_eq!(
        outcome(second.id.as_str()),
        Err("cannot decrypt the secret".to_string())
    );

    // A minute later the other directory goes first.
    env.clock.advance(ms(60_000));
    let next = block(e.tick_all(
        |_: &Directory| Ok::<_, String>(&env.tenant),
        &env.mailer,
        Budget::default(),
    ))
    .unwrap();
    assert_ne!(next[0].dir, reports[0].dir);
}

#[test]
fn incremental_runs_follow_renames_moves_and_settings_changes() {
    let env = Env::new();
    nested_tenant(&env);
    env.tenant.domain("northwind.com", true);
    env.tenant
        .put_user(user("n00000", "nina@northwind.com"))
        .add_user_to("ops", "n00000");
    env.save(SettingsInput {
        domains: only_domains(&["contoso.com"]),
        ..unguarded(UserScope::AllUsersAndGroups)
    });
    env.sync();
    assert!(env.find_user("n00000").is_none(), "never synced");
    assert!(env.user("a00003").groups.contains(&"eng".to_string()));

    // Changes in the tenant, read through the delta.
    env.tenant.put_group("ops", "Operations EMEA");
    env.tenant.unnest("eng", "ops");
    env.tenant.put_user(user("a00000", "a0@fabrikam.com"));
    env.clock.advance(HOUR);
    env.sync();
    assert!(env.last_summary().log[0].message.contains("incremental"));
    assert_eq!(env.group("ops").display_name, "Operations EMEA");
    assert!(env.group("eng").children.is_empty());
    assert_eq!(
        env.user("a00003").groups,
        ["ops"],
        "no longer reachable through eng"
    );
    assert!(!env.user("a00000").synced, "moved to an unverified domain");
    assert_eq!(env.members("eng"), ["a00001", "a00002"]);

    // A settings change makes the next run a full one, with the new domain.
    env.save_all_users(false);
    env.clock.advance(HOUR);
    env.sync();
    assert!(env.last_summary().log[0].message.contains("full"));
    assert!(env.user("n00000").synced);
}

#[test]
fn a_second_sync_pressed_while_the_first_reads_entra_is_refused_not_started_twice() {
    let env = Env::new();
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    // The second press comes and goes while the first waits for Entra
    // (the in-memory tenant and store answer at once: one poll ends it).
    let second = std::cell::OnceCell::new();
    let first_press = HookedTenant {
        tenant: &env.tenant,
        hook: || {
            second.get_or_init(|| {
                let engine = env.engine();
                let press = engine.start_sync(ORG, &env.dir, &env.tenant, Trigger::Manual);
                futures::FutureExt::now_or_never(press).expect("answered at once")
            });
        },
    };
    let first = block(
        env.engine()
            .start_sync(ORG, &env.dir, &first_press, Trigger::Manual),
    );
    let second = second.into_inner().unwrap();
    let run = second.expect("the second press started the run").run_id;
    assert!(
        matches!(first, Err(EngineError::Conflict(ConflictReason::RunInProgress { run_id })) if run_id == run),
        "{first:?}"
    );
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    let history = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert_eq!(history.last.unwrap().run_id, run);
}

/// The store with staging documents (chunks, finalize's segments) hidden
/// from the next `hidden` reads of them, or with `each_once` each hidden
/// at its first read, as a replica that has not caught up with another
/// invocation's writes answers (Akamai's store reads its own writes only
/// within one request).
struct LaggingStore<'a> {
    store: &'a engine::MemoryStore,
    hidden: std::cell::Cell<u32>,
    each_once: bool,
    /// The staging documents read so far.
    seen: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl<'a> LaggingStore<'a> {
    /// `store` with the next `hidden` reads of staging documents missing.
    fn new(store: &'a engine::MemoryStore, hidden: u32) -> Self {
        LaggingStore {
            store,
            hidden: std::cell::Cell::new(hidden),
            each_once: false,
            seen: std::cell::RefCell::default(),
        }
    }

    /// `store` with each staging document missing at its first read.
    fn each_late_once(store: &'a engine::MemoryStore) -> Self {
        LaggingStore {
            each_once: true,
            ..LaggingStore::new(store, 0)
        }
    }

    /// Whether this read of `key` misses.
    fn misses(&self, key: &str) -> bool {
        if !key.contains("/stage/") {
            return false;
        }
        let first = self.seen.borrow_mut().insert(key.to_owned());
        if self.each_once {
            return first;
        }
        let hidden = self.hidden.get();
        self.hidden.set(hidden.saturating_sub(1));
        hidden > 0
    }
}

impl engine::ports::Store for LaggingStore<'_> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, engine::ports::StoreError> {
        if self.misses(key) {
            return Ok(None);
        }
        self.store.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), engine::ports::StoreError> {
        self.store.set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), engine::ports::StoreError> {
        self.store.delete(key).await
    }
}

/// The nested tenant, `eng` synced, staged pages sealed into chunks and
/// read one page per invocation: finalize reads the chunks back from the
/// store.
fn staged_in_chunks() -> Env {
    let mut env = Env::new();
    env.config.seal_bytes = 300;
    nested_tenant(&env);
    env.save_groups(&["eng"], false, false);
    env
}

/// Advances `env`'s run over `store` once, one page per invocation.
fn advance_over(env: &Env, store: &LaggingStore<'_>) -> AdvanceOutcome {
    let engine = Engine::new(store, &env.clock).with_config(env.config);
    let budget = Budget {
        max_pages: Some(1),
        ..Budget::default()
    };
    block(engine.advance(ORG, &env.dir, &env.tenant, &env.mailer, budget)).expect("advance")
}

#[test]
fn a_staging_chunk_not_in_the_store_yet_makes_the_run_wait_and_read_it_again() {
    let reference = staged_in_chunks();
    assert_eq!(reference.sync(), RunResult::Completed);

    let env = staged_in_chunks();
    let store = LaggingStore::new(&env.store, 0);
    env.start().unwrap();
    // The pages are written, not read back: finalize's first read of a
    // chunk is the one that misses.
    store.hidden.set(1);
    let until = loop {
        match advance_over(&env, &store) {
            AdvanceOutcome::Progressed {
                waiting_until: Some(until),
                ..
            } => break until,
            AdvanceOutcome::Progressed { .. } => {}
            other => panic!("the run should wait for the chunk: {other:?}"),
        }
    };
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    let current = status.current.unwrap();
    assert!(
        current
            .last_error
            .is_some_and(|e| e.contains("not in the store yet")),
        "status says why it waits"
    );
    assert!(env.users().iter().all(|u| !u.synced), "nothing written yet");

    env.clock.set(until);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    // The same directory, its accounts created when finalize ran.
    let created_at_t0 = |mut users: Vec<UserView>| {
        users.iter_mut().for_each(|u| u.created_at = T0);
        users
    };
    assert_eq!(
        created_at_t0(env.users()),
        created_at_t0(reference.users()),
        "the same directory"
    );
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert_eq!(status.last.map(|l| l.result), Some(RunResult::Completed));
}

#[test]
fn a_staging_chunk_that_never_comes_fails_the_run_after_the_retry_window_removing_nothing() {
    let env = staged_in_chunks();
    assert_eq!(env.sync(), RunResult::Completed);
    let before = env.users();
    env.tenant.remove_user_from("eng", "a00000");
    env.clock.advance(HOUR);
    env.start().unwrap();
    let store = LaggingStore::new(&env.store, u32::MAX);
    let result = loop {
        match advance_over(&env, &store) {
            AdvanceOutcome::Finished { result, .. } => break result,
            AdvanceOutcome::Progressed {
                waiting_until: Some(until),
                ..
            } => env.clock.set(until),
            AdvanceOutcome::Progressed { .. } => {}
            other => panic!("{other:?}"),
        }
    };
    assert!(
        matches!(&result, RunResult::Failed { error } if error.contains("not in the store yet")),
        "{result:?}"
    );
    assert!(env.clock_now() >= T0 + HOUR + env.config.retry_window);
    assert_eq!(env.users(), before, "nothing removed or changed");
}

/// `env`'s run to its end over `store`, one page per invocation, the clock
/// moved to the end of every wait; how many waits there were.
fn run_over_late_store(env: &Env, store: &LaggingStore<'_>) -> (RunResult, u32) {
    let mut waits = 0;
    loop {
        match advance_over(env, store) {
            AdvanceOutcome::Finished { result, .. } => return (result, waits),
            AdvanceOutcome::Progressed {
                waiting_until: Some(until),
                ..
            } => {
                waits += 1;
                env.clock.set(until);
            }
            AdvanceOutcome::Progressed { .. } => {}
            other => panic!("{other:?}"),
        }
    }
}

/// A run of `make()`'s tenant, after `before` on it, over a store where
/// every staging document is late once: it waits at least `late` times and
/// ends with the directory the same run without the lag gives.
fn late_once_gives_the_same_directory(make: fn() -> Env, before: impl Fn(&Env), late: u32) {
    let reference = make();
    before(&reference);
    assert_eq!(reference.sync(), RunResult::Completed);
    let env = make();
    before(&env);
    let store = LaggingStore::each_late_once(&env.store);
    env.start().unwrap();
    let (result, waits) = run_over_late_store(&env, &store);
    assert_eq!(result, RunResult::Completed);
    assert!(waits >= late, "{waits} waits, {late} expected at least");
    let created_at_t0 = |mut users: Vec<UserView>| {
        users.iter_mut().for_each(|u| u.created_at = T0);
        users
    };
    assert_eq!(created_at_t0(env.users()), created_at_t0(reference.users()));
    for group in ["eng", "ops"] {
        assert_eq!(env.members(group), reference.members(group), "{group}");
    }
}

#[test]
fn every_staging_document_late_once_makes_the_run_wait_each_time_and_end_with_the_same_directory() {
    // Late: the staged chunks, then the users step's member segment.
    late_once_gives_the_same_directory(staged_in_chunks, |_| {}, 3);
}

/// 600 users in `eng` and 300 in `ops` (nested in it), `eng` synced; pages
/// of 100, finalize in several buckets, one slice an invocation, never
/// from a copy in memory: every finalize step reads what an earlier
/// invocation wrote.
fn finalized_in_buckets() -> Env {
    let mut env = Env::new();
    env.config.seal_bytes = 4 << 10;
    env.config.pass_bytes = 16 << 10;
    env.config.staging_copy_passes = 0;
    env.config.finalize_slices = Some(1);
    env.tenant.set_page_size(100);
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 900, "contoso.com"));
    env.tenant
        .put_group_with("eng", "Engineering", ids("u", 0..600))
        .put_group_with("ops", "Operations", ids("u", 600..900))
        .nest("eng", "ops");
    env.save_groups(&["eng"], false, false);
    env
}

#[test]
fn every_staging_document_late_once_in_a_finalize_of_several_buckets_ends_with_the_same_directory()
{
    // Late: chunks (partition), segments (count, users), member segments,
    // each read in a later invocation than the one that wrote it.
    late_once_gives_the_same_directory(finalized_in_buckets, |_| {}, 10);
}

#[test]
fn every_staging_document_late_once_in_a_delta_run_ends_with_the_same_directory() {
    // All users, synced once without lag; then 100 renamed (staged in
    // chunks), a user joining `ops` and one leaving `eng`, read through
    // the delta.
    let changed = |env: &Env| {
        env.save_all_users(false);
        assert_eq!(env.sync(), RunResult::Completed);
        env.clock.advance(HOUR);
        for i in 0..100 {
            env.tenant.put_user(user(
                &format!("u{i:05}"),
                &format!("renamed{i}@contoso.com"),
            ));
        }
        env.tenant.add_user_to("ops", "u00006");
        env.tenant.remove_user_from("eng", "u00007");
    };
    late_once_gives_the_same_directory(finalized_in_buckets, changed, 1);
}
