//! The Graph client: token, requests, retries, paging.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use url::Url;

use crate::config::parse_base;
use crate::{ConfigError, GraphConfig, HttpClient, Pause};

/// Request counters, for the run's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent to Graph (retries included).
    pub graph_requests: u64,
    /// Requests sent to the token endpoint.
    pub token_requests: u64,
    /// Requests repeated after a throttle, a 5xx or a network error.
    pub retries: u64,
}

/// A Microsoft Graph client for one tenant.
///
/// Holds the access token cache, so reuse one instance for the calls of an
/// invocation. Not `Sync`: Spin components are single-threaded.
pub struct GraphClient<H, P> {
    http: H,
    pause: P,
    token_url: String,
    graph_base: Url,
    client_id: String,
    client_secret: String,
    /// Monotonic ms (per `pause`) past which no wait starts.
    deadline_ms: Cell<Option<u64>>,
    token: RefCell<Option<CachedToken>>,
    stats: Cell<ClientStats>,
}

struct CachedToken {
    access_token: String,
    expires_at_ms: u64,
}

impl<H: HttpClient, P: Pause> GraphClient<H, P> {
    /// Validates the configuration; sends nothing yet.
    pub fn new(config: GraphConfig, http: H, pause: P) -> Result<Self, ConfigError> {
        for (field, value) in [
            ("tenant_id", &config.tenant_id),
            ("client_id", &config.client_id),
            ("client_secret", &config.client_secret),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Empty(field));
            }
        }
        let authority = parse_base("authority", &config.authority)?;
        let graph_base = parse_base("graph_base", &config.graph_base)?;
        let token_url = format!(
            "{}/{}/oauth2/v2.0/token",
            authority.as_str().trim_end_matches('/'),
            config.tenant_id
        );
        let client = GraphClient {
            http,
            pause,
            token_url,
            graph_base,
            client_id: config.client_id,
            client_secret: config.client_secret,
            deadline_ms: Cell::new(None),
            token: RefCell::new(None),
            stats: Cell::new(ClientStats::default()),
        };
        client.set_time_budget(config.time_budget);
        Ok(client)
    }

    /// Restarts the deadline: from now, calls may spend `budget` (or without
    /// limit when `None`). For a client reused across invocations.
    pub fn set_time_budget(&self, budget: Option<Duration>) {
        let now = self.pause.now_ms();
        self.deadline_ms.set(budget.map(|b| {
            now.saturating_add(u64::try_from(b.as_millis()).unwrap_or(u64::MAX))
        }));
    }

    /// What this client has sent so far.
    pub fn stats(&self) -> ClientStats {
        self.stats.get()
    }
}
