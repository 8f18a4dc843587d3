//! Preview, Sync (start + first chunk of work), status, history, and the
//! refused stop.

use engine::{AdvanceOutcome, Confirmation, RunSummary, SyncStatus, Trigger};
use graph::GraphClient;
use http::StatusCode;
use platform::Platform;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::error::ApiError;
use crate::respond::{Response, attachment, json, ok};
use crate::run_csv;

/// A started run: what it will do, what this request's chunk did, the status.
#[derive(Serialize, ToSchema)]
pub struct SyncStarted {
    confirmation: Confirmation,
    /// What the request's own chunk of work achieved; `null` when it failed
    /// (the run is started all the same, and the next tick resumes it).
    advance: Option<AdvanceOutcome>,
    status: SyncStatus,
}

/// The last runs, newest first.
#[derive(Serialize, ToSchema)]
pub struct RunHistory {
    items: Vec<RunSummary>,
}

impl<P: Platform> App<P> {
    pub(crate) async fn preview(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let engine = self.engine();
        let directory = engine.get_directory(org, dir).await?;
        let source = self.source_for(&directory)?;
        Ok(ok(&engine.preview(org, dir, &source).await?))
    }

    /// Sync: starts a run (409 while one is in progress), then advances it
    /// within this request's budget, so small tenants finish right here.
    pub(crate) async fn start_sync(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let engine = self.engine();
        let directory = engine.get_directory(org, dir).await?;
        let source = self.source_for(&directory)?;
        let confirmation = engine
            .start_sync(org, dir, &source, Trigger::Manual)
            .await?;
        let advance = self
            .advance_here(
                org,
                dir,
                &source,
                "the first chunk of the sync failed; the scheduler resumes it",
            )
            .await;
        let status = engine.sync_status(org, dir).await?;
        Ok(json(
            StatusCode::ACCEPTED,
            &SyncStarted {
                confirmation,
                advance,
                status,
            },
        ))
    }

    pub(crate) async fn sync_status(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        Ok(ok(&self.engine().sync_status(org, dir).await?))
    }

    pub(crate) async fn sync_history(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let items = self.engine().sync_history(org, dir).await?;
        Ok(ok(&RunHistory { items }))
    }

    /// `GET …/sync/runs/{run}.csv`: one finished run's summary and log as a
    /// CSV attachment; 404 for a run not in the history.
    pub(crate) async fn sync_run_csv(
        &self,
        org: &str,
        dir: &str,
        run: &str,
    ) -> Result<Response, ApiError> {
        let run_id = run.parse::<u64>().map_err(|_| ApiError::NotFound("run"))?;
        let run = self.engine().sync_run(org, dir, run_id).await?;
        let body = run_csv::encode(&run)?;
        Ok(attachment(
            "text/csv; charset=utf-8",
            &run_csv::file_name(org, dir, run_id),
            body,
        ))
    }

    /// Lets a run held by the removal guard remove what it would, then
    /// advances it within this request's budget; answers the status (409
    /// `nothing_to_confirm` when no run waits).
    pub(crate) async fn confirm_removals(
        &self,
        org: &str,
        dir: &str,
    ) -> Result<Response, ApiError> {
        let engine = self.engine();
        let directory = engine.get_directory(org, dir).await?;
        engine.confirm_removals(org, dir).await?;
        let source = self.source_for(&directory)?;
        self.advance_here(
            org,
            dir,
            &source,
            "the confirmed run did not finish here; the scheduler resumes it",
        )
        .await;
        Ok(ok(&engine.sync_status(org, dir).await?))
    }

    /// Advances the directory's run within this request's budget. A failure
    /// of the run's work is logged with `on_failure` (what happens next) and
    /// answers `None`: the run stays started and the scheduler resumes it.
    async fn advance_here(
        &self,
        org: &str,
        dir: &str,
        source: &GraphClient<P::Http, P::Pause>,
        on_failure: &str,
    ) -> Option<AdvanceOutcome> {
        let engine = self.engine();
        let budget = self.config.budget();
        match engine
            .advance(org, dir, source, self.platform.mailer(), budget)
            .await
        {
            Ok(outcome) => Some(outcome),
            Err(e) => {
                tracing::warn!(org, directory = dir, error = %e, "{on_failure}");
                None
            }
        }
    }

    /// Ends a run held by the removal guard without removing anything;
    /// answers the status (409 `nothing_to_confirm` when no run waits).
    pub(crate) async fn reject_removals(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let engine = self.engine();
        engine.reject_removals(org, dir).await?;
        Ok(ok(&engine.sync_status(org, dir).await?))
    }

    /// Always refused with the reason (404 for an unknown directory).
    pub(crate) async fn stop_sync(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        self.engine().stop_sync(org, dir).await?;
        Err(ApiError::Internal(
            "the engine accepted a stop, which it never should".to_owned(),
        ))
    }
}
