//! Settings round-trip with ETag / If-Match, validation, and automatic syncing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Harness;
use http::{Method, StatusCode};
use serde_json::json;

fn put_with_if_match(
    h: &Harness,
    path: &str,
    token: &str,
    etag: &str,
    body: serde_json::Value,
) -> common::Reply {
    h.send(
        http::Request::builder()
            .method(Method::PUT)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("if-match", etag)
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap(),
    )
}

#[test]
fn settings_round_trip_with_etags_and_stale_versions_are_412() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let path = format!("/api/v1/orgs/acme/directories/{dir}/settings");

    let initial = h.get(&path, &token);
    assert_eq!(initial.status, StatusCode::OK);
    let etag = initial.header("etag").expect("etag").to_owned();
    assert_eq!(
        initial.body["settings"],
        json!({"auto_sync": false, "domains": {"mode": "all"}, "scope": {"mode": "all_users_and_groups"},
               "send_email": false, "keep_previous_groups": false,
               "removal_guard": {"enabled": true, "max_users": 500, "max_percent": 20}})
    );

    let wanted = json!({"domains": {"mode": "only", "names": ["Contoso.com", "fabrikam.io"]},
                        "scope": {"mode": "all_users_and_groups"},
                        "send_email": true, "keep_previous_groups": true});
    let saved = put_with_if_match(&h, &path, &token, &etag, wanted.clone());
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let new_etag = saved.header("etag").expect("etag").to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(
        saved.body["settings"]["domains"]["names"],
        json!(["contoso.com", "fabrikam.io"])
    );
    assert_eq!(saved.body["settings"]["send_email"], true);
    // "Save and sync later" leaves automatic syncing off.
    assert_eq!(saved.body["settings"]["auto_sync"], false);

    let reread = h.get(&path, &token);
    assert_eq!(reread.body, saved.body);
    assert_eq!(reread.header("etag"), Some(new_etag.as_str()));

    let before = h.writes();
    let stale = put_with_if_match(
        &h,
        &path,
        &token,
        &etag,
        json!({"domains": {"mode": "all"},
        "scope": {"mode": "all_users_and_groups"}, "send_email": false, "keep_previous_groups": false}),
    );
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(stale.code(), "precondition_failed");
    let nonsense = put_with_if_match(&h, &path, &token, "\"abc\"", wanted.clone());
    assert_eq!(nonsense.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(h.writes(), before);
    assert_eq!(h.get(&path, &token).body, saved.body);

    // A list matches when any of its tags is current (RFC 9110 §13.1.1).
    let current = saved.header("etag").expect("etag").to_owned();
    let listed = put_with_if_match(
        &h,
        &path,
        &token,
        &format!("{etag}, {current}"),
        wanted.clone(),
    );
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let version = listed.body["version"].as_u64().expect("a version");
    let none_current = put_with_if_match(&h, &path, &token, "\"1\", \"abc\"", wanted.clone());
    assert_eq!(none_current.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        none_current.body["error"]["message"],
        format!("the resource changed since version 1 or abc; current version is {version}")
    );
    // A weak tag never matches, and an unquoted one is not an entity tag.
    let weak = put_with_if_match(
        &h,
        &path,
        &token,
        &format!("W/\"{version}\""),
        wanted.clone(),
    );
    assert_eq!(weak.status, StatusCode::PRECONDITION_FAILED);
    let unquoted = put_with_if_match(&h, &path, &token, &version.to_string(), wanted.clone());
    assert_eq!(
        unquoted.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unquoted.body
    );
    assert!(
        unquoted.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("quoted entity tags")),
        "{}",
        unquoted.body
    );
    let any = put_with_if_match(&h, &path, &token, "*", wanted.clone());
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);

    // Without If-Match the write is unconditional.
    let forced = h.put(&path, &token, json!({"domains": {"mode": "all"},
        "scope": {"mode": "all_users_and_groups"}, "send_email": false, "keep_previous_groups": false}));
    assert_eq!(forced.status, StatusCode::OK);
}

#[test]
fn invalid_settings_are_422_per_field_and_change_nothing() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let path = format!("/api/v1/orgs/acme/directories/{dir}/settings");
    let before_body = h.get(&path, &token).body;
    let before = h.writes();

    let reply = h.put(
        &path,
        &token,
        json!({
            "domains": {"mode": "only", "names": ["contoso.com", "not a domain"]},
            "scope": {"mode": "groups", "group_ids": []},
            "send_email": "yes",
            "keep_previous_groups": false,
            "colour": "blue"
        }),
    );
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let fields: Vec<&str> = reply.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for expected in [
        "colour",
        "domains.names[1]",
        "scope.group_ids",
        "send_email",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert_eq!(h.writes(), before);
    assert_eq!(h.get(&path, &token).body, before_body);
}

#[test]
fn the_auto_sync_switch_turns_automatic_syncing_on_and_off() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let path = format!("/api/v1/orgs/acme/directories/{dir}/auto-sync");
    let on = h.put(&path, &token, json!({"enabled": true}));
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.body["settings"]["auto_sync"], true);
    let off = h.put(&path, &token, json!({"enabled": false}));
    assert_eq!(off.body["settings"]["auto_sync"], false);
    let bad = h.put(&path, &token, json!({"enabled": 1}));
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[test]
fn directories_list_and_read_without_their_secret() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let list = h.get("/api/v1/orgs/acme/directories", &token);
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"][0]["id"], dir.as_str());
    assert_eq!(
        list.body["items"][0]["tenant_id"],
        entra_sim::DEMO_TENANT_ID
    );
    let one = h.get(&format!("/api/v1/orgs/acme/directories/{dir}"), &token);
    assert_eq!(one.body["directory"]["name"], "Contoso Entra");
    for reply in [&list, &one] {
        let text = String::from_utf8_lossy(&reply.raw);
        assert!(!text.contains(entra_sim::DEMO_CLIENT_SECRET));
        assert!(!text.contains("secret"), "{text}");
    }
    let missing = h.get("/api/v1/orgs/acme/directories/d99", &token);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The same tenant twice is a conflict.
    let again = h.post(
        "/api/v1/orgs/acme/directories",
        &token,
        json!({
        "name": "Again", "tenant_id": entra_sim::DEMO_TENANT_ID,
        "client_id": entra_sim::DEMO_CLIENT_ID, "client_secret": "x"}),
    );
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_exists");
}

#[test]
fn the_tenant_is_read_live_for_the_pickers() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let domains = h.get(
        &format!("/api/v1/orgs/acme/directories/{dir}/tenant/domains"),
        &token,
    );
    assert_eq!(domains.status, StatusCode::OK, "{}", domains.body);
    let litware = domains.body["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "LitWare.org")
        .expect("the unverified domain is listed");
    assert_eq!(litware["is_verified"], false);

    let groups = h.get(
        &format!("/api/v1/orgs/acme/directories/{dir}/tenant/groups?search=ENGIN"),
        &token,
    );
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.body);
    let names: Vec<&str> = groups.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Engineering"]);

    // A cursor is handed back to Graph only if it points at the Graph host.
    use base64::Engine as _;
    let foreign =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("https://evil.example/v1.0/groups");
    let refused = h.get(
        &format!("/api/v1/orgs/acme/directories/{dir}/tenant/groups?cursor={foreign}"),
        &token,
    );
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.body);
    let garbage = h.get(
        &format!("/api/v1/orgs/acme/directories/{dir}/tenant/groups?cursor=%%%"),
        &token,
    );
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

#[test]
fn refused_tenant_credentials_are_502_with_the_reason() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let reply = h.post(
        "/api/v1/orgs/acme/directories",
        &token,
        json!({
        "name": "Wrong secret", "tenant_id": entra_sim::DEMO_TENANT_ID,
        "client_id": entra_sim::DEMO_CLIENT_ID, "client_secret": "wrong"}),
    );
    let dir = reply.body["directory"]["id"].as_str().unwrap().to_owned();
    let domains = h.get(
        &format!("/api/v1/orgs/acme/directories/{dir}/tenant/domains"),
        &token,
    );
    assert_eq!(domains.status, StatusCode::BAD_GATEWAY, "{}", domains.body);
    assert_eq!(domains.code(), "source_unauthorized");
    assert!(!String::from_utf8_lossy(&domains.raw).contains("wrong\""));
}

#[test]
fn a_throttled_tenant_is_503_with_retry_after_and_starts_nothing() {
    let h = Harness::new();
    let (token, _, base) = h.acme_with_demo();
    h.sim.sim().set_faults(entra_sim::Faults {
        throttle_every: 1,
        retry_after_secs: 3600,
        ..entra_sim::Faults::default()
    });
    let preview = h.call(
        Method::POST,
        &format!("{base}/sync/preview"),
        Some(&token),
        None,
    );
    assert_eq!(
        preview.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        preview.body
    );
    assert_eq!(preview.code(), "source_throttled");
    assert_eq!(preview.header("retry-after"), Some("3600"));

    let sync = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    assert_eq!(
        sync.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        sync.body
    );
    let status = h.get(&format!("{base}/sync"), &token);
    assert!(status.body["current"].is_null(), "{}", status.body);
    assert_eq!(status.body["auto_sync"], false);
}

#[test]
fn the_switches_answer_422_per_field_like_the_settings() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let before = h.writes();
    for path in [
        format!("/api/v1/orgs/acme/directories/{dir}/auto-sync"),
        "/api/v1/orgs/acme/groups/g1/product-access".to_owned(),
    ] {
        for (body, field, message) in [
            (
                json!({"enabled": "yes"}),
                "enabled",
                "must be true or false",
            ),
            (json!({}), "enabled", "is required"),
            (json!({"enabled": true, "on": 1}), "on", "unknown field"),
        ] {
            let reply = h.put(&path, &token, body.clone());
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {body}: {}",
                reply.body
            );
            assert_eq!(reply.code(), "validation_failed");
            assert_eq!(
                reply.body["error"]["fields"],
                json!([{"field": field, "message": message}]),
                "{path} {body}"
            );
        }
    }
    assert_eq!(h.writes(), before);
}
