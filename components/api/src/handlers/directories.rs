//! Connecting Entra tenants, listing them, and reading a tenant live for the
//! settings pickers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use engine::ports::{Arrived, IdentitySource, PageToken, SourceDomain, SourceGroup};
use engine::{DirectoryView, NewDirectory};
use http::StatusCode;
use platform::Platform;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::App;
use crate::error::ApiError;
use crate::request::{Request, json_body, query_param};
use crate::respond::{Response, json, ok};

/// The body of a connection. No `Debug`: it carries the client secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    #[schema(schema_with = crate::openapi::schemas::display_name)]
    name: String,
    #[schema(pattern = r"^[A-Za-z0-9.-]{1,100}$")]
    tenant_id: String,
    #[schema(pattern = r"^[A-Za-z0-9.-]{1,64}$")]
    client_id: String,
    #[schema(min_length = 1)]
    client_secret: String,
}

/// The body of a change to a directory (all optional). No `Debug`: it may
/// carry the client secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryChange {
    #[schema(schema_with = crate::openapi::schemas::display_name)]
    name: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// One directory.
#[derive(Serialize, ToSchema)]
pub struct DirectoryBody<'a> {
    directory: &'a DirectoryView,
}

/// The connected directories.
#[derive(Serialize, ToSchema)]
pub struct DirectoryList {
    items: Vec<DirectoryView>,
}

/// The tenant's domains.
#[derive(Serialize, ToSchema)]
pub struct TenantDomains {
    domains: Vec<SourceDomain>,
}

/// One page of the tenant's groups.
#[derive(Serialize, ToSchema)]
pub struct TenantGroups {
    groups: Vec<SourceGroup>,
    next_cursor: Option<String>,
}

impl<P: Platform> App<P> {
    /// `POST .../directories`: the secret is sealed before the engine sees it.
    pub(crate) async fn connect_directory(
        &self,
        org: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let body: Connect = json_body(req)?;
        let sealed_secret = if body.client_secret.is_empty() {
            // Let the engine report the empty secret with the other fields.
            Vec::new()
        } else {
            self.seal_secret(org, &body.tenant_id, &body.client_id, &body.client_secret)?
        };
        let directory = self
            .engine()
            .connect_directory(
                org,
                NewDirectory {
                    name: body.name,
                    tenant_id: body.tenant_id,
                    client_id: body.client_id,
                    sealed_secret,
                },
            )
            .await?;
        Ok(json(
            StatusCode::CREATED,
            &DirectoryBody {
                directory: &directory.view(),
            },
        ))
    }

    /// `PATCH .../directories/{dir}`: a new name, client id or client
    /// secret (sealed before the engine sees it). A new client id needs
    /// the secret that goes with it.
    pub(crate) async fn update_directory(
        &self,
        org: &str,
        dir: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let body: DirectoryChange = json_body(req)?;
        let engine = self.engine();
        let current = engine.get_directory(org, dir).await?;
        if body.client_id.is_some() && body.client_secret.is_none() {
            return Err(ApiError::invalid_fields(vec![
                crate::error::FieldError::new(
                    "client_secret",
                    "is required with a new client_id (the secret belongs to its client)",
                ),
            ]));
        }
        let client_id = body.client_id.clone().unwrap_or(current.client_id.clone());
        let sealed_secret = match &body.client_secret {
            Some(secret) if secret.is_empty() => Some(Vec::new()),
            Some(secret) => Some(self.seal_secret(org, &current.tenant_id, &client_id, secret)?),
            None => None,
        };
        let change = engine::DirectoryUpdate {
            name: body.name,
            client_id: body.client_id,
            sealed_secret,
        };
        let directory = engine.update_directory(org, dir, change).await?;
        Ok(ok(&DirectoryBody {
            directory: &directory.view(),
        }))
    }

    pub(crate) async fn list_directories(&self, org: &str) -> Result<Response, ApiError> {
        let items = self
            .engine()
            .list_directories(org)
            .await?
            .iter()
            .map(|d| d.view())
            .collect();
        Ok(ok(&DirectoryList { items }))
    }

    pub(crate) async fn get_directory(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let directory = self.engine().get_directory(org, dir).await?;
        Ok(ok(&DirectoryBody {
            directory: &directory.view(),
        }))
    }

    /// The tenant's domains as Entra reports them, verified or not.
    pub(crate) async fn tenant_domains(&self, org: &str, dir: &str) -> Result<Response, ApiError> {
        let directory = self.engine().get_directory(org, dir).await?;
        let source = self.source_for(&directory)?;
        let domains = source
            .domains()
            .await
            .map_err(engine::error::EngineError::from)?;
        Ok(ok(&TenantDomains { domains }))
    }

    /// One page of the tenant's groups, those whose name contains `search`
    /// (case-insensitive). `next_cursor` continues with the next Graph page.
    pub(crate) async fn tenant_groups(
        &self,
        org: &str,
        dir: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let directory = self.engine().get_directory(org, dir).await?;
        let search = query_param(req, "search")
            .unwrap_or_default()
            .to_lowercase();
        let cursor = query_param(req, "cursor")
            .filter(|c| !c.is_empty())
            .map(|c| decode_cursor(&c))
            .transpose()?;
        let source = self.source_for(&directory)?;
        let page = source
            .groups(cursor.as_ref())
            .await
            .and_then(Arrived::decode)
            .map_err(engine::error::EngineError::from)?;
        let groups = page
            .items
            .into_iter()
            .filter(|g| g.display_name.to_lowercase().contains(&search))
            .collect();
        Ok(ok(&TenantGroups {
            groups,
            next_cursor: page.next.map(|t| URL_SAFE_NO_PAD.encode(t.0)),
        }))
    }
}

fn decode_cursor(cursor: &str) -> Result<PageToken, ApiError> {
    let bad = || ApiError::BadRequest("cursor is not one this API returned".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    String::from_utf8(bytes).map(PageToken).map_err(|_| bad())
}
