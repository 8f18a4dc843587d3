//! What the API reads about an organization's directory data.

use crate::ids::DirId;
use crate::ports::Timestamp;
use serde::{Deserialize, Serialize};

/// One page of a listing; pass `next_cursor` back to get the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Opaque; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub directory: DirId,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub account_enabled: bool,
    /// External (guest) user: synced whatever their domain.
    pub guest: bool,
    /// In the latest completed sync's scope. Users that left the scope stay,
    /// not synced and without memberships.
    pub synced: bool,
    /// Synced groups the user belongs to, directly or through nesting.
    pub groups: Vec<String>,
    /// When the account was created (first sync that saw the user).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub created_at: Timestamp,
    /// The lower-cased sign-in domain (after the last `@` of the UPN).
    pub domain: String,
    /// The run that created the account.
    pub created_run: Option<u64>,
    /// The last run that changed the user.
    pub changed_run: u64,
    /// The run that took the user out of the scope (while not synced).
    pub left_run: Option<u64>,
    /// Why the user is not synced now, e.g. "domain example.com is not
    /// verified here; left the scope in run 7"; `null` while synced.
    pub not_synced_reason: Option<String>,
}

/// Which users a listing keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserFilter {
    /// In the latest completed sync's scope.
    Synced,
    /// Accounts that left the scope.
    NotSynced,
    /// `accountEnabled` is false in Entra ID.
    Disabled,
    /// External (guest) users.
    Guest,
}

impl UserFilter {
    /// Every filter, by the name the API takes.
    pub const ALL: [(&'static str, UserFilter); 4] = [
        ("synced", UserFilter::Synced),
        ("not_synced", UserFilter::NotSynced),
        ("disabled", UserFilter::Disabled),
        ("guest", UserFilter::Guest),
    ];

    /// The filter named `name` (`synced`, `not_synced`, `disabled`, `guest`).
    pub fn parse(name: &str) -> Option<UserFilter> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// What a user listing keeps: a case-insensitive substring of the display
/// name, UPN or mail, and a filter; the default keeps every account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub search: Option<String>,
    pub filter: Option<UserFilter>,
}

/// A group a user belongs to, for the user's detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserGroupView {
    pub id: String,
    pub display_name: String,
    /// A direct member, rather than one through a nested group.
    pub direct: bool,
}

/// One user with the names of the synced groups it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDetail {
    pub user: UserView,
    /// Direct memberships first, then those through nesting, each by name.
    pub groups: Vec<UserGroupView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    pub id: String,
    pub directory: DirId,
    pub display_name: String,
    pub description: Option<String>,
    /// In the latest completed sync.
    pub synced: bool,
    /// Why it is not synced, when it was seen but skipped (e.g. over the
    /// 10,000-user limit).
    pub not_synced_reason: Option<String>,
    pub product_access: bool,
    /// Direct parent and child groups (the remembered nesting).
    pub parents: Vec<String>,
    pub children: Vec<String>,
    /// Synced users reachable through this group (flattened): exactly the
    /// users its member listing returns; 0 when the group is not synced.
    pub member_count: u64,
    /// Users reachable through this group in Entra ID, synced or not (users
    /// on domains not verified here, or the whole of a group over the
    /// 10,000-user limit).
    pub entra_member_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: String,
    pub user_principal_name: String,
    pub display_name: Option<String>,
    /// A direct member, rather than one reached through a nested group.
    pub direct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimedDomain {
    /// Lower case.
    pub name: String,
    pub directory: DirId,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub claimed_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    Queued,
    Sent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailView {
    pub user_id: String,
    pub directory: DirId,
    pub to: String,
    pub subject: String,
    pub status: EmailStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::ports::TimestampSchema))]
    pub queued_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::ports::TimestampSchema>))]
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Billing {
    /// Distinct synced users in at least one group with product access.
    pub billable_users: u64,
    pub synced_users: u64,
    pub groups_with_access: u64,
}
