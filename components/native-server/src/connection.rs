//! One connection: hyper's HTTP/1.1 over the socket, each request's body
//! read whole (bounded in size and time) before the handler sees it, and
//! the `408` hyper does not send when a head runs out of time.

use std::cell::Cell;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::{Handler, Limits, Refusal, Response};

/// The request line and headers together may not exceed this (hyper's read
/// buffer); past it hyper answers `431`.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// More header lines than this is not a browser or curl (hyper answers `431`).
const MAX_HEADERS: usize = 100;
/// Bounds for reading and dropping the rest of a body refused as too large.
const DISCARD_DEADLINE: Duration = Duration::from_secs(2);
const DISCARD_BYTES: usize = 1024 * 1024;
/// Writing the `408` to a client whose head ran out of time.
const WRITE_DEADLINE: Duration = Duration::from_secs(5);

/// Serves the requests of `stream` until the client closes it, a head runs
/// out of time, or an answer cannot keep it open.
pub(crate) async fn serve<H: Handler>(mut stream: TcpStream, limits: Limits, handler: &H) {
    let unanswered = Cell::new(false);
    let service = service_fn(|request| async move {
        Ok::<_, Infallible>(answer(handler, request, &limits).await)
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.request_deadline)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .serve_connection(
            TokioIo::new(Metered {
                stream: &mut stream,
                unanswered: &unanswered,
            }),
            service,
        )
        .await;
    // hyper closes a connection whose head ran out of time without a word;
    // a client that had started a request gets its `408` (one that sent
    // nothing since its last answer, e.g. a browser's spare connection, is
    // just closed).
    if let Err(error) = served
        && error.is_timeout()
        && unanswered.get()
    {
        let response = handler.refuse(Refusal::TimedOut);
        let _ = timeout(WRITE_DEADLINE, stream.write_all(&closing_answer(&response))).await;
        let _ = timeout(WRITE_DEADLINE, stream.shutdown()).await;
    }
}

/// Reads the body of `request` and has `handler` answer it.
async fn answer<H: Handler>(
    handler: &H,
    request: http::Request<Incoming>,
    limits: &Limits,
) -> http::Response<Full<Bytes>> {
    let (parts, mut body) = request.into_parts();
    let read = if body.size_hint().lower() > limits.max_body_bytes as u64 {
        // Refused unread. A client waiting for `100 Continue` gets none and
        // sends nothing more; reading would ask it for the body.
        if !expects_continue(&parts.headers) {
            discard(&mut body).await;
        }
        Err(Refusal::TooLarge)
    } else {
        let read = read_body(&mut body, limits).await;
        if read == Err(Refusal::TooLarge) {
            discard(&mut body).await;
        }
        read
    };
    let response = match read {
        Ok(bytes) => {
            handler
                .handle(http::Request::from_parts(parts, bytes))
                .await
        }
        Err(refusal) => handler.refuse(refusal),
    };
    response.map(|body| Full::new(Bytes::from(body)))
}

/// Whether the client waits for `100 Continue` before sending its body.
fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The whole body, unless it is too large, too slow or malformed.
async fn read_body(body: &mut Incoming, limits: &Limits) -> Result<Vec<u8>, Refusal> {
    let read = Limited::new(body, limits.max_body_bytes).collect();
    match timeout(limits.request_deadline, read).await {
        Err(_) => Err(Refusal::TimedOut),
        Ok(Ok(collected)) => Ok(collected.to_bytes().to_vec()),
        Ok(Err(error)) if error.is::<LengthLimitError>() => Err(Refusal::TooLarge),
        Ok(Err(error)) => Err(Refusal::Unreadable(error.to_string())),
    }
}

/// Reads and drops what is left of a body refused as too large, within
/// bounds, so that closing does not reset the connection before the client
/// has read the answer.
async fn discard(body: &mut Incoming) {
    let _ = timeout(
        DISCARD_DEADLINE,
        Limited::new(body, DISCARD_BYTES).collect(),
    )
    .await;
}

/// `response` as HTTP/1.1 bytes with `Connection: close`: only for the
/// `408` written after hyper has let go of the connection.
fn closing_answer(response: &Response) -> Vec<u8> {
    let status = response.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in response.headers() {
        if name == CONNECTION || name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            response.body().len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(response.body());
    out
}

/// The connection's socket, noting whether the client has sent bytes since
/// its last answer (i.e. has started a request that is not answered yet).
struct Metered<'a> {
    stream: &'a mut TcpStream,
    unanswered: &'a Cell<bool>,
}

impl AsyncRead for Metered<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut *this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.unanswered.set(true);
        }
        polled
    }
}

impl AsyncWrite for Metered<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut *this.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.unanswered.set(false);
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().stream).poll_shutdown(cx)
    }
}
