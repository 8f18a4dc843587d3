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

use crate::{LinkBase, Preset, Sim, handle};

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

/// Strips the component's route prefix from the path (from `spin-path-info`)
/// and records the public base URL, so links point back through Spin.
fn rebase(mut req: http::Request<Vec<u8>>) -> Result<http::Request<Vec<u8>>, http::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let path = req.uri().path().to_owned();
    let info = header("spin-path-info").unwrap_or_else(|| path.clone());
    let prefix = path.strip_suffix(info.as_str()).unwrap_or("").to_owned();
    let full: Option<http::Uri> = header("spin-full-url").and_then(|u| u.parse().ok());
    let scheme = full
        .as_ref()
        .and_then(|u| u.scheme_str())
        .or(req.uri().scheme_str())
        .unwrap_or("http")
        .to_owned();
    let authority = full
        .as_ref()
        .and_then(|u| u.authority())
        .or(req.uri().authority())
        .map(|a| a.to_string())
        .or_else(|| header("host"))
        .unwrap_or_else(|| "localhost".to_owned());
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{info}?{query}"),
        None => info,
    };
    *req.uri_mut() = http::Uri::builder()
        .path_and_query(path_and_query)
        .build()?;
    req.extensions_mut()
        .insert(LinkBase(format!("{scheme}://{authority}{prefix}")));
    Ok(req)
}
