//! What an operator and an org admin do, end to end, over HTTP.
//!
//! One walk-through, in the order a user meets the rules, against the
//! simulated tenant's `large` preset (see `components/entra-sim`): the demo
//! tenant (verified `contoso.com`, `Fabrikam.IO`, `contoso.onmicrosoft.com`;
//! unverified `LitWare.org`; guests; nested groups with a diamond) plus a
//! 10,000-user group and a 10,001-user group.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use entra_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, LARGE_GROUP, OVERSIZED_GROUP};
use serde_json::{Value, json};

use crate::client::{Client, Reply};
use crate::server::Server;

const ORG: &str = "contoso-e2e";
const OTHER_ORG: &str = "fabrikam-e2e";
/// How long one sync may take before the suite gives up.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs every scenario against `server`, printing each as it goes.
pub fn run_all(server: &Server) {
    let mut walk = Walk {
        api: server.client.clone(),
        operator: server.operator_token.clone(),
        admin: String::new(),
        dir: String::new(),
        groups: Groups::default(),
        started: Instant::now(),
        target: server.name,
    };
    walk.step("the app is healthy", Walk::health);
    walk.step("the operator creates an organization", Walk::create_org);
    walk.step(
        "SAML is refused before a sync",
        Walk::saml_refused_before_sync,
    );
    walk.step(
        "the admin connects the simulated tenant",
        Walk::connect_tenant,
    );
    walk.step(
        "the tenant's groups are listed for the picker",
        Walk::find_groups,
    );
    walk.step("settings: save and sync later", Walk::save_settings);
    walk.step("preview", Walk::preview);
    walk.step("sync starts and cannot be stopped", Walk::start_first_sync);
    walk.step("the first sync completes", Walk::wait_for_completion);
    walk.step("users, guests and unverified domains", Walk::check_users);
    walk.step(
        "groups, nesting and the 10,000-user limit",
        Walk::check_groups,
    );
    walk.step("claimed domains", Walk::check_domains);
    walk.step("no email while the setting is off", Walk::no_emails_yet);
    walk.step("product access and billing", Walk::grant_access);
    walk.step(
        "a second sync drops a group and adds one",
        Walk::second_sync,
    );
    walk.step(
        "a dropped group loses its product access",
        Walk::dropped_group,
    );
    walk.step(
        "emails go to new accounts only",
        Walk::emails_for_new_accounts,
    );
    walk.step(
        "an unchanged re-sync sends no email twice",
        Walk::resync_unchanged,
    );
    walk.step(
        "SAML is allowed after a sync",
        Walk::saml_allowed_after_sync,
    );
    walk.step(
        "another organization sees nothing of this one",
        Walk::isolation,
    );
}

#[derive(Debug, Default)]
struct Groups {
    engineering: String,
    platform_team: String,
    web_team: String,
    contractors: String,
    partners: String,
    sales: String,
    legal: String,
    marketing: String,
    large: String,
    oversized: String,
}

struct Walk {
    api: Client,
    operator: String,
    admin: String,
    dir: String,
    groups: Groups,
    started: Instant,
    target: &'static str,
}

/// Fails the test with the reply, for context.
#[track_caller]
fn expect(reply: &Reply, status: u16, what: &str) {
    assert_eq!(
        reply.status,
        status,
        "{what}: expected {status}, got {}: {}",
        reply.status,
        reply.text()
    );
}

/// `value[key]`, or `value[wrapper][key]` when the API wraps the object.
fn field<'a>(value: &'a Value, wrapper: &str, key: &str) -> &'a Value {
    if value.get(key).is_some() {
        &value[key]
    } else {
        &value[wrapper][key]
    }
}

fn lower(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_lowercase()
}

impl Walk {
    fn step(&mut self, name: &str, f: fn(&mut Walk)) {
        let at = Instant::now();
        println!("e2e ({}): {name} ...", self.target);
        f(self);
        println!(
            "e2e ({}): {name}: ok ({} ms, {} s in all)",
            self.target,
            at.elapsed().as_millis(),
            self.started.elapsed().as_secs()
        );
    }

    fn call(
        &self,
        method: &'static str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.api
            .send(method, path, token, body.as_ref(), None)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn admin(&self, method: &'static str, path: &str, body: Option<Value>) -> Reply {
        self.call(
            method,
            &format!("/api/v1/orgs/{ORG}{path}"),
            Some(&self.admin),
            body,
        )
    }

    fn dir_path(&self, rest: &str) -> String {
        format!("/directories/{}{rest}", self.dir)
    }

    /// Every item of a paged listing.
    fn all_pages(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                Some(c) => format!("{path}?limit=500&cursor={c}"),
                None => format!("{path}?limit=500"),
            };
            let reply = self.admin("GET", &page_path, None);
            expect(&reply, 200, &format!("GET {page_path}"));
            items.extend(reply.body["items"].as_array().cloned().unwrap_or_default());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    fn users_by_upn(&self) -> std::collections::BTreeMap<String, Value> {
        self.all_pages("/users")
            .into_iter()
            .map(|u| (lower(&u["user_principal_name"]), u))
            .collect()
    }

    fn group(&self, id: &str) -> Value {
        let reply = self.admin("GET", &format!("/groups/{id}"), None);
        expect(&reply, 200, "GET group");
        if reply.body.get("group").is_some() {
            reply.body["group"].clone()
        } else {
            reply.body
        }
    }

    fn sync_status(&self) -> Value {
        let reply = self.admin("GET", &self.dir_path("/sync"), None);
        expect(&reply, 200, "GET sync status");
        if reply.body.get("status").is_some_and(Value::is_object) {
            reply.body["status"].clone()
        } else {
            reply.body
        }
    }

    fn put_settings(&self, group_ids: &[&str], send_email: bool) -> Reply {
        let body = json!({
            "domains": {"mode": "all"},
            "scope": {"mode": "groups", "group_ids": group_ids},
            "send_email": send_email,
            "keep_previous_groups": false,
        });
        self.admin("PUT", &self.dir_path("/settings"), Some(body))
    }

    fn billable(&self) -> u64 {
        let reply = self.admin("GET", "/billing", None);
        expect(&reply, 200, "GET billing");
        field(&reply.body, "billing", "billable_users")
            .as_u64()
            .unwrap_or_else(|| panic!("no billable_users in {}", reply.text()))
    }

    fn emails(&self) -> Vec<Value> {
        self.all_pages("/emails")
    }

    // ---- scenarios ------------------------------------------------------

    fn health(&mut self) {
        let reply = self.call("GET", "/healthz", None, None);
        expect(&reply, 200, "GET /healthz");
    }

    fn create_org(&mut self) {
        let body = json!({"name": "Contoso E2E", "id": ORG});
        let anonymous = self.call("POST", "/api/v1/orgs", None, Some(body.clone()));
        expect(&anonymous, 401, "create an org without a token");
        assert_eq!(anonymous.code(), "unauthorized");
        let wrong = self.call(
            "POST",
            "/api/v1/orgs",
            Some("not-the-operator-token"),
            Some(body.clone()),
        );
        expect(&wrong, 401, "create an org with a wrong token");

        let created = self.call(
            "POST",
            "/api/v1/orgs",
            Some(&self.operator),
            Some(body.clone()),
        );
        expect(&created, 201, "create an org");
        self.admin = created.body["admin_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no admin_token in {}", created.text()))
            .to_owned();
        assert_eq!(created.body["org"]["id"], ORG);

        let again = self.call("POST", "/api/v1/orgs", Some(&self.operator), Some(body));
        expect(&again, 409, "create the same org twice");
        assert_eq!(again.code(), "already_exists");
    }

    fn saml_body() -> Value {
        json!({
            "idp_entity_id": format!("https://sts.windows.net/{DEMO_TENANT_ID}/"),
            "sso_url": format!("https://login.microsoftonline.com/{DEMO_TENANT_ID}/saml2"),
            "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUE2E=\n-----END CERTIFICATE-----\n",
        })
    }

    fn saml_refused_before_sync(&mut self) {
        let reply = self.admin("PUT", "/saml", Some(Self::saml_body()));
        expect(&reply, 409, "SAML before any sync");
        assert_eq!(reply.code(), "no_completed_sync");
        assert!(
            !reply.body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
    }

    fn connect_tenant(&mut self) {
        let body = json!({
            "name": "Contoso (simulated)",
            "tenant_id": DEMO_TENANT_ID,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        });
        let reply = self.admin("POST", "/directories", Some(body));
        expect(&reply, 201, "connect the tenant");
        assert!(
            !reply.text().contains(DEMO_CLIENT_SECRET),
            "the secret leaked: {}",
            reply.text()
        );
        self.dir = field(&reply.body, "directory", "id")
            .as_str()
            .unwrap_or_else(|| panic!("no directory id in {}", reply.text()))
            .to_owned();

        let listed = self.admin("GET", "/directories", None);
        expect(&listed, 200, "list directories");
        assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
        assert!(
            !listed.text().contains(DEMO_CLIENT_SECRET),
            "the secret leaked: {}",
            listed.text()
        );
    }

    fn find_group(&self, name: &str) -> String {
        let path = self.dir_path(&format!(
            "/tenant/groups?search={}",
            name.replace(' ', "%20").replace(',', "%2C")
        ));
        let reply = self.admin("GET", &path, None);
        expect(
            &reply,
            200,
            &format!("search the tenant's groups for {name:?}"),
        );
        reply.body["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["display_name"] == name)
            .and_then(|g| g["id"].as_str())
            .unwrap_or_else(|| panic!("group {name:?} not found: {}", reply.text()))
            .to_owned()
    }

    fn find_groups(&mut self) {
        self.groups = Groups {
            engineering: self.find_group("Engineering"),
            platform_team: self.find_group("Platform Team"),
            web_team: self.find_group("Web Team"),
            contractors: self.find_group("Contractors"),
            partners: self.find_group("Partners"),
            sales: self.find_group("Sales"),
            legal: self.find_group("Legal"),
            marketing: self.find_group("Marketing"),
            large: self.find_group(LARGE_GROUP),
            oversized: self.find_group(OVERSIZED_GROUP),
        };
    }

    fn first_scope(&self) -> Vec<&str> {
        let g = &self.groups;
        vec![
            &g.engineering,
            &g.contractors,
            &g.partners,
            &g.sales,
            &g.legal,
            &g.large,
            &g.oversized,
        ]
    }

    fn save_settings(&mut self) {
        let current = self.admin("GET", &self.dir_path("/settings"), None);
        expect(&current, 200, "GET settings");
        let etag = current
            .etag()
            .map(str::to_owned)
            .expect("settings carry an ETag");
        assert_eq!(
            current.body["settings"]["auto_sync"], false,
            "a new directory syncs manually"
        );

        // Bad input: a field-level error, and nothing changes.
        let bad = self.admin(
            "PUT",
            &self.dir_path("/settings"),
            Some(
                json!({"domains": {"mode": "only", "names": ["not a domain!"]},
                        "scope": {"mode": "all_users_and_groups"},
                        "send_email": false, "keep_previous_groups": false}),
            ),
        );
        expect(&bad, 422, "settings with a malformed domain");
        let fields = bad.body["error"]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            fields
                .iter()
                .any(|f| f["field"].as_str().unwrap_or("").starts_with("domains")),
            "the error names the domains field: {}",
            bad.text()
        );

        let body = json!({
            "domains": {"mode": "all"},
            "scope": {"mode": "groups", "group_ids": self.first_scope()},
            "send_email": false,
            "keep_previous_groups": false,
        });
        let saved = self
            .api
            .send(
                "PUT",
                &format!("/api/v1/orgs/{ORG}{}", self.dir_path("/settings")),
                Some(&self.admin),
                Some(&body),
                Some(&etag),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        expect(&saved, 200, "save settings (save and sync later)");
        assert_ne!(
            saved.etag(),
            Some(etag.as_str()),
            "saving bumps the version"
        );
        assert_eq!(
            saved.body["settings"]["auto_sync"], false,
            "save and sync later leaves auto sync off"
        );

        let stale = self
            .api
            .send(
                "PUT",
                &format!("/api/v1/orgs/{ORG}{}", self.dir_path("/settings")),
                Some(&self.admin),
                Some(&body),
                Some(&etag),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        expect(&stale, 412, "save settings with a stale If-Match");
    }

    fn preview(&mut self) {
        let reply = self.admin("POST", &self.dir_path("/sync/preview"), None);
        expect(&reply, 200, "preview");
        let groups = field(&reply.body, "preview", "groups");
        let ids: BTreeSet<&str> = groups
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["id"].as_str())
            .collect();
        assert_eq!(
            ids,
            self.first_scope().into_iter().collect(),
            "preview groups: {}",
            reply.text()
        );
        let domains = field(&reply.body, "preview", "domains");
        let will_sync: BTreeSet<String> = domains
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["will_sync"] == true)
            .map(|d| lower(&d["name"]))
            .collect();
        assert!(
            will_sync.contains("contoso.com") && will_sync.contains("fabrikam.io"),
            "{}",
            reply.text()
        );
        assert!(
            !will_sync.contains("litware.org"),
            "an unverified domain is not synced: {}",
            reply.text()
        );
    }

    fn start_sync(&self) -> Reply {
        let reply = self.admin("POST", &self.dir_path("/sync"), None);
        expect(&reply, 202, "start a sync");
        assert!(
            reply.text().to_lowercase().contains("cannot be stopped"),
            "the confirmation says the run cannot be stopped: {}",
            reply.text()
        );
        reply
    }

    fn start_first_sync(&mut self) {
        let started = self.start_sync();
        let status = &started.body["status"];
        let settings = self.admin("GET", &self.dir_path("/settings"), None);
        assert_eq!(
            settings.body["settings"]["auto_sync"], true,
            "Sync turns automatic syncing on"
        );

        for (method, path) in [("DELETE", "/sync"), ("POST", "/sync/stop")] {
            let stop = self.admin(method, &self.dir_path(path), None);
            expect(&stop, 409, "stop a sync");
            assert_eq!(stop.code(), "cannot_stop");
        }
        if !status["current"].is_null() {
            let first_run = status["current"]["run_id"].clone();
            let second = self.admin("POST", &self.dir_path("/sync"), None);
            if second.status == 202 {
                // The app kept working between the two requests: a second
                // start is accepted only because the first run had finished.
                let last = &second.body["status"]["last"];
                assert_eq!(last["run_id"], first_run, "{}", second.text());
                assert_eq!(last["result"], "completed", "{}", second.text());
            } else {
                expect(&second, 409, "a second sync while one runs");
                assert_eq!(second.code(), "run_in_progress");
            }
        }
    }

    /// Pumps ticks until the current run finishes; returns its summary.
    fn wait_for_completion(&mut self) {
        let summary = self.wait();
        // The users in scope, new (first run) or unchanged (a second Sync
        // accepted right after the first run finished).
        let counts = &summary["counts"];
        let count = |name: &str| counts[name].as_u64().unwrap_or(0);
        assert!(
            count("users_created") + count("users_unchanged") >= 10_000,
            "{summary}"
        );
    }

    fn wait(&self) -> Value {
        let deadline = Instant::now() + RUN_TIMEOUT;
        loop {
            let status = self.sync_status();
            if status["current"].is_null() && !status["last"].is_null() {
                let last = status["last"].clone();
                assert_eq!(last["result"], "completed", "the run failed: {last}");
                return last;
            }
            assert_ne!(
                status["current"]["phase"], "awaiting_confirmation",
                "the removal guard holds the run: {status}"
            );
            assert!(
                Instant::now() < deadline,
                "the run did not finish in {RUN_TIMEOUT:?}: {status}"
            );
            let tick = self.call("POST", "/api/v1/tick", Some(&self.operator), None);
            expect(&tick, 200, "tick");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn check_users(&mut self) {
        let users = self.users_by_upn();
        let synced = |upn: &str| users.get(upn).is_some_and(|u| u["synced"] == true);

        // Members on verified domains, whatever the UPN's case.
        for upn in [
            "johanna.lorenz@contoso.com",
            "hana.sato@fabrikam.io",
            "olivia.park@contoso.com",
        ] {
            assert!(synced(upn), "{upn} is synced");
        }
        // Guests sync whatever their domain, even an unverified one.
        for upn in [
            "jane.doe_gmail.com#ext#@contoso.onmicrosoft.com",
            "tom.baker_litware.org#ext#@contoso.onmicrosoft.com",
        ] {
            assert!(synced(upn), "guest {upn} is synced");
            assert_eq!(users[upn]["guest"], true);
        }
        // Members on the unverified domain do not.
        for upn in [
            "maya.cohen@litware.org",
            "liam.byrne@litware.org",
            "noah.fischer@litware.org",
        ] {
            assert!(!synced(upn), "{upn} (unverified domain) is not synced");
        }
        // The 10,000-user group's users; the 10,001st user is only in the
        // oversized group, which is not synced.
        assert!(synced("load.user010000@contoso.com"));
        assert!(!synced("load.user010001@contoso.com"));
        // Out of scope: not in any selected group.
        assert!(!synced("megan.bowen@contoso.com"));

        let summary = &self.sync_status()["last"];
        assert!(
            summary["counts"]["skipped_unverified_domain"]
                .as_u64()
                .unwrap_or(0)
                >= 3,
            "{summary}"
        );
    }

    fn check_groups(&mut self) {
        let g = &self.groups;
        let engineering = self.group(&g.engineering);
        assert_eq!(engineering["synced"], true);
        let children: BTreeSet<&str> = engineering["children"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            children,
            BTreeSet::from([g.platform_team.as_str(), g.web_team.as_str()]),
            "Engineering's nesting is remembered: {engineering}"
        );
        // Flattened: 5 direct or via teams + Core Reviewers reached twice
        // (a diamond), each user once.
        assert_eq!(engineering["member_count"], 11, "{engineering}");
        let members = self.all_pages(&format!("/groups/{}/members", g.engineering));
        let upns: BTreeSet<String> = members
            .iter()
            .map(|m| lower(&m["user_principal_name"]))
            .collect();
        assert_eq!(upns.len(), 11, "each user once: {upns:?}");
        let ivan = members
            .iter()
            .find(|m| lower(&m["user_principal_name"]) == "ivan.horvat@fabrikam.io")
            .expect("a Core Reviewers member is reached through two nested groups");
        assert_eq!(ivan["direct"], false);
        // Nested groups are synced too.
        assert_eq!(self.group(&g.platform_team)["synced"], true);

        let large = self.group(&g.large);
        assert_eq!(large["synced"], true);
        assert_eq!(large["member_count"], 10_000);

        let oversized = self.admin("GET", &format!("/groups/{}", g.oversized), None);
        if oversized.status == 200 {
            let synced = field(&oversized.body, "group", "synced");
            assert_eq!(
                synced,
                false,
                "over the limit: not synced: {}",
                oversized.text()
            );
            assert!(
                !oversized.text().contains("\"not_synced_reason\":null"),
                "{}",
                oversized.text()
            );
        } else {
            expect(&oversized, 404, "the oversized group");
        }
        let summary = &self.sync_status()["last"];
        let over = summary["counts"]["groups_over_limit"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            over.iter()
                .any(|o| o["id"] == g.oversized.as_str() && o["users"].as_u64() >= Some(10_001)),
            "the run reports the group over the limit: {summary}"
        );
    }

    fn check_domains(&mut self) {
        let reply = self.admin("GET", "/domains", None);
        expect(&reply, 200, "claimed domains");
        let items = reply.body["items"]
            .as_array()
            .or(reply.body["domains"].as_array())
            .cloned()
            .unwrap_or_default();
        let names: BTreeSet<String> = items.iter().map(|d| lower(&d["name"])).collect();
        assert!(
            names.contains("contoso.com") && names.contains("fabrikam.io"),
            "{}",
            reply.text()
        );
        assert!(
            !names.contains("litware.org"),
            "an unverified domain is never claimed: {}",
            reply.text()
        );
    }

    fn no_emails_yet(&mut self) {
        assert!(
            self.emails().is_empty(),
            "send_email is off: no email is queued"
        );
    }

    fn grant_access(&mut self) {
        assert_eq!(
            self.billable(),
            0,
            "a new group has no product access until granted"
        );
        for (group, expected) in [
            (self.groups.engineering.clone(), 11),
            (self.groups.legal.clone(), 13),
        ] {
            let reply = self.admin(
                "PUT",
                &format!("/groups/{group}/product-access"),
                Some(json!({"enabled": true})),
            );
            expect(&reply, 200, "grant product access");
            assert_eq!(field(&reply.body, "group", "product_access"), true);
            assert_eq!(
                self.billable(),
                expected,
                "billable users = distinct users in groups with access"
            );
        }
    }

    fn second_scope(&self) -> Vec<&str> {
        let g = &self.groups;
        vec![
            &g.engineering,
            &g.contractors,
            &g.partners,
            &g.sales,
            &g.marketing,
            &g.large,
            &g.oversized,
        ]
    }

    fn second_sync(&mut self) {
        let saved = self.put_settings(&self.second_scope(), true);
        expect(&saved, 200, "save the second scope");
        let preview = self.admin("POST", &self.dir_path("/sync/preview"), None);
        expect(&preview, 200, "preview");
        let changes = field(&preview.body, "preview", "changes");
        assert!(
            changes["groups_removed"]
                .to_string()
                .contains(&self.groups.legal),
            "{}",
            preview.text()
        );
        assert!(
            changes["groups_added"]
                .to_string()
                .contains(&self.groups.marketing),
            "{}",
            preview.text()
        );
        self.start_sync();
        // Legal had product access: the removal guard holds the run until
        // the admin confirms, and nothing is removed meanwhile.
        let held = self.wait_until_held();
        let pending = &held["current"]["pending_removals"];
        assert!(
            pending["access_removed"]
                .to_string()
                .contains(&self.groups.legal),
            "{held}"
        );
        assert_eq!(self.billable(), 13, "nothing removed before confirmation");
        let confirmed = self.admin("POST", &self.dir_path("/sync/confirm"), None);
        expect(&confirmed, 200, "confirm the removals");
        self.wait();
    }

    /// Pumps ticks until the current run waits for the admin's
    /// confirmation of its removals; returns the status.
    fn wait_until_held(&self) -> Value {
        let deadline = Instant::now() + RUN_TIMEOUT;
        loop {
            let status = self.sync_status();
            if status["current"]["phase"] == "awaiting_confirmation" {
                return status;
            }
            assert!(
                status["current"].is_object() && Instant::now() < deadline,
                "the run was to wait for confirmation: {status}"
            );
            let tick = self.call("POST", "/api/v1/tick", Some(&self.operator), None);
            expect(&tick, 200, "tick");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn dropped_group(&mut self) {
        let legal = self.admin("GET", &format!("/groups/{}", self.groups.legal), None);
        if legal.status == 200 {
            assert_eq!(
                field(&legal.body, "group", "product_access"),
                false,
                "{}",
                legal.text()
            );
        } else {
            expect(&legal, 404, "the dropped group");
        }
        assert_eq!(self.billable(), 11, "Legal's users are no longer billed");
        let marketing = self.group(&self.groups.marketing);
        assert_eq!(
            marketing["product_access"], false,
            "a new group has no access until granted"
        );
        let users = self.users_by_upn();
        assert_eq!(
            users["joni.sherman@contoso.com"]["synced"], false,
            "left the scope: kept, not synced"
        );
    }

    fn emails_for_new_accounts(&mut self) {
        let emails = self.emails();
        let to: BTreeSet<String> = emails.iter().map(|e| lower(&e["to"])).collect();
        assert_eq!(to.len(), emails.len(), "one email per account: {emails:?}");
        for new in ["alex.wilber@contoso.com", "megan.bowen@contoso.com"] {
            assert!(
                to.contains(new),
                "{new} (new, in Marketing) gets an email: {to:?}"
            );
        }
        for existing in ["miriam.graham@contoso.com", "johanna.lorenz@contoso.com"] {
            assert!(
                !to.contains(existing),
                "{existing} already had an account: {to:?}"
            );
        }
        assert!(emails.len() <= 4, "only Marketing's 4 new accounts: {to:?}");
    }

    fn resync_unchanged(&mut self) {
        let before = self.emails().len();
        self.start_sync();
        let summary = self.wait();
        assert_eq!(summary["counts"]["users_created"], 0, "{summary}");
        assert_eq!(self.emails().len(), before, "no email twice");
    }

    fn saml_allowed_after_sync(&mut self) {
        let reply = self.admin("PUT", "/saml", Some(Self::saml_body()));
        expect(&reply, 200, "SAML after a completed sync");
        let bad = self.admin(
            "PUT",
            "/saml",
            Some(json!({"idp_entity_id": "x", "sso_url": "http://insecure.example", "certificate_pem": "nope"})),
        );
        expect(&bad, 422, "SAML with bad fields");
    }

    fn isolation(&mut self) {
        let created = self.call(
            "POST",
            "/api/v1/orgs",
            Some(&self.operator),
            Some(json!({"name": "Fabrikam E2E", "id": OTHER_ORG})),
        );
        expect(&created, 201, "create a second org");
        let other = created.body["admin_token"]
            .as_str()
            .expect("admin token")
            .to_owned();
        let g = &self.groups;
        for path in [
            "/users".to_owned(),
            "/groups".to_owned(),
            format!("/groups/{}", g.engineering),
            format!("/groups/{}/members", g.engineering),
            "/domains".to_owned(),
            "/billing".to_owned(),
            "/emails".to_owned(),
            "/saml".to_owned(),
            format!("/directories/{}", self.dir),
            format!("/directories/{}/settings", self.dir),
            format!("/directories/{}/sync", self.dir),
        ] {
            let reply = self.call(
                "GET",
                &format!("/api/v1/orgs/{ORG}{path}"),
                Some(&other),
                None,
            );
            expect(&reply, 404, &format!("org B reading org A's {path}"));
        }
        let own = self.call(
            "GET",
            &format!("/api/v1/orgs/{OTHER_ORG}/users"),
            Some(&other),
            None,
        );
        expect(&own, 200, "org B reading its own users");
        assert_eq!(own.body["items"].as_array().map(Vec::len), Some(0));
    }
}
