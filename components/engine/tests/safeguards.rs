//! Safeguards: a run facing a Graph that fails without end waits a bounded
//! time, shows why while it waits, then fails with the error in the
//! history, and the next scheduled run starts normally; a page the store
//! cannot hold fails the run at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
mod common;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::*;
use engine::ports::{NoticeEvent, SourceError};
use engine::settings::RemovalGuard;
use engine::testing::{groups, settings};
use engine::*;

fn graph_500() -> SourceError {
    SourceError::Graph {
        status: 500,
        code: "generalException".into(),
        message: "General error.".into(),
        request_id: Some("r-1".into()),
    }
}

/// Ten users in `eng`, group scope.
fn env() -> Env {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("a", 10, "contoso.com"));
    env.tenant.put_group("eng", "Engineering");
    for i in 0..10 {
        env.tenant.add_user_to("eng", &format!("a{i:05}"));
    }
    // The removal guard as it is by default (the shared helpers turn it off).
    env.save(settings(groups(&["eng"])));
    env
}

#[test]
fn a_graph_failing_without_end_fails_the_run_within_the_retry_window_and_says_why_meanwhile() {
    let env = env();
    let started = env.clock_now();
    env.start().expect("start");
    env.tenant.fail_next((0..10_000).map(|_| graph_500()));

    // The first attempt fails: the run waits, and status says why.
    let outcome = env.advance(Budget::default()).expect("advance");
    let AdvanceOutcome::Progressed {
        waiting_until: Some(until),
        ..
    } = outcome
    else {
        panic!("the run waits after a 500: {outcome:?}");
    };
    let status = block(env.engine().sync_status(ORG, &env.dir)).expect("status");
    let run = status.current.expect("a run in progress");
    assert_eq!(run.waiting_until, Some(until));
    assert_eq!(run.failed_attempts, 1);
    let last_error = run.last_error.expect("the last error is shown");
    assert!(last_error.contains("500"), "{last_error}");
    let window = EngineConfig::default().retry_window;
    assert_eq!(run.gives_up_at, Some(started + window));

    // Waiting out each retry, the run ends within the window.
    let result = env.run_to_end(Budget::default());
    let ended = env.clock_now();
    let RunResult::Failed { error } = result else {
        panic!("the run fails: {result:?}");
    };
    assert!(error.contains("gave up after"), "{error}");
    assert!(error.contains("500"), "{error}");
    assert!(
        ended - started <= window + ms(1_000),
        "failed after {} s",
        (ended - started).num_seconds()
    );
    let summary = env.last_summary();
    assert_eq!(summary.result, RunResult::Failed { error });
    // The admins are told, once, with a key a webhook can deduplicate on.
    let notices = env.mailer.notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].event, NoticeEvent::RunFailed);
    assert_eq!(
        notices[0].idempotency_key(),
        format!("run_failed/{ORG}/{}/1", env.dir)
    );
    let status = block(env.engine().sync_status(ORG, &env.dir)).expect("status");
    assert!(status.current.is_none(), "the directory is not held");

    // Graph recovers: the next scheduled run starts and completes.
    env.tenant.clear_faults();
    env.clock.advance(HOUR * 4);
    let tick = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .expect("tick");
    let TickOutcome::Started { run_id, advance } = tick else {
        panic!("the next scheduled run starts: {tick:?}");
    };
    if !matches!(advance, AdvanceOutcome::Finished { .. }) {
        env.run_to_end(Budget::default());
    }
    let summary = env.last_summary();
    assert_eq!(
        (summary.run_id, summary.result),
        (run_id, RunResult::Completed)
    );
}

#[test]
fn throttling_is_waited_out_without_counting_against_a_working_run() {
    let env = env();
    env.start().expect("start");
    // Two throttles, then Graph answers: the run completes.
    env.tenant.fail_next([
        SourceError::Throttled {
            retry_after_secs: 30,
        },
        SourceError::Throttled {
            retry_after_secs: 30,
        },
    ]);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    let summary = env.last_summary();
    assert!(
        summary
            .log
            .iter()
            .any(|e| e.message.contains("trying again in 30s")),
        "Retry-After is honoured: {:?}",
        summary.log
    );
}

#[test]
fn a_sync_entra_refuses_before_it_starts_is_in_the_history_manual_or_scheduled() {
    let env = env();
    let refused = || SourceError::Unauthorized {
        code: "invalid_client".into(),
        message: "AADSTS7000215: Invalid client secret provided.".into(),
    };
    env.tenant.fail_next([refused()]);
    let err = env.start().expect_err("Entra refused");
    assert!(matches!(err, EngineError::Source(_)), "{err}");
    let manual = env.last_summary();
    let RunResult::Failed { error } = &manual.result else {
        panic!("a failed run is recorded: {manual:?}");
    };
    assert!(
        error.contains("could not start") && error.contains("AADSTS7000215"),
        "{error}"
    );
    assert_eq!(manual.trigger, Trigger::Manual);

    // Automatic syncing on: the scheduled attempt refused the same way is
    // recorded too, and the next one comes an hour later, not in 4 hours.
    block(env.engine().set_auto_sync(ORG, &env.dir, true)).expect("auto sync on");
    env.clock.advance(HOUR + ms(1));
    env.tenant.fail_next([refused()]);
    let tick = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    );
    assert!(tick.is_err(), "{tick:?}");
    let scheduled = env.last_summary();
    assert_eq!(scheduled.trigger, Trigger::Scheduled);
    assert_eq!(scheduled.run_id, manual.run_id + 1);
    let status = block(env.engine().sync_status(ORG, &env.dir)).expect("status");
    assert!(status.current.is_none());
    assert_eq!(
        status.next_scheduled_at,
        Some(scheduled.started_at + HOUR),
        "retried an hour later"
    );
    // Entra is back: the next attempt runs.
    env.clock.advance(HOUR + ms(1));
    let tick = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .expect("tick");
    assert!(matches!(tick, TickOutcome::Started { .. }), "{tick:?}");
}

#[test]
fn a_page_larger_than_the_store_can_hold_fails_the_run_at_once() {
    let env = env();
    // A user whose fields alone exceed the store's 1 MiB value limit.
    let mut huge = engine::testing::user("a00000", "a0@contoso.com");
    huge.display_name = Some("x".repeat(1_200_000));
    env.tenant.put_user(huge);
    env.start().expect("start");
    let result = env.run_to_end(Budget::default());
    let RunResult::Failed { error } = result else {
        panic!("the run fails: {result:?}");
    };
    assert!(error.contains("exceeds"), "{error}");
    let summary = env.last_summary();
    assert!(matches!(summary.result, RunResult::Failed { .. }));
    assert!(env.synced_user_ids().is_empty(), "nothing was synced");
}

/// Run 1 syncs `eng` (ten users) and grants it product access; then six
/// of its users leave the group (60 % of the synced users).
fn six_leave() -> Env {
    let env = env();
    assert_eq!(env.sync(), RunResult::Completed);
    env.set_access("eng", true).expect("grant");
    for i in 0..6 {
        env.tenant.remove_user_from("eng", &format!("a{i:05}"));
    }
    env.clock.advance(HOUR);
    env
}

fn status(env: &Env) -> SyncStatus {
    block(env.engine().sync_status(ORG, &env.dir)).expect("status")
}

#[test]
fn the_removal_guard_holds_a_run_that_would_unsync_too_many_until_an_admin_confirms() {
    let env = six_leave();
    env.start().expect("start");
    env.advance(Budget::default()).expect("advance");
    let run = status(&env).current.expect("the run is held, not finished");
    assert_eq!(run.phase, Phase::AwaitingConfirmation);
    let pending = run.pending_removals.expect("what would be removed");
    assert_eq!(
        (
            pending.users_leaving,
            pending.users_synced_before,
            pending.users_allowed
        ),
        (6, 10, 2)
    );
    assert_eq!(
        pending.sample.len(),
        5,
        "a sample of names: {:?}",
        pending.sample
    );
    // The admins are told once; nothing removed yet; further invocations
    // do nothing.
    let awaiting = |env: &Env| {
        env.mailer
            .notices
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n.event == NoticeEvent::AwaitingConfirmation)
            .count()
    };
    assert_eq!(awaiting(&env), 1);
    assert_eq!(env.synced_user_ids().len(), 10);
    assert_eq!(env.billing().billable_users, 10);
    let again = env.advance(Budget::default()).expect("advance");
    assert!(matches!(
        again,
        AdvanceOutcome::Progressed {
            phase: Phase::AwaitingConfirmation,
            ..
        }
    ));
    // An automatic run does not start meanwhile.
    block(env.engine().set_auto_sync(ORG, &env.dir, true)).expect("auto sync");
    env.clock.advance(HOUR * 5);
    let tick = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .expect("tick");
    assert!(matches!(tick, TickOutcome::Advanced(_)), "{tick:?}");
    assert_eq!(status(&env).current.map(|r| r.run_id), Some(2));
    assert_eq!(awaiting(&env), 1, "told once, not at every tick");

    block(env.engine().confirm_removals(ORG, &env.dir)).expect("confirm");
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 4);
    assert_eq!(env.billing().billable_users, 4);
    assert_eq!(env.last_summary().counts.users_left_scope, 6);
}

#[test]
fn rejected_removals_end_the_run_removing_nothing_and_the_next_run_asks_again() {
    let env = six_leave();
    env.start().expect("start");
    env.advance(Budget::default()).expect("advance");
    block(env.engine().reject_removals(ORG, &env.dir)).expect("reject");
    let summary = env.last_summary();
    let RunResult::Rejected { reason } = &summary.result else {
        panic!("the history says rejected: {summary:?}");
    };
    assert!(reason.contains("6 users"), "{reason}");
    assert!(status(&env).current.is_none());
    assert_eq!(env.synced_user_ids().len(), 10, "nothing removed");
    assert_eq!(env.billing().billable_users, 10);
    assert!(
        env.store.snapshot().keys().all(|k| !k.ends_with(".2")),
        "the held run's documents are gone"
    );
    let refused = block(env.engine().confirm_removals(ORG, &env.dir));
    assert!(matches!(
        refused,
        Err(EngineError::Conflict(ConflictReason::NothingToConfirm))
    ));

    // The next run decides again: held again.
    env.start().expect("start");
    env.advance(Budget::default()).expect("advance");
    assert_eq!(
        status(&env).current.map(|r| r.phase),
        Some(Phase::AwaitingConfirmation)
    );
}

#[test]
fn with_the_guard_off_or_under_its_threshold_removals_go_through() {
    let env = six_leave();
    env.save(unguarded(groups(&["eng"])));
    assert_eq!(env.sync(), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 4);

    // Guard on, threshold 50 %: one more leaves (1 of 4) without asking.
    env.save(SettingsInput {
        removal_guard: RemovalGuard {
            enabled: true,
            max_users: 500,
            max_percent: 50,
        },
        ..settings(groups(&["eng"]))
    });
    env.tenant.remove_user_from("eng", "a00006");
    env.clock.advance(HOUR);
    assert_eq!(env.sync(), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 3);
}

#[test]
fn three_refusals_of_the_credentials_quarantine_automatic_syncing_until_a_sync_succeeds() {
    let env = env();
    block(env.engine().set_auto_sync(ORG, &env.dir, true)).expect("auto sync on");
    let refused = || SourceError::Unauthorized {
        code: "invalid_client".into(),
        message: "AADSTS7000222: The provided client secret keys are expired.".into(),
    };
    for attempt in 1..=3 {
        env.tenant.fail_next([refused()]);
        assert!(env.start().is_err(), "attempt {attempt} is refused");
        assert_eq!(
            status(&env).quarantine.is_some(),
            attempt == 3,
            "quarantined after the third refusal in a row, not before"
        );
        env.clock.advance(ms(60_000));
    }
    let quarantine = status(&env).quarantine.expect("quarantined");
    assert!(
        quarantine.reason.contains("AADSTS7000222"),
        "{quarantine:?}"
    );
    assert!(quarantine.advice.contains("secret"), "{quarantine:?}");
    assert_eq!(status(&env).next_scheduled_at, Some(quarantine.until));

    // Two hours on: the hourly retry after a refusal would be due, but the
    // quarantine holds automatic runs back (4 hours).
    env.clock.advance(HOUR * 2);
    let tick = block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .expect("tick");
    assert_eq!(
        tick,
        TickOutcome::Nothing {
            next_scheduled_at: Some(quarantine.until)
        }
    );
    // That tick told the admins, once.
    let quarantined = |env: &Env| {
        env.mailer
            .notices
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n.event == NoticeEvent::Quarantined)
            .count()
    };
    assert_eq!(quarantined(&env), 1);
    block(
        env.engine()
            .tick(ORG, &env.dir, &env.tenant, &env.mailer, Budget::default()),
    )
    .expect("tick");
    assert_eq!(quarantined(&env), 1);
    // The admin fixes the secret and presses Sync: it succeeds and lifts it.
    assert_eq!(env.sync(), RunResult::Completed);
    assert!(status(&env).quarantine.is_none());
}
