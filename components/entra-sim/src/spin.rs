//! The Spin component: the same handler over Spin's HTTP trigger
//! (`wasi:http/incoming-handler@0.2.0` through spin-sdk 5).
//!
//! Spin instances do not outlive a request, so each request is served by a
//! freshly seeded tenant (deterministic, so every instance agrees; tokens and
//! cursors are self-contained). The preset comes from the component variable
//! `entra_sim_preset` (`demo` when unset). Fault knobs keep their defaults.

use spin_sdk::http_component;

use crate::mount::rebase;
use crate::{Preset, Sim, handle};

#[http_component]
fn serve(req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
    let preset = spin_sdk::variables::get("entra_sim_preset")
        .ok()
        .and_then(|name| Preset::parse(&name))
        .unwrap_or(Preset::Demo);
    match rebase(req) {
        Ok(request) => handle(&Sim::preset(preset), request),
        Err(error) => {
            let mut response = http::Response::new(format!("bad request: {error}").into_bytes());
            *response.status_mut() = http::StatusCode::BAD_REQUEST;
            response
        }
    }
}
