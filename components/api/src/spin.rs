//! The Spin HTTP entry (wasm32 only; `wasi:http/incoming-handler@0.2.0`
//! through spin-sdk 5's `#[http_component]`): converts the request, builds
//! the [`App`] from the Spin bundle and variables, calls
//! [`handle`], and returns the response; installs the JSON log subscriber
//! and logs what kept a request from reaching the router.

use futures::StreamExt;
use platform::AppConfig;
use platform::spin::{SpinPlatform, SpinVariables};
use spin_sdk::http::IncomingRequest;
use spin_sdk::http_component;

use crate::error::ApiError;
use crate::request::MAX_BODY_BYTES;
use crate::{App, Request, Response, handle};

#[http_component]
async fn entry(req: IncomingRequest) -> Response {
    logging::init();
    match serve(req).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "the request did not reach the router");
            error.into_response()
        }
    }
}

async fn serve(req: IncomingRequest) -> Result<Response, ApiError> {
    let req = read(req).await?;
    let config = AppConfig::load(&SpinVariables)
        .await
        .map_err(|e| ApiError::Internal(format!("configuration: {e}")))?;
    let platform = SpinPlatform::open(&config)
        .await
        .map_err(|e| ApiError::Unavailable {
            code: "store_error",
            message: e.to_string(),
            retry_after_secs: None,
        })?;
    let app = App { platform, config };
    let head = req.method() == http::Method::HEAD;
    let mut response = handle(&app, req).await;
    if head {
        // wasi:http holds a response body to its declared Content-Length
        // and a HEAD answer has no body, so under Spin it goes without one.
        response.headers_mut().remove(http::header::CONTENT_LENGTH);
    }
    Ok(response)
}

/// The request as `http::Request`, its body read up to one byte past the
/// limit (the router answers 413).
async fn read(req: IncomingRequest) -> Result<Request, ApiError> {
    let bad = |e: &dyn std::fmt::Debug| ApiError::BadRequest(format!("reading the request: {e:?}"));
    let mut builder = http::Request::builder()
        .method(http::Method::from(req.method()))
        .uri(req.uri());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    let mut stream = req.into_body_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.map_err(|e| bad(&e))?);
        if bytes.len() > MAX_BODY_BYTES {
            break;
        }
    }
    builder.body(bytes).map_err(|e| bad(&e))
}
