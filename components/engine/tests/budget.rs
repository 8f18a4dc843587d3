//! Budgets: a run split over many short invocations ends exactly like one
//! long invocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
mod common;
use common::*;
use engine::ports::TimeDelta;
use engine::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn ten_thousand() -> Env {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 10_000, "contoso.com"));
    env.tenant
        .put_group_with("big", "Sales", ids("u", 0..9_000))
        .put_group_with("nested", "Sales EMEA", ids("u", 8_000..10_000))
        .nest("big", "nested");
    env.save_groups(&["big"], true, false);
    env
}

/// The directory's stored documents (records, memberships, outbox, state)
/// and the run's counts: everything but the run's own bookkeeping.
fn outcome(env: &Env) -> (Vec<(String, Vec<u8>)>, RunResult, RunCounts) {
    let docs = env
        .store
        .snapshot()
        .into_iter()
        .filter(|(k, _)| {
            ["/users/", "/groups/", "/members/", "/outbox/"]
                .iter()
                .any(|p| k.contains(p))
                || k.ends_with("/state")
        })
        .collect();
    let summary = env.last_summary();
    (docs, summary.result, summary.counts)
}

#[test]
fn one_page_per_invocation_completes_a_10000_user_group_identically() {
    let single = ten_thousand();
    single.start().unwrap();
    assert!(matches!(
        single.advance(Budget::default()).unwrap(),
        AdvanceOutcome::Finished { .. }
    ));

    let chunked = ten_thousand();
    chunked.start().unwrap();
    let one_page = Budget {
        max_millis: 20_000,
        max_pages: Some(1),
    };
    let mut invocations = 0;
    loop {
        invocations += 1;
        match chunked.advance(one_page).unwrap() {
            AdvanceOutcome::Finished { .. } => break,
            AdvanceOutcome::Progressed {
                waiting_until: None,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
    }
    // 10 pages of `big`, 3 of `nested` at 999 per page, then finalize.
    assert!(invocations >= 13, "{invocations}");
    let (chunked_docs, chunked_result, mut chunked_counts) = outcome(&chunked);
    let (single_docs, single_result, mut single_counts) = outcome(&single);
    assert_eq!(chunked_docs, single_docs);
    assert_eq!(chunked_result, single_result);
    assert_eq!(single_counts.users_created, 10_000);
    assert_eq!(single_counts.emails_sent, 10_000);
    // Only the page count differs: the chunked run read one page per call.
    chunked_counts.pages = 0;
    single_counts.pages = 0;
    assert_eq!(chunked_counts, single_counts);
    assert_eq!(chunked.members("big").len(), 10_000);
}

#[test]
fn a_spent_time_budget_saves_the_cursor_and_returns() {
    let env = ten_thousand();
    env.start().unwrap();
    // A zero budget does no page at all, and the run is still there.
    let out = env
        .advance(Budget {
            max_millis: 0,
            max_pages: None,
        })
        .unwrap();
    assert!(
        matches!(
            out,
            AdvanceOutcome::Progressed {
                phase: Phase::Domains,
                ..
            }
        ),
        "{out:?}"
    );
    let status = block(env.engine().sync_status(ORG, &env.dir)).unwrap();
    assert_eq!(status.current.unwrap().counts.pages, 0);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
}

#[test]
fn one_page_per_invocation_gives_the_same_all_users_sync() {
    let build = || {
        let env = Env::new();
        env.tenant.domain("contoso.com", true).set_page_size(3);
        env.tenant.put_users(people("u", 20, "contoso.com"));
        for g in 0..4 {
            let id = format!("g{g}");
            env.tenant
                .put_group(&id, &id)
                .add_users_to(&id, (g * 5..g * 5 + 7).map(|i| format!("u{:05}", i % 20)));
        }
        env.tenant.nest("g0", "g1").nest("g1", "g2");
        env.save_all_users(true);
        env
    };
    let single = build();
    single.sync();
    let chunked = build();
    chunked.start().unwrap();
    let mut invocations = 0;
    loop {
        invocations += 1;
        let budget = Budget {
            max_millis: 20_000,
            max_pages: Some(1),
        };
        if matches!(
            chunked.advance(budget).unwrap(),
            AdvanceOutcome::Finished { .. }
        ) {
            break;
        }
    }
    assert_eq!(
        invocations, 9,
        "2 pages of groups and 7 of users, one per call"
    );
    let (a, _, _) = outcome(&single);
    let (b, _, _) = outcome(&chunked);
    assert_eq!(a, b);
    assert_eq!(chunked.members("g0").len(), 17);
}

#[test]
fn finalize_waits_for_a_fresh_invocation_when_reading_used_half_the_budget() {
    let env = ten_thousand();
    env.start().unwrap();
    // 13 member pages at 1 s each: 13 s of a 20 s budget are gone when the
    // last page is in, too late to start rewriting the directory.
    let slow = HookedTenant {
        tenant: &env.tenant,
        hook: || env.clock.advance(ms(1_000)),
    };
    let engine = env.engine();
    let advance =
        || block(engine.advance(ORG, &env.dir, &slow, &env.mailer, Budget::default())).unwrap();
    let first = advance();
    assert!(
        matches!(
            first,
            AdvanceOutcome::Progressed {
                phase: Phase::Finalize,
                ..
            }
        ),
        "{first:?}"
    );
    let before = block(engine.group_members(ORG, "big", None, 10));
    assert!(
        before.map_or(true, |l| l.items.is_empty()),
        "nothing is written before finalize"
    );
    assert!(matches!(advance(), AdvanceOutcome::Finished { .. }));
    assert_eq!(env.members("big").len(), 10_000);
}

#[test]
fn finalize_spans_invocations_each_within_the_budget_and_ends_like_one_invocation() {
    let build = || {
        let mut env = Env::new();
        // Buckets of a few hundred users: finalize takes many slices.
        env.config.pass_bytes = 32 << 10;
        env.tenant.domain("contoso.com", true);
        env.tenant.put_users(people("u", 5_000, "contoso.com"));
        env.tenant
            .put_group("g", "G")
            .add_users_to("g", (0..3_000).map(|i| format!("u{i:05}")));
        env.save_all_users(true);
        env
    };
    let single = build();
    assert_eq!(single.sync(), RunResult::Completed);

    let sliced = build();
    sliced.start().unwrap();
    // Every read and write takes 50 ms, like a remote key-value store.
    let delay = ms(50);
    let slow = HookedStore {
        store: &sliced.store,
        hook: |_, _: &str| sliced.clock.advance(delay),
    };
    let engine = Engine::new(&slow, &sliced.clock).with_config(sliced.config);
    let budget = Budget {
        max_millis: 2_000,
        max_pages: None,
    };
    let (mut finalizing, mut longest) = (0, TimeDelta::zero());
    loop {
        let phase = block(sliced.engine().sync_status(ORG, &sliced.dir))
            .unwrap()
            .current
            .map(|r| r.phase);
        let began = sliced.clock_now();
        let out = block(engine.advance(ORG, &sliced.dir, &sliced.tenant, &sliced.mailer, budget));
        let took = sliced.clock_now() - began;
        if phase == Some(Phase::Finalize) {
            finalizing += 1;
            longest = longest.max(took);
        }
        if matches!(out.unwrap(), AdvanceOutcome::Finished { .. }) {
            break;
        }
    }
    assert!(finalizing >= 3, "finalize took {finalizing} invocations");
    // The budget runs from when the invocation holds the run: finding and
    // leasing it take a few store operations before.
    let leasing = delay * 6;
    assert!(
        longest <= budget.wall_time() + leasing,
        "a finalize invocation took {longest}"
    );
    // Accounts are dated when finalize began, which the slow store moved.
    let undated = |env: &Env| {
        let mut users = env.users();
        users.iter_mut().for_each(|u| u.created_at = T0);
        users
    };
    assert_eq!(undated(&sliced), undated(&single));
    assert_eq!(sliced.members("g"), single.members("g"));
    let (_, result, mut counts) = outcome(&sliced);
    let (_, single_result, mut single_counts) = outcome(&single);
    assert_eq!(result, single_result);
    (counts.pages, single_counts.pages) = (0, 0);
    assert_eq!(counts, single_counts);
    assert_eq!(sliced.mailer.addresses().len(), 5_000);
}
