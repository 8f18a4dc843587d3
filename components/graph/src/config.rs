//! Where the client connects and with which credentials.

use std::time::Duration;

use url::Url;

/// The public Entra ID authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The public Microsoft Graph endpoint (the client appends `/v1.0/...`).
pub const DEFAULT_GRAPH_BASE: &str = "https://graph.microsoft.com";

/// Everything the client needs to reach one tenant.
#[derive(Clone)]
pub struct GraphConfig {
    /// Token authority, e.g. [`DEFAULT_AUTHORITY`] or the simulator's base URL.
    /// The token endpoint is `{authority}/{tenant_id}/oauth2/v2.0/token`.
    pub authority: String,
    /// Graph base URL without the version, e.g. [`DEFAULT_GRAPH_BASE`].
    /// `@odata.nextLink`s are followed only when they share its scheme, host
    /// and port.
    pub graph_base: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// How long this client may spend, counted from its construction. Calls
    /// never sleep (for `Retry-After` or a retry backoff) past it; `None`
    /// means no deadline beyond the transport's own timeouts.
    pub time_budget: Option<Duration>,
}

impl GraphConfig {
    /// A configuration against the public Microsoft cloud.
    pub fn microsoft(tenant_id: &str, client_id: &str, client_secret: &str) -> Self {
        GraphConfig {
            authority: DEFAULT_AUTHORITY.to_owned(),
            graph_base: DEFAULT_GRAPH_BASE.to_owned(),
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            time_budget: None,
        }
    }
}

// The secret never appears in logs.
impl std::fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphConfig")
            .field("authority", &self.authority)
            .field("graph_base", &self.graph_base)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("time_budget", &self.time_budget)
            .finish()
    }
}

/// A configuration the client cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field} is not an absolute http(s) URL: {value}")]
    BadUrl { field: &'static str, value: String },
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

/// Parses a base URL, requiring http(s) and a host, and drops a trailing `/`.
pub(crate) fn parse_base(field: &'static str, value: &str) -> Result<Url, ConfigError> {
    let bad = || ConfigError::BadUrl {
        field,
        value: value.to_owned(),
    };
    let url = Url::parse(value.trim_end_matches('/')).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    Ok(url)
}
