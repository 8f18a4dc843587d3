//! The transport port: one HTTP exchange, nothing more.

/// Sends one HTTP request and returns the response, whatever its status.
///
/// Implementations must not turn 4xx/5xx statuses into errors: the Graph
/// client reads Graph's error bodies itself. `Err` means no response at all.
pub trait HttpClient {
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;
}

/// How long one request may take in all (connecting, sending, waiting for
/// and reading the response), carried in the request's extensions. The
/// Graph client sets it from what is left of the invocation's time budget,
/// so a Graph or token endpoint that hangs cannot keep an invocation past
/// its budget; an [`HttpClient`] applies it on top of its own timeouts (the
/// shorter wins) and answers [`TransportError::Timeout`] when it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub std::time::Duration);

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Could not connect (DNS, refused, TLS handshake).
    #[error("could not connect: {0}")]
    Connect(String),
    /// The request or the response did not complete in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The connection broke mid-exchange.
    #[error("i/o error: {0}")]
    Io(String),
    /// The host refused to send this request (e.g. a host not in Spin's
    /// `allowed_outbound_hosts`, or a malformed URL). Retrying cannot help.
    #[error("request refused by the transport: {0}")]
    Refused(String),
}

impl TransportError {
    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, TransportError::Refused(_))
    }
}
