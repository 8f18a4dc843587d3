//! The facade the adapters (HTTP API, scheduler) call: one `Engine` over a
//! store and a clock; the identity source and mailer are passed per call
//! because they are built per directory (from its decrypted secret).

use crate::codec::{load, update};
use crate::error::{ConflictReason, EngineError, Result};
use crate::ids::{DirId, OrgId};
use crate::keys;
use crate::orgs::{self, DirRef, Directory, NewDirectory, Org};
use crate::ports::{Clock, IdentitySource, Mailer, Store};
use crate::saml::SamlConfig;
use crate::settings::{SettingsInput, VersionedSettings};
use crate::sync::types::*;
use crate::views::*;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

pub(crate) mod context;

pub use context::{Engine, EngineConfig};

/// The result of ticking one directory in [`Engine::tick_all`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    pub org: OrgId,
    pub dir: DirId,
    /// The outcome, or the error as text (the directory's own history and
    /// log carry the details).
    pub outcome: std::result::Result<TickOutcome, String>,
}

/// Parses the organization and directory ids of a call.
fn ids(org: &str, dir: &str) -> Result<(OrgId, DirId)> {
    Ok((OrgId::parse(org)?, DirId::parse(dir)?))
}

/// The span of a directory's sync work: its events (the run log's, the
/// Graph client's) carry the org, the directory and, once a run is
/// taken, its id.
fn sync_span(org: &OrgId, dir: &DirId) -> tracing::Span {
    tracing::info_span!(
        "sync",
        org = org.as_str(),
        directory = dir.as_str(),
        run_id = tracing::field::Empty
    )
}

impl<'a, S: Store, C: Clock> Engine<'a, S, C> {
    // ---- organizations and directories ----

    /// Creates an organization. `org` is `[a-z0-9-]{1,40}`; `Conflict(AlreadyExists)` if it exists.
    pub async fn create_org(
        &self,
        org: &str,
        name: &str,
        admin_token_hash: Vec<u8>,
    ) -> Result<Org> {
        orgs::create_org(
            self.store,
            self.now(),
            &OrgId::parse(org)?,
            name,
            admin_token_hash,
        )
        .await
    }

    pub async fn get_org(&self, org: &str) -> Result<Org> {
        orgs::get_org(self.store, &OrgId::parse(org)?).await
    }

    /// Connects a tenant; the engine assigns the directory id (`d1`, `d2`...).
    pub async fn connect_directory(&self, org: &str, new: NewDirectory) -> Result<Directory> {
        orgs::connect(self.store, self.now(), &OrgId::parse(org)?, new).await
    }

    /// Changes a directory's name, client id or sealed secret (see
    /// [`orgs::update_directory`]).
    pub async fn update_directory(
        &self,
        org: &str,
        dir: &str,
        change: orgs::DirectoryUpdate,
    ) -> Result<Directory> {
        let (org, dir) = ids(org, dir)?;
        orgs::update_directory(self.store, &org, &dir, change).await
    }

    pub async fn get_directory(&self, org: &str, dir: &str) -> Result<Directory> {
        let (org, dir) = ids(org, dir)?;
        orgs::get(self.store, &org, &dir).await
    }

    pub async fn list_directories(&self, org: &str) -> Result<Vec<Directory>> {
        orgs::list(self.store, &OrgId::parse(org)?).await
    }

    /// Every connected directory of every org (one key read).
    pub async fn directory_index(&self) -> Result<Vec<DirRef>> {
        orgs::index(self.store).await
    }

    // ---- settings ----

    pub async fn get_settings(&self, org: &str, dir: &str) -> Result<VersionedSettings> {
        let (org, dir) = ids(org, dir)?;
        orgs::get(self.store, &org, &dir).await?;
        load(self.store, &keys::dir_doc(&org, &dir, "settings"))
            .await?
            .ok_or(EngineError::NotFound("settings"))
    }

    /// "Save and sync later": stores the settings (automatic syncing stays as
    /// it was), bumps the version. `expected_version` is the `If-Match` ETag;
    /// a stale one gives `PreconditionFailed`.
    pub async fn save_settings(
        &self,
        org: &str,
        dir: &str,
        input: SettingsInput,
        expected_version: Option<u64>,
    ) -> Result<VersionedSettings> {
        let input = input.validate().map_err(EngineError::Validation)?;
        self.change_settings(org, dir, expected_version, |s| {
            s.domains = input.domains.clone();
            s.scope = input.scope.clone();
            s.send_email = input.send_email;
            s.keep_previous_groups = input.keep_previous_groups;
            s.removal_guard = input.removal_guard;
        })
        .await
    }

    /// Turns automatic syncing on or off (no run is started).
    pub async fn set_auto_sync(
        &self,
        org: &str,
        dir: &str,
        enabled: bool,
    ) -> Result<VersionedSettings> {
        self.change_settings(org, dir, None, |s| s.auto_sync = enabled)
            .await
    }

    pub(crate) async fn change_settings(
        &self,
        org: &str,
        dir: &str,
        expected_version: Option<u64>,
        change: impl Fn(&mut crate::settings::Settings),
    ) -> Result<VersionedSettings> {
        let (org, dir) = ids(org, dir)?;
        orgs::get(self.store, &org, &dir).await?;
        update(
            self.store,
            &keys::dir_doc(&org, &dir, "settings"),
            |cur: Option<VersionedSettings>| {
                let cur = cur.ok_or(EngineError::NotFound("settings"))?;
                if let Some(expected) = expected_version
                    && expected != cur.version
                {
                    return Err(EngineError::PreconditionFailed {
                        expected,
                        current: cur.version,
                    });
                }
                let mut next = cur.clone();
                change(&mut next.settings);
                if next.settings == cur.settings {
                    return Ok((None, cur));
                }
                next.version += 1;
                Ok((Some(next.clone()), next))
            },
        )
        .await
    }

    // ---- sync actions ----

    /// What a sync would do now (reads the tenant's domains and the selected
    /// groups; writes nothing).
    pub async fn preview<I: IdentitySource>(
        &self,
        org: &str,
        dir: &str,
        source: &I,
    ) -> Result<Preview> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::start::preview(self, &org, &dir, source).await
    }

    /// Sync: snapshots the settings, starts a run, turns automatic syncing on.
    /// `Conflict(RunInProgress)` while a run is in progress. Does no run work: call
    /// `advance` (the API does it in the same request, with a budget).
    pub async fn start_sync<I: IdentitySource>(
        &self,
        org: &str,
        dir: &str,
        source: &I,
        trigger: Trigger,
    ) -> Result<Confirmation> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::start::start(self, &org, &dir, source, trigger)
            .instrument(sync_span(&org, &dir))
            .await
    }

    /// Confirms the removals a run held by the removal guard would make
    /// (`Conflict(NothingToConfirm)` when no run waits for it); the run completes
    /// at the next `advance`.
    pub async fn confirm_removals(&self, org: &str, dir: &str) -> Result<()> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::guard::confirm(self, &org, &dir).await
    }

    /// Rejects the removals a held run would make: the run ends, nothing is
    /// removed, the history records it as rejected (`Conflict(NothingToConfirm)`
    /// when no run waits for it).
    pub async fn reject_removals(&self, org: &str, dir: &str) -> Result<()> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::guard::reject(self, &org, &dir).await
    }

    /// Always refused: a started run cannot be stopped (`NotFound` if the
    /// directory does not exist, else `Conflict(CannotStop)`).
    pub async fn stop_sync(&self, org: &str, dir: &str) -> Result<()> {
        let (org, dir) = ids(org, dir)?;
        orgs::get(self.store, &org, &dir).await?;
        Err(EngineError::Conflict(ConflictReason::CannotStop))
    }

    /// Does run work until the budget is spent. Safe to call concurrently and
    /// often: only the lease holder works, others get `Busy`.
    pub async fn advance<I: IdentitySource, M: Mailer>(
        &self,
        org: &str,
        dir: &str,
        source: &I,
        mailer: &M,
        budget: Budget,
    ) -> Result<AdvanceOutcome> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::run::advance(self, &org, &dir, source, mailer, budget)
            .instrument(sync_span(&org, &dir))
            .await
    }

    /// The automatic-sync rule for one directory: starts a run when automatic
    /// syncing is on and the interval has passed since the last run started,
    /// advances a run in progress, otherwise does nothing.
    pub async fn tick<I: IdentitySource, M: Mailer>(
        &self,
        org: &str,
        dir: &str,
        source: &I,
        mailer: &M,
        budget: Budget,
    ) -> Result<TickOutcome> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::start::tick(self, &org, &dir, source, mailer, budget)
            .instrument(sync_span(&org, &dir))
            .await
    }

    /// `tick` for the directories in the index, sharing `budget` fairly: each
    /// gets an equal share of the time left, and once the time is spent the
    /// rest wait for the next tick. The starting directory rotates every
    /// minute, so a large run cannot starve the directories after it.
    /// `source_for` builds the identity source of a directory (e.g. a Graph
    /// client from its decrypted secret); its error is reported for that
    /// directory only.
    pub async fn tick_all<I, M, F, E>(
        &self,
        mut source_for: F,
        mailer: &M,
        budget: Budget,
    ) -> Result<Vec<TickReport>>
    where
        I: IdentitySource,
        M: Mailer,
        F: FnMut(&Directory) -> std::result::Result<I, E>,
        E: std::fmt::Display,
    {
        let started = self.now();
        let mut index = orgs::index(self.store).await?;
        if !index.is_empty() {
            // Each minute another directory goes first.
            let minute = usize::try_from(started.timestamp() / 60).unwrap_or_default();
            let turn = minute % index.len();
            index.rotate_left(turn);
        }
        let total = index.len();
        let mut reports = Vec::new();
        for (done, entry) in index.into_iter().enumerate() {
            let spent = u64::try_from((self.now() - started).num_milliseconds()).unwrap_or(0);
            if spent >= budget.max_millis {
                break;
            }
            let share = Budget {
                max_millis: (budget.max_millis - spent) / (total - done) as u64,
                ..budget
            };
            let outcome = match orgs::get(self.store, &entry.org, &entry.dir).await {
                Err(e) => Err(e.to_string()),
                Ok(directory) => match source_for(&directory) {
                    Err(e) => Err(e.to_string()),
                    Ok(source) => self
                        .tick(
                            entry.org.as_str(),
                            entry.dir.as_str(),
                            &source,
                            mailer,
                            share,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                },
            };
            reports.push(TickReport {
                org: entry.org,
                dir: entry.dir,
                outcome,
            });
        }
        Ok(reports)
    }

    // ---- status ----

    pub async fn sync_status(&self, org: &str, dir: &str) -> Result<SyncStatus> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::status::status(self, &org, &dir).await
    }

    /// Finished runs, newest first (bounded).
    pub async fn sync_history(&self, org: &str, dir: &str) -> Result<Vec<RunSummary>> {
        let (org, dir) = ids(org, dir)?;
        crate::sync::history::list(self, &org, &dir).await
    }

    /// One finished run of the history (`NotFound("run")` once it has
    /// dropped out of it, or before it finished).
    pub async fn sync_run(&self, org: &str, dir: &str, run_id: u64) -> Result<RunSummary> {
        self.sync_history(org, dir)
            .await?
            .into_iter()
            .find(|run| run.run_id == run_id)
            .ok_or(EngineError::NotFound("run"))
    }

    // ---- directory data (whole org, all its directories) ----

    pub async fn list_users(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<UserView>> {
        self.search_users(org, &UserQuery::default(), cursor, limit)
            .await
    }

    /// The accounts `query` keeps (search and filter), paged like
    /// [`Engine::list_users`]: a page is full unless it is the last.
    pub async fn search_users(
        &self,
        org: &str,
        query: &UserQuery,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<UserView>> {
        crate::query::list_users(self, &OrgId::parse(org)?, query, cursor, limit).await
    }

    pub async fn get_user(&self, org: &str, user_id: &str) -> Result<UserView> {
        crate::query::get_user(self, &OrgId::parse(org)?, user_id).await
    }

    /// A user with the synced groups it belongs to, direct and through
    /// nesting, by name.
    pub async fn user_detail(&self, org: &str, user_id: &str) -> Result<UserDetail> {
        crate::query::user_detail(self, &OrgId::parse(org)?, user_id).await
    }

    pub async fn list_groups(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<GroupView>> {
        crate::query::list_groups(self, &OrgId::parse(org)?, cursor, limit).await
    }

    pub async fn get_group(&self, org: &str, group_id: &str) -> Result<GroupView> {
        crate::query::get_group(self, &OrgId::parse(org)?, group_id).await
    }

    /// Flattened members of a group (direct and through nested groups).
    pub async fn group_members(
        &self,
        org: &str,
        group_id: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<MemberView>> {
        self.search_group_members(org, group_id, None, cursor, limit)
            .await
    }

    /// A group's members whose display name, UPN or mail contains `search`
    /// (ignoring case), paged like [`Engine::group_members`].
    pub async fn search_group_members(
        &self,
        org: &str,
        group_id: &str,
        search: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<MemberView>> {
        crate::query::group_members(self, &OrgId::parse(org)?, group_id, search, cursor, limit)
            .await
    }

    pub async fn claimed_domains(&self, org: &str) -> Result<Vec<ClaimedDomain>> {
        crate::query::claimed_domains(self, &OrgId::parse(org)?).await
    }

    /// Welcome emails to new accounts, queued and sent.
    pub async fn list_emails(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Listing<EmailView>> {
        crate::query::list_emails(self, &OrgId::parse(org)?, cursor, limit).await
    }

    // ---- product access and billing ----

    /// Grants or removes product access for a group of the org's directories
    /// (`NotFound` for a group that is not in any of them).
    pub async fn set_product_access(
        &self,
        org: &str,
        group_id: &str,
        enabled: bool,
    ) -> Result<GroupView> {
        crate::access::set_product_access(self, &OrgId::parse(org)?, group_id, enabled).await
    }

    pub async fn billing(&self, org: &str) -> Result<Billing> {
        crate::access::billing(self, &OrgId::parse(org)?).await
    }

    // ---- SAML ----

    /// `None` when not configured.
    pub async fn get_saml(&self, org: &str) -> Result<Option<SamlConfig>> {
        let org = OrgId::parse(org)?;
        orgs::get_org(self.store, &org).await?;
        load(self.store, &keys::saml(&org)).await
    }

    /// Whether SAML may be configured now: `Err(Conflict(NoCompletedRun))`
    /// exactly when `put_saml` would refuse for that reason (lets a client
    /// disable the form with the reason before anything is typed).
    pub async fn saml_configurable(&self, org: &str) -> Result<()> {
        let org = OrgId::parse(org)?;
        if crate::query::has_claimed_domains(self, &org).await? {
            Ok(())
        } else {
            Err(EngineError::Conflict(ConflictReason::NoCompletedRun))
        }
    }

    /// Stores the SAML configuration; `Conflict(NoCompletedRun)` until a
    /// completed sync of one of the org's directories claimed a domain.
    pub async fn put_saml(&self, org: &str, config: SamlConfig) -> Result<SamlConfig> {
        let org = OrgId::parse(org)?;
        let config = config.validate().map_err(EngineError::Validation)?;
        if !crate::query::has_claimed_domains(self, &org).await? {
            return Err(EngineError::Conflict(ConflictReason::NoCompletedRun));
        }
        self.store
            .set(&keys::saml(&org), &crate::codec::encode(&config))
            .await?;
        Ok(config)
    }
}
