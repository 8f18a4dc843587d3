//! idp-sync's ports bound to the platform.
//!
//! - [`Platform`] (`bundle`): the one type carrying a platform's store,
//!   outbound HTTP, clock, mailer and pause; bundled for Spin
//!   (`spin::SpinPlatform`) and natively ([`native::NativePlatform`]).
//! - [`secrets`]: sealing of tenant client secrets (XChaCha20-Poly1305).
//! - [`config`]: the app configuration from variables, validated.
//! - [`mailer`]: welcome-email delivery (log, or an HTTP webhook).
//! - [`source`]: the Graph configuration of a directory (its secret opened).
//! - [`tick`]: the scheduler's job, shared by the cron component and the
//!   API's `POST /api/v1/tick`.
//! - [`outgoing`]: an outbound request shaped for the host's `wasi:http`
//!   (body length declared, never chunked).
//! - `spin` (wasm32 only): the key-value store, outbound HTTP, variables and
//!   monotonic pause over spin-sdk 5 (WASI 0.2), and their bundle.
//! - [`native`] (not on wasm32): the in-memory, `ureq` bundle.
#![allow(async_fn_in_trait)]

mod bundle;
pub mod config;
pub mod mailer;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod outgoing;
pub mod secrets;
pub mod source;
#[cfg(target_arch = "wasm32")]
pub mod spin;
pub mod tick;

pub use bundle::Platform;
pub use config::{AppConfig, ConfigError, MapVariables, VariableError, Variables};
pub use mailer::{AppMailer, LogMailer, WebhookMailer};
pub use secrets::{SecretError, SecretKey, client_secret_context};
pub use source::SourceBuildError;
pub use tick::tick_all;
