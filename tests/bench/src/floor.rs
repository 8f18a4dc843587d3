//! The floor: what fetching the same pages costs with nothing else to do.
//! One plain keep-alive `ureq` agent fetches a token, then every page the
//! run fetched, starting where the run started each listing and following
//! `@odata.nextLink` from there (same URLs, same `$top`), reading each
//! body to its end.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::drive::Recorded;
use crate::tenants::credentials;

/// Why the floor could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum FloorError {
    #[error("HTTP: {0}")]
    Http(#[from] ureq::Error),
    #[error("{0}: not JSON: {1}")]
    Json(String, serde_json::Error),
    #[error("request: {0}")]
    Request(#[from] http::Error),
    #[error("the run sent no token request")]
    NoToken,
}

/// The floor of one run.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    pub wall: Duration,
    /// Graph pages fetched (the token request not counted).
    pub pages: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

/// A page as far as the warm-up checks it (an error has no `value`).
#[derive(Deserialize)]
struct Page {
    value: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct PageLinks {
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

/// Fetches what `run` fetched, once each, with one agent.
pub fn measure(run: &[Recorded]) -> Result<Floor, FloorError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token_request = run
        .iter()
        .find(|r| r.method == http::Method::POST)
        .ok_or(FloorError::NoToken)?;
    let clock = Instant::now();
    let token: TokenResponse = json(&token_request.uri, &send(&agent, token_request, None)?)?;
    let mut started = HashSet::new();
    let mut pages = 0;
    let starts = run
        .iter()
        .filter(|r| r.method == http::Method::GET && !is_next_link(&r.uri));
    for start in starts {
        if !started.insert(start.uri.as_str()) {
            continue;
        }
        let mut next = Some(start.uri.clone());
        while let Some(uri) = next.take() {
            let page = Recorded {
                uri,
                ..start.clone()
            };
            let body = send(&agent, &page, Some(&token.access_token))?;
            pages += 1;
            next = json::<PageLinks>(&page.uri, &body)?.next;
        }
    }
    Ok(Floor {
        wall: clock.elapsed(),
        pages,
    })
}

/// Warms the simulator up before a fixture's first run: a token and one
/// page of 999 users, fetched and dropped. A fresh simulator served its
/// first page of members in 10–13 ms, against 6–7 ms for the same page
/// warm (its threads' heaps and caches are cold); the floor, fetched after
/// the run, always found it warm. Warmed first, the simulator serves the
/// run and the floor alike (decision 0014).
pub fn warm_up(base_url: &str) -> Result<(), FloorError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let creds = credentials();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &creds.client_id)
        .append_pair("client_secret", &creds.client_secret)
        .append_pair("scope", "https://graph.microsoft.com/.default")
        .finish();
    let token_request = Recorded {
        method: http::Method::POST,
        uri: format!("{base_url}/{}/oauth2/v2.0/token", creds.tenant_id),
        headers: http::HeaderMap::from_iter([(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        )]),
        body: form.into_bytes(),
    };
    let token: TokenResponse = json(&token_request.uri, &send(&agent, &token_request, None)?)?;
    let page = Recorded {
        method: http::Method::GET,
        uri: format!("{base_url}/v1.0/users?$top=999"),
        headers: http::HeaderMap::new(),
        body: Vec::new(),
    };
    let page: Page = json(&page.uri, &send(&agent, &page, Some(&token.access_token))?)?;
    drop(page.value);
    Ok(())
}

/// Whether `uri` continues a listing: Graph's `@odata.nextLink`s carry a
/// `$skiptoken` (a listing starts with its first URL or a delta link's
/// `$deltatoken`). Skip tokens are issued afresh on each page, so the
/// floor's links and the run's differ in text, and the floor follows its own.
fn is_next_link(uri: &str) -> bool {
    uri.contains("$skiptoken=") || uri.contains("%24skiptoken=")
}

/// Sends `request` as recorded, with the floor's own token when given.
fn send(
    agent: &ureq::Agent,
    request: &Recorded,
    token: Option<&str>,
) -> Result<Vec<u8>, FloorError> {
    let mut builder = http::Request::builder()
        .method(request.method.clone())
        .uri(&request.uri);
    let own_token =
        |name: &http::HeaderName| token.is_some() && name == http::header::AUTHORIZATION;
    for (name, value) in request.headers.iter().filter(|(name, _)| !own_token(name)) {
        builder = builder.header(name, value);
    }
    if let Some(token) = token {
        builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = if request.body.is_empty() {
        agent.run(builder.body(())?)?
    } else {
        agent.run(builder.body(request.body.clone())?)?
    };
    Ok(response
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()?)
}

fn json<'a, T: Deserialize<'a>>(uri: &str, body: &'a [u8]) -> Result<T, FloorError> {
    serde_json::from_slice(body).map_err(|e| FloorError::Json(uri.to_owned(), e))
}
