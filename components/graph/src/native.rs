//! Native adapters of the ports, for tests and native servers.
//!
//! `ureq` blocks, so [`UreqClient`] runs each exchange on a thread of the
//! `blocking` crate's pool and its future waits for the answer: a request
//! the engine sent ahead (the next Graph page) progresses while the
//! caller's thread decodes and stages the page before it, under any
//! executor (decision 0012).

use std::time::{Duration, Instant};

use engine::ports::{Clock, Timestamp};

use crate::{Deadline, HttpClient, Pause, TransportError};

/// [`HttpClient`] over `ureq`: each exchange on a thread of the `blocking`
/// crate's pool, over the agent's one pool of keep-alive connections
/// (clones share it).
#[derive(Debug, Clone)]
pub struct UreqClient {
    agent: ureq::Agent,
}

/// The largest response body read (Graph pages of 999 users are well below).
const MAX_BODY: u64 = 64 * 1024 * 1024;

impl UreqClient {
    /// A client with a per-request timeout.
    pub fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .build();
        UreqClient {
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl UreqClient {
    /// One whole exchange on the calling thread, blocking: the response
    /// with its body read (at most 64 MiB). [`HttpClient::send`] runs it
    /// on a pool thread; a caller that places its own threads (the
    /// benchmark) runs it on one of its own.
    ///
    /// # Errors
    /// The exchange's [`TransportError`].
    pub fn exchange(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = if req.body().is_empty() {
            self.run(req.map(|_| ureq::SendBody::none()))
        } else {
            self.run(req)
        }
        .map_err(map_error)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(map_error)?;
        Ok(http::Response::from_parts(parts, bytes))
    }

    /// Runs `req` with the shorter of the client's timeout and the
    /// request's [`Deadline`].
    fn run(
        &self,
        req: http::Request<impl ureq::AsSendBody>,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let cap = self.agent.config().timeouts().global;
        let timeout = match (cap, req.extensions().get::<Deadline>()) {
            (Some(cap), Some(Deadline(d))) => Some(cap.min(*d)),
            (cap, deadline) => cap.or(deadline.map(|Deadline(d)| *d)),
        };
        let req = self
            .agent
            .configure_request(req)
            .timeout_global(timeout)
            .build();
        self.agent.run(req)
    }
}

impl Default for UreqClient {
    fn default() -> Self {
        UreqClient::new(Duration::from_secs(30))
    }
}

impl HttpClient for UreqClient {
    /// Hands the exchange to a pool thread at the first poll (a thread
    /// kept from an earlier exchange when one is idle: starting one per
    /// request cost the 10,000-user benchmark about 10 ms, decision 0012),
    /// and resolves when it ends. Dropping the future before a thread took
    /// the exchange drops the request unsent; after, the thread finishes
    /// the exchange and drops its answer. Honours a [`Deadline`] in the
    /// request's extensions when it is shorter than the client's own
    /// timeout.
    ///
    /// # Errors
    /// The exchange's [`TransportError`].
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let client = self.clone();
        blocking::unblock(move || client.exchange(req)).await
    }
}

fn map_error(e: ureq::Error) -> TransportError {
    let message = e.to_string();
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout(message),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            TransportError::Connect(message)
        }
        ureq::Error::Io(_) => TransportError::Io(message),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::RequireHttpsOnly(_) => {
            TransportError::Refused(message)
        }
        _ => TransportError::Io(message),
    }
}

/// [`Pause`] over `std::time::Instant` and `std::thread::sleep`.
#[derive(Debug, Clone, Copy)]
pub struct ThreadPause {
    origin: Instant,
}

impl Default for ThreadPause {
    fn default() -> Self {
        ThreadPause {
            origin: Instant::now(),
        }
    }
}

impl Pause for ThreadPause {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn wall_now(&self) -> Timestamp {
        engine::SystemClock.now()
    }

    async fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}
