//! The Spin component: the same handler over Spin's HTTP trigger.
//!
//! Spin instances do not outlive a request, so each request is served by a
//! freshly seeded tenant (deterministic, so every instance agrees; tokens and
//! cursors are self-contained). The preset comes from the component variable
//! `entra_sim_preset` (`demo` when unset). Fault knobs keep their defaults.

use bytes::Bytes;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{FullBody, Request};
use spin_sdk::http_service;

use crate::mount::rebase;
use crate::{Preset, Sim, handle};

#[http_service]
async fn serve(req: Request) -> Result<http::Response<FullBody<Bytes>>, spin_sdk::http::Error> {
    let preset = spin_sdk::variables::get("entra_sim_preset")
        .await
        .ok()
        .and_then(|name| Preset::parse(&name))
        .unwrap_or(Preset::Demo);
    let (parts, body) = req.into_parts();
    let body = body.bytes().await?.to_vec();
    let request = rebase(http::Request::from_parts(parts, body))?;
    let response = handle(&Sim::preset(preset), request);
    Ok(response.map(|body| FullBody::new(Bytes::from(body))))
}
