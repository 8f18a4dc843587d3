//! Every error status the API answers, in its one JSON shape, and that bad
//! input changes nothing in the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::{Harness, OPERATOR};
use http::{Method, StatusCode};
use serde_json::json;

fn raw(
    h: &Harness,
    method: Method,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> common::Reply {
    h.send(
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(body.to_vec())
            .expect("request"),
    )
}

#[test]
fn no_or_wrong_token_is_401_with_a_bearer_challenge() {
    let h = Harness::new();
    let token = h.create_org("acme");
    for reply in [
        h.call(Method::GET, "/api/v1/orgs/acme/directories", None, None),
        h.get("/api/v1/orgs/acme/directories", "idps.acme.not-the-secret"),
        h.get("/api/v1/orgs/acme/directories", "garbage"),
        h.get("/api/v1/orgs/acme/directories", OPERATOR),
        h.get("/api/v1/me", "idps.nobody.secret"),
        h.post("/api/v1/orgs", &token, json!({"name": "Other"})),
        h.call(Method::POST, "/api/v1/tick", None, None),
        h.call(Method::POST, "/api/v1/tick", Some(&token), None),
    ] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(reply.code(), "unauthorized");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"idp-sync\"")
        );
    }
}

#[test]
fn the_tick_accepts_the_operator_token_in_the_query_string_for_header_less_schedulers() {
    let h = Harness::new();
    let reply = h.call(
        Method::POST,
        &format!("/api/v1/tick?token={OPERATOR}"),
        None,
        None,
    );
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[test]
fn a_wrong_or_admin_query_token_on_the_tick_is_401() {
    let h = Harness::new();
    let admin = h.create_org("acme");
    for path in [
        "/api/v1/tick?token=".to_owned(),
        "/api/v1/tick?token=not-the-operator".to_owned(),
        format!("/api/v1/tick?token={admin}"),
    ] {
        let reply = h.call(Method::POST, &path, None, None);
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[test]
fn the_query_token_opens_only_the_tick() {
    let h = Harness::new();
    h.create_org("acme");
    let reply = h.call(
        Method::POST,
        &format!("/api/v1/orgs?token={OPERATOR}"),
        None,
        Some(json!({"id": "other", "name": "Other"})),
    );
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_admin_token_is_shown_once_and_names_its_org() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let me = h.get("/api/v1/me", &token);
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["org"]["id"], "acme");
    assert_eq!(me.body["org"]["name"], "Org acme");
    // Only a hash is stored.
    for (key, value) in h.app.platform.store.snapshot() {
        let text = String::from_utf8_lossy(&value);
        assert!(!text.contains(&token), "token stored in {key}");
    }
}

#[test]
fn an_org_id_is_derived_from_the_name_when_absent_and_taken_ids_conflict() {
    let h = Harness::new();
    let reply = h.post("/api/v1/orgs", OPERATOR, json!({"name": "Contoso Ltd."}));
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["org"]["id"].as_str().unwrap();
    assert!(id.starts_with("contoso-ltd-"), "{id}");

    let bad_id = h.post(
        "/api/v1/orgs",
        OPERATOR,
        json!({"name": "Bad", "id": "Not/Valid"}),
    );
    assert_eq!(bad_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_id.body["error"]["fields"][0]["field"], "id");

    h.create_org("acme");
    let before = h.writes();
    let again = h.post(
        "/api/v1/orgs",
        OPERATOR,
        json!({"name": "Again", "id": "acme"}),
    );
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_exists");
    assert_eq!(h.writes(), before);
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405_with_allow_listing_head_with_get() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let missing = h.get("/api/v1/nothing-here", &token);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");

    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/orgs/acme/billing", "GET, HEAD"),
        (Method::GET, "/api/v1/orgs", "POST"),
        (
            Method::PATCH,
            "/api/v1/orgs/acme/directories/d1/settings",
            "GET, HEAD, PUT",
        ),
        (
            Method::PUT,
            "/api/v1/orgs/acme/directories/d1/sync",
            "GET, HEAD, POST, DELETE",
        ),
        (Method::GET, "/api/v1/tick", "POST"),
    ] {
        let reply = h.call(method.clone(), path, Some(&token), None);
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(reply.code(), "method_not_allowed");
    }
}

#[test]
fn malformed_json_is_400_and_not_json_is_415() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let path = "/api/v1/orgs/acme/directories";
    let before = h.writes();

    let malformed = raw(
        &h,
        Method::POST,
        path,
        &token,
        "application/json",
        b"{\"name\": ",
    );
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "bad_request");

    let trailing = raw(&h, Method::POST, path, &token, "application/json", b"{} {}");
    assert_eq!(trailing.status, StatusCode::BAD_REQUEST);

    let form = raw(
        &h,
        Method::POST,
        path,
        &token,
        "application/x-www-form-urlencoded",
        b"name=x",
    );
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(form.code(), "unsupported_media_type");

    let with_charset = raw(
        &h,
        Method::POST,
        path,
        &token,
        "application/json; charset=utf-8",
        b"{}",
    );
    assert_eq!(
        with_charset.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        with_charset.body
    );
    assert_eq!(with_charset.body["error"]["fields"][0]["field"], "name");

    assert_eq!(h.writes(), before);
}

#[test]
fn a_body_over_64_kib_is_413_and_changes_nothing() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let before = h.writes();
    let big = json!({"name": "x".repeat(70 * 1024), "tenant_id": "t", "client_id": "c", "client_secret": "s"});
    let reply = h.post("/api/v1/orgs/acme/directories", &token, big);
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");
    assert_eq!(h.writes(), before);
}

#[test]
fn field_errors_are_422_with_the_json_path_of_each_field() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let before = h.writes();

    let unknown = h.post(
        "/api/v1/orgs/acme/directories",
        &token,
        json!({"name": "n", "tenant_id": "t", "client_id": "c", "client_secret": "s", "colour": "red"}),
    );
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["error"]["fields"][0]["field"], "colour");

    let missing = h.post(
        "/api/v1/orgs/acme/directories",
        &token,
        json!({"name": "n"}),
    );
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.body["error"]["fields"][0]["field"], "tenant_id");

    let invalid = h.post(
        "/api/v1/orgs/acme/directories",
        &token,
        json!({"name": " ", "tenant_id": "a/b", "client_id": "c", "client_secret": ""}),
    );
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    assert_eq!(invalid.code(), "validation_failed");
    let fields: Vec<&str> = invalid.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "tenant_id", "client_secret"]);

    let wrong_type = h.put(
        "/api/v1/orgs/acme/groups/g1/product-access",
        &token,
        json!({"enabled": "yes"}),
    );
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_type.body["error"]["fields"][0]["field"], "enabled");

    assert_eq!(h.writes(), before);
}

#[test]
fn health_and_console_need_no_token() {
    let h = Harness::new();
    let health = h.call(Method::GET, "/healthz", None, None);
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, json!({"status": "ok"}));

    let index = h.call(Method::GET, "/", None, None);
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&index.raw).contains("<html"));
    assert!(index.header("content-security-policy").is_some());

    let head = h.call(Method::HEAD, "/", None, None);
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.raw.is_empty());
    // HEAD says what GET would send, its length included.
    assert_eq!(
        head.header("content-length"),
        Some(index.raw.len().to_string().as_str())
    );
    assert_eq!(head.header("content-type"), index.header("content-type"));

    let same = h.call(Method::GET, "/console/index.html", None, None);
    assert_eq!(same.raw, index.raw);
    let missing = h.call(Method::GET, "/no-such-file.js", None, None);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[test]
fn a_failing_store_is_503_and_the_next_request_succeeds() {
    let h = Harness::new();
    let token = h.create_org("acme");
    h.app.platform.store.fail_write_at(0);
    let body = json!({"name": "Demo", "tenant_id": "contoso.example", "client_id": "abc", "client_secret": "s"});
    let failed = h.post("/api/v1/orgs/acme/directories", &token, body.clone());
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failed.body
    );
    assert_eq!(failed.code(), "store_error");
    let retried = h.post("/api/v1/orgs/acme/directories", &token, body);
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
}

#[test]
fn malformed_ids_and_cursors_are_400() {
    let h = Harness::new();
    let token = h.create_org("acme");
    for path in [
        "/api/v1/orgs/acme/users?cursor=not-a-cursor",
        "/api/v1/orgs/acme/directories/D%201/settings",
        "/api/v1/orgs/acme/groups/bad.id",
    ] {
        let reply = h.get(path, &token);
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.code(), "invalid_id", "{path}");
    }
    let limit = h.get("/api/v1/orgs/acme/users?limit=many", &token);
    assert_eq!(limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(limit.body["error"]["fields"][0]["field"], "limit");
}

#[test]
fn a_limit_outside_1_to_500_is_422_as_the_openapi_document_declares() {
    let h = Harness::new();
    let token = h.create_org("acme");
    for limit in ["1", "500"] {
        let reply = h.get(&format!("/api/v1/orgs/acme/users?limit={limit}"), &token);
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "limit={limit}: {}",
            reply.body
        );
    }
    for limit in ["0", "501", "-1", "1.5", "99999999999999999999"] {
        let reply = h.get(&format!("/api/v1/orgs/acme/users?limit={limit}"), &token);
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit={limit}: {}",
            reply.body
        );
        assert_eq!(
            reply.body["error"]["fields"][0],
            json!({"field": "limit", "message": "must be a whole number from 1 to 500"}),
            "limit={limit}"
        );
    }
}

#[test]
fn a_route_without_a_body_refuses_one_that_is_not_json_as_the_others_do() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let preview = format!("/api/v1/orgs/acme/directories/{dir}/sync/preview");
    let before = h.writes();

    let text = raw(&h, Method::POST, &preview, &token, "text/plain", b"hello");
    assert_eq!(
        text.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        text.body
    );
    assert_eq!(text.code(), "unsupported_media_type");
    let json_text = raw(
        &h,
        Method::POST,
        &preview,
        &token,
        "application/json",
        b"hello",
    );
    assert_eq!(json_text.status, StatusCode::BAD_REQUEST);
    // Sync likewise: nothing starts.
    let sync = format!("/api/v1/orgs/acme/directories/{dir}/sync");
    let refused = raw(&h, Method::POST, &sync, &token, "text/plain", b"hello");
    assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(h.writes(), before);

    // No body, or an empty JSON object, is still fine.
    let none = h.call(Method::POST, &preview, Some(&token), None);
    assert_eq!(none.status, StatusCode::OK, "{}", none.body);
    let empty = raw(
        &h,
        Method::POST,
        &preview,
        &token,
        "application/json",
        b"{}",
    );
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
}
