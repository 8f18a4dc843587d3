//! Prints the store and Graph traffic of typical runs:
//! `cargo run -p engine --example counts --release`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "an example's failure is its output"
)]

use engine::heap_meter::{self, CountingAlloc};
use engine::ports::{MailError, Mailer, OutgoingEmail};
use engine::testing::{MemoryTenant, user};
use engine::*;
use std::time::Instant;

/// Counts heap bytes in use, to report the engine's peak above what the
/// in-memory tenant and store already hold.
#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

struct NullMailer;
impl Mailer for NullMailer {
    async fn send(&self, _: &OutgoingEmail) -> Result<(), MailError> {
        Ok(())
    }

    async fn notify(&self, _notice: &engine::ports::Notice) -> Result<(), MailError> {
        Ok(())
    }
}

struct Setup {
    store: MemoryStore,
    clock: ManualClock,
    tenant: MemoryTenant,
    dir: String,
}

fn setup(scope: UserScope, send_email: bool) -> Setup {
    let s = Setup {
        store: MemoryStore::new(),
        clock: ManualClock::new(engine::ports::from_epoch_millis(1_800_000_000_000)),
        tenant: MemoryTenant::new(),
        dir: String::new(),
    };
    let dir = futures::executor::block_on(async {
        let e = Engine::new(&s.store, &s.clock);
        e.create_org("acme", "Acme", vec![0]).await.expect("org");
        let d = e
            .connect_directory(
                "acme",
                NewDirectory {
                    name: "Entra".into(),
                    tenant_id: "t".into(),
                    client_id: "c".into(),
                    sealed_secret: vec![1],
                },
            )
            .await
            .expect("dir");
        let input = SettingsInput {
            send_email,
            ..testing::settings(scope)
        };
        e.save_settings("acme", d.id.as_str(), input, None)
            .await
            .expect("save");
        d.id.to_string()
    });
    Setup { dir, ..s }
}

fn run(s: &Setup, label: &str, budget: Budget) {
    s.store.reset_stats();
    let requests = s.tenant.requests();
    let baseline = heap_meter::reset_peak();
    let t = Instant::now();
    let mut invocations = 0;
    futures::executor::block_on(async {
        let e = Engine::new(&s.store, &s.clock);
        e.start_sync("acme", &s.dir, &s.tenant, Trigger::Manual)
            .await
            .expect("start");
        loop {
            invocations += 1;
            match e
                .advance("acme", &s.dir, &s.tenant, &NullMailer, budget)
                .await
                .expect("advance")
            {
                AdvanceOutcome::Finished { .. } => break,
                AdvanceOutcome::Progressed { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    });
    let st = s.store.stats();
    // The store grows by what the run wrote; the rest of the peak is the engine's.
    let engine_peak = heap_meter::peak().saturating_sub(heap_meter::in_use().max(baseline));
    println!(
        "{label:<48} source requests {:>4}  invocations {:>3}  writes {:>4} (deletes {:>2})  reads {:>5}  written {:>6} KiB  largest value {:>4} KiB  keys {:>4} (peak {:>4})  engine heap peak {:>4} MiB  {:>6.2}s",
        s.tenant.requests() - requests,
        invocations,
        st.writes,
        st.deletes,
        st.reads,
        st.bytes_written / 1024,
        st.max_value_bytes / 1024,
        s.store.key_count(),
        st.peak_keys,
        engine_peak >> 20,
        t.elapsed().as_secs_f64()
    );
}

/// One page of a user search: the store reads it took (shard documents
/// read one at a time, stopping when the page is full).
fn search(s: &Setup, label: &str, query: UserQuery) {
    s.store.reset_stats();
    let baseline = heap_meter::reset_peak();
    let t = Instant::now();
    let page = futures::executor::block_on(
        Engine::new(&s.store, &s.clock).search_users("acme", &query, None, 100),
    )
    .expect("search");
    let engine_peak = heap_meter::peak().saturating_sub(heap_meter::in_use().max(baseline));
    println!(
        "{label:<48} found {:>3}  more {:<5}  reads {:>3}  read {:>6} KiB  engine heap peak {:>4} MiB  {:>6.2}s",
        page.items.len(),
        page.next_cursor.is_some(),
        s.store.stats().reads,
        s.store.stats().bytes_read / 1024,
        engine_peak >> 20,
        t.elapsed().as_secs_f64()
    );
}

fn people(n: usize) -> Vec<engine::ports::SourceUser> {
    (0..n)
        .map(|i| {
            user(
                &format!("{:08x}-0000-4000-8000-{i:012}", i),
                &format!("first.last{i}@contoso.com"),
            )
        })
        .collect()
}

fn main() {
    let group = setup(testing::groups(&["big"]), true);
    group.tenant.domain("contoso.com", true);
    let users = people(10_000);
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    group.tenant.put_users(users).put_group("big", "Sales");
    group.tenant.add_users_to("big", ids);
    run(
        &group,
        "10,000-user group, first run (emails on)",
        Budget::default(),
    );
    run(
        &group,
        "10,000-user group, unchanged re-run",
        Budget::default(),
    );
    run(
        &group,
        "10,000-user group, one page per invocation",
        Budget {
            max_millis: 20_000,
            max_pages: Some(1),
        },
    );

    let all = setup(UserScope::AllUsersAndGroups, false);
    all.tenant.domain("contoso.com", true);
    let users = people(100_000);
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    all.tenant.put_users(users);
    for g in 0..50 {
        let id = format!("team-{g}");
        all.tenant.put_group(&id, &format!("Team {g}"));
        all.tenant
            .add_users_to(&id, ids[g * 2000..(g + 1) * 2000].iter().cloned());
    }
    run(
        &all,
        "100,000-user tenant (all users), first run",
        Budget::default(),
    );
    run(
        &all,
        "100,000-user tenant, unchanged (delta) run",
        Budget::default(),
    );
    let searching = |search: &str| UserQuery {
        search: Some(search.to_owned()),
        filter: None,
    };
    search(
        &all,
        "100,000 users: search matching 1 user",
        searching("FIRST.LAST99999@"),
    );
    search(
        &all,
        "100,000 users: search matching 11,111 users",
        searching("last1"),
    );
    search(
        &all,
        "100,000 users: filter matching no user",
        UserQuery {
            search: None,
            filter: Some(UserFilter::NotSynced),
        },
    );
    all.tenant
        .put_user(user("new-user", "new.user@contoso.com"));
    all.tenant.add_user_to("team-1", "new-user");
    run(
        &all,
        "100,000-user tenant, one user added (delta)",
        Budget::default(),
    );
}
