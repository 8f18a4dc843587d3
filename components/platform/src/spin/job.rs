//! The tick job wired to Spin: configuration from variables, the Spin
//! bundle ([`SpinPlatform`]). One call per cron event or `POST /api/v1/tick`.

use engine::ports::StoreError;
use engine::{EngineError, TickOutcome, TickReport};

use crate::config::{AppConfig, ConfigError};
use crate::spin::{SpinPlatform, SpinVariables};

#[derive(Debug, thiserror::Error)]
pub enum TickJobError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("opening the key-value store: {0}")]
    Store(#[from] StoreError),
    #[error("reading the directory index: {0}")]
    Engine(#[from] EngineError),
}

/// Runs [`crate::tick_all`] with the component's own configuration and
/// store, logs what happened to each directory (errors and work done), and
/// returns the reports.
pub async fn run_tick() -> Result<Vec<TickReport>, TickJobError> {
    let config = AppConfig::load(&SpinVariables).await?;
    let platform = SpinPlatform::open(&config).await?;
    let reports = crate::tick_all(&platform, &config).await?;
    for report in &reports {
        match &report.outcome {
            Ok(TickOutcome::Nothing { .. }) => {}
            Ok(outcome) => tracing::info!(
                org = report.org.as_str(),
                directory = report.dir.as_str(),
                outcome = ?outcome,
                "tick"
            ),
            Err(error) => tracing::error!(
                org = report.org.as_str(),
                directory = report.dir.as_str(),
                %error,
                "tick failed"
            ),
        }
    }
    Ok(reports)
}
