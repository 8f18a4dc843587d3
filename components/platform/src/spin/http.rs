//! [`graph::HttpClient`] over Spin's outbound HTTP
//! (`wasi:http/outgoing-handler@0.2.0`), with request timeouts.
//!
//! spin-sdk 5's `spin_sdk::http::send` passes no request options to the
//! host (`outgoing-handler.handle(request, none)`), so this adapter calls
//! the handler itself through the `wasi` crate (the WASI 0.2.0 bindings
//! spin-sdk 5 is built on) to set the connect, first-byte and
//! between-bytes timeouts, and awaits the host's pollables on spin-sdk's
//! executor. The request is shaped by [`WireRequest`]: a known body always
//! goes out with `content-length`, never chunked.
//!
//! A request is issued at the first poll of its future: `send` calls
//! `outgoing-handler.handle` before its first `.await`, and from then on the
//! host carries the exchange on its own runtime, whatever the guest does
//! meanwhile. So when the engine sends the next Graph page's request ahead
//! (polled once before it stages and saves the page before it, decision
//! 0008), the request is in flight while the guest works (key-value calls
//! block the guest, not the host), with no thread; only awaiting the answer
//! waits for the host's pollable on spin-sdk's executor.

use std::time::Duration;

use graph::{Deadline, HttpClient, TransportError};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingResponse, Method, OutgoingBody, OutgoingRequest, RequestOptions,
    Scheme,
};
use wasi::io::streams::{OutputStream, StreamError};

use super::wait::ready;
use crate::outgoing::WireRequest;

/// Longest wait for a connection, the first response byte, or between two
/// body bytes: a stuck Graph request fails inside the invocation (30 s on
/// hosted Spin) rather than having it killed.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Bytes asked of the host per read of a response body.
const READ_BYTES: u64 = 64 * 1024;

/// Sends requests through the host; only hosts in the component's
/// `allowed_outbound_hosts` are reachable (others are refused by Spin).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinHttp;

impl HttpClient for SpinHttp {
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let timeout = req
            .extensions()
            .get::<Deadline>()
            .map_or(TIMEOUT, |Deadline(d)| TIMEOUT.min(*d));
        let wire =
            WireRequest::from_request(req).map_err(|e| TransportError::Refused(e.to_string()))?;
        let request = outgoing_request(&wire)?;
        let body = request
            .body()
            .map_err(|()| refused("the request body was already taken"))?;
        let future =
            outgoing_handler::handle(request, Some(options(timeout))).map_err(map_error)?;
        write_body(body, &wire.body).await?;
        let response = loop {
            match future.get() {
                Some(Ok(result)) => break result.map_err(map_error)?,
                Some(Err(())) => return Err(io("the response was already taken")),
                None => ready(future.subscribe()).await,
            }
        };
        read_response(response).await
    }
}

fn refused(message: &str) -> TransportError {
    TransportError::Refused(message.to_owned())
}

fn io(message: &str) -> TransportError {
    TransportError::Io(message.to_owned())
}

/// The host's request: headers (the host rejects a forbidden one), method,
/// scheme, authority and path.
fn outgoing_request(wire: &WireRequest) -> Result<OutgoingRequest, TransportError> {
    let headers = Fields::from_list(&wire.headers)
        .map_err(|e| TransportError::Refused(format!("request headers: {e:?}")))?;
    let request = OutgoingRequest::new(headers);
    let method = match wire.method.as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    };
    let scheme = match wire.scheme.as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_owned()),
    };
    request
        .set_method(&method)
        .map_err(|()| refused("invalid method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("invalid scheme"))?;
    request
        .set_authority(Some(&wire.authority))
        .map_err(|()| refused("invalid authority"))?;
    request
        .set_path_with_query(Some(&wire.path_with_query))
        .map_err(|()| refused("invalid path"))?;
    Ok(request)
}

/// Request options with `timeout` (at most [`TIMEOUT`], less when the
/// request's [`Deadline`] is nearer) for connecting, the first byte and
/// between two bytes, as far as the host supports them (an unsupported
/// option keeps the host's default).
fn options(timeout: Duration) -> RequestOptions {
    let options = RequestOptions::new();
    let ns = Some(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
    let _ = options.set_connect_timeout(ns);
    let _ = options.set_first_byte_timeout(ns);
    let _ = options.set_between_bytes_timeout(ns);
    options
}

/// Writes the whole body (its length is the declared `content-length`)
/// as fast as the host takes it, then finishes it.
async fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), TransportError> {
    let stream = body
        .write()
        .map_err(|()| io("the request body stream was already taken"))?;
    write_all(&stream, bytes).await.map_err(stream_error)?;
    drop(stream);
    OutgoingBody::finish(body, None).map_err(map_error)
}

async fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
    while !bytes.is_empty() {
        let permitted = stream.check_write()?;
        if permitted == 0 {
            ready(stream.subscribe()).await;
            continue;
        }
        let n = usize::try_from(permitted)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        stream.write(&bytes[..n])?;
        bytes = &bytes[n..];
    }
    stream.flush()?;
    // A flush completes when the stream accepts writes again.
    while stream.check_write()? == 0 {
        ready(stream.subscribe()).await;
    }
    Ok(())
}

/// Status, headers and the whole body. The response is kept alive until
/// its body is read (dropping it early cancels the exchange).
async fn read_response(
    response: IncomingResponse,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = response
        .consume()
        .map_err(|()| io("the response body was already taken"))?;
    let stream = body
        .stream()
        .map_err(|()| io("the response body stream was already taken"))?;
    let mut bytes = Vec::new();
    loop {
        match stream.read(READ_BYTES) {
            Ok(chunk) if chunk.is_empty() => ready(stream.subscribe()).await,
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(stream_error(e)),
        }
    }
    drop(stream);
    drop(body);
    drop(response);
    builder
        .body(bytes)
        .map_err(|e| TransportError::Io(format!("malformed response: {e}")))
}

fn stream_error(e: StreamError) -> TransportError {
    match e {
        StreamError::Closed => io("the connection closed"),
        StreamError::LastOperationFailed(error) => {
            match wasi::http::types::http_error_code(&error) {
                Some(code) => map_error(code),
                None => TransportError::Io(error.to_debug_string()),
            }
        }
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
