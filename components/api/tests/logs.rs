//! The log a sync leaves, captured through the components' own JSON
//! subscriber: every line is a JSON object with a level and a message, the
//! run's lines name the org, the directory and the run, Graph's errors
//! carry Graph's `request-id`, and no secret or token appears anywhere.

mod common;

use common::{Harness, OPERATOR, all_users_settings};
use entra_sim::{DEMO_CLIENT_SECRET, Faults};
use serde_json::Value;

/// Whether `text` holds an access token of the simulator:
/// `sim.{32 hex digits}.{16 hex digits}`.
fn holds_access_token(text: &str) -> bool {
    text.match_indices("sim.").any(|(at, _)| {
        let rest = &text[at + 4..];
        let hex = |s: &str| s.chars().all(|c| c.is_ascii_hexdigit());
        rest.len() >= 49 && hex(&rest[..32]) && &rest[32..33] == "." && hex(&rest[33..49])
    })
}

#[test]
fn a_sync_logs_json_lines_with_its_org_and_run_and_no_secret() {
    let capture = logging::Capture::default();
    let (admin_token, dir) =
        tracing::subscriber::with_default(logging::subscriber(capture.clone()), || {
            let h = Harness::new();
            // Every second Graph request fails once: Graph's error responses
            // are logged with their request-id.
            h.sim.sim().set_faults(Faults {
                server_error_every: 2,
                ..Faults::default()
            });
            let (admin_token, dir, base) = h.acme_with_demo();
            h.save_settings(&base, &admin_token, all_users_settings(true));
            h.sync_until_idle("acme", &dir, &admin_token);
            (admin_token, dir)
        });

    let lines = capture.lines();
    assert!(!lines.is_empty(), "the sync logged nothing");
    let secrets = [DEMO_CLIENT_SECRET, OPERATOR, admin_token.as_str()];
    let mut run_lines = 0;
    let mut graph_errors = 0;
    for line in &lines {
        let json: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(json["level"].is_string(), "{line}");
        assert!(json["message"].is_string(), "{line}");
        for secret in secrets {
            assert!(!line.contains(secret), "a secret is logged: {line}");
        }
        assert!(
            !holds_access_token(line),
            "an access token is logged: {line}"
        );
        if json["run_id"].is_u64() {
            run_lines += 1;
            assert_eq!(json["org"], "acme", "{line}");
            assert_eq!(json["directory"], dir.as_str(), "{line}");
        }
        if json["status"].as_u64().is_some_and(|s| s >= 500) {
            graph_errors += 1;
            assert!(json["request_id"].is_string(), "{line}");
        }
    }
    assert!(run_lines > 0, "no line names the run: {lines:#?}");
    assert!(graph_errors > 0, "no Graph error logged: {lines:#?}");
}

#[test]
fn an_error_answer_from_the_server_side_is_logged_with_its_status_and_code() {
    let capture = logging::Capture::default();
    tracing::subscriber::with_default(logging::subscriber(capture.clone()), || {
        let h = Harness::new();
        let (admin_token, _, base) = h.acme_with_demo();
        h.save_settings(&base, &admin_token, all_users_settings(false));
        // Graph fails every request: the Sync press cannot even plan.
        h.sim.sim().set_faults(Faults {
            server_error_every: 1,
            ..Faults::default()
        });
        let press = h.call(
            http::Method::POST,
            &format!("{base}/sync"),
            Some(&admin_token),
            None,
        );
        assert!(press.status.is_server_error(), "{}", press.body);
    });
    let failed: Vec<Value> = capture
        .lines()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|json| json["message"] == "request failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["level"], "WARN");
    assert!(
        failed[0]["response_status"]
            .as_u64()
            .is_some_and(|s| s >= 500)
    );
    assert!(failed[0]["code"].is_string());
}

#[test]
fn the_access_token_check_recognises_the_simulators_tokens() {
    let token = format!(
        "sim.{}.{}",
        "0123456789abcdef".repeat(2),
        "fedcba9876543210"
    );
    assert!(holds_access_token(&format!("Bearer {token}")));
    assert!(!holds_access_token("entra-sim.listening"));
}
