//! The identity source of a directory: the Graph configuration with its
//! client secret opened, pointed at the configured authority and Graph URLs
//! (a platform's [`crate::Platform::graph_client`] builds the client).

use engine::Directory;
use graph::GraphConfig;

use crate::config::AppConfig;
use crate::secrets::{SecretError, client_secret_context};

/// Why a directory's Graph client cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceBuildError {
    /// The stored secret does not open: the encryption key changed, or the
    /// record was altered. Reconnecting the tenant fixes it.
    #[error("the directory's client secret cannot be decrypted: {0}")]
    Secret(#[from] SecretError),
    #[error("the directory's Graph configuration is invalid: {0}")]
    Config(#[from] graph::ConfigError),
}

/// The Graph configuration of `directory`, spending at most the invocation
/// budget.
pub(crate) fn graph_config(
    config: &AppConfig,
    directory: &Directory,
) -> Result<GraphConfig, SourceBuildError> {
    let context = client_secret_context(
        directory.org.as_str(),
        &directory.tenant_id,
        &directory.client_id,
    );
    let client_secret = config
        .encryption_key
        .open(&directory.sealed_secret, &context)?;
    Ok(GraphConfig {
        authority: config.authority_url.clone(),
        graph_base: config.graph_url.clone(),
        tenant_id: directory.tenant_id.clone(),
        client_id: directory.client_id.clone(),
        client_secret,
        time_budget: Some(config.invocation_budget),
    })
}
