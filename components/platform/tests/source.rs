//! The Graph client of a directory against the simulated tenant over real
//! loopback HTTP, with the engine over its in-memory store.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use engine::ports::IdentitySource;
use engine::{Engine, MemoryStore, NewDirectory, SystemClock};
use entra_sim::server::SimServer;
use entra_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Preset, Sim};
use futures::executor::block_on;
use graph::native::{ThreadPause, UreqClient};
use platform::config::names;
use platform::{
    AppConfig, MapVariables, SecretKey, SourceBuildError, client_secret_context, graph_client_for,
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

/// Connects the demo tenant to `ORG`, its secret sealed with `key`.
fn connect(
    engine: &Engine<'_, MemoryStore, SystemClock>,
    key: &str,
    name: &str,
) -> engine::Directory {
    let context = client_secret_context(ORG, DEMO_TENANT_ID, DEMO_CLIENT_ID);
    let sealed = SecretKey::from_base64(key)
        .unwrap()
        .seal(DEMO_CLIENT_SECRET, &context)
        .unwrap();
    block_on(engine.connect_directory(
        ORG,
        NewDirectory {
            name: name.to_owned(),
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
    block_on(engine.create_org(ORG, "Acme", vec![1; 32])).unwrap();
    let directory = connect(&engine, KEY, "Contoso");
    let client = graph_client_for(
        &config(&sim),
        &directory,
        UreqClient::new(Duration::from_secs(5)),
        ThreadPause::default(),
    )
    .unwrap();
    let domains = block_on(client.domains()).expect("the simulator answers");
    assert!(domains.iter().any(|d| d.is_verified));
    assert_eq!(sim.sim().stats().token_requests, 1);
}

#[test]
fn a_secret_sealed_under_another_key_is_refused_before_any_request() {
    let (sim, store) = setup();
    let engine = Engine::new(&store, &SystemClock);
    block_on(engine.create_org(ORG, "Acme", vec![1; 32])).unwrap();
    let directory = connect(&engine, OTHER_KEY, "Contoso");
    let result = graph_client_for(
        &config(&sim),
        &directory,
        UreqClient::default(),
        ThreadPause::default(),
    );
    assert!(matches!(result, Err(SourceBuildError::Secret(_))));
    assert_eq!(sim.sim().stats().token_requests, 0);
}
