//! The simulator speaks Graph's and Entra's protocol: paging, errors,
//! tokens, and its own admin endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use entra_sim::server::SimServer;
use entra_sim::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Faults, LARGE_GROUP, OVERSIZED_GROUP,
    Preset, Sim, TenantBuilder, handle,
};
use http::{Request, StatusCode};
use serde_json::{Value, json};

fn token_form(secret: &str, scope: &str, grant: &str) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", grant)
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("client_secret", secret)
        .append_pair("scope", scope)
        .finish()
        .into_bytes()
}

const SCOPE: &str = "https://graph.microsoft.com/.default";

fn call(
    sim: &Sim,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "sim.test:8443");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let response = handle(sim, req.body(body).unwrap());
    let body = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    (response.status(), body)
}

fn token(sim: &Sim) -> String {
    let (status, body) = call(
        sim,
        "POST",
        &format!("/{DEMO_TENANT_ID}/oauth2/v2.0/token"),
        None,
        token_form(DEMO_CLIENT_SECRET, SCOPE, "client_credentials"),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn pages_default_to_100_link_back_to_the_serving_host_and_refuse_top_over_999() {
    let sim = Sim::new(
        TenantBuilder::demo().extra_users(150).build(),
        Faults::default(),
    );
    let token = token(&sim);

    let (status, first) = call(&sim, "GET", "/v1.0/users", Some(&token), vec![]);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["value"].as_array().unwrap().len(), 100);
    let next = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with("http://sim.test:8443/v1.0/users?$skiptoken="),
        "{next}"
    );

    let (_, second) = call(
        &sim,
        "GET",
        next.trim_start_matches("http://sim.test:8443"),
        Some(&token),
        vec![],
    );
    assert_eq!(second["value"].as_array().unwrap().len(), 90);
    assert!(second.get("@odata.nextLink").is_none());

    let (status, refused) = call(&sim, "GET", "/v1.0/users?$top=1000", Some(&token), vec![]);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"]["code"], "Request_UnsupportedQuery");
    assert_eq!(
        refused["error"]["message"],
        "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    );
    assert_eq!(
        refused["error"]["innerError"]["request-id"]
            .as_str()
            .unwrap()
            .len(),
        36
    );
}

#[test]
fn skip_tokens_are_opaque_and_a_tampered_one_is_refused() {
    let sim = Sim::new(
        TenantBuilder::demo().extra_users(150).build(),
        Faults::default(),
    );
    let token = token(&sim);
    let (_, first) = call(&sim, "GET", "/v1.0/users?$top=50", Some(&token), vec![]);
    let next = first["@odata.nextLink"].as_str().unwrap();
    let skip = next.split("$skiptoken=").nth(1).unwrap();
    assert!(
        !skip.contains("users") && !skip.contains('-'),
        "no readable state: {skip}"
    );

    let mut tampered = skip.to_owned();
    tampered.replace_range(0..2, if skip.starts_with("00") { "11" } else { "00" });
    let (status, body) = call(
        &sim,
        "GET",
        &format!("/v1.0/users?$skiptoken={tampered}"),
        Some(&token),
        vec![],
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[test]
fn select_returns_only_the_named_properties_and_the_user_cast_only_users() {
    let sim = Sim::preset(Preset::Demo);
    let token = token(&sim);
    let group = sim.with_tenant(|t| t.find_group("Devices and Services").unwrap().id.clone());

    let (_, users) = call(
        &sim,
        "GET",
        "/v1.0/users?$select=id,accountEnabled&$top=1",
        Some(&token),
        vec![],
    );
    let keys: Vec<&String> = users["value"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["accountEnabled", "id"]);

    let (_, all) = call(
        &sim,
        "GET",
        &format!("/v1.0/groups/{group}/members"),
        Some(&token),
        vec![],
    );
    let (_, only_users) = call(
        &sim,
        "GET",
        &format!("/v1.0/groups/{group}/members/microsoft.graph.user"),
        Some(&token),
        vec![],
    );
    assert_eq!(all["value"].as_array().unwrap().len(), 6);
    let types: Vec<&str> = only_users["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["#microsoft.graph.user", "#microsoft.graph.user"]);
}

#[test]
fn the_token_endpoint_answers_like_entra() {
    let sim = Sim::preset(Preset::Demo);
    let path = format!("/{DEMO_TENANT_ID}/oauth2/v2.0/token");
    let cases = [
        (
            token_form(DEMO_CLIENT_SECRET, "User.Read", "client_credentials"),
            400,
            "invalid_scope",
            1002012,
        ),
        (
            token_form(DEMO_CLIENT_SECRET, SCOPE, "password"),
            400,
            "unsupported_grant_type",
            70003,
        ),
        (
            token_form("wrong", SCOPE, "client_credentials"),
            401,
            "invalid_client",
            7000215,
        ),
    ];
    for (form, status, error, code) in cases {
        let (got, body) = call(&sim, "POST", &path, None, form);
        assert_eq!(got.as_u16(), status, "{body}");
        assert_eq!(body["error"], error);
        assert_eq!(body["error_codes"], json!([code]));
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("AADSTS{code}:"))
        );
    }

    let (status, _) = call(
        &sim,
        "POST",
        "/CONTOSO.onmicrosoft.com/oauth2/v2.0/token",
        None,
        token_form(DEMO_CLIENT_SECRET, SCOPE, "client_credentials"),
    );
    assert_eq!(
        status,
        StatusCode::OK,
        "a verified domain names the tenant too"
    );
    let (status, body) = call(&sim, "GET", "/v1.0/users", Some("sim.00.forged"), vec![]);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

#[test]
fn presets_are_deterministic_and_sized_as_documented() {
    let demo = Preset::Demo.build();
    assert_eq!(demo.users.len(), 40);
    assert_eq!(
        Preset::Demo.build().users.keys().collect::<Vec<_>>(),
        demo.users.keys().collect::<Vec<_>>()
    );
    let guests = demo
        .users
        .values()
        .filter(|u| u.user_type == "Guest")
        .count();
    let disabled = demo.users.values().filter(|u| !u.account_enabled).count();
    let without_mail = demo.users.values().filter(|u| u.mail.is_none()).count();
    assert_eq!((guests, disabled, without_mail), (4, 4, 6));
    assert!(demo.domains.iter().any(|d| !d.is_verified));
    assert!(demo.find_group("Empty Project").unwrap().members.is_empty());

    let large = Preset::Large.build();
    assert_eq!(large.find_group(LARGE_GROUP).unwrap().members.len(), 10_000);
    assert_eq!(
        large.find_group(OVERSIZED_GROUP).unwrap().members.len(),
        10_001
    );
    assert_eq!(
        large.users.len(),
        40 + 10_001,
        "the two groups share their users"
    );
}

#[test]
fn the_admin_endpoints_drive_the_simulator_over_http() {
    let server = SimServer::start_local(Sim::preset(Preset::Demo)).unwrap();
    let base = server.base_url();
    let post = |path: &str, body: Value| {
        let mut response = ureq::post(format!("{base}/_sim/{path}"))
            .config()
            .http_status_as_error(false)
            .build()
            .content_type("application/json")
            .send(body.to_string())
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str::<Value>(&text).unwrap())
    };

    let (status, faults) = post(
        "faults",
        json!({"throttle_every": 3, "retry_after_secs": 7}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        (
            faults["throttle_every"].as_u64(),
            faults["retry_after_secs"].as_u64()
        ),
        (Some(3), Some(7))
    );
    assert_eq!(server.sim().faults().throttle_every, 3);
    let (status, _) = post("faults", json!({"throttle_evry": 3}));
    assert_eq!(status, 400, "a misspelt knob is refused");

    let (status, applied) = post(
        "changes",
        json!([{"op": "add_user", "user_principal_name": "ann.new@contoso.com", "groups": ["Sales"]},
               {"op": "rename_group", "group": "Sales", "display_name": "Sales EMEA"}]),
    );
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["version"], 3);
    let (status, _) = post(
        "changes",
        json!([{"op": "remove_user", "user": "adele.vance@contoso.com"},
               {"op": "remove_user", "user": "nobody@contoso.com"}]),
    );
    assert_eq!(status, 400);
    assert!(
        server
            .sim()
            .with_tenant(|t| t.find_user("adele.vance@contoso.com").is_some()),
        "a failing batch changes nothing"
    );

    let _ = ureq::get(format!("{base}/v1.0/users"))
        .config()
        .http_status_as_error(false)
        .build()
        .call();
    let stats: Value = serde_json::from_str(
        &ureq::get(format!("{base}/_sim/stats"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stats["requests"]["users"], 1);

    let (status, _) = post("reset", json!({"preset": "demo"}));
    assert_eq!(status, 200);
    assert_eq!(server.sim().stats().graph_requests, 0);
    assert!(
        server
            .sim()
            .with_tenant(|t| t.find_user("ann.new@contoso.com").is_none())
    );
}

#[test]
fn drift_changes_the_tenant_the_same_way_every_time() {
    let drifted = || {
        let mut tenant = Preset::Demo.build();
        entra_sim::ChangeOp::Drift { count: 3 }
            .apply(&mut tenant)
            .unwrap();
        tenant
    };
    let (a, b) = (drifted(), drifted());

    assert!(
        a.version() >= 3 * 4,
        "each round adds, removes, renames and moves"
    );
    assert_eq!(a.users, b.users);
    assert_eq!(a.groups, b.groups);
    assert_ne!(a.users, Preset::Demo.build().users);
}

#[test]
fn add_domain_adds_a_domain_or_changes_its_verification() {
    let mut tenant = Preset::Demo.build();
    let add = |name: &str, verified: bool| entra_sim::ChangeOp::AddDomain {
        name: name.to_owned(),
        verified,
    };
    add("saml.example", true).apply(&mut tenant).unwrap();
    add("contoso.com", false).apply(&mut tenant).unwrap();
    let verified = |name: &str| {
        let found = tenant.domains.iter().filter(|d| d.id == name);
        found.map(|d| d.is_verified).collect::<Vec<_>>()
    };
    assert_eq!(verified("saml.example"), [true]);
    assert_eq!(verified("contoso.com"), [false], "changed, not added twice");
}
