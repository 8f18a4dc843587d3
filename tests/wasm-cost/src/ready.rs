//! Running the engine's futures without an async runtime (none that builds
//! for wasm32-wasip2 without a host to wait on is needed): the in-memory
//! store, tenant, clock and mailer never wait, so every future is ready at
//! its first poll.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// A future was not ready at its first poll: something waited, which the
/// in-memory ports never do.
#[derive(Debug, thiserror::Error)]
#[error("a future was not ready at its first poll; the in-memory ports never wait")]
pub struct Waited;

/// `future`'s output, from one poll.
pub fn ready<F: Future>(future: F) -> Result<F::Output, Waited> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(Waited),
    }
}
