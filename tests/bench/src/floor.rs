//! The floor: what fetching the same pages costs with nothing else to do.
//! One plain keep-alive `ureq` agent fetches a token, then every page the
//! run fetched, starting where the run started each listing and following
//! `@odata.nextLink` from there (same URLs, same `$top`), reading each
//! body to its end.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::drive::Recorded;

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
