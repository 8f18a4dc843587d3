//! The native HTTP server around [`handle`](crate::handle) (the workspace's
//! hyper server, `native-server`, on a thread of its own), for tests over
//! loopback, `idp-sync-local` and `cargo run -p entra-sim`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use native_server::{Background, Handler, Limits, Refusal, Request, Response, empty};

use crate::{Sim, handle};

/// Requests handled at once, each on a blocking thread (the simulated
/// latency sleeps), so a slow or throttled client does not hold up another.
const WORKERS: usize = 4;

/// Generous: the simulator's clients are tests and the local app.
const LIMITS: Limits = Limits {
    max_connections: 64,
    request_deadline: Duration::from_secs(30),
    max_body_bytes: 1024 * 1024,
};

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[error("could not listen on {addr}: {message}")]
pub struct ListenError {
    pub addr: String,
    pub message: String,
}

/// A running simulator; stops when dropped.
pub struct SimServer {
    base_url: String,
    sim: Arc<Sim>,
    server: Background,
}

impl SimServer {
    /// Serves `sim` on `addr` (e.g. `127.0.0.1:8080`).
    pub fn start(sim: Sim, addr: &str) -> Result<SimServer, ListenError> {
        let listen_error = |error: std::io::Error| ListenError {
            addr: addr.to_owned(),
            message: error.to_string(),
        };
        let listener = TcpListener::bind(addr).map_err(listen_error)?;
        let sim = Arc::new(sim);
        let served = Arc::clone(&sim);
        let server = Background::start(listener, LIMITS, WORKERS, move || SimHandler(served))
            .map_err(listen_error)?;
        Ok(SimServer {
            base_url: format!("http://{}", server.addr()),
            sim,
            server,
        })
    }

    /// Serves `sim` on an ephemeral loopback port: for tests.
    pub fn start_local(sim: Sim) -> Result<SimServer, ListenError> {
        SimServer::start(sim, "127.0.0.1:0")
    }

    /// `http://127.0.0.1:{port}`: the authority and the Graph base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The simulator behind the server (stats, faults, data).
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Blocks while the server runs.
    pub fn wait(self) {
        self.server.wait();
    }
}

/// Hands each request to [`handle`] on a blocking thread.
struct SimHandler(Arc<Sim>);

impl Handler for SimHandler {
    async fn handle(&self, request: Request) -> Response {
        let sim = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || handle(&sim, request))
            .await
            .unwrap_or_else(|_| empty(http::StatusCode::INTERNAL_SERVER_ERROR))
    }

    fn refuse(&self, refusal: Refusal) -> Response {
        empty(refusal.status())
    }
}
