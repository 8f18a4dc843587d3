//! The whole API over its router, natively: the engine's in-memory store, a
//! simulated Entra tenant served on loopback, and a real Graph client.
#![allow(dead_code)] // each test file uses its own part of the harness
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::Duration;

use api::App;
pub use e2e::client::Reply;
use engine::ports::Timestamp;
pub use engine::testing::RecordingMailer;
use engine::{ManualClock, MemoryStore};
use entra_sim::server::SimServer;
use entra_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Preset, Sim};
use futures::executor::block_on;
use graph::native::{ThreadPause, UreqClient};
use http::{Method, StatusCode};
use platform::config::names;
use platform::{AppConfig, MapVariables, Platform};
use serde_json::{Value, json};

pub const OPERATOR: &str = "operator-token-for-api-tests";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// 2026-01-01T00:00:00Z.
pub const T0: Timestamp = Timestamp::from_timestamp_millis(1_767_225_600_000).unwrap();

/// The API tests' platform: the native one, but with a clock the tests
/// move and a mailer they read.
pub struct TestPlatform {
    pub store: MemoryStore,
    pub http: UreqClient,
    pub clock: ManualClock,
    pub mailer: RecordingMailer,
    pub pause: ThreadPause,
}

impl Platform for TestPlatform {
    type Store = MemoryStore;
    type Http = UreqClient;
    type Clock = ManualClock;
    type Mailer = RecordingMailer;
    type Pause = ThreadPause;

    fn store(&self) -> &MemoryStore {
        &self.store
    }

    fn http(&self) -> &UreqClient {
        &self.http
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }

    fn mailer(&self) -> &RecordingMailer {
        &self.mailer
    }

    fn pause(&self) -> &ThreadPause {
        &self.pause
    }
}

/// A settings body: every domain, all users and groups, previous groups
/// not kept.
pub fn all_users_settings(send_email: bool) -> Value {
    json!({"domains": {"mode": "all"}, "scope": {"mode": "all_users_and_groups"},
           "send_email": send_email, "keep_previous_groups": false})
}

pub type TestApp = App<TestPlatform>;

pub struct Harness {
    pub app: TestApp,
    pub sim: SimServer,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_preset(Preset::Demo)
    }

    pub fn with_preset(preset: Preset) -> Harness {
        Harness::build(preset, &[])
    }

    /// A harness whose configuration variables include `extra` (e.g. a
    /// page budget of one, so a run spans many invocations).
    pub fn build(preset: Preset, extra: &[(&str, &str)]) -> Harness {
        let sim = SimServer::start_local(Sim::preset(preset)).expect("simulator on loopback");
        let mut vars = MapVariables::new([
            (names::OPERATOR_TOKEN, OPERATOR),
            (names::ENCRYPTION_KEY, KEY),
            (names::AUTHORITY_URL, sim.base_url()),
            (names::GRAPH_URL, sim.base_url()),
        ]);
        for (name, value) in extra {
            vars.set(name, value);
        }
        let config = block_on(AppConfig::load(&vars)).expect("test configuration");
        let platform = TestPlatform {
            store: MemoryStore::new(),
            http: UreqClient::new(Duration::from_secs(10)),
            clock: ManualClock::new(T0),
            mailer: RecordingMailer::default(),
            pause: ThreadPause::default(),
        };
        let app = App { platform, config };
        Harness { app, sim }
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                serde_json::to_vec(&body).expect("JSON")
            }
            None => Vec::new(),
        };
        self.send(builder.body(bytes).expect("request"))
    }

    pub fn send(&self, req: http::Request<Vec<u8>>) -> Reply {
        let response = block_on(api::handle(&self.app, req));
        let (parts, raw) = response.into_parts();
        Reply::new(parts.status, parts.headers, raw)
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body))
    }

    pub fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body))
    }

    /// Creates an org; returns its admin token.
    pub fn create_org(&self, id: &str) -> String {
        let reply = self.post(
            "/api/v1/orgs",
            OPERATOR,
            json!({"name": format!("Org {id}"), "id": id}),
        );
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["admin_token"]
            .as_str()
            .expect("admin token")
            .to_owned()
    }

    /// An org `acme` with the demo tenant connected: its admin token, the
    /// directory id and the directory's path.
    pub fn acme_with_demo(&self) -> (String, String, String) {
        let token = self.create_org("acme");
        let dir = self.connect_demo("acme", &token);
        let base = format!("/api/v1/orgs/acme/directories/{dir}");
        (token, dir, base)
    }

    /// Connects the simulated demo tenant; returns the directory id.
    pub fn connect_demo(&self, org: &str, token: &str) -> String {
        self.connect_with_secret(org, token, DEMO_CLIENT_SECRET)
    }

    /// Saves a directory's settings (`PUT {dir_path}/settings`), which must
    /// succeed.
    pub fn save_settings(&self, dir_path: &str, token: &str, settings: Value) {
        let reply = self.put(&format!("{dir_path}/settings"), token, settings);
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    /// Starts a sync (`POST .../sync`, which must be accepted) and ticks
    /// until the directory is idle (see [`Harness::tick_until_idle`]).
    pub fn sync_until_idle(&self, org: &str, dir: &str, token: &str) -> usize {
        let path = format!("/api/v1/orgs/{org}/directories/{dir}/sync");
        let started = self.call(Method::POST, &path, Some(token), None);
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
        self.tick_until_idle(org, dir, token)
    }

    /// Connects the simulated demo tenant with `client_secret` (which may
    /// be wrong: Entra is asked only later); returns the directory id.
    pub fn connect_with_secret(&self, org: &str, token: &str, client_secret: &str) -> String {
        let reply = self.post(
            &format!("/api/v1/orgs/{org}/directories"),
            token,
            json!({
                "name": "Contoso Entra",
                "tenant_id": DEMO_TENANT_ID,
                "client_id": DEMO_CLIENT_ID,
                "client_secret": client_secret,
            }),
        );
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["directory"]["id"]
            .as_str()
            .expect("directory id")
            .to_owned()
    }

    pub fn writes(&self) -> u64 {
        let stats = self.app.platform.store.stats();
        stats.writes + stats.deletes
    }
}

impl Harness {
    /// The id of a tenant group, by display name (read live).
    pub fn tenant_group(&self, org: &str, dir: &str, token: &str, name: &str) -> String {
        let reply = self.get(
            &format!(
                "/api/v1/orgs/{org}/directories/{dir}/tenant/groups?search={}",
                name.replace(' ', "%20")
            ),
            token,
        );
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["display_name"] == name)
            .and_then(|g| g["id"].as_str())
            .unwrap_or_else(|| panic!("no tenant group {name}"))
            .to_owned()
    }

    /// Ticks (operator) until the directory has no run in progress, or its
    /// run waits for an admin to confirm removals; returns the number of
    /// ticks it took.
    pub fn tick_until_idle(&self, org: &str, dir: &str, token: &str) -> usize {
        for ticks in 0..500 {
            let status = self.get(&format!("/api/v1/orgs/{org}/directories/{dir}/sync"), token);
            assert_eq!(status.status, StatusCode::OK, "{}", status.body);
            let current = &status.body["current"];
            if current.is_null() || current["phase"] == "awaiting_confirmation" {
                return ticks;
            }
            let tick = self.call(Method::POST, "/api/v1/tick", Some(OPERATOR), None);
            assert_eq!(tick.status, StatusCode::OK, "{}", tick.body);
        }
        panic!("the run did not finish in 500 ticks");
    }

    /// Every item of a paged listing, following `next_cursor`.
    pub fn all_items(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=7&cursor={c}"),
                None => format!("{path}{sep}limit=7"),
            };
            let reply = self.get(&url, token);
            assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.body);
            items.extend(
                reply.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .cloned(),
            );
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}
