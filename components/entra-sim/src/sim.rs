//! The simulator's state and its one entry point, [`handle`].

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Request, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::faults::{Faults, Stats};
use crate::ids::guid;
use crate::presets::Preset;
use crate::tenant::Tenant;
use crate::{admin, changes, graph, token};

/// Requests kept for `GET /_sim/requests`.
const LOG_CAPACITY: usize = 500;
const REQUEST_ID_NS: u64 = 7;

/// A simulated tenant with its knobs and counters; share it between server
/// threads (all access goes through one lock).
pub struct Sim {
    state: Mutex<State>,
}

pub(crate) struct State {
    pub tenant: Tenant,
    pub faults: Faults,
    pub stats: Stats,
    pub log: VecDeque<String>,
    /// Bumped by `POST /_sim/faults {"expire_delta_tokens": true}`: every
    /// delta token issued before is answered 410 Gone.
    pub delta_epoch: u64,
    /// Bumped by `POST /_sim/faults {"revoke_tokens": true}`: every access
    /// token issued before is refused with 401 `InvalidAuthenticationToken`.
    pub token_epoch: u64,
    /// Requests before this instant (Unix ms) are refused with 429.
    pub throttled_until_ms: u64,
    pub next_drift_ms: Option<u64>,
    served: u64,
}

/// Where the links in responses point (`{scheme}://{host}{prefix}`),
/// when the request's own `Host` is not the public address (e.g. behind
/// Spin's component route). Put it in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase(pub String);

impl Sim {
    pub fn new(tenant: Tenant, faults: Faults) -> Self {
        Sim {
            state: Mutex::new(State {
                tenant,
                faults,
                stats: Stats::default(),
                log: VecDeque::new(),
                delta_epoch: 0,
                token_epoch: 0,
                throttled_until_ms: 0,
                next_drift_ms: None,
                served: 0,
            }),
        }
    }

    pub fn preset(preset: Preset) -> Self {
        Sim::new(preset.build(), Faults::default())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves data that is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    pub fn reset_stats(&self) {
        self.lock().stats = Stats::default();
    }

    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// Runs `f` on the tenant (e.g. to look up ids or change data).
    pub fn with_tenant<T>(&self, f: impl FnOnce(&mut Tenant) -> T) -> T {
        f(&mut self.lock().tenant)
    }

    /// Makes every access token issued so far invalid (401).
    pub fn revoke_tokens(&self) {
        self.lock().token_epoch += 1;
    }

    /// Makes every delta token issued so far answer 410 Gone.
    pub fn expire_delta_tokens(&self) {
        self.lock().delta_epoch += 1;
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Serves one request: the token endpoint, the Graph endpoints under
/// `/v1.0/`, and the admin endpoints under `/_sim/`.
pub fn handle(sim: &Sim, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let path = req.uri().path().to_owned();
    if let Some(admin_path) = path.strip_prefix("/_sim/") {
        return admin::handle(sim, admin_path, &req);
    }
    let latency = sim.lock().faults.latency_ms;
    if latency > 0 {
        std::thread::sleep(Duration::from_millis(latency));
    }
    let now = now_ms();
    let mut state = sim.lock();
    state.served += 1;
    let request_id = guid(REQUEST_ID_NS, state.served);
    let line = format!("{} {}", req.method(), req.uri());
    if state.log.len() == LOG_CAPACITY {
        state.log.pop_front();
    }
    state.log.push_back(line);
    changes::drift_if_due(&mut state, now);
    let mut response = if let Some(graph_path) = path.strip_prefix("/v1.0/") {
        let base = link_base(&req, &state.faults);
        graph::handle(&mut state, graph_path, &req, now, &base)
    } else if let Some(tenant) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
    {
        token::handle(&mut state, tenant, &req, now)
    } else {
        state.stats.count("other");
        graph_error(
            StatusCode::NOT_FOUND,
            "BadRequest",
            &format!("Resource not found for the segment '{path}'."),
        )
    };
    let headers = response.headers_mut();
    if let Ok(value) = request_id.parse() {
        headers.insert("request-id", value);
    }
    if let Some(value) = req.headers().get("client-request-id") {
        headers.insert("client-request-id", value.clone());
    }
    fill_request_id(&mut response, &request_id);
    response
}

/// The base for links in responses: the fault override, the request's
/// [`LinkBase`], or `http://{Host}`.
fn link_base(req: &Request<Vec<u8>>, faults: &Faults) -> String {
    if let Some(base) = &faults.next_link_base {
        return base.trim_end_matches('/').to_owned();
    }
    if let Some(LinkBase(base)) = req.extensions().get::<LinkBase>() {
        return base.trim_end_matches('/').to_owned();
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let scheme = req.uri().scheme_str().unwrap_or("http");
    format!("{scheme}://{host}")
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Vec<u8>> {
    let mut response = Response::new(serde_json::to_vec(body).unwrap_or_default());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Graph's error body; the request id is filled in by [`handle`].
pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response<Vec<u8>> {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message, "innerError": {}}}),
    )
}

/// Puts the request id and date into a Graph error body's `innerError`.
fn fill_request_id(response: &mut Response<Vec<u8>>, request_id: &str) {
    if response.status().is_success() {
        return;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(response.body()) else {
        return;
    };
    if let Some(inner) = body
        .get_mut("error")
        .and_then(|e| e.get_mut("innerError"))
        .and_then(Value::as_object_mut)
    {
        inner.insert("request-id".into(), json!(request_id));
        inner.insert("client-request-id".into(), json!(request_id));
        *response.body_mut() = serde_json::to_vec(&body).unwrap_or_default();
    }
}
