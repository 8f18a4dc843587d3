//! Native adapters of the ports, for tests and native servers.
//!
//! `ureq` blocks, so [`UreqClient`] runs each exchange on a thread of its
//! own and its future waits for the answer: a request the engine sent
//! ahead (the next Graph page) progresses while the caller's thread stages
//! the page before it, under any executor.

use std::time::{Duration, Instant};

use engine::ports::{Clock, Timestamp};
use futures::channel::oneshot;

use crate::{Deadline, HttpClient, Pause, TransportError};

/// [`HttpClient`] over `ureq`: each exchange on its own thread, over the
/// agent's one pool of keep-alive connections (clones share it).
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
    /// One whole exchange, blocking: the response with its body read.
    fn exchange(
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
    /// Starts the exchange on a new thread at the first poll, and resolves
    /// when it ends; dropping the future leaves the thread to finish the
    /// exchange and drop its answer. Honours a [`Deadline`] in the
    /// request's extensions when it is shorter than the client's own
    /// timeout.
    ///
    /// # Errors
    /// The exchange's [`TransportError`]; [`TransportError::Io`] when no
    /// thread could be started, or it ended without an answer.
    async fn send(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (answer, answered) = oneshot::channel();
        let client = self.clone();
        std::thread::Builder::new()
            .name("graph-request".to_owned())
            .spawn(move || {
                // The caller may have dropped the request: nobody to tell.
                let _ = answer.send(client.exchange(req));
            })
            .map_err(|e| TransportError::Io(format!("no thread for the request: {e}")))?;
        answered.await.map_err(|oneshot::Canceled| {
            TransportError::Io("the request's thread ended without an answer".to_owned())
        })?
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
