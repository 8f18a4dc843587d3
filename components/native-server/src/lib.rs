//! A native HTTP/1.1 server for handlers that take a whole request and
//! answer a whole response (`http::Request<Vec<u8>>` in,
//! `http::Response<Vec<u8>>` out): `idp-sync-local`'s API, the Entra
//! simulator's native server and loopback test servers. Never in a Spin
//! build (Spin reads requests itself).
//!
//! hyper 1 speaks the protocol (keep-alive, chunked bodies,
//! `Expect: 100-continue`, header limits) on a current-thread tokio runtime,
//! one local task per connection, so a handler need be neither `Send` nor
//! `Sync`. On top of it this crate bounds what one client can hold (see
//! [`Limits`]): connections served at once, a deadline for each request's
//! head and for its body (`408` past either), and the body's size (`413`).

#![cfg(not(target_arch = "wasm32"))]

mod background;
mod connection;
mod memory;

use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

pub use background::Background;
pub use memory::keep_freed_memory;

/// A request with its whole body, as handlers get it.
pub type Request = http::Request<Vec<u8>>;
/// A response with its whole body, as handlers answer it.
pub type Response = http::Response<Vec<u8>>;

/// What one client can hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; beyond it, new connections wait in the
    /// listen queue (they are not refused) until a served one closes.
    pub max_connections: usize,
    /// For a request's head, from the moment the connection is ready for it
    /// (accepted, or its previous answer sent); then again for its body,
    /// from the head's arrival. Each is for the whole phase: trickling a
    /// byte now and then does not extend it. An idle keep-alive connection
    /// is closed when it runs out.
    pub request_deadline: Duration,
    /// The largest request body served; a larger one is answered `413`.
    pub max_body_bytes: usize,
}

/// Why a request was answered without reaching [`Handler::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its head or body did not arrive within [`Limits::request_deadline`].
    TimedOut,
    /// Its body is larger than [`Limits::max_body_bytes`].
    TooLarge,
    /// Its body could not be read (e.g. broken chunked framing).
    Unreadable(String),
}

impl Refusal {
    /// The status that says it: `408`, `413` or `400`.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Unreadable(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// What a server serves.
pub trait Handler {
    /// Answers one request whose body has been read in full.
    fn handle(&self, request: Request) -> impl Future<Output = Response>;

    /// The answer to a request refused before it reached
    /// [`handle`](Handler::handle).
    fn refuse(&self, refusal: Refusal) -> Response;
}

/// An answer with `status` and no body.
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    response
}

/// A current-thread runtime with I/O and timers, to run [`serve`] on inside
/// a [`tokio::task::LocalSet`]. `blocking_threads` bounds the threads
/// `spawn_blocking` may start (for handlers that block).
pub fn runtime(blocking_threads: usize) -> io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(blocking_threads.max(1))
        .build()
}

/// Serves `listener` with `handler` for as long as the returned future is
/// polled. Runs inside a [`tokio::task::LocalSet`]: each connection is a
/// local task. Fails only when the listener cannot join the runtime.
pub async fn serve<H: Handler + 'static>(
    listener: std::net::TcpListener,
    limits: Limits,
    handler: Rc<H>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        // Accept only with a permit in hand: over the cap, connections
        // wait in the kernel's listen queue, not in tasks of ours.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return Ok(()); // unreachable: the semaphore is never closed
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                let handler = Rc::clone(&handler);
                tokio::task::spawn_local(async move {
                    connection::serve(stream, limits, &*handler).await;
                    drop(permit);
                });
            }
            Err(error) => {
                // E.g. out of file descriptors: give closing connections a moment.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
