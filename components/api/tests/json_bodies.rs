//! Every JSON body is one JSON object naming each key once: anything else
//! is a 400 that says what is wrong and changes nothing, on every route
//! that changes state (walked from the route table, so a new route is
//! covered without being named here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use api::{Access, ROUTES};
use common::{Harness, OPERATOR, Reply, all_users_settings};
use http::{Method, StatusCode};

/// Bodies that are JSON but not an object, and what the answer must say.
const NOT_OBJECTS: [(&str, &str); 6] = [
    ("[false]", "not an array"),
    ("[true]", "not an array"),
    ("\"x\"", "not a string"),
    ("1", "not a number"),
    ("null", "not null"),
    ("true", "not a boolean"),
];

/// Objects that repeat a key (at the top or deeper), and the key named.
const DUPLICATE_KEYS: [(&str, &str); 4] = [
    (r#"{"enabled": false, "enabled": true}"#, "enabled"),
    (r#"{"enabled": true, "enabled": false}"#, "enabled"),
    (r#"{"name": "Dup", "id": "dup", "name": "Again"}"#, "name"),
    (
        r#"{"domains": {"mode": "all", "mode": "only", "names": []}}"#,
        "mode",
    ),
];

fn send(h: &Harness, method: Method, path: &str, token: &str, body: &str) -> common::Reply {
    h.send(
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .expect("request"),
    )
}

/// An org with a connected, synced directory (so automatic syncing is on)
/// and a synced group without product access.
struct World {
    h: Harness,
    token: String,
    dir: String,
    group: String,
}

fn world() -> World {
    let h = Harness::new();
    let token = h.create_org("acme");
    let dir = h.connect_demo("acme", &token);
    let started = h.call(
        Method::POST,
        &format!("/api/v1/orgs/acme/directories/{dir}/sync"),
        Some(&token),
        None,
    );
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    h.tick_until_idle("acme", &dir, &token);
    let groups = h.get("/api/v1/orgs/acme/groups", &token);
    let group = groups.body["items"][0]["id"]
        .as_str()
        .expect("a synced group")
        .to_owned();
    World {
        h,
        token,
        dir,
        group,
    }
}

impl World {
    fn product_access(&self) -> serde_json::Value {
        let group = self.h.get(
            &format!("/api/v1/orgs/acme/groups/{}", self.group),
            &self.token,
        );
        group.body["group"]["product_access"].clone()
    }

    fn auto_sync(&self) -> serde_json::Value {
        let settings = self.h.get(
            &format!("/api/v1/orgs/acme/directories/{}/settings", self.dir),
            &self.token,
        );
        settings.body["settings"]["auto_sync"].clone()
    }

    fn directory_count(&self) -> usize {
        let list = self.h.get("/api/v1/orgs/acme/directories", &self.token);
        list.body["directories"].as_array().map_or(0, Vec::len)
    }

    /// Every (method, path, token) that may change state, from the route table.
    fn state_changing_requests(&self) -> Vec<(Method, String, &str)> {
        ROUTES
            .iter()
            .filter(|spec| spec.method != Method::GET)
            .map(|spec| {
                let path = spec
                    .path
                    .replace("{org}", "acme")
                    .replace("{dir}", &self.dir)
                    .replace("{id}", &self.group);
                // The operator's routes (orgs, tick) have no org of their own.
                let token = match spec.access {
                    Access::Operator | Access::TickCaller => OPERATOR,
                    Access::Public | Access::Admin | Access::OrgAdmin => self.token.as_str(),
                };
                (spec.method.clone(), path, token)
            })
            .collect()
    }
}

#[test]
fn a_body_that_is_not_a_json_object_is_400_and_changes_nothing_on_any_route() {
    let w = world();
    assert_eq!(w.product_access(), false);
    assert_eq!(w.auto_sync(), true);
    let directories = w.directory_count();
    let before = w.h.app.platform.store.snapshot();

    let requests = w.state_changing_requests();
    // The routes the issue names are among them.
    for needle in [
        "/product-access",
        "/auto-sync",
        "/settings",
        "/saml",
        "/tick",
    ] {
        assert!(
            requests.iter().any(|(_, path, _)| path.ends_with(needle)),
            "{needle} is walked"
        );
    }
    assert!(
        requests
            .iter()
            .any(|(m, p, _)| m == Method::POST && p == "/api/v1/orgs")
    );

    for (method, path, token) in &requests {
        for (body, says) in NOT_OBJECTS {
            let reply = send(&w.h, method.clone(), path, token, body);
            let message = bad_request_message(&reply, method, path, body);
            assert!(
                message.contains("the body must be a JSON object") && message.contains(says),
                "{method} {path} with {body}: {message}"
            );
        }
        for (body, key) in DUPLICATE_KEYS {
            let reply = send(&w.h, method.clone(), path, token, body);
            let message = bad_request_message(&reply, method, path, body);
            assert!(
                message.contains(&format!("duplicate key \"{key}\"")),
                "{method} {path} with {body}: {message}"
            );
        }
    }

    assert_eq!(w.product_access(), false, "product access is still off");
    assert_eq!(w.auto_sync(), true, "automatic syncing is unchanged");
    assert_eq!(
        w.directory_count(),
        directories,
        "no directory was connected"
    );
    assert!(
        w.h.app.platform.store.snapshot() == before,
        "no org, directory, run or setting changed"
    );
}

#[test]
fn the_same_routes_still_accept_a_proper_object() {
    let w = world();
    let access = format!("/api/v1/orgs/acme/groups/{}/product-access", w.group);
    let granted = send(&w.h, Method::PUT, &access, &w.token, r#"{"enabled": true}"#);
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(w.product_access(), true);

    let auto_sync = format!("/api/v1/orgs/acme/directories/{}/auto-sync", w.dir);
    let off = send(
        &w.h,
        Method::PUT,
        &auto_sync,
        &w.token,
        r#"{"enabled": false}"#,
    );
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(w.auto_sync(), false);

    // Nested objects with distinct keys, and the same key in two objects.
    let settings = format!("/api/v1/orgs/acme/directories/{}/settings", w.dir);
    let saved = w.h.put(&settings, &w.token, all_users_settings(false));
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    // A bodiless action still takes no body, or an empty object.
    let tick = send(&w.h, Method::POST, "/api/v1/tick", OPERATOR, "{}");
    assert_eq!(tick.status, StatusCode::OK, "{}", tick.body);
    let created = send(
        &w.h,
        Method::POST,
        "/api/v1/orgs",
        OPERATOR,
        r#"{"name": "Other", "id": "other"}"#,
    );
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[test]
fn a_duplicate_key_escaped_differently_is_still_a_duplicate() {
    let w = world();
    let access = format!("/api/v1/orgs/acme/groups/{}/product-access", w.group);
    let reply = send(
        &w.h,
        Method::PUT,
        &access,
        &w.token,
        r#"{"enabled": false, "\u0065nabled": true}"#,
    );
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(w.product_access(), false);
}

/// The message of a `400 bad_request` answer to `method path` with `body`
/// (which it must be).
fn bad_request_message<'a>(reply: &'a Reply, method: &Method, path: &str, body: &str) -> &'a str {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{method} {path} with {body}: {}",
        reply.body
    );
    assert_eq!(reply.code(), "bad_request", "{method} {path} with {body}");
    reply.body["error"]["message"].as_str().unwrap_or("")
}
