//! A small JSON client for the API: every answer is kept whatever its
//! status, so scenarios assert on statuses and error codes. Its [`Reply`]
//! is also what the API's in-process tests (`components/api/tests`) get.

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// One answer of the API: status, headers, and the body parsed as JSON
/// (`Value::Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    /// The raw body, for "never appears in a response" checks.
    pub raw: Vec<u8>,
}

impl Reply {
    /// An answer from its parts; the body is parsed as JSON.
    pub fn new(status: StatusCode, headers: HeaderMap, raw: Vec<u8>) -> Reply {
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
            raw,
        }
    }

    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `ETag` header.
    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }

    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The raw body as text.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.raw)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{method} {url}: no answer: {message}")]
pub struct TransportError {
    pub method: &'static str,
    pub url: String,
    pub message: String,
}

/// The API at `base` (e.g. `http://127.0.0.1:3000`).
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request; `token` as a bearer token, `body` as JSON.
    pub fn send(
        &self,
        method: &'static str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Reply, TransportError> {
        let url = format!("{}{path}", self.base);
        let fail = |message: String| TransportError {
            method,
            url: url.clone(),
            message,
        };
        let mut request = http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        let bytes = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                serde_json::to_vec(json).map_err(|e| fail(e.to_string()))?
            }
            None => Vec::new(),
        };
        let request = request.body(bytes).map_err(|e| fail(e.to_string()))?;
        let mut response = self.agent.run(request).map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| fail(e.to_string()))?;
        Ok(Reply::new(status, headers, raw))
    }
}
