//! Shared fixtures: an org with one directory over an in-memory store,
//! tenant, clock and mailer.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use engine::ports::{MailError, Mailer, Notice, OutgoingEmail};
use engine::testing::{MemoryTenant, user};
use engine::*;
use serde_json::{Value, json};
use std::sync::Mutex;

pub const ORG: &str = "acme";
pub const T0: u64 = 1_800_000_000_000;
pub const HOUR: u64 = 60 * 60 * 1000;

/// The settings helpers turn the removal guard off: the rule tests watch
/// removals happen as the run makes them; `tests/safeguards.rs` tests the
/// guard, on as it is by default.
pub fn guard_off() -> Value {
    json!({"enabled": false})
}

/// Records every email; can be told to fail.
#[derive(Default)]
pub struct RecordingMailer {
    pub sent: Mutex<Vec<OutgoingEmail>>,
    pub notices: Mutex<Vec<Notice>>,
    pub fail: Mutex<bool>,
}

impl RecordingMailer {
    /// Each account's email as the receiver keeps it: deliveries
    /// deduplicated on their idempotency key (delivery is at least once),
    /// as `(key, address)` in key order.
    pub fn delivered(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.idempotency_key.clone(), e.to.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn addresses(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.to.clone())
            .collect();
        v.sort();
        v
    }
}

impl Mailer for RecordingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        if *self.fail.lock().unwrap() {
            return Err(MailError("mail server down".into()));
        }
        self.sent.lock().unwrap().push(email.clone());
        Ok(())
    }

    async fn notify(&self, notice: &Notice) -> Result<(), MailError> {
        self.notices.lock().unwrap().push(notice.clone());
        Ok(())
    }
}

pub struct Env {
    pub config: EngineConfig,
    pub store: MemoryStore,
    pub clock: ManualClock,
    pub tenant: MemoryTenant,
    pub mailer: RecordingMailer,
    pub dir: String,
}

pub fn block<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

impl Env {
    /// An org `acme` with one directory connected; the tenant is empty.
    pub fn new() -> Env {
        let env = Env {
            config: EngineConfig::default(),
            store: MemoryStore::new(),
            clock: ManualClock::new(T0),
            tenant: MemoryTenant::new(),
            mailer: RecordingMailer::default(),
            dir: String::new(),
        };
        let dir = block(acme_with_a_directory(&env.engine()));
        Env {
            dir: dir.to_string(),
            ..env
        }
    }

    pub fn engine(&self) -> Engine<'_, MemoryStore, ManualClock> {
        Engine::new(&self.store, &self.clock).with_config(self.config)
    }

    pub fn save(&self, body: Value) -> VersionedSettings {
        let input = SettingsInput::from_json(&body).expect("valid settings");
        block(self.engine().save_settings(ORG, &self.dir, input, None)).unwrap()
    }

    /// Settings in group scope.
    pub fn save_groups(&self, groups: &[&str], send_email: bool, keep_previous: bool) {
        self.save(json!({
            "domains": {"mode": "all"},
            "scope": {"mode": "groups", "group_ids": groups},
            "send_email": send_email,
            "keep_previous_groups": keep_previous,
            "removal_guard": guard_off(),
        }));
    }

    pub fn save_all_users(&self, send_email: bool) {
        self.save(json!({
            "domains": {"mode": "all"},
            "scope": {"mode": "all_users_and_groups"},
            "send_email": send_email,
            "keep_previous_groups": false,
            "removal_guard": guard_off(),
        }));
    }

    pub fn start(&self) -> Result<Confirmation, EngineError> {
        block(
            self.engine()
                .start_sync(ORG, &self.dir, &self.tenant, Trigger::Manual),
        )
    }

    pub fn advance(&self, budget: Budget) -> Result<AdvanceOutcome, EngineError> {
        block(
            self.engine()
                .advance(ORG, &self.dir, &self.tenant, &self.mailer, budget),
        )
    }

    /// Advances until the run finishes (moving the clock past waits).
    pub fn run_to_end(&self, budget: Budget) -> RunResult {
        for _ in 0..100_000 {
            match self.advance(budget).expect("advance") {
                AdvanceOutcome::Finished { result, .. } => return result,
                AdvanceOutcome::Idle => panic!("no run in progress"),
                AdvanceOutcome::Busy { until }
                | AdvanceOutcome::Progressed {
                    waiting_until: Some(until),
                    ..
                } => self.clock.set(until.max(self.clock_now()) + 1),
                AdvanceOutcome::Progressed { .. } => {}
            }
        }
        panic!("run did not finish");
    }

    pub fn clock_now(&self) -> u64 {
        use engine::ports::Clock;
        self.clock.now()
    }

    /// Sync now and run to the end in one go.
    pub fn sync(&self) -> RunResult {
        self.start().expect("start");
        self.run_to_end(Budget::default())
    }

    pub fn users(&self) -> Vec<UserView> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = block(self.engine().list_users(ORG, cursor.as_deref(), 500)).unwrap();
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    pub fn synced_user_ids(&self) -> Vec<String> {
        self.users()
            .into_iter()
            .filter(|u| u.synced)
            .map(|u| u.id)
            .collect()
    }

    pub fn user(&self, id: &str) -> UserView {
        block(self.engine().get_user(ORG, id)).unwrap()
    }

    /// The user's account, `None` when the org has none for it (404).
    pub fn find_user(&self, id: &str) -> Option<UserView> {
        match block(self.engine().get_user(ORG, id)) {
            Ok(u) => Some(u),
            Err(EngineError::NotFound(_)) => None,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn group(&self, id: &str) -> GroupView {
        block(self.engine().get_group(ORG, id)).unwrap()
    }

    pub fn members(&self, group: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = block(
                self.engine()
                    .group_members(ORG, group, cursor.as_deref(), 500),
            )
            .unwrap();
            out.extend(page.items.into_iter().map(|m| m.user_id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        out.sort();
        out
    }

    pub fn last_summary(&self) -> RunSummary {
        block(self.engine().sync_history(ORG, &self.dir))
            .unwrap()
            .remove(0)
    }

    pub fn set_access(&self, group: &str, on: bool) -> Result<GroupView, EngineError> {
        block(self.engine().set_product_access(ORG, group, on))
    }

    pub fn billing(&self) -> Billing {
        block(self.engine().billing(ORG)).unwrap()
    }

    pub fn emails(&self) -> Vec<EmailView> {
        block(self.engine().list_emails(ORG, None, 500))
            .unwrap()
            .items
    }
}

/// Creates org `acme` with one directory connected; returns its id.
pub async fn acme_with_a_directory<S: engine::ports::Store, C: engine::ports::Clock>(
    e: &Engine<'_, S, C>,
) -> String {
    e.create_org(ORG, "Acme", vec![1, 2, 3]).await.unwrap();
    e.connect_directory(
        ORG,
        NewDirectory {
            name: "Acme Entra".into(),
            tenant_id: "tenant-1".into(),
            client_id: "client-1".into(),
            sealed_secret: vec![9; 32],
        },
    )
    .await
    .unwrap()
    .id
    .to_string()
}

/// Two domains (`fabrikam.com` unverified), ten users (`a00000`-`a00008`
/// on contoso.com, `b00000` on fabrikam.com), groups `eng` (three users),
/// `ops` and `sales`; pages of two users.
pub fn small_tenant(tenant: &MemoryTenant) {
    tenant
        .domain("contoso.com", true)
        .domain("fabrikam.com", false);
    tenant.set_page_size(2);
    tenant.put_users(people("a", 9, "contoso.com"));
    tenant.put_users(people("b", 1, "fabrikam.com"));
    tenant
        .put_group("eng", "Engineering")
        .put_group("ops", "Ops")
        .put_group("sales", "Sales");
    for u in ["a00000", "a00001", "a00002"] {
        tenant.add_user_to("eng", u);
    }
}

/// `n` users `u{i}` at `@{domain}`, ids `{prefix}{i:05}`.
pub fn people(prefix: &str, n: usize, domain: &str) -> Vec<engine::ports::SourceUser> {
    (0..n)
        .map(|i| user(&format!("{prefix}{i:05}"), &format!("{prefix}{i}@{domain}")))
        .collect()
}
