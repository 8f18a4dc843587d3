//! The Spin component: the same handler over Spin's HTTP trigger
//! (`wasi:http/incoming-handler@0.2.0` through spin-sdk 5).
//!
//! Spin instances do not outlive a request, so each request is served by a
//! freshly seeded tenant (deterministic, so every instance agrees; tokens and
//! cursors are self-contained). The preset comes from the component variable
//! `entra_sim_preset` (`demo` when unset or unreadable, with a warning in
//! the log). Fault knobs keep their defaults. Logs are JSON lines on stderr
//! (the `logging` crate).

use anyhow::Context;
use spin_sdk::http_component;

use crate::mount::rebase;
use crate::{Preset, Sim, handle};

#[http_component]
fn serve(req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
    logging::init();
    let preset = preset().unwrap_or_else(|error| {
        tracing::warn!(error = format!("{error:#}"), "serving the demo preset");
        Preset::Demo
    });
    match rebase(req) {
        Ok(request) => handle(&Sim::preset(preset), request),
        Err(error) => {
            tracing::warn!(%error, "the request could not be rebased on the component route");
            let mut response = http::Response::new(format!("bad request: {error}").into_bytes());
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
            response
        }
    }
}

/// The preset the component variable `entra_sim_preset` names.
fn preset() -> anyhow::Result<Preset> {
    let name = spin_sdk::variables::get("entra_sim_preset")
        .context("reading the Spin variable entra_sim_preset")?;
    Preset::parse(&name).with_context(|| format!("unknown preset {name:?} (demo, large, huge)"))
}
