//! The identity-source port: what the engine reads from Entra ID.
//!
//! `components/graph` implements it over Microsoft Graph; tests implement it
//! in memory. Paging tokens are opaque to the engine: it stores them in the
//! run's cursor and hands them back unchanged.

use serde::{Deserialize, Serialize};

/// A tenant domain as Entra reports it (`/v1.0/domains`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceDomain {
    /// The domain name, as Entra spells it (case not normalised).
    pub id: String,
    pub is_verified: bool,
}

/// A user with exactly the fields the engine maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SourceUser {
    pub id: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub account_enabled: bool,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// e.g. `Invitation` for B2B guests.
    pub creation_type: Option<String>,
    /// Graph's `otherMails`: the user's other email addresses (for a B2B
    /// guest, typically the address the invitation went to).
    pub other_mails: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
}

/// Member object types that are not synced (counted as skipped).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SkippedKind {
    Device,
    OrgContact,
    ServicePrincipal,
    /// Any other `@odata.type`, kept verbatim.
    Other(String),
}

/// One entry of `/groups/{id}/members` or `/transitiveMembers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Member {
    User(SourceUser),
    Group(SourceGroup),
    Skipped { id: String, kind: SkippedKind },
}

/// The kind of a member reference in a group delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberKind {
    User,
    Group,
    Skipped(SkippedKind),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRef {
    pub id: String,
    pub kind: MemberKind,
}

/// Opaque token for the next page (`@odata.nextLink`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken(pub String);

/// Opaque token for the next delta round (`@odata.deltaLink`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaToken(pub String);

/// One page of a listing. `next` is `None` on the last page; a delta
/// listing's last page carries `delta`, the token for the next round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageToken>,
    pub delta: Option<DeltaToken>,
}

/// Graph's largest page of users, groups or members: the `$top` the Graph
/// client asks for, and the `odata.maxpagesize` it prefers for delta
/// (Microsoft Graph, "Paging Microsoft Graph data in your app" and each
/// list operation's `$top` range, 1 to 999). No page has more items.
pub const MAX_PAGE_ITEMS: u64 = 999;

/// A page as it arrived: its links are known, its items perhaps not decoded
/// yet. Graph writes `@odata.nextLink` and `@odata.deltaLink` before
/// `value`, so a source can hand over the links first and the items when
/// asked ([`Arrived::decode`]): the engine sends the request for the next
/// page before it decodes this one's items, and the decode overlaps the
/// wait for the next page instead of preceding it (decision 0011).
///
/// Test doubles give decoded pages: `Ok(page).map(Arrived::from)`.
pub struct Arrived<T> {
    /// The next page; `None` on a listing's last page.
    pub next: Option<PageToken>,
    /// A delta listing's token for the next round, on its last page.
    pub delta: Option<DeltaToken>,
    items: Items<T>,
}

/// A page's items, decoded or still to be decoded.
enum Items<T> {
    Decoded(Vec<T>),
    Deferred(Box<dyn FnOnce() -> Result<Vec<T>, SourceError>>),
}

impl<T> Arrived<T> {
    /// A page whose items `decode` yields when [`Arrived::decode`] is
    /// called; it owns what it needs (e.g. the response body). Its error is
    /// the page's error, as if the page had failed to arrive.
    pub fn deferred(
        next: Option<PageToken>,
        delta: Option<DeltaToken>,
        decode: impl FnOnce() -> Result<Vec<T>, SourceError> + 'static,
    ) -> Self {
        Arrived {
            next,
            delta,
            items: Items::Deferred(Box::new(decode)),
        }
    }

    /// The page with its items decoded.
    ///
    /// # Errors
    /// What decoding the items failed with (for Graph, a
    /// [`SourceError::BadResponse`]).
    pub fn decode(self) -> Result<Page<T>, SourceError> {
        let items = match self.items {
            Items::Decoded(items) => items,
            Items::Deferred(decode) => decode()?,
        };
        Ok(Page {
            items,
            next: self.next,
            delta: self.delta,
        })
    }
}

impl<T> From<Page<T>> for Arrived<T> {
    fn from(page: Page<T>) -> Self {
        Arrived {
            next: page.next,
            delta: page.delta,
            items: Items::Decoded(page.items),
        }
    }
}

impl<T> std::fmt::Debug for Arrived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items = match &self.items {
            Items::Decoded(items) => format!("{} decoded", items.len()),
            Items::Deferred(_) => "not decoded yet".to_owned(),
        };
        f.debug_struct("Arrived")
            .field("next", &self.next)
            .field("delta", &self.delta)
            .field("items", &items)
            .finish()
    }
}

/// Where a delta listing starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeltaFrom {
    /// A full enumeration that ends with a delta token.
    Start,
    /// The next page of a round in progress.
    Page(PageToken),
    /// Changes since a previous round.
    Delta(DeltaToken),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // a page is mostly upserts: boxing them would only add allocations
pub enum UserChange {
    Upsert(SourceUser),
    Removed { id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupChange {
    /// A new or changed group. On a `DeltaFrom::Start` round `members_added`
    /// holds all direct members; later rounds only the changes.
    Upsert {
        group: SourceGroup,
        members_added: Vec<MemberRef>,
        members_removed: Vec<MemberRef>,
    },
    Removed {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SourceError {
    /// 429 or 503 with `Retry-After`: come back after this many seconds. The
    /// client never sleeps past the invocation's budget; the engine saves its
    /// cursor and resumes later.
    #[error("throttled by Graph; retry after {retry_after_secs}s")]
    Throttled { retry_after_secs: u64 },
    /// The credentials were refused (bad tenant, client id or secret).
    #[error("authentication failed: {code}: {message}")]
    Unauthorized { code: String, message: String },
    /// The object (e.g. a selected group) does not exist in the tenant.
    #[error("not found in the tenant: {0}")]
    NotFound(String),
    /// A delta or page token is no longer valid (410 Gone, or 400/410 with
    /// `syncStateNotFound`, `resyncRequired` or `Directory_ExpiredPageToken`,
    /// in any letter case): the engine restarts that listing from scratch.
    #[error("delta or page token expired")]
    TokenExpired,
    /// The tenant does not offer delta queries for this collection (Graph
    /// answers 404 `Request_ResourceNotFound`, or 400 for an unsupported
    /// query, to the first delta request): the engine enumerates in full.
    #[error("delta queries are not available: {0}")]
    DeltaUnavailable(String),
    /// A listing revisited a page it had already read (Graph's
    /// `@odata.nextLink` went back), or served a page of nothing new: the
    /// run fails rather than count the same members twice.
    #[error("paging went round in a loop while listing {0}")]
    PagingLoop(String),
    /// An `@odata.nextLink` pointed outside the configured Graph host.
    #[error("refused to follow a link to a foreign host: {0}")]
    ForeignLink(String),
    /// Any other Graph error, with what the troubleshooting log needs.
    #[error(
        "Graph error {status} {code}: {message} (request-id {})",
        .request_id.as_deref().unwrap_or("none")
    )]
    Graph {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// The invocation's time budget ran out before Entra ID answered (it
    /// is slow or hangs): not a failure of the run, which goes on at the
    /// next invocation.
    #[error("Entra ID did not answer within this invocation's time budget")]
    BudgetSpent,
    /// The network failed after the client's own retries.
    #[error("network error talking to Graph: {0}")]
    Transport(String),
    /// Graph answered something the client could not parse.
    #[error("unexpected response from Graph: {0}")]
    BadResponse(String),
}

impl SourceError {
    /// Whether the same request may succeed later (the run waits and resumes
    /// rather than failing).
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Throttled { .. }
            | SourceError::Transport(_)
            | SourceError::BudgetSpent => true,
            SourceError::Graph { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// What the engine reads from the tenant. Every listing is paged; pass
/// `None` for the first page and the previous page's `next` afterwards.
/// A listing's page is [`Arrived`]: its links before its items.
pub trait IdentitySource {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError>;
    /// `Ok(None)` when the group does not exist.
    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError>;
    async fn users(&self, page: Option<&PageToken>) -> Result<Arrived<SourceUser>, SourceError>;
    async fn groups(&self, page: Option<&PageToken>) -> Result<Arrived<SourceGroup>, SourceError>;
    /// Direct members (`transitive == false`) or all members reachable
    /// through nested groups (`transitive == true`).
    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Arrived<Member>, SourceError>;
    async fn users_delta(&self, from: &DeltaFrom) -> Result<Arrived<UserChange>, SourceError>;
    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Arrived<GroupChange>, SourceError>;
}

/// A shared reference to a source is a source (e.g. one tenant client
/// serving several calls).
impl<T: IdentitySource> IdentitySource for &T {
    async fn domains(&self) -> Result<Vec<SourceDomain>, SourceError> {
        (**self).domains().await
    }
    async fn group(&self, id: &str) -> Result<Option<SourceGroup>, SourceError> {
        (**self).group(id).await
    }
    async fn users(&self, page: Option<&PageToken>) -> Result<Arrived<SourceUser>, SourceError> {
        (**self).users(page).await
    }
    async fn groups(&self, page: Option<&PageToken>) -> Result<Arrived<SourceGroup>, SourceError> {
        (**self).groups(page).await
    }
    async fn members(
        &self,
        group_id: &str,
        transitive: bool,
        page: Option<&PageToken>,
    ) -> Result<Arrived<Member>, SourceError> {
        (**self).members(group_id, transitive, page).await
    }
    async fn users_delta(&self, from: &DeltaFrom) -> Result<Arrived<UserChange>, SourceError> {
        (**self).users_delta(from).await
    }
    async fn groups_delta(&self, from: &DeltaFrom) -> Result<Arrived<GroupChange>, SourceError> {
        (**self).groups_delta(from).await
    }
}
