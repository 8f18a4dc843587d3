//! Fault-injection knobs and request statistics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every knob, settable by CLI flags and by `POST /_sim/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer every Nth Graph request with 429 (0 = never). While throttled,
    /// every request is refused until `Retry-After` has passed.
    pub throttle_every: u64,
    /// The `Retry-After` of a throttle, in seconds.
    pub retry_after_secs: u64,
    /// Send `Retry-After` as an HTTP-date (the moment the throttle ends,
    /// rounded up to the second) instead of a number of seconds.
    pub retry_after_as_date: bool,
    /// Answer every Nth Graph request with 500 `generalException` (0 = never).
    pub server_error_every: u64,
    /// Added to every Graph and token response.
    pub latency_ms: u64,
    /// Lifetime of issued access tokens.
    pub token_lifetime_secs: u64,
    /// Skip tokens older than this are refused with
    /// `Directory_ExpiredPageToken` (none = they never expire).
    pub page_token_ttl_secs: Option<u64>,
    /// Delta tokens older than this get 410 Gone (none = never).
    pub delta_token_ttl_secs: Option<u64>,
    /// Build `@odata.nextLink`s on this base instead of the request's own
    /// host (to test that clients refuse foreign links).
    pub next_link_base: Option<String>,
    /// Apply a batch of random changes (add, remove, rename, move) every N
    /// seconds, checked on each request (none = the data stays put).
    pub drift_every_secs: Option<u64>,
    /// Serve at most this many items per page of every listing, whatever
    /// `$top` asks (Graph may return smaller pages; none = as asked).
    pub max_page_size: Option<usize>,
    /// Member listings never advance past this page (1-based): its
    /// `@odata.nextLink` is the link that led to the page before it, as
    /// seen in the wild (none = links advance).
    pub loop_back_at_page: Option<usize>,
    /// Answer an expired delta token with 400 `syncStateNotFound` (Graph's
    /// documented spelling) instead of 410 Gone `SyncStateNotFound`.
    pub expired_delta_as_400: bool,
    /// The tenant offers no delta queries: `/users/delta` and
    /// `/groups/delta` answer 404 `Request_ResourceNotFound`.
    pub delta_unavailable: bool,
    /// The token endpoint's errors quote the request they refuse (its
    /// form body, client secret included), as misbehaving proxies do.
    pub echo_token_request: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            throttle_every: 0,
            retry_after_secs: 2,
            retry_after_as_date: false,
            server_error_every: 0,
            latency_ms: 0,
            token_lifetime_secs: 3599,
            page_token_ttl_secs: None,
            delta_token_ttl_secs: None,
            next_link_base: None,
            drift_every_secs: None,
            max_page_size: None,
            loop_back_at_page: None,
            expired_delta_as_400: false,
            delta_unavailable: false,
            echo_token_request: false,
        }
    }
}

/// What the simulator has served, for tests and `GET /_sim/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Requests per endpoint (`token`, `domains`, `users`, `users/delta`,
    /// `groups`, `groups/delta`, `group`, `members`, `transitiveMembers`, ...).
    pub requests: BTreeMap<String, u64>,
    /// All requests to `/v1.0/...`.
    pub graph_requests: u64,
    pub token_requests: u64,
    /// Requests answered 429 (both new throttles and early retries).
    pub throttled: u64,
    /// Requests that arrived before a previous `Retry-After` had passed.
    pub early_requests: u64,
    pub server_errors: u64,
}

impl Stats {
    pub fn count(&mut self, endpoint: &str) {
        *self.requests.entry(endpoint.to_owned()).or_default() += 1;
    }

    /// Requests served by one endpoint.
    pub fn of(&self, endpoint: &str) -> u64 {
        self.requests.get(endpoint).copied().unwrap_or(0)
    }
}
