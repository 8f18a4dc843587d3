//! The scheduler's job: one tick over every directory in the engine's
//! bounded index (never a store scan), each with its own Graph client.
//! Called every minute by the cron component and by `POST /api/v1/tick`.

use engine::ports::{Clock, Mailer, Store};
use engine::{Engine, EngineError, TickReport};
use graph::{HttpClient, Pause};

use crate::config::AppConfig;
use crate::source::graph_client_for;

/// Starts due automatic runs and advances runs in progress, within the
/// configured invocation budget shared by all directories. A directory whose
/// client cannot be built (e.g. its secret no longer opens) is reported and
/// the others go on.
pub async fn tick_all<S, C, H, P, M>(
    engine: &Engine<'_, S, C>,
    config: &AppConfig,
    http: &H,
    pause: &P,
    mailer: &M,
) -> Result<Vec<TickReport>, EngineError>
where
    S: Store,
    C: Clock,
    H: HttpClient + Clone,
    P: Pause + Clone,
    M: Mailer,
{
    engine
        .tick_all(
            |directory| graph_client_for(config, directory, http.clone(), pause.clone()),
            mailer,
            config.budget(),
        )
        .await
}
