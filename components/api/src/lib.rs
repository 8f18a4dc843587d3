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
pub mod request;
pub mod respond;
pub mod route;
mod run_csv;
#[cfg(target_arch = "wasm32")]
mod spin;

use engine::Org;
use engine::error::EngineError;
use http::Method;
use platform::Platform;

pub use app::App;
pub use error::{ApiError, FieldError};
pub use respond::{Request, Response};
pub use route::Route;

/// Routes and answers one request. Never panics on outside input and never
/// fails: every problem is an error response.
pub async fn handle<P: Platform>(app: &App<P>, mut req: Request) -> Response {
    // HEAD is GET without the body.
    let head = req.method() == Method::HEAD;
    if head {
        *req.method_mut() = Method::GET;
    }
    let mut response = match dispatch(app, &req).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    if head {
        response.body_mut().clear();
    }
    response
}

async fn dispatch<P: Platform>(app: &App<P>, req: &Request) -> Result<Response, ApiError> {
    let route = Route::parse(req.uri().path()).ok_or(ApiError::NotFound("route"))?;
    route.check_method(req.method())?;
    if req.body().len() > request::MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: request::MAX_BODY_BYTES,
        });
    }
    // Every JSON body is an object with unique keys, on every route.
    request::check_json_body(req)?;
    let post = req.method() == Method::POST;
    let put = req.method() == Method::PUT;
    match route {
        Route::Healthz => Ok(respond::ok(&serde_json::json!({"status": "ok"}))),
        Route::Console(path) => console::serve(&path),
        Route::Orgs => {
            require_operator(app, req)?;
            app.create_org(req).await
        }
        Route::Tick => {
            require_tick_caller(app, req)?;
            app.tick().await
        }
        Route::Me => Ok(handlers::orgs::me(&admin_org(app, req).await?)),
        route => {
            let org = admin_org(app, req).await?;
            // Another org's resources look exactly like missing ones.
            if route.org() != Some(org.id.as_str()) {
                return Err(ApiError::NotFound("organization"));
            }
            org_route(app, req, route, post, put).await
        }
    }
}

async fn org_route<P: Platform>(
    app: &App<P>,
    req: &Request,
    route: Route,
    post: bool,
    put: bool,
) -> Result<Response, ApiError> {
    match route {
        Route::Directories { org } if post => app.connect_directory(&org, req).await,
        Route::Directories { org } => app.list_directories(&org).await,
        Route::Directory { org, dir } if req.method() == Method::PATCH => {
            app.update_directory(&org, &dir, req).await
        }
        Route::Directory { org, dir } => app.get_directory(&org, &dir).await,
        Route::TenantDomains { org, dir } => app.tenant_domains(&org, &dir).await,
        Route::TenantGroups { org, dir } => app.tenant_groups(&org, &dir, req).await,
        Route::Settings { org, dir } if put => app.put_settings(&org, &dir, req).await,
        Route::Settings { org, dir } => app.get_settings(&org, &dir).await,
        Route::AutoSync { org, dir } => app.put_auto_sync(&org, &dir, req).await,
        Route::SyncPreview { org, dir } => app.preview(&org, &dir).await,
        Route::Sync { org, dir } if post => app.start_sync(&org, &dir).await,
        Route::Sync { org, dir } if req.method() == Method::DELETE => {
            app.stop_sync(&org, &dir).await
        }
        Route::Sync { org, dir } => app.sync_status(&org, &dir).await,
        Route::SyncStop { org, dir } => app.stop_sync(&org, &dir).await,
        Route::SyncHistory { org, dir } => app.sync_history(&org, &dir).await,
        Route::SyncRunCsv { org, dir, file } => app.sync_run_csv(&org, &dir, &file).await,
        Route::SyncConfirm { org, dir } => app.confirm_removals(&org, &dir).await,
        Route::SyncReject { org, dir } => app.reject_removals(&org, &dir).await,
        Route::Users { org } => app.list_users(&org, req).await,
        Route::User { org, id } => app.get_user(&org, &id).await,
        Route::Groups { org } => app.list_groups(&org, req).await,
        Route::Group { org, id } => app.get_group(&org, &id).await,
        Route::GroupMembers { org, id } => app.group_members(&org, &id, req).await,
        Route::ProductAccess { org, id } => app.put_product_access(&org, &id, req).await,
        Route::Domains { org } => app.claimed_domains(&org).await,
        Route::Billing { org } => app.billing(&org).await,
        Route::Saml { org } if put => app.put_saml(&org, req).await,
        Route::Saml { org } => app.get_saml(&org).await,
        Route::Emails { org } => app.list_emails(&org, req).await,
        Route::Healthz | Route::Console(_) | Route::Orgs | Route::Tick | Route::Me => {
            Err(ApiError::Internal("route dispatched twice".to_owned()))
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
