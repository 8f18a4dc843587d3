//! The web console's static files, embedded at build time (see `build.rs`).

use http::StatusCode;

use crate::error::ApiError;
use crate::respond::{Response, with_type};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/console_files.rs"));
}

/// Serves `path` (relative to `console/`), e.g. `index.html` or `app.js`.
pub fn serve(path: &str) -> Result<Response, ApiError> {
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_owned()
    };
    let (_, bytes) = embedded::FILES
        .iter()
        .find(|(name, _)| *name == path)
        .ok_or(ApiError::NotFound("file"))?;
    let mut response = with_type(StatusCode::OK, content_type(&path), bytes.to_vec());
    // The console is same-origin with the API and needs nothing else.
    response.headers_mut().insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    Ok(response)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}
