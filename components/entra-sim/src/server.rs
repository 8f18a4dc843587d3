//! The native HTTP server (tiny_http) around [`handle`](crate::handle),
//! for tests over loopback and for `cargo run -p entra-sim`.

use std::sync::Arc;
use std::thread::JoinHandle;

use crate::{Sim, handle};

/// Threads serving requests (so a slow or throttled client does not hold
/// up another).
const WORKERS: usize = 4;

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
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
}

impl SimServer {
    /// Serves `sim` on `addr` (e.g. `127.0.0.1:8080`).
    pub fn start(sim: Sim, addr: &str) -> Result<SimServer, ListenError> {
        let listen_error = |message: String| ListenError {
            addr: addr.to_owned(),
            message,
        };
        let server =
            Arc::new(tiny_http::Server::http(addr).map_err(|e| listen_error(e.to_string()))?);
        let local = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| listen_error("not an IP listener".to_owned()))?;
        let sim = Arc::new(sim);
        let workers = (0..WORKERS)
            .map(|_| {
                let (server, sim) = (Arc::clone(&server), Arc::clone(&sim));
                std::thread::spawn(move || serve(&server, &sim))
            })
            .collect();
        Ok(SimServer {
            base_url: format!("http://{local}"),
            sim,
            server,
            workers,
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
    pub fn wait(mut self) {
        for worker in self.workers.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = worker.join();
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        for _ in 0..self.workers.len() {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

fn serve(server: &tiny_http::Server, sim: &Sim) {
    while let Ok(mut request) = server.recv() {
        let response = match to_http(&mut request) {
            Ok(req) => handle(sim, req),
            Err(status) => {
                let mut response = http::Response::new(Vec::new());
                *response.status_mut() = status;
                response
            }
        };
        // The client may have gone away; nothing to do about it.
        let _ = request.respond(from_http(response));
    }
}

fn to_http(request: &mut tiny_http::Request) -> Result<http::Request<Vec<u8>>, http::StatusCode> {
    let mut body = Vec::new();
    request
        .as_reader()
        .read_to_end(&mut body)
        .map_err(|_| http::StatusCode::BAD_REQUEST)?;
    let mut builder = http::Request::builder()
        .method(request.method().as_str())
        .uri(request.url());
    for header in request.headers() {
        builder = builder.header(header.field.as_str().as_str(), header.value.as_str());
    }
    builder
        .body(body)
        .map_err(|_| http::StatusCode::BAD_REQUEST)
}

fn from_http(response: http::Response<Vec<u8>>) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let (parts, body) = response.into_parts();
    let mut out = tiny_http::Response::from_data(body).with_status_code(parts.status.as_u16());
    for (name, value) in &parts.headers {
        if let Ok(header) =
            tiny_http::Header::from_bytes(name.as_str().as_bytes(), value.as_bytes())
        {
            out.add_header(header);
        }
    }
    out
}
