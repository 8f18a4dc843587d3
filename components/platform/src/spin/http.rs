//! [`graph::HttpClient`] over Spin's outbound HTTP (`wasi:http` 0.3).

use graph::{HttpClient, TransportError};
use spin_sdk::http::FullBody;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::wasip3::http::types::ErrorCode;

/// Sends requests through the host; only hosts in the component's
/// `allowed_outbound_hosts` are reachable (others are refused by Spin).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinHttp;

impl HttpClient for SpinHttp {
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let req = req.map(|body| FullBody::new(bytes::Bytes::from(body)));
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
