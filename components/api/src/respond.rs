//! Building responses.

use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

pub type Request = http::Request<Vec<u8>>;
pub type Response = http::Response<Vec<u8>>;

/// A JSON response. Serialising the API's own types cannot fail; if it ever
/// did, the client gets a 500 rather than a panic.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => with_type(status, "application/json", bytes),
        Err(e) => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "application/json",
            format!(
                r#"{{"error":{{"code":"internal","message":"response encoding failed: {e}"}}}}"#
            )
            .into_bytes(),
        ),
    }
}

/// 200 with a JSON body.
pub fn ok<T: Serialize + ?Sized>(body: &T) -> Response {
    json(StatusCode::OK, body)
}

/// 200 with a body to save as `file_name` (`Content-Disposition:
/// attachment`); the name must be plain ASCII without quotes.
pub fn attachment(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let mut response = with_type(StatusCode::OK, content_type, body);
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A body with an explicit content type.
pub fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
