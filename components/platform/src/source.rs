//! The identity source of a directory: a Graph client with its client
//! secret opened, pointed at the configured authority and Graph URLs.

use engine::Directory;
use graph::{GraphClient, GraphConfig, HttpClient, Pause};

use crate::config::AppConfig;
use crate::secrets::{SecretError, client_secret_context};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceBuildError {
    /// The stored secret does not open: the encryption key changed, or the
    /// record was altered. Reconnecting the tenant fixes it.
    #[error("the directory's client secret cannot be decrypted: {0}")]
    Secret(#[from] SecretError),
    #[error("the directory's Graph configuration is invalid: {0}")]
    Config(#[from] graph::ConfigError),
}

/// A Graph client for `directory`, spending at most the invocation budget.
pub fn graph_client_for<H: HttpClient, P: Pause>(
    config: &AppConfig,
    directory: &Directory,
    http: H,
    pause: P,
) -> Result<GraphClient<H, P>, SourceBuildError> {
    let context = client_secret_context(
        directory.org.as_str(),
        &directory.tenant_id,
        &directory.client_id,
    );
    let client_secret = config
        .encryption_key
        .open(&directory.sealed_secret, &context)?;
    let graph_config = GraphConfig {
        authority: config.authority_url.clone(),
        graph_base: config.graph_url.clone(),
        tenant_id: directory.tenant_id.clone(),
        client_id: directory.client_id.clone(),
        client_secret,
        time_budget: Some(config.invocation_budget),
    };
    Ok(GraphClient::new(graph_config, http, pause)?)
}
