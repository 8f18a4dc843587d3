//! idp-sync's ports bound to the platform.
//!
//! - [`secrets`]: sealing of tenant client secrets (XChaCha20-Poly1305).
//! - [`config`]: the app configuration from variables, validated.
//! - [`mailer`]: welcome-email delivery (log, or an HTTP webhook).
//! - [`source`]: the Graph client of a directory (its secret opened).
//! - [`tick`]: the scheduler's job, shared by the cron component and the
//!   API's `POST /api/v1/tick`.
//! - [`outgoing`]: an outbound request shaped for the host's `wasi:http`
//!   (body length declared, never chunked).
//! - `spin` (wasm32 only): the key-value store, outbound HTTP, variables and
//!   monotonic pause over spin-sdk 5 (WASI 0.2).
#![allow(async_fn_in_trait)]

pub mod config;
pub mod mailer;
pub mod outgoing;
pub mod secrets;
pub mod source;
#[cfg(target_arch = "wasm32")]
pub mod spin;
pub mod tick;

pub use config::{AppConfig, ConfigError, MapVariables, VariableError, Variables};
pub use mailer::{AppMailer, LogMailer, WebhookMailer};
pub use secrets::{SecretError, SecretKey, client_secret_context};
pub use source::{SourceBuildError, graph_client_for};
pub use tick::tick_all;
