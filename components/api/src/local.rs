//! Native serving for `idp-sync-local` (not in the Spin build): the same
//! router the Spin component uses, served by the workspace's hyper server
//! (`native-server`) on one current-thread runtime. The [`App`] (its store
//! is not `Sync`) is shared by `Rc` between the connections' tasks and the
//! ticker, which pumps runs between requests as the cron trigger would.
//!
//! Requests are HTTP/1.1 with keep-alive, `Content-Length` or chunked
//! bodies and `Expect: 100-continue`. What one client can hold is bounded:
//! at most [`MAX_CONNECTIONS`] connections are served at once (more wait,
//! unaccepted, in the listen queue until one closes), a request's head must
//! arrive within [`REQUEST_DEADLINE`] of the connection being ready for it
//! and its body within as long again (else `408 request_timeout` and close;
//! a connection that sent nothing is just closed), and a body over
//! [`MAX_BODY_BYTES`] is answered `413 payload_too_large`.

use std::io;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::Duration;

use futures::FutureExt;
use native_server::{Handler, Limits, Refusal};
use platform::Platform;
use tokio::task::LocalSet;

use crate::request::MAX_BODY_BYTES;
use crate::{ApiError, App, Request, Response};

/// Connections served at once; beyond it, new connections wait in the
/// listen queue (they are not refused) until a served one closes.
pub const MAX_CONNECTIONS: usize = 64;
/// For a request's head, from its connection being accepted (or its
/// previous answer sent), and again for its body. Past it the client gets
/// `408 request_timeout` and the connection closes, however steadily it
/// was trickling bytes.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);

const LIMITS: Limits = Limits {
    max_connections: MAX_CONNECTIONS,
    request_deadline: REQUEST_DEADLINE,
    max_body_bytes: MAX_BODY_BYTES,
};

/// Serves `app` on `listener` and ticks every `interval`, on this thread
/// (like a single Spin instance). Returns only when serving fails.
pub fn serve<P: Platform + 'static>(
    listener: TcpListener,
    app: App<P>,
    interval: Duration,
) -> io::Result<()> {
    let runtime = native_server::runtime(1)?;
    let app = Rc::new(app);
    let local = LocalSet::new();
    local.spawn_local(tick_every(Rc::clone(&app), interval));
    local.block_on(&runtime, native_server::serve(listener, LIMITS, app))
}

/// Ticks `interval` after the previous tick finished, forever.
async fn tick_every<P: Platform>(app: Rc<App<P>>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        // A bug must cost one tick, not the server.
        match AssertUnwindSafe(app.tick_all()).catch_unwind().await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "the tick failed"),
            Err(_) => tracing::error!("the tick panicked"),
        }
    }
}

impl<P: Platform> Handler for App<P> {
    async fn handle(&self, request: Request) -> Response {
        // A bug must cost one request, not the server.
        AssertUnwindSafe(crate::handle(self, request))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                ApiError::Internal("the request handler panicked".to_owned()).into_response()
            })
    }

    fn refuse(&self, refusal: Refusal) -> Response {
        match refusal {
            Refusal::TimedOut => ApiError::RequestTimeout {
                secs: REQUEST_DEADLINE.as_secs(),
            },
            Refusal::TooLarge => ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            },
            Refusal::Unreadable(why) => ApiError::BadRequest(why),
        }
        .into_response()
    }
}
