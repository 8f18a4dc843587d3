//! [`graph::HttpClient`] over Spin's outbound HTTP (`wasi:http` 0.3).

use std::time::Duration;

use graph::{HttpClient, TransportError};
use spin_sdk::http::FullBody;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::wasip3::http::types::{ErrorCode, RequestOptions};
use spin_sdk::wasip3::http_compat::RequestOptionsExtension;

/// Longest wait for a connection, the first response byte, or between two
/// body bytes: a stuck Graph request fails inside the invocation (30 s on
/// hosted Spin) rather than having it killed.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Sends requests through the host; only hosts in the component's
/// `allowed_outbound_hosts` are reachable (others are refused by Spin).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinHttp;

/// Request options with [`TIMEOUT`]s, as far as the host supports them (an
/// unsupported option keeps the host's default).
fn options() -> RequestOptionsExtension {
    let options = RequestOptions::new();
    let ns = Some(u64::try_from(TIMEOUT.as_nanos()).unwrap_or(u64::MAX));
    let _ = options.set_connect_timeout(ns);
    let _ = options.set_first_byte_timeout(ns);
    let _ = options.set_between_bytes_timeout(ns);
    RequestOptionsExtension(options)
}

impl HttpClient for SpinHttp {
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let mut req = req.map(|body| FullBody::new(bytes::Bytes::from(body)));
        req.extensions_mut().insert(options());
        let response = spin_sdk::http::send(req).await.map_err(map_error)?;
        let (parts, body) = response.into_parts();
        let bytes = body.bytes().await.map_err(map_error)?;
        Ok(http::Response::from_parts(parts, bytes.to_vec()))
    }
}

fn map_error(code: ErrorCode) -> TransportError {
    let message = format!("{code:?}");
    match code {
        ErrorCode::HttpRequestDenied
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong
        | ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::ConfigurationError
        | ErrorCode::LoopDetected => TransportError::Refused(message),
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => TransportError::Timeout(message),
        ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused
        | ErrorCode::ConnectionLimitReached
        | ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => TransportError::Connect(message),
        _ => TransportError::Io(message),
    }
}
