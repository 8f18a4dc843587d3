//! The engine syncing through this client from the simulator over loopback:
//! a full run's Graph traffic stays near its lower bound.

mod common;

use common::*;
use engine::ports::{MailError, Mailer, OutgoingEmail};
use engine::{
    AdvanceOutcome, Budget, Engine, MemoryStore, NewDirectory, RunResult, SettingsInput,
    SystemClock, Trigger,
};
use entra_sim::{DEMO_CLIENT_ID, DEMO_TENANT_ID, Faults, TenantBuilder};
use serde_json::json;

const ORG: &str = "acme";

/// Welcome emails are off in this run; any send is a failure.
struct NoMail;

impl Mailer for NoMail {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        Err(MailError(format!("unexpected email to {}", email.to)))
    }
}

#[test]
fn a_10000_user_group_run_uses_at_most_11_plus_5_graph_requests() {
    let tenant = TenantBuilder::demo()
        .sized_group("Ten Thousand", 10_000)
        .build();
    let server = serve(tenant, Faults::default());
    let group = group_id(&server, "Ten Thousand");
    let client = client(&server);
    let (store, clock) = (MemoryStore::new(), SystemClock);
    let engine = Engine::new(&store, &clock);

    let result = block_on(async {
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
        let settings = SettingsInput::from_json(&json!({
            "domains": {"mode": "all"},
            "scope": {"mode": "groups", "group_ids": [group]},
            "send_email": false,
            "keep_previous_groups": false,
        }))
        .expect("valid settings");
        engine.save_settings(ORG, &dir, settings, None).await?;
        engine
            .start_sync(ORG, &dir, &client, Trigger::Manual)
            .await?;
        loop {
            match engine
                .advance(ORG, &dir, &client, &NoMail, Budget::default())
                .await?
            {
                AdvanceOutcome::Finished { result, .. } => return Ok((dir, result)),
                AdvanceOutcome::Idle => panic!("the run vanished"),
                _ => {}
            }
        }
    });
    let (dir, result) = result.unwrap_or_else(|e: engine::EngineError| panic!("sync: {e}"));

    assert_eq!(result, RunResult::Completed);
    let summary = block_on(engine.sync_history(ORG, &dir)).unwrap().remove(0);
    assert_eq!(summary.counts.users_created, 10_000);
    let stats = server.sim().stats();
    eprintln!(
        "10,000-user group run: {} Graph requests {:?}, {} token request(s)",
        stats.graph_requests, stats.requests, stats.token_requests
    );
    assert!(
        stats.graph_requests <= 11 + 5,
        "{} Graph requests: {:?}",
        stats.graph_requests,
        stats.requests
    );
    assert_eq!(stats.token_requests, 1);
}
