//! idp-sync's ports bound to the platform.
//!
//! - [`secrets`]: sealing of tenant client secrets (XChaCha20-Poly1305).
//! - [`config`]: the app configuration from variables, validated.
//! - [`mailer`]: welcome-email delivery (log, or an HTTP webhook).
//! - [`clock`]: the wall clock.
//! - `spin` (wasm32 only): the key-value store, outbound HTTP, variables and
//!   monotonic pause over `spin-sdk`.
#![allow(async_fn_in_trait)]

pub mod clock;
pub mod config;
pub mod mailer;
pub mod secrets;
#[cfg(target_arch = "wasm32")]
pub mod spin;

pub use clock::SystemClock;
pub use config::{AppConfig, ConfigError, MapVariables, VariableError, Variables};
pub use mailer::{AppMailer, LogMailer, WebhookMailer};
pub use secrets::{SealedSecret, SecretError, SecretKey};
