//! The page loop every listing of a run goes through (`read_listing_page`
//! in `sync/run.rs`): pages followed one at a time across invocations,
//! paging loops caught, and the full listing of a tenant without delta.
#[cfg(target_arch = "wasm32")]
use super::test;
use super::*;
use engine::ports::SourceError;
use engine::testing::BrokenPaging;

/// `eng` with five users, listed two to a page.
fn paged_group(env: &Env) {
    env.tenant.domain("contoso.com", true).set_page_size(2);
    env.tenant.put_users(people("a", 5, "contoso.com"));
    env.tenant.put_group("eng", "Engineering");
    env.tenant
        .add_users_to("eng", (0..5).map(|i| format!("a{i:05}")));
    env.save_groups(&["eng"], false, false);
}

/// An invocation's budget of one page.
fn one_page() -> Budget {
    Budget {
        max_pages: Some(1),
        ..Budget::default()
    }
}

/// Runs a sync of `eng` over a Graph that pages its members `broken`ly.
fn sync_over(env: &Env, broken: BrokenPaging) -> RunResult {
    env.tenant.break_member_paging(broken);
    env.sync()
}

#[test]
fn read_listing_page_reads_one_page_per_invocation_and_the_run_gets_every_page() {
    let env = Env::new();
    paged_group(&env);
    env.start().unwrap();
    let mut invocations = 0;
    while !matches!(
        env.advance(one_page()).unwrap(),
        AdvanceOutcome::Finished { .. }
    ) {
        invocations += 1;
        assert!(invocations < 10, "the run ends");
    }
    assert_eq!(invocations, 3, "five members two to a page: three pages");
    let summary = env.last_summary();
    assert_eq!(summary.result, RunResult::Completed);
    assert_eq!(summary.counts.pages, 3);
    assert_eq!(env.synced_user_ids().len(), 5);
    assert_eq!(env.members("eng").len(), 5);
}

#[test]
fn read_listing_page_fails_the_run_when_graph_sends_a_next_link_again() {
    let env = Env::new();
    paged_group(&env);
    let RunResult::Failed { error } = sync_over(&env, BrokenPaging::SameNextLink) else {
        panic!("the run fails");
    };
    assert!(error.contains("loop"), "{error}");
    assert!(
        error.contains("members of group Engineering (eng)"),
        "{error}"
    );
    assert!(env.synced_user_ids().is_empty(), "nothing counted twice");
}

#[test]
fn read_listing_page_fails_the_run_when_a_page_repeats_the_previous_one() {
    let env = Env::new();
    paged_group(&env);
    let RunResult::Failed { error } = sync_over(&env, BrokenPaging::SamePageAgain) else {
        panic!("the run fails");
    };
    assert!(error.contains("loop"), "{error}");
    assert!(env.synced_user_ids().is_empty(), "nothing counted twice");
}

#[test]
fn list_in_full_when_the_tenant_has_no_delta_queries() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true).set_page_size(2);
    env.tenant.put_users(people("a", 5, "contoso.com"));
    env.tenant.put_group("eng", "Engineering");
    env.tenant.add_users_to("eng", ["a00001".to_owned()]);
    env.save_all_users(false);
    env.start().unwrap();
    // The run's first listing is the groups delta.
    let refused = SourceError::DeltaUnavailable("not offered".into());
    env.tenant.fail_next([refused]);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.synced_user_ids().len(), 5);
    assert_eq!(env.members("eng"), ["a00001"]);
    let summary = env.last_summary();
    let said = |text: &str| summary.log.iter().any(|e| e.message.contains(text));
    assert!(said("delta queries are not available"));
}

#[test]
fn the_next_page_is_requested_before_the_page_before_it_is_saved() {
    let env = Env::new();
    paged_group(&env);
    env.start().unwrap();
    let events = std::cell::RefCell::new(Vec::new());
    let tenant = HookedTenant {
        tenant: &env.tenant,
        hook: || events.borrow_mut().push("request"),
    };
    let store = HookedStore {
        store: &env.store,
        hook: |op, key: &str| {
            if op == StoreOp::Set && key.contains("/run/") {
                events.borrow_mut().push("save");
            }
        },
    };
    let engine = Engine::new(&store, &env.clock).with_config(env.config);
    let out = block(engine.advance(ORG, &env.dir, &tenant, &env.mailer, Budget::default()));
    assert!(matches!(out.unwrap(), AdvanceOutcome::Finished { .. }));
    let events = events.into_inner();
    let requests = events.iter().filter(|e| **e == "request").count();
    assert_eq!(requests, 3, "three pages, each requested once: {events:?}");
    // The lease is saved first; then each page's request is in flight
    // while the page before it is saved, and the last page asks for none.
    assert_eq!(
        events[..7],
        [
            "save", "request", "request", "save", "request", "save", "save"
        ],
        "{events:?}"
    );
    assert_eq!(env.members("eng").len(), 5);
}

#[test]
fn an_invocation_requests_only_the_pages_it_reads() {
    let env = Env::new();
    paged_group(&env);
    env.tenant.set_page_size(1);
    env.start().unwrap();
    // Stopped by the page limit: one request per invocation.
    let before = env.tenant.requests();
    env.advance(one_page()).unwrap();
    assert_eq!(env.tenant.requests() - before, 1);
    // Stopped by time: each request takes 1 s of a 2.5 s budget, so the
    // invocation reads three of the four pages left and asks for no fourth.
    let slow = HookedTenant {
        tenant: &env.tenant,
        hook: || env.clock.advance(ms(1_000)),
    };
    let budget = Budget {
        max_millis: 2_500,
        max_pages: None,
    };
    let engine = env.engine();
    let out = block(engine.advance(ORG, &env.dir, &slow, &env.mailer, budget)).unwrap();
    assert!(
        matches!(
            out,
            AdvanceOutcome::Progressed {
                phase: Phase::Members,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(env.tenant.requests() - before, 4);
    // The last page moves the run to finalize, which asks Graph nothing.
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(
        env.tenant.requests() - before,
        5,
        "every page requested once"
    );
    assert_eq!(env.last_summary().counts.pages, 5);
}

#[test]
fn a_throttled_answer_to_the_page_sent_ahead_makes_the_run_wait_then_read_it_again() {
    let env = Env::new();
    paged_group(&env);
    env.start().unwrap();
    // The second request, page 2's, sent while page 1 is saved, is throttled.
    let sent = std::cell::Cell::new(0);
    let tenant = HookedTenant {
        tenant: &env.tenant,
        hook: || {
            sent.set(sent.get() + 1);
            if sent.get() == 2 {
                env.tenant.fail_next([SourceError::Throttled {
                    retry_after_secs: 30,
                }]);
            }
        },
    };
    let engine = env.engine();
    let out = block(engine.advance(ORG, &env.dir, &tenant, &env.mailer, Budget::default()));
    let AdvanceOutcome::Progressed {
        waiting_until: Some(until),
        ..
    } = out.unwrap()
    else {
        panic!("the run waits");
    };
    assert_eq!(until, T0 + ms(30_000));
    let status = block(engine.sync_status(ORG, &env.dir)).unwrap();
    assert_eq!(status.current.unwrap().counts.pages, 1, "page 1 is kept");
    env.clock.set(until);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(sent.get(), 2);
    assert_eq!(env.last_summary().counts.pages, 3);
    assert_eq!(env.members("eng").len(), 5);
}

/// One invocation of `env`'s run over a tenant whose pages are decoded
/// only when the engine asks, as the Graph client's are: its outcome, and
/// the requests and decodes in the order they happened.
fn advance_decoding_later(env: &Env, budget: Budget) -> (AdvanceOutcome, Vec<PageEvent>) {
    let events = std::rc::Rc::default();
    let tenant = DecodedLater {
        tenant: &env.tenant,
        events: std::rc::Rc::clone(&events),
    };
    let engine = env.engine();
    let out = block(engine.advance(ORG, &env.dir, &tenant, &env.mailer, budget)).unwrap();
    (out, events.take())
}

#[test]
fn the_next_page_is_requested_before_the_items_of_the_page_before_it_are_decoded() {
    use PageEvent::{Decode, Request};
    let env = Env::new();
    paged_group(&env);
    env.start().unwrap();
    let (out, events) = advance_decoding_later(&env, Budget::default());
    assert!(matches!(out, AdvanceOutcome::Finished { .. }), "{out:?}");
    // Three pages, each requested once, each as soon as the links of the
    // page before it arrived; the last page asks for none.
    assert_eq!(
        events,
        [Request, Request, Decode, Request, Decode, Decode],
        "{events:?}"
    );
    assert_eq!(env.members("eng").len(), 5);
}

#[test]
fn a_page_limit_stops_the_invocation_with_no_request_for_the_page_it_does_not_read() {
    use PageEvent::{Decode, Request};
    let env = Env::new();
    paged_group(&env);
    env.start().unwrap();
    let (_, events) = advance_decoding_later(&env, one_page());
    assert_eq!(events, [Request, Decode]);
    assert_eq!(env.run_to_end(Budget::default()), RunResult::Completed);
    assert_eq!(env.last_summary().counts.pages, 3);
}

#[test]
fn a_group_is_not_requested_past_the_page_that_takes_it_over_the_user_limit() {
    let env = Env::new();
    env.tenant.domain("contoso.com", true);
    env.tenant.put_users(people("u", 12_000, "contoso.com"));
    env.tenant
        .put_group_with("huge", "Everyone", ids("u", 0..12_000))
        .put_group_with("small", "Small", ids("u", 7..8));
    env.save_groups(&["huge", "small"], false, false);
    env.start().unwrap();
    let before = env.tenant.requests();
    let (out, _) = advance_decoding_later(&env, Budget::default());
    assert!(matches!(out, AdvanceOutcome::Finished { .. }), "{out:?}");
    // 999 members to a page: the 11th page takes `huge` past 10,000 users,
    // and its 12th and 13th are never asked for; then `small`'s one page.
    assert_eq!(env.tenant.requests() - before, 12);
    assert_eq!(env.last_summary().counts.groups_over_limit[0].id, "huge");
    assert_eq!(env.synced_user_ids(), ["u00007"]);
}

/// `env`'s run to its end, each invocation within `budget`, over a tenant
/// whose pages are decoded only when the engine asks: how many listing
/// pages were requested.
fn run_decoding_later(env: &Env, budget: Budget) -> usize {
    let mut requests = 0;
    loop {
        let (out, events) = advance_decoding_later(env, budget);
        requests += events.iter().filter(|e| **e == PageEvent::Request).count();
        if matches!(out, AdvanceOutcome::Finished { .. }) {
            return requests;
        }
    }
}

#[test]
fn every_page_of_a_first_sync_and_of_a_delta_round_is_requested_once_when_decoded_later() {
    let two_pages = Budget {
        max_pages: Some(2),
        ..Budget::default()
    };
    for budget in [Budget::default(), two_pages] {
        let env = Env::new();
        small_tenant(&env.tenant);
        env.tenant.nest("eng", "ops").add_user_to("ops", "a00004");
        env.save_all_users(false);
        for round in 0..2 {
            env.start().unwrap();
            let requests = run_decoding_later(&env, budget);
            let summary = env.last_summary();
            assert_eq!(summary.result, RunResult::Completed, "{budget:?} {round}");
            assert_eq!(requests as u64, summary.counts.pages, "{budget:?} {round}");
            env.clock.advance(HOUR);
            // The delta round pages too: six renamed, one joins `sales`.
            for i in 0..6 {
                let upn = format!("renamed{i}@contoso.com");
                env.tenant
                    .put_user(engine::testing::user(&format!("a{i:05}"), &upn));
            }
            env.tenant.add_user_to("sales", "a00006");
        }
        assert!(env.members("sales").contains(&"a00006".to_owned()));
        assert_eq!(
            env.user("a00005").user_principal_name,
            "renamed5@contoso.com"
        );
    }
}
