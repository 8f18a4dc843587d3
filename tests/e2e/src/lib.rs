//! idp-sync end to end: the scenarios of issue 4, over real HTTP, against a
//! running app.
//!
//! [`server`] starts the app under test: the native `idp-sync-local`
//! (always available: cargo builds it) or `spin up` on the built wasm
//! components (when `spin` and the trigger-cron plugin are on PATH). Both
//! serve the simulated Entra tenant's `large` preset. [`scenarios`] walks
//! through what an operator and an org admin do, checking each rule a user
//! would notice. [`client`] is a small JSON-over-HTTP client.
//! [`components`] reads the built wasm components' imports and exports, so
//! their fit with Spin is checked even where Spin is not installed.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

pub mod client;
pub mod components;
pub mod scenarios;
pub mod server;
