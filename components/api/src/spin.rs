//! The Spin HTTP entry (wasm32 only): converts the request, builds the
//! [`App`] from the platform's Spin adapters and variables, calls [`handle`],
//! and converts the response back. Nothing else happens here.

use engine::SystemClock;
use futures::StreamExt;
use platform::spin::{SpinHttp, SpinPause, SpinStore, SpinVariables};
use platform::{AppConfig, AppMailer};
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{FullBody, IntoResponse, Request as SpinRequest};
use spin_sdk::http_service;

use crate::error::ApiError;
use crate::request::MAX_BODY_BYTES;
use crate::{App, Request, Response, handle};

#[http_service]
async fn entry(req: SpinRequest) -> impl IntoResponse {
    let response = match serve(req).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    response.map(|body| FullBody::new(bytes::Bytes::from(body)))
}

async fn serve(req: SpinRequest) -> Result<Response, ApiError> {
    let req = read(req).await?;
    let config = AppConfig::load(&SpinVariables)
        .await
        .map_err(|e| ApiError::Internal(format!("configuration: {e}")))?;
    let store = SpinStore::open_default()
        .await
        .map_err(|e| ApiError::Unavailable {
            code: "store_error",
            message: e.to_string(),
            retry_after_secs: None,
        })?;
    let app = App {
        store,
        http: SpinHttp,
        clock: SystemClock,
        mailer: AppMailer::from_config(config.mail_webhook_url.as_deref(), SpinHttp),
        pause: SpinPause::default(),
        config,
    };
    Ok(handle(&app, req).await)
}

/// Reads the body up to one byte past the limit (the router answers 413).
async fn read(req: SpinRequest) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let mut stream = body.stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e:?}")))?;
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_BODY_BYTES {
            break;
        }
    }
    Ok(http::Request::from_parts(parts, bytes))
}
