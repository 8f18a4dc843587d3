//! Two runs in one thread, their finalize slices alternating, each stamp
//! their own instant on the accounts and emails they create (the encoding
//! remembers the last instant it formatted: `codec::instant`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::*;
use engine::ports::{TimeDelta, Timestamp};
use engine::*;

fn env(at: Timestamp) -> Env {
    let mut env = Env::new();
    env.config.seal_bytes = 4 << 10;
    env.config.pass_bytes = 8 << 10;
    env.config.finalize_slices = Some(1);
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 600, "contoso.com"));
    env.save_all_users(true);
    env.clock.set(at);
    env
}

fn advance(env: &Env) -> Option<RunResult> {
    match env.advance(Budget::default()).expect("advance") {
        AdvanceOutcome::Finished { result, .. } => Some(result),
        AdvanceOutcome::Progressed {
            waiting_until: None,
            ..
        } => None,
        other => panic!("{other:?}"),
    }
}

#[test]
fn interleaved_runs_stamp_their_own_instants() {
    // Same second, different fractions (the clock keeps milliseconds); and
    // one a whole second.
    let a_at = T0 + TimeDelta::milliseconds(123);
    let b_at = T0 + TimeDelta::milliseconds(120);
    let c_at = T0 + HOUR;
    let envs = [env(a_at), env(b_at), env(c_at)];
    for env in &envs {
        env.start().expect("start");
    }
    let mut done = [None, None, None];
    let mut steps = 0;
    while done.iter().any(Option::is_none) {
        for (env, done) in envs.iter().zip(&mut done) {
            if done.is_none() {
                *done = advance(env);
                steps += 1;
            }
        }
    }
    assert!(steps > 12, "the runs' slices alternate: {steps}");
    for (env, at) in envs.iter().zip([a_at, b_at, c_at]) {
        assert_eq!(env.clock_now(), at, "the clock stood still");
        let users = env.users();
        assert_eq!(users.len(), 600);
        assert!(users.iter().all(|u| u.created_at == at), "{at}");
        let emails = env.emails();
        assert_eq!(emails.len(), 600);
        assert!(emails.iter().all(|e| e.queued_at == at), "{at}");
    }
}
