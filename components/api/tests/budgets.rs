//! Time budgets hold when Entra hangs: every outbound call's deadline is
//! what is left of the invocation's budget, so a request that talks to a
//! Graph (or token endpoint) that does not answer still answers within its
//! budget, with a clear 503, instead of after the HTTP client's own
//! timeout.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, OPERATOR, all_users_settings};
use entra_sim::{Faults, Preset};
use http::{Method, StatusCode};
use platform::config::names;
use serde_json::json;

/// The invocation budget of these tests.
const BUDGET: Duration = Duration::from_millis(1500);
/// What a request may take beyond its budget (its own store work, the
/// loopback, a busy CI machine).
const MARGIN: Duration = Duration::from_millis(1500);

#[test]
fn preview_sync_tenant_reads_and_ticks_answer_within_the_budget_when_graph_hangs() {
    let budget_ms = BUDGET.as_millis().to_string();
    let h = Harness::build(Preset::Demo, &[(names::INVOCATION_BUDGET_MS, &budget_ms)]);
    let (token, _, base) = h.acme_with_demo();
    h.save_settings(&base, &token, all_users_settings(false));

    // Entra answers nothing for longer than the budget and its margin.
    h.sim.sim().set_faults(Faults {
        latency_ms: 5_000,
        ..Faults::default()
    });
    let calls = [
        (Method::POST, format!("{base}/sync/preview"), token.as_str()),
        (Method::POST, format!("{base}/sync"), token.as_str()),
        (
            Method::GET,
            format!("{base}/tenant/domains"),
            token.as_str(),
        ),
        (Method::POST, "/api/v1/tick".to_owned(), OPERATOR),
    ];
    for (method, path, bearer) in calls {
        let started = Instant::now();
        let reply = h.call(method.clone(), &path, Some(bearer), None);
        let took = started.elapsed();
        assert!(
            took <= BUDGET + MARGIN,
            "{method} {path} took {took:?} (budget {BUDGET:?}): {}",
            reply.body
        );
        if path != "/api/v1/tick" {
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{method} {path}: {}",
                reply.body
            );
        }
    }
}

#[test]
fn a_slow_graph_spends_budgets_without_counting_as_failures() {
    let h = Harness::build(Preset::Demo, &[(names::INVOCATION_BUDGET_MS, "2000")]);
    let (token, dir, base) = h.acme_with_demo();
    let sales = h.tenant_group("acme", &dir, &token, "Sales");
    h.save_settings(
        &base,
        &token,
        json!({"domains": {"mode": "all"}, "scope": {"mode": "groups", "group_ids": [sales]},
               "send_email": false, "keep_previous_groups": false}),
    );
    // Each answer takes 400 ms, pages hold two members: a run spans many
    // invocations whose budget runs out mid-request.
    h.sim.sim().set_faults(Faults {
        latency_ms: 400,
        max_page_size: Some(2),
        ..Faults::default()
    });
    let started = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    for _ in 0..200 {
        let status = h.get(&format!("{base}/sync"), &token);
        let current = &status.body["current"];
        if current.is_null() {
            break;
        }
        assert_eq!(
            current["failed_attempts"], 0,
            "a slow Graph is no failure: {current}"
        );
        let tick = h.call(Method::POST, "/api/v1/tick", Some(OPERATOR), None);
        assert_eq!(tick.status, StatusCode::OK, "{}", tick.body);
    }
    let history = h.get(&format!("{base}/sync/history"), &token);
    let last = &history.body["items"][0];
    assert_eq!(last["result"], "completed", "{last}");
    assert!(!last["log"].to_string().contains("attempt"), "{last}");
}
