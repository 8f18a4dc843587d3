//! Throttling, token renewal, transient failures and error mapping, over
//! real loopback HTTP against the simulator's fault knobs.

mod common;

use std::time::{Duration, Instant};

use common::*;
use engine::ports::{Arrived, IdentitySource, PageToken, SourceError};
use entra_sim::{Faults, Preset, TenantBuilder};

#[test]
fn throttling_is_waited_out_and_no_request_comes_before_retry_after() {
    let faults = Faults {
        throttle_every: 2,
        retry_after_secs: 1,
        ..Faults::default()
    };
    let server = serve(Preset::Demo.build(), faults);
    let client = client(&server);
    let started = Instant::now();

    block_on(client.domains()).unwrap();
    let users = read_all(|page| block_on(client.users(page))).unwrap();
    block_on(client.groups(None)).unwrap();

    assert_eq!(users.len(), 40);
    let stats = server.sim().stats();
    assert!(
        stats.throttled >= 1,
        "the knob throttled something: {stats:?}"
    );
    assert_eq!(stats.early_requests, 0, "no request before Retry-After");
    assert_eq!(client.stats().retries, stats.throttled);
    assert!(started.elapsed() >= Duration::from_secs(stats.throttled));
}

/// Reads users from a simulator that throttles every request with a
/// `Retry-After` of 30 s (as seconds, or as an HTTP-date) under a 5 s
/// budget. Asserts the client neither slept nor retried, and returns what
/// it answered.
fn throttled_past_the_budget(retry_after_as_date: bool) -> Result<(), SourceError> {
    let faults = Faults {
        throttle_every: 1,
        retry_after_secs: 30,
        retry_after_as_date,
        ..Faults::default()
    };
    let server = serve(Preset::Demo.build(), faults);
    let client = client_with(graph::GraphConfig {
        time_budget: Some(Duration::from_secs(5)),
        ..config(&server)
    });
    let started = Instant::now();

    let result = block_on(client.users(None)).map(|_| ());

    assert!(started.elapsed() < Duration::from_secs(2), "did not sleep");
    assert_eq!(
        server.sim().stats().graph_requests,
        1,
        "did not retry early"
    );
    result
}

#[test]
fn a_retry_after_past_the_budget_returns_throttled_at_once() {
    assert_eq!(
        throttled_past_the_budget(false),
        Err(SourceError::Throttled {
            retry_after_secs: 30
        })
    );
}

#[test]
fn a_retry_after_given_as_an_http_date_is_waited_out_too() {
    let faults = Faults {
        throttle_every: 2,
        retry_after_secs: 1,
        retry_after_as_date: true,
        ..Faults::default()
    };
    let server = serve(Preset::Demo.build(), faults);
    let client = client(&server);

    block_on(client.domains()).unwrap();
    let users = read_all(|page| block_on(client.users(page))).unwrap();

    assert_eq!(users.len(), 40);
    let stats = server.sim().stats();
    assert!(
        stats.throttled >= 1,
        "the knob throttled something: {stats:?}"
    );
    assert_eq!(stats.early_requests, 0, "no request before the date");
    assert_eq!(client.stats().retries, stats.throttled);
}

#[test]
fn an_http_date_retry_after_past_the_budget_returns_throttled_at_once() {
    let result = throttled_past_the_budget(true);

    // The date is rounded up to the second: 30 or 31 s from now.
    let Err(SourceError::Throttled { retry_after_secs }) = result else {
        panic!("throttled: {result:?}");
    };
    assert!((29..=31).contains(&retry_after_secs), "{retry_after_secs}");
}

#[test]
fn a_revoked_token_is_renewed_once_and_the_read_goes_on() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let client = client(&server);
    block_on(client.domains()).unwrap();

    server.sim().revoke_tokens();
    let users = block_on(client.users(None))
        .and_then(Arrived::decode)
        .unwrap();

    assert_eq!(users.items.len(), 40);
    let stats = server.sim().stats();
    assert_eq!(stats.token_requests, 2, "renewed after the 401");
    assert_eq!(stats.of("users"), 2, "the refused request was sent again");
}

#[test]
fn a_short_lived_token_is_renewed_mid_run_before_graph_refuses_it() {
    let tenant = TenantBuilder::demo().sized_group("Big", 3_000).build();
    let faults = Faults {
        token_lifetime_secs: 1,
        latency_ms: 400,
        ..Faults::default()
    };
    let server = serve(tenant, faults);
    let group = group_id(&server, "Big");
    let client = client(&server);

    // Four pages at 400 ms each span more than one token lifetime.
    let members = members(&client, &group, false);

    assert_eq!(members.len(), 3_000);
    let stats = server.sim().stats();
    assert!(stats.token_requests >= 2, "renewed mid-run: {stats:?}");
    assert_eq!(
        stats.of("members"),
        4,
        "no page was refused for an expired token"
    );
}

#[test]
fn a_foreign_next_link_is_refused_and_never_fetched() {
    let foreign = serve(Preset::Demo.build(), Faults::default());
    let faults = Faults {
        next_link_base: Some(foreign.base_url().to_owned()),
        ..Faults::default()
    };
    let server = serve(TenantBuilder::demo().extra_users(1_000).build(), faults);
    let client = client(&server);

    let first = block_on(client.users(None));
    let forged = block_on(client.users(Some(&PageToken(format!(
        "{}/v1.0/users?$skiptoken=abc",
        foreign.base_url()
    )))));
    let other_scheme = block_on(client.users(Some(&PageToken(
        server.base_url().replace("http://", "https://") + "/v1.0/users",
    ))));

    assert!(
        matches!(first, Err(SourceError::ForeignLink(link)) if link.starts_with(foreign.base_url()))
    );
    assert!(matches!(forged, Err(SourceError::ForeignLink(_))));
    assert!(matches!(other_scheme, Err(SourceError::ForeignLink(_))));
    let stats = foreign.sim().stats();
    assert_eq!(
        stats.graph_requests + stats.token_requests,
        0,
        "nothing reached the foreign host"
    );
}

#[test]
fn transient_server_errors_are_retried_within_the_call() {
    let faults = Faults {
        server_error_every: 2,
        ..Faults::default()
    };
    let server = serve(Preset::Demo.build(), faults);
    let client = client(&server);

    let groups = block_on(client.groups(None))
        .and_then(Arrived::decode)
        .unwrap();
    let domains = block_on(client.domains()).unwrap();

    assert_eq!((groups.items.len(), domains.len()), (14, 4));
    assert_eq!(server.sim().stats().server_errors, 1);
    assert_eq!(client.stats().retries, 1);
}

#[test]
fn a_lasting_server_error_is_reported_with_its_code_and_request_id() {
    let faults = Faults {
        server_error_every: 1,
        ..Faults::default()
    };
    let server = serve(Preset::Demo.build(), faults);
    let client = client_with(graph::GraphConfig {
        time_budget: Some(Duration::from_secs(1)),
        ..config(&server)
    });

    let error = block_on(client.users(None)).unwrap_err();

    let SourceError::Graph {
        status,
        code,
        request_id,
        ..
    } = &error
    else {
        panic!("expected a Graph error, got {error:?}");
    };
    assert_eq!((*status, code.as_str()), (500, "generalException"));
    assert!(request_id.as_deref().is_some_and(|id| id.len() == 36));
    assert!(error.is_transient());
    let stats = server.sim().stats();
    assert!(
        (2..=5).contains(&stats.server_errors),
        "backed off within the budget: {stats:?}"
    );
}

#[test]
fn refused_credentials_map_to_unauthorized_with_the_entra_code() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let read_domains = |config: graph::GraphConfig| block_on(client_with(config).domains());

    let bad_secret = read_domains(graph::GraphConfig {
        client_secret: "wrong".into(),
        ..config(&server)
    });
    let bad_tenant = read_domains(graph::GraphConfig {
        tenant_id: "11111111-2222-4333-8444-555555555555".into(),
        ..config(&server)
    });
    let bad_client = read_domains(graph::GraphConfig {
        client_id: "not-registered".into(),
        ..config(&server)
    });

    let check = |result: Result<_, SourceError>, expected_code: &str, aadsts: &str| match result {
        Err(SourceError::Unauthorized { code, message }) => {
            assert_eq!(code, expected_code);
            assert!(message.starts_with(aadsts), "{message}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    };
    check(bad_secret, "invalid_client", "AADSTS7000215");
    check(bad_tenant, "invalid_request", "AADSTS90002");
    check(bad_client, "unauthorized_client", "AADSTS700016");
    assert_eq!(
        server.sim().stats().graph_requests,
        0,
        "no Graph call without a token"
    );
}

#[test]
fn an_expired_page_token_asks_for_a_fresh_listing() {
    let faults = Faults {
        page_token_ttl_secs: Some(0),
        ..Faults::default()
    };
    let server = serve(TenantBuilder::demo().extra_users(1_000).build(), faults);
    let client = client(&server);

    let first = block_on(client.users(None)).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let second = block_on(client.users(first.next.as_ref())).and_then(Arrived::decode);

    assert_eq!(second, Err(SourceError::TokenExpired));
}
