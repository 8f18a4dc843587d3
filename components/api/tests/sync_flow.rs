//! A whole sync driven through the API against the simulated tenant on
//! loopback: preview, Sync, status to completion, the synced directory,
//! emails, product access and billing, SAML gating, stop refused, ticks.

mod common;

use common::{Harness, OPERATOR, all_users_settings};
use engine::ports::TimeDelta;
use entra_sim::{DEMO_CLIENT_SECRET, Preset};
use http::{Method, StatusCode};
use platform::config::names;
use serde_json::{Value, json};

const SAML: fn() -> Value = || {
    json!({
        "idp_entity_id": "https://sts.windows.net/contoso/",
        "sso_url": "https://login.microsoftonline.com/contoso/saml2",
        "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
    })
};

fn by<'a>(items: &'a [Value], field: &str, value: &str) -> Option<&'a Value> {
    items.iter().find(|item| item[field] == value)
}

fn upns(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|u| {
            u["user_principal_name"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
        })
        .collect()
}

#[test]
fn a_full_sync_of_all_users_and_groups() {
    let h = Harness::new();
    let (token, dir, base) = h.acme_with_demo();

    h.save_settings(&base, &token, all_users_settings(true));

    // SAML is refused until a sync has completed, and says why.
    let gated = h.get("/api/v1/orgs/acme/saml", &token);
    assert_eq!(gated.body["configurable"], false, "{}", gated.body);
    assert!(gated.body["reason"].as_str().unwrap().contains("completed"));
    let early = h.put("/api/v1/orgs/acme/saml", &token, SAML());
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert_eq!(early.code(), "no_completed_sync");
    assert!(
        early.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("completed")
    );

    let preview = h.call(
        Method::POST,
        &format!("{base}/sync/preview"),
        Some(&token),
        None,
    );
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.body["all_users_and_groups"], true);
    let domains = preview.body["domains"].as_array().unwrap();
    assert_eq!(
        by(domains, "name", "litware.org").unwrap()["will_sync"],
        false
    );
    assert_eq!(
        by(domains, "name", "contoso.com").unwrap()["will_sync"],
        true
    );

    let started = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert_eq!(started.body["confirmation"]["auto_sync"], true);
    assert!(
        started.body["confirmation"]["notice"]
            .as_str()
            .unwrap()
            .contains("cannot be stopped")
    );
    assert!(started.body["status"].is_object());

    h.tick_until_idle("acme", &dir, &token);
    let status = h.get(&format!("{base}/sync"), &token);
    assert_eq!(
        status.body["last"]["result"], "completed",
        "{}",
        status.body
    );
    assert_eq!(status.body["auto_sync"], true);
    assert!(status.body["next_scheduled_at"].is_string());
    let counts = &status.body["last"]["counts"];
    assert!(
        counts["skipped_unverified_domain"].as_u64().unwrap() >= 3,
        "{counts}"
    );

    // Users: guests sync whatever their domain; members of an unverified
    // domain do not.
    let users = h.all_items("/api/v1/orgs/acme/users", &token);
    let names = upns(&users);
    assert!(
        names
            .iter()
            .any(|u| u.starts_with("jane.doe_gmail.com#ext#")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|u| u.starts_with("tom.baker_litware.org#ext#")),
        "{names:?}"
    );
    let synced = |upn: &str| {
        users.iter().any(|u| {
            u["user_principal_name"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case(upn)
                && u["synced"] == true
        })
    };
    assert!(synced("adele.vance@contoso.com"));
    assert!(
        !synced("liam.byrne@litware.org"),
        "a member of an unverified domain must not sync"
    );
    let jane = users
        .iter()
        .find(|u| u["mail"] == "jane.doe@gmail.com")
        .unwrap();
    assert_eq!(jane["guest"], true);
    let one = h.get(
        &format!("/api/v1/orgs/acme/users/{}", jane["id"].as_str().unwrap()),
        &token,
    );
    assert_eq!(one.body["user"]["id"], jane["id"]);

    // Groups: nesting remembered, members flattened (Core Reviewers is
    // reached from Engineering through two teams: a diamond).
    let groups = h.all_items("/api/v1/orgs/acme/groups", &token);
    let engineering = by(&groups, "display_name", "Engineering").expect("Engineering synced");
    let platform_team = by(&groups, "display_name", "Platform Team").unwrap();
    let web_team = by(&groups, "display_name", "Web Team").unwrap();
    let children = engineering["children"].as_array().unwrap();
    assert!(children.contains(&platform_team["id"]) && children.contains(&web_team["id"]));
    let eng_id = engineering["id"].as_str().unwrap();
    let members = h.all_items(
        &format!("/api/v1/orgs/acme/groups/{eng_id}/members"),
        &token,
    );
    let member_names = upns(&members);
    assert!(
        member_names.contains(&"hana.sato@fabrikam.io".to_owned()),
        "{member_names:?}"
    );
    let hana = by(&members, "user_principal_name", "hana.sato@fabrikam.io").unwrap();
    assert_eq!(hana["direct"], false);
    let mut unique = member_names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        member_names.len(),
        "a diamond must not duplicate members"
    );
    assert_eq!(
        engineering["member_count"].as_u64().unwrap() as usize,
        members.len()
    );

    let claimed = h.get("/api/v1/orgs/acme/domains", &token);
    let claimed: Vec<&str> = claimed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        claimed.contains(&"contoso.com") && claimed.contains(&"fabrikam.io"),
        "{claimed:?}"
    );
    assert!(!claimed.contains(&"litware.org"));

    // Welcome emails for new accounts (the setting is on).
    let emails = h.all_items("/api/v1/orgs/acme/emails", &token);
    assert!(!emails.is_empty());
    assert!(by(&emails, "to", "adele.vance@contoso.com").is_some());
    assert_eq!(
        counts["emails_sent"].as_u64().unwrap(),
        h.app.platform.mailer.emails().len() as u64,
        "the run summary's emails_sent must count the emails the mailer delivered"
    );

    // Product access drives billing.
    let billing = |h: &Harness| {
        h.get("/api/v1/orgs/acme/billing", &token).body["billable_users"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(billing(&h), 0);
    let access = format!("/api/v1/orgs/acme/groups/{eng_id}/product-access");
    let granted = h.put(&access, &token, json!({"enabled": true}));
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(granted.body["group"]["product_access"], true);
    assert_eq!(billing(&h), members.len() as u64);
    h.put(&access, &token, json!({"enabled": false}));
    assert_eq!(billing(&h), 0);

    // SAML is allowed now.
    let open = h.get("/api/v1/orgs/acme/saml", &token);
    assert_eq!(
        open.body,
        json!({"saml": null, "configurable": true, "reason": null})
    );
    let saml = h.put("/api/v1/orgs/acme/saml", &token, SAML());
    assert_eq!(saml.status, StatusCode::OK, "{}", saml.body);
    assert_eq!(
        h.get("/api/v1/orgs/acme/saml", &token).body["saml"]["sso_url"],
        SAML()["sso_url"]
    );
    let bad_saml = h.put(
        "/api/v1/orgs/acme/saml",
        &token,
        json!({"idp_entity_id": "x", "sso_url": "http://insecure", "certificate_pem": "nope"}),
    );
    assert_eq!(bad_saml.status, StatusCode::UNPROCESSABLE_ENTITY);

    let history = h.get(&format!("{base}/sync/history"), &token);
    assert_eq!(history.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(history.body["items"][0]["trigger"], "manual");

    // The client secret is nowhere in the store.
    for (key, value) in h.app.platform.store.snapshot() {
        let needle = DEMO_CLIENT_SECRET.as_bytes();
        assert!(
            !value.windows(needle.len()).any(|w| w == needle),
            "secret in {key}"
        );
    }
}

#[test]
fn a_started_sync_cannot_be_stopped_or_started_twice_and_edits_apply_next_time() {
    // One Graph page per invocation: the run spans many requests.
    let h = Harness::build(Preset::Demo, &[(names::PAGE_BUDGET, "1")]);
    let (token, dir, base) = h.acme_with_demo();

    let started = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert!(
        started.body["status"]["current"].is_object(),
        "{}",
        started.body
    );

    let before = h.writes();
    let again = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "run_in_progress");
    for stop in [
        h.call(
            Method::POST,
            &format!("{base}/sync/stop"),
            Some(&token),
            None,
        ),
        h.call(Method::DELETE, &format!("{base}/sync"), Some(&token), None),
    ] {
        assert_eq!(stop.status, StatusCode::CONFLICT);
        assert_eq!(stop.code(), "cannot_stop");
        assert!(
            stop.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("next sync")
        );
    }
    assert_eq!(h.writes(), before, "refusals change nothing");

    // An edit during the run is saved and applies to the next run only.
    h.save_settings(
        &base,
        &token,
        json!({"domains": {"mode": "only", "names": ["contoso.com"]}, "scope": {"mode": "all_users_and_groups"},
               "send_email": false, "keep_previous_groups": false}),
    );

    let ticks = h.tick_until_idle("acme", &dir, &token);
    assert!(
        ticks >= 1,
        "the run was still in progress after the request"
    );
    let status = h.get(&format!("{base}/sync"), &token);
    assert_eq!(
        status.body["last"]["result"], "completed",
        "{}",
        status.body
    );
    let claimed = h.get("/api/v1/orgs/acme/domains", &token).body["items"].to_string();
    assert!(
        claimed.contains("fabrikam.io"),
        "the run used the settings it started with: {claimed}"
    );
}

#[test]
fn automatic_syncing_starts_a_run_every_four_hours_through_the_tick() {
    let h = Harness::new();
    let (token, dir, base) = h.acme_with_demo();
    h.sync_until_idle("acme", &dir, &token);

    let early = h.call(Method::POST, "/api/v1/tick", Some(OPERATOR), None);
    assert_eq!(early.status, StatusCode::OK);
    assert_eq!(
        early.body["items"][0]["outcome"]["tick"], "nothing",
        "{}",
        early.body
    );

    h.app
        .platform
        .clock
        .advance(TimeDelta::hours(4) + TimeDelta::milliseconds(1));
    let due = h.call(Method::POST, "/api/v1/tick", Some(OPERATOR), None);
    assert_eq!(
        due.body["items"][0]["outcome"]["tick"], "started",
        "{}",
        due.body
    );
    h.tick_until_idle("acme", &dir, &token);
    let history = h.get(&format!("{base}/sync/history"), &token);
    assert_eq!(history.body["items"][0]["trigger"], "scheduled");
    assert_eq!(history.body["items"].as_array().unwrap().len(), 2);

    // Off means manual syncs only.
    h.put(
        &format!("{base}/auto-sync"),
        &token,
        json!({"enabled": false}),
    );
    h.app.platform.clock.advance(TimeDelta::hours(5));
    let off = h.call(Method::POST, "/api/v1/tick", Some(OPERATOR), None);
    assert_eq!(
        off.body["items"][0]["outcome"]["tick"], "nothing",
        "{}",
        off.body
    );
}

#[test]
fn group_scope_flattens_nesting_and_a_dropped_group_loses_product_access() {
    let h = Harness::new();
    let (token, dir, base) = h.acme_with_demo();
    let engineering = h.tenant_group("acme", &dir, &token, "Engineering");
    let sales = h.tenant_group("acme", &dir, &token, "Sales");
    let scope = |ids: &[&str]| {
        json!({"domains": {"mode": "all"}, "scope": {"mode": "groups", "group_ids": ids},
               "send_email": false, "keep_previous_groups": false})
    };

    h.save_settings(&base, &token, scope(&[&engineering, &sales]));
    h.sync_until_idle("acme", &dir, &token);

    let groups = h.all_items("/api/v1/orgs/acme/groups", &token);
    let synced: Vec<&str> = groups
        .iter()
        .filter(|g| g["synced"] == true)
        .map(|g| g["display_name"].as_str().unwrap())
        .collect();
    for name in [
        "Engineering",
        "Platform Team",
        "Web Team",
        "Core Reviewers",
        "Sales",
    ] {
        assert!(synced.contains(&name), "{name} not in {synced:?}");
    }
    assert!(!synced.contains(&"Legal"), "{synced:?}");

    let grant = h.put(
        &format!("/api/v1/orgs/acme/groups/{sales}/product-access"),
        &token,
        json!({"enabled": true}),
    );
    assert_eq!(grant.status, StatusCode::OK);
    let billable = h.get("/api/v1/orgs/acme/billing", &token).body["billable_users"]
        .as_u64()
        .unwrap();
    assert!(billable > 0);

    // Sales is dropped from the scope: the preview says so, the removal
    // guard holds the run until an admin confirms, and then the run
    // removes its product access.
    h.save_settings(&base, &token, scope(&[&engineering]));
    let preview = h.call(
        Method::POST,
        &format!("{base}/sync/preview"),
        Some(&token),
        None,
    );
    assert!(
        preview.body["changes"]["groups_removed"]
            .to_string()
            .contains(&sales),
        "{}",
        preview.body
    );
    h.sync_until_idle("acme", &dir, &token);
    let held = h.get(&format!("{base}/sync"), &token);
    assert_eq!(
        held.body["current"]["phase"], "awaiting_confirmation",
        "{}",
        held.body
    );
    let pending = &held.body["current"]["pending_removals"];
    assert_eq!(
        pending["access_removed"][0]["id"],
        sales.as_str(),
        "{pending}"
    );
    assert_eq!(
        pending["access_removed"][0]["display_name"], "Sales",
        "{pending}"
    );
    let untouched = h.get(&format!("/api/v1/orgs/acme/groups/{sales}"), &token);
    assert_eq!(
        untouched.body["group"]["product_access"], true,
        "nothing removed yet"
    );
    let confirmed = h.call(
        Method::POST,
        &format!("{base}/sync/confirm"),
        Some(&token),
        None,
    );
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    h.tick_until_idle("acme", &dir, &token);
    let again = h.call(
        Method::POST,
        &format!("{base}/sync/confirm"),
        Some(&token),
        None,
    );
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.code(), "nothing_to_confirm");
    let sales_now = h.get(&format!("/api/v1/orgs/acme/groups/{sales}"), &token);
    assert_eq!(
        sales_now.body["group"]["product_access"], false,
        "{}",
        sales_now.body
    );
    assert_eq!(
        h.get("/api/v1/orgs/acme/billing", &token).body["billable_users"],
        0
    );
}

#[test]
fn a_group_over_ten_thousand_users_is_reported_and_the_others_sync() {
    let h = Harness::with_preset(Preset::Large);
    let (token, dir, base) = h.acme_with_demo();
    let legal = h.tenant_group("acme", &dir, &token, "Legal");
    let oversized = h.tenant_group("acme", &dir, &token, entra_sim::OVERSIZED_GROUP);
    let settings = json!({"domains": {"mode": "all"}, "scope": {"mode": "groups", "group_ids": [legal, oversized]},
                          "send_email": false, "keep_previous_groups": false});
    h.save_settings(&base, &token, settings);
    h.sync_until_idle("acme", &dir, &token);

    let status = h.get(&format!("{base}/sync"), &token);
    let over = &status.body["last"]["counts"]["groups_over_limit"];
    assert_eq!(over[0]["id"], oversized.as_str(), "{}", status.body);
    assert!(over[0]["users"].as_u64().unwrap() > 10_000);
    let group = h.get(&format!("/api/v1/orgs/acme/groups/{oversized}"), &token);
    if group.status == StatusCode::OK {
        assert_eq!(group.body["group"]["synced"], false);
        assert!(
            group.body["group"]["not_synced_reason"]
                .as_str()
                .unwrap()
                .contains("split")
        );
    }
    let legal_group = h.get(&format!("/api/v1/orgs/acme/groups/{legal}"), &token);
    assert_eq!(
        legal_group.body["group"]["synced"], true,
        "{}",
        legal_group.body
    );
}
