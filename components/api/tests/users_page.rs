//! What the console's Users page, a group's page and the history's CSV
//! download read: `search` and `filter` on the users listing, a user's
//! detail (groups by name, runs, why not synced), `search` on a group's
//! members, and `sync/runs/{run}.csv`.

mod common;

use common::Harness;
use http::StatusCode;
use serde_json::{Value, json};

/// An org with the demo tenant synced (all users and groups); returns
/// (token, directory).
fn synced(h: &Harness, org: &str) -> (String, String) {
    let token = h.create_org(org);
    let dir = h.connect_demo(org, &token);
    let started = h.post(
        &format!("/api/v1/orgs/{org}/directories/{dir}/sync"),
        &token,
        json!({}),
    );
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    h.tick_until_idle(org, &dir, &token);
    (token, dir)
}

fn names(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|u| u["display_name"].as_str().unwrap_or(""))
        .collect()
}

#[test]
fn users_are_searched_by_name_upn_or_mail_ignoring_case() {
    let h = Harness::new();
    let (token, _) = synced(&h, "acme");
    let by_name = h.all_items("/api/v1/orgs/acme/users?search=rAJ", &token);
    assert_eq!(names(&by_name), ["Raj Patel"]);
    let by_mail = h.all_items("/api/v1/orgs/acme/users?search=gmail.com", &token);
    assert_eq!(names(&by_mail), ["Jane Doe"]);
    let by_upn = h.all_items("/api/v1/orgs/acme/users?search=%23EXT%23", &token);
    assert_eq!(by_upn.len(), 4, "the four guests: {by_upn:?}");
    let none = h.get("/api/v1/orgs/acme/users?search=nobody-by-this-name", &token);
    assert_eq!(none.body, json!({"items": [], "next_cursor": null}));
}

#[test]
fn a_search_matches_the_same_letters_however_they_are_encoded() {
    let h = Harness::new();
    let zoe = entra_sim::ChangeOp::AddUser {
        user_principal_name: "zoe.martin@contoso.com".to_owned(),
        display_name: Some("Zo\u{eb} Martin".to_owned()),
        guest: false,
        groups: Vec::new(),
        mail: None,
        no_mail: false,
        other_mails: Vec::new(),
    };
    h.sim
        .sim()
        .with_tenant(|t| zoe.apply(t))
        .expect("user added");
    let (token, _) = synced(&h, "acme");
    // "Zoë" typed with a combining diaeresis (as macOS keyboards send it)
    // finds what the precomposed letter finds, in any case.
    let composed = h.all_items("/api/v1/orgs/acme/users?search=zo%C3%AB", &token);
    let decomposed = h.all_items("/api/v1/orgs/acme/users?search=ZOE%CC%88", &token);
    assert_eq!(names(&composed), ["Zo\u{eb} Martin"]);
    assert_eq!(names(&decomposed), names(&composed));
}

#[test]
fn users_are_filtered_synced_not_synced_disabled_or_guest() {
    let h = Harness::new();
    let (token, _) = synced(&h, "acme");
    let all = h.all_items("/api/v1/orgs/acme/users", &token);
    let count = |filter: &str, keep: &dyn Fn(&Value) -> bool| {
        let filtered = h.all_items(&format!("/api/v1/orgs/acme/users?filter={filter}"), &token);
        assert!(filtered.iter().all(keep), "{filter}: {filtered:?}");
        assert_eq!(
            filtered.len(),
            all.iter().filter(|u| keep(u)).count(),
            "{filter}"
        );
        filtered.len()
    };
    assert!(count("synced", &|u| u["synced"] == true) > 0);
    assert_eq!(count("not_synced", &|u| u["synced"] == false), 0);
    assert!(count("disabled", &|u| u["account_enabled"] == false) > 0);
    assert_eq!(count("guest", &|u| u["guest"] == true), 4);
    let both = h.all_items("/api/v1/orgs/acme/users?filter=guest&search=doe", &token);
    assert_eq!(names(&both), ["Jane Doe"]);

    let unknown = h.get("/api/v1/orgs/acme/users?filter=admins", &token);
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert_eq!(unknown.body["error"]["fields"][0]["field"], "filter");
}

#[test]
fn a_user_has_its_groups_by_name_its_runs_and_why_it_left_the_scope() {
    let h = Harness::new();
    let (token, dir) = synced(&h, "acme");
    let jane = h.all_items("/api/v1/orgs/acme/users?search=jane", &token)[0].clone();
    let id = jane["id"].as_str().expect("id");
    let detail = h.get(&format!("/api/v1/orgs/acme/users/{id}"), &token);
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    let user = &detail.body["user"];
    assert_eq!(user["domain"], "contoso.onmicrosoft.com");
    assert_eq!(user["created_run"], 1);
    assert_eq!(user["changed_run"], 1);
    assert_eq!(user["left_run"], Value::Null);
    assert_eq!(user["not_synced_reason"], Value::Null);
    let groups: Vec<(&str, bool)> = detail.body["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["display_name"].as_str().unwrap_or(""),
                g["direct"] == true,
            )
        })
        .collect();
    // Direct memberships first, then All Staff through Sales (nested).
    assert_eq!(
        groups,
        [("Partners", true), ("Sales", true), ("All Staff", false)]
    );

    // Only Sales from now on: the guests outside it leave the scope.
    let sales = h.tenant_group("acme", &dir, &token, "Sales");
    let base = format!("/api/v1/orgs/acme/directories/{dir}");
    let put = h.put(
        &format!("{base}/settings"),
        &token,
        json!({"domains": {"mode": "all"}, "scope": {"mode": "groups", "group_ids": [sales]},
               "send_email": false, "keep_previous_groups": false,
               "removal_guard": {"enabled": false}}),
    );
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let again = h.post(&format!("{base}/sync"), &token, json!({}));
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    h.tick_until_idle("acme", &dir, &token);

    let raj = h.all_items("/api/v1/orgs/acme/users?search=raj", &token)[0].clone();
    assert_eq!(raj["synced"], false);
    assert_eq!(raj["left_run"], 2);
    assert_eq!(raj["changed_run"], 2);
    assert_eq!(
        raj["not_synced_reason"],
        "not a member of any synced group; left the scope in run 2"
    );
    let left = h.all_items("/api/v1/orgs/acme/users?filter=not_synced", &token);
    assert!(names(&left).contains(&"Raj Patel"), "{left:?}");
    assert!(!names(&left).contains(&"Jane Doe"), "{left:?}");
}

#[test]
fn a_groups_members_are_searched_like_users() {
    let h = Harness::new();
    let (token, dir) = synced(&h, "acme");
    let partners = h.tenant_group("acme", &dir, &token, "Partners");
    let path = format!("/api/v1/orgs/acme/groups/{partners}/members");
    assert_eq!(h.all_items(&path, &token).len(), 4);
    let sofia = h.all_items(&format!("{path}?search=ROSSI"), &token);
    assert_eq!(names(&sofia), ["Sofia Rossi"]);
    let by_mail = h.all_items(&format!("{path}?search=outlook.com"), &token);
    assert_eq!(names(&by_mail), ["Raj Patel"]);
    let group = h.get(&format!("/api/v1/orgs/acme/groups/{partners}"), &token);
    assert_eq!(group.body["group"]["member_count"], 4, "{}", group.body);
}

#[test]
fn a_user_or_group_id_given_in_upper_case_is_the_same_object() {
    // Entra object ids are GUIDs: case does not tell two apart.
    let h = Harness::new();
    let (token, dir) = synced(&h, "acme");
    let jane = h.all_items("/api/v1/orgs/acme/users?search=jane", &token)[0].clone();
    let id = jane["id"].as_str().expect("id");
    let upper = h.get(
        &format!("/api/v1/orgs/acme/users/{}", id.to_uppercase()),
        &token,
    );
    assert_eq!(upper.status, StatusCode::OK, "{}", upper.body);
    assert_eq!(upper.body["user"]["id"], id);

    let partners = h
        .tenant_group("acme", &dir, &token, "Partners")
        .to_uppercase();
    let members = h.all_items(
        &format!("/api/v1/orgs/acme/groups/{partners}/members"),
        &token,
    );
    assert_eq!(members.len(), 4);
    let granted = h.put(
        &format!("/api/v1/orgs/acme/groups/{partners}/product-access"),
        &token,
        json!({"enabled": true}),
    );
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    let billing = h.get("/api/v1/orgs/acme/billing", &token);
    assert_eq!(billing.body["groups_with_access"], 1, "{}", billing.body);
    assert_eq!(billing.body["billable_users"], 4, "{}", billing.body);
}

#[test]
fn a_finished_run_downloads_as_csv() {
    let h = Harness::new();
    let (token, dir) = synced(&h, "acme");
    let path = format!("/api/v1/orgs/acme/directories/{dir}/sync/runs/1.csv");
    let csv = h.get(&path, &token);
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some(format!("attachment; filename=\"idp-sync-acme-{dir}-run-1.csv\"").as_str())
    );
    let text = String::from_utf8(csv.raw).expect("UTF-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(r#""section","time","level","name","value""#)
    );
    assert!(
        text.contains("\n\"summary\",\"\",\"\",\"run_id\",1\n"),
        "{text}"
    );
    assert!(
        text.contains("\n\"summary\",\"\",\"\",\"result\",\"completed\"\n"),
        "{text}"
    );
    assert!(
        text.contains("\n\"summary\",\"\",\"\",\"users_created\","),
        "{text}"
    );
    // A log message with commas is one quoted field.
    let skipped = text
        .lines()
        .find(|l| l.contains("users skipped: their sign-in domain is not verified here"))
        .expect("the skipped users' log line");
    assert!(skipped.starts_with("\"log\",\"20"), "{skipped}");
    assert!(
        skipped.contains(
            ",\"message\",\"3 users skipped: their sign-in domain is not verified here (e.g. "
        ) && skipped.ends_with(")\""),
        "{skipped}"
    );
}

#[test]
fn a_run_csv_of_another_org_or_of_no_finished_run_is_404() {
    let h = Harness::new();
    let (token, dir) = synced(&h, "acme");
    let other = h.create_org("globex");
    let base = format!("/api/v1/orgs/acme/directories/{dir}/sync/runs");
    assert_eq!(
        h.get(&format!("{base}/1.csv"), &other).status,
        StatusCode::NOT_FOUND
    );
    let theirs = format!("/api/v1/orgs/globex/directories/{dir}/sync/runs/1.csv");
    assert_eq!(h.get(&theirs, &other).status, StatusCode::NOT_FOUND);
    for missing in ["2.csv", "1.json", "one.csv", "1"] {
        let reply = h.get(&format!("{base}/{missing}"), &token);
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{missing}: {}",
            reply.body
        );
    }
}
