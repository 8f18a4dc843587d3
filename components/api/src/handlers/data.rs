//! The organization's synced directory data: users, groups, memberships,
//! claimed domains, product access, billing and the email outbox.

use engine::ports::{Clock, Mailer, Store};
use engine::{ClaimedDomain, GroupView, UserView};
use graph::{HttpClient, Pause};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::ApiError;
use crate::request::{PageQuery, Request, json_body, page_query};
use crate::respond::{Response, ok};

/// Page size when the client does not ask for one.
const DEFAULT_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductAccess {
    enabled: bool,
}

#[derive(Serialize)]
struct UserBody {
    user: UserView,
}

#[derive(Serialize)]
struct GroupBody {
    group: GroupView,
}

#[derive(Serialize)]
struct Domains {
    items: Vec<ClaimedDomain>,
}

fn page(req: &Request) -> Result<(Option<String>, usize), ApiError> {
    let PageQuery { cursor, limit } = page_query(req)?;
    Ok((cursor, limit.unwrap_or(DEFAULT_LIMIT)))
}

impl<S, H, C, M, P> App<S, H, C, M, P>
where
    S: Store,
    H: HttpClient + Clone,
    C: Clock,
    M: Mailer,
    P: Pause + Clone,
{
    pub(crate) async fn list_users(&self, org: &str, req: &Request) -> Result<Response, ApiError> {
        let (cursor, limit) = page(req)?;
        let listing = self
            .engine()
            .list_users(org, cursor.as_deref(), limit)
            .await?;
        Ok(ok(&listing))
    }

    pub(crate) async fn get_user(&self, org: &str, id: &str) -> Result<Response, ApiError> {
        let user = self.engine().get_user(org, id).await?;
        Ok(ok(&UserBody { user }))
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
            .group_members(org, id, cursor.as_deref(), limit)
            .await?;
        Ok(ok(&listing))
    }

    pub(crate) async fn claimed_domains(&self, org: &str) -> Result<Response, ApiError> {
        let items = self.engine().claimed_domains(org).await?;
        Ok(ok(&Domains { items }))
    }

    pub(crate) async fn put_product_access(
        &self,
        org: &str,
        id: &str,
        req: &Request,
    ) -> Result<Response, ApiError> {
        let body: ProductAccess = json_body(req)?;
        let group = self
            .engine()
            .set_product_access(org, id, body.enabled)
            .await?;
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
