//! Creating organizations (operator) and "who am I" (admin).

use engine::ports::Timestamp;
use engine::{Org, OrgId};
use http::StatusCode;
use platform::Platform;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::App;
use crate::auth;
use crate::error::{ApiError, FieldError};
use crate::request::{Request, json_body};
use crate::respond::{Response, json, ok};

/// The body of `POST /api/v1/orgs`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(schema_with = crate::openapi::schemas::display_name)]
    name: String,
    #[schema(schema_with = crate::openapi::schemas::slug_id)]
    id: Option<String>,
}

/// An organization as answered (without its token hashes).
#[derive(Serialize, ToSchema)]
pub struct OrgView<'a> {
    id: &'a str,
    name: &'a str,
    #[schema(value_type = engine::ports::TimestampSchema)]
    created_at: Timestamp,
    directories: usize,
}

impl<'a> From<&'a Org> for OrgView<'a> {
    fn from(org: &'a Org) -> Self {
        OrgView {
            id: org.id.as_str(),
            name: &org.name,
            created_at: org.created_at,
            directories: org.directories.len(),
        }
    }
}

/// A new organization and its admin token (shown once).
#[derive(Serialize, ToSchema)]
pub struct OrgCreated<'a> {
    org: OrgView<'a>,
    admin_token: &'a str,
}

/// The organization of the caller's admin token.
#[derive(Serialize, ToSchema)]
pub struct Me<'a> {
    org: OrgView<'a>,
}

impl<P: Platform> App<P> {
    /// `POST /api/v1/orgs`: creates an org and returns its admin token, once.
    pub(crate) async fn create_org(&self, req: &Request) -> Result<Response, ApiError> {
        let body: CreateOrg = json_body(req)?;
        let id = match body.id {
            Some(id) => {
                OrgId::parse(&id).map_err(|e| ApiError::Validation {
                    message: e.to_string(),
                    fields: vec![FieldError::new("id", e.to_string())],
                })?;
                id
            }
            None => derived_id(&body.name)?,
        };
        let minted = auth::mint(&id).map_err(|e| ApiError::Internal(e.to_string()))?;
        let org = self
            .engine()
            .create_org(&id, &body.name, minted.hash)
            .await?;
        Ok(json(
            StatusCode::CREATED,
            &OrgCreated {
                org: OrgView::from(&org),
                admin_token: &minted.token,
            },
        ))
    }
}

/// `GET /api/v1/me`: the organization of the caller's admin token.
pub fn me(org: &Org) -> Response {
    ok(&Me {
        org: OrgView::from(org),
    })
}

/// An id for an org created without one: the name's letters and digits,
/// lower-cased and dash-joined, with a random suffix so two orgs of the
/// same name do not collide.
fn derived_id(name: &str) -> Result<String, ApiError> {
    let slug: String = name
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug: String = slug.chars().take(30).collect();
    let slug = slug.trim_end_matches('-');
    let mut suffix = [0u8; 3];
    getrandom::fill(&mut suffix).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    Ok(if slug.is_empty() {
        format!("org-{suffix}")
    } else {
        format!("{slug}-{suffix}")
    })
}
