//! The application: a platform's ports, the configuration, and what handlers
//! derive from them (the engine facade, a Graph client per directory).

use engine::{Directory, Engine, TickReport};
use graph::GraphClient;
use platform::{AppConfig, Platform, client_secret_context};

use crate::error::ApiError;

/// Everything a request needs. Generic over one [`Platform`] so the same
/// handlers run natively (in-memory store, `ureq`) and in Spin (key-value,
/// outbound HTTP).
pub struct App<P> {
    /// The store, outbound HTTP, clock, mailer and pause.
    pub platform: P,
    pub config: AppConfig,
}

impl<P: Platform> App<P> {
    /// The engine facade over the platform's store and clock.
    pub fn engine(&self) -> Engine<'_, P::Store, P::Clock> {
        self.platform.engine(&self.config)
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
    pub fn source_for(
        &self,
        directory: &Directory,
    ) -> Result<GraphClient<P::Http, P::Pause>, ApiError> {
        self.platform
            .graph_client(&self.config, directory)
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// Starts the automatic syncs that are due and advances runs in
    /// progress, for every directory, within one invocation budget (the
    /// platform's job, shared with the cron component).
    pub async fn tick_all(&self) -> Result<Vec<TickReport>, ApiError> {
        Ok(platform::tick_all(&self.platform, &self.config).await?)
    }
}
