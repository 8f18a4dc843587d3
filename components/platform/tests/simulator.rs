//! The Graph client of a directory and the tick job against the simulated
//! tenant over real loopback HTTP, with the engine over its in-memory store.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::Duration;

use engine::ports::IdentitySource;
use engine::{Engine, MemoryStore, NewDirectory, SystemClock, TickOutcome};
use entra_sim::server::SimServer;
use entra_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Preset, Sim};
use futures::executor::block_on;
use platform::config::names;
use platform::native::NativePlatform;
use platform::{
    AppConfig, MapVariables, Platform, SecretKey, SourceBuildError, client_secret_context, tick_all,
};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OTHER_KEY: &str = "HxwdHhscGRoXGBUWExQREg8QDQ4LDAkKBwgFBgMEAQI=";
const ORG: &str = "acme";

fn config(sim: &SimServer) -> AppConfig {
    let vars = MapVariables::new([
        (names::OPERATOR_TOKEN, "operator-token-for-tests"),
        (names::ENCRYPTION_KEY, KEY),
        (names::AUTHORITY_URL, sim.base_url()),
        (names::GRAPH_URL, sim.base_url()),
        (names::INVOCATION_BUDGET_MS, "10000"),
    ]);
    block_on(AppConfig::load(&vars)).expect("test configuration is valid")
}

/// Creates `org` and connects the demo tenant to it, its secret sealed with
/// `key`.
fn connect(
    engine: &Engine<'_, MemoryStore, SystemClock>,
    org: &str,
    key: &str,
) -> engine::Directory {
    block_on(engine.create_org(org, org, vec![1; 32])).unwrap();
    let context = client_secret_context(org, DEMO_TENANT_ID, DEMO_CLIENT_ID);
    let sealed = SecretKey::from_base64(key)
        .unwrap()
        .seal(DEMO_CLIENT_SECRET, &context)
        .unwrap();
    block_on(engine.connect_directory(
        org,
        NewDirectory {
            name: "Contoso".to_owned(),
            tenant_id: DEMO_TENANT_ID.to_owned(),
            client_id: DEMO_CLIENT_ID.to_owned(),
            sealed_secret: sealed,
        },
    ))
    .expect("directory connects")
}

fn setup() -> (SimServer, MemoryStore) {
    let sim = SimServer::start_local(Sim::preset(Preset::Demo)).expect("simulator starts");
    (sim, MemoryStore::default())
}

#[test]
fn a_directory_client_reaches_the_tenant_with_its_opened_secret() {
    let (sim, store) = setup();
    let engine = Engine::new(&store, &SystemClock);
    let directory = connect(&engine, ORG, KEY);
    let client = NativePlatform::new(Duration::from_secs(5))
        .graph_client(&config(&sim), &directory)
        .unwrap();
    let domains = block_on(client.domains()).expect("the simulator answers");
    assert!(domains.iter().any(|d| d.is_verified));
    assert_eq!(sim.sim().stats().token_requests, 1);
}

#[test]
fn a_secret_sealed_under_another_key_is_refused_before_any_request() {
    let (sim, store) = setup();
    let engine = Engine::new(&store, &SystemClock);
    let directory = connect(&engine, ORG, OTHER_KEY);
    let result =
        NativePlatform::new(Duration::from_secs(30)).graph_client(&config(&sim), &directory);
    assert!(matches!(result, Err(SourceBuildError::Secret(_))));
    assert_eq!(sim.sim().stats().token_requests, 0);
}
#[test]
fn ticks_run_a_due_directory_to_completion_and_report_a_broken_one() {
    let sim = SimServer::start_local(Sim::preset(Preset::Demo)).expect("simulator starts");
    let platform = NativePlatform::new(Duration::from_secs(30));
    let config = config(&sim);
    let engine = platform.engine(&config);
    let good = connect(&engine, ORG, KEY);
    block_on(engine.set_auto_sync(ORG, good.id.as_str(), true)).unwrap();

    let mut completed = false;
    for _ in 0..20 {
        let reports = block_on(tick_all(&platform, &config)).unwrap();
        assert_eq!(reports.len(), 1);
        let outcome = reports[0].outcome.as_ref().expect("the tick succeeds");
        let status = block_on(engine.sync_status(ORG, good.id.as_str())).unwrap();
        if status.current.is_none() && status.last.is_some() {
            assert!(matches!(
                outcome,
                TickOutcome::Advanced(_) | TickOutcome::Started { .. }
            ));
            completed = true;
            break;
        }
    }
    assert!(completed, "the scheduled run completes within 20 ticks");
    let users = block_on(engine.list_users(ORG, None, 500)).unwrap();
    assert!(!users.items.is_empty());

    // Nothing is due any more; a directory whose secret no longer opens is
    // reported without stopping the others.
    let broken = connect(&engine, "broken", OTHER_KEY);
    block_on(engine.set_auto_sync("broken", broken.id.as_str(), true)).unwrap();
    let reports = block_on(tick_all(&platform, &config)).unwrap();
    assert_eq!(reports.len(), 2);
    for report in reports {
        if report.org == broken.org {
            let error = report.outcome.unwrap_err();
            assert!(error.contains("cannot be decrypted"), "{error}");
        } else {
            assert!(matches!(report.outcome, Ok(TickOutcome::Nothing { .. })));
        }
    }
}
