//! The Graph client: token cache, retries within the time budget, error mapping.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use engine::ports::{SourceError, Timestamp};
use http::{Method, Request, Response, StatusCode, header};
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::parse_base;
use crate::wire::{GraphErrorBody, TokenErrorBody, TokenResponse};
use crate::{ConfigError, Deadline, GraphConfig, HttpClient, Pause, TransportError};

/// The scope of a client-credentials token for Graph.
const TOKEN_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Attempts per request, across throttling, 5xx and network errors.
const MAX_ATTEMPTS: u32 = 5;
/// First backoff after a 5xx or a network error; doubles per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Without a deadline, the longest single wait taken in place.
const MAX_WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(60);
/// A cached token is renewed this long before it expires (at most a tenth of
/// its lifetime, so short-lived tokens are still reused).
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(300);
/// Graph error codes meaning "this page or delta token is no longer valid",
/// compared without regard to letter case: Graph's documentation spells
/// `syncStateNotFound` and `resyncRequired`, responses have been seen with
/// `SyncStateNotFound` ("Use delta query to track changes in Microsoft Graph
/// data", learn.microsoft.com; HTTP 400 or 410).
const EXPIRED_TOKEN_CODES: [&str; 3] = [
    "Directory_ExpiredPageToken",
    "syncStateNotFound",
    "resyncRequired",
];

/// Whether `code` is one of [`EXPIRED_TOKEN_CODES`] (any letter case).
fn is_expired_token_code(code: &str) -> bool {
    EXPIRED_TOKEN_CODES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(code))
}

/// Request counters, for the run's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent to Graph (retries included).
    pub graph_requests: u64,
    /// Requests sent to the token endpoint (retries included).
    pub token_requests: u64,
    /// Requests repeated after a throttle, a 5xx or a network error.
    pub retries: u64,
}

/// A Microsoft Graph client for one tenant.
///
/// Holds the access-token cache, so reuse one instance for the calls of an
/// invocation. Not `Sync`: Spin components are single-threaded.
pub struct GraphClient<H, P> {
    http: H,
    pause: P,
    token_url: String,
    graph_base: Url,
    client_id: String,
    client_secret: String,
    /// Monotonic ms (per `pause`) past which no wait may end.
    deadline_ms: Cell<Option<u64>>,
    token: RefCell<Option<CachedToken>>,
    stats: Cell<ClientStats>,
}

struct CachedToken {
    access_token: String,
    renew_at_ms: u64,
}

#[derive(Clone, Copy)]
enum Endpoint {
    Token,
    Graph,
}

impl Endpoint {
    /// The endpoint's name in logs.
    fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Graph => "graph",
        }
    }
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
        let mut token_url = parse_base("authority", &config.authority)?;
        token_url
            .path_segments_mut()
            .map_err(|()| ConfigError::BadUrl {
                field: "authority",
                value: config.authority.clone(),
            })?
            .pop_if_empty()
            .extend([config.tenant_id.as_str(), "oauth2", "v2.0", "token"]);
        let graph_base = parse_base("graph_base", &config.graph_base)?;
        let client = GraphClient {
            http,
            pause,
            token_url: token_url.into(),
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

    /// Restarts the deadline: from now, calls may spend `budget` (no limit
    /// when `None`). For a client reused across invocations.
    pub fn set_time_budget(&self, budget: Option<Duration>) {
        let now = self.pause.now_ms();
        self.deadline_ms
            .set(budget.map(|b| now.saturating_add(millis(b))));
    }

    /// What this client has sent so far.
    pub fn stats(&self) -> ClientStats {
        self.stats.get()
    }

    /// The Graph base URL (scheme, host, port) links must point at.
    pub(crate) fn graph_base(&self) -> &Url {
        &self.graph_base
    }

    /// GETs a Graph URL and parses a 2xx body; other statuses become typed errors.
    ///
    /// Every error is redacted of the client secret and the access token
    /// (see `redact`): its text came from outside.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, SourceError> {
        let body = self.get_body(url).await?;
        parse_body(&body, url.as_str(), &self.scrubber())
    }

    /// GETs a Graph URL and returns a 2xx answer's body, unparsed; other
    /// statuses become typed errors, redacted as [`Self::get_json`]'s.
    pub(crate) async fn get_body(&self, url: &Url) -> Result<Vec<u8>, SourceError> {
        let response = self.get(url).await.map_err(|e| self.scrub(e))?;
        if response.status().is_success() {
            Ok(response.into_body())
        } else {
            Err(self.scrub(graph_error(&response)))
        }
    }

    /// What takes this client's secrets (the client secret, the access
    /// token now cached) out of error texts, owned so that it can go with
    /// a body decoded later.
    pub(crate) fn scrubber(&self) -> Scrubber {
        let token = self.token.borrow();
        let access_token = token.as_ref().map_or("", |t| t.access_token.as_str());
        Scrubber([self.client_secret.clone(), access_token.to_owned()])
    }

    /// `err` without the secrets this client knows.
    fn scrub(&self, err: SourceError) -> SourceError {
        self.scrubber().scrub(err)
    }

    /// GETs a Graph URL with a bearer token, renewing the token once if Graph
    /// says it is no longer valid.
    async fn get(&self, url: &Url) -> Result<Response<Vec<u8>>, SourceError> {
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            let response = self
                .send_retrying(Endpoint::Graph, || {
                    Request::builder()
                        .method(Method::GET)
                        .uri(url.as_str())
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .header(header::ACCEPT, "application/json")
                        // Delta queries page by this preference, not by $top.
                        .header("Prefer", "odata.maxpagesize=999")
                        .body(Vec::new())
                })
                .await?;
            if response.status() == StatusCode::UNAUTHORIZED
                && !renewed
                && parse_graph_error(&response).error.code == "InvalidAuthenticationToken"
            {
                self.token.replace(None);
                renewed = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// A valid access token, from the cache or the token endpoint.
    async fn access_token(&self) -> Result<String, SourceError> {
        if let Some(cached) = self.token.borrow().as_ref()
            && self.pause.now_ms() < cached.renew_at_ms
        {
            return Ok(cached.access_token.clone());
        }
        let requested_at = self.pause.now_ms();
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", &self.client_secret)
            .append_pair("scope", TOKEN_SCOPE)
            .finish();
        let response = self
            .send_retrying(Endpoint::Token, || {
                Request::builder()
                    .method(Method::POST)
                    .uri(&self.token_url)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "application/json")
                    .body(form.clone().into_bytes())
            })
            .await?;
        if !response.status().is_success() {
            return Err(token_error(&response));
        }
        let token: TokenResponse = serde_json::from_slice(response.body())
            .map_err(|e| SourceError::BadResponse(format!("token endpoint: {e}")))?;
        let lifetime = Duration::from_secs(token.expires_in.as_u64().ok_or_else(|| {
            SourceError::BadResponse("token endpoint: expires_in is not a number".into())
        })?);
        let margin = TOKEN_RENEW_MARGIN.min(lifetime / 10);
        self.token.replace(Some(CachedToken {
            access_token: token.access_token.clone(),
            renew_at_ms: requested_at.saturating_add(millis(lifetime - margin)),
        }));
        Ok(token.access_token)
    }

    /// Sends a request, waiting out `Retry-After` on 429/503 and backing off
    /// on other 5xx and network errors, as long as each wait ends before the
    /// deadline. Returns the last response (any status) or the reason to stop.
    async fn send_retrying(
        &self,
        endpoint: Endpoint,
        build: impl Fn() -> Result<Request<Vec<u8>>, http::Error>,
    ) -> Result<Response<Vec<u8>>, SourceError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = build().map_err(|e| SourceError::Transport(e.to_string()))?;
            if let Some(deadline) = self.deadline_ms.get() {
                // The request may take what is left of the budget, no more.
                let left = deadline.saturating_sub(self.pause.now_ms());
                if left == 0 {
                    return Err(SourceError::BudgetSpent);
                }
                request
                    .extensions_mut()
                    .insert(Deadline(Duration::from_millis(left)));
            }
            self.count(endpoint);
            let backoff = BACKOFF_BASE * 2u32.pow(attempt - 1);
            let (wait, give_up) = match self.http.send(request).await {
                Ok(response) => {
                    trace_response(endpoint, attempt, &response);
                    match classify(&response, self.pause.wall_now()) {
                        Outcome::Final => return Ok(response),
                        Outcome::Throttled(retry_after) => {
                            let wait = retry_after.unwrap_or(backoff);
                            let retry_after_secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                            (wait, Err(SourceError::Throttled { retry_after_secs }))
                        }
                        Outcome::ServerError => (backoff, Ok(response)),
                    }
                }
                // The deadline we gave it passed: the budget is spent, not
                // the network broken.
                Err(TransportError::Timeout(_)) if self.budget_spent() => {
                    return Err(SourceError::BudgetSpent);
                }
                Err(e) if e.is_retryable() => (backoff, Err(transport_error(&e))),
                Err(e) => return Err(transport_error(&e)),
            };
            if attempt >= MAX_ATTEMPTS || !self.wait_fits(wait) {
                return give_up;
            }
            self.pause.sleep(wait).await;
            self.bump(|s| s.retries += 1);
        }
    }

    /// Whether the deadline (if any) has passed.
    fn budget_spent(&self) -> bool {
        self.deadline_ms
            .get()
            .is_some_and(|deadline| self.pause.now_ms() >= deadline)
    }

    /// Whether waiting `wait` from now still ends before the deadline.
    fn wait_fits(&self, wait: Duration) -> bool {
        match self.deadline_ms.get() {
            Some(deadline) => self.pause.now_ms().saturating_add(millis(wait)) <= deadline,
            None => wait <= MAX_WAIT_WITHOUT_DEADLINE,
        }
    }

    fn count(&self, endpoint: Endpoint) {
        self.bump(|s| match endpoint {
            Endpoint::Token => s.token_requests += 1,
            Endpoint::Graph => s.graph_requests += 1,
        });
    }

    fn bump(&self, change: impl FnOnce(&mut ClientStats)) {
        let mut stats = self.stats.get();
        change(&mut stats);
        self.stats.set(stats);
    }
}

/// The secrets a client knows (client secret, access token), to take out
/// of error texts that came from outside (`redact`).
pub(crate) struct Scrubber([String; 2]);

impl Scrubber {
    /// `err` without these secrets.
    pub(crate) fn scrub(&self, err: SourceError) -> SourceError {
        let [secret, token] = &self.0;
        crate::redact::redact(err, &[secret, token])
    }
}

/// A 2xx body from `url` parsed as `T`; what does not parse is a
/// [`SourceError::BadResponse`] naming `url`, redacted by `scrubber`.
pub(crate) fn parse_body<T: DeserializeOwned>(
    body: &[u8],
    url: &str,
    scrubber: &Scrubber,
) -> Result<T, SourceError> {
    serde_json::from_slice(body)
        .map_err(|e| scrubber.scrub(SourceError::BadResponse(format!("{url}: {e}"))))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

enum Outcome {
    Final,
    /// 429, or 503 with `Retry-After`.
    Throttled(Option<Duration>),
    /// Another 5xx that may pass.
    ServerError,
}

/// Logs a response with the ids Microsoft support asks for: Graph's
/// `request-id` (the token endpoint's `x-ms-request-id`) and
/// `client-request-id`. Nothing else of it: bodies and URLs may carry
/// tokens. Successes at `DEBUG`, errors at `WARN`.
fn trace_response(endpoint: Endpoint, attempt: u32, response: &Response<Vec<u8>>) {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    let request_id = header("request-id").or_else(|| header("x-ms-request-id"));
    let client_request_id = header("client-request-id");
    let (endpoint, status) = (endpoint.name(), response.status().as_u16());
    if response.status().is_success() {
        tracing::debug!(
            endpoint,
            status,
            attempt,
            request_id,
            client_request_id,
            "Graph answered"
        );
    } else {
        tracing::warn!(
            endpoint,
            status,
            attempt,
            request_id,
            client_request_id,
            "Graph answered an error"
        );
    }
}

/// What to do about `response`; `now` is the wall-clock time a
/// `Retry-After` HTTP-date is waited from.
fn classify(response: &Response<Vec<u8>>, now: Timestamp) -> Outcome {
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, now));
    match response.status() {
        StatusCode::TOO_MANY_REQUESTS => Outcome::Throttled(retry_after),
        StatusCode::SERVICE_UNAVAILABLE if retry_after.is_some() => Outcome::Throttled(retry_after),
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => Outcome::ServerError,
        _ => Outcome::Final,
    }
}

/// A `Retry-After` value as a wait (RFC 9110 §10.2.3): delay-seconds, or
/// an HTTP-date waited from `now` (zero if it has passed).
fn retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let at = Timestamp::from_timestamp(i64::try_from(at_secs).ok()?, 0)?;
    Some((at - now).to_std().unwrap_or_default())
}

fn transport_error(e: &TransportError) -> SourceError {
    SourceError::Transport(e.to_string())
}

fn parse_graph_error(response: &Response<Vec<u8>>) -> GraphErrorBody {
    serde_json::from_slice(response.body()).unwrap_or_default()
}

/// Maps a non-2xx Graph response to the engine's error.
fn graph_error(response: &Response<Vec<u8>>) -> SourceError {
    let status = response.status();
    let detail = parse_graph_error(response).error;
    let code = if detail.code.is_empty() {
        status.canonical_reason().unwrap_or("unknown").to_owned()
    } else {
        detail.code
    };
    if status == StatusCode::GONE || is_expired_token_code(&code) {
        return SourceError::TokenExpired;
    }
    match status {
        StatusCode::UNAUTHORIZED => SourceError::Unauthorized {
            code,
            message: detail.message,
        },
        StatusCode::NOT_FOUND => SourceError::NotFound(detail.message),
        _ => SourceError::Graph {
            status: status.as_u16(),
            code,
            message: detail.message,
            request_id: response
                .headers()
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| detail.inner_error.and_then(|i| i.request_id)),
        },
    }
}

/// Maps a failed token request: a refused credential (4xx) or a Graph-like error.
fn token_error(response: &Response<Vec<u8>>) -> SourceError {
    let status = response.status();
    let body: TokenErrorBody = serde_json::from_slice(response.body()).unwrap_or_default();
    if status.is_client_error() {
        SourceError::Unauthorized {
            code: body.error,
            message: body.error_description,
        }
    } else {
        SourceError::Graph {
            status: status.as_u16(),
            code: body.error,
            message: body.error_description,
            request_id: response
                .headers()
                .get("x-ms-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_after;
    use engine::ports::{TimeDelta, Timestamp};
    use std::time::Duration;

    /// 2015-10-21T07:27:30Z, half a minute before RFC 9110's example date.
    fn now() -> Timestamp {
        Timestamp::from_timestamp(1_445_412_450, 0).unwrap_or_default()
    }

    #[test]
    fn retry_after_in_seconds_is_that_many_seconds() {
        assert_eq!(retry_after(" 120 ", now()), Some(Duration::from_secs(120)));
    }

    #[test]
    fn retry_after_as_an_http_date_is_the_wait_until_then() {
        let wait = Some(Duration::from_secs(30));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()), wait);
        // RFC 850 and asctime, which RFC 9110 makes recipients accept too.
        assert_eq!(
            retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now()),
            wait
        );
        assert_eq!(retry_after("Wed Oct 21 07:28:00 2015", now()), wait);
    }

    #[test]
    fn retry_after_a_date_that_has_passed_is_no_wait() {
        let later = now() + TimeDelta::hours(1);
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT", later),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_that_is_neither_is_ignored() {
        assert_eq!(retry_after("soon", now()), None);
        assert_eq!(retry_after("-5", now()), None);
    }
}
