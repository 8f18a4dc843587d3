//! The shape of one outbound request as the host's `wasi:http` takes it,
//! built from an `http::Request`: pure, so it is tested natively.
//!
//! Every request whose body is known declares its length: `content-length`
//! is set from the body (0 for an empty `POST`/`PUT`/`PATCH`), and
//! `transfer-encoding` is never sent. Without a declared length the host
//! streams the body chunked, which strict endpoints refuse (a real Spin
//! 4.0.2 sent the Entra token request chunked, and it was rejected).

use http::header::{self, HeaderName};
use http::{Method, Request};

/// Headers the host sets itself, or refuses from a guest: `wasmtime-wasi-http`
/// forbids hop-by-hop headers and `host` on outgoing requests. The
/// `content-length` of the caller is dropped too and set from the body.
const DROPPED: [HeaderName; 8] = [
    header::HOST,
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
    header::CONTENT_LENGTH,
];

/// One outbound request, split the way `wasi:http/types.outgoing-request`
/// is set: method, scheme, authority and path, the header list, the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// The request method, as the caller set it.
    pub method: Method,
    /// `http` or `https` (or another scheme the host may refuse).
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The path and query, `/` when the URI has no path.
    pub path_with_query: String,
    /// Lower-case names, raw values, in the caller's order, then
    /// `content-length` when the body is declared.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The whole body, written once; its length is the declared one.
    pub body: Vec<u8>,
}

/// Why a request cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The URI lacks a scheme or an authority: outbound requests need both.
    #[error("not an absolute URL: {0}")]
    NotAbsolute(String),
}

impl WireRequest {
    /// Splits `req` for the host, dropping the headers the host refuses
    /// and declaring the body's length (see the module docs).
    pub fn from_request(req: Request<Vec<u8>>) -> Result<WireRequest, WireError> {
        let (parts, body) = req.into_parts();
        let uri = &parts.uri;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(WireError::NotAbsolute(uri.to_string()));
        };
        let path_with_query = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let mut headers: Vec<(String, Vec<u8>)> = parts
            .headers
            .iter()
            .filter(|(name, _)| !DROPPED.contains(name))
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        let carries_body = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH);
        if carries_body || !body.is_empty() {
            headers.push((
                header::CONTENT_LENGTH.as_str().to_owned(),
                body.len().to_string().into_bytes(),
            ));
        }
        Ok(WireRequest {
            method: parts.method,
            scheme: scheme.to_owned(),
            authority: authority.as_str().to_owned(),
            path_with_query,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(wire: &'a WireRequest, name: &str) -> Vec<&'a [u8]> {
        wire.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    #[test]
    fn a_token_post_declares_its_length_and_is_never_chunked() {
        let form = b"grant_type=client_credentials&client_id=abc&client_secret=s3cret".to_vec();
        let req = Request::post("https://login.microsoftonline.com/t1/oauth2/v2.0/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("transfer-encoding", "chunked")
            .header("content-length", "999")
            .body(form.clone())
            .unwrap();

        let wire = WireRequest::from_request(req).unwrap();

        assert_eq!(wire.method, Method::POST);
        assert_eq!(wire.scheme, "https");
        assert_eq!(wire.authority, "login.microsoftonline.com");
        assert_eq!(wire.path_with_query, "/t1/oauth2/v2.0/token");
        assert_eq!(
            header(&wire, "content-length"),
            [form.len().to_string().as_bytes()]
        );
        assert!(header(&wire, "transfer-encoding").is_empty());
        assert_eq!(
            header(&wire, "content-type"),
            [b"application/x-www-form-urlencoded".as_slice()]
        );
        assert_eq!(wire.body, form);
    }

    #[test]
    fn an_empty_post_declares_a_zero_length() {
        let req = Request::post("http://127.0.0.1:3000/hook")
            .body(Vec::new())
            .unwrap();

        let wire = WireRequest::from_request(req).unwrap();

        assert_eq!(header(&wire, "content-length"), [b"0".as_slice()]);
        assert_eq!(wire.authority, "127.0.0.1:3000");
    }

    #[test]
    fn a_get_keeps_its_query_and_sends_no_length_or_host() {
        let req = Request::get("https://graph.microsoft.com/v1.0/users?$top=999")
            .header("host", "evil.example")
            .header("authorization", "Bearer t")
            .body(Vec::new())
            .unwrap();

        let wire = WireRequest::from_request(req).unwrap();

        assert_eq!(wire.path_with_query, "/v1.0/users?$top=999");
        assert!(header(&wire, "content-length").is_empty());
        assert!(header(&wire, "host").is_empty());
        assert_eq!(header(&wire, "authorization"), [b"Bearer t".as_slice()]);
    }

    #[test]
    fn a_relative_url_is_refused() {
        let req = Request::get("/v1.0/users").body(Vec::new()).unwrap();

        assert_eq!(
            WireRequest::from_request(req),
            Err(WireError::NotAbsolute("/v1.0/users".into()))
        );
    }
}
