//! `POST /api/v1/tick`: what the cron trigger does, for platforms whose
//! scheduler calls an HTTP path.

use engine::TickOutcome;
use engine::TickReport;
use platform::Platform;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::error::ApiError;
use crate::respond::{Response, ok};

/// What a tick did.
#[derive(Serialize, ToSchema)]
pub struct Ticked {
    /// Directories visited (all of them, unless the budget ran out).
    directories: usize,
    items: Vec<TickItem>,
}

/// What a tick did for one directory.
#[derive(Serialize, ToSchema)]
pub struct TickItem {
    org: String,
    dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<TickOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<TickReport> for TickItem {
    fn from(report: TickReport) -> Self {
        let (outcome, error) = match report.outcome {
            Ok(outcome) => (Some(outcome), None),
            Err(error) => (None, Some(error)),
        };
        TickItem {
            org: report.org.to_string(),
            dir: report.dir.to_string(),
            outcome,
            error,
        }
    }
}

impl<P: Platform> App<P> {
    pub(crate) async fn tick(&self) -> Result<Response, ApiError> {
        let reports = self.tick_all().await?;
        let items: Vec<TickItem> = reports.into_iter().map(TickItem::from).collect();
        Ok(ok(&Ticked {
            directories: items.len(),
            items,
        }))
    }
}
