//! The scheduler's job: one tick over every directory in the engine's
//! bounded index (never a store scan), each with its own Graph client.
//! Called every minute by the cron component and by `POST /api/v1/tick`.

use engine::{EngineError, TickReport};

use crate::bundle::Platform;
use crate::config::AppConfig;

/// Starts due automatic runs and advances runs in progress, within the
/// configured invocation budget shared by all directories. A directory whose
/// client cannot be built (e.g. its secret no longer opens) is reported and
/// the others go on.
pub async fn tick_all<P: Platform>(
    platform: &P,
    config: &AppConfig,
) -> Result<Vec<TickReport>, EngineError> {
    platform
        .engine(config)
        .tick_all(
            |directory| platform.graph_client(config, directory),
            platform.mailer(),
            config.budget(),
        )
        .await
}
