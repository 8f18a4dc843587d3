//! idp-sync's HTTP API.
//!
//! [`handle`] routes one `http::Request<Vec<u8>>` to its handler and always
//! answers an `http::Response<Vec<u8>>`: errors are rendered as
//! `{"error":{"code","message","fields"?}}` with their status. It is plain
//! Rust over the engine's ports, so the same code serves natively (tests,
//! `idp-sync-local`) and inside Spin (the `spin` module, wasm32 only).
//!
//! Handlers parse, authorize, call the engine and render; every rule of
//! directory sync lives in `components/engine`.

pub mod app;
pub mod auth;
mod console;
pub mod error;
mod handlers;
#[cfg(not(target_arch = "wasm32"))]
pub mod local;
pub mod openapi;
pub mod request;
pub mod respond;
pub mod route;
pub mod routes;
mod run_csv;
#[cfg(target_arch = "wasm32")]
mod spin;
pub mod wire;

use engine::Org;
use engine::error::EngineError;
use http::Method;
use platform::Platform;
use route::{Caller, Matched, PathParams};

pub use app::App;
pub use error::{ApiError, FieldError};
pub use respond::{Request, Response};
pub use route::{Access, RouteSpec};
pub use routes::{Operation, ROUTES};

/// Routes and answers one request. Never panics on outside input and never
/// fails: every problem is an error response.
///
/// `HEAD` is answered as `GET` without the body: the same status and
/// headers, `Content-Length` included (RFC 9110 §9.3.2).
pub async fn handle<P: Platform>(app: &App<P>, mut req: Request) -> Response {
    let head = req.method() == Method::HEAD;
    if head {
        *req.method_mut() = Method::GET;
    }
    let response = match dispatch(app, &req).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if head {
        without_body(response)
    } else {
        response
    }
}

/// `response` as the answer to `HEAD`: its body dropped, its length kept in
/// `Content-Length`.
fn without_body(mut response: Response) -> Response {
    let length = response.body().len();
    response.headers_mut().insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(length),
    );
    response.body_mut().clear();
    response
}

async fn dispatch<P: Platform>(app: &App<P>, req: &Request) -> Result<Response, ApiError> {
    let Matched { spec, params } = route::find(req.method(), req.uri().path())?;
    if req.body().len() > request::MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: request::MAX_BODY_BYTES,
        });
    }
    // Every JSON body is an object with unique keys, on every route.
    request::check_json_body(req)?;
    let caller = authorize(app, req, spec.access, &params).await?;
    routes::call(spec.operation, app, &params, req, &caller).await
}

/// Checks the token `access` requires.
async fn authorize<P: Platform>(
    app: &App<P>,
    req: &Request,
    access: Access,
    params: &PathParams,
) -> Result<Caller, ApiError> {
    match access {
        Access::Public => Ok(Caller::Anyone),
        Access::Operator => require_operator(app, req).map(|()| Caller::Operator),
        Access::TickCaller => require_tick_caller(app, req).map(|()| Caller::Operator),
        Access::Admin => Ok(Caller::Admin(admin_org(app, req).await?)),
        Access::OrgAdmin => {
            let org = admin_org(app, req).await?;
            // Another org's resources look exactly like missing ones.
            if params.org()? != org.id.as_str() {
                return Err(ApiError::NotFound("organization"));
            }
            Ok(Caller::Admin(org))
        }
    }
}

fn require_operator<P>(app: &App<P>, req: &Request) -> Result<(), ApiError> {
    match request::bearer(req) {
        Some(token) if auth::is_operator(token, &app.config.operator_token) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The tick accepts the operator token as a bearer token or, for platform
/// schedulers that call a URL but cannot send a header (Akamai Functions'
/// `spin aka cron`), as `?token=` (compared in constant time all the same).
fn require_tick_caller<P>(app: &App<P>, req: &Request) -> Result<(), ApiError> {
    let query_token = request::query_param(req, "token");
    match request::bearer(req).or(query_token.as_deref()) {
        Some(token) if auth::is_operator(token, &app.config.operator_token) => Ok(()),
        _ => Err(ApiError::Unauthorized),
    }
}

/// The organization whose admin token the request carries; 401 otherwise.
async fn admin_org<P: Platform>(app: &App<P>, req: &Request) -> Result<Org, ApiError> {
    let token = request::bearer(req).ok_or(ApiError::Unauthorized)?;
    let claimed = auth::claimed_org(token).ok_or(ApiError::Unauthorized)?;
    let org = match app.engine().get_org(claimed).await {
        Ok(org) => org,
        Err(EngineError::NotFound(_) | EngineError::InvalidId { .. }) => {
            return Err(ApiError::Unauthorized);
        }
        Err(other) => return Err(other.into()),
    };
    if auth::matches_any(token, &org.admin_token_hashes) {
        Ok(org)
    } else {
        Err(ApiError::Unauthorized)
    }
}
