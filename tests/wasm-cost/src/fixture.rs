//! The measured directory: an organization syncing every user and group of
//! a generated in-memory tenant, over the in-memory store and a manual
//! clock (`engine::testing`).

use engine::ports::{SourceUser, from_epoch_millis};
use engine::testing::{MemoryTenant, RecordingMailer, user};
use engine::{Engine, EngineConfig, ManualClock, MemoryStore, NewDirectory, UserScope, testing};

use crate::CostError;
use crate::ready::ready;

/// The organization's id.
pub const ORG: &str = "acme";

/// Members per generated group (the benchmark's and `counts`' group size).
pub const GROUP_SIZE: usize = 2_000;

/// An organization with one directory, its settings saved, and the tenant
/// it syncs.
pub struct Fixture {
    pub store: MemoryStore,
    pub clock: ManualClock,
    pub tenant: MemoryTenant,
    pub mailer: RecordingMailer,
    /// The directory's id.
    pub dir: String,
}

impl Fixture {
    /// A tenant of `users` users in `users / GROUP_SIZE` groups (at least
    /// one) of `GROUP_SIZE` consecutive users, one verified domain, synced
    /// in the all-users scope without welcome emails.
    pub fn new(users: usize) -> Result<Fixture, CostError> {
        let mut fixture = Fixture {
            store: MemoryStore::new(),
            clock: ManualClock::new(from_epoch_millis(1_800_000_000_000)),
            tenant: tenant(users),
            mailer: RecordingMailer::default(),
            dir: String::new(),
        };
        fixture.dir = ready(connect(&fixture.engine()))??;
        Ok(fixture)
    }

    /// The engine over this fixture's store and clock, default tunables
    /// but one finalize slice per invocation (the manual clock never spends
    /// half the budget, which is what pauses finalize on a host), so each
    /// slice is timed on its own.
    pub fn engine(&self) -> Engine<'_, MemoryStore, ManualClock> {
        Engine::new(&self.store, &self.clock).with_config(EngineConfig {
            finalize_slices: Some(1),
            ..EngineConfig::default()
        })
    }
}

/// The `i`-th generated user, a member with a UPN at `contoso.com`.
pub fn person(i: usize) -> SourceUser {
    user(
        &format!("{i:08x}-0000-4000-8000-{i:012}"),
        &format!("first.last{i}@contoso.com"),
    )
}

fn tenant(users: usize) -> MemoryTenant {
    let tenant = MemoryTenant::new();
    tenant.domain("contoso.com", true);
    let people: Vec<SourceUser> = (0..users).map(person).collect();
    for (g, members) in people.chunks(GROUP_SIZE).enumerate() {
        let id = format!("team-{g}");
        tenant.put_group(&id, &format!("Team {g}"));
        tenant.add_users_to(&id, members.iter().map(|u| u.id.clone()));
    }
    tenant.put_users(people);
    tenant
}

/// Creates the organization and its directory, saves the settings; the
/// directory's id.
async fn connect(e: &Engine<'_, MemoryStore, ManualClock>) -> Result<String, engine::EngineError> {
    e.create_org(ORG, "Acme", vec![0]).await?;
    let directory = e
        .connect_directory(
            ORG,
            NewDirectory {
                name: "Entra".into(),
                tenant_id: "t".into(),
                client_id: "c".into(),
                sealed_secret: vec![1],
            },
        )
        .await?;
    let dir = directory.id.to_string();
    let settings = testing::settings(UserScope::AllUsersAndGroups);
    e.save_settings(ORG, &dir, settings, None).await?;
    Ok(dir)
}
