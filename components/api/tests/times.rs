//! Every time the API answers is an RFC 3339 UTC string (`…Z`), never
//! epoch milliseconds: a full sync flow's every JSON response is walked,
//! and each field named like a time (`…_at`, `until`, `at`) is checked.

mod common;

use std::collections::BTreeSet;

use common::{Harness, OPERATOR, Reply};
use http::Method;
use serde_json::{Value, json};

/// Larger than any plausible count, smaller than any epoch-ms time since
/// 1973: a number like this in a time field is epoch milliseconds.
const EPOCH_MS_FLOOR: f64 = 1e11;

/// Whether a field of this name holds a time.
fn is_time_field(name: &str) -> bool {
    name.ends_with("_at") || name == "until" || name == "at"
}

/// Collects the time fields found under `value` into `seen`, and every
/// violation (with its JSON path) into `bad`.
fn walk(path: &str, value: &Value, seen: &mut BTreeSet<String>, bad: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                let at = format!("{path}.{name}");
                if is_time_field(name) {
                    seen.insert(name.clone());
                    check_time(&at, field, bad);
                }
                walk(&at, field, seen, bad);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), item, seen, bad);
            }
        }
        _ => {}
    }
}

/// A time field is null or an RFC 3339 string in UTC with a `Z`.
fn check_time(at: &str, value: &Value, bad: &mut Vec<String>) {
    match value {
        Value::Null => {}
        Value::String(s) if s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
        }
        Value::Number(n) if n.as_f64().is_some_and(|n| n > EPOCH_MS_FLOOR) => {
            bad.push(format!("{at}: epoch milliseconds {n}"));
        }
        other => bad.push(format!("{at}: not an RFC 3339 UTC time: {other}")),
    }
}

/// Checks every response it is shown; remembers which time fields it saw.
struct Inspector<'h> {
    h: &'h Harness,
    seen: BTreeSet<String>,
    bad: Vec<String>,
}

impl Inspector<'_> {
    fn call(&mut self, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
        let reply = self.h.call(method.clone(), path, Some(token), body);
        assert!(
            reply.status.is_success(),
            "{method} {path}: {} {}",
            reply.status,
            reply.body
        );
        walk(
            &format!("{method} {path}"),
            &reply.body,
            &mut self.seen,
            &mut self.bad,
        );
        reply
    }

    fn get(&mut self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, token, None)
    }
}

#[test]
fn no_api_response_carries_an_epoch_millisecond_time() {
    let h = Harness::new();
    let mut api = Inspector {
        h: &h,
        seen: BTreeSet::new(),
        bad: Vec::new(),
    };
    let created = api.call(
        Method::POST,
        "/api/v1/orgs",
        OPERATOR,
        Some(json!({"name": "Acme", "id": "acme"})),
    );
    let token = created.body["admin_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let dir = h.connect_demo("acme", &token);
    let org = "/api/v1/orgs/acme";
    let base = format!("{org}/directories/{dir}");

    api.get("/api/v1/me", &token);
    api.get(&format!("{org}/directories"), &token);
    api.get(&base, &token);
    api.get(&format!("{base}/tenant/domains"), &token);
    api.get(&format!("{base}/tenant/groups"), &token);
    let settings = json!({"domains": {"mode": "all"}, "scope": {"mode": "all_users_and_groups"},
                          "send_email": true, "keep_previous_groups": false});
    api.call(
        Method::PUT,
        &format!("{base}/settings"),
        &token,
        Some(settings),
    );
    api.get(&format!("{base}/settings"), &token);
    api.call(Method::POST, &format!("{base}/sync/preview"), &token, None);
    api.call(Method::POST, &format!("{base}/sync"), &token, None);
    // A run in progress: its status shows when it started.
    api.call(Method::POST, "/api/v1/tick", OPERATOR, None);
    api.get(&format!("{base}/sync"), &token);
    h.tick_until_idle("acme", &dir, &token);

    api.get(&format!("{base}/sync"), &token);
    api.get(&format!("{base}/sync/history"), &token);
    let users = api.get(&format!("{org}/users"), &token);
    let user = users.body["items"][0]["id"].as_str().expect("a user");
    api.get(&format!("{org}/users/{user}"), &token);
    let groups = api.get(&format!("{org}/groups"), &token);
    let group = groups.body["items"][0]["id"].as_str().expect("a group");
    api.get(&format!("{org}/groups/{group}"), &token);
    api.get(&format!("{org}/groups/{group}/members"), &token);
    let access = format!("{org}/groups/{group}/product-access");
    api.call(Method::PUT, &access, &token, Some(json!({"enabled": true})));
    api.get(&format!("{org}/billing"), &token);
    api.get(&format!("{org}/domains"), &token);
    api.get(&format!("{org}/emails"), &token);
    api.get(&format!("{org}/saml"), &token);
    let saml = json!({
        "idp_entity_id": "https://sts.windows.net/contoso/",
        "sso_url": "https://login.microsoftonline.com/contoso/saml2",
        "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
    });
    api.call(Method::PUT, &format!("{org}/saml"), &token, Some(saml));
    api.call(
        Method::PUT,
        &format!("{base}/auto-sync"),
        &token,
        Some(json!({"enabled": true})),
    );

    assert!(api.bad.is_empty(), "{:#?}", api.bad);
    for expected in [
        "created_at",
        "started_at",
        "finished_at",
        "next_scheduled_at",
        "claimed_at",
        "queued_at",
        "at",
    ] {
        assert!(
            api.seen.contains(expected),
            "no response showed {expected}; saw {:?}",
            api.seen
        );
    }
}

#[test]
fn epoch_milliseconds_in_a_time_field_are_caught() {
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    let body = json!({"ok_at": "2026-11-29T23:41:57Z", "items": [{"until": 1_795_654_236_582_u64}],
                      "log": [{"at": "2026-11-29T23:41:57+01:00"}], "count": 1_795_654_236_582_u64});
    walk("", &body, &mut seen, &mut bad);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad[0].contains(".items[0].until: epoch milliseconds"),
        "{bad:?}"
    );
    assert!(
        bad[1].contains(".log[0].at: not an RFC 3339 UTC time"),
        "{bad:?}"
    );
}
