//! The engine's rules, each as a user would state it: one module per area
//! (settings, domains, groups, access and billing, runs, emails,
//! organizations) and per step of a run (the plan, the page loop,
//! finalize's steps). One test binary, so the engine is built once for it,
//! natively and for `wasm32-unknown-unknown` (the `wasm-rules` step).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

#[path = "../common/mod.rs"]
mod common;

use common::*;
use engine::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod access;
mod domains;
mod emails;
mod finalize_steps;
mod groups;
mod organizations;
mod paging;
mod plan;
mod runs;
mod settings_rules;
