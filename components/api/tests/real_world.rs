//! Graph as it behaves in the wild, through the API against the simulated
//! tenant on loopback: a `@odata.nextLink` that goes back, pages smaller
//! than `$top`, an expired delta token answered 400, a tenant without
//! delta, a group listed among its own members, users without a mailbox,
//! and a group whose members are all on an unverified domain. Each input
//! comes from public bug reports of other directory-sync tools.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Harness;
use entra_sim::{ChangeOp, Faults};
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// An org `acme` with the demo tenant connected.
struct Org {
    h: Harness,
    token: String,
    base: String,
}

impl Org {
    fn new() -> Org {
        let h = Harness::new();
        let (token, _, base) = h.acme_with_demo();
        Org { h, token, base }
    }

    /// Applies simulator changes (see `entra-sim`'s `POST /_sim/changes`).
    fn change(&self, ops: Value) {
        for op in ops.as_array().expect("an array of changes") {
            let op: ChangeOp = serde_json::from_value(op.clone()).expect("a change");
            self.h
                .sim
                .sim()
                .with_tenant(|t| op.apply(t))
                .expect("change applies");
        }
    }

    fn faults(&self, faults: Faults) {
        self.h.sim.sim().set_faults(faults);
    }

    fn settings(&self, scope: Value, send_email: bool) {
        let reply = self.h.put(
            &format!("{}/settings", self.base),
            &self.token,
            json!({"domains": {"mode": "all"}, "scope": scope,
                   "send_email": send_email, "keep_previous_groups": false}),
        );
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    fn groups_scope(&self, names: &[&str]) -> Value {
        let ids: Vec<String> = names.iter().map(|n| self.group_id(n)).collect();
        json!({"mode": "groups", "group_ids": ids})
    }

    fn group_id(&self, name: &str) -> String {
        self.h.sim.sim().with_tenant(|t| {
            t.find_group(name)
                .unwrap_or_else(|| panic!("no group {name}"))
                .id
                .clone()
        })
    }

    /// Sync, run to the end, and return the run's summary from the history.
    fn sync(&self) -> Value {
        let started = self.h.call(
            Method::POST,
            &format!("{}/sync", self.base),
            Some(&self.token),
            None,
        );
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
        let dir = self.base.rsplit('/').next().unwrap_or_default().to_owned();
        self.h.tick_until_idle("acme", &dir, &self.token);
        let history = self
            .h
            .get(&format!("{}/sync/history", self.base), &self.token);
        history.body["items"][0].clone()
    }

    fn get(&self, path: &str) -> Value {
        let reply = self.h.get(&format!("/api/v1/orgs/acme{path}"), &self.token);
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        reply.body
    }

    fn group(&self, name: &str) -> Value {
        self.get(&format!("/groups/{}", self.group_id(name)))["group"].clone()
    }

    fn members(&self, name: &str) -> Vec<Value> {
        let path = format!("/api/v1/orgs/acme/groups/{}/members", self.group_id(name));
        self.h.all_items(&path, &self.token)
    }

    fn billable(&self) -> u64 {
        self.get("/billing")["billable_users"]
            .as_u64()
            .expect("billable users")
    }

    fn log_mentions(summary: &Value, needle: &str) -> bool {
        summary["log"]
            .as_array()
            .expect("log")
            .iter()
            .any(|e| e["message"].as_str().unwrap_or("").contains(needle))
    }
}

/// "All Staff 250": 250 users on the verified `contoso.com`.
fn two_hundred_fifty_staff(org: &Org) {
    org.change(json!([{"op": "add_group", "display_name": "All Staff 250"}]));
    let users: Vec<Value> = (0..250)
        .map(|i| {
            json!({"op": "add_user", "user_principal_name": format!("staff{i:03}@contoso.com"),
                   "groups": ["All Staff 250"]})
        })
        .collect();
    org.change(Value::Array(users));
}

#[test]
fn pages_smaller_than_top_are_followed_and_a_paging_loop_fails_the_run_removing_nothing() {
    let org = Org::new();
    two_hundred_fifty_staff(&org);
    // Graph returns at most 100 items whatever `$top` says: followed.
    org.faults(Faults {
        max_page_size: Some(100),
        ..Faults::default()
    });
    org.settings(org.groups_scope(&["All Staff 250"]), false);
    let first = org.sync();
    assert_eq!(first["result"], "completed", "{first}");
    assert_eq!(org.members("All Staff 250").len(), 250);
    let access = format!(
        "/api/v1/orgs/acme/groups/{}/product-access",
        org.group_id("All Staff 250")
    );
    let granted = org.h.put(&access, &org.token, json!({"enabled": true}));
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(org.billable(), 250);

    // The third page's next link is the second page's: a loop.
    org.faults(Faults {
        max_page_size: Some(100),
        loop_back_at_page: Some(3),
        ..Faults::default()
    });
    org.h.sim.sim().reset_stats();
    let looped = org.sync();
    assert_eq!(looped["result"], "failed", "{looped}");
    let error = looped["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("loop") && error.contains("All Staff 250"),
        "the error names the group: {error}"
    );
    let requests = org.h.sim.sim().stats().of("members");
    assert!(
        requests <= 4,
        "{requests} member requests: the loop is caught at once"
    );
    // Removed nothing: the members, the access and the bill stand.
    let group = org.group("All Staff 250");
    assert_eq!(group["synced"], true, "{group}");
    assert_eq!(group["product_access"], true, "{group}");
    assert_eq!(group["member_count"], 250, "{group}");
    assert_eq!(org.members("All Staff 250").len(), 250);
    assert_eq!(org.billable(), 250);

    // Graph mends its paging: the next run completes, access still there.
    org.faults(Faults::default());
    let mended = org.sync();
    assert_eq!(mended["result"], "completed", "{mended}");
    assert_eq!(org.group("All Staff 250")["product_access"], true);
    assert_eq!(org.billable(), 250);
}

/// The users synced in all-users scope, by UPN (lower case).
fn synced_upns(org: &Org) -> Vec<String> {
    let mut upns: Vec<String> = org
        .h
        .all_items("/api/v1/orgs/acme/users", &org.token)
        .iter()
        .filter(|u| u["synced"] == true)
        .map(|u| {
            u["user_principal_name"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase()
        })
        .collect();
    upns.sort();
    upns
}

/// A joiner and a leaver, between two runs.
fn joiner_and_leaver(org: &Org) {
    org.change(json!([
        {"op": "add_user", "user_principal_name": "joiner@contoso.com", "groups": ["Sales"]},
        {"op": "remove_user", "user": "adele.vance@contoso.com"}
    ]));
}

#[test]
fn an_expired_delta_token_answered_400_restarts_the_enumeration_in_the_same_run() {
    let org = Org::new();
    org.settings(json!({"mode": "all_users_and_groups"}), false);
    assert_eq!(org.sync()["result"], "completed");
    let before = synced_upns(&org);
    assert!(
        before.contains(&"adele.vance@contoso.com".to_owned()),
        "{before:?}"
    );

    joiner_and_leaver(&org);
    org.faults(Faults {
        expired_delta_as_400: true,
        ..Faults::default()
    });
    org.h.sim.sim().expire_delta_tokens();
    let second = org.sync();
    assert_eq!(second["result"], "completed", "{second}");
    assert!(
        Org::log_mentions(&second, "expired"),
        "the log says which fallback happened: {second}"
    );
    let after = synced_upns(&org);
    assert!(after.contains(&"joiner@contoso.com".to_owned()));
    assert!(!after.contains(&"adele.vance@contoso.com".to_owned()));
    // And the run after that is incremental again.
    org.faults(Faults::default());
    let third = org.sync();
    assert_eq!(third["result"], "completed", "{third}");
    assert_eq!(synced_upns(&org), after);
}

#[test]
fn a_tenant_without_delta_queries_is_enumerated_in_full_like_a_delta_run() {
    // The same tenant synced through delta, for comparison.
    let reference = Org::new();
    reference.settings(json!({"mode": "all_users_and_groups"}), false);
    assert_eq!(reference.sync()["result"], "completed");
    let expected = synced_upns(&reference);
    let expected_sales = reference.members("Sales").len();

    let org = Org::new();
    org.faults(Faults {
        delta_unavailable: true,
        ..Faults::default()
    });
    org.settings(json!({"mode": "all_users_and_groups"}), false);
    let first = org.sync();
    assert_eq!(first["result"], "completed", "{first}");
    assert!(
        Org::log_mentions(&first, "delta queries are not available"),
        "{first}"
    );
    assert_eq!(synced_upns(&org), expected);
    assert_eq!(org.members("Sales").len(), expected_sales);
    let nesting = org.group("Engineering");
    assert_eq!(nesting["children"].as_array().map(Vec::len), Some(2));

    // Changes between runs apply exactly as a full run would.
    joiner_and_leaver(&org);
    let second = org.sync();
    assert_eq!(second["result"], "completed", "{second}");
    let after = synced_upns(&org);
    assert!(after.contains(&"joiner@contoso.com".to_owned()));
    assert!(!after.contains(&"adele.vance@contoso.com".to_owned()));
    assert_eq!(org.members("Sales").len(), expected_sales);
}

#[test]
fn a_group_listed_among_its_own_members_is_neither_its_own_parent_nor_child() {
    let org = Org::new();
    org.change(json!([
        {"op": "add_group", "display_name": "Self Nested"},
        {"op": "add_user", "user_principal_name": "selfie@contoso.com", "groups": ["Self Nested"]},
        {"op": "add_member", "group": "Self Nested", "member": "Self Nested"}
    ]));
    for scope in [
        org.groups_scope(&["Self Nested"]),
        json!({"mode": "all_users_and_groups"}),
    ] {
        org.settings(scope.clone(), false);
        assert_eq!(org.sync()["result"], "completed", "{scope}");
        let group = org.group("Self Nested");
        assert_eq!(group["parents"], json!([]), "{scope}: {group}");
        assert_eq!(group["children"], json!([]), "{scope}: {group}");
        assert_eq!(group["member_count"], 1, "{scope}: {group}");
        let members = org.members("Self Nested");
        assert_eq!(members.len(), 1, "{scope}: listed once: {members:?}");
    }
}

#[test]
fn welcome_emails_go_only_to_a_mailbox_never_to_an_ext_sign_in_name() {
    let org = Org::new();
    org.change(json!([
        {"op": "add_group", "display_name": "Contractors 2"},
        // A guest without mail, invited at another address: otherMails.
        {"op": "add_user", "guest": true, "no_mail": true,
         "user_principal_name": "contractor_mail.example#EXT#@contoso.onmicrosoft.com",
         "other_mails": ["contractor@mail.example"], "groups": ["Contractors 2"]},
        // A guest with neither: no mailbox.
        {"op": "add_user", "guest": true, "no_mail": true,
         "user_principal_name": "ghost_mail.example#EXT#@contoso.onmicrosoft.com",
         "groups": ["Contractors 2"]},
        // A member without mail (no Exchange mailbox): no email either.
        {"op": "add_user", "no_mail": true,
         "user_principal_name": "nomail@contoso.com", "groups": ["Contractors 2"]}
    ]));
    org.settings(org.groups_scope(&["Contractors 2"]), true);
    let summary = org.sync();
    assert_eq!(summary["result"], "completed", "{summary}");
    assert_eq!(summary["counts"]["users_created"], 3, "{summary}");
    assert_eq!(summary["counts"]["emails_queued"], 1, "{summary}");
    assert_eq!(summary["counts"]["emails_no_mailbox"], 2, "{summary}");
    assert!(
        Org::log_mentions(&summary, "2 new accounts have no mailbox"),
        "{summary}"
    );
    let sent = org.h.app.platform.mailer.addresses();
    assert_eq!(sent, ["contractor@mail.example"]);
    assert!(sent.iter().all(|to| !to.to_uppercase().contains("#EXT#")));
}

#[test]
fn a_groups_member_count_is_the_number_of_members_it_lists() {
    let org = Org::new();
    org.change(json!([{"op": "add_group", "display_name": "Shadow IT"}]));
    let users: Vec<Value> = (0..10)
        .map(|i| {
            // litware.org is not verified in the demo tenant.
            json!({"op": "add_user", "user_principal_name": format!("shadow{i}@litware.org"),
                   "groups": ["Shadow IT"]})
        })
        .collect();
    org.change(Value::Array(users));
    org.settings(org.groups_scope(&["Shadow IT", "Sales"]), false);
    assert_eq!(org.sync()["result"], "completed");
    for name in ["Shadow IT", "Sales"] {
        let group = org.group(name);
        let listed = org.members(name).len() as u64;
        assert_eq!(group["member_count"], listed, "{name}: {group}");
        assert!(
            org.members(name).iter().all(|m| m["user_id"].is_string()),
            "member items carry user_id"
        );
    }
    let shadow = org.group("Shadow IT");
    assert_eq!(shadow["member_count"], 0);
    assert_eq!(shadow["entra_member_count"], 10, "{shadow}");
}

#[test]
fn one_tenant_connected_twice_is_refused_instead_of_doubling_every_account() {
    let org = Org::new();
    org.settings(json!({"mode": "all_users_and_groups"}), false);
    assert_eq!(org.sync()["result"], "completed");
    let first = org.base.rsplit('/').next().unwrap_or_default().to_owned();
    // The same tenant again, by one of its domain names this time.
    let again = org.h.post(
        "/api/v1/orgs/acme/directories",
        &org.token,
        json!({"name": "Contoso again", "tenant_id": "contoso.onmicrosoft.com",
               "client_id": entra_sim::DEMO_CLIENT_ID,
               "client_secret": entra_sim::DEMO_CLIENT_SECRET}),
    );
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let second = again.body["directory"]["id"].as_str().unwrap_or_default();
    let base = format!("/api/v1/orgs/acme/directories/{second}");
    let users_before = org.h.all_items("/api/v1/orgs/acme/users", &org.token).len();
    for path in [format!("{base}/sync/preview"), format!("{base}/sync")] {
        let refused = org.h.call(Method::POST, &path, Some(&org.token), None);
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{path}: {}",
            refused.body
        );
        assert_eq!(refused.code(), "tenant_already_connected");
        let message = refused.body["error"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains(&first),
            "names the directory to sync instead: {message}"
        );
    }
    assert_eq!(
        org.h.all_items("/api/v1/orgs/acme/users", &org.token).len(),
        users_before,
        "no account twice"
    );
}
