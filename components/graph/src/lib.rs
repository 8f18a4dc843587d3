//! A Microsoft Graph client for idp-sync.
//!
//! [`GraphClient`] implements the engine's
//! [`IdentitySource`](engine::ports::IdentitySource) over two small ports so
//! the same protocol code runs natively and inside Spin:
//!
//! - [`HttpClient`]: send one `http::Request`, get one `http::Response`
//!   (Spin's outbound HTTP in the components, [`native::UreqClient`] natively);
//! - [`Pause`]: a monotonic clock and a sleep, used to honour `Retry-After`
//!   without ever waiting past the invocation's deadline.
#![allow(async_fn_in_trait)]

mod client;
mod config;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
mod pause;
mod redact;
mod source;
mod transport;
mod wire;

pub use client::{ClientStats, GraphClient};
pub use config::{ConfigError, DEFAULT_AUTHORITY, DEFAULT_GRAPH_BASE, GraphConfig};
pub use pause::Pause;
pub use transport::{Deadline, HttpClient, TransportError};
