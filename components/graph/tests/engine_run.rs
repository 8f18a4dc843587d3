//! The engine syncing through this client from the simulator over loopback:
//! a run's Graph traffic stays near its lower bound, and throttling pauses a
//! run without losing its place.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::time::Duration;

use common::*;
use engine::ports::{Clock, MailError, Mailer, OutgoingEmail};
use engine::settings::{DomainSelection, RemovalGuard};
use engine::{
    AdvanceOutcome, Budget, Engine, EngineError, MemoryStore, NewDirectory, RunResult, RunSummary,
    SettingsInput, SystemClock, Trigger, UserScope,
};
use entra_sim::server::SimServer;
use entra_sim::{DEMO_CLIENT_ID, DEMO_TENANT_ID, Faults, Preset, TenantBuilder};

const ORG: &str = "acme";
/// The time an invocation gives the client.
const INVOCATION: Duration = Duration::from_secs(20);

/// Welcome emails are off in these runs; any send is a failure.
struct NoMail;

impl Mailer for NoMail {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        Err(MailError(format!("unexpected email to {}", email.to)))
    }

    async fn notify(&self, _notice: &engine::ports::Notice) -> Result<(), MailError> {
        Ok(())
    }
}

/// An org with one directory connected to the simulated tenant.
struct Harness {
    store: MemoryStore,
    clock: SystemClock,
    dir: String,
}

impl Harness {
    fn new(scope: UserScope) -> Harness {
        let mut harness = Harness {
            store: MemoryStore::new(),
            clock: SystemClock,
            dir: String::new(),
        };
        let engine = harness.engine();
        let dir = block_on(async {
            engine.create_org(ORG, "Acme", vec![7; 32]).await?;
            let dir = engine
                .connect_directory(
                    ORG,
                    NewDirectory {
                        name: "Simulated Contoso".into(),
                        tenant_id: DEMO_TENANT_ID.into(),
                        client_id: DEMO_CLIENT_ID.into(),
                        sealed_secret: vec![1; 48],
                    },
                )
                .await?
                .id
                .to_string();
            let settings = SettingsInput {
                domains: DomainSelection::All,
                scope,
                send_email: false,
                keep_previous_groups: false,
                removal_guard: RemovalGuard::default(),
            };
            engine.save_settings(ORG, &dir, settings, None).await?;
            Ok::<_, EngineError>(dir)
        })
        .unwrap_or_else(|e| panic!("setup: {e}"));
        harness.dir = dir;
        harness
    }

    fn engine(&self) -> Engine<'_, MemoryStore, SystemClock> {
        Engine::new(&self.store, &self.clock)
    }

    /// Starts a run and advances it to its end, sleeping through the waits
    /// the engine asks for; each invocation gives the client `budget`.
    /// Returns the run's summary.
    fn sync(&self, client: &Client, budget: Duration) -> RunSummary {
        let engine = self.engine();
        block_on(async {
            client.set_time_budget(Some(budget));
            engine
                .start_sync(ORG, &self.dir, client, Trigger::Manual)
                .await?;
            loop {
                client.set_time_budget(Some(budget));
                match engine
                    .advance(ORG, &self.dir, client, &NoMail, Budget::default())
                    .await?
                {
                    AdvanceOutcome::Finished { .. } => break,
                    AdvanceOutcome::Idle => panic!("the run vanished"),
                    AdvanceOutcome::Busy { until }
                    | AdvanceOutcome::Progressed {
                        waiting_until: Some(until),
                        ..
                    } => {
                        let wait = (until - self.clock.now()).to_std().unwrap_or_default();
                        std::thread::sleep(wait + Duration::from_millis(10));
                    }
                    AdvanceOutcome::Progressed { .. } => {}
                }
            }
            Ok::<_, EngineError>(engine.sync_history(ORG, &self.dir).await?.remove(0))
        })
        .unwrap_or_else(|e| panic!("sync: {e}"))
    }
}

#[test]
fn a_10000_user_group_run_uses_at_most_11_plus_5_graph_requests() {
    let tenant = TenantBuilder::demo()
        .sized_group("Ten Thousand", 10_000)
        .build();
    let server = serve(tenant, Faults::default());
    let group = group_id(&server, "Ten Thousand");
    let harness = Harness::new(UserScope::Groups {
        group_ids: vec![group],
    });

    let summary = harness.sync(&client(&server), INVOCATION);

    assert_eq!(summary.result, RunResult::Completed);
    assert_eq!(summary.counts.users_created, 10_000);
    let stats = server.sim().stats();
    eprintln!(
        "10,000-user group run: {} Graph requests {:?}",
        stats.graph_requests, stats.requests
    );
    assert!(
        stats.graph_requests <= 11 + 5,
        "{} Graph requests: {:?}",
        stats.graph_requests,
        stats.requests
    );
    assert_eq!(stats.token_requests, 1);
}

#[test]
fn a_rerun_over_an_unchanged_tenant_costs_a_handful_of_requests() {
    let server = serve(Preset::Demo.build(), Faults::default());
    let harness = Harness::new(UserScope::AllUsersAndGroups);
    let client = client(&server);
    let first = harness.sync(&client, INVOCATION);
    let first_requests = server.sim().stats().graph_requests;
    server.sim().reset_stats();

    let second = harness.sync(&client, INVOCATION);

    assert_eq!(first.result, RunResult::Completed);
    assert_eq!(second.result, RunResult::Completed);
    assert_eq!(second.counts.users_created, 0);
    let stats = server.sim().stats();
    eprintln!(
        "demo tenant, all users: first run {first_requests} Graph requests, unchanged rerun {} {:?}",
        stats.graph_requests, stats.requests
    );
    assert!(
        stats.graph_requests <= 6,
        "{} Graph requests: {:?}",
        stats.graph_requests,
        stats.requests
    );
}

#[test]
fn a_throttled_run_waits_for_retry_after_and_completes_from_its_cursor() {
    let tenant = TenantBuilder::demo()
        .sized_group("Three Thousand", 3_000)
        .build();
    let server: SimServer = serve(
        tenant,
        Faults {
            throttle_every: 3,
            retry_after_secs: 2,
            ..Faults::default()
        },
    );
    let group = group_id(&server, "Three Thousand");
    let harness = Harness::new(UserScope::Groups {
        group_ids: vec![group],
    });
    let client = client(&server);

    // Invocations too short to wait 2 s: the engine has to pause the run.
    // 1.5 s rather than less: on a loaded machine a shorter budget can run
    // out between fetching a page and staging it, which refetches the page.
    let summary = harness.sync(&client, Duration::from_millis(1500));

    assert_eq!(summary.result, RunResult::Completed);
    assert_eq!(summary.counts.users_created, 3_000);
    let stats = server.sim().stats();
    assert!(stats.throttled >= 1, "{stats:?}");
    assert_eq!(
        stats.early_requests, 0,
        "nobody came back before Retry-After"
    );
    assert!(
        stats.graph_requests - stats.throttled <= 6,
        "domains, the group and 4 pages of members, each fetched once after the throttles: \
         {stats:?}"
    );
}
