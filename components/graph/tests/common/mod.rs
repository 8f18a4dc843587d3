//! Shared setup: the simulator on loopback and a client pointed at it.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::future::Future;
use std::time::Duration;

use engine::ports::{Arrived, Member, PageToken, SourceError};
use entra_sim::server::SimServer;
use entra_sim::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, Faults, Sim, Tenant};
use graph::native::{ThreadPause, UreqClient};
use graph::{GraphClient, GraphConfig};

pub type Client = GraphClient<UreqClient, ThreadPause>;

pub fn block_on<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

pub fn serve(tenant: Tenant, faults: Faults) -> SimServer {
    SimServer::start_local(Sim::new(tenant, faults)).expect("simulator starts on loopback")
}

pub fn config(server: &SimServer) -> GraphConfig {
    GraphConfig {
        authority: server.base_url().to_owned(),
        graph_base: server.base_url().to_owned(),
        tenant_id: DEMO_TENANT_ID.to_owned(),
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: DEMO_CLIENT_SECRET.to_owned(),
        time_budget: Some(Duration::from_secs(20)),
    }
}

pub fn client_with(config: GraphConfig) -> Client {
    GraphClient::new(
        config,
        UreqClient::new(Duration::from_secs(10)),
        ThreadPause::default(),
    )
    .expect("valid configuration")
}

pub fn client(server: &SimServer) -> Client {
    client_with(config(server))
}

pub fn group_id(server: &SimServer, name: &str) -> String {
    server
        .sim()
        .with_tenant(|t| t.find_group(name).map(|g| g.id.clone()))
        .unwrap_or_else(|| panic!("the tenant has a group named {name}"))
}

/// Reads every page of a listing, decoding each.
pub fn read_all<T>(
    mut next_page: impl FnMut(Option<&PageToken>) -> Result<Arrived<T>, SourceError>,
) -> Result<Vec<T>, SourceError> {
    let mut items = Vec::new();
    let mut token: Option<PageToken> = None;
    loop {
        let page = next_page(token.as_ref())?.decode()?;
        items.extend(page.items);
        match page.next {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

pub fn members(client: &Client, group: &str, transitive: bool) -> Vec<Member> {
    use engine::ports::IdentitySource;
    read_all(|page| block_on(client.members(group, transitive, page))).expect("members readable")
}

/// `GET /_sim/{path}` over HTTP, as the e2e and browser tests do.
pub fn sim_admin_get(server: &SimServer, path: &str) -> serde_json::Value {
    let body = ureq::get(format!("{}/_sim/{path}", server.base_url()))
        .call()
        .expect("admin endpoint answers")
        .body_mut()
        .read_to_string()
        .expect("admin endpoint sends text");
    serde_json::from_str(&body).expect("admin endpoint sends JSON")
}

/// `POST /_sim/{path}` with a JSON body.
pub fn sim_admin_post(
    server: &SimServer,
    path: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let text = ureq::post(format!("{}/_sim/{path}", server.base_url()))
        .content_type("application/json")
        .send(body.to_string())
        .expect("admin endpoint answers")
        .body_mut()
        .read_to_string()
        .expect("admin endpoint sends text");
    serde_json::from_str(&text).expect("admin endpoint sends JSON")
}
