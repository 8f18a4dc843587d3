//! Safeguards: a run facing a Graph that fails without end waits a bounded
//! time, shows why while it waits, then fails with the error in the
//! history, and the next scheduled run starts normally; a page the store
//! cannot hold fails the run at once.
mod common;

use common::*;
use engine::ports::SourceError;
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
    env.save_groups(&["eng"], false, false);
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
    let window = EngineConfig::default().retry_window_ms;
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
        ended - started <= window + 1_000,
        "failed after {} s",
        (ended - started) / 1000
    );
    let summary = env.last_summary();
    assert_eq!(summary.result, RunResult::Failed { error });
    let status = block(env.engine().sync_status(ORG, &env.dir)).expect("status");
    assert!(status.current.is_none(), "the directory is not held");

    // Graph recovers: the next scheduled run starts and completes.
    env.tenant.clear_faults();
    env.clock.advance_ms(4 * HOUR);
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
    env.clock.advance_ms(HOUR + 1);
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
    env.clock.advance_ms(HOUR + 1);
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
