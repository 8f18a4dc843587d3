//! The organization's synced directory data: users, groups, memberships,
//! claimed domains, product access, billing and the email outbox.

use engine::{ClaimedDomain, GroupView, UserFilter, UserQuery};
use platform::Platform;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::App;
use crate::error::{ApiError, FieldError};
use crate::request::{PageQuery, Request, json_body, page_query, query_param};
use crate::respond::{Response, ok};
use crate::wire::switch;

/// Page size when the client does not ask for one.
const DEFAULT_LIMIT: usize = 100;

/// The body of `PUT …/product-access`, for the OpenAPI document (read by
/// `wire::switch`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductAccess {
    pub enabled: bool,
}

/// One synced group.
#[derive(Serialize, ToSchema)]
pub struct GroupBody {
    group: GroupView,
}

/// The claimed domains.
#[derive(Serialize, ToSchema)]
pub struct ClaimedDomains {
    items: Vec<ClaimedDomain>,
}

fn page(req: &Request) -> Result<(Option<String>, usize), ApiError> {
    let PageQuery { cursor, limit } = page_query(req)?;
    Ok((cursor, limit.unwrap_or(DEFAULT_LIMIT)))
}

/// `?search=`: `None` when absent or empty.
fn search(req: &Request) -> Option<String> {
    query_param(req, "search").filter(|s| !s.trim().is_empty())
}

/// `?search=&filter=` of the users listing; an unknown filter is a 422 on
/// field `filter`.
fn user_query(req: &Request) -> Result<UserQuery, ApiError> {
    let filter = match query_param(req, "filter").filter(|f| !f.is_empty()) {
        None => None,
        Some(name) => Some(UserFilter::parse(&name).ok_or_else(|| {
            let names: Vec<&str> = UserFilter::ALL.iter().map(|(n, _)| *n).collect();
            let message = format!("must be one of {}", names.join(", "));
            ApiError::Validation {
                message: format!("filter {message}"),
                fields: vec![FieldError::new("filter", message)],
            }
        })?),
    };
    Ok(UserQuery {
        search: search(req),
        filter,
    })
}

impl<P: Platform> App<P> {
    pub(crate) async fn list_users(&self, org: &str, req: &Request) -> Result<Response, ApiError> {
        let (cursor, limit) = page(req)?;
        let query = user_query(req)?;
        let listing = self
            .engine()
            .search_users(org, &query, cursor.as_deref(), limit)
            .await?;
        Ok(ok(&listing))
    }

    /// `{"user": <user>, "groups": [<named group>, ...]}`.
    pub(crate) async fn get_user(&self, org: &str, id: &str) -> Result<Response, ApiError> {
        Ok(ok(&self.engine().user_detail(org, id).await?))
    }

    pub(crate) async fn list_groups(&self, org: &str, req: &Request) -> Result<Response, ApiError> {
        let (cursor, limit) = page(req)?;
        let listing = self
            .engine()
            .list_groups(org, cursor.as_deref(), limit)
            .await?;
        Ok(ok(&listing))
    }

    pub(crate) async fn get_group(&self, org: &str, id: &str) -> Result<Response, ApiError> {
        let group = self.engine().get_group(org, id).await?;
        Ok(ok(&GroupBody { group }))
    }

    pub(crate) async fn group_members(
        &self,
        org: &str,
        id: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let (cursor, limit) = page(req)?;
        let listing = self
            .engine()
            .search_group_members(org, id, search(req).as_deref(), cursor.as_deref(), limit)
            .await?;
        Ok(ok(&listing))
    }

    pub(crate) async fn claimed_domains(&self, org: &str) -> Result<Response, ApiError> {
        let items = self.engine().claimed_domains(org).await?;
        Ok(ok(&ClaimedDomains { items }))
    }

    pub(crate) async fn put_product_access(
        &self,
        org: &str,
        id: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let enabled = switch::enabled(&json_body(req)?).map_err(ApiError::invalid_fields)?;
        let group = self.engine().set_product_access(org, id, enabled).await?;
        Ok(ok(&GroupBody { group }))
    }

    pub(crate) async fn billing(&self, org: &str) -> Result<Response, ApiError> {
        Ok(ok(&self.engine().billing(org).await?))
    }

    pub(crate) async fn list_emails(&self, org: &str, req: &Request) -> Result<Response, ApiError> {
        let (cursor, limit) = page(req)?;
        let listing = self
            .engine()
            .list_emails(org, cursor.as_deref(), limit)
            .await?;
        Ok(ok(&listing))
    }
}
