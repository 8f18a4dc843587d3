//! The application: the ports, the configuration, and what handlers derive
//! from them (the engine facade, a Graph client per directory).

use engine::ports::{Clock, Mailer, Store};
use engine::{Directory, Engine, TickReport};
use graph::{GraphClient, HttpClient, Pause};
use platform::{AppConfig, client_secret_context, graph_client_for};

use crate::error::ApiError;

/// Everything a request needs. Generic over the ports so the same handlers
/// run natively (in-memory store, `ureq`) and in Spin (key-value, outbound HTTP).
pub struct App<S, H, C, M, P> {
    pub store: S,
    /// Outbound HTTP, for Microsoft Graph.
    pub http: H,
    pub clock: C,
    pub mailer: M,
    /// Monotonic time and sleeps, for the Graph client's retries.
    pub pause: P,
    pub config: AppConfig,
}

impl<S, H, C, M, P> App<S, H, C, M, P>
where
    S: Store,
    H: HttpClient + Clone,
    C: Clock,
    M: Mailer,
    P: Pause + Clone,
{
    pub fn engine(&self) -> Engine<'_, S, C> {
        Engine::new(&self.store, &self.clock).with_config(self.config.engine_config())
    }

    /// Seals a tenant's client secret for a directory about to be connected
    /// (bound to the org, tenant and client it belongs to).
    pub fn seal_secret(
        &self,
        org: &str,
        tenant_id: &str,
        client_id: &str,
        secret: &str,
    ) -> Result<Vec<u8>, ApiError> {
        self.config
            .encryption_key
            .seal(secret, &client_secret_context(org, tenant_id, client_id))
            .map_err(|e| ApiError::Internal(format!("sealing the client secret: {e}")))
    }

    /// A Graph client for a connected directory, its secret opened.
    pub fn source_for(&self, directory: &Directory) -> Result<GraphClient<H, P>, ApiError> {
        graph_client_for(
            &self.config,
            directory,
            self.http.clone(),
            self.pause.clone(),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Starts the automatic syncs that are due and advances runs in
    /// progress, for every directory, within one invocation budget (the
    /// platform's job, shared with the cron component).
    pub async fn tick_all(&self) -> Result<Vec<TickReport>, ApiError> {
        Ok(platform::tick_all(
            &self.engine(),
            &self.config,
            &self.http,
            &self.pause,
            &self.mailer,
        )
        .await?)
    }
}
