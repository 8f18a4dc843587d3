//! Tenant isolation: an admin of one org gets 404 for every resource of
//! another, exactly as for one that does not exist, and changes nothing.
//! Also: the client secret is absent from every response.

mod common;

use common::{Harness, all_users_settings};
use entra_sim::DEMO_CLIENT_SECRET;
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// Every org-scoped route, with a valid body where it takes one.
fn routes(org: &str, dir: &str, user: &str, group: &str) -> Vec<(Method, String, Option<Value>)> {
    let o = format!("/api/v1/orgs/{org}");
    let d = format!("{o}/directories/{dir}");
    let settings = all_users_settings(false);
    let saml = json!({"idp_entity_id": "https://sts.windows.net/x/",
                      "sso_url": "https://login.example.com/saml",
                      "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"});
    let connect = json!({"name": "Other", "tenant_id": "other-tenant", "client_id": "c", "client_secret": "s"});
    vec![
        (Method::GET, format!("{o}/directories"), None),
        (Method::POST, format!("{o}/directories"), Some(connect)),
        (Method::GET, d.clone(), None),
        (Method::GET, format!("{d}/tenant/domains"), None),
        (Method::GET, format!("{d}/tenant/groups?search=a"), None),
        (Method::GET, format!("{d}/settings"), None),
        (Method::PUT, format!("{d}/settings"), Some(settings)),
        (
            Method::PUT,
            format!("{d}/auto-sync"),
            Some(json!({"enabled": false})),
        ),
        (Method::POST, format!("{d}/sync/preview"), None),
        (Method::GET, format!("{d}/sync"), None),
        (Method::GET, format!("{d}/sync/history"), None),
        (Method::POST, format!("{d}/sync/stop"), None),
        (Method::DELETE, format!("{d}/sync"), None),
        (Method::POST, format!("{d}/sync"), None),
        (Method::GET, format!("{o}/users"), None),
        (Method::GET, format!("{o}/users/{user}"), None),
        (Method::GET, format!("{o}/groups"), None),
        (Method::GET, format!("{o}/groups/{group}"), None),
        (Method::GET, format!("{o}/groups/{group}/members"), None),
        (
            Method::PUT,
            format!("{o}/groups/{group}/product-access"),
            Some(json!({"enabled": true})),
        ),
        (Method::GET, format!("{o}/domains"), None),
        (Method::GET, format!("{o}/billing"), None),
        (Method::GET, format!("{o}/saml"), None),
        (Method::PUT, format!("{o}/saml"), Some(saml)),
        (Method::GET, format!("{o}/emails"), None),
    ]
}

#[test]
fn an_admin_of_another_org_gets_404_for_every_route_and_changes_nothing() {
    let h = Harness::new();
    let token_a = h.create_org("org-a");
    let token_b = h.create_org("org-b");
    let dir = h.connect_demo("org-a", &token_a);
    let started = h.call(
        Method::POST,
        &format!("/api/v1/orgs/org-a/directories/{dir}/sync"),
        Some(&token_a),
        None,
    );
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    h.tick_until_idle("org-a", &dir, &token_a);
    let user = h.get("/api/v1/orgs/org-a/users?limit=1", &token_a).body["items"][0]["id"]
        .as_str()
        .expect("a synced user")
        .to_owned();
    let group = h.tenant_group("org-a", &dir, &token_a, "Engineering");

    let before = h.writes();
    let snapshot = h.app.platform.store.snapshot();
    for (method, path, body) in routes("org-a", &dir, &user, &group) {
        let reply = h.call(method.clone(), &path, Some(&token_b), body.clone());
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            reply.body
        );
        // Indistinguishable from an org that does not exist.
        let ghost = h.call(
            method.clone(),
            &path.replace("org-a", "org-zz"),
            Some(&token_b),
            body,
        );
        assert_eq!(ghost.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(ghost.body, reply.body, "{method} {path}");
    }
    assert_eq!(h.writes(), before);
    assert_eq!(h.app.platform.store.snapshot(), snapshot);

    // The same routes work for org A's own admin (so the 404s above are
    // isolation, not broken routes), and no answer carries the secret.
    for (method, path, body) in routes("org-a", &dir, &user, &group) {
        let reply = h.call(method.clone(), &path, Some(&token_a), body);
        assert_ne!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            reply.body
        );
        assert!(
            reply.status.as_u16() < 500,
            "{method} {path}: {}",
            reply.body
        );
        let needle = DEMO_CLIENT_SECRET.as_bytes();
        assert!(
            !reply.raw.windows(needle.len()).any(|w| w == needle),
            "{method} {path}"
        );
    }
}

#[test]
fn the_client_secret_never_reaches_the_store_in_clear() {
    let h = Harness::new();
    let token = h.create_org("acme");
    let secret = "Xq8Q~a-very-recognisable-client-secret";
    let reply = h.post(
        "/api/v1/orgs/acme/directories",
        &token,
        json!({"name": "Mine", "tenant_id": "contoso.example", "client_id": "abc", "client_secret": secret}),
    );
    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(!String::from_utf8_lossy(&reply.raw).contains(secret));
    for (key, value) in h.app.platform.store.snapshot() {
        let text = String::from_utf8_lossy(&value);
        assert!(!text.contains(secret), "clear secret in {key}");
        assert!(
            !text.contains("recognisable"),
            "part of the secret in {key}"
        );
    }
}
