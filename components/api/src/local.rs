//! Native serving over `tiny_http` (not in the Spin build): conversions
//! between `tiny_http` and `http` types. The body is read up to one byte
//! past the limit, so the router answers 413 exactly as it does in Spin.

use std::io::Read;

use crate::request::MAX_BODY_BYTES;
use crate::respond::{Request, Response};

/// Why a `tiny_http` request could not be turned into an `http` one.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("malformed request: {0}")]
    Http(#[from] http::Error),
    #[error("reading the request body: {0}")]
    Body(#[from] std::io::Error),
}

/// Reads a `tiny_http` request (headers and at most `MAX_BODY_BYTES + 1`
/// bytes of body) into an `http::Request`.
pub fn read_request(req: &mut tiny_http::Request) -> Result<Request, ConvertError> {
    let mut builder = http::Request::builder()
        .method(req.method().as_str())
        .uri(req.url());
    for header in req.headers() {
        builder = builder.header(header.field.as_str().as_str(), header.value.as_str());
    }
    let mut body = Vec::new();
    req.as_reader()
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body)?;
    Ok(builder.body(body)?)
}

/// Turns an `http::Response` into a `tiny_http` one.
pub fn write_response(response: Response) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let (parts, body) = response.into_parts();
    let mut out = tiny_http::Response::from_data(body).with_status_code(parts.status.as_u16());
    for (name, value) in &parts.headers {
        if let Ok(header) =
            tiny_http::Header::from_bytes(name.as_str().as_bytes(), value.as_bytes())
        {
            out.add_header(header);
        }
    }
    out
}
