//! What a Sync request costs, measured through the API: Graph requests (the
//! simulator's counters) and store writes (the in-memory store's counters).
//! The numbers are printed (`--nocapture`) and bounded by DESIGN.md's targets.

mod common;

use common::Harness;
use entra_sim::{LARGE_GROUP, Preset};
use http::{Method, StatusCode};
use serde_json::json;
use std::time::Instant;

#[test]
fn syncing_a_10000_user_group_through_the_api_costs_tens_of_writes_and_eleven_member_pages() {
    let h = Harness::with_preset(Preset::Large);
    let (token, dir, base) = h.acme_with_demo();
    let group = h.tenant_group("acme", &dir, &token, LARGE_GROUP);
    let settings = json!({"domains": {"mode": "all"}, "scope": {"mode": "groups", "group_ids": [group]},
                          "send_email": false, "keep_previous_groups": false});
    h.save_settings(&base, &token, settings);

    h.sim.sim().reset_stats();
    h.app.platform.store.reset_stats();
    let started = Instant::now();
    let reply = h.call(Method::POST, &format!("{base}/sync"), Some(&token), None);
    let elapsed = started.elapsed();
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(
        reply.body["advance"]["outcome"], "finished",
        "one request is enough: {}",
        reply.body["advance"]
    );
    let graph = h.sim.sim().stats();
    let store = h.app.platform.store.stats();
    println!(
        "POST sync, 10,000-user group: {} ms, {} Graph requests ({} token), {} store writes, {} deletes, largest value {} bytes",
        elapsed.as_millis(),
        graph.graph_requests,
        graph.token_requests,
        store.writes,
        store.deletes,
        store.max_value_bytes
    );
    // ceil(10,000 / 999) = 11 member pages plus a constant (domains, the group).
    assert!(graph.graph_requests <= 11 + 5, "{graph:?}");
    assert!(store.writes + store.deletes <= 60, "{store:?}");

    // Reading a page of users reads a few shard documents, not 10,000 keys.
    h.app.platform.store.reset_stats();
    let started = Instant::now();
    let page = h.get("/api/v1/orgs/acme/users?limit=100", &token);
    let elapsed = started.elapsed();
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(100));
    let reads = h.app.platform.store.stats();
    println!(
        "GET users (100 of 10,000): {} ms, {} store reads, {} bytes read, {} writes",
        elapsed.as_millis(),
        reads.reads,
        reads.bytes_read,
        reads.writes
    );
    assert_eq!(reads.writes, 0);
    assert!(reads.reads <= 20, "{reads:?}");

    let members = h.get(&format!("/api/v1/orgs/acme/groups/{group}"), &token);
    assert_eq!(members.body["group"]["member_count"], 10_000);
    let billing = h.get("/api/v1/orgs/acme/billing", &token);
    assert_eq!(billing.body["synced_users"], 10_000);
}
