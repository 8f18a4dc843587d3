//! Crash and resume: the store fails at every write index of a run in
//! turn (finalize in one invocation, and finalize a slice per invocation,
//! crossing its steps and invocations); after resuming, the directory is
//! the same as after a clean run, each new account got one email (a
//! repeated hand-over carries the same idempotency key), and nothing was
//! removed before finalize.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
mod common;
use common::*;
use engine::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Two domains (one unverified), ten users, three groups with `eng` holding
/// three users; pages of two, staged pages sealed after every page or two.
fn small_tenant() -> Env {
    let mut env = Env::new();
    // Seal staged pages into chunk keys after every page or two.
    env.config.seal_bytes = 300;
    common::small_tenant(&env.tenant);
    env
}

/// Run 1 syncs `eng` (nested `ops`) and `sales`; `sales` gets product
/// access. Then the tenant and settings change so that run 2 creates users
/// (with emails), updates one, takes users out of scope and drops `sales`.
fn prepare() -> Env {
    let env = small_tenant();
    for u in ["a00003", "a00004", "b00000"] {
        env.tenant.add_user_to("ops", u);
    }
    env.tenant.add_user_to("sales", "a00005");
    env.tenant.nest("eng", "ops");
    env.save_groups(&["eng", "sales"], true, false);
    assert_eq!(env.sync(), RunResult::Completed);
    env.set_access("sales", true).unwrap();
    env.set_access("eng", true).unwrap();

    for u in ["a00006", "a00007", "a00008"] {
        env.tenant.add_user_to("ops", u);
    }
    env.tenant.remove_user_from("eng", "a00001");
    let mut renamed = engine::testing::user("a00002", "a2@contoso.com");
    renamed.display_name = Some("Renamed".into());
    env.tenant.put_user(renamed);
    env.save_groups(&["eng"], true, false);
    env.clock.advance(HOUR);
    env.mailer.sent.lock().unwrap().clear();
    env
}

/// Run 1 in all-users scope, with emails; then `sales` and `eng` get
/// product access, an hour passes and the mailer forgets run 1's emails.
fn run_one_in_all_users_scope(env: &Env) {
    env.save_all_users(true);
    assert_eq!(env.sync(), RunResult::Completed);
    env.set_access("sales", true).unwrap();
    env.set_access("eng", true).unwrap();
    env.clock.advance(HOUR);
    env.mailer.sent.lock().unwrap().clear();
}

/// The same tenant in all-users scope after run 1.
fn all_users_after_one_run() -> Env {
    let env = small_tenant();
    env.tenant
        .add_user_to("ops", "a00003")
        .add_user_to("sales", "a00005")
        .nest("eng", "ops");
    run_one_in_all_users_scope(&env);
    env
}

/// Run 2 is incremental (delta) over an unchanged tenant.
fn prepare_unchanged() -> Env {
    all_users_after_one_run()
}

/// Run 2 is incremental (delta), and `sales` is deleted from the tenant, so
/// it loses its access.
fn prepare_all_users() -> Env {
    let env = all_users_after_one_run();
    env.tenant.remove_group("sales");
    env.tenant.remove_user("a00001");
    for (id, upn) in [
        ("a00010", "new10@contoso.com"),
        ("a00011", "new11@contoso.com"),
    ] {
        env.tenant
            .put_user(engine::testing::user(id, upn))
            .add_user_to("ops", id);
    }
    env
}

/// Run 2 is a delta run that takes finalize's short path (no nesting
/// changed, no group deleted or new, no user skipped: every user on the
/// verified domain): a user joins `ops` (nested in `eng`), one leaves it,
/// one is renamed, one leaves the tenant.
fn prepare_short_path() -> Env {
    let mut env = Env::new();
    env.config.seal_bytes = 300;
    env.tenant.domain("contoso.com", true).set_page_size(2);
    env.tenant.put_users(people("a", 9, "contoso.com"));
    for (g, name) in [("eng", "Engineering"), ("ops", "Ops"), ("sales", "Sales")] {
        env.tenant.put_group(g, name);
    }
    env.tenant.add_users_to("eng", ids("a", 0..3));
    env.tenant.add_users_to("ops", ids("a", 3..6));
    env.tenant.add_user_to("sales", "a00006").nest("eng", "ops");
    run_one_in_all_users_scope(&env);
    let mut renamed = engine::testing::user("a00002", "a2@contoso.com");
    renamed.display_name = Some("Renamed".into());
    env.tenant.put_user(renamed).remove_user("a00007");
    env.tenant.remove_user_from("ops", "a00004");
    let new = engine::testing::user("a00010", "new10@contoso.com");
    env.tenant.put_user(new).add_user_to("ops", "a00010");
    env
}

/// The directory as a user sees it, timestamps left out.
fn observe(env: &Env) -> String {
    let mut users = env.users();
    for u in &mut users {
        u.created_at = engine::ports::Timestamp::UNIX_EPOCH;
    }
    let groups: Vec<GroupView> = ["eng", "ops", "sales"]
        .iter()
        .map(|g| env.group(g))
        .collect();
    let members: Vec<Vec<String>> = ["eng", "ops"].iter().map(|g| env.members(g)).collect();
    // In id order: listed, they follow the outbox's documents.
    let mut emails = env.emails();
    emails.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    for e in &mut emails {
        e.queued_at = engine::ports::Timestamp::UNIX_EPOCH;
        e.sent_at = None;
    }
    let domains: Vec<String> = block(env.engine().claimed_domains(ORG))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    let summary = env.last_summary();
    format!(
        "{users:?}\n{groups:?}\n{members:?}\n{emails:?}\n{:?}\n{domains:?}\n{:?}\n{:?}",
        env.billing(),
        summary.result,
        summary.counts
    )
}

/// Nothing that only finalize may remove is gone.
fn nothing_removed(env: &Env) -> bool {
    env.user("a00001").synced && env.group("sales").product_access && env.group("sales").synced
}

fn resume(env: &Env) {
    match env.start() {
        Ok(_) | Err(EngineError::Conflict(ConflictReason::RunInProgress { .. })) => {}
        Err(e) => panic!("start after the crash: {e}"),
    }
    // The crashed invocation's lease must expire first.
    env.clock.advance(ms(61_000));
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
}

/// Fails the store at every write of run 2 in turn, resumes, and compares
/// with a clean run 2; a run that creates accounts spans invocations when
/// finalize does a slice per invocation.
fn crash_everywhere(prepare: fn() -> Env, expected_new_accounts: usize) {
    let runs = crash_everywhere_in_every_config(prepare, expected_new_accounts);
    if expected_new_accounts > 0 {
        assert!(
            runs[2].1 > runs[1].1 + 10,
            "finalize spans invocations: {} vs {}",
            runs[2].1,
            runs[1].1
        );
    }
}

/// [`crash_everywhere`] without the invocation check: each configuration's
/// directory (the same) and the invocations of its clean run 2.
fn crash_everywhere_in_every_config(
    prepare: fn() -> Env,
    expected_new_accounts: usize,
) -> Vec<(String, u32)> {
    // Finalize rebuilding collections whole; in tiny buckets (64); and in
    // four buckets, one slice per invocation (crossing finalize's steps
    // and invocations): the same directory every way.
    let configs = [
        (EngineConfig::default().pass_bytes, None),
        (256, None),
        (128 << 10, Some(1)),
    ];
    let runs: Vec<(String, u32)> = configs
        .into_iter()
        .map(|(pass_bytes, finalize_slices)| {
            let prepare = || {
                let mut env = prepare();
                env.config.pass_bytes = pass_bytes;
                env.config.finalize_slices = finalize_slices;
                env
            };
            crash_everywhere_with(prepare, expected_new_accounts)
        })
        .collect();
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].0, runs[2].0);
    runs
}

/// Advances the run until an invocation fails (`true`) or the run ends.
fn advance_until_failure(env: &Env) -> bool {
    for _ in 0..10_000 {
        match env.advance(Budget::default()) {
            Err(_) => return true,
            Ok(AdvanceOutcome::Finished { .. } | AdvanceOutcome::Idle) => return false,
            Ok(_) => {}
        }
    }
    false
}

/// Syncs to the end; returns the invocations it took.
fn sync_counting_invocations(env: &Env) -> u32 {
    env.start().expect("start");
    let mut invocations = 1;
    while !matches!(
        env.advance(Budget::default()).expect("advance"),
        AdvanceOutcome::Finished { .. }
    ) {
        invocations += 1;
    }
    invocations
}

/// Returns the directory after the clean run and its invocations.
fn crash_everywhere_with(prepare: impl Fn() -> Env, expected_new_accounts: usize) -> (String, u32) {
    let clean = prepare();
    clean.store.reset_stats();
    let invocations = sync_counting_invocations(&clean);
    assert_eq!(clean.last_summary().result, RunResult::Completed);
    let writes = clean.store.stats().writes;
    let expected = observe(&clean);
    let expected_mail = clean.mailer.delivered();
    assert_eq!(expected_mail.len(), expected_new_accounts);
    assert!(writes > 5);
    let sealed = clean
        .store
        .written_keys()
        .iter()
        .filter(|k| k.contains("/stage/"))
        .count();
    assert!(
        sealed >= 2 || expected_new_accounts == 0,
        "staging chunks are part of what crashes ({sealed})"
    );

    for k in 0..writes {
        let env = prepare();
        env.store.fail_write_at(k);
        let crashed = match env.start() {
            Err(_) => true,
            Ok(_) => advance_until_failure(&env),
        };
        assert!(crashed, "write {k} did not fail the run");
        let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
        if let Some(run) = status.current
            && matches!(
                run.phase,
                Phase::Domains | Phase::Groups | Phase::Members | Phase::Users
            )
        {
            assert!(nothing_removed(&env), "write {k}: removed before finalize");
        }
        resume(&env);
        let got = observe(&env);
        let diff: Vec<(&str, &str)> = got
            .lines()
            .zip(expected.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert!(
            diff.is_empty(),
            "write {k}: different directory after resuming: {diff:#?}"
        );
        // A crash between handing an email over and recording it hands it
        // over again, with the same idempotency key: one email per account.
        assert_eq!(env.mailer.delivered(), expected_mail, "write {k}: emails");
    }
    (expected, invocations)
}

#[test]
fn a_crash_at_any_write_resumes_to_the_same_directory_without_duplicate_emails() {
    crash_everywhere(prepare, 3);
}

#[test]
fn a_crash_at_any_write_of_an_incremental_run_resumes_the_same_way() {
    crash_everywhere(prepare_all_users, 2);
}

#[test]
fn a_crash_at_any_write_of_an_unchanged_incremental_run_resumes_the_same_way() {
    crash_everywhere(prepare_unchanged, 0);
}

#[test]
fn a_crash_at_any_write_of_a_delta_run_on_the_short_path_resumes_the_same_way() {
    let runs = crash_everywhere_in_every_config(prepare_short_path, 1);
    assert_eq!(runs[2].1, runs[1].1, "the short path is one finalize slice");
}
