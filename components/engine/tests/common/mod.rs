//! Shared fixtures: an org with one directory over an in-memory store,
//! tenant, clock and mailer.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use engine::ports::{
    Arrived, DeltaFrom, GroupChange, IdentitySource, Member, PageToken, SourceDomain, SourceError,
    SourceGroup, SourceUser, Store, StoreError, TimeDelta, Timestamp, UserChange,
};
use engine::settings::RemovalGuard;
pub use engine::testing::RecordingMailer;
use engine::testing::{MemoryTenant, groups, settings, user};
use engine::*;

pub const ORG: &str = "acme";
/// 2027-01-15T08:00:00Z.
pub const T0: Timestamp = Timestamp::from_timestamp_millis(1_800_000_000_000).unwrap();
pub const HOUR: TimeDelta = TimeDelta::hours(1);

/// `n` milliseconds.
pub fn ms(n: i64) -> TimeDelta {
    TimeDelta::milliseconds(n)
}

/// The settings helpers turn the removal guard off: the rule tests watch
/// removals happen as the run makes them; `tests/safeguards.rs` tests the
/// guard, on as it is by default.
pub fn guard_off() -> RemovalGuard {
    RemovalGuard {
        enabled: false,
        ..RemovalGuard::default()
    }
}

/// `testing::settings` with the removal guard off.
pub fn unguarded(scope: UserScope) -> SettingsInput {
    SettingsInput {
        removal_guard: guard_off(),
        ..settings(scope)
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

    pub fn save(&self, input: SettingsInput) -> VersionedSettings {
        block(self.engine().save_settings(ORG, &self.dir, input, None)).unwrap()
    }

    /// Settings in group scope.
    pub fn save_groups(&self, ids: &[&str], send_email: bool, keep_previous: bool) {
        self.save(SettingsInput {
            send_email,
            keep_previous_groups: keep_previous,
            ..unguarded(groups(ids))
        });
    }

    pub fn save_all_users(&self, send_email: bool) {
        self.save(SettingsInput {
            send_email,
            ..unguarded(UserScope::AllUsersAndGroups)
        });
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
                } => self.clock.set(until.max(self.clock_now()) + ms(1)),
                AdvanceOutcome::Progressed { .. } => {}
            }
        }
        panic!("run did not finish");
    }

    pub fn clock_now(&self) -> Timestamp {
        use engine::ports::Clock;
        self.clock.now()
    }

    /// Sync now and run to the end in one go.
    pub fn sync(&self) -> RunResult {
        self.start().expect("start");
        self.run_to_end(Budget::default())
    }

    pub fn users(&self) -> Vec<UserView> {
        let mut out = every_item(|cursor| block(self.engine().list_users(ORG, cursor, 500)));
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
        let members =
            every_item(|cursor| block(self.engine().group_members(ORG, group, cursor, 500)));
        let mut out: Vec<String> = members.into_iter().map(|m| m.user_id).collect();
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
        every_item(|cursor| block(self.engine().list_emails(ORG, cursor, 500)))
    }
}

/// The store's directory documents (every key but the runs' own working
/// documents), by key.
pub fn documents(env: &Env) -> std::collections::BTreeMap<String, Vec<u8>> {
    let working = ["/run/", "/stage/", "/scratch/", "/runs", "/head", "/lease"];
    env.store
        .snapshot()
        .into_iter()
        .filter(|(k, _)| !working.iter().any(|w| k.contains(w)))
        .collect()
}

/// Every item of a listing, following `next_cursor` from the first page
/// (`page(cursor)` reads one) until there is none.
pub fn every_item<T>(page: impl Fn(Option<&str>) -> Result<Listing<T>, EngineError>) -> Vec<T> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let listed = page(cursor.as_deref()).unwrap();
        out.extend(listed.items);
        match listed.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
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

/// contoso.com verified, fabrikam.com not; group `eng` (a0-a2) with nested
/// `ops` (a3, a4 and b0 on the unverified domain).
pub fn nested_tenant(env: &Env) {
    env.tenant
        .domain("Contoso.com", true)
        .domain("fabrikam.com", false);
    env.tenant.put_users(people("a", 6, "contoso.com"));
    env.tenant.put_users(people("b", 2, "fabrikam.com"));
    env.tenant
        .put_group("eng", "Engineering")
        .put_group("ops", "Operations");
    for u in ["a00000", "a00001", "a00002"] {
        env.tenant.add_user_to("eng", u);
    }
    for u in ["a00003", "a00004", "b00000"] {
        env.tenant.add_user_to("ops", u);
    }
    env.tenant.nest("eng", "ops");
}

/// `n` users `u{i}` at `@{domain}`, ids `{prefix}{i:05}`.
pub fn people(prefix: &str, n: usize, domain: &str) -> Vec<engine::ports::SourceUser> {
    (0..n)
        .map(|i| user(&format!("{prefix}{i:05}"), &format!("{prefix}{i}@{domain}")))
        .collect()
}

/// The ids [`people`] gives its users `range`.
pub fn ids(prefix: &str, range: std::ops::Range<usize>) -> impl Iterator<Item = String> {
    range.map(move |i| format!("{prefix}{i:05}"))
}

/// The tenant with `hook` called as each request is sent, e.g. to record
/// it or to take time on the engine's clock like a slow Graph.
pub struct HookedTenant<'a, F> {
    pub tenant: &'a MemoryTenant,
    pub hook: F,
}

impl<F: Fn()> IdentitySource for HookedTenant<'_, F> {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError> {
        (self.hook)();
        self.tenant.domains().await
    }
    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError> {
        (self.hook)();
        self.tenant.group(id).await
    }
    async fn users(&self, page: Option<&PageToken>) -> Result<Arrived<SourceUser>, SourceError> {
        (self.hook)();
        self.tenant.users(page).await
    }
    async fn groups(&self, page: Option<&PageToken>) -> Result<Arrived<SourceGroup>, SourceError> {
        (self.hook)();
        self.tenant.groups(page).await
    }
    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Arrived<Member>, SourceError> {
        (self.hook)();
        self.tenant.members(group_id, transitive, page).await
    }
    async fn users_delta(&self, from: &DeltaFrom) -> Result<Arrived<UserChange>, SourceError> {
        (self.hook)();
        self.tenant.users_delta(from).await
    }
    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Arrived<GroupChange>, SourceError> {
        (self.hook)();
        self.tenant.groups_delta(from).await
    }
}

/// What [`DecodedLater`] saw, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEvent {
    /// A listing page was requested.
    Request,
    /// A page's items were decoded.
    Decode,
}

/// The tenant's listing pages handed over as the Graph client hands them
/// over: their links at once, their items decoded only when the engine
/// asks. Records each request and each decode in `events`.
pub struct DecodedLater<'a> {
    pub tenant: &'a MemoryTenant,
    pub events: std::rc::Rc<std::cell::RefCell<Vec<PageEvent>>>,
}

impl DecodedLater<'_> {
    /// A request recorded, its page's decode deferred and recorded when it
    /// happens.
    fn later<T: 'static>(
        &self,
        arrived: Result<Arrived<T>, SourceError>,
    ) -> Result<Arrived<T>, SourceError> {
        self.events.borrow_mut().push(PageEvent::Request);
        let page = arrived?.decode()?;
        let events = self.events.clone();
        Ok(Arrived::deferred(page.next, page.delta, move || {
            events.borrow_mut().push(PageEvent::Decode);
            Ok(page.items)
        }))
    }
}

impl IdentitySource for DecodedLater<'_> {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError> {
        self.tenant.domains().await
    }
    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError> {
        self.tenant.group(id).await
    }
    async fn users(&self, page: Option<&PageToken>) -> Result<Arrived<SourceUser>, SourceError> {
        self.later(self.tenant.users(page).await)
    }
    async fn groups(&self, page: Option<&PageToken>) -> Result<Arrived<SourceGroup>, SourceError> {
        self.later(self.tenant.groups(page).await)
    }
    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Arrived<Member>, SourceError> {
        self.later(self.tenant.members(group_id, transitive, page).await)
    }
    async fn users_delta(&self, from: &DeltaFrom) -> Result<Arrived<UserChange>, SourceError> {
        self.later(self.tenant.users_delta(from).await)
    }
    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Arrived<GroupChange>, SourceError> {
        self.later(self.tenant.groups_delta(from).await)
    }
}

/// A store operation, as [`HookedStore`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    Get,
    Set,
    Delete,
}

/// The in-memory store with `hook` called with each operation and its key
/// before it runs, e.g. to record writes or to take time on the engine's
/// clock like a remote key-value store.
pub struct HookedStore<'a, F> {
    pub store: &'a MemoryStore,
    pub hook: F,
}

impl<F: Fn(StoreOp, &str)> Store for HookedStore<'_, F> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (self.hook)(StoreOp::Get, key);
        self.store.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        (self.hook)(StoreOp::Set, key);
        self.store.set(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        (self.hook)(StoreOp::Delete, key);
        self.store.delete(key).await
    }
}
