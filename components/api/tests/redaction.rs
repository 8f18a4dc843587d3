//! Error texts that come from outside are redacted of known secrets before
//! they are stored or shown: a token endpoint that quotes the request it
//! refuses never puts the client secret into an API answer, the run
//! history or the troubleshooting log.

mod common;

use common::Harness;
use entra_sim::Faults;
use http::{Method, StatusCode};
use serde_json::json;

/// A wrong secret, with characters that form-encoding changes.
const WRONG_SECRET: &str = "wrong secret+/= 7c1e9b";

#[test]
fn a_token_endpoint_echoing_the_request_never_leaks_the_client_secret() {
    let h = Harness::new();
    h.sim.sim().set_faults(Faults {
        echo_token_request: true,
        ..Faults::default()
    });
    let token = h.create_org("acme");
    let dir = h.connect_with_secret("acme", &token, WRONG_SECRET);
    let base = format!("/api/v1/orgs/acme/directories/{dir}");

    let leaks = |text: &str| {
        let encoded: String =
            url::form_urlencoded::byte_serialize(WRONG_SECRET.as_bytes()).collect();
        text.contains(WRONG_SECRET) || text.contains(&encoded) || text.contains("7c1e9b")
    };
    let preview = h.call(
        Method::POST,
        &format!("{base}/sync/preview"),
        Some(&token),
        None,
    );
    assert_eq!(preview.status, StatusCode::BAD_GATEWAY, "{}", preview.body);
    let message = preview.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("AADSTS7000215"),
        "Entra's reason stays: {message}"
    );
    assert!(message.contains("[redacted]"), "{message}");
    assert!(!leaks(message), "{message}");

    let sync = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    assert_eq!(sync.status, StatusCode::BAD_GATEWAY, "{}", sync.body);
    assert!(!leaks(&sync.body.to_string()), "{}", sync.body);
    let history = h.get(&format!("{base}/sync/history"), &token);
    let history = history.body.to_string();
    assert!(
        history.contains("AADSTS7000215"),
        "the refusal is recorded: {history}"
    );
    assert!(!leaks(&history), "{history}");
    for (key, value) in h.app.platform.store.snapshot() {
        assert!(
            !leaks(&String::from_utf8_lossy(&value)),
            "secret text in {key}"
        );
    }
}

#[test]
fn a_wrong_client_secret_is_replaced_and_the_next_sync_works() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_with_secret("acme", &token, WRONG_SECRET);
    let path = format!("/api/v1/orgs/acme/directories/{dir}");
    let refused = h.call(Method::POST, &format!("{path}/sync"), Some(&token), None);
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.body);

    // A new client id without its secret is refused, and changes nothing.
    let half = h.call(
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({"client_id": "11111111-2222-3333-4444-555555555555"})),
    );
    assert_eq!(
        half.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        half.body
    );
    assert_eq!(half.body["error"]["fields"][0]["field"], "client_secret");

    let fixed = h.call(
        Method::PATCH,
        &path,
        Some(&token),
        Some(json!({"client_secret": entra_sim::DEMO_CLIENT_SECRET, "name": "Contoso (fixed)"})),
    );
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.body);
    assert_eq!(fixed.body["directory"]["name"], "Contoso (fixed)");
    assert!(fixed.body["directory"].get("client_secret").is_none());
    let synced = h.call(Method::POST, &format!("{path}/sync"), Some(&token), None);
    assert_eq!(synced.status, StatusCode::ACCEPTED, "{}", synced.body);
}
